//! Persistence in one redb file.
//!
//! - [`tables`]: every table definition.
//! - [`codec`]: record encoding.
//! - [`schema`]: opening a file, schema version check and migrations.
//! - [`writer`]: the single writer thread; all writes go through it (group commit).
//! - [`ingest`]: applying a batch of tracker events inside a write transaction.
//! - [`admin`], [`leads`]: writes for clients, forms, fields, mappings, tokens, leads.
//! - [`queries`]: typed reads with cursors and filters.
//! - [`backup`]: consistent copies of a live or stopped database.
//! - [`journal`]: the storage backend that makes a durable commit one sequential write.

pub mod accounts;
pub mod admin;
pub mod backup;
pub mod codec;
pub mod event_pages;
pub mod ingest;
#[cfg(unix)]
pub mod journal;
pub mod leads;
pub mod mentions;
pub mod queries;
pub mod schema;
pub mod tables;
pub mod writer;

use redb::{Database, ReadTransaction, ReadableDatabase};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error, Clone)]
pub enum StoreError {
    #[error(
        "the data file {path} is in use by another crm-tracker process (a running server?): stop that process first, or give this one its own file with --data"
    )]
    InUse { path: PathBuf },
    #[error(
        "the data file was written by a newer crm-tracker (schema version {found}; this build understands up to {supported}); upgrade crm-tracker or restore a backup made with this version"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("storage error: {0}")]
    Storage(String),
    /// Reading or writing the file failed (a full disk, a failing device). After one failed
    /// write redb refuses every later one until the database is opened again, which the
    /// writer does once a full disk has room again ([`Store::reopen`]); what was committed
    /// is safe.
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("could not encode a record: {0}")]
    Encode(String),
    #[error("could not decode a stored record: {0}")]
    Decode(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The writer's queue is full; the caller should retry shortly.
    #[error("the server is busy writing; retry shortly")]
    Busy,
    #[error("the writer has stopped")]
    WriterStopped,
}

impl StoreError {
    /// A storage-level failure (as opposed to a checked outcome such as not-found): the
    /// transaction it happened in must not be committed.
    pub fn is_fatal(&self) -> bool {
        matches!(self, StoreError::Storage(_) | StoreError::Io(_) | StoreError::Encode(_) | StoreError::Decode(_))
    }
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            redb::Error::Io(io) => StoreError::Io(io.to_string()),
            redb::Error::PreviousIo => StoreError::Io(
                "an earlier write to the data file failed, so writes are refused until the server has opened the file again, which it does once the cause (e.g. a full disk) is fixed".into(),
            ),
            other => StoreError::Storage(other.to_string()),
        }
    }
}

macro_rules! storage_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::from(redb::Error::from(e))
            }
        }
    )*};
}
storage_error_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError,
    std::io::Error
);

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// redb's page cache. Its default (1 GiB) would let a busy server grow far past the memory
/// a small VPS has; the OS page cache still holds the rest of the file.
pub const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// The open database. Cheap to clone; reads may run on any (blocking) thread.
///
/// The handle is replaceable: after a failed write (a full disk) redb refuses every later
/// write until the file is opened again, so the writer thread reopens it once the cause is
/// gone ([`Store::reopen`]) instead of the server needing a restart.
#[derive(Clone)]
pub struct Store {
    db: Arc<RwLock<Option<Arc<Database>>>>,
    path: Option<PathBuf>,
    reopener: Option<Arc<dyn Reopener>>,
}

/// How a [`Store`] opens its database again after a failed write.
pub trait Reopener: Send + Sync {
    /// Whether writing works again (space was freed). Checked before the old handle, which
    /// still serves reads, is let go.
    fn writable(&self) -> std::io::Result<()>;
    fn open(&self) -> Result<Database>;
}

/// A data file on disk: writable when a small probe file next to it can be written and
/// flushed; opened through [`open_database`], which applies the journal the failed
/// process left.
struct FileReopener(PathBuf);

impl Reopener for FileReopener {
    fn writable(&self) -> std::io::Result<()> {
        use std::io::Write;
        // Beside the real file (a symlinked data file lives on the filesystem it points to),
        // under a name nothing else uses: an old probe is removed, a new one never follows
        // a link.
        let real = std::fs::canonicalize(&self.0)?;
        let mut name = real.file_name().unwrap_or_default().to_os_string();
        name.push(".space-probe");
        let probe = real.with_file_name(name);
        let _ = std::fs::remove_file(&probe);
        let written = (|| {
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
            // About what reopening writes: the journal's records applied, the allocator state.
            file.write_all(&vec![0u8; 1 << 20])?;
            file.sync_data()
        })();
        let _ = std::fs::remove_file(&probe);
        written
    }

    fn open(&self) -> Result<Database> {
        open_database(&self.0)
    }
}

/// Opens (creating if needed) a data file for writing, through its journal where the
/// platform has one (see [`journal`]); a journal left by a crash is applied first.
pub fn open_database(path: &Path) -> Result<Database> {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
    #[cfg(unix)]
    let journal_found = Some(journal::journal_path(path)).filter(|j| j.exists());
    #[cfg(not(unix))]
    let journal_found: Option<PathBuf> = None;
    #[cfg(unix)]
    let opened = match journal::JournaledFile::open(path) {
        Ok(backend) => builder.create_with_backend(backend),
        Err(journal::OpenError::InUse) => return Err(StoreError::InUse { path: path.to_path_buf() }),
        Err(journal::OpenError::Io(e)) => {
            return Err(StoreError::Storage(format!("cannot open {}: {e}", path.display())));
        }
    };
    #[cfg(not(unix))]
    let opened = builder.create(path);
    match opened {
        Ok(db) => Ok(db),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StoreError::InUse { path: path.to_path_buf() }),
        // The journal is matched to its data file by device and inode; a backup copied over
        // the data file in place keeps both, and the crashed server's journal then writes
        // its pages into the copy. Say so, since the message of redb alone ("corrupted")
        // suggests the backup is bad.
        Err(e) if journal_found.is_some() => Err(StoreError::Storage(format!(
            "cannot open {}: {e}. The journal {} that a server which did not stop cleanly left beside it was \
             applied first: if a backup was copied over the data file since, the journal was not this file's. Copy \
             the backup in again, delete the journal (or move the old data file away first), then start again",
            path.display(),
            journal_found.as_deref().unwrap_or(path).display()
        ))),
        Err(e) => Err(StoreError::Storage(format!("cannot open {}: {e}", path.display()))),
    }
}

/// Makes a data file that a crashed process left with a journal whole again, so it can be
/// opened read-only on its own. Needs write access to the file (only after a crash).
pub fn recover_journal(path: &Path) -> Result<()> {
    #[cfg(unix)]
    match journal::recover(path) {
        Ok(_) => {}
        Err(journal::OpenError::InUse) => return Err(StoreError::InUse { path: path.to_path_buf() }),
        Err(journal::OpenError::Io(e)) => {
            return Err(StoreError::Storage(format!(
                "{} was not closed cleanly and its last commits are still in {}; applying them needs write access to both: {e}",
                path.display(),
                journal::journal_path(path).display()
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) and migrates a data file.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let db = open_database(path)?;
        schema::migrate(&db)?;
        let reopener: Arc<dyn Reopener> = Arc::new(FileReopener(path.to_path_buf()));
        Ok(Store::new(db, Some(path.to_path_buf()), Some(reopener)))
    }

    /// A database held in memory, for tests and examples that need no file.
    pub fn in_memory() -> Result<Store> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        schema::migrate(&db)?;
        Ok(Store::new(db, None, None))
    }

    /// A database opened by the caller (a test's storage), reopened after a failed write by
    /// `reopener`.
    pub fn with_reopener(db: Database, reopener: Arc<dyn Reopener>) -> Result<Store> {
        schema::migrate(&db)?;
        Ok(Store::new(db, None, Some(reopener)))
    }

    fn new(db: Database, path: Option<PathBuf>, reopener: Option<Arc<dyn Reopener>>) -> Store {
        Store { db: Arc::new(RwLock::new(Some(Arc::new(db)))), path, reopener }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The current database handle; an error (at once) while it is being reopened.
    pub fn database(&self) -> Result<Arc<Database>> {
        let slot = self.db.read().unwrap_or_else(PoisonError::into_inner);
        slot.clone().ok_or_else(|| {
            StoreError::Io("the data file is being opened again after a failed write; retry shortly".into())
        })
    }

    /// Runs a read in an MVCC snapshot. Call from a blocking thread, never an async worker.
    pub fn read<T>(&self, f: impl FnOnce(&ReadTransaction) -> Result<T>) -> Result<T> {
        let db = self.database()?;
        let txn = db.begin_read()?;
        f(&txn)
    }

    /// Opens the database again after a failed write, when writing works again. Called by
    /// the writer thread only, so no write transaction is open. The handle is taken out
    /// first, so reads answer at once (503) rather than wait; reads still using it are
    /// waited for (up to `wait`). `Ok(false)`: not now (no space yet, or reads still
    /// running); the old handle is put back and keeps serving reads. An error: the old handle
    /// is gone and opening failed; reads fail until a later call succeeds.
    pub fn reopen(&self, wait: Duration) -> Result<bool> {
        let Some(reopener) = &self.reopener else { return Ok(false) };
        if reopener.writable().is_err() {
            return Ok(false);
        }
        let taken = self.db.write().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(old) = taken {
            let deadline = Instant::now() + wait;
            while Arc::strong_count(&old) > 1 {
                if Instant::now() >= deadline {
                    *self.db.write().unwrap_or_else(PoisonError::into_inner) = Some(old);
                    return Ok(false);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            // Closes the file (a database whose write failed leaves its journal for the
            // next open to apply) and releases its lock, which the open below takes.
            drop(old);
        }
        let db = Arc::new(reopener.open()?);
        *self.db.write().unwrap_or_else(PoisonError::into_inner) = Some(db);
        Ok(true)
    }
}
