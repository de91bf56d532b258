//! Pure product logic: no I/O, no HTTP, no storage. Everything here is unit-tested.

pub mod builder_fields;
pub mod email;
pub mod enrich;
pub mod event;
pub mod export;
pub mod form_selector;
pub mod lead_edit;
pub mod lead_rules;
pub mod mapping;
pub mod model;
pub mod origin;
pub mod page_urls;
pub mod quality;
pub mod redact;
pub mod site;
pub mod surrogates;
pub mod time;
pub mod url_secrets;
