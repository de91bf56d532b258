//! `export leads`: every lead, newest first, as CSV or NDJSON.
//!
//! The data file is opened read-only when it can be, so an export never changes it and
//! works for a user who may read the file but not write it.

use anyhow::{Context, bail};
use redb::{ReadOnlyDatabase, ReadTransaction, ReadableDatabase, TableError};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::ExportFormat;
use super::data_file::{check_out, open_error, require_readable};
use crate::store::schema::{self, SCHEMA_VERSION};
use crate::store::{CACHE_BYTES, Store, StoreError, queries, tables};

/// The data file opened for reading: read-only when it is current, else through
/// [`Store::open`], which repairs a file that was not closed cleanly and migrates an older one.
enum Source {
    ReadOnly(ReadOnlyDatabase),
    Store(Store),
}

impl Source {
    fn begin_read(&self) -> anyhow::Result<ReadTransaction> {
        Ok(match self {
            Source::ReadOnly(db) => db.begin_read()?,
            Source::Store(store) => store.database()?.begin_read()?,
        })
    }
}

/// The schema version a file records.
fn schema_version(db: &ReadOnlyDatabase) -> anyhow::Result<Option<u32>> {
    let txn = db.begin_read()?;
    match txn.open_table(tables::META) {
        Ok(meta) => Ok(schema::version_in(&meta)?),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn in_use(data: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} is in use by a running server; export through its API instead: GET /v1/leads/export.csv (CSV) or \
         GET /v1/leads (JSON pages), with an admin token",
        data.display()
    )
}

fn open(data: &Path) -> anyhow::Result<Source> {
    require_readable(data)?;
    // A journal left by a crash holds the last commits: apply them first.
    match crate::store::recover_journal(data) {
        Err(StoreError::InUse { .. }) => return Err(in_use(data)),
        Err(e) => bail!("{e}"),
        Ok(()) => {}
    }
    match redb::Database::builder().set_cache_size(CACHE_BYTES).open_read_only(data) {
        Ok(db) => {
            if schema_version(&db)? == Some(SCHEMA_VERSION) {
                return Ok(Source::ReadOnly(db));
            }
        }
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(in_use(data)),
        // Not closed cleanly: only a read-write open can repair it.
        Err(redb::DatabaseError::RepairAborted) => {}
        Err(redb::DatabaseError::Storage(redb::StorageError::Io(e))) => return Err(open_error(data, "reading", &e)),
        Err(e) => bail!("cannot read {} as a crm-tracker data file: {e}", data.display()),
    }
    // Repairing or migrating writes to the file; say so rather than fail with a bare
    // "permission denied".
    if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(data)
        && e.kind() == std::io::ErrorKind::PermissionDenied
    {
        bail!(
            "{} must be repaired or upgraded before it can be read (it was not closed cleanly, or an older \
             crm-tracker wrote it), which needs write access; run as the user that owns the data file",
            data.display()
        );
    }
    match Store::open(data) {
        Ok(store) => Ok(Source::Store(store)),
        Err(StoreError::InUse { .. }) => Err(in_use(data)),
        Err(e) => Err(e.into()),
    }
}

pub fn run(
    data: &Path,
    client: Option<String>,
    format: ExportFormat,
    out: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<()> {
    let client = client
        .map(|c| uuid::Uuid::parse_str(c.trim()).with_context(|| format!("--client {c:?} is not a clientId")))
        .transpose()?;
    let example = match format {
        ExportFormat::Csv => "leads.csv",
        ExportFormat::Ndjson => "leads.ndjson",
    };
    if let Some(path) = &out {
        check_out(path, data, force, "export", example)?;
    }
    let source = open(data)?;
    if let Some(id) = client
        && queries::get_client(&source.begin_read()?, &id)?.is_none()
    {
        bail!("no site in {} has clientId {id}", data.display());
    }
    // A file is written under a temporary name beside it (readable by its owner only: it
    // holds personal data) and takes its name when complete: never half an export.
    let mut file = match &out {
        Some(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(
                tempfile::Builder::new()
                    .prefix(".crm-export-")
                    .tempfile_in(dir)
                    .map_err(|e| open_error(path, "writing", &e))?,
            )
        }
        None => None,
    };
    let writer: Box<dyn Write> = match &file {
        Some(tmp) => Box::new(std::io::BufWriter::new(tmp.as_file().try_clone()?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let filter = queries::LeadFilter { client_id: client, ..Default::default() };
    let n = match write_leads(writer, &source, &filter, format) {
        // The reader of a pipe stopped (`export leads | head -1`): it has what it wanted.
        Err(e) if out.is_none() && is_broken_pipe(&e) => return Ok(()),
        written => written?,
    };
    if let (Some(tmp), Some(path)) = (file.take(), out) {
        tmp.as_file().sync_all()?;
        // Without --force, not over a file that appeared meanwhile either.
        let persisted = if force { tmp.persist(&path) } else { tmp.persist_noclobber(&path) };
        persisted.map_err(|e| open_error(&path, "writing", &e.error))?;
        eprintln!("Exported {n} leads to {}", path.display());
    }
    Ok(())
}

/// Writes every lead matching `filter`; how many.
fn write_leads(
    mut writer: Box<dyn Write>,
    source: &Source,
    filter: &queries::LeadFilter,
    format: ExportFormat,
) -> anyhow::Result<usize> {
    use crate::domain::export;
    if matches!(format, ExportFormat::Csv) {
        writer.write_all(export::csv_header().as_bytes())?;
    }
    let mut cursor = None;
    let mut n = 0;
    loop {
        let page = queries::list_leads(&source.begin_read()?, filter, cursor, 500)?;
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
    Ok(n)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
