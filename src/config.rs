//! Server settings. Every flag also reads an environment variable (`CRM_TRACKER_*`);
//! turning the parsed flags into a [`ServeConfig`] is a pure function, tested below.

use clap::{ArgAction, Args, ValueEnum};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use thiserror::Error;

pub const DEFAULT_DATA: &str = "./crm-tracker.redb";

/// Where `serve` listens unless told otherwise; `client add` uses it for snippets too, so a
/// snippet made before the first `serve` points at the server as started by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The environment variable of `--retention-interval-secs`. Earlier builds read
/// [`LEGACY_RETENTION_INTERVAL_ENV`] (without `_SECS`, unlike every other variable named
/// after its flag); [`crate::cli::parse`] still honours it when the new one is unset.
pub const RETENTION_INTERVAL_ENV: &str = "CRM_TRACKER_RETENTION_INTERVAL_SECS";
pub const LEGACY_RETENTION_INTERVAL_ENV: &str = "CRM_TRACKER_RETENTION_INTERVAL";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, IP:PORT (localhost:PORT means 127.0.0.1:PORT; 0.0.0.0:PORT
    /// listens on every interface).
    #[arg(long, env = "CRM_TRACKER_LISTEN", default_value = DEFAULT_LISTEN, value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Public base URL of this server, used in the tracker script and snippets
    /// (default: taken from each request's Host header).
    #[arg(long, env = "CRM_TRACKER_PUBLIC_URL", value_parser = parse_public_url_arg)]
    pub public_url: Option<String>,
    /// Create a demo site for localhost, an admin token and a demo login, and serve /demo.
    #[arg(long, env = "CRM_TRACKER_DEMO", action = ArgAction::SetTrue, value_parser = parse_yes_no)]
    pub demo: bool,
    /// Requests per minute one IP address may send to the ingest endpoints (0: no limit).
    #[arg(long, env = "CRM_TRACKER_RATE_LIMIT_IP", default_value_t = 600)]
    pub rate_limit_ip: u32,
    /// Requests per minute one site may receive on the ingest endpoints (0: no limit).
    #[arg(long, env = "CRM_TRACKER_RATE_LIMIT_CLIENT", default_value_t = 6000)]
    pub rate_limit_client: u32,
    /// Take the visitor's IP from X-Forwarded-For (only behind a reverse proxy you run).
    #[arg(long, env = "CRM_TRACKER_TRUST_PROXY", action = ArgAction::SetTrue, value_parser = parse_yes_no)]
    pub trust_proxy: bool,
    /// How often the retention task runs, in seconds (at least 1).
    #[arg(long, env = RETENTION_INTERVAL_ENV, default_value_t = 3600)]
    pub retention_interval_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_ip_per_minute: u32,
    pub per_client_per_minute: u32,
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub public_url: Option<String>,
    pub demo: bool,
    pub rate_limits: RateLimits,
    pub trust_proxy: bool,
    pub retention_interval_secs: u64,
}

/// What a `--public-url` must look like; clap's error for the flag names it and the value.
const PUBLIC_URL_RULE: &str = "must be an http(s) URL without a path, like https://tracker.example.com";

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("--public-url {rule} (got {0:?})", rule = PUBLIC_URL_RULE)]
    PublicUrl(String),
    #[error("--retention-interval-secs must be at least 1 second")]
    RetentionInterval,
}

impl ServeConfig {
    pub fn from_args(args: &ServeArgs, data: PathBuf) -> Result<ServeConfig, ConfigError> {
        let public_url = args.public_url.as_deref().map(parse_public_url).transpose()?;
        if args.retention_interval_secs == 0 {
            return Err(ConfigError::RetentionInterval);
        }
        Ok(ServeConfig {
            listen: args.listen,
            data,
            public_url,
            demo: args.demo,
            rate_limits: RateLimits {
                per_ip_per_minute: args.rate_limit_ip,
                per_client_per_minute: args.rate_limit_client,
            },
            trust_proxy: args.trust_proxy,
            retention_interval_secs: args.retention_interval_secs,
        })
    }

    /// Settings for tests and embedding: loopback, no public URL, no rate limits.
    pub fn for_tests(data: PathBuf) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data,
            public_url: None,
            demo: false,
            rate_limits: RateLimits { per_ip_per_minute: 0, per_client_per_minute: 0 },
            trust_proxy: false,
            retention_interval_secs: 3600,
        }
    }
}

/// Checks a `--public-url` and returns it in canonical form (`scheme://host[:port]`, lower
/// case, no trailing slash). It is written into `<script src="…">` snippets and the tracker
/// script, so it must be an origin and nothing more: a relative URL would make the snippet
/// load from the site itself, and a quote would break out of the attribute.
pub fn parse_public_url(url: &str) -> Result<String, ConfigError> {
    crate::domain::origin::normalize_origin(url).ok_or_else(|| ConfigError::PublicUrl(url.to_string()))
}

/// [`parse_public_url`] as a clap value parser (`serve` and `client add`).
pub fn parse_public_url_arg(url: &str) -> Result<String, String> {
    parse_public_url(url).map_err(|_| PUBLIC_URL_RULE.to_string())
}

/// A yes/no value from the environment: `1`/`0`, `yes`/`no`, `true`/`false`, `on`/`off`
/// (any case), so `CRM_TRACKER_DEMO=1` works as it does for most tools. On the command line
/// these flags take no value.
pub fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "off" | "" => Ok(false),
        _ => Err("use 1 or 0, yes or no, true or false, on or off".into()),
    }
}

/// Parses `--listen`: `IP:PORT`, `[IPv6]:PORT`, or `localhost:PORT` (127.0.0.1). A bare port
/// or `:PORT` is refused rather than guessed, since some tools read it as "every interface"
/// and others as "this machine only".
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let hint = "use IP:PORT, e.g. 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every interface)";
    if let Some((host, port)) = text.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
    {
        let port = port.parse::<u16>().map_err(|_| format!("{port:?} is not a port number; {hint}"))?;
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    Err(hint.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn defaults_and_validation() {
        let t = T::try_parse_from(["t"]).unwrap();
        let c = ServeConfig::from_args(&t.serve, DEFAULT_DATA.into()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.rate_limits.per_ip_per_minute, 600);

        let t = T::try_parse_from(["t", "--public-url", "https://t.example.com/"]).unwrap();
        let c = ServeConfig::from_args(&t.serve, DEFAULT_DATA.into()).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://t.example.com"));

        assert!(T::try_parse_from(["t", "--public-url", "t.example.com/x"]).is_err());
        let mut args = T::try_parse_from(["t"]).unwrap().serve;
        args.public_url = Some("t.example.com".into());
        assert!(matches!(ServeConfig::from_args(&args, DEFAULT_DATA.into()), Err(ConfigError::PublicUrl(_))));
    }

    #[test]
    fn public_urls_are_origins_only() {
        assert_eq!(parse_public_url(" HTTPS://T.example.com:443/ ").unwrap(), "https://t.example.com");
        assert_eq!(parse_public_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(parse_public_url("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in [
            "tracker.example.com",
            "//tracker.example.com",
            "ftp://tracker.example.com",
            "https://t.example.com/sub",
            "https://t.example.com\"onload=\"x",
            "https://t.example.com/sub\"onload=\"x",
            "https://user@t.example.com",
            "https://t.example.com?x",
            "https://t.example.com:99999",
            "https://",
        ] {
            assert_eq!(parse_public_url(bad), Err(ConfigError::PublicUrl(bad.into())), "{bad}");
        }
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen("0.0.0.0:80").unwrap().to_string(), "0.0.0.0:80");
        assert_eq!(parse_listen("[::1]:8080").unwrap().to_string(), "[::1]:8080");
        assert_eq!(parse_listen("localhost:18084").unwrap().to_string(), "127.0.0.1:18084");
        assert_eq!(parse_listen("LOCALHOST:1").unwrap().to_string(), "127.0.0.1:1");
        for bad in ["8080", ":8080", "localhost", "localhost:http", "example.com:80", "127.0.0.1"] {
            let err = parse_listen(bad).unwrap_err();
            assert!(err.contains("e.g. 127.0.0.1:8080"), "{bad}: {err}");
        }
    }

    #[test]
    fn yes_no_spellings() {
        for yes in ["1", "yes", "Y", "TRUE", "on"] {
            assert_eq!(parse_yes_no(yes), Ok(true), "{yes}");
        }
        for no in ["0", "no", "False", "off"] {
            assert_eq!(parse_yes_no(no), Ok(false), "{no}");
        }
        assert!(parse_yes_no("maybe").unwrap_err().contains("yes or no"));
    }

    #[test]
    fn flags_without_values() {
        let t = T::try_parse_from(["t", "--demo", "--trust-proxy"]).unwrap();
        assert!(t.serve.demo && t.serve.trust_proxy);
        let t = T::try_parse_from(["t"]).unwrap();
        assert!(!t.serve.demo && !t.serve.trust_proxy);
        let t = T::try_parse_from(["t", "--retention-interval-secs", "0"]).unwrap();
        assert_eq!(ServeConfig::from_args(&t.serve, DEFAULT_DATA.into()).unwrap_err(), ConfigError::RetentionInterval);
    }
}
