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

pub mod accounts;
pub mod admin;
pub mod backup;
pub mod codec;
pub mod event_pages;
pub mod ingest;
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
        matches!(self, StoreError::Storage(_) | StoreError::Encode(_) | StoreError::Decode(_))
    }
}

macro_rules! storage_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Storage(e.to_string())
            }
        }
    )*};
}
storage_error_from!(
    redb::Error,
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

impl Store {
    /// Opens (creating if needed) and migrates a data file.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let db = match Database::builder().set_cache_size(CACHE_BYTES).create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse { path: path.to_path_buf() });
            }
            Err(e) => return Err(StoreError::Storage(format!("cannot open {}: {e}", path.display()))),
        };
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
