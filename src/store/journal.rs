//! A page journal under redb, so that a durable commit costs one sequential write and one
//! flush instead of a flush of pages scattered over the data file.
//!
//! redb commits by writing every page the transaction changed (B-tree leaves and branches of
//! each table it touched, its system tables, the header) where they live in the file, then
//! calling `sync_data`. A single-event commit of the ingest load writes about 30 such pages.
//! Flushing scattered pages costs far more than flushing the same amount side by side: on
//! the 2-core development VM, 36 random 4 KiB pages of a 256 MiB file took about 1.1 ms and
//! 0.85 ms of CPU per flush, 36 adjacent ones 0.15 ms and 0.19 ms; and on a VPS disk with an
//! I/O-operations quota each scattered page can count as one operation.
//!
//! [`JournaledFile`] is the storage backend redb writes through. Each write still goes to the
//! data file at once (into the OS page cache, so reads see it), and is also copied into the
//! pending record. `sync_data` appends that record to `<data file>-journal` in one write and
//! flushes the journal only. The data file is flushed at a *checkpoint*: when the next record
//! would not fit in the journal ([`JOURNAL_BYTES`]), when one commit changed more than
//! [`MAX_RECORD`] (its pages would fill the journal, and are many enough to flush where they
//! are), and on a clean close. A page that many commits rewrite (a B-tree root, the newest
//! leaf of an index) is then flushed to the data file once per checkpoint instead of once per
//! commit.
//!
//! Crash safety. What a `sync_data` returned for is durable either in the data file (flushed by
//! a checkpoint) or in a journal record (flushed before `sync_data` returned). The next open,
//! before redb sees the file (or [`recover`], for commands that only read it), applies the
//! journal's records, in order, to the data file and flushes it: each page gets the content
//! of the last commit that wrote it. A checkpoint flushes the data file first and starts the
//! journal over, durably, before the commit that caused it returns; replaying the old records
//! over a data file holding newer acknowledged pages could otherwise undo them.
//! Writes after the last `sync_data` may or may not have reached the
//! data file: to redb that is the ordinary state after a crash, which its commit protocol
//! handles (it only ever overwrites pages no committed state refers to, and checksums its
//! commit slots). A record is applied whole or not at all: each carries a CRC-32 of its
//! contents, the journal's epoch and its sequence number, so a torn last record and records
//! left over from before the last checkpoint (the journal is reused from its start after each
//! checkpoint) are recognised and ignored.
//!
//! A clean close flushes the data file and deletes the journal, so a stopped server leaves one
//! self-contained file. A journal found on open means the last process did not close cleanly.
//! The journal file is also the lock that keeps two processes from opening the same data file
//! for writing at once.

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::ops::Bound;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How large the journal grows before a checkpoint starts it over: some hundred small
/// commits, so a page they all rewrite is flushed once instead of hundreds of times, while
/// the checkpoint's own flush stays short and the file small.
pub const JOURNAL_BYTES: u64 = 32 * 1024 * 1024;

/// A commit that changed more than this goes straight to the data file (a checkpoint)
/// instead of into the journal: its pages are many, so flushing them where they are costs
/// little more than writing them twice would, and they would fill the journal fast.
const MAX_RECORD: u64 = 256 * 1024;

const FILE_MAGIC: &[u8; 8] = b"crmjrnl1";
/// Magic, epoch, the data file's device and inode, CRC-32 of them all.
const FILE_HEADER: u64 = 8 + 8 + 8 + 8 + 4;
/// Records start on their own page, away from the file header.
const FIRST_RECORD: u64 = 4096;
const RECORD_MAGIC: u32 = 0x4a52_4543;
/// Magic, epoch, sequence number, payload length; a CRC-32 of header and payload follows the
/// payload.
const RECORD_HEADER: usize = 4 + 8 + 8 + 8;
/// Set, a journal is applied even to a data file that is not the one it was written for
/// (the same file, copied or moved with its journal after a crash).
const APPLY_MOVED: &str = "CRM_TRACKER_APPLY_MOVED_JOURNAL";
const OP_WRITE: u8 = b'W';
const OP_SET_LEN: u8 = b'L';

/// The journal that belongs to a data file.
/// Named after the data file's real path, so two paths to one file (a symlink, a linked
/// directory) find the same journal, and its lock.
pub fn journal_path(data: &Path) -> PathBuf {
    let real = std::fs::canonicalize(data)
        .ok()
        .or_else(|| Some(std::fs::canonicalize(dir_of(data)).ok()?.join(data.file_name()?)));
    let mut name = real.unwrap_or_else(|| data.to_path_buf()).into_os_string();
    name.push("-journal");
    PathBuf::from(name)
}

/// Why a journaled open failed.
#[derive(Debug)]
pub enum OpenError {
    /// Another process has this data file open for writing.
    InUse,
    Io(io::Error),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// The data file as redb sees it: the file itself plus its journal.
pub struct JournaledFile {
    data: FileBackend,
    /// A second handle on the data file, to write journal records back on recovery and
    /// to flush it at checkpoints.
    data_file: File,
    journal_path: PathBuf,
    state: Mutex<Journal>,
    capacity: u64,
}

impl std::fmt::Debug for JournaledFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournaledFile").field("journal", &self.journal_path).finish()
    }
}

struct Journal {
    file: File,
    epoch: u64,
    seq: u64,
    /// Where the next record goes.
    end: u64,
    /// The next record: room for its header, then the writes since the last `sync_data`.
    pending: Vec<u8>,
    /// The writes since the last `sync_data` outgrew [`MAX_RECORD`]: they are not kept, and
    /// the next `sync_data` is a checkpoint.
    overflow: bool,
    /// Set once closed (the journal is deleted), so nothing more is written.
    closed: bool,
    /// An operation failed: the data file may lack pages the journal holds (a failed
    /// flush is reported once, then the pages count as clean), so the journal is kept.
    failed: bool,
    /// The data file's device and inode, written in the header: a journal is only ever
    /// applied to the file it was written for.
    identity: [u8; 16],
}

impl JournaledFile {
    /// Opens (creating if needed) `data` and its journal: locks the journal, applies what a
    /// crash left in it, and starts it afresh.
    pub fn open(data: &Path) -> Result<JournaledFile, OpenError> {
        JournaledFile::open_with_capacity(data, JOURNAL_BYTES)
    }

    pub fn open_with_capacity(data: &Path, capacity: u64) -> Result<JournaledFile, OpenError> {
        let journal_path = journal_path(data);
        let journal = lock_journal(&journal_path).map_err(|e| match e {
            OpenError::Io(e) => OpenError::Io(journal_error(&journal_path, e)),
            in_use => in_use,
        })?;
        let existed = data.exists();
        // A new data file holds personal data: readable by its owner only.
        let data_file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(data)?;
        if !existed && has_records(&journal)? {
            // Commits without the file they belong to: replaying them into a new file would
            // make a broken one. Nothing is written; the user decides.
            drop(data_file);
            let _ = std::fs::remove_file(data);
            return Err(OpenError::Io(io::Error::new(
                ErrorKind::NotFound,
                format!(
                    "{} holds commits of a data file that is not there any more; put the data file back, or delete the journal to start afresh",
                    journal_path.display()
                ),
            )));
        }
        if !existed {
            // Its journal can only stand in for its pages while the file itself is there.
            sync_parent(data)?;
        }
        let identity = identity(&data_file)?;
        let epoch = replay(&journal, &data_file, &identity, &journal_path)?;
        let pending = vec![0u8; RECORD_HEADER];
        let mut journal = Journal {
            file: journal,
            epoch,
            seq: 0,
            end: 0,
            pending,
            overflow: false,
            closed: false,
            failed: false,
            identity,
        };
        journal.restart()?;
        let backend = FileBackend::new(data_file.try_clone()?).map_err(|e| OpenError::Io(io::Error::other(e)))?;
        Ok(JournaledFile { data: backend, data_file, journal_path, state: Mutex::new(journal), capacity })
    }

    fn journal(&self) -> io::Result<std::sync::MutexGuard<'_, Journal>> {
        self.state.lock().map_err(|_| io::Error::other("the journal lock was poisoned"))
    }
}

/// Applies a journal left by a process that did not close `data` cleanly, then deletes it,
/// so the data file can be opened on its own (read-only, by redb directly). Returns whether
/// there was one. Needs write access to both files.
pub fn recover(data: &Path) -> Result<bool, OpenError> {
    let journal_path = journal_path(data);
    if !journal_path.exists() {
        return Ok(false);
    }
    let journal = lock_journal(&journal_path)?;
    let data_file = OpenOptions::new().read(true).write(true).open(data)?;
    replay(&journal, &data_file, &identity(&data_file)?, &journal_path)?;
    std::fs::remove_file(&journal_path)?;
    drop(journal);
    Ok(true)
}

/// Opens and exclusively locks the journal, creating it if needed. Retries if the file it
/// locked was deleted meanwhile by a process closing cleanly, so two processes never end
/// up holding locks on two different journals of one data file.
/// Names the journal in an error opening it. A data file that may be written can still sit
/// in a directory that may not: the journal is made beside it, which users do not expect.
fn journal_error(journal: &Path, e: io::Error) -> io::Error {
    let kind = e.kind();
    if matches!(kind, ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) {
        let dir = journal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        return io::Error::new(
            kind,
            format!(
                "cannot create or write the journal {} ({e}): the journal is kept beside the data file, so the \
                 directory {} must be writable by this user, not only the data file",
                journal.display(),
                dir.display()
            ),
        );
    }
    io::Error::new(kind, format!("{}: {e}", journal.display()))
}

fn lock_journal(path: &Path) -> Result<File, OpenError> {
    loop {
        let created = !path.exists();
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::InUse),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        if same_file(&file, path)? {
            if created {
                // The journal's name must survive a crash as surely as its records do.
                sync_parent(path)?;
            }
            return Ok(file);
        }
    }
}

fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    match std::fs::metadata(path) {
        Ok(named) => Ok(identity(file)? == identity_of(&named)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// A file's device and inode.
fn identity(file: &File) -> io::Result<[u8; 16]> {
    Ok(identity_of(&file.metadata()?))
}

fn identity_of(meta: &std::fs::Metadata) -> [u8; 16] {
    use std::os::unix::fs::MetadataExt;
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&meta.dev().to_le_bytes());
    id[8..].copy_from_slice(&meta.ino().to_le_bytes());
    id
}

/// The directory a path names its file in.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_parent(path: &Path) -> io::Result<()> {
    File::open(dir_of(path))?.sync_all()
}

/// The intact records of a journal's current epoch, in order: it ends at the first record
/// that is torn, of another epoch or out of sequence.
struct Records<'f> {
    journal: &'f File,
    len: u64,
    /// None when the journal has no valid header (new, or never completely written).
    epoch: Option<u64>,
    /// The data file the journal was written for.
    identity: [u8; 16],
    at: u64,
    seq: u64,
}

fn records(journal: &File) -> io::Result<Records<'_>> {
    let len = journal.metadata()?.len();
    let mut header = [0u8; FILE_HEADER as usize];
    let mut identity = [0u8; 16];
    let body = FILE_HEADER as usize - 4;
    let epoch = if len >= FILE_HEADER {
        journal.read_exact_at(&mut header, 0)?;
        let valid = &header[..8] == FILE_MAGIC && crc(&[&header[..body]]) == u32_at(&header, body);
        identity.copy_from_slice(&header[16..32]);
        valid.then(|| u64_at(&header, 8))
    } else {
        None
    };
    Ok(Records { journal, len, epoch, identity, at: FIRST_RECORD, seq: 0 })
}

impl Iterator for Records<'_> {
    /// A record's payload.
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        let epoch = self.epoch?;
        let room = self.len.checked_sub(self.at)?.checked_sub(RECORD_HEADER as u64 + 4)?;
        let mut head = [0u8; RECORD_HEADER];
        if let Err(e) = self.journal.read_exact_at(&mut head, self.at) {
            return Some(Err(e));
        }
        let payload_len = u64_at(&head, 20);
        if u32_at(&head, 0) != RECORD_MAGIC || u64_at(&head, 4) != epoch || u64_at(&head, 12) != self.seq {
            return None;
        }
        if payload_len > room {
            return None;
        }
        let mut payload = vec![0u8; payload_len as usize + 4];
        if let Err(e) = self.journal.read_exact_at(&mut payload, self.at + RECORD_HEADER as u64) {
            return Some(Err(e));
        }
        let sum = u32_at(&payload, payload_len as usize);
        payload.truncate(payload_len as usize);
        if crc(&[&head, &payload]) != sum {
            return None;
        }
        self.at += RECORD_HEADER as u64 + payload_len + 4;
        self.seq += 1;
        Some(Ok(payload))
    }
}

/// Applies every intact record of the journal's current epoch to the data file, in order,
/// and flushes the data file. Returns the epoch the journal had (0 for a new one).
fn replay(journal: &File, data: &File, identity: &[u8; 16], journal_path: &Path) -> io::Result<u64> {
    let mut records = records(journal)?;
    let Some(epoch) = records.epoch else {
        // A header never completely written: no record can have been relied on. Whatever
        // follows it goes, so no old record can ever line up behind a new one.
        journal.set_len(0)?;
        return Ok(0);
    };
    let mut applied = 0usize;
    while let Some(payload) = records.next() {
        if applied == 0 && &records.identity != identity && std::env::var_os(APPLY_MOVED).is_none() {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "{} was written for another file at this path. If a backup was restored over a crashed \
                     server's data file, the journal belongs to the old file: delete it. If the data file was \
                     copied or moved here together with its journal, apply it once with {APPLY_MOVED}=1",
                    journal_path.display()
                ),
            ));
        }
        apply(&payload?, data)?;
        applied += 1;
    }
    if applied > 0 {
        data.sync_data()?;
        tracing::warn!(
            records = applied,
            "the data file was not closed cleanly; its last commits were restored from the journal"
        );
    }
    Ok(epoch)
}

/// Whether the journal's current epoch has at least one intact record.
fn has_records(journal: &File) -> io::Result<bool> {
    Ok(records(journal)?.next().transpose()?.is_some())
}

fn apply(mut payload: &[u8], data: &File) -> io::Result<()> {
    let corrupt = || io::Error::new(ErrorKind::InvalidData, "a journal record with a valid checksum does not parse");
    while let Some((&op, rest)) = payload.split_first() {
        match op {
            OP_WRITE if rest.len() >= 12 => {
                let offset = u64_at(rest, 0);
                let n = u32_at(rest, 8) as usize;
                let bytes = rest.get(12..12 + n).ok_or_else(corrupt)?;
                data.write_all_at(bytes, offset)?;
                payload = &rest[12 + n..];
            }
            OP_SET_LEN if rest.len() >= 8 => {
                data.set_len(u64_at(rest, 0))?;
                payload = &rest[8..];
            }
            _ => return Err(corrupt()),
        }
    }
    Ok(())
}

impl Journal {
    /// Starts a new epoch at the journal's beginning: the records before it no longer count.
    /// Only called when the data file holds everything they did.
    fn restart(&mut self) -> io::Result<()> {
        // Random, so no record of an earlier epoch (this run's or another's) can pass for one
        // of this epoch.
        let previous = self.epoch;
        while self.epoch == previous {
            self.epoch = rand::random();
        }
        self.seq = 0;
        self.end = FIRST_RECORD;
        let mut header = [0u8; FILE_HEADER as usize];
        let body = FILE_HEADER as usize - 4;
        header[..8].copy_from_slice(FILE_MAGIC);
        header[8..16].copy_from_slice(&self.epoch.to_le_bytes());
        header[16..32].copy_from_slice(&self.identity);
        let sum = crc(&[&header[..body]]);
        header[body..].copy_from_slice(&sum.to_le_bytes());
        self.file.write_all_at(&header, 0)?;
        self.file.sync_data()
    }

    fn has_pending(&self) -> bool {
        self.overflow || self.pending.len() > RECORD_HEADER
    }

    fn clear_pending(&mut self) {
        self.pending.truncate(RECORD_HEADER);
        self.overflow = false;
    }

    /// Adds one operation to the pending record, unless the record is already too large to
    /// be one (then only the checkpoint to come is remembered, and no memory is held).
    fn push(&mut self, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if self.overflow || (self.pending.len() + len + 4) as u64 > MAX_RECORD {
            self.overflow = true;
            self.pending.truncate(RECORD_HEADER);
            self.pending.shrink_to(MAX_RECORD as usize);
            return;
        }
        for p in parts {
            self.pending.extend_from_slice(p);
        }
    }

    /// Appends the pending writes as one record, in one write, and flushes it.
    fn append(&mut self) -> io::Result<()> {
        let payload_len = self.pending.len() - RECORD_HEADER;
        let mut head = [0u8; RECORD_HEADER];
        head[..4].copy_from_slice(&RECORD_MAGIC.to_le_bytes());
        head[4..12].copy_from_slice(&self.epoch.to_le_bytes());
        head[12..20].copy_from_slice(&self.seq.to_le_bytes());
        head[20..28].copy_from_slice(&(payload_len as u64).to_le_bytes());
        self.pending[..RECORD_HEADER].copy_from_slice(&head);
        let sum = crc(&[&self.pending]);
        self.pending.extend_from_slice(&sum.to_le_bytes());
        let written = self.file.write_all_at(&self.pending, self.end).and_then(|()| self.file.sync_data());
        let record = self.pending.len() as u64;
        self.clear_pending();
        written?;
        self.end += record;
        self.seq += 1;
        Ok(())
    }
}

/// Makes the pending writes durable: one journal record, or a checkpoint.
fn sync(journal: &mut Journal, data: &File, capacity: u64) -> io::Result<()> {
    let record = (journal.pending.len() + 4) as u64;
    if !journal.overflow && journal.end + record <= capacity {
        return journal.append();
    }
    // Checkpoint: every write so far is already in the data file, so flushing it makes them
    // all durable, this pending record included; the journal then starts over (and must have,
    // durably, before this returns: its old records would now undo newer pages). A journal
    // with no records since it last started over has none to undo, so back-to-back large
    // commits cost one flush each.
    data.sync_data()?;
    journal.clear_pending();
    if journal.end > FIRST_RECORD { journal.restart() } else { Ok(()) }
}

impl StorageBackend for JournaledFile {
    fn len(&self) -> io::Result<u64> {
        self.data.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.data.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut journal = self.journal()?;
        let shrinking = len < self.data.len()?;
        if let Err(e) = self.data.set_len(len) {
            journal.failed = true;
            return Err(e);
        }
        journal.push(&[&[OP_SET_LEN], &len.to_le_bytes()]);
        if shrinking && !journal.closed {
            // redb shrinks the file after a commit's flush: journaled only with the next
            // commit, a crash in between would have the replay grow the file back with the
            // pages earlier records wrote past its new end. Shrinks are rare; one more flush.
            let synced = sync(&mut journal, &self.data_file, self.capacity);
            if synced.is_err() {
                journal.failed = true;
            }
            return synced;
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| io::Error::other("a write of 4 GiB or more"))?;
        let mut journal = self.journal()?;
        if let Err(e) = self.data.write(offset, data) {
            journal.failed = true;
            return Err(e);
        }
        journal.push(&[&[OP_WRITE], &offset.to_le_bytes(), &len.to_le_bytes(), data]);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut journal = self.journal()?;
        if !journal.has_pending() || journal.closed {
            return Ok(());
        }
        let synced = sync(&mut journal, &self.data_file, self.capacity);
        if synced.is_err() {
            journal.failed = true;
        }
        synced
    }

    fn close(&self) -> io::Result<()> {
        let closed = {
            let mut journal = self.journal()?;
            // Whatever redb wrote without syncing after its last commit is not a commit, so
            // the data file needs no more than a flush to stand on its own. Unless something
            // failed before: a failed flush is reported once and its pages then count as
            // clean, so a second flush proves nothing, and the journal stays for the next
            // open to apply.
            let flushed = self.data_file.sync_data();
            journal.clear_pending();
            journal.closed = true;
            match flushed {
                Ok(()) if !journal.failed => std::fs::remove_file(&self.journal_path),
                Ok(()) => {
                    // Nothing is lost, but the file is not self-contained yet: whoever copies
                    // it now (a backup of a stopped server) must take the journal too.
                    tracing::warn!(
                        journal = %self.journal_path.display(),
                        "a write failed earlier (a full disk?), so the journal stays beside the data file; the next start applies it"
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        let released = self.data.close();
        closed.and(released)
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.query_lock_range(start, end)
    }
}

fn crc(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase, TableDefinition};

    #[test]
    fn a_journal_that_cannot_be_made_names_its_directory() {
        let journal = Path::new("/srv/data/x.redb-journal");
        let denied = journal_error(journal, io::Error::from(ErrorKind::PermissionDenied)).to_string();
        assert!(
            denied.contains("/srv/data/x.redb-journal") && denied.contains("directory /srv/data must be writable"),
            "{denied}"
        );
        // Other failures only get the journal's name.
        let other = journal_error(journal, io::Error::other("disk on fire")).to_string();
        assert_eq!(other, "/srv/data/x.redb-journal: disk on fire");
    }

    const T: TableDefinition<u64, &[u8]> = TableDefinition::new("t");

    fn open(path: &Path) -> Database {
        Database::builder().create_with_backend(JournaledFile::open_with_capacity(path, 1 << 30).unwrap()).unwrap()
    }

    fn put(db: &Database, key: u64, value: &[u8]) {
        let txn = db.begin_write().unwrap();
        txn.open_table(T).unwrap().insert(key, value).unwrap();
        txn.commit().unwrap();
    }

    fn get(db: &Database, key: u64) -> Option<Vec<u8>> {
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(T).unwrap();
        table.get(key).unwrap().map(|v| v.value().to_vec())
    }

    /// What a power loss could leave: the data file as flushed at the last checkpoint, and
    /// the journal as its last flush left it. Taken while `db` is open, put in place after
    /// it is gone.
    struct Crash {
        data: Vec<u8>,
        journal: Vec<u8>,
    }

    impl Crash {
        /// Opens `path`, commits `value` under key 1 so that only the journal holds it, and
        /// leaves the files as a power loss right after would.
        fn after_one_commit(path: &Path, value: &[u8]) {
            let db = open(path);
            let start = std::fs::read(path).unwrap();
            put(&db, 1, value);
            let crash = Crash { data: start, journal: std::fs::read(journal_path(path)).unwrap() };
            drop(db);
            crash.leave(path);
        }

        fn leave(self, path: &Path) {
            std::fs::write(path, self.data).unwrap();
            std::fs::write(journal_path(path), self.journal).unwrap();
        }
    }

    #[test]
    fn commits_only_the_journal_kept_survive_a_power_loss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let db = open(&path);
        put(&db, 1, b"before");
        // A commit too large for the journal is a checkpoint: the data file is flushed.
        put(&db, 2, &vec![7u8; 2 * MAX_RECORD as usize]);
        let checkpointed = std::fs::read(&path).unwrap();
        for k in 10..60 {
            put(&db, k, format!("value {k}").as_bytes());
        }
        let crash = Crash { data: checkpointed, journal: std::fs::read(journal_path(&path)).unwrap() };
        drop(db);
        crash.leave(&path);

        let mut db = open(&path);
        assert_eq!(get(&db, 1).as_deref(), Some(&b"before"[..]));
        assert_eq!(get(&db, 2).map(|v| v.len()), Some(2 * MAX_RECORD as usize));
        for k in 10..60 {
            assert_eq!(get(&db, k), Some(format!("value {k}").into_bytes()), "commit {k} was lost");
        }
        assert!(db.check_integrity().unwrap());
    }

    #[test]
    fn a_torn_last_record_loses_only_the_commit_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let db = open(&path);
        let start = std::fs::read(&path).unwrap();
        for k in 0..20 {
            put(&db, k, b"v");
        }
        let mut journal = std::fs::read(journal_path(&path)).unwrap();
        journal.truncate(journal.len() - 3);
        drop(db);
        Crash { data: start, journal }.leave(&path);

        let mut db = open(&path);
        assert_eq!(get(&db, 18).as_deref(), Some(&b"v"[..]));
        assert_eq!(get(&db, 19), None, "the torn commit is not half applied");
        assert!(db.check_integrity().unwrap());
    }

    /// The backend alone, without redb on top, with a 1 MiB journal: for tests that write
    /// pages and flush by hand.
    fn raw_backend(dir: &Path) -> (PathBuf, JournaledFile) {
        let path = dir.join("raw");
        let backend = JournaledFile::open_with_capacity(&path, 1 << 20).unwrap();
        (path, backend)
    }

    #[test]
    fn records_from_before_a_checkpoint_are_never_applied() {
        let dir = tempfile::tempdir().unwrap();
        let (path, b) = raw_backend(dir.path());
        b.write(0, &[1; 4096]).unwrap();
        b.sync_data().unwrap();
        b.write(8192, &[2; 4096]).unwrap();
        b.sync_data().unwrap();
        b.write(0, &vec![3; 2 * MAX_RECORD as usize]).unwrap();
        b.sync_data().unwrap(); // a checkpoint: a new epoch starts at the journal's beginning
        // The same size as the first record of the old epoch, so the old second record,
        // checksum intact, follows it.
        b.write(0, &[5; 4096]).unwrap();
        b.sync_data().unwrap();
        drop(b); // a crash: no close
        std::fs::write(&path, vec![0u8; 16384]).unwrap();

        assert!(recover(&path).unwrap());
        let data = std::fs::read(&path).unwrap();
        assert!(data[..4096].iter().all(|&b| b == 5), "the new epoch's record is applied");
        assert!(data[8192..12288].iter().all(|&b| b == 0), "the old epoch's record is not");
        assert!(!journal_path(&path).exists());
    }

    #[test]
    fn one_process_at_a_time_and_a_clean_close_leaves_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let db = open(&path);
        put(&db, 1, b"kept");
        assert!(matches!(JournaledFile::open(&path), Err(OpenError::InUse)));
        assert!(matches!(recover(&path), Err(OpenError::InUse)));
        drop(db);
        assert!(!journal_path(&path).exists(), "a clean close deletes the journal");
        let ro = Database::builder().open_read_only(&path).unwrap();
        let txn = ro.begin_read().unwrap();
        assert_eq!(txn.open_table(T).unwrap().get(1).unwrap().unwrap().value(), b"kept");
    }

    #[test]
    fn a_crashed_file_is_recovered_for_opening_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        Crash::after_one_commit(&path, b"journaled");

        assert!(recover(&path).unwrap());
        assert!(!journal_path(&path).exists());
        // Without the journal (redb still repairs its allocator state after a crash).
        let mut db = Database::builder().open(&path).unwrap();
        assert_eq!(get(&db, 1).as_deref(), Some(&b"journaled"[..]));
        assert!(db.check_integrity().unwrap());
        drop(db);
        assert!(!recover(&path).unwrap(), "nothing left to recover");
    }

    #[test]
    fn a_journal_without_its_data_file_is_not_replayed_into_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let db = open(&path);
        put(&db, 1, b"v");
        let journal = std::fs::read(journal_path(&path)).unwrap();
        drop(db);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(journal_path(&path), journal).unwrap();

        let Err(OpenError::Io(e)) = JournaledFile::open(&path) else { panic!("opened") };
        assert!(e.to_string().contains("not there any more"), "{e}");
        assert!(!path.exists(), "no new, broken data file is left behind");
    }

    #[test]
    fn a_journal_is_not_applied_to_a_file_restored_over_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        Crash::after_one_commit(&path, b"crashed");
        // A restore by moving another file into place: a new inode at the same path.
        let restored = dir.path().join("restored.redb");
        std::fs::copy(&path, &restored).unwrap();
        std::fs::rename(&restored, &path).unwrap();

        let Err(OpenError::Io(e)) = JournaledFile::open(&path) else { panic!("applied") };
        assert!(e.to_string().contains("written for another file"), "{e}");
        assert!(journal_path(&path).exists(), "the journal is left for the user to decide");
    }

    #[test]
    fn a_shrink_is_durable_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let (path, b) = raw_backend(dir.path());
        b.write(0, &[1; 8192]).unwrap();
        b.sync_data().unwrap();
        b.set_len(4096).unwrap();
        drop(b); // a crash right after the shrink, before any further commit
        std::fs::write(&path, b"").unwrap(); // the data file as its last checkpoint left it

        assert!(recover(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096, "replay ends at the shrunk length");
    }
}
