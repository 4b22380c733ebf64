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

use anyhow::Context as _;
use chrono::{SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::machine::{CacheLevel, MachineContext};
use crate::diag::write;
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

    /// Every rate is a positive finite median over positive finite samples.
    fn is_plausible(&self) -> bool {
        [
            &self.f32_gflops_one_thread,
            &self.f32_gflops_all_threads,
            &self.f64_gflops_one_thread,
            &self.f64_gflops_all_threads,
            &self.triad_gbps_one_thread,
            &self.triad_gbps_all_threads,
        ]
        .iter()
        .all(|rate| rate.is_plausible())
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

/// The roofline cached as `probe-<fingerprint>.json` in `cache_dir` when it is there, valid,
/// for this fingerprint and thread count (and, unless `quick`, not itself a quick probe);
/// otherwise measures it and writes the file atomically (temporary file, then rename).
/// `force` always measures.
pub fn load_or_measure(
    cache_dir: &Path,
    fingerprint: &str,
    quick: bool,
    force: bool,
) -> anyhow::Result<Roofline> {
    load_or_measure_with(cache_dir, fingerprint, quick, force, || measure(quick))
}

fn load_or_measure_with(
    cache_dir: &Path,
    fingerprint: &str,
    quick: bool,
    force: bool,
    measure: impl FnOnce() -> Roofline,
) -> anyhow::Result<Roofline> {
    let path = cache_dir.join(format!("probe-{fingerprint}.json"));
    if !force && let Some(cached) = read_cached(&path, fingerprint, quick) {
        return Ok(cached);
    }
    let mut roofline = measure();
    // Interrupted while probing: stop here; the cache write is not cut by a signal.
    crate::measure::interrupt::check()?;
    roofline.fingerprint = fingerprint.to_owned();
    let _writing = crate::measure::interrupt::writing();
    write_atomically(&path, &roofline)?;
    Ok(roofline)
}

/// The cached roofline at `path` if it can be used; `None` if missing, unreadable, corrupt, or
/// measured for another machine, thread count or with fewer samples than asked for.
fn read_cached(path: &Path, fingerprint: &str, quick: bool) -> Option<Roofline> {
    let text = std::fs::read_to_string(path).ok()?;
    let cached: Roofline = serde_json::from_str(&text).ok()?;
    let enough_samples = quick || cached.f32_gflops_one_thread.samples.len() >= FULL.fma_samples;
    (cached.fingerprint == fingerprint
        && cached.threads == rayon::current_num_threads()
        && enough_samples
        && cached.is_plausible())
    .then_some(cached)
}

fn write_atomically(path: &Path, roofline: &Roofline) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Could not create the cache directory '{}'", dir.display()))?;
    let json = serde_json::to_string_pretty(roofline).context("Could not serialise the probe")?;
    write::replace(path, (json + "\n").as_bytes())
}

/// Where probes are cached: `$COSTBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/costbench`, else
/// `$HOME/.cache/costbench`, else `<temp dir>/costbench`.
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
    std::env::temp_dir().join("costbench")
}

// ---------------------------------------------------------------------------------------------
// Peak: FMA micro-kernels
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    F32,
    F64,
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
            if std::arch::is_x86_feature_detected!("avx512f") {
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
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU and OS support AVX-512F.
        unsafe { x86::triad_avx512(a, b, c, s) };
        return;
    }
    triad_portable(a, b, c, s);
}

fn triad_kernel_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
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

    fn rate(median: f64) -> Rate {
        Rate {
            median,
            samples: vec![median; 9],
        }
    }

    fn constructed(peak: f64, bandwidth: f64) -> Roofline {
        Roofline {
            fingerprint: "0123456789abcdef".to_owned(),
            measured_at: "2026-11-26T16:00:00.000000Z".to_owned(),
            threads: rayon::current_num_threads(),
            f32_gflops_one_thread: rate(peak / 2.0),
            f32_gflops_all_threads: rate(peak),
            f64_gflops_one_thread: rate(peak / 4.0),
            f64_gflops_all_threads: rate(peak / 2.0),
            triad_gbps_one_thread: rate(bandwidth / 2.0),
            triad_gbps_all_threads: rate(bandwidth),
            method: "constructed".to_owned(),
        }
    }

    #[test]
    fn quick_probe_gives_positive_rates() {
        let r = measure(true);
        assert!(r.is_plausible(), "{r:?}");
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

    #[test]
    fn cache_is_written_then_reused_without_measuring() {
        let dir = tempfile::tempdir().unwrap();
        let fp = "feedfacecafebeef";
        let first = load_or_measure_with(dir.path(), fp, true, false, || {
            let mut r = constructed(400.0, 20.0);
            r.measured_at = rfc3339_utc_now();
            r
        })
        .unwrap();
        assert_eq!(first.fingerprint, fp);
        assert!(dir.path().join(format!("probe-{fp}.json")).is_file());
        let second = load_or_measure_with(dir.path(), fp, true, false, || {
            panic!("a valid cached probe must not be measured again")
        })
        .unwrap();
        assert_eq!(second, first);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn cache_is_remeasured_when_corrupt_forced_or_for_another_machine() {
        let dir = tempfile::tempdir().unwrap();
        let fp = "0011223344556677";
        let path = dir.path().join(format!("probe-{fp}.json"));
        let stamped = |stamp: &str| {
            let mut r = constructed(400.0, 20.0);
            r.measured_at = stamp.to_owned();
            r
        };
        load_or_measure_with(dir.path(), fp, true, false, || stamped("first")).unwrap();

        std::fs::write(&path, "{ not json").unwrap();
        let r = load_or_measure_with(dir.path(), fp, true, false, || stamped("second")).unwrap();
        assert_eq!(r.measured_at, "second");

        let r = load_or_measure_with(dir.path(), fp, true, true, || stamped("forced")).unwrap();
        assert_eq!(r.measured_at, "forced");

        // A file whose content names another machine is not trusted.
        let mut other = stamped("other machine");
        other.fingerprint = "ffffffffffffffff".to_owned();
        std::fs::write(&path, serde_json::to_string(&other).unwrap()).unwrap();
        let r = load_or_measure_with(dir.path(), fp, true, false, || stamped("third")).unwrap();
        assert_eq!(r.measured_at, "third");

        // A quick probe does not stand in for a full one.
        let mut quick = stamped("quick");
        quick
            .f32_gflops_one_thread
            .samples
            .truncate(QUICK.fma_samples);
        quick.fingerprint = fp.to_owned();
        std::fs::write(&path, serde_json::to_string(&quick).unwrap()).unwrap();
        let r = load_or_measure_with(dir.path(), fp, false, false, || stamped("full")).unwrap();
        assert_eq!(r.measured_at, "full");
    }

    #[test]
    fn load_or_measure_measures_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let fp = "abcdefabcdefabcd";
        let first = load_or_measure(dir.path(), fp, true, false).unwrap();
        let second = load_or_measure(dir.path(), fp, true, false).unwrap();
        // Same timestamp: the second call read the file instead of measuring. (Whole-struct
        // equality would need serde_json's `float_roundtrip` for the last digit of samples.)
        assert_eq!(first.measured_at, second.measured_at);
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.method, second.method);
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
            std::env::temp_dir().join("costbench")
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
