//! Writing a file atomically, the one way every writer of the crate does it (reports, exports,
//! pages, charts, the probe cache): the bytes go to a temporary file `.costbench-XXXXXX.tmp` in
//! the destination's directory, are flushed to disk (`fsync`), and only then take the final
//! name, in one step. A reader sees the old file or the new one, never half of one; on any error
//! the temporary file is removed.
//!
//! - [`replace`] renames the temporary file over the destination (an explicit output path,
//!   the probe cache).
//! - [`create_new`] never replaces a file: it hard-links the temporary file to the first free
//!   name of a list (a link fails, atomically, when the name exists), so two writers that pick
//!   the same name in the same second both keep their file (reports in `results/`).
//!
//! Errors name the file the caller asked for, never the temporary file.

use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// An empty temporary file in `dir`, removed when dropped unless linked or persisted.
fn temporary_in(dir: &Path) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".costbench-")
        .suffix(".tmp")
        .tempfile_in(dir)
}

/// Writes `bytes` to `tmp` and flushes them to disk.
fn fill(tmp: &mut NamedTempFile, bytes: &[u8]) -> std::io::Result<()> {
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()
}

/// Writes `bytes` to `path` atomically, replacing the file there if there is one. `path` must
/// not be a directory, and its directory must exist.
pub fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !path.is_dir(),
        "'{}' is a directory; expected a file path",
        path.display()
    );
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    anyhow::ensure!(
        dir.is_dir(),
        "could not write '{}': no such file or directory '{}' (create it first)",
        path.display(),
        dir.display()
    );
    // The kind alone: the error itself would name the temporary file.
    let mut tmp = match temporary_in(dir) {
        Ok(t) => t,
        Err(e) => anyhow::bail!("could not write '{}': {}", path.display(), e.kind()),
    };
    fill(&mut tmp, bytes).with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    Ok(())
}

/// Writes `bytes` atomically into `dir` under the first of `names` that no file has, and
/// returns its path. Never replaces a file.
pub fn create_new(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
) -> anyhow::Result<PathBuf> {
    let in_dir = || format!("could not write in '{}'", dir.display());
    let mut tmp = temporary_in(dir).with_context(in_dir)?;
    fill(&mut tmp, bytes).with_context(in_dir)?;
    for name in names {
        let dest = dir.join(name);
        match std::fs::hard_link(tmp.path(), &dest) {
            Ok(()) => return Ok(dest),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("could not write '{}'", dest.display()));
            }
        }
    }
    anyhow::bail!("{}: every name given is taken", in_dir())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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
    }
}
