//! Consistent copies of the database.
//!
//! A copy is made from one MVCC read snapshot, so it is consistent even while the server
//! keeps writing, and it never blocks the writer. The copy is written to a temporary file
//! beside the target, checked with redb's integrity check, then renamed into place, so a
//! failed backup never leaves a half-written file under the target name.

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use std::path::Path;

use super::tables::*;
use super::{Result, StoreError};

fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64> {
    let source = match src.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut target = dst.open_table(def)?;
    let mut n = 0;
    for entry in source.iter()? {
        let (k, v) = entry?;
        target.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

/// Copies every table of the snapshot into `dst`; returns the number of entries copied.
fn copy_all(src: &ReadTransaction, dst: &WriteTransaction) -> Result<u64> {
    let mut n = 0;
    macro_rules! copy {
        ($t:ident) => {
            n += copy_table(src, dst, $t)?;
        };
    }
    crate::for_each_table!(copy);
    Ok(n)
}

/// What a backup writes before it is checked and renamed into place: `.crm-backup-`, six
/// random characters (tempfile's), `.redb`.
const TEMP_PREFIX: &str = ".crm-backup-";
const TEMP_SUFFIX: &str = ".redb";
/// A temporary copy not written to for this long belongs to no running backup: every backup
/// writes its copy continuously until it renames it.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the temporary copies that killed backups left in `dir` (a cron job's backup
/// stopped by a timeout leaves one per run, each as large as the data file, hidden by its
/// leading dot). Returns how many were removed.
pub fn remove_abandoned_copies(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
            .is_some_and(|random| random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric()));
        let abandoned = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age >= ABANDONED_AFTER);
        if ours && abandoned && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A temporary file for a copy that will be renamed to a file in `dir`.
pub fn temp_copy(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX).tempfile_in(dir)
}

/// Writes a consistent copy of `db` to `out`. Returns the number of entries copied.
pub fn snapshot(db: &impl ReadableDatabase, out: &Path) -> Result<u64> {
    let src = db.begin_read()?;
    write_copy(&src, out)
}

fn write_copy(src: &ReadTransaction, out: &Path) -> Result<u64> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = temp_copy(dir)?;
    let tmp_path = tmp.into_temp_path();
    let copied = {
        // redb's default cache is 1 GiB, and a copy of a large file filled it (RSS 1.8 GB
        // for a 4 GB file): the copy is written once and never read back, so it gets the
        // server's small cache.
        let mut dst = Database::builder().set_cache_size(super::CACHE_BYTES).create(&tmp_path)?;
        let mut txn = dst.begin_write()?;
        txn.set_durability(redb::Durability::Immediate)?;
        let n = copy_all(src, &txn)?;
        txn.commit()?;
        if !dst.check_integrity()? {
            return Err(StoreError::Storage("the backup copy failed its integrity check".into()));
        }
        n
    };
    tmp_path.persist(out).map_err(|e| {
        StoreError::Storage(format!("cannot move the backup into place at {}: {}", out.display(), e.error))
    })?;
    Ok(copied)
}

/// Backs up a data file that no server has open. The file is opened read-only, so a user
/// who may read it but not write it can back it up; only a file that was not closed
/// cleanly is opened for writing, since redb must repair it first.
pub fn backup_file(data: &Path, out: &Path) -> Result<u64> {
    if !data.exists() {
        return Err(StoreError::Storage(format!("no data file at {}", data.display())));
    }
    super::recover_journal(data)?;
    match Database::builder().set_cache_size(super::CACHE_BYTES).open_read_only(data) {
        Ok(db) => return snapshot(&db, out),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(StoreError::InUse { path: data.to_path_buf() }),
        Err(redb::DatabaseError::RepairAborted) => {}
        Err(e) => return Err(StoreError::Storage(format!("cannot open {} for reading: {e}", data.display()))),
    }
    let db = match Database::builder().set_cache_size(super::CACHE_BYTES).open(data) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(StoreError::InUse { path: data.to_path_buf() }),
        Err(e) => {
            return Err(StoreError::Storage(format!(
                "{} was not closed cleanly and must be repaired, which needs write access: {e}",
                data.display()
            )));
        }
    };
    snapshot(&db, out)
}

/// Opens a file and runs redb's integrity check on it.
pub fn verify(path: &Path) -> Result<bool> {
    super::recover_journal(path)?;
    let mut db = Database::builder().set_cache_size(super::CACHE_BYTES).open(path)?;
    Ok(db.check_integrity()?)
}

/// Bytes an unprivileged process may still write on the file system holding `dir`, if the
/// system says.
pub fn free_space(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a NUL-terminated string and `stat` a writable statvfs.
        let ok = unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0;
        #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
        ok.then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}
