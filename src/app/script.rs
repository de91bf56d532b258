//! The per-site tracker script: the committed tracker build with the site's config put in
//! place of `__CRM_CONFIG__`. Built once per site revision and base URL, compressed once
//! (gzip and brotli), and served from memory.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock, RwLock};

use super::App;
use super::directory::Site;
use crate::domain::model::{ConsentMode, Id};

/// The committed tracker builds (see tracker/build.mjs); cargo alone builds the binary.
pub const CORE_JS: &str = include_str!("../../tracker/dist/tracker.min.js");
pub const CHAT_JS: &str = include_str!("../../tracker/dist/chat.min.js");
const PLACEHOLDER: &str = "__CRM_CONFIG__";

/// One script, ready to send in any encoding.
pub struct Built {
    pub revision: u64,
    pub etag: String,
    pub identity: Vec<u8>,
    /// Empty when the build was not compressed (see `Built::uncompressed`).
    pub gzip: Vec<u8>,
    /// Empty when the build was not compressed.
    pub brotli: Vec<u8>,
}

impl Built {
    pub fn new(body: String, revision: u64) -> Built {
        let mut built = Built::uncompressed(body, revision);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = gz.write_all(&built.identity);
        built.gzip = gz.finish().unwrap_or_default();
        {
            let mut w = brotli::CompressorWriter::new(&mut built.brotli, 4096, 11, 22);
            let _ = w.write_all(&built.identity);
        }
        built
    }

    /// A build sent as it is: a hash and a copy, no compression (which costs milliseconds).
    pub fn uncompressed(body: String, revision: u64) -> Built {
        let identity = body.into_bytes();
        let digest = Sha256::digest(&identity);
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Built { revision, etag, identity, gzip: Vec::new(), brotli: Vec::new() }
    }
}

/// The site's settings as the tracker reads them (tracker/src/tracker.js lists the keys).
/// Keys at their default are left out (the tracker assumes the defaults), and the keys most
/// sites have are one letter: every byte here is sent to every visitor.
pub fn config_json(site: &Site, base: &str) -> String {
    let c = &site.client;
    let mut cfg = Map::new();
    cfg.insert("c".into(), json!(c.client_id));
    cfg.insert("e".into(), json!(base));
    let forms: Vec<Value> = site
        .bundle
        .forms
        .iter()
        .filter(|f| f.form.is_active)
        .map(|f| {
            let selectors: Vec<&String> =
                std::iter::once(&f.form.form_selector).chain(&f.form.alternative_selectors).collect();
            let fields: Vec<Value> =
                f.fields.iter().map(|(field, _)| json!({"s": field.field_selector, "n": field.field_name})).collect();
            json!({"i": f.form.form_id, "s": selectors, "d": fields})
        })
        .collect();
    if !forms.is_empty() {
        cfg.insert("f".into(), Value::Array(forms));
    }
    if !c.config.partial_capture {
        cfg.insert("partial".into(), json!(false));
    }
    if c.config.consent_mode == ConsentMode::Required {
        cfg.insert("consent".into(), json!("required"));
    }
    if let Some(h) = &c.config.honeypot_field {
        cfg.insert("h".into(), json!(h));
    }
    if c.config.chat_widget {
        cfg.insert("chat".into(), json!({"title": format!("Questions? Ask {}", c.name)}));
        cfg.insert("chatSrc".into(), json!(format!("{base}/script/chat.js")));
    }
    let text = Value::Object(cfg).to_string();
    // The config is data inside a script: keep it inert even if pasted into HTML.
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

pub fn render(site: &Site, base: &str) -> String {
    static CORE: OnceLock<String> = OnceLock::new();
    CORE.get_or_init(|| as_served(CORE_JS)).replacen(PLACEHOLDER, &config_json(site, base), 1)
}

/// A build as served: its banner keeps the version but not the source's hash, which is there
/// for the test that catches a stale build; a visitor's browser would download it on every
/// page for nothing (some 35 bytes gzip of a 2,048-byte budget).
fn as_served(build: &str) -> String {
    const HASH: &str = " src-sha256:";
    let Some(at) = build.find(HASH).filter(|at| !build[..*at].contains('\n')) else { return build.to_string() };
    let hex = build[at + HASH.len()..].bytes().take_while(u8::is_ascii_hexdigit).count();
    format!("{}{}", &build[..at], &build[at + HASH.len() + hex..])
}

#[derive(Default)]
pub struct ScriptCache {
    entries: RwLock<HashMap<(Id, String), Arc<Built>>>,
}

/// How many base URLs of one site get a cached, compressed script. Without `--public-url`
/// the base comes from the request's Host header, which any client sets at will: each new
/// value would cost a gzip and brotli build (milliseconds) and memory. A site is really
/// reached under one or two names, so the first few are cached and later ones get a fresh
/// uncompressed build (a string substitution) that is not kept.
const CACHED_BASES_PER_SITE: usize = 4;

impl App {
    /// The site's script for this base URL; `None` for an unknown or inactive site.
    pub fn tracker_script(&self, id: &Id, base: &str) -> Option<Arc<Built>> {
        let site = self.sites.get(id).filter(|s| s.client.is_active)?;
        let key = (*id, base.to_string());
        let cached_bases = {
            let entries = self.scripts.entries.read().ok()?;
            if let Some(hit) = entries.get(&key)
                && hit.revision == site.client.revision
            {
                return Some(hit.clone());
            }
            entries.iter().filter(|((cid, _), b)| cid == id && b.revision == site.client.revision).count()
        };
        if cached_bases >= CACHED_BASES_PER_SITE {
            return Some(Arc::new(Built::uncompressed(render(&site, base), site.client.revision)));
        }
        let built = Arc::new(Built::new(render(&site, base), site.client.revision));
        if let Ok(mut entries) = self.scripts.entries.write() {
            // Drop stale revisions; the per-site bound keeps the rest small.
            entries.retain(|(cid, _), b| cid != id || b.revision == site.client.revision);
            if entries.iter().filter(|((cid, _), _)| cid == id).count() < CACHED_BASES_PER_SITE {
                entries.insert(key, built.clone());
            }
        }
        Some(built)
    }
}

/// The chat widget script, the same for every site.
pub fn chat_script() -> &'static Built {
    static CHAT: OnceLock<Built> = OnceLock::new();
    CHAT.get_or_init(|| Built::new(as_served(CHAT_JS), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_builds_keep_their_version_but_not_the_source_hash() {
        assert_eq!(
            as_served("/*! crm-tracker v1.2.3 src-sha256:0a1b2c */!function(C){}(X);\n"),
            "/*! crm-tracker v1.2.3 */!function(C){}(X);\n"
        );
        for build in [CORE_JS, CHAT_JS] {
            let served = as_served(build);
            assert!(served.starts_with("/*! crm-tracker v") && !served.contains("src-sha256"), "{served:.80}");
            assert_eq!(served.len(), build.len() - " src-sha256:".len() - 64);
        }
        // Only the banner's: code that happens to hold the words later is left alone.
        let odd = "/*! v1 */\nx=\" src-sha256:ab\"";
        assert_eq!(as_served(odd), odd);
    }
}
