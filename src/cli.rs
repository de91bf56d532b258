//! Command-line definitions; each subcommand has its own `run`.
//!
//! - `data_file`: opening the data file for a one-off command, with messages that say
//!   what to do when a server holds it or the file is missing or not accessible.
//! - `backup`: `backup`, offline (from the file) or online (from a running server).
//! - `export`: `export leads`, reading the file without changing it.

mod backup;
mod data_file;
mod export;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::io::BufRead;
use std::path::PathBuf;

use crate::app::AppError;
use crate::config::{
    DEFAULT_DATA, DEFAULT_LISTEN, LEGACY_RETENTION_INTERVAL_ENV, LogFormat, RETENTION_INTERVAL_ENV, ServeArgs,
};
use crate::domain::site::ClientInput;
use crate::store::{StoreError, accounts, queries};

#[derive(Debug, Parser)]
#[command(name = "crm-tracker", version, about = "Self-hosted lead-capture tracker: one binary, one data file")]
pub struct Cli {
    /// The data file. `serve`, `token`, `user` and `client` create it if missing; `backup`
    /// and `export` only read an existing one.
    #[arg(long, global = true, env = "CRM_TRACKER_DATA", default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// Log format.
    #[arg(long, global = true, env = "CRM_TRACKER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Dashboard users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Tracked sites.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Write a consistent copy of the data file.
    Backup(backup::BackupArgs),
    /// Export data.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an admin API token; it is printed once.
    Create {
        /// A label to tell the token apart in `GET /v1/tokens`, e.g. ops or nightly-backup.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user (or reset their password). The password is read from the
    /// terminal, or from the first line of standard input when it is not a terminal.
    Create {
        /// Login name: 1 to 64 letters, digits, '.', '_', '-' or '@'.
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Add a site; prints its clientId, secret key (once) and the script snippet.
    Add {
        /// The site's domain, e.g. example.com; pages on its subdomains are tracked too.
        #[arg(long)]
        domain: String,
        /// A display name for the dashboard (default: the domain).
        #[arg(long)]
        name: Option<String>,
        /// Base URL browsers load the script from, like https://tracker.example.com
        /// (default: http://127.0.0.1:8080, where `serve` listens unless told otherwise).
        #[arg(long, env = "CRM_TRACKER_PUBLIC_URL", value_parser = crate::config::parse_public_url_arg)]
        public_url: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row; cells that a spreadsheet would run as a
    /// formula are defused.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export leads (newest first) to standard output or a file.
    Leads {
        /// Only this site's leads (its clientId).
        #[arg(long)]
        client: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of standard output (readable by you only); refused
        /// if it exists, unless --force.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
    },
}

/// Parses the command line and environment, exiting with clap's message on a mistake.
pub fn parse() -> Cli {
    let mut command = Cli::command();
    // `--retention-interval-secs` once read CRM_TRACKER_RETENTION_INTERVAL; clap gives an
    // argument one variable, so the old name stands in only when the new one is unset.
    if std::env::var_os(RETENTION_INTERVAL_ENV).is_none() && std::env::var_os(LEGACY_RETENTION_INTERVAL_ENV).is_some() {
        command = command.mut_subcommand("serve", |serve| {
            serve.mut_arg("retention_interval_secs", |arg| arg.env(LEGACY_RETENTION_INTERVAL_ENV))
        });
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The log filter for a `CRM_TRACKER_LOG` value: `info` when unset, else the value if it is
/// a level (`warn`) or a list of directives (`info,crm_tracker=debug`). A bare word that is
/// no level (`verbose`) would be read by tracing as "everything from a module named
/// verbose", which silently hides every log line; it is refused so the caller can warn.
pub fn log_directives(value: Option<&str>) -> Result<String, String> {
    use tracing_subscriber::filter::{Directive, LevelFilter};
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok("info".into());
    };
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let ok = if part.contains(['=', '[']) {
            part.parse::<Directive>().is_ok()
        } else {
            part.parse::<LevelFilter>().is_ok()
        };
        if !ok {
            return Err(format!(
                "CRM_TRACKER_LOG={value:?} is not a log level; use error, warn, info, debug, trace or off \
                 (or directives like info,crm_tracker=debug). Logging at info instead."
            ));
        }
    }
    Ok(value.to_string())
}

pub fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let (directives, warning) = match log_directives(std::env::var("CRM_TRACKER_LOG").ok().as_deref()) {
        Ok(d) => (d, None),
        Err(warning) => ("info".to_string(), Some(warning)),
    };
    let filter = EnvFilter::builder().parse(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr: colour only when a person is watching it.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing(cli.log_format);
    match cli.command {
        Command::Serve(args) => crate::cli_serve::run(&args, cli.data),
        Command::Token { command: TokenCommand::Create { name } } => create_token(&cli.data, &name),
        Command::User { command: UserCommand::Create { username } } => create_user(&cli.data, &username),
        Command::Client { command: ClientCommand::Add { domain, name, public_url } } => {
            add_client(&cli.data, domain, name, public_url)
        }
        Command::Backup(args) => backup::run(&cli.data, args),
        Command::Export { command: ExportCommand::Leads { client, format, out, force } } => {
            export::run(&cli.data, client, format, out, force)
        }
    }
}

fn create_token(data: &std::path::Path, name: &str) -> anyhow::Result<()> {
    let hint = format!(
        "Create the token through its API instead: POST /v1/tokens with {{\"name\": {name:?}}} and an existing \
         admin token (see README: Admin API), or stop the server first, then run this again."
    );
    let app = data_file::open_app(data, &hint)?;
    let created = runtime()?.block_on(app.create_token(name));
    app.writer.shutdown();
    let (token, secret) = created?;
    println!("Created token {} ({}). It is shown only now:\n\n  {secret}\n", token.name, token.token_id);
    println!("Use it as: Authorization: Bearer {secret}");
    Ok(())
}

fn create_user(data: &std::path::Path, username: &str) -> anyhow::Result<()> {
    let password = read_password()?;
    let app = data_file::open_app(
        data,
        "Stop the server first (it holds the data file), then run this again; users cannot be created \
         through the API.",
    )?;
    let username = username.trim().to_string();
    let result = runtime()?.block_on(async {
        let lookup = username.clone();
        let existed = app.read(move |txn| accounts::get_user(txn, &lookup)).await?.is_some();
        app.create_user(&username, &password).await?;
        Ok::<bool, AppError>(existed)
    });
    app.writer.shutdown();
    if result? {
        println!("Password of existing user {username} changed");
    } else {
        println!("User {username} created; they can now log in at /admin");
    }
    Ok(())
}

fn add_client(
    data: &std::path::Path,
    domain: String,
    name: Option<String>,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let default_base = format!("http://{DEFAULT_LISTEN}");
    let base = public_url.clone().unwrap_or_else(|| default_base.clone());
    let hint = format!(
        "Add the site through its API instead: POST /v1/clients with {{\"domain\": {domain:?}}} (see README: \
         Admin API), or stop the server first, then run this again."
    );
    // Checked before the data file is opened, so a typo creates no file.
    let draft = ClientInput { domain: Some(domain.clone()), name: name.clone(), ..Default::default() };
    crate::domain::site::apply_client(&mut Default::default(), draft)?;
    let app = data_file::open_app(data, &hint)?;
    let normalized = crate::domain::origin::normalize_domain(&domain);
    let input = ClientInput { domain: Some(domain), name, ..Default::default() };
    let created = runtime()?.block_on(async {
        match app.create_client(input).await {
            Err(AppError::Store(StoreError::Conflict(conflict))) => {
                let Some(domain) = normalized else { bail!(conflict) };
                let lookup = domain.clone();
                match app.read(move |txn| queries::client_by_domain(txn, &lookup)).await? {
                    Some(existing) => bail!(
                        "a site for {domain} already exists, clientId {id}.\nIts snippet: {snippet}\nIts secret \
                         key was shown only when it was created; for a new one, rotate it through the API while \
                         the server runs: POST /v1/clients/{id}/rotate-key",
                        id = existing.client_id,
                        snippet = app.snippet(&base, &existing.client_id),
                    ),
                    None => bail!(conflict),
                }
            }
            other => Ok(other?),
        }
    });
    app.writer.shutdown();
    let (client, secret) = created?;
    println!("clientId:   {}", client.client_id);
    println!("domain:     {}", client.domain);
    println!("secret key: {secret}   (shown only now; for server-to-server X-API-Key)");
    println!("snippet:    {}", app.snippet(&base, &client.client_id));
    if public_url.is_none() {
        eprintln!(
            "note: the snippet loads the script from {default_base}, where `serve` listens by default. Visitors' \
             browsers must reach the server at that address: give your server's public address with \
             --public-url https://tracker.example.com (or CRM_TRACKER_PUBLIC_URL)."
        );
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        if first.is_empty() {
            bail!("no password given");
        }
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            bail!(
                "no password given on stdin; pipe it in, e.g. echo 'a long password' | crm-tracker user create \
                 --username NAME"
            );
        }
        password
    };
    if password.chars().count() < 10 {
        bail!("the password must be at least 10 characters");
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels() {
        assert_eq!(log_directives(None).unwrap(), "info");
        assert_eq!(log_directives(Some(" ")).unwrap(), "info");
        assert_eq!(log_directives(Some("warn")).unwrap(), "warn");
        assert_eq!(log_directives(Some("DEBUG")).unwrap(), "DEBUG");
        assert_eq!(log_directives(Some("info,crm_tracker=debug")).unwrap(), "info,crm_tracker=debug");
        for bad in ["verbose", "info,loud", "crm_tracker=loud"] {
            let warning = log_directives(Some(bad)).unwrap_err();
            assert!(warning.contains(&format!("{bad:?}")) && warning.contains("info instead"), "{warning}");
        }
    }

    #[test]
    fn every_argument_is_documented() {
        fn walk(command: &clap::Command, path: &str) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(arg.get_help().is_some_and(|h| !h.to_string().is_empty()), "{path} --{id} has no help");
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        Cli::command().debug_assert();
        walk(&Cli::command(), "crm-tracker");
    }
}
