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
pub mod queries;
pub mod schema;
pub mod tables;
pub mod writer;

use redb::{Database, ReadTransaction, ReadableDatabase};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// write redb refuses every later one until the database is opened again, so this lasts
    /// until the server is restarted with the cause fixed; what was committed is safe.
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
                "an earlier write to the data file failed, so redb refuses writes until the server is restarted (with the cause, e.g. a full disk, fixed)".into(),
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
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    path: Option<PathBuf>,
}

/// Opens (creating if needed) a data file for writing, through its journal where the
/// platform has one (see [`journal`]); a journal left by a crash is applied first.
pub fn open_database(path: &Path) -> Result<Database> {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
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
        Ok(Store { db: Arc::new(db), path: Some(path.to_path_buf()) })
    }

    /// A database held in memory, for tests and examples that need no file.
    pub fn in_memory() -> Result<Store> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        schema::migrate(&db)?;
        Ok(Store { db: Arc::new(db), path: None })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Runs a read in an MVCC snapshot. Call from a blocking thread, never an async worker.
    pub fn read<T>(&self, f: impl FnOnce(&ReadTransaction) -> Result<T>) -> Result<T> {
        let txn = self.db.begin_read()?;
        f(&txn)
    }
}
