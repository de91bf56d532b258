//! Opening the data file for a one-off command.
//!
//! Every failure says what failed and what to do: a server holds the file, the file is
//! missing (read-only commands never create one), or this user may not open it.

use anyhow::{anyhow, bail};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::app::{App, AppError};
use crate::config::ServeConfig;
use crate::store::StoreError;

/// Why a file could not be opened, said once. `purpose` is "reading" or "writing".
pub fn open_error(path: &Path, purpose: &str, e: &std::io::Error) -> anyhow::Error {
    match e.kind() {
        ErrorKind::PermissionDenied => anyhow!(
            "cannot open {} for {purpose}: permission denied; run as the user that owns the data file",
            path.display()
        ),
        _ => anyhow!("cannot open {} for {purpose}: {e}", path.display()),
    }
}

/// Checks that `data` is an existing file this user can read, for commands that only read
/// it and so must not create an empty one at a mistyped path.
pub fn require_readable(data: &Path) -> anyhow::Result<()> {
    match std::fs::File::open(data) {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_dir()) => {
            bail!(
                "{} is a directory; --data names the data file, e.g. {}",
                data.display(),
                data.join("crm-tracker.redb").display()
            )
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("no data file at {}; name it with --data or CRM_TRACKER_DATA", data.display())
        }
        Err(e) => Err(open_error(data, "reading", &e)),
    }
}

/// Checks that an existing `data` may be written by this user (a missing one is created).
fn require_writable(data: &Path) -> anyhow::Result<()> {
    match std::fs::OpenOptions::new().read(true).write(true).open(data) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(open_error(data, "writing", &e)),
    }
}

/// Opens the data file for a command that writes to it. `when_in_use` tells the user what
/// to do instead while a server holds the file: it differs per command, since only some
/// have an API equivalent.
pub fn open_app(data: &Path, when_in_use: &str) -> anyhow::Result<App> {
    require_writable(data)?;
    let created = !data.exists();
    match App::open(ServeConfig::for_tests(data.to_path_buf())) {
        Ok(app) => {
            if created {
                eprintln!("note: created a new data file at {}", data.display());
            }
            Ok(app)
        }
        Err(AppError::Store(StoreError::InUse { path })) => {
            bail!("{} is in use by a running server. {when_in_use}", path.display())
        }
        Err(e) => Err(e.into()),
    }
}

/// The path `path` names once symbolic links and `..` are resolved, also when the file does
/// not exist yet (its directory is resolved then).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(path.file_name()?))
}

/// True when `a` and `b` name the same file: the same path after resolving links, or (on
/// Unix) two hard links to one inode.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if resolved(a).is_some_and(|ra| resolved(b).is_some_and(|rb| ra == rb)) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    false
}

/// Refuses an `--out` that would destroy something: a directory, the data file itself (by
/// any path), or an existing file without `--force`. `what` names what is written, and
/// `example` a file name for it.
pub fn check_out(out: &Path, data: &Path, force: bool, what: &str, example: &str) -> anyhow::Result<()> {
    let text = out.as_os_str().to_string_lossy();
    if text.ends_with('/') || out.is_dir() {
        bail!(
            "--out {} is a directory; name the {what} file, e.g. --out {}",
            out.display(),
            out.join(example).display()
        );
    }
    if same_file(out, data) {
        bail!("--out {} is the data file itself; write the {what} to another path", out.display());
    }
    // `<data file>-journal` is the journal of the file beside it: the next open of that file
    // applies it (or refuses it) and then deletes it.
    if text.ends_with("-journal") {
        bail!(
            "--out {} ends in -journal, the name of a data file's journal, which opening the data file beside it \
             deletes; choose another name, e.g. --out {}",
            out.display(),
            out.with_file_name(example).display()
        );
    }
    if !force && std::fs::symlink_metadata(out).is_ok() {
        bail!("{} already exists; remove it, choose another --out, or pass --force to replace it", out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_through_other_paths() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d.redb");
        std::fs::write(&data, b"x").unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(same_file(&data, &sub.join("../d.redb")));
        assert!(!same_file(&data, &dir.path().join("other.redb")));
        assert!(!same_file(&data, &sub.join("d.redb")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&data, dir.path().join("link.redb")).unwrap();
            assert!(same_file(&data, &dir.path().join("link.redb")));
            std::fs::hard_link(&data, dir.path().join("hard.redb")).unwrap();
            assert!(same_file(&data, &dir.path().join("hard.redb")));
        }
    }
}
