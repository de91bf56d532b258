//! Server settings. Every flag also reads an environment variable (`CRM_TRACKER_*`);
//! turning the parsed flags into a [`ServeConfig`] is a pure function, tested below.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use thiserror::Error;

pub const DEFAULT_DATA: &str = "./crm-tracker.redb";

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
    /// Address to listen on.
    #[arg(long, env = "CRM_TRACKER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Public base URL of this server, used in the tracker script and snippets
    /// (default: taken from each request's Host header).
    #[arg(long, env = "CRM_TRACKER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Create a demo site for localhost, an admin token and a demo login, and serve /demo.
    #[arg(long, env = "CRM_TRACKER_DEMO")]
    pub demo: bool,
    /// Requests per minute one IP address may send to the ingest endpoints (0: no limit).
    #[arg(long, env = "CRM_TRACKER_RATE_LIMIT_IP", default_value_t = 600)]
    pub rate_limit_ip: u32,
    /// Requests per minute one site may receive on the ingest endpoints (0: no limit).
    #[arg(long, env = "CRM_TRACKER_RATE_LIMIT_CLIENT", default_value_t = 6000)]
    pub rate_limit_client: u32,
    /// Take the visitor's IP from X-Forwarded-For (only behind a reverse proxy you run).
    #[arg(long, env = "CRM_TRACKER_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// How often the retention task runs, in seconds.
    #[arg(long, env = "CRM_TRACKER_RETENTION_INTERVAL", default_value_t = 3600)]
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

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("--public-url must be an http(s) URL without a path, like https://tracker.example.com (got {0:?})")]
    PublicUrl(String),
    #[error("--retention-interval must be at least 1 second")]
    RetentionInterval,
}

impl ServeConfig {
    pub fn from_args(args: &ServeArgs, data: PathBuf) -> Result<ServeConfig, ConfigError> {
        let public_url = match &args.public_url {
            None => None,
            Some(url) => {
                let trimmed = url.trim().trim_end_matches('/');
                let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains('/') && !host.contains(' ') => {
                        Some(trimmed.to_string())
                    }
                    _ => return Err(ConfigError::PublicUrl(url.clone())),
                }
            }
        };
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

        let t = T::try_parse_from(["t", "--public-url", "t.example.com/x"]).unwrap();
        assert!(matches!(ServeConfig::from_args(&t.serve, DEFAULT_DATA.into()), Err(ConfigError::PublicUrl(_))));
    }
}
