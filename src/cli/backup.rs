//! `backup`: a consistent copy of the data file, from the file itself while no server runs
//! (`--out` only) or from a running server through `GET /v1/admin/backup` (`--server`).
//!
//! Either way the copy is written to a temporary file beside `--out` (mode 0600: it holds
//! lead data), checked with redb's integrity check, then renamed into place.

use anyhow::{Context, bail};
use clap::Args;
use std::path::Path;

use super::data_file::{check_out, require_readable};
use super::runtime;
use crate::store::{StoreError, backup};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write the copy to; refused if it exists, unless --force.
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Replace --out if it already exists.
    #[arg(long)]
    pub force: bool,
    /// Back up a running server through its API instead of the data file, e.g.
    /// http://127.0.0.1:8080.
    #[arg(long, env = "CRM_TRACKER_SERVER", value_parser = server_url)]
    pub server: Option<reqwest::Url>,
    /// Admin token for --server.
    #[arg(long, env = "CRM_TRACKER_TOKEN")]
    pub token: Option<String>,
}

/// `--server`: an http(s) URL with a host, optionally a path prefix (behind a proxy).
fn server_url(text: &str) -> Result<reqwest::Url, String> {
    let refuse = || "--server must be a URL like http://127.0.0.1:8080".to_string();
    let url = reqwest::Url::parse(text.trim()).map_err(|_| refuse())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if plain { Ok(url) } else { Err(refuse()) }
}

pub fn run(data: &Path, args: BackupArgs) -> anyhow::Result<()> {
    check_out(&args.out, data, args.force, "backup", "crm-tracker-backup.redb")?;
    // A missing directory is made, and said: a typo in --out should not go unnoticed.
    if let Some(dir) = args.out.parent().filter(|p| !p.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
        eprintln!("Created the directory {}", dir.display());
    }
    let dir = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match backup::remove_abandoned_copies(dir) {
        0 => {}
        n => eprintln!("Removed {n} temporary file(s) that interrupted backups left in {}", dir.display()),
    }
    if let Some(server) = &args.server {
        let token = args.token.as_deref().context("--server needs --token (or CRM_TRACKER_TOKEN)")?;
        let size = online(server, token, &args.out)?;
        println!("Backed up {} to {} ({size} bytes)", server.as_str().trim_end_matches('/'), args.out.display());
        return Ok(());
    }
    require_readable(data)?;
    match backup::backup_file(data, &args.out) {
        Ok(n) => {
            let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
            println!("Backed up {} to {} ({n} entries, {size} bytes)", data.display(), args.out.display());
            Ok(())
        }
        Err(StoreError::InUse { .. }) => bail!(
            "{} is in use by a running server; back it up online with: crm-tracker backup --server http://HOST:PORT \
             --token TOKEN --out {}",
            data.display(),
            args.out.display()
        ),
        Err(e) => Err(e.into()),
    }
}

/// The message of an API error body (`{"error": {"message": …}}`), else the body itself.
fn api_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    match parsed.as_ref().and_then(|v| v["error"]["message"].as_str()) {
        Some(message) => message.to_string(),
        None => body.trim().chars().take(200).collect(),
    }
}

/// Downloads a snapshot from `server` into `out`; returns the size of the file written.
fn online(server: &reqwest::Url, token: &str, out: &Path) -> anyhow::Result<u64> {
    let server = server.as_str().trim_end_matches('/');
    let url = format!("{server}/v1/admin/backup");
    // `run` made the directory.
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = backup::temp_copy(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    let file = tmp.as_file().try_clone()?;
    runtime()?.block_on(async {
        use tokio::io::AsyncWriteExt;
        let http = reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(10)).build()?;
        let mut response = http.get(&url).bearer_auth(token).send().await.map_err(|e| match e.is_connect() {
            true => anyhow::Error::new(e).context(format!("cannot reach the server at {server}")),
            // Connected, then no answer: the server stopped (or crashed) while making the
            // snapshot, or a proxy gave up waiting.
            false => anyhow::Error::new(e)
                .context(format!("the server at {server} closed the connection before it answered; see its log")),
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("the server refused the backup ({status}): {}", api_message(&body));
        }
        let mut file = tokio::fs::File::from_std(file);
        while let Some(chunk) = response.chunk().await.context("the download was interrupted")? {
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        Ok(())
    })?;
    let tmp = tmp.into_temp_path();
    if !backup::verify(&tmp).unwrap_or(false) {
        bail!("the downloaded backup failed its integrity check; nothing was written to {}", out.display());
    }
    tmp.persist(out)
        .map_err(|e| anyhow::anyhow!("cannot move the backup into place at {}: {}", out.display(), e.error))?;
    Ok(std::fs::metadata(out)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(server_url("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert!(server_url("https://t.example.com/tracker").is_ok());
        for bad in ["127.0.0.1:8080", "localhost:8080", "t.example.com", "ftp://x.io", "http://a@x.io", ""] {
            assert!(server_url(bad).unwrap_err().contains("like http://127.0.0.1:8080"), "{bad}");
        }
    }

    #[test]
    fn api_messages() {
        let body = r#"{"error": {"code": "unauthorized", "message": "the bearer token is not valid"}}"#;
        assert_eq!(api_message(body), "the bearer token is not valid");
        assert_eq!(api_message("Bad Gateway\n"), "Bad Gateway");
    }
}
