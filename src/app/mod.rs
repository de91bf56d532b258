//! [`App`]: the one handle the HTTP layer, the CLI and the background tasks share.
//!
//! - [`directory`]: in-memory sites for ingest and script delivery.
//! - [`sites`]: services for sites, forms, fields, mappings (validate → write → refresh).
//! - [`tokens`]: admin tokens.
//! - [`ratelimit`]: ingest rate limits.
//! - [`secrets`]: random secrets and their hashes.

pub mod accounts;
pub mod directory;
pub mod maintenance;
pub mod ratelimit;
pub mod script;
pub mod secrets;
pub mod sites;
pub mod tokens;

use redb::{ReadTransaction, WriteTransaction};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use thiserror::Error;

use crate::config::ServeConfig;
use crate::domain::event::TrackEvent;
use crate::domain::model::Id;
use crate::domain::site::ValidationError;
use crate::metrics::Metrics;
use crate::store::ingest::{IngestBatch, IngestOutcome, PreparedEvent};
use crate::store::tables::Pair;
use crate::store::writer::Writer;
use crate::store::{Store, StoreError, queries};
use directory::{Directory, Site};

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type AppResult<T> = Result<T, AppError>;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct App(Arc<Shared>);

pub struct Shared {
    pub config: ServeConfig,
    pub store: Store,
    pub writer: Writer,
    pub metrics: Arc<Metrics>,
    pub sites: Directory,
    pub limiter: ratelimit::Limiter,
    /// SHA-256 of each live admin token → token id.
    tokens: RwLock<HashMap<Pair, Id>>,
    /// Woken after commits that queued CRM sync jobs.
    pub crm_wakeup: tokio::sync::Notify,
    /// Built tracker scripts per site.
    pub scripts: script::ScriptCache,
    /// Dashboard login attempts per IP.
    pub login_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Origins refused for a site, logged once each (see [`App::note_refused_origin`]).
    refused_origins: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::ops::Deref for App {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// How many refused origins are remembered; past that, refusals are no longer logged (a
/// flood of made-up origins must not grow memory or the log).
const REFUSED_ORIGINS_LOGGED: usize = 1000;

impl App {
    /// Logs the first refusal of each origin for a site: a site whose page runs somewhere
    /// its domain does not cover (a staging host, a local test page) otherwise looks dead
    /// from the server side, since the browser hides the answer from the page.
    pub fn note_refused_origin(&self, domain: &str, origin: &str) {
        let mut seen = self.refused_origins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() < REFUSED_ORIGINS_LOGGED && seen.insert(format!("{domain} {origin}")) {
            tracing::warn!(
                site = domain,
                origin,
                "events from an origin the site does not allow were refused; if the page is yours, add the origin to the site's extra origins (logged once per origin)"
            );
        }
    }

    /// Opens the data file named in `config` (creating and migrating it as needed).
    pub fn open(config: ServeConfig) -> AppResult<App> {
        let store = Store::open(&config.data)?;
        App::with_store(store, config)
    }

    pub fn with_store(store: Store, config: ServeConfig) -> AppResult<App> {
        let metrics = Arc::new(Metrics::default());
        let writer = Writer::spawn(store.clone(), metrics.clone());
        let app = App(Arc::new(Shared {
            limiter: ratelimit::Limiter::new(config.rate_limits),
            config,
            store,
            writer,
            metrics,
            sites: Directory::default(),
            tokens: RwLock::new(HashMap::new()),
            crm_wakeup: tokio::sync::Notify::new(),
            scripts: script::ScriptCache::default(),
            login_limiter: ratelimit::login_limiter(),
            refused_origins: Default::default(),
        }));
        app.reload_all()?;
        Ok(app)
    }

    /// Loads every site and token into memory.
    fn reload_all(&self) -> AppResult<()> {
        let (bundles, tokens) = self.store.read(|txn| {
            let bundles = queries::all_client_bundles(txn)?;
            let tokens = queries::list_tokens(txn)?;
            Ok((bundles, tokens))
        })?;
        for bundle in bundles {
            let crm = crate::crm::enabled_for(&bundle.client);
            self.sites.put(Site::from_bundle(bundle, crm));
        }
        let mut map = HashMap::new();
        for token in tokens.into_iter().filter(|t| t.revoked_at.is_none()) {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&token.token_hash, &mut hash).is_ok() {
                map.insert(hash, token.token_id);
            }
        }
        if let Ok(mut t) = self.tokens.write() {
            *t = map;
        }
        Ok(())
    }

    /// Runs a read on the blocking pool (redb never runs on an async worker thread).
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.read(f))
            .await
            .map_err(|e| StoreError::Storage(format!("read task failed: {e}")))?
    }

    /// Runs a write through the writer thread; resolves after the durable commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.exec(f).await
    }

    /// Reloads one site into the directory after a committed change (or drops it).
    pub async fn refresh_site(&self, id: Id) -> Result<(), StoreError> {
        let bundle = self.read(move |txn| queries::client_bundle(txn, &id)).await?;
        match bundle {
            Some(bundle) => {
                let crm = crate::crm::enabled_for(&bundle.client);
                self.sites.put(Site::from_bundle(bundle, crm));
            }
            None => self.sites.remove(&id),
        }
        Ok(())
    }

    /// The admin token with this secret, if it is live.
    pub fn authenticate_token(&self, token: &str) -> Option<Id> {
        let hash = secrets::hash(token);
        self.tokens.read().ok()?.get(&hash).copied()
    }

    pub(crate) fn cache_token(&self, hash: Pair, id: Id) {
        if let Ok(mut t) = self.tokens.write() {
            t.insert(hash, id);
        }
    }

    pub(crate) fn forget_token(&self, id: &Id) {
        if let Ok(mut t) = self.tokens.write() {
            t.retain(|_, v| v != id);
        }
    }

    /// Applies the lead rules to validated events (on the caller's thread) and stores them
    /// durably through the writer.
    pub async fn ingest(&self, site: &Site, events: Vec<TrackEvent>) -> Result<IngestOutcome, StoreError> {
        let now = crate::domain::time::Timestamp::now();
        let events = events
            .into_iter()
            .map(|event| PreparedEvent::new(event, site.client.client_id, &site.rules, site.crm_enabled, now))
            .collect::<Result<Vec<_>, _>>()?;
        let batch = IngestBatch { client_id: site.client.client_id, events, crm_enabled: site.crm_enabled };
        let outcome = self.writer.ingest(batch).await?;
        if site.crm_enabled && !outcome.leads_changed.is_empty() {
            self.crm_wakeup.notify_one();
        }
        Ok(outcome)
    }

    /// The base URL the tracker and snippets should use.
    pub fn public_url(&self, request_host: Option<&str>, https: bool) -> String {
        if let Some(url) = &self.config.public_url {
            return url.clone();
        }
        match request_host.filter(|h| is_plain_host(h)) {
            Some(host) => format!("{}://{host}", if https { "https" } else { "http" }),
            // No Host, or one no browser sends (a proxy passing on whatever it was given):
            // it would go into the snippet, the script's config and the demo page's HTML.
            None => format!("http://{}", self.config.listen),
        }
    }

    /// The `<script>` tag a site owner pastes.
    pub fn snippet(&self, base: &str, client: &Id) -> String {
        format!("<script src=\"{base}/script/{client}.js\" async></script>")
    }
}

/// A Host header as browsers send it: a name or IPv4 address, or a bracketed IPv6 one, and
/// an optional port. Nothing that could close a quote or a tag.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 261
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::is_plain_host;

    #[test]
    fn only_plain_hosts_make_urls() {
        for host in ["127.0.0.1:8080", "tracker.example.com", "localhost", "[::1]:8080", "xn--bcher-kva.example"] {
            assert!(is_plain_host(host), "{host}");
        }
        for host in ["", "evil\"><script>alert(1)</script>", "a b", "a/b", "user@host", "h\\x", "a'b", "a<b"] {
            assert!(!is_plain_host(host), "{host}");
        }
    }
}
