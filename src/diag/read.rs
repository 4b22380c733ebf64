//! Reading an input file with a bound on its size, the one way every reader of the crate does
//! it (workloads, catalog overlays, Hugging Face configs, reports, the probe cache).
//!
//! A size check on the file's metadata is not enough: `/dev/zero`, `/dev/urandom`, a FIFO or a
//! pipe on standard input (`yes | costbench check /dev/stdin`) have no length, and reading one to
//! its end grows memory until the process is killed. [`bounded`] reads through
//! `Read::take(limit + 1)` into a buffer that never grows past `limit + 1` bytes, so any input,
//! of any kind, costs at most `limit + 1` bytes of memory and stops there: one byte over the limit
//! is enough to refuse it.
//!
//! A FIFO still waits for its writer, as `cat` does: that is what naming a FIFO asks for.

use crate::diag::show::short;
use std::fmt;
use std::io::{ErrorKind, Read};
use std::path::Path;

/// Why an input file could not be read within its bound. Every variant displays as one line
/// that names the file (cut by [`short`] when long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The file, as given, made printable and cut to a bounded length.
    pub path: String,
    /// What the file should have been (`workload file`, `costbench report`): the messages say
    /// "expected a {what}".
    pub what: String,
    pub problem: Problem,
}

/// What went wrong reading a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotFound,
    PermissionDenied,
    /// A directory where a file was expected.
    Directory,
    /// Any other error of the system, as it words it.
    Io(String),
    /// More than `limit` bytes: `size` is the file's length when it has one (a regular file),
    /// `None` for a stream (device, FIFO, pipe), of which `limit + 1` bytes were read.
    TooLarge {
        limit: u64,
        size: Option<u64>,
    },
}

impl ReadError {
    /// The reason alone, without the file: what a caller with its own wording puts after the
    /// path (`no such file`, `permission denied`, `it is a directory, not a workload file`).
    pub fn reason(&self) -> String {
        match &self.problem {
            Problem::NotFound => "no such file".into(),
            Problem::PermissionDenied => "permission denied".into(),
            Problem::Directory => format!("it is a directory, not a {}", self.what),
            Problem::Io(e) => e.clone(),
            Problem::TooLarge { limit, size } => too_large(*limit, *size, &self.what),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::TooLarge { .. } => write!(f, "'{}': {}", self.path, self.reason()),
            _ => write!(f, "could not read '{}': {}", self.path, self.reason()),
        }
    }
}

impl std::error::Error for ReadError {}

/// "larger than 1 MiB (N bytes); expected a workload file of at most 1048576 bytes (1 MiB)".
fn too_large(limit: u64, size: Option<u64>, what: &str) -> String {
    let shown = size_shown(limit);
    let size = match size {
        Some(n) => format!("{n} bytes"),
        None => format!("reading stopped after {} bytes", limit.saturating_add(1)),
    };
    format!("larger than {shown} ({size}); expected a {what} of at most {limit} bytes ({shown})")
}

/// A limit in the unit it was chosen in: `1 MiB`, `256 MiB`, `64 KiB`, else bytes.
fn size_shown(bytes: u64) -> String {
    const UNITS: [(&str, u32); 3] = [("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// The contents of `path`, at most `limit` bytes of them: a longer file (or a stream that
/// yields more) is refused after reading `limit + 1` bytes at most, and memory never grows past
/// that. `what` names the kind of file in messages (`workload file`, `costbench report`).
/// Symbolic links are followed (an input may be one); a directory is refused.
pub fn bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, ReadError> {
    let error = |problem: Problem| ReadError {
        path: short(&path.display().to_string()),
        what: what.to_owned(),
        problem,
    };
    let mut file = std::fs::File::open(path).map_err(|e| error(problem_of(&e)))?;
    let meta = file.metadata().map_err(|e| error(problem_of(&e)))?;
    if meta.is_dir() {
        return Err(error(Problem::Directory));
    }
    // A regular file's length is known: refuse it without reading, and size the buffer to it.
    let size = meta.is_file().then_some(meta.len());
    if let Some(len) = size
        && len > limit
    {
        return Err(error(Problem::TooLarge {
            limit,
            size: Some(len),
        }));
    }
    match read_at_most(&mut file, limit, size.unwrap_or(0)) {
        Ok(Some(bytes)) => Ok(bytes),
        // A regular file that grew while it was read, or a stream.
        Ok(None) => Err(error(Problem::TooLarge {
            limit,
            size: size.filter(|&len| len > limit),
        })),
        Err(e) => Err(error(problem_of(&e))),
    }
}

/// Reads `reader` to its end if that is at most `limit` bytes (`Some`), else stops after
/// `limit + 1` bytes (`None`). `hint` is the expected length (0 when unknown): the buffer starts
/// there and otherwise doubles, never past `limit + 1` bytes. Interrupted reads are retried.
pub fn read_at_most(
    reader: &mut impl Read,
    limit: u64,
    hint: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    // The most this may hold: one byte past the limit shows the input is longer.
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut reader = reader.take(cap as u64);
    let first = usize::try_from(hint.saturating_add(1))
        .unwrap_or(usize::MAX)
        .clamp(1, cap);
    let mut buf: Vec<u8> = Vec::new();
    let mut len = 0;
    loop {
        if len == buf.len() {
            if len >= cap {
                break;
            }
            let grown = if buf.is_empty() {
                first.max(8192.min(cap))
            } else {
                len.saturating_mul(2).min(cap)
            };
            buf.try_reserve_exact(grown - buf.len())
                .map_err(|_| std::io::Error::from(ErrorKind::OutOfMemory))?;
            buf.resize(grown, 0);
        }
        match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    if len as u64 > limit {
        return Ok(None);
    }
    buf.shrink_to_fit();
    Ok(Some(buf))
}

fn problem_of(e: &std::io::Error) -> Problem {
    match e.kind() {
        ErrorKind::NotFound => Problem::NotFound,
        ErrorKind::PermissionDenied => Problem::PermissionDenied,
        ErrorKind::IsADirectory => Problem::Directory,
        _ => Problem::Io(short(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::time::{Duration, Instant};

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 99, 100] {
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, vec![b'x'; len]).unwrap();
            assert_eq!(bounded(&path, 100, "test file").unwrap().len(), len);
        }
    }

    #[test]
    fn a_longer_regular_file_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'x'; 101]).unwrap();
        let e = bounded(&path, 100, "workload file").unwrap_err();
        assert_eq!(
            e.problem,
            Problem::TooLarge {
                limit: 100,
                size: Some(101)
            }
        );
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("'{}': larger than", path.display())));
        assert!(
            shown.ends_with(
                "larger than 100 bytes (101 bytes); expected a workload file of at most 100 bytes (100 bytes)"
            ),
            "{shown}"
        );
    }

    #[test]
    fn an_endless_device_stops_at_the_limit_quickly() {
        for device in ["/dev/zero", "/dev/urandom"] {
            let start = Instant::now();
            let e = bounded(Path::new(device), 1 << 20, "workload file").unwrap_err();
            assert!(start.elapsed() < Duration::from_secs(5));
            assert_eq!(
                e.problem,
                Problem::TooLarge {
                    limit: 1 << 20,
                    size: None
                }
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "'{device}': larger than 1 MiB (reading stopped after 1048577 bytes); \
                     expected a workload file of at most 1048576 bytes (1 MiB)"
                )
            );
        }
    }

    #[test]
    fn an_empty_device_reads_empty() {
        assert_eq!(
            bounded(Path::new("/dev/null"), 10, "test file").unwrap(),
            b""
        );
    }

    #[test]
    fn missing_directory_and_unreadable_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = bounded(&dir.path().join("missing"), 10, "report").unwrap_err();
        assert_eq!(e.problem, Problem::NotFound);
        assert!(e.to_string().ends_with("missing': no such file"), "{e}");
        let e = bounded(dir.path(), 10, "costbench report").unwrap_err();
        assert_eq!(e.problem, Problem::Directory);
        assert!(
            e.to_string()
                .ends_with("': it is a directory, not a costbench report"),
            "{e}"
        );
    }

    #[test]
    fn a_long_path_is_cut_in_the_message() {
        let long = format!("/nonexistent/{}\n.toml", "a".repeat(10_000));
        let e = bounded(Path::new(&long), 10, "workload file").unwrap_err();
        let shown = e.to_string();
        assert!(shown.len() < 400, "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }

    /// A reader that yields one byte per call and is interrupted every other call.
    struct Trickle {
        left: usize,
        interrupt: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(ErrorKind::Interrupted.into());
            }
            if self.left == 0 || buf.is_empty() {
                return Ok(0);
            }
            self.left -= 1;
            buf[0] = b'y';
            Ok(1)
        }
    }

    #[test]
    fn short_and_interrupted_reads_are_resumed() {
        let mut r = Trickle {
            left: 5,
            interrupt: false,
        };
        assert_eq!(read_at_most(&mut r, 5, 0).unwrap().unwrap(), b"yyyyy");
        let mut r = Trickle {
            left: 6,
            interrupt: false,
        };
        assert_eq!(read_at_most(&mut r, 5, 0).unwrap(), None);
    }

    #[test]
    fn the_buffer_never_grows_past_the_bound() {
        // 10 MB offered, 1000 allowed: 1001 bytes read, never more.
        let data = vec![7u8; 10_000_000];
        let mut cursor = Cursor::new(&data);
        assert_eq!(read_at_most(&mut cursor, 1000, 0).unwrap(), None);
        assert_eq!(cursor.position(), 1001);
        // A wrong hint (too small or too large) changes nothing but the first allocation.
        for hint in [0, 3, 500, 1000, u64::MAX] {
            let mut cursor = Cursor::new(&data[..1000]);
            assert_eq!(
                read_at_most(&mut cursor, 1000, hint)
                    .unwrap()
                    .unwrap()
                    .len(),
                1000
            );
        }
        let mut cursor = Cursor::new(&data[..0]);
        assert_eq!(read_at_most(&mut cursor, 0, 0).unwrap().unwrap(), b"");
        let mut cursor = Cursor::new(&data[..1]);
        assert_eq!(read_at_most(&mut cursor, 0, 0).unwrap(), None);
    }

    #[test]
    fn limits_are_shown_in_their_unit() {
        assert_eq!(size_shown(1 << 20), "1 MiB");
        assert_eq!(size_shown(256 << 20), "256 MiB");
        assert_eq!(size_shown(64 << 10), "64 KiB");
        assert_eq!(size_shown(1000), "1000 bytes");
    }
}
