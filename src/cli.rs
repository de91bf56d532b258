//! Command-line definitions; each subcommand has its own `run`.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::app::App;
use crate::config::{DEFAULT_DATA, LogFormat, ServeArgs, ServeConfig};
use crate::domain::site::ClientInput;
use crate::store::{StoreError, backup, queries};

#[derive(Debug, Parser)]
#[command(name = "crm-tracker", version, about = "Self-hosted lead-capture tracker: one binary, one data file")]
pub struct Cli {
    /// The data file (created if missing).
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
    Backup(BackupArgs),
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
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user (or reset their password). The password is read from the
    /// terminal, or from the first line of standard input when it is not a terminal.
    Create {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Add a site; prints its clientId, secret key (once) and the script snippet.
    Add {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        name: Option<String>,
        /// Base URL the snippet should load the script from.
        #[arg(long, env = "CRM_TRACKER_PUBLIC_URL", default_value = "http://localhost:8080")]
        public_url: String,
    },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy.
    #[arg(long)]
    pub out: PathBuf,
    /// Back up a running server through its API instead of the data file.
    #[arg(long, env = "CRM_TRACKER_SERVER")]
    pub server: Option<String>,
    /// Admin token for --server.
    #[arg(long, env = "CRM_TRACKER_TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export leads (newest first) to standard output or a file.
    Leads {
        #[arg(long)]
        client: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CRM_TRACKER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Opens the data file for a one-off command, explaining what to do when a server has it.
fn open_app(data: &std::path::Path) -> anyhow::Result<App> {
    match App::open(ServeConfig::for_tests(data.to_path_buf())) {
        Ok(app) => Ok(app),
        Err(crate::app::AppError::Store(StoreError::InUse { path })) => bail!(
            "{} is in use by a running server. Stop it first, or do this through the server's API (see README: Admin API).",
            path.display()
        ),
        Err(e) => Err(e.into()),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing(cli.log_format);
    match cli.command {
        Command::Serve(args) => crate::cli_serve::run(&args, cli.data),
        Command::Token { command: TokenCommand::Create { name } } => {
            let app = open_app(&cli.data)?;
            let (token, secret) = runtime()?.block_on(app.create_token(&name))?;
            app.writer.shutdown();
            println!("Created token {} ({}). It is shown only now:\n\n  {secret}\n", token.name, token.token_id);
            println!("Use it as: Authorization: Bearer {secret}");
            Ok(())
        }
        Command::User { command: UserCommand::Create { username } } => {
            let password = read_password()?;
            let app = open_app(&cli.data)?;
            runtime()?.block_on(app.create_user(&username, &password))?;
            app.writer.shutdown();
            println!("User {username} can now log in at /admin");
            Ok(())
        }
        Command::Client { command: ClientCommand::Add { domain, name, public_url } } => {
            let app = open_app(&cli.data)?;
            let input = ClientInput { domain: Some(domain), name, ..Default::default() };
            let (client, secret) = runtime()?.block_on(app.create_client(input))?;
            app.writer.shutdown();
            let base = public_url.trim_end_matches('/');
            println!("clientId:   {}", client.client_id);
            println!("domain:     {}", client.domain);
            println!("secret key: {secret}   (shown only now; for server-to-server X-API-Key)");
            println!("snippet:    {}", app.snippet(base, &client.client_id));
            Ok(())
        }
        Command::Backup(args) => run_backup(&cli.data, args),
        Command::Export { command: ExportCommand::Leads { client, format, out } } => {
            run_export(&cli.data, client, format, out)
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.chars().count() < 10 {
        bail!("the password must be at least 10 characters");
    }
    Ok(password)
}

fn run_backup(data: &std::path::Path, args: BackupArgs) -> anyhow::Result<()> {
    if let Some(server) = args.server {
        let token = args.token.context("--server needs --token (or CRM_TRACKER_TOKEN)")?;
        let url = format!("{}/v1/admin/backup", server.trim_end_matches('/'));
        let bytes = runtime()?.block_on(async {
            let response = reqwest::Client::new().get(&url).bearer_auth(&token).send().await?.error_for_status()?;
            response.bytes().await
        })?;
        let tmp = args.out.with_extension("partial");
        std::fs::write(&tmp, &bytes)?;
        if !backup::verify(&tmp)? {
            bail!("the downloaded backup failed its integrity check");
        }
        std::fs::rename(&tmp, &args.out)?;
        println!("Backed up {server} to {} ({} bytes)", args.out.display(), bytes.len());
        return Ok(());
    }
    match backup::backup_file(data, &args.out) {
        Ok(n) => {
            println!("Backed up {} to {} ({n} entries)", data.display(), args.out.display());
            Ok(())
        }
        Err(StoreError::InUse { .. }) => bail!(
            "{} is in use by a running server; back it up online with: crm-tracker backup --server http://HOST:PORT --token TOKEN --out {}",
            data.display(),
            args.out.display()
        ),
        Err(e) => Err(e.into()),
    }
}

fn run_export(
    data: &std::path::Path,
    client: Option<String>,
    format: ExportFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use crate::domain::export;
    let client = client
        .map(|c| uuid::Uuid::parse_str(&c).with_context(|| format!("--client {c:?} is not a clientId")))
        .transpose()?;
    let store = match crate::store::Store::open(data) {
        Ok(s) => s,
        Err(StoreError::InUse { .. }) => {
            bail!("{} is in use by a running server; export through the API: GET /v1/leads/export.csv", data.display())
        }
        Err(e) => return Err(e.into()),
    };
    let mut writer: Box<dyn Write> = match &out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if matches!(format, ExportFormat::Csv) {
        writer.write_all(export::csv_header().as_bytes())?;
    }
    let filter = queries::LeadFilter { client_id: client, ..Default::default() };
    let mut cursor = None;
    let mut n = 0;
    loop {
        let page = store.read(|txn| queries::list_leads(txn, &filter, cursor, 500))?;
        for lead in &page.items {
            let line = match format {
                ExportFormat::Csv => export::lead_csv(lead),
                ExportFormat::Ndjson => export::lead_ndjson(lead),
            };
            writer.write_all(line.as_bytes())?;
            n += 1;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    writer.flush()?;
    if let Some(path) = out {
        eprintln!("Exported {n} leads to {}", path.display());
    }
    Ok(())
}
