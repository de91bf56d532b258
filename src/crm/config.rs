//! Per-site CRM connector settings: what is stored, what the API shows, and the admin input.
//!
//! Calling a CRM needs its credentials in clear, so they are stored as given. They never
//! leave the server: [`Secret`] prints as `[redacted]`, and [`CrmConfig`] serialises to
//! human-readable formats (the JSON API) as its *view*, where each secret is replaced by a
//! `…Set: true` flag. Binary formats (the redb records) get the full settings. This is
//! the same human-readable switch [`crate::domain::time::Timestamp`] uses.
//!
//! A site may have several connectors, but at most one that keeps records (Salesforce or
//! HubSpot), because a lead has one `crmId`; webhooks may be added beside it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::domain::site::ValidationError;

pub const DEFAULT_SALESFORCE_LOGIN: &str = "https://login.salesforce.com";
pub const DEFAULT_SALESFORCE_VERSION: &str = "v60.0";
pub const DEFAULT_HUBSPOT_BASE: &str = "https://api.hubapi.com";
pub const MAX_CONNECTORS: usize = 5;
const WEBHOOK_PREFIX: &str = "whsec_";

/// A credential. Stored as is; never printed, never shown by the API.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    pub url: String,
    /// `whsec_` + base64 of the HMAC key (Standard Webhooks).
    pub secret: Secret,
}

impl WebhookConfig {
    /// The HMAC key: the base64-decoded part after `whsec_`.
    pub fn key(&self) -> Vec<u8> {
        decode_webhook_secret(self.secret.expose()).unwrap_or_default()
    }
}

/// Salesforce through the OAuth 2.0 client-credentials flow of a connected app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceConfig {
    /// Where the token comes from. For the client-credentials flow this is the org's My
    /// Domain URL (`https://acme.my.salesforce.com`).
    pub login_url: String,
    /// The connected app's consumer key.
    pub client_id: String,
    /// The connected app's consumer secret.
    pub client_secret: Secret,
    /// REST API version, `v60.0`.
    pub api_version: String,
    /// A custom External ID field on Lead (`CrmTracker_Id__c`) that receives the lead id and
    /// finds the record again after an interrupted delivery; without it, leads are found by
    /// email.
    pub external_id_field: Option<String>,
}

/// HubSpot through a private app's access token and the CRM v3 objects API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubspotConfig {
    pub access_token: Secret,
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectorKind {
    Webhook(WebhookConfig),
    Salesforce(SalesforceConfig),
    Hubspot(HubspotConfig),
}

impl ConnectorKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            ConnectorKind::Webhook(_) => "webhook",
            ConnectorKind::Salesforce(_) => "salesforce",
            ConnectorKind::Hubspot(_) => "hubspot",
        }
    }

    /// Keeps records whose id becomes the lead's `crmId`.
    pub fn keeps_records(&self) -> bool {
        !matches!(self, ConnectorKind::Webhook(_))
    }

    /// Every secret of this connector, so answers and errors can be scrubbed of them.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            ConnectorKind::Webhook(w) => vec![w.secret.expose()],
            ConnectorKind::Salesforce(s) => vec![s.client_secret.expose()],
            ConnectorKind::Hubspot(h) => vec![h.access_token.expose()],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    /// Unique within the site; names the connector in the attempt log.
    pub name: String,
    pub enabled: bool,
    pub kind: ConnectorKind,
}

impl Connector {
    /// The API view: settings without secrets.
    pub fn view(&self) -> Value {
        let mut v = json!({"name": self.name, "type": self.kind.type_name(), "enabled": self.enabled});
        match &self.kind {
            ConnectorKind::Webhook(w) => {
                v["url"] = json!(w.url);
                v["secretSet"] = json!(!w.secret.expose().is_empty());
            }
            ConnectorKind::Salesforce(s) => {
                v["loginUrl"] = json!(s.login_url);
                v["clientId"] = json!(s.client_id);
                v["clientSecretSet"] = json!(!s.client_secret.expose().is_empty());
                v["apiVersion"] = json!(s.api_version);
                v["externalIdField"] = json!(s.external_id_field);
            }
            ConnectorKind::Hubspot(h) => {
                v["baseUrl"] = json!(h.base_url);
                v["accessTokenSet"] = json!(!h.access_token.expose().is_empty());
            }
        }
        v
    }
}

/// The connectors of one site.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrmConfig {
    pub connectors: Vec<Connector>,
}

/// The stored shape.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Stored {
    connectors: Vec<Connector>,
}

impl CrmConfig {
    pub fn enabled(&self) -> impl Iterator<Item = &Connector> {
        self.connectors.iter().filter(|c| c.enabled)
    }

    pub fn view(&self) -> Value {
        json!({"connectors": self.connectors.iter().map(Connector::view).collect::<Vec<_>>()})
    }
}

impl Serialize for CrmConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.view().serialize(s)
        } else {
            Stored { connectors: self.connectors.clone() }.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for CrmConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(CrmConfig { connectors: Stored::deserialize(d)?.connectors })
    }
}

// ---- input ---------------------------------------------------------------------------

/// `PUT /v1/clients/{id}/crm`: the whole list of connectors. A secret left out keeps the
/// stored one of the connector with the same name and type; a webhook without any secret
/// gets a new one, shown once. The `…Set` flags of a view are accepted and ignored, so a
/// view can be edited and sent back.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrmInput {
    pub connectors: Vec<ConnectorInput>,
    /// Part of the view; accepted and ignored (the path names the site).
    pub client_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub login_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub api_version: Option<String>,
    pub external_id_field: Option<String>,
    pub access_token: Option<String>,
    pub base_url: Option<String>,
    pub secret_set: Option<bool>,
    pub client_secret_set: Option<bool>,
    pub access_token_set: Option<bool>,
}

/// The settings to store, and the webhook secrets made for this request (name, secret):
/// the only time they are shown.
pub struct Applied {
    pub config: CrmConfig,
    pub generated: Vec<(String, String)>,
}

fn invalid(field: String, message: impl Into<String>) -> ValidationError {
    ValidationError { field, message: message.into() }
}

pub fn generate_webhook_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{WEBHOOK_PREFIX}{}", BASE64.encode(key))
}

fn decode_webhook_secret(secret: &str) -> Option<Vec<u8>> {
    BASE64.decode(secret.strip_prefix(WEBHOOK_PREFIX)?).ok()
}

/// An http(s) URL with a host, kept as written. `https_only` still lets loopback hosts use
/// http, for a CRM stand-in on the same machine.
fn parse_url(field: &str, raw: &str, https_only: bool) -> Result<String, ValidationError> {
    let raw = raw.trim();
    let url = reqwest::Url::parse(raw)
        .map_err(|_| invalid(field.into(), format!("{raw:?} is not a URL like https://example.com/hook")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if !https_only || loopback => {}
        _ if https_only => {
            return Err(invalid(field.into(), "must be an https:// URL (http is accepted only for localhost)"));
        }
        _ => return Err(invalid(field.into(), "must be an http:// or https:// URL")),
    }
    if url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(field.into(), "must name a host and carry no user name or password"));
    }
    Ok(raw.to_string())
}

/// An https URL that paths are appended to (`https://api.hubapi.com`), without a trailing
/// slash.
fn base_url(field: &str, raw: &str) -> Result<String, ValidationError> {
    parse_url(field, raw.trim().trim_end_matches('/'), true)
}

fn required_text(field: &str, value: Option<String>, max: usize) -> Result<String, ValidationError> {
    let value = value.map(|v| v.trim().to_string()).unwrap_or_default();
    if value.is_empty() {
        return Err(invalid(field.into(), "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field.into(), format!("must be at most {max} characters")));
    }
    Ok(value)
}

/// A new secret, or the stored one when none is given.
fn secret(field: &str, given: Option<String>, stored: Option<&Secret>) -> Result<Secret, ValidationError> {
    match given.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 4096 => Err(invalid(field.into(), "is too long")),
        Some(s) => Ok(Secret(s)),
        None => stored.cloned().ok_or_else(|| invalid(field.into(), "is required")),
    }
}

/// Refuses settings given for another connector type, naming them.
fn only(prefix: &str, kind: &str, input: &ConnectorInput, allowed: &[&str]) -> Result<(), ValidationError> {
    let given: [(&str, bool); 9] = [
        ("url", input.url.is_some()),
        ("secret", input.secret.is_some()),
        ("loginUrl", input.login_url.is_some()),
        ("clientId", input.client_id.is_some()),
        ("clientSecret", input.client_secret.is_some()),
        ("apiVersion", input.api_version.is_some()),
        ("externalIdField", input.external_id_field.is_some()),
        ("accessToken", input.access_token.is_some()),
        ("baseUrl", input.base_url.is_some()),
    ];
    for (name, present) in given {
        if present && !allowed.contains(&name) {
            return Err(invalid(format!("{prefix}.{name}"), format!("is not a setting of a {kind} connector")));
        }
    }
    Ok(())
}

fn api_version(field: &str, raw: Option<String>) -> Result<String, ValidationError> {
    let Some(raw) = raw.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_SALESFORCE_VERSION.into());
    };
    let bare = raw.strip_prefix('v').unwrap_or(&raw);
    let ok = bare.split_once('.').is_some_and(|(major, minor)| {
        (2..=3).contains(&major.len())
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.len() == 1
            && minor.chars().all(|c| c.is_ascii_digit())
    });
    if !ok {
        return Err(invalid(field.into(), format!("{raw:?} is not an API version like v60.0")));
    }
    Ok(format!("v{bare}"))
}

fn api_name(field: &str, raw: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if raw.len() > 80 || !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(field.into(), "must be a field API name such as CrmTracker_Id__c"));
    }
    Ok(Some(raw))
}

fn connector(
    i: usize,
    input: ConnectorInput,
    current: &CrmConfig,
) -> Result<(Connector, Option<String>), ValidationError> {
    let prefix = format!("connectors[{i}]");
    let field = |name: &str| format!("{prefix}.{name}");
    let kind = input.kind.clone().map(|k| k.trim().to_ascii_lowercase()).unwrap_or_default();
    if !["webhook", "salesforce", "hubspot"].contains(&kind.as_str()) {
        return Err(invalid(field("type"), "must be one of webhook, salesforce, hubspot"));
    }
    let name = input.name.clone().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or(kind.clone());
    if name.len() > 40 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid(field("name"), "must be 1 to 40 letters, digits, '-' or '_'"));
    }
    let stored = current.connectors.iter().find(|c| c.name == name && c.kind.type_name() == kind).map(|c| &c.kind);
    let mut generated = None;
    let kind = match kind.as_str() {
        "webhook" => {
            only(&prefix, "webhook", &input, &["url", "secret"])?;
            let url = parse_url(&field("url"), &required_text(&field("url"), input.url, 2000)?, false)?;
            let stored_secret = match stored {
                Some(ConnectorKind::Webhook(w)) => Some(&w.secret),
                _ => None,
            };
            let secret = match input.secret.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
                Some(s) => {
                    let ok = decode_webhook_secret(&s).is_some_and(|key| (24..=64).contains(&key.len()));
                    if !ok {
                        return Err(invalid(
                            field("secret"),
                            "must be whsec_ followed by 24 to 64 base64-encoded bytes (leave it out to have one made)",
                        ));
                    }
                    Secret(s)
                }
                None => match stored_secret {
                    Some(s) => s.clone(),
                    None => {
                        let s = generate_webhook_secret();
                        generated = Some(s.clone());
                        Secret(s)
                    }
                },
            };
            ConnectorKind::Webhook(WebhookConfig { url, secret })
        }
        "salesforce" => {
            only(
                &prefix,
                "salesforce",
                &input,
                &["loginUrl", "clientId", "clientSecret", "apiVersion", "externalIdField"],
            )?;
            let stored = match stored {
                Some(ConnectorKind::Salesforce(s)) => Some(s),
                _ => None,
            };
            let login = input.login_url.unwrap_or_else(|| DEFAULT_SALESFORCE_LOGIN.into());
            ConnectorKind::Salesforce(SalesforceConfig {
                login_url: base_url(&field("loginUrl"), &login)?,
                client_id: required_text(&field("clientId"), input.client_id, 255)?,
                client_secret: secret(&field("clientSecret"), input.client_secret, stored.map(|s| &s.client_secret))?,
                api_version: api_version(&field("apiVersion"), input.api_version)?,
                external_id_field: api_name(&field("externalIdField"), input.external_id_field)?,
            })
        }
        _ => {
            only(&prefix, "hubspot", &input, &["accessToken", "baseUrl"])?;
            let stored = match stored {
                Some(ConnectorKind::Hubspot(h)) => Some(h),
                _ => None,
            };
            let base = input.base_url.unwrap_or_else(|| DEFAULT_HUBSPOT_BASE.into());
            ConnectorKind::Hubspot(HubspotConfig {
                access_token: secret(&field("accessToken"), input.access_token, stored.map(|h| &h.access_token))?,
                base_url: base_url(&field("baseUrl"), &base)?,
            })
        }
    };
    Ok((Connector { name, enabled: input.enabled.unwrap_or(true), kind }, generated))
}

/// Checks a new list of connectors against the stored one (for kept secrets).
pub fn apply(current: &CrmConfig, input: CrmInput) -> Result<Applied, ValidationError> {
    if input.connectors.len() > MAX_CONNECTORS {
        return Err(invalid("connectors".into(), format!("a site may have at most {MAX_CONNECTORS} connectors")));
    }
    let mut config = CrmConfig::default();
    let mut generated = Vec::new();
    for (i, input) in input.connectors.into_iter().enumerate() {
        let (c, secret) = connector(i, input, current)?;
        if config.connectors.iter().any(|o| o.name == c.name) {
            return Err(invalid(format!("connectors[{i}].name"), format!("{:?} is used by another connector", c.name)));
        }
        if c.kind.keeps_records() && config.connectors.iter().any(|o| o.kind.keeps_records()) {
            return Err(invalid(
                format!("connectors[{i}].type"),
                "a site syncs to one CRM (salesforce or hubspot), whose record id becomes the lead's crmId; add webhooks beside it",
            ));
        }
        if let Some(s) = secret {
            generated.push((c.name.clone(), s));
        }
        config.connectors.push(c);
    }
    Ok(Applied { config, generated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::ClientConfig;

    fn input(v: Value) -> CrmInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn secrets_are_stored_but_never_shown() {
        let applied = apply(
            &CrmConfig::default(),
            input(json!({"connectors": [
                {"type": "salesforce", "clientId": "ck", "clientSecret": "sf-very-secret", "loginUrl": "http://127.0.0.1:9/"},
                {"type": "webhook", "url": "https://hooks.example.com/x"}
            ]})),
        )
        .unwrap();
        let (name, whsec) = &applied.generated[0];
        assert_eq!(name, "webhook");
        assert_eq!(decode_webhook_secret(whsec).unwrap().len(), 32);
        let config = ClientConfig { crm: applied.config.clone(), ..Default::default() };

        let stored = crate::store::codec::encode(&config).unwrap();
        let back: ClientConfig = crate::store::codec::decode(&stored).unwrap();
        assert_eq!(back.crm, applied.config, "the record keeps every secret");

        let shown = serde_json::to_string(&config).unwrap();
        assert!(!shown.contains("sf-very-secret") && !shown.contains(whsec.as_str()), "{shown}");
        assert!(shown.contains("\"clientSecretSet\":true") && shown.contains("\"secretSet\":true"), "{shown}");
        assert!(!format!("{config:?}").contains("sf-very-secret"));
        assert_eq!(applied.config.connectors[0].kind.type_name(), "salesforce");
    }

    #[test]
    fn omitted_secrets_are_kept_and_views_round_trip() {
        let first = apply(
            &CrmConfig::default(),
            input(
                json!({"connectors": [{"type": "hubspot", "accessToken": "pat-1", "baseUrl": "http://localhost:1"}]}),
            ),
        )
        .unwrap()
        .config;
        let view = first.view();
        let again = apply(&first, serde_json::from_value(view).unwrap()).unwrap();
        assert_eq!(again.config, first);
        assert!(again.generated.is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!({"connectors": [{"type": "zoho"}]}), "connectors[0].type"),
            (json!({"connectors": [{"type": "webhook", "url": "ftp://x"}]}), "connectors[0].url"),
            (
                json!({"connectors": [{"type": "webhook", "url": "https://x.io", "secret": "nope"}]}),
                "connectors[0].secret",
            ),
            (
                json!({"connectors": [{"type": "webhook", "url": "https://x.io", "clientId": "a"}]}),
                "connectors[0].clientId",
            ),
            (json!({"connectors": [{"type": "salesforce", "clientSecret": "s"}]}), "connectors[0].clientId"),
            (json!({"connectors": [{"type": "salesforce", "clientId": "c"}]}), "connectors[0].clientSecret"),
            (
                json!({"connectors": [{"type": "salesforce", "clientId": "c", "clientSecret": "s", "loginUrl": "http://sf.example.com"}]}),
                "connectors[0].loginUrl",
            ),
            (
                json!({"connectors": [{"type": "salesforce", "clientId": "c", "clientSecret": "s", "apiVersion": "60"}]}),
                "connectors[0].apiVersion",
            ),
            (json!({"connectors": [{"type": "hubspot"}]}), "connectors[0].accessToken"),
            (
                json!({"connectors": [{"type": "hubspot", "accessToken": "t"}, {"type": "salesforce", "clientId": "c", "clientSecret": "s"}]}),
                "connectors[1].type",
            ),
            (
                json!({"connectors": [{"type": "webhook", "url": "https://a.io"}, {"type": "webhook", "url": "https://b.io"}]}),
                "connectors[1].name",
            ),
        ];
        for (body, field) in cases {
            let err = apply(&CrmConfig::default(), input(body.clone())).err().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(err.field, field, "{body}: {}", err.message);
        }
    }

    #[test]
    fn webhook_urls_are_kept_as_written_and_base_urls_lose_their_slash() {
        let applied = apply(
            &CrmConfig::default(),
            input(json!({"connectors": [
                {"type": "webhook", "url": "https://n8n.example.com/webhook/abc/"},
                {"type": "hubspot", "accessToken": "t", "baseUrl": "https://api.hubapi.com/"}
            ]})),
        )
        .unwrap();
        let view = applied.config.view();
        assert_eq!(view["connectors"][0]["url"], "https://n8n.example.com/webhook/abc/");
        assert_eq!(view["connectors"][1]["baseUrl"], "https://api.hubapi.com");
    }

    #[test]
    fn api_version_is_normalised() {
        assert_eq!(api_version("f", Some("61.0".into())).unwrap(), "v61.0");
        assert_eq!(api_version("f", None).unwrap(), DEFAULT_SALESFORCE_VERSION);
    }
}
