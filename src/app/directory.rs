//! The in-memory directory of sites: what ingest and script delivery need on every request
//! (origin rules, lead rules, configured forms), without a database read per request.
//!
//! It is rebuilt for one site from the store after every committed change to that site,
//! so it never shows an uncommitted state.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::lead_rules::SiteRules;
use crate::domain::mapping::{FieldRule, Transform};
use crate::domain::model::{Client, Id};
use crate::store::queries::ClientBundle;
use crate::store::tables::Pair;

/// One site as ingest sees it.
#[derive(Debug, Clone)]
pub struct Site {
    pub client: Client,
    pub rules: SiteRules,
    pub bundle: ClientBundle,
    pub crm_enabled: bool,
}

impl Site {
    pub fn from_bundle(bundle: ClientBundle, crm_enabled: bool) -> Site {
        let mut rules = SiteRules {
            honeypot_field: bundle.client.config.honeypot_field.clone(),
            partial_capture_off: !bundle.client.config.partial_capture,
            ..Default::default()
        };
        for form in &bundle.forms {
            if !form.form.is_active {
                continue;
            }
            let field_rules = form
                .fields
                .iter()
                .map(|(field, mapping)| FieldRule {
                    field_name: field.field_name.clone(),
                    target_field: mapping.as_ref().map(|m| m.target_field.clone()),
                    // Transforms were validated when saved; an unreadable one maps as-is.
                    transform: mapping
                        .as_ref()
                        .and_then(|m| Transform::parse(m.transform.as_deref()).ok())
                        .unwrap_or(Transform::None),
                })
                .collect();
            rules.forms.insert(form.form.form_id, field_rules);
        }
        Site { client: bundle.client.clone(), rules, bundle, crm_enabled }
    }
}

#[derive(Default)]
struct Inner {
    sites: HashMap<Id, Arc<Site>>,
    by_key: HashMap<Pair, Id>,
}

#[derive(Default)]
pub struct Directory {
    inner: RwLock<Inner>,
}

impl Directory {
    pub fn get(&self, id: &Id) -> Option<Arc<Site>> {
        self.inner.read().ok()?.sites.get(id).cloned()
    }

    pub fn by_key_hash(&self, hash: &Pair) -> Option<Arc<Site>> {
        let inner = self.inner.read().ok()?;
        let id = inner.by_key.get(hash)?;
        inner.sites.get(id).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Site>> {
        self.inner.read().map(|i| i.sites.values().cloned().collect()).unwrap_or_default()
    }

    pub fn put(&self, site: Site) {
        let Ok(mut inner) = self.inner.write() else { return };
        let id = site.client.client_id;
        inner.by_key.retain(|_, v| *v != id);
        let mut hash = [0u8; 32];
        if hex::decode_to_slice(&site.client.secret_key_hash, &mut hash).is_ok() {
            inner.by_key.insert(hash, id);
        }
        inner.sites.insert(id, Arc::new(site));
    }

    pub fn remove(&self, id: &Id) {
        let Ok(mut inner) = self.inner.write() else { return };
        inner.sites.remove(id);
        inner.by_key.retain(|_, v| v != id);
    }
}
