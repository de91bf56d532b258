//! CRM Web Tracker: a self-hosted lead-capture tracker in one executable.
//!
//! # Layout
//! - [`cli`]: command-line definitions; each subcommand has its own `run`.
//! - [`config`]: server settings from flags and environment, as plain data.
//! - [`app`]: [`app::App`], the handle the HTTP layer and the CLI share: the store, the
//!   writer, the in-memory client directory and token cache.
//! - [`domain`]: pure logic with no I/O: the record model, event validation, redaction,
//!   field mapping, lead rules and quality. Imports neither `http` nor `store`.
//! - [`store`]: redb tables, record encoding, schema migrations, the single writer
//!   thread (group commit), and typed queries. Knows nothing of HTTP.
//! - [`http`]: axum routes; parses and authenticates requests, then calls `app`/`store`.
//! - [`crm`]: the outbox worker and CRM connectors.
//! - [`metrics`]: counters and histograms rendered in Prometheus text format.
//!
//! Data flows one way: `http` → `app`/`domain` → `store`.

pub mod app;
pub mod cli;
pub mod cli_serve;
pub mod config;
pub mod crm;
pub mod demo;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod store;
