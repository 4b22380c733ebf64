//! `costbench probe`: this machine's roofline, measured — peak floating-point rate (f32, f64)
//! and memory bandwidth, on one thread and on all of rayon's threads.
//!
//! The roofline model (Williams, Waterman & Patterson, "Roofline: an insightful visual
//! performance model for multicore architectures", CACM 52(4), 2009) bounds the rate of a
//! kernel of arithmetic intensity I (FLOPs per byte moved to or from memory) by
//! `min(peak FLOP/s, bandwidth × I)`. costbench uses it to express each measured op as a
//! fraction of what this CPU could attain, a figure that transfers between machines.
//!
//! - **Peak**: a micro-kernel of many independent fused multiply-adds (24 accumulators of 512
//!   bits with AVX-512, 12 of 256 bits with AVX2+FMA, a portable loop elsewhere), enough to
//!   hide the FMA latency on every pipe. An FMA counts 2 FLOPs per lane. "All threads" runs one
//!   copy per rayon thread concurrently and divides the total work by the wall time.
//! - **Bandwidth**: McCalpin's STREAM triad `a[i] = b[i] + s·c[i]` over f64 arrays of at least
//!   four times the last-level cache, counting 24 bytes per element as STREAM does (two reads,
//!   one write; the write-allocate read is not counted). First touch is parallel.
//!
//! `tools/stream-c/` checks both against references on the development machine: the C STREAM
//! triad (OpenMP) and the theoretical peak from the clock and the FMA units.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::machine::{CacheLevel, MachineContext};
use crate::diag::read;
use crate::diag::show::{printable, short};
use crate::stats;

/// This machine's measured roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Roofline {
    /// [`MachineContext::fingerprint`] of the machine and build that measured it.
    pub fingerprint: String,
    /// When it was measured, RFC 3339 UTC.
    pub measured_at: String,
    /// rayon threads used for the "all threads" figures.
    pub threads: usize,
    /// Peak f32 FMA rate of one thread, GFLOP/s.
    pub f32_gflops_one_thread: Rate,
    /// Peak f32 FMA rate of all threads together, GFLOP/s.
    pub f32_gflops_all_threads: Rate,
    /// Peak f64 FMA rate of one thread, GFLOP/s.
    pub f64_gflops_one_thread: Rate,
    /// Peak f64 FMA rate of all threads together, GFLOP/s.
    pub f64_gflops_all_threads: Rate,
    /// STREAM triad bandwidth of one thread, GB/s (10⁹ bytes, 24 bytes per f64 element).
    pub triad_gbps_one_thread: Rate,
    /// STREAM triad bandwidth of all threads together, GB/s (10⁹ bytes, 24 bytes per element).
    pub triad_gbps_all_threads: Rate,
    /// How the figures were measured: kernels, sizes, sample counts.
    pub method: String,
}

/// A measured rate: the median and every sample it came from (units given by the field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rate {
    /// Median of `samples`.
    pub median: f64,
    /// Each sample's rate, in measurement order.
    pub samples: Vec<f64>,
}

impl Rate {
    fn from_samples(samples: Vec<f64>) -> Self {
        Rate {
            median: stats::median(&samples),
            samples,
        }
    }

    fn is_plausible(&self) -> bool {
        !self.samples.is_empty()
            && self.median.is_finite()
            && self.median > 0.0
            && self.samples.iter().all(|s| s.is_finite() && *s > 0.0)
    }
}

impl Roofline {
    /// Attainable GFLOP/s (all threads, f32) at arithmetic intensity `flops_per_byte`:
    /// `min(peak, bandwidth × intensity)`.
    pub fn attainable_gflops(&self, flops_per_byte: f64) -> f64 {
        let peak = self.f32_gflops_all_threads.median;
        let memory_bound = self.triad_gbps_all_threads.median * flops_per_byte.max(0.0);
        peak.min(memory_bound)
    }

    /// Fraction of the roofline that `achieved_gflops` at `flops_per_byte` reaches (1.0 = on
    /// the roofline); 0 when the roofline is zero there.
    pub fn fraction_of_roofline(&self, achieved_gflops: f64, flops_per_byte: f64) -> f64 {
        let attainable = self.attainable_gflops(flops_per_byte);
        if attainable > 0.0 && attainable.is_finite() {
            achieved_gflops / attainable
        } else {
            0.0
        }
    }
}

/// How much measuring to do.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Samples per peak figure.
    fma_samples: usize,
    /// Minimum duration of one peak sample.
    fma_sample_time: Duration,
    /// Samples (one triad pass each) per bandwidth figure.
    triad_samples: usize,
    /// Array size as a multiple of the last-level cache.
    llc_multiple: u64,
}

const FULL: Plan = Plan {
    fma_samples: 9,
    fma_sample_time: Duration::from_millis(100),
    triad_samples: 11,
    llc_multiple: 4,
};

const QUICK: Plan = Plan {
    fma_samples: 3,
    fma_sample_time: Duration::from_millis(10),
    triad_samples: 3,
    llc_multiple: 2,
};

/// Measures the roofline on rayon's current thread pool. `quick` takes few short samples (for
/// tests and CI, about half a second); the default takes about 5–10 s.
pub fn measure(quick: bool) -> Roofline {
    let plan = if quick { QUICK } else { FULL };
    let threads = rayon::current_num_threads();
    let context = MachineContext::detect(None, threads);
    let path = FmaPath::detect();

    let f32_one = peak_rate(Precision::F32, path, false, &plan);
    let f32_all = peak_rate(Precision::F32, path, true, &plan);
    let f64_one = peak_rate(Precision::F64, path, false, &plan);
    let f64_all = peak_rate(Precision::F64, path, true, &plan);

    let llc_bytes = last_level_cache_bytes(&context.caches, context.logical_cores);
    let array_bytes = triad_array_bytes(llc_bytes, context.memory_bytes, plan.llc_multiple);
    let (triad_one, triad_all) = triad_rates(array_bytes, &plan);

    let method = format!(
        "Peak: {kernel}, an FMA counted as 2 FLOPs per lane; one copy on the calling thread, \
         and one per rayon thread ({threads}) run concurrently with rayon::broadcast, total \
         work divided by wall time; after a warm-up, median of {fma_samples} samples of \
         about {fma_ms} ms each. Bandwidth: STREAM triad a[i] = b[i] + s*c[i] over three f64 \
         arrays of {array_mib} MiB each ({multiple}x the {llc_mib} MiB last-level cache{llc_note}), \
         24 bytes counted per element (two reads and a write, no write-allocate, as STREAM \
         counts), pages first touched in parallel by the thread that uses them, all threads \
         taking one equal chunk each at once (rayon::broadcast, like OpenMP's static \
         schedule), {triad_kernel}; median of {triad_samples} passes.",
        kernel = path.describe(),
        triad_kernel = triad_kernel_name(),
        fma_samples = plan.fma_samples,
        fma_ms = plan.fma_sample_time.as_millis(),
        array_mib = array_bytes >> 20,
        multiple = plan.llc_multiple,
        llc_mib = llc_bytes >> 20,
        llc_note = if context.caches.is_empty() {
            ", assumed: none reported"
        } else {
            ""
        },
        triad_samples = plan.triad_samples,
    );

    Roofline {
        fingerprint: context.fingerprint(),
        measured_at: rfc3339_utc_now(),
        threads,
        f32_gflops_one_thread: f32_one,
        f32_gflops_all_threads: f32_all,
        f64_gflops_one_thread: f64_one,
        f64_gflops_all_threads: f64_all,
        triad_gbps_one_thread: triad_one,
        triad_gbps_all_threads: triad_all,
        method,
    }
}

// ---------------------------------------------------------------------------------------------
// The cache
//
// A measured roofline is kept in a file per machine, thread count and plan, and reused by later
// runs. The cache is only ever a shortcut: whatever goes wrong with it (a directory another user
// could write, a planted or corrupt file, a read-only home) is one warning, and the roofline is
// measured instead. Because a cached roofline goes into reports, it is used only from a private
// directory (owned by this user, writable by no one else, not a symbolic link; created 0700 when
// absent), read without following symbolic links and bounded in size, and checked for meaning
// before it is trusted. Files are created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600,
// a random temporary name) and renamed into place, all relative to the directory as opened, so
// swapping a path component after the checks changes nothing.
// ---------------------------------------------------------------------------------------------

/// Largest cache file read, in bytes (64 KiB; one is about 2 KiB).
pub const CACHE_MAX_BYTES: u64 = 64 << 10;

/// Highest plausible rate of one thread, GFLOP/s: 50 times today's fastest cores (AVX-512 at
/// 5 GHz: 320 GFLOP/s f32). A cached figure above it is not trusted.
const MAX_GFLOPS_PER_THREAD: f64 = 1e4;
/// Highest plausible bandwidth, GB/s, of one thread or all (HBM-fed CPUs reach about 1,000).
const MAX_GBPS: f64 = 1e5;
/// Longest `method` text accepted from a cache file, in characters.
const MAX_METHOD_CHARS: usize = 4096;

/// A roofline, where it came from, and what the cache had to say about it.
#[derive(Debug, Clone)]
pub struct Probed {
    pub roofline: Roofline,
    /// Read from the cache (else measured now).
    pub cached: bool,
    /// One line each, to show as warnings: why the cache was not used, a cache file ignored, or
    /// a probe that could not be saved. The roofline is good either way.
    pub warnings: Vec<String>,
}

/// The name of the cache file of a probe on `threads` threads; quick probes have their own, so a
/// quick probe never replaces a full one, nor a probe on other threads the default one.
pub fn cache_file_name(fingerprint: &str, threads: usize, quick: bool) -> String {
    let kind = if quick { "-quick" } else { "" };
    format!("probe-{fingerprint}-{threads}t{kind}.json")
}

/// The roofline of this machine on rayon's current pool: from `cache_dir` when a usable probe is
/// cached there for this `fingerprint`, thread count and plan (a full probe also serves a
/// `quick` request; a quick one never serves a full request), otherwise measured and saved
/// there. `force` always measures. Problems with the cache become warnings, never errors.
pub fn cached_or_measured(cache_dir: &Path, fingerprint: &str, quick: bool, force: bool) -> Probed {
    let threads = rayon::current_num_threads();
    cached_or_measured_with(cache_dir, fingerprint, threads, quick, force, || {
        measure(quick)
    })
}

fn cached_or_measured_with(
    cache_dir: &Path,
    fingerprint: &str,
    threads: usize,
    quick: bool,
    force: bool,
    measure: impl FnOnce() -> Roofline,
) -> Probed {
    let mut warnings = Vec::new();
    let dir = if !is_safe_fingerprint(fingerprint) {
        warnings.push(format!(
            "probe cache not used: the machine fingerprint '{}' is not a short hexadecimal name",
            short(fingerprint)
        ));
        None
    } else {
        match PrivateDir::open(cache_dir) {
            Ok(dir) => Some(dir),
            Err(reason) => {
                warnings.push(format!(
                    "probe cache not used: {reason}; the roofline is measured and not saved \
                     (set COSTBENCH_CACHE_DIR to a private directory)"
                ));
                None
            }
        }
    };
    if !force && let Some(dir) = &dir {
        // A full probe serves a quick request too; a quick probe serves only quick requests.
        let kinds: &[bool] = if quick { &[false, true] } else { &[false] };
        for &quick_file in kinds {
            let name = cache_file_name(fingerprint, threads, quick_file);
            let found = dir.read(&name).and_then(|bytes| match bytes {
                None => Ok(None),
                Some(b) => parse_cache_file(&b, fingerprint, threads, quick_file).map(Some),
            });
            match found {
                Ok(Some(roofline)) => {
                    return Probed {
                        roofline,
                        cached: true,
                        warnings,
                    };
                }
                Ok(None) => {}
                Err(reason) => warnings.push(format!(
                    "probe cache file '{}' ignored: {reason}; measuring again",
                    dir.shown(&name)
                )),
            }
        }
    }
    let mut roofline = measure();
    roofline.fingerprint = fingerprint.to_owned();
    // Interrupted while probing: the roofline may be cut short, so it is never cached; the
    // caller stops at its own interrupt check. The cache write itself is not cut by a signal.
    if crate::measure::interrupt::requested() {
        return Probed {
            roofline,
            cached: false,
            warnings,
        };
    }
    let _writing = crate::measure::interrupt::writing();
    if let Some(dir) = &dir {
        let name = cache_file_name(fingerprint, threads, quick);
        let saved = serde_json::to_string_pretty(&roofline)
            .map_err(|e| e.to_string())
            .and_then(|json| dir.write(&name, (json + "\n").as_bytes()));
        if let Err(reason) = saved {
            warnings.push(format!(
                "could not save the probe in '{}': {reason}; it will be measured again next time",
                dir.shown(&name)
            ));
        }
    }
    Probed {
        roofline,
        cached: false,
        warnings,
    }
}

/// A name safe to put in a file name: 1–64 ASCII letters and digits.
fn is_safe_fingerprint(fingerprint: &str) -> bool {
    (1..=64).contains(&fingerprint.len()) && fingerprint.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The roofline in a cache file's bytes, if it may be used for `fingerprint` on `threads`
/// threads, as a full probe or (`quick`) a quick one; else why not, in a few words. Checks more
/// than the shape: the machine, the thread count, the sample counts of the plan, every rate
/// positive, finite and physically plausible, each median the median of its samples, the time
/// of measurement, and a method text that is printable. Pure (the fuzz target calls it).
pub fn parse_cache_file(
    bytes: &[u8],
    fingerprint: &str,
    threads: usize,
    quick: bool,
) -> Result<Roofline, String> {
    if bytes.len() as u64 > CACHE_MAX_BYTES {
        return Err(format!(
            "larger than {} KiB ({} bytes)",
            CACHE_MAX_BYTES >> 10,
            bytes.len()
        ));
    }
    let r: Roofline = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a cached probe ({})", short(&e.to_string())))?;
    if r.fingerprint != fingerprint {
        return Err(format!(
            "it is for another machine or build (fingerprint '{}', expected '{}')",
            short(&r.fingerprint),
            short(fingerprint)
        ));
    }
    if r.threads != threads {
        return Err(format!(
            "it was measured on {} threads, not {threads}",
            r.threads
        ));
    }
    let plan = if quick { QUICK } else { FULL };
    let peaks = [
        ("f32_gflops_one_thread", &r.f32_gflops_one_thread, 1),
        ("f32_gflops_all_threads", &r.f32_gflops_all_threads, threads),
        ("f64_gflops_one_thread", &r.f64_gflops_one_thread, 1),
        ("f64_gflops_all_threads", &r.f64_gflops_all_threads, threads),
    ];
    for (name, rate, on) in peaks {
        rate.check(name, plan.fma_samples, MAX_GFLOPS_PER_THREAD * on as f64)?;
    }
    for (name, rate) in [
        ("triad_gbps_one_thread", &r.triad_gbps_one_thread),
        ("triad_gbps_all_threads", &r.triad_gbps_all_threads),
    ] {
        rate.check(name, plan.triad_samples, MAX_GBPS)?;
    }
    let measured = chrono::DateTime::parse_from_rfc3339(&r.measured_at).map_err(|_| {
        format!(
            "measured_at '{}' is not an RFC 3339 time",
            short(&r.measured_at)
        )
    })?;
    if measured.with_timezone(&Utc) > Utc::now() + chrono::Duration::days(1) {
        return Err(format!(
            "measured_at '{}' is in the future",
            short(&r.measured_at)
        ));
    }
    if r.method.is_empty()
        || r.method.chars().count() > MAX_METHOD_CHARS
        || printable(&r.method) != r.method.as_str()
    {
        return Err(format!(
            "its method is empty, longer than {MAX_METHOD_CHARS} characters or not printable"
        ));
    }
    Ok(r)
}

impl Rate {
    /// As [`Rate::is_plausible`], and `samples` samples each at most `max`, with the median of
    /// them as `median`; else what is wrong, naming the field.
    fn check(&self, name: &str, samples: usize, max: f64) -> Result<(), String> {
        if self.samples.len() != samples {
            return Err(format!(
                "{name} has {} samples, expected {samples}",
                self.samples.len()
            ));
        }
        if !self.is_plausible() || self.samples.iter().any(|&s| s > max) {
            return Err(format!(
                "{name} has a sample that is not a positive rate of at most {max}"
            ));
        }
        let median = stats::median(&self.samples);
        if (self.median - median).abs() > 1e-9 * median.abs() {
            return Err(format!(
                "{name}.median {} is not the median of its samples ({median})",
                self.median
            ));
        }
        Ok(())
    }
}

/// The cache directory, opened once and checked: every file is then opened, created and renamed
/// relative to it (`openat`, `renameat`).
struct PrivateDir {
    dir: std::fs::File,
    path: PathBuf,
}

impl PrivateDir {
    /// Opens `path`, creating it (and missing parents) with mode 0700 when absent; refuses a
    /// symbolic link, a non-directory, and a directory another user owns or may write to.
    fn open(path: &Path) -> Result<Self, String> {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
        let shown = short(&path.display().to_string());
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("'{shown}' is a symbolic link"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(path)
                    .map_err(|e| format!("could not create '{shown}': {}", io_reason(&e)))?;
            }
            Err(e) => return Err(format!("could not inspect '{shown}': {}", io_reason(&e))),
        }
        // O_NOFOLLOW: a symbolic link swapped in since the check above is refused too.
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => format!("'{shown}' is a symbolic link"),
                Some(libc::ENOTDIR) => format!("'{shown}' is not a directory"),
                _ => format!("could not open '{shown}': {}", io_reason(&e)),
            })?;
        let meta = dir
            .metadata()
            .map_err(|e| format!("could not inspect '{shown}': {}", io_reason(&e)))?;
        let me = effective_uid();
        if !meta.is_dir() {
            return Err(format!("'{shown}' is not a directory"));
        }
        if meta.uid() != me {
            return Err(format!(
                "'{shown}' belongs to another user (uid {}, this process runs as uid {me})",
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "'{shown}' can be written by other users (mode {:03o}; chmod 700 makes it private)",
                meta.mode() & 0o777
            ));
        }
        Ok(PrivateDir {
            dir,
            path: path.to_owned(),
        })
    }

    /// `name` in this directory, for messages.
    fn shown(&self, name: &str) -> String {
        short(&self.path.join(name).display().to_string())
    }

    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)`.
    fn open_file(
        &self,
        name: &str,
        flags: libc::c_int,
        mode: libc::mode_t,
    ) -> std::io::Result<std::fs::File> {
        use std::os::fd::{AsRawFd as _, FromRawFd as _};
        let name = std::ffi::CString::new(name).map_err(|_| std::io::ErrorKind::InvalidInput)?;
        // SAFETY: `name` is a NUL-terminated string that outlives the call; the directory's
        // descriptor is open for as long as `self`.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                name.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                libc::c_uint::from(mode),
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { std::fs::File::from_raw_fd(fd) })
    }

    /// The bytes of the regular file `name` (not followed if a symbolic link), `None` if there is
    /// none; at most [`CACHE_MAX_BYTES`] are read.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        use std::os::unix::fs::MetadataExt as _;
        // O_NONBLOCK: a FIFO planted under the name does not block the open.
        let mut file = match self.open_file(name, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err("it is a symbolic link".to_owned());
            }
            Err(e) => return Err(io_reason(&e)),
        };
        let meta = file.metadata().map_err(|e| io_reason(&e))?;
        if !meta.is_file() {
            return Err("it is not a regular file".to_owned());
        }
        if meta.uid() != effective_uid() {
            return Err(format!("it belongs to another user (uid {})", meta.uid()));
        }
        match read::read_at_most(&mut file, CACHE_MAX_BYTES, meta.len()) {
            Ok(Some(bytes)) => Ok(Some(bytes)),
            Ok(None) => Err(format!("larger than {} KiB", CACHE_MAX_BYTES >> 10)),
            Err(e) => Err(io_reason(&e)),
        }
    }

    /// Writes `bytes` as `name`: to a new file of a random name (created exclusively, mode
    /// 0600), flushed to disk, then renamed over `name`. On failure nothing is left behind.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        use std::io::Write as _;
        use std::os::fd::AsRawFd as _;
        let (tmp, mut file) = (0..16)
            .find_map(|_| {
                let tmp = format!(".costbench-probe-{:016x}.tmp", rand::random::<u64>());
                match self.open_file(&tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                    opened => Some(opened.map(|f| (tmp, f))),
                }
            })
            .unwrap_or_else(|| Err(std::io::ErrorKind::AlreadyExists.into()))
            .map_err(|e| io_reason(&e))?;
        let c = |s: &str| std::ffi::CString::new(s).expect("cache names have no NUL");
        let (tmp_c, name_c) = (c(&tmp), c(name));
        let fd = self.dir.as_raw_fd();
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                // SAFETY: both names are NUL-terminated and outlive the call; `fd` is open.
                let rc = unsafe { libc::renameat(fd, tmp_c.as_ptr(), fd, name_c.as_ptr()) };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        if let Err(e) = written {
            // SAFETY: as above.
            unsafe { libc::unlinkat(fd, tmp_c.as_ptr(), 0) };
            return Err(io_reason(&e));
        }
        // The rename itself reaches the disk with the directory.
        let _ = self.dir.sync_all();
        Ok(())
    }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// An I/O error in a few words, without the "(os error N)" tail.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    short(text)
}

/// Where probes are cached: `$COSTBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/costbench`, else
/// `$HOME/.cache/costbench`, else `<temp dir>/costbench-<uid>` (a name per user, so users of a
/// shared temporary directory do not collide; another user's directory there is not used).
pub fn default_cache_dir() -> PathBuf {
    cache_dir_from(|name| std::env::var_os(name))
}

fn cache_dir_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("COSTBENCH_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = set("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return dir.join("costbench");
    }
    if let Some(home) = set("HOME") {
        return home.join(".cache").join("costbench");
    }
    std::env::temp_dir().join(format!("costbench-{}", effective_uid()))
}

// ---------------------------------------------------------------------------------------------
// Peak: FMA micro-kernels
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    F32,
    F64,
}

/// Whether the probe's AVX-512 kernels may run: built with the `avx512` feature (on by default;
/// the AVX2-only build leaves it out) and a CPU and OS that support AVX-512F.
#[cfg(target_arch = "x86_64")]
fn avx512_usable() -> bool {
    cfg!(feature = "avx512") && std::arch::is_x86_feature_detected!("avx512f")
}

/// Which FMA kernel this CPU runs, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FmaPath {
    /// 24 independent zmm accumulators (`vfmadd` on 512 bits).
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// 12 independent ymm accumulators (`vfmadd` on 256 bits).
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    /// Plain Rust over arrays of lanes, vectorised by the compiler for the build target.
    Portable,
}

/// Independent accumulators of the AVX-512 kernel: with 2 FMA pipes of 4 cycles' latency,
/// at least 8 are needed; 24 leave margin and still fit the 32 zmm registers with the operands.
#[cfg(target_arch = "x86_64")]
const AVX512_ACCUMULATORS: usize = 24;
/// Independent accumulators of the AVX2 kernel (16 ymm registers, 2 hold the operands).
#[cfg(target_arch = "x86_64")]
const AVX2_ACCUMULATORS: usize = 12;
/// Scalar lanes of the portable kernel's accumulator block, per precision.
const PORTABLE_LANES_F32: usize = 64;
const PORTABLE_LANES_F64: usize = 32;

impl FmaPath {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if avx512_usable() {
                return FmaPath::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return FmaPath::Avx2Fma;
            }
        }
        FmaPath::Portable
    }

    fn describe(self) -> String {
        match self {
            #[cfg(target_arch = "x86_64")]
            FmaPath::Avx512 => format!(
                "AVX-512 micro-kernel of {AVX512_ACCUMULATORS} independent 512-bit FMA \
                 accumulators (_mm512_fmadd_ps/_pd)"
            ),
            #[cfg(target_arch = "x86_64")]
            FmaPath::Avx2Fma => format!(
                "AVX2 micro-kernel of {AVX2_ACCUMULATORS} independent 256-bit FMA accumulators \
                 (_mm256_fmadd_ps/_pd)"
            ),
            FmaPath::Portable => format!(
                "portable micro-kernel of {PORTABLE_LANES_F32} f32 / {PORTABLE_LANES_F64} f64 \
                 independent multiply-add lanes, vectorised by the compiler"
            ),
        }
    }

    /// FLOPs one iteration of the kernel executes.
    fn flops_per_iteration(self, precision: Precision) -> f64 {
        let lanes = match (self, precision) {
            #[cfg(target_arch = "x86_64")]
            (FmaPath::Avx512, Precision::F32) => AVX512_ACCUMULATORS * 16,
            #[cfg(target_arch = "x86_64")]
            (FmaPath::Avx512, Precision::F64) => AVX512_ACCUMULATORS * 8,
            #[cfg(target_arch = "x86_64")]
            (FmaPath::Avx2Fma, Precision::F32) => AVX2_ACCUMULATORS * 8,
            #[cfg(target_arch = "x86_64")]
            (FmaPath::Avx2Fma, Precision::F64) => AVX2_ACCUMULATORS * 4,
            (FmaPath::Portable, Precision::F32) => PORTABLE_LANES_F32,
            (FmaPath::Portable, Precision::F64) => PORTABLE_LANES_F64,
        };
        2.0 * lanes as f64
    }

    /// Runs `iterations` iterations; returns a value derived from every accumulator so the
    /// work cannot be dropped.
    fn run(self, precision: Precision, iterations: u64) -> f64 {
        let iterations = black_box(iterations);
        match (self, precision) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx512` is chosen only when the CPU and OS support AVX-512F.
            (FmaPath::Avx512, Precision::F32) => unsafe { x86::fma_f32_avx512(iterations) as f64 },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (FmaPath::Avx512, Precision::F64) => unsafe { x86::fma_f64_avx512(iterations) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2Fma` is chosen only when the CPU and OS support AVX2 and FMA.
            (FmaPath::Avx2Fma, Precision::F32) => unsafe { x86::fma_f32_avx2(iterations) as f64 },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (FmaPath::Avx2Fma, Precision::F64) => unsafe { x86::fma_f64_avx2(iterations) },
            (FmaPath::Portable, Precision::F32) => portable::fma_f32(iterations) as f64,
            (FmaPath::Portable, Precision::F64) => portable::fma_f64(iterations),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The accumulators are arrays indexed by constants inside fully unrolled loops, which the
    //! compiler keeps in registers; `acc = acc·a + b` with a just below 1 converges, so values
    //! stay normal (no denormal slow path) however long the loop runs.
    use super::{AVX2_ACCUMULATORS, AVX512_ACCUMULATORS};
    use std::arch::x86_64::*;
    use std::hint::black_box;

    #[target_feature(enable = "avx512f")]
    pub(super) fn fma_f32_avx512(iterations: u64) -> f32 {
        let a = _mm512_set1_ps(black_box(0.999_9));
        let b = _mm512_set1_ps(black_box(0.000_1));
        let mut acc = [_mm512_setzero_ps(); AVX512_ACCUMULATORS];
        for (k, v) in acc.iter_mut().enumerate() {
            *v = _mm512_set1_ps(k as f32);
        }
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, v| _mm512_add_ps(s, *v));
        _mm512_reduce_add_ps(sum)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn fma_f64_avx512(iterations: u64) -> f64 {
        let a = _mm512_set1_pd(black_box(0.999_9));
        let b = _mm512_set1_pd(black_box(0.000_1));
        let mut acc = [_mm512_setzero_pd(); AVX512_ACCUMULATORS];
        for (k, v) in acc.iter_mut().enumerate() {
            *v = _mm512_set1_pd(k as f64);
        }
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_pd(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_pd(), |s, v| _mm512_add_pd(s, *v));
        _mm512_reduce_add_pd(sum)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma_f32_avx2(iterations: u64) -> f32 {
        let a = _mm256_set1_ps(black_box(0.999_9));
        let b = _mm256_set1_ps(black_box(0.000_1));
        let mut acc = [_mm256_setzero_ps(); AVX2_ACCUMULATORS];
        for (k, v) in acc.iter_mut().enumerate() {
            *v = _mm256_set1_ps(k as f32);
        }
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, v| _mm256_add_ps(s, *v));
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds exactly 8 f32.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma_f64_avx2(iterations: u64) -> f64 {
        let a = _mm256_set1_pd(black_box(0.999_9));
        let b = _mm256_set1_pd(black_box(0.000_1));
        let mut acc = [_mm256_setzero_pd(); AVX2_ACCUMULATORS];
        for (k, v) in acc.iter_mut().enumerate() {
            *v = _mm256_set1_pd(k as f64);
        }
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_pd(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_pd(), |s, v| _mm256_add_pd(s, *v));
        let mut lanes = [0f64; 4];
        // SAFETY: `lanes` holds exactly 4 f64.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }

    /// `a[i] = b[i] + s·c[i]` on 8 lanes at a time (fused: the rounding differs from STREAM's
    /// separate multiply and add in the last bit, the memory traffic does not).
    #[target_feature(enable = "avx512f")]
    pub(super) fn triad_avx512(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
        let n = a.len().min(b.len()).min(c.len());
        let vs = _mm512_set1_pd(s);
        let body = n - n % 8;
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= n, within all three slices.
            unsafe {
                let y = _mm512_loadu_pd(b.as_ptr().add(i));
                let z = _mm512_loadu_pd(c.as_ptr().add(i));
                _mm512_storeu_pd(a.as_mut_ptr().add(i), _mm512_fmadd_pd(vs, z, y));
            }
            i += 8;
        }
        for j in body..n {
            a[j] = b[j] + s * c[j];
        }
    }
}

mod portable {
    //! For CPUs without a dedicated kernel (e.g. aarch64, where the compiler turns `mul_add`
    //! into NEON `fmla`). Elsewhere a separate multiply and add keep the loop vectorisable
    //! without a libm call; it is still 2 FLOPs per lane.
    use super::{PORTABLE_LANES_F32, PORTABLE_LANES_F64};
    use std::hint::black_box;

    macro_rules! portable_kernel {
        ($name:ident, $t:ty, $lanes:expr) => {
            pub(super) fn $name(iterations: u64) -> $t {
                let a: $t = black_box(0.999_9);
                let b: $t = black_box(0.000_1);
                let mut acc = [0.0 as $t; $lanes];
                for (k, v) in acc.iter_mut().enumerate() {
                    *v = k as $t;
                }
                for _ in 0..iterations {
                    for v in acc.iter_mut() {
                        #[cfg(target_arch = "aarch64")]
                        {
                            *v = v.mul_add(a, b);
                        }
                        #[cfg(not(target_arch = "aarch64"))]
                        {
                            *v = *v * a + b;
                        }
                    }
                }
                acc.iter().sum()
            }
        };
    }

    portable_kernel!(fma_f32, f32, PORTABLE_LANES_F32);
    portable_kernel!(fma_f64, f64, PORTABLE_LANES_F64);
}

/// Median GFLOP/s of the FMA kernel on one thread (the caller's) or on every rayon thread.
fn peak_rate(precision: Precision, path: FmaPath, all_threads: bool, plan: &Plan) -> Rate {
    let iterations = calibrate_iterations(precision, path, plan.fma_sample_time);
    // More rayon threads than cores (`--threads 4096` on 2): each thread takes its share of a
    // sample's work, so a sample still lasts about `fma_sample_time`, not minutes.
    let (threads, cores) = (
        rayon::current_num_threads(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let iterations = if all_threads && threads > cores {
        (iterations * cores as u64 / threads as u64).max(1)
    } else {
        iterations
    };
    let flops_per_call = path.flops_per_iteration(precision) * iterations as f64;
    let run = || -> (f64, Duration) {
        if all_threads {
            let start = Instant::now();
            let sinks = rayon::broadcast(|_| path.run(precision, iterations));
            let elapsed = start.elapsed();
            black_box(sinks.iter().sum::<f64>());
            (flops_per_call * sinks.len() as f64, elapsed)
        } else {
            let start = Instant::now();
            black_box(path.run(precision, iterations));
            (flops_per_call, start.elapsed())
        }
    };
    // Warm-up: page in the code, let the clock settle under vector load.
    run();
    let samples = (0..plan.fma_samples)
        .map(|_| {
            let (flops, elapsed) = run();
            flops / elapsed.as_secs_f64().max(1e-9) / 1e9
        })
        .collect();
    Rate::from_samples(samples)
}

/// Iterations for one sample of about `target` on one thread.
fn calibrate_iterations(precision: Precision, path: FmaPath, target: Duration) -> u64 {
    let mut iterations: u64 = 1 << 10;
    loop {
        let start = Instant::now();
        black_box(path.run(precision, iterations));
        let elapsed = start.elapsed();
        if elapsed >= target / 8 || iterations >= 1 << 40 {
            let scale = target.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
            return ((iterations as f64 * scale).ceil() as u64).max(1);
        }
        iterations *= 2;
    }
}

// ---------------------------------------------------------------------------------------------
// Bandwidth: STREAM triad
// ---------------------------------------------------------------------------------------------

/// Bytes STREAM counts per triad element: read b[i] and c[i], write a[i] (f64).
const TRIAD_BYTES_PER_ELEMENT: f64 = 24.0;
/// Assumed last-level cache when the OS reports none.
const DEFAULT_LLC_BYTES: u64 = 32 << 20;

/// Total last-level cache of the machine: the largest outermost cache seen by CPU 0, times
/// the number of such caches (logical CPUs / CPUs sharing one).
fn last_level_cache_bytes(caches: &[CacheLevel], logical_cores: usize) -> u64 {
    caches
        .iter()
        .filter(|c| c.kind != "instruction")
        .max_by_key(|c| (c.level, c.size_bytes))
        .map(|c| {
            let instances = logical_cores
                .div_ceil(c.shared_by_logical_cpus.max(1))
                .max(1);
            c.size_bytes * instances as u64
        })
        .filter(|&bytes| bytes > 0)
        .unwrap_or(DEFAULT_LLC_BYTES)
}

/// Bytes per triad array: `multiple` × the last-level cache, at least 16 MiB, and at most a
/// sixteenth of memory per array so the three arrays always fit.
fn triad_array_bytes(llc_bytes: u64, memory_bytes: u64, multiple: u64) -> u64 {
    let wanted = (llc_bytes * multiple).max(16 << 20);
    let cap = if memory_bytes > 0 {
        (memory_bytes / 16).max(16 << 20)
    } else {
        wanted
    };
    wanted.min(cap)
}

/// Median triad GB/s on one thread and on all rayon threads, over arrays of `array_bytes`.
fn triad_rates(array_bytes: u64, plan: &Plan) -> (Rate, Rate) {
    let n = (array_bytes / 8) as usize;
    let threads = rayon::current_num_threads().max(1);
    // Whole cache lines per thread.
    let chunk = n.div_ceil(threads).next_multiple_of(8).max(8);

    // `vec![0.0; len]` maps zeroed pages lazily; the fill below is their first touch, by the
    // thread that will use them, so each chunk lands in memory near that thread on NUMA
    // machines, as in STREAM's OpenMP version.
    let (mut a_buf, mut b_buf, mut c_buf) = (line_aligned(n), line_aligned(n), line_aligned(n));
    let a = a_buf.slice_mut();
    let b = b_buf.slice_mut();
    let c = c_buf.slice_mut();
    for_each_chunk_on_its_thread(a, chunk, |_, x| x.fill(0.0));
    for_each_chunk_on_its_thread(b, chunk, |_, x| x.fill(1.0));
    for_each_chunk_on_its_thread(c, chunk, |_, x| x.fill(2.0));
    let (b, c): (&[f64], &[f64]) = (b, c);
    let s = black_box(3.0f64);

    let gbps = |elapsed: Duration| {
        TRIAD_BYTES_PER_ELEMENT * n as f64 / elapsed.as_secs_f64().max(1e-9) / 1e9
    };

    let one_pass = |a: &mut [f64]| {
        let start = Instant::now();
        triad(a, b, c, s);
        let elapsed = start.elapsed();
        black_box(&mut *a);
        gbps(elapsed)
    };
    one_pass(a); // warm-up
    let one: Vec<f64> = (0..plan.triad_samples).map(|_| one_pass(a)).collect();

    let all_pass = |a: &mut [f64]| {
        let start = Instant::now();
        for_each_chunk_on_its_thread(a, chunk, |lo, x| {
            let hi = lo + x.len();
            triad(x, &b[lo..hi], &c[lo..hi], s);
        });
        let elapsed = start.elapsed();
        black_box(&mut *a);
        gbps(elapsed)
    };
    all_pass(a); // warm-up
    let all: Vec<f64> = (0..plan.triad_samples).map(|_| all_pass(a)).collect();

    (Rate::from_samples(one), Rate::from_samples(all))
}

/// Calls `f(offset, chunk)` for the i-th `chunk`-long piece of `v` on the i-th rayon thread,
/// all threads at once (`rayon::broadcast`): OpenMP's static schedule. Work stealing could
/// let one thread run two chunks in a row while another is still waking up, and the pass
/// would then measure one thread's bandwidth.
fn for_each_chunk_on_its_thread(v: &mut [f64], chunk: usize, f: impl Fn(usize, &mut [f64]) + Sync) {
    let parts: Vec<Mutex<&mut [f64]>> = v.chunks_mut(chunk.max(1)).map(Mutex::new).collect();
    let threads = rayon::current_num_threads();
    rayon::broadcast(|ctx| {
        // With fewer threads than parts (a changed pool), thread i also takes i + threads, ….
        for i in (ctx.index()..parts.len()).step_by(threads.max(1)) {
            let mut part = parts[i]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(i * chunk, &mut part);
        }
    });
}

/// `len` f64 starting on a 64-byte cache-line boundary, in lazily zeroed pages. (The allocator
/// places large blocks 16 bytes past a page boundary; every 512-bit access would then straddle
/// two cache lines, which cost the C triad about 1.5% of one thread's bandwidth here.)
struct LineAligned {
    buf: Vec<f64>,
    offset: usize,
    len: usize,
}

fn line_aligned(len: usize) -> LineAligned {
    let buf = vec![0.0f64; len + 8];
    let offset = buf.as_ptr().align_offset(64).min(8);
    LineAligned { buf, offset, len }
}

impl LineAligned {
    fn slice_mut(&mut self) -> &mut [f64] {
        &mut self.buf[self.offset..self.offset + self.len]
    }
}

/// STREAM triad: `a[i] = b[i] + s·c[i]`, with 512-bit loads and stores where the CPU has them
/// (wider accesses keep more of one core's memory requests in flight).
fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    #[cfg(target_arch = "x86_64")]
    if avx512_usable() {
        // SAFETY: the CPU and OS support AVX-512F.
        unsafe { x86::triad_avx512(a, b, c, s) };
        return;
    }
    triad_portable(a, b, c, s);
}

fn triad_kernel_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if avx512_usable() {
        return "512-bit loads and stores (AVX-512)";
    }
    "a loop vectorised by the compiler for the build target"
}

#[inline(never)]
fn triad_portable(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    for ((x, y), z) in a.iter_mut().zip(b).zip(c) {
        *x = y + s * z;
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Now as RFC 3339 UTC with microseconds, e.g. "2026-11-26T16:07:28.123456Z".
fn rfc3339_utc_now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(median: f64, samples: usize) -> Rate {
        Rate {
            median,
            samples: vec![median; samples],
        }
    }

    /// A roofline with the sample counts of `plan`, as a cache file of that plan holds.
    fn constructed_for(plan: Plan, peak: f64, bandwidth: f64) -> Roofline {
        let (f, t) = (plan.fma_samples, plan.triad_samples);
        Roofline {
            fingerprint: "0123456789abcdef".to_owned(),
            measured_at: "2026-11-26T16:00:00.000000Z".to_owned(),
            threads: rayon::current_num_threads(),
            f32_gflops_one_thread: rate(peak / 2.0, f),
            f32_gflops_all_threads: rate(peak, f),
            f64_gflops_one_thread: rate(peak / 4.0, f),
            f64_gflops_all_threads: rate(peak / 2.0, f),
            triad_gbps_one_thread: rate(bandwidth / 2.0, t),
            triad_gbps_all_threads: rate(bandwidth, t),
            method: "constructed".to_owned(),
        }
    }

    fn constructed(peak: f64, bandwidth: f64) -> Roofline {
        constructed_for(FULL, peak, bandwidth)
    }

    #[test]
    fn quick_probe_gives_positive_rates() {
        let r = measure(true);
        // What was just measured passes every check a cached probe must pass.
        let json = serde_json::to_vec(&r).unwrap();
        parse_cache_file(&json, &r.fingerprint, r.threads, true).unwrap();
        assert_eq!(r.threads, rayon::current_num_threads());
        assert_eq!(r.f32_gflops_one_thread.samples.len(), QUICK.fma_samples);
        assert_eq!(r.triad_gbps_all_threads.samples.len(), QUICK.triad_samples);
        // f32 against f64 (twice the lanes per instruction) is a timing comparison, which a
        // loaded machine flipped with four builds beside the test: it belongs to the
        // measurements in docs/measurement.md, not to a unit test.
        assert!(!r.method.is_empty());
        assert_eq!(
            r.fingerprint,
            MachineContext::detect(None, r.threads).fingerprint()
        );
    }

    #[test]
    fn attainable_is_the_minimum_of_peak_and_bandwidth_times_intensity() {
        // Peak 400 GFLOP/s, 20 GB/s: the ridge point is at 20 FLOP/byte.
        let r = constructed(400.0, 20.0);
        assert_eq!(r.attainable_gflops(0.5), 10.0);
        assert_eq!(r.attainable_gflops(10.0), 200.0);
        assert_eq!(r.attainable_gflops(20.0), 400.0);
        assert_eq!(r.attainable_gflops(100.0), 400.0);
        assert_eq!(r.attainable_gflops(0.0), 0.0);
        assert_eq!(r.fraction_of_roofline(5.0, 0.5), 0.5);
        assert_eq!(r.fraction_of_roofline(300.0, 100.0), 0.75);
        assert_eq!(r.fraction_of_roofline(1.0, 0.0), 0.0);
    }

    /// A measurement stand-in: a full or quick roofline stamped `stamp`, on `threads` threads.
    fn stamped(stamp: &str, threads: usize, quick: bool) -> Roofline {
        let mut r = constructed_for(if quick { QUICK } else { FULL }, 400.0, 20.0);
        r.measured_at = rfc3339_utc_now();
        r.method = format!("constructed: {stamp}");
        r.threads = threads;
        r
    }

    /// A private cache directory (mode 0700) inside a temporary directory.
    fn private_cache() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        (root, dir)
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn probe(
        dir: &Path,
        fp: &str,
        threads: usize,
        quick: bool,
        force: bool,
        stamp: &str,
    ) -> Probed {
        cached_or_measured_with(dir, fp, threads, quick, force, || {
            stamped(stamp, threads, quick)
        })
    }

    #[test]
    fn cache_is_written_then_reused_without_measuring() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_root, dir) = private_cache();
        let fp = "feedfacecafebeef";
        let first = probe(&dir, fp, 2, false, false, "first");
        assert!(!first.cached && first.warnings.is_empty(), "{first:?}");
        assert_eq!(first.roofline.fingerprint, fp);
        // Created private, the file private too, and no temporary file left behind.
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join(cache_file_name(fp, 2, false));
        assert_eq!(mode(&file), 0o600);
        assert_eq!(names_in(&dir), vec![format!("probe-{fp}-2t.json")]);
        let second = cached_or_measured_with(&dir, fp, 2, false, false, || {
            panic!("a valid cached probe must not be measured again")
        });
        assert!(second.cached && second.warnings.is_empty(), "{second:?}");
        assert_eq!(second.roofline, first.roofline);
    }

    #[test]
    fn quick_and_thread_counts_have_their_own_files() {
        let (_root, dir) = private_cache();
        let fp = "0011223344556677";
        // A quick probe, then a full one: the quick one does not serve the full request, and
        // does not replace it afterwards.
        let quick = probe(&dir, fp, 2, true, false, "quick");
        assert!(!quick.cached);
        let full = probe(&dir, fp, 2, false, false, "full");
        assert!(!full.cached, "a quick probe stood in for a full one");
        let again = probe(&dir, fp, 2, true, true, "quick forced");
        assert!(!again.cached);
        let full_again = probe(&dir, fp, 2, false, false, "unused");
        assert!(full_again.cached, "{full_again:?}");
        assert_eq!(full_again.roofline.method, "constructed: full");
        // A full probe serves a quick request.
        let quick_again = probe(&dir, fp, 2, true, false, "unused");
        assert!(quick_again.cached);
        assert_eq!(quick_again.roofline.method, "constructed: full");
        // Another thread count is another file: the 2-thread probe survives a 1-thread one.
        let one = probe(&dir, fp, 1, false, false, "one thread");
        assert!(!one.cached);
        let two = probe(&dir, fp, 2, false, false, "unused");
        assert!(two.cached);
        assert_eq!(two.roofline.method, "constructed: full");
        assert_eq!(
            names_in(&dir),
            vec![
                format!("probe-{fp}-1t.json"),
                format!("probe-{fp}-2t-quick.json"),
                format!("probe-{fp}-2t.json"),
            ]
        );
        for p in [&quick, &full, &again, &full_again, &quick_again, &one, &two] {
            assert!(p.warnings.is_empty(), "{p:?}");
        }
    }

    #[test]
    fn a_bad_cache_file_is_ignored_with_a_warning_and_replaced() {
        let (_root, dir) = private_cache();
        let fp = "abcdef0123456789";
        let path = dir.join(cache_file_name(fp, 2, false));
        probe(&dir, fp, 2, false, false, "first");
        let valid: Roofline = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let with = |f: &dyn Fn(&mut Roofline)| {
            let mut r = valid.clone();
            f(&mut r);
            serde_json::to_vec(&r).unwrap()
        };
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("not JSON", b"{ not json".to_vec(), "not a cached probe"),
            ("empty", Vec::new(), "not a cached probe"),
            (
                "huge",
                vec![b' '; CACHE_MAX_BYTES as usize + 1],
                "larger than 64 KiB",
            ),
            (
                "another machine",
                with(&|r| r.fingerprint = "ffffffffffffffff".into()),
                "another machine",
            ),
            (
                "other threads",
                with(&|r| r.threads = 3),
                "3 threads, not 2",
            ),
            (
                "a quick probe's samples",
                with(&|r| r.f32_gflops_one_thread.samples.truncate(QUICK.fma_samples)),
                "f32_gflops_one_thread has 3 samples, expected 9",
            ),
            (
                "absurd rate",
                with(&|r| r.f32_gflops_all_threads = rate(1e9, FULL.fma_samples)),
                "not a positive rate",
            ),
            (
                "negative bandwidth",
                with(&|r| r.triad_gbps_one_thread.samples[0] = -1.0),
                "not a positive rate",
            ),
            (
                "median not of its samples",
                with(&|r| r.triad_gbps_all_threads.median *= 10.0),
                "is not the median",
            ),
            (
                "from the future",
                with(&|r| r.measured_at = "2999-01-01T00:00:00Z".into()),
                "in the future",
            ),
            (
                "a date that is not one",
                with(&|r| r.measured_at = "yesterday".into()),
                "not an RFC 3339 time",
            ),
            (
                "escape sequences in the method",
                with(&|r| r.method = "\u{1b}]0;owned\u{7}".into()),
                "not printable",
            ),
        ];
        for (name, bytes, words) in cases {
            std::fs::write(&path, &bytes).unwrap();
            let p = probe(&dir, fp, 2, false, false, name);
            assert!(!p.cached, "{name}: trusted");
            assert_eq!(p.roofline.method, format!("constructed: {name}"));
            assert_eq!(p.warnings.len(), 1, "{name}: {:?}", p.warnings);
            let w = &p.warnings[0];
            assert!(w.contains(words), "{name}: {w}");
            assert!(
                w.contains("ignored") && w.contains("measuring again"),
                "{w}"
            );
            assert!(!w.contains('\n'), "{w}");
            // Measured again and saved: the next call reads it without a warning.
            let next = probe(&dir, fp, 2, false, false, "unused");
            assert!(next.cached && next.warnings.is_empty(), "{name}: {next:?}");
        }
    }

    #[test]
    fn planted_links_and_special_files_are_not_followed() {
        use std::os::unix::fs::symlink;
        let (root, dir) = private_cache();
        let fp = "1234567890abcdef";
        probe(&dir, fp, 2, false, false, "create the directory");
        let path = dir.join(cache_file_name(fp, 2, false));
        std::fs::remove_file(&path).unwrap();
        // A link to a valid probe elsewhere is not read; a link to an endless device neither.
        let elsewhere = root.path().join("elsewhere.json");
        std::fs::write(
            &elsewhere,
            serde_json::to_vec(&stamped("planted", 2, false)).unwrap(),
        )
        .unwrap();
        for target in [elsewhere.as_path(), Path::new("/dev/zero")] {
            symlink(target, &path).unwrap();
            let p = probe(&dir, fp, 2, false, false, "measured");
            assert!(!p.cached);
            assert!(p.warnings[0].contains("symbolic link"), "{:?}", p.warnings);
            // The rename replaced the link itself, never what it points to.
            assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
            std::fs::remove_file(&path).unwrap();
        }
        assert!(
            std::fs::read_to_string(&elsewhere)
                .unwrap()
                .contains("planted"),
            "the link's target was written"
        );
        // A FIFO under the name neither blocks nor is read.
        let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let p = probe(&dir, fp, 2, false, false, "measured");
        assert!(
            p.warnings[0].contains("not a regular file"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn a_directory_that_is_not_private_is_not_used() {
        use std::os::unix::fs::{PermissionsExt as _, symlink};
        let fp = "00aa11bb22cc33dd";
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        for (mode, words) in [
            (0o777, "mode 777"),
            (0o770, "mode 770"),
            (0o757, "mode 757"),
        ] {
            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(mode)).unwrap();
            let p = probe(&shared, fp, 2, false, false, "measured");
            assert!(!p.cached);
            assert_eq!(p.roofline.method, "constructed: measured");
            assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
            let w = &p.warnings[0];
            assert!(
                w.contains("probe cache not used") && w.contains(words),
                "{w}"
            );
            assert!(w.contains("can be written by other users"), "{w}");
            assert!(
                names_in(&shared).is_empty(),
                "written into a shared directory"
            );
        }
        // A symbolic link to a private directory, and a file, are refused too.
        let private = root.path().join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = root.path().join("link");
        symlink(&private, &link).unwrap();
        let p = probe(&link, fp, 2, false, false, "measured");
        assert!(
            p.warnings[0].contains("is a symbolic link"),
            "{:?}",
            p.warnings
        );
        assert!(names_in(&private).is_empty());
        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        let p = probe(&file, fp, 2, false, false, "measured");
        assert!(
            p.warnings[0].contains("is not a directory"),
            "{:?}",
            p.warnings
        );
        // An unsafe fingerprint never becomes a path.
        let p = probe(&private, "../../etc/x", 2, false, false, "measured");
        assert!(p.warnings[0].contains("fingerprint"), "{:?}", p.warnings);
        assert!(names_in(&private).is_empty());
    }

    #[test]
    fn a_directory_of_another_user_is_not_used() {
        // Needs root to give a directory away; as another user, chown fails and this says so.
        let root = tempfile::tempdir().unwrap();
        let theirs = root.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        let c = std::ffi::CString::new(theirs.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::chown(c.as_ptr(), 65534, 65534) } != 0 {
            eprintln!("skipped: cannot give a directory to another user (not root)");
            return;
        }
        let p = probe(&theirs, "00aa11bb22cc33dd", 2, false, false, "measured");
        assert!(!p.cached);
        assert!(
            p.warnings[0].contains("belongs to another user (uid 65534"),
            "{:?}",
            p.warnings
        );
        assert!(names_in(&theirs).is_empty());
    }

    #[test]
    fn an_unwritable_cache_is_a_warning_not_an_error() {
        let p = probe(
            Path::new("/proc/costbench-cannot-exist/cache"),
            "00aa11bb22cc33dd",
            2,
            false,
            false,
            "measured",
        );
        assert!(!p.cached);
        assert_eq!(p.roofline.method, "constructed: measured");
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].starts_with("probe cache not used: could not create '/proc/"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn cached_or_measured_measures_once_then_reuses() {
        let (_root, dir) = private_cache();
        let fp = "abcdefabcdefabcd";
        let first = cached_or_measured(&dir, fp, true, false);
        let second = cached_or_measured(&dir, fp, true, false);
        assert!(!first.cached && second.cached, "{second:?}");
        assert!(first.warnings.is_empty() && second.warnings.is_empty());
        assert_eq!(first.roofline, second.roofline);
    }

    #[test]
    fn the_fuzz_seeds_are_usable_cache_files() {
        // fuzz/seeds/probe_cache_parse: a real quick and full probe (fingerprint and threads
        // set to what the fuzz target asks), so the fuzzer starts from accepted files.
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/probe_cache_parse");
        for (name, quick) in [("quick.json", true), ("full.json", false)] {
            let bytes = std::fs::read(seeds.join(name)).unwrap();
            parse_cache_file(&bytes, "0123456789abcdef", 2, quick)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn cache_dir_follows_the_environment() {
        use std::ffi::OsString;
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(*v))
            }
        };
        assert_eq!(
            cache_dir_from(env(&[("COSTBENCH_CACHE_DIR", "/c"), ("HOME", "/h")])),
            PathBuf::from("/c")
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            PathBuf::from("/x/costbench")
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/h")])),
            PathBuf::from("/h/.cache/costbench")
        );
        assert_eq!(
            cache_dir_from(env(&[])),
            std::env::temp_dir().join(format!("costbench-{}", effective_uid()))
        );
    }

    #[test]
    fn triad_arrays_exceed_the_cache_and_fit_in_memory() {
        let l3 = CacheLevel {
            level: 3,
            kind: "unified".to_owned(),
            size_bytes: 32 << 20,
            shared_by_logical_cpus: 2,
        };
        let l1 = CacheLevel {
            level: 1,
            kind: "data".to_owned(),
            size_bytes: 48 << 10,
            shared_by_logical_cpus: 1,
        };
        assert_eq!(
            last_level_cache_bytes(&[l1.clone(), l3.clone()], 2),
            32 << 20
        );
        assert_eq!(last_level_cache_bytes(&[l1, l3], 16), 256 << 20);
        assert_eq!(last_level_cache_bytes(&[], 4), DEFAULT_LLC_BYTES);
        assert_eq!(triad_array_bytes(32 << 20, 24 << 30, 4), 128 << 20);
        assert_eq!(triad_array_bytes(32 << 20, 1 << 30, 4), 64 << 20);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let stamp = rfc3339_utc_now();
        assert_eq!(stamp.len(), "2026-11-26T16:07:28.123456Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'), "{stamp}");
        let parsed = chrono::DateTime::parse_from_rfc3339(&stamp).unwrap();
        assert!(
            (Utc::now() - parsed.with_timezone(&Utc))
                .num_seconds()
                .abs()
                < 60
        );
    }

    #[test]
    fn fma_kernels_agree_with_their_flop_count_formula() {
        let path = FmaPath::detect();
        for precision in [Precision::F32, Precision::F64] {
            assert!(path.flops_per_iteration(precision) > 0.0);
            assert!(path.run(precision, 1000).is_finite());
            assert!(FmaPath::Portable.run(precision, 1000).is_finite());
        }
        assert_eq!(
            FmaPath::Portable.flops_per_iteration(Precision::F32),
            2.0 * PORTABLE_LANES_F32 as f64
        );
    }
}
