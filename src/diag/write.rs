//! Writing a file atomically, the one way every writer of the crate does it (reports, exports,
//! pages, charts, the probe cache): the bytes go to a temporary file `.costbench-XXXXXX.tmp` in
//! the destination's directory, are flushed to disk (`fsync`), and only then take the final
//! name, in one step. A reader sees the old file or the new one, never half of one; on any error
//! the temporary file is removed.
//!
//! - [`replace`] renames the temporary file over the destination (an explicit output path);
//!   [`replace_private`] does the same for files only their owner may read (the probe cache).
//! - [`create_new`] never replaces a file: it moves the temporary file to the first free name of
//!   a list with `renameat2(RENAME_NOREPLACE)`, or a hard link where that is not supported (both
//!   fail, atomically, when the name exists), so two writers that pick the same name in the same
//!   second both keep their file (reports in `results/`). On a filesystem that supports neither
//!   (no hard links: some FUSE and network mounts), the final name is created exclusively
//!   (`O_EXCL`) and written in place: still never replacing a file, but a reader may see it
//!   half-written — which no reader takes for a report, since half a report is not valid JSON.
//!
//! Only regular files are written. What is already at the destination is looked at first
//! ([`what_is_at`]): a directory, a device, a FIFO, a socket or a dangling symbolic link is
//! refused, never opened; a symbolic link to a regular file is followed, so the file it points
//! to is replaced and the link itself stays (writing `-o /dev/stdout` never replaces the link in
//! `/dev`).
//!
//! Permissions follow the process umask as other tools' files do ([`Access::Shared`], 0644 under
//! umask 022), except files written with [`Access::Private`] (0600 whatever the umask).
//!
//! Errors name the file the caller asked for (control characters escaped, long names cut by
//! [`short`]), never the temporary file.

use crate::diag::show::short;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tempfile::{NamedTempFile, PersistError};

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `0o666` less the process umask, as other tools create files (0644 under umask 022):
    /// reports, exports, pages.
    Shared,
    /// `0o600` whatever the umask: only the owner (the probe cache).
    Private,
}

impl Access {
    /// The mode the file is created with; the kernel then clears the umask's bits.
    pub fn mode(self) -> u32 {
        match self {
            Access::Shared => 0o666,
            Access::Private => 0o600,
        }
    }
}

/// What is at a path a command is about to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Nothing (or a path through a regular file: creating it fails with a clear error later).
    Nothing,
    /// A directory (symbolic links followed).
    Directory,
    /// A regular file; the path of the file itself, symbolic links resolved.
    File(PathBuf),
    /// Anything else, in words: "a character device", "a FIFO (named pipe)", "a socket",
    /// "a dangling symbolic link (to 'x')", …
    Other(String),
}

/// The kind of a file that is neither a regular file nor a directory, in words.
pub fn kind_in_words(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    "not a regular file"
}

/// Looks at `path` without opening it (`lstat`, then `stat` through a symbolic link).
pub fn what_is_at(path: &Path) -> std::io::Result<Found> {
    use std::io::ErrorKind;
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(Found::Nothing);
        }
        Err(e) => return Err(e),
    };
    let is_link = link.file_type().is_symlink();
    let meta = if is_link {
        match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                let to = fs::read_link(path)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Ok(Found::Other(format!(
                    "a dangling symbolic link (to '{}')",
                    short(&to)
                )));
            }
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Ok(Found::Other("a loop of symbolic links".into()));
            }
            Err(e) => return Err(e),
        }
    } else {
        link
    };
    let t = meta.file_type();
    Ok(if t.is_dir() {
        Found::Directory
    } else if t.is_file() {
        Found::File(if is_link {
            fs::canonicalize(path)?
        } else {
            path.to_path_buf()
        })
    } else {
        Found::Other(kind_in_words(&t).to_string())
    })
}

/// The directory a file path is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// An empty temporary file in `dir` created with `access`'s mode, removed when dropped unless
/// persisted.
fn temporary_in(dir: &Path, access: Access) -> std::io::Result<NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".costbench-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        b.permissions(fs::Permissions::from_mode(access.mode()));
    }
    #[cfg(not(unix))]
    let _ = access;
    b.tempfile_in(dir)
}

/// Writes `bytes` to `tmp` and flushes them to disk.
fn fill(tmp: &mut NamedTempFile, bytes: &[u8]) -> std::io::Result<()> {
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()
}

/// Flushes a directory's entries to disk, so a new name survives a power loss (best effort:
/// some filesystems refuse to sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Checks that `dir`, the directory of the file `shown`, exists and is a directory.
fn directory_of(dir: &Path, shown: &str) -> anyhow::Result<()> {
    let dir_shown = short(&dir.display().to_string());
    match what_is_at(dir) {
        Ok(Found::Directory) => Ok(()),
        Ok(Found::Nothing) => anyhow::bail!(
            "could not write '{shown}': no such file or directory '{dir_shown}' (create it first)"
        ),
        Ok(Found::File(_)) => anyhow::bail!(
            "could not write '{shown}': '{dir_shown}' is a file; expected a directory"
        ),
        Ok(Found::Other(kind)) => anyhow::bail!(
            "could not write '{shown}': '{dir_shown}' is {kind}; expected a directory"
        ),
        Err(e) => anyhow::bail!("could not write '{shown}': {e}"),
    }
}

/// Where a write to `path` replacing what is there must go: `path`, or the regular file a
/// symbolic link at `path` points to. Refuses anything that is not a regular file.
fn replaceable(path: &Path, shown: &str) -> anyhow::Result<PathBuf> {
    match what_is_at(path) {
        Ok(Found::Nothing) => Ok(path.to_path_buf()),
        Ok(Found::File(resolved)) => Ok(resolved),
        Ok(Found::Directory) => anyhow::bail!("'{shown}' is a directory; expected a file path"),
        Ok(Found::Other(kind)) => anyhow::bail!(
            "could not write '{shown}': it is {kind}, not a regular file; expected a new file path (costbench writes only regular files)"
        ),
        Err(e) => anyhow::bail!("could not write '{shown}': {e}"),
    }
}

/// Writes `bytes` to `path` atomically, replacing the regular file there if there is one (through
/// a symbolic link: the file it points to). The file follows the umask ([`Access::Shared`]).
/// `path` must not be a directory, a device, a FIFO or a socket, and its directory must exist.
pub fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    replace_as(path, bytes, Access::Shared)
}

/// [`replace`] for a file only its owner may read (mode 0600 whatever the umask).
pub fn replace_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    replace_as(path, bytes, Access::Private)
}

/// [`replace`] with the given access.
pub fn replace_as(path: &Path, bytes: &[u8], access: Access) -> anyhow::Result<()> {
    let shown = short(&path.display().to_string());
    let dest = replaceable(path, &shown)?;
    let dir = parent_dir(&dest);
    directory_of(dir, &shown)?;
    // The kind alone: the error itself would name the temporary file.
    let mut tmp = match temporary_in(dir, access) {
        Ok(t) => t,
        Err(e) => anyhow::bail!("could not write '{shown}': {}", e.kind()),
    };
    if let Err(e) = fill(&mut tmp, bytes) {
        anyhow::bail!("could not write '{shown}': {e}");
    }
    // The destination is looked at again just before the rename, so what appeared there while
    // the bytes were written (a FIFO, a device) is not replaced either.
    replaceable(&dest, &shown)?;
    if let Err(e) = tmp.persist(&dest) {
        anyhow::bail!("could not write '{shown}': {}", e.error);
    }
    sync_dir(dir);
    Ok(())
}

/// How [`create_new`] gives the filled temporary file its final name without replacing a file:
/// `Err` with `AlreadyExists` when the name is taken, and the temporary file back.
type Link = fn(NamedTempFile, &Path) -> Result<(), PersistError>;

/// `renameat2(RENAME_NOREPLACE)`, or a hard link then an unlink where the filesystem does not
/// support it (tempfile's `persist_noclobber`).
fn link_no_replace(tmp: NamedTempFile, dest: &Path) -> Result<(), PersistError> {
    tmp.persist_noclobber(dest).map(drop)
}

/// Writes `bytes` atomically into `dir` under the first of `names` that no file has, and
/// returns its path. Never replaces a file. The file follows the umask ([`Access::Shared`]).
pub fn create_new(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
) -> anyhow::Result<PathBuf> {
    create_new_with(dir, names, bytes, Access::Shared, link_no_replace)
}

/// [`create_new`] with the access and the step that names the file (tests replace it by one
/// that fails, to exercise the fallback).
fn create_new_with(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
    access: Access,
    link: Link,
) -> anyhow::Result<PathBuf> {
    let dir_shown = short(&dir.display().to_string());
    let in_dir = || format!("could not write in '{dir_shown}'");
    let mut tmp = match temporary_in(dir, access) {
        Ok(t) => t,
        Err(e) => anyhow::bail!("{}: {}", in_dir(), e.kind()),
    };
    if let Err(e) = fill(&mut tmp, bytes) {
        anyhow::bail!("{}: {e}", in_dir());
    }
    let mut names = names.into_iter();
    while let Some(name) = names.next() {
        let dest = dir.join(&name);
        match link(tmp, &dest) {
            Ok(()) => {
                sync_dir(dir);
                return Ok(dest);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => {
                // Neither a rename without replacing nor a hard link works here: create the
                // final name exclusively and write it in place.
                drop(e.file);
                return write_exclusive(dir, std::iter::once(name).chain(names), bytes, access);
            }
        }
    }
    anyhow::bail!("{}: every name given is taken", in_dir())
}

/// The fallback of [`create_new`] where neither `renameat2(RENAME_NOREPLACE)` nor hard links
/// work: creates the first free name of `names` with `O_EXCL` (never replacing a file), writes
/// `bytes` and flushes them. On a failed write the partial file is removed.
fn write_exclusive(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
    access: Access,
) -> anyhow::Result<PathBuf> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(access.mode());
    }
    #[cfg(not(unix))]
    let _ = access;
    for name in names {
        let dest = dir.join(name);
        let shown = short(&dest.display().to_string());
        match options.open(&dest) {
            Ok(mut f) => {
                if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
                    drop(f);
                    let _ = fs::remove_file(&dest);
                    anyhow::bail!("could not write '{shown}': {e}");
                }
                sync_dir(dir);
                return Ok(dest);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => anyhow::bail!("could not write '{shown}': {e}"),
        }
    }
    anyhow::bail!(
        "could not write in '{}': every name given is taken",
        short(&dir.display().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// The process umask (read by setting it and setting it back; tests of this module do not
    /// change it).
    fn umask() -> u32 {
        // SAFETY: umask only swaps the process's mask; it is restored at once.
        unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m as u32
        }
    }

    #[test]
    fn create_new_takes_the_first_free_name_and_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let names = || ["a.txt", "b.txt"].map(String::from);
        assert_eq!(
            create_new(dir.path(), names(), b"1").unwrap(),
            dir.path().join("a.txt")
        );
        assert_eq!(
            create_new(dir.path(), names(), b"2").unwrap(),
            dir.path().join("b.txt")
        );
        let e = create_new(dir.path(), names(), b"3").unwrap_err();
        assert!(
            format!("{e:#}").contains("every name given is taken"),
            "{e:#}"
        );
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "1");
        assert_eq!(names_in(dir.path()), ["a.txt", "b.txt"]);
    }

    /// A link step that fails as on a filesystem without hard links or `RENAME_NOREPLACE`.
    fn no_links(tmp: NamedTempFile, _: &Path) -> Result<(), PersistError> {
        Err(PersistError {
            error: std::io::Error::from_raw_os_error(libc::EPERM),
            file: tmp,
        })
    }

    #[test]
    fn without_links_create_new_falls_back_to_an_exclusive_create() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "earlier").unwrap();
        let names = || ["a.txt", "b.txt"].map(String::from);
        let path = create_new_with(dir.path(), names(), b"new", Access::Shared, no_links).unwrap();
        assert_eq!(path, dir.path().join("b.txt"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        // Nothing replaced, no temporary file left, the umask followed.
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "earlier"
        );
        assert_eq!(names_in(dir.path()), ["a.txt", "b.txt"]);
        assert_eq!(mode(&path), 0o666 & !umask());
        let e = create_new_with(dir.path(), names(), b"x", Access::Private, no_links)
            .unwrap_err()
            .to_string();
        assert!(e.contains("every name given is taken"), "{e}");
        assert_eq!(names_in(dir.path()), ["a.txt", "b.txt"]);
        // The link step is tried first and its "taken" answer moves on to the next name.
        let p = create_new_with(
            dir.path(),
            ["a.txt", "c.txt"].map(String::from),
            b"c",
            Access::Private,
            link_no_replace,
        )
        .unwrap();
        assert_eq!(p, dir.path().join("c.txt"));
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn an_exclusive_write_that_fails_leaves_no_partial_file() {
        // The create itself fails (no such directory): the message names the file, and
        // nothing is left.
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let e = write_exclusive(&gone, ["r.json".to_string()], b"x", Access::Shared)
            .unwrap_err()
            .to_string();
        assert!(e.contains("r.json") && e.contains("could not write"), "{e}");
        assert_eq!(names_in(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn replace_replaces_and_refuses_a_directory_or_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        replace(&path, b"old").unwrap();
        replace(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(names_in(dir.path()), ["out.txt"]);

        let e = replace(dir.path(), b"x").unwrap_err().to_string();
        assert!(e.ends_with("is a directory; expected a file path"), "{e}");
        let e = replace(&dir.path().join("nodir/x.txt"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such file or directory"), "{e}");
        assert!(!e.contains(".costbench-"), "{e}");
        let e = replace(&dir.path().join("out.txt/x.txt"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a file; expected a directory"), "{e}");
    }

    #[test]
    fn files_follow_the_umask_unless_private() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared.txt");
        replace(&shared, b"x").unwrap();
        assert_eq!(mode(&shared), 0o666 & !umask());
        let private = dir.path().join("private.txt");
        replace_private(&private, b"x").unwrap();
        assert_eq!(mode(&private), 0o600);
        let new = create_new(dir.path(), ["new.txt".to_string()], b"x").unwrap();
        assert_eq!(mode(&new), 0o666 & !umask());
    }

    #[test]
    fn only_regular_files_are_replaced_and_links_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let fifo = d.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = replace(&fifo, b"x").unwrap_err().to_string();
        assert!(e.contains("a FIFO (named pipe), not a regular file"), "{e}");
        assert_eq!(
            what_is_at(&fifo).unwrap(),
            Found::Other("a FIFO (named pipe)".into())
        );

        std::os::unix::fs::symlink(d.join("missing"), d.join("dangling")).unwrap();
        let e = replace(&d.join("dangling"), b"x").unwrap_err().to_string();
        assert!(e.contains("a dangling symbolic link"), "{e}");
        assert!(
            fs::symlink_metadata(d.join("dangling"))
                .unwrap()
                .is_symlink()
        );

        // Through a link to a regular file: the file is replaced and the link kept.
        fs::write(d.join("target.txt"), "old").unwrap();
        std::os::unix::fs::symlink(d.join("target.txt"), d.join("link.txt")).unwrap();
        replace(&d.join("link.txt"), b"new").unwrap();
        assert!(
            fs::symlink_metadata(d.join("link.txt"))
                .unwrap()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(d.join("target.txt")).unwrap(), "new");

        assert_eq!(
            what_is_at(Path::new("/dev/null")).unwrap(),
            Found::Other("a character device".into())
        );
        assert_eq!(what_is_at(d).unwrap(), Found::Directory);
        assert_eq!(what_is_at(&d.join("nothing")).unwrap(), Found::Nothing);
        assert_eq!(what_is_at(&d.join("target.txt/x")).unwrap(), Found::Nothing);
    }
}
