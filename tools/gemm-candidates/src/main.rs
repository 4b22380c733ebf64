//! gemm-candidates: compare f32 matrix-product crates (C = A·B, square n) on this machine.
//!
//! Candidates: `gemm` (0.19, `x86-v4` feature), `faer` (0.24) and `matrixmultiply`
//! (0.3, `threading` feature). See docs/gemm-choice.md in the costbench repository.
//!
//! Methodology (per thread count, per size):
//! * A, B and one C per candidate are allocated once (64-byte aligned, row-major, ld = n).
//! * Each candidate is warmed up for at least `--warmup` seconds, then checked once against a
//!   naive f64 dot product on a few entries (relative tolerance `--tol`).
//! * Samples are taken in `--rounds` round-robin rounds over the candidates (each round takes
//!   `--samples-per-round` samples of every candidate in turn), so slow drifts of machine
//!   load hit every candidate alike. One sample repeats the product until at least
//!   `--min-sample` seconds have passed; its rate is 2·n³·reps / elapsed.
//! * The reported figure is the median over all samples; min and max are reported too.
//!
//! matrixmultiply sizes its thread pool once per process from the MATMUL_NUM_THREADS
//! environment variable (read on first use). So the parent process runs one child process of
//! itself per thread count with MATMUL_NUM_THREADS (and RAYON_NUM_THREADS) set, and merges the
//! children's JSON. With MATMUL_NUM_THREADS=1 matrixmultiply takes its plain single-threaded path,
//! i.e. the 1-thread row is the same code as a build without the `threading` feature.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "gemm-candidates",
    about = "Compare f32 GEMM crates (gemm, faer, matrixmultiply): median GFLOP/s of C = A·B"
)]
struct Args {
    /// Square sizes n to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = vec![256usize, 1024, 2048])]
    sizes: Vec<usize>,

    /// Thread counts to measure (comma-separated); one child process per count.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1usize, 2])]
    threads: Vec<usize>,

    /// Candidates to measure (comma-separated): gemm, faer, matrixmultiply.
    #[arg(long, value_delimiter = ',', default_values_t = vec!["gemm".to_string(), "faer".to_string(), "matrixmultiply".to_string()])]
    candidates: Vec<String>,

    /// Round-robin rounds over the candidates.
    #[arg(long, default_value_t = 3)]
    rounds: usize,

    /// Samples per candidate per round (total samples = rounds × this; must be ≥ 7 in total).
    #[arg(long, default_value_t = 3)]
    samples_per_round: usize,

    /// Minimum duration of one sample, seconds.
    #[arg(long, default_value_t = 0.3)]
    min_sample: f64,

    /// Warm-up per candidate and size, seconds.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,

    /// Relative tolerance of the correctness check.
    #[arg(long, default_value_t = 1e-3)]
    tol: f64,

    /// Print JSON instead of the Markdown tables.
    #[arg(long)]
    json: bool,

    /// Internal: run the measurements in this process for exactly one thread count.
    #[arg(long, hide = true)]
    worker: Option<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Cell {
    library: String,
    threads: usize,
    n: usize,
    median_gflops: f64,
    min_gflops: f64,
    max_gflops: f64,
    samples: usize,
    /// Products in the last sample (each sample repeats the product until ≥ `--min-sample` s).
    reps_per_sample: usize,
    /// Largest relative error over the checked entries.
    check_max_rel_err: f64,
    check_ok: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Report {
    tool: String,
    cpu: String,
    avx512f: bool,
    gemm_x86_v4_feature: bool,
    rounds: usize,
    samples_per_round: usize,
    min_sample_s: f64,
    warmup_s: f64,
    results: Vec<Cell>,
}

// ---------------------------------------------------------------------------------------------
// Aligned buffer

struct Buf {
    raw: Vec<f32>,
    off: usize,
    len: usize,
}

impl Buf {
    fn new(len: usize) -> Self {
        // 64-byte alignment: over-allocate by 16 floats and start at an aligned offset.
        let raw = vec![0.0f32; len + 16];
        let addr = raw.as_ptr() as usize;
        let off = ((64 - addr % 64) % 64) / 4;
        Buf { raw, off, len }
    }
    fn as_slice(&self) -> &[f32] {
        &self.raw[self.off..self.off + self.len]
    }
    fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.raw[self.off..self.off + self.len]
    }
}

/// Deterministic positive inputs in [0.25, 1.25): no cancellation, so relative error of each
/// entry of C is well defined.
fn fill(buf: &mut [f32], mut seed: u64) {
    for x in buf.iter_mut() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = ((seed >> 40) as f32) / ((1u64 << 24) as f32);
        *x = 0.25 + u;
    }
}

// ---------------------------------------------------------------------------------------------
// Candidates: all compute C = A·B with A, B, C row-major n×n, leading dimension n.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lib {
    Gemm,
    Faer,
    MatrixMultiply,
}

impl Lib {
    fn parse(s: &str) -> Option<Lib> {
        match s.trim() {
            "gemm" => Some(Lib::Gemm),
            "faer" => Some(Lib::Faer),
            "matrixmultiply" | "mm" => Some(Lib::MatrixMultiply),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Lib::Gemm => "gemm",
            Lib::Faer => "faer",
            Lib::MatrixMultiply => "matrixmultiply",
        }
    }
}

fn product(lib: Lib, threads: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let ni = n as isize;
    match lib {
        Lib::Gemm => {
            let par = if threads <= 1 {
                gemm::Parallelism::None
            } else {
                gemm::Parallelism::Rayon(threads)
            };
            // gemm computes dst := alpha·dst + beta·lhs·rhs; read_dst = false ignores dst.
            // Strides: (column stride, row stride); row-major ⇒ cs = 1, rs = n.
            unsafe {
                gemm::gemm(
                    n,
                    n,
                    n,
                    c.as_mut_ptr(),
                    1,
                    ni,
                    false,
                    a.as_ptr(),
                    1,
                    ni,
                    b.as_ptr(),
                    1,
                    ni,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    par,
                );
            }
        }
        Lib::Faer => {
            let par = if threads <= 1 {
                faer::Par::Seq
            } else {
                faer::Par::rayon(threads)
            };
            let am = faer::MatRef::from_row_major_slice(a, n, n);
            let bm = faer::MatRef::from_row_major_slice(b, n, n);
            let cm = faer::MatMut::from_row_major_slice_mut(c, n, n);
            faer::linalg::matmul::matmul(cm, faer::Accum::Replace, am, bm, 1.0f32, par);
        }
        Lib::MatrixMultiply => {
            // Threads come from MATMUL_NUM_THREADS (set by the parent for this child process).
            // Strides: (row stride, column stride); row-major ⇒ rs = n, cs = 1.
            unsafe {
                matrixmultiply::sgemm(
                    n,
                    n,
                    n,
                    1.0,
                    a.as_ptr(),
                    ni,
                    1,
                    b.as_ptr(),
                    ni,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    ni,
                    1,
                );
            }
        }
    }
}

/// Compare a few entries of C against a naive f64 dot product. Returns max relative error.
fn check(n: usize, a: &[f32], b: &[f32], c: &[f32]) -> f64 {
    let picks = [
        (0, 0),
        (0, n - 1),
        (n - 1, 0),
        (n - 1, n - 1),
        (n / 2, n / 3),
        (n / 3, n / 2),
        (n / 7, (5 * n) / 7),
        ((3 * n) / 5, n / 11),
    ];
    let mut worst = 0.0f64;
    for &(i, j) in &picks {
        let mut s = 0.0f64;
        for k in 0..n {
            s += a[i * n + k] as f64 * b[k * n + j] as f64;
        }
        let got = c[i * n + j] as f64;
        let rel = if got.is_finite() {
            (got - s).abs() / s.abs().max(f64::MIN_POSITIVE)
        } else {
            f64::INFINITY
        };
        worst = worst.max(rel);
    }
    worst
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let m = v.len();
    if m % 2 == 1 {
        v[m / 2]
    } else {
        0.5 * (v[m / 2 - 1] + v[m / 2])
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|x| x.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// Worker: all measurements for one thread count, in this process.

fn run_worker(args: &Args, threads: usize, libs: &[Lib]) -> Vec<Cell> {
    // gemm's Parallelism::Rayon and faer's Par::rayon run on the global rayon pool.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build_global();

    let mut out = Vec::new();
    for &n in &args.sizes {
        let mut a = Buf::new(n * n);
        let mut b = Buf::new(n * n);
        fill(a.as_mut_slice(), 0x1234_5678 ^ n as u64);
        fill(b.as_mut_slice(), 0x9abc_def0 ^ n as u64);
        let mut cs: Vec<Buf> = libs.iter().map(|_| Buf::new(n * n)).collect();
        let flop = 2.0 * (n as f64).powi(3);

        // Warm-up and correctness check, per candidate.
        let mut errs = vec![0.0f64; libs.len()];
        for (li, &lib) in libs.iter().enumerate() {
            let c = cs[li].as_mut_slice();
            c.fill(f32::NAN); // a product that writes nothing cannot pass the check
            let t0 = Instant::now();
            loop {
                product(lib, threads, n, a.as_slice(), b.as_slice(), c);
                if t0.elapsed().as_secs_f64() >= args.warmup {
                    break;
                }
            }
            errs[li] = check(n, a.as_slice(), b.as_slice(), c);
            if errs[li] > args.tol {
                eprintln!(
                    "WARNING: {} n={} threads={}: max relative error {:.3e} > {:.1e}",
                    lib.name(),
                    n,
                    threads,
                    errs[li],
                    args.tol
                );
            }
        }

        // Round-robin sampling.
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); libs.len()];
        let mut reps_last = vec![0usize; libs.len()];
        for _round in 0..args.rounds {
            for (li, &lib) in libs.iter().enumerate() {
                let c = cs[li].as_mut_slice();
                for _ in 0..args.samples_per_round {
                    let t0 = Instant::now();
                    let mut reps = 0usize;
                    let el = loop {
                        product(lib, threads, n, a.as_slice(), b.as_slice(), c);
                        reps += 1;
                        let el = t0.elapsed().as_secs_f64();
                        if el >= args.min_sample {
                            break el;
                        }
                    };
                    samples[li].push(flop * reps as f64 / el / 1e9);
                    reps_last[li] = reps;
                }
            }
        }

        for (li, &lib) in libs.iter().enumerate() {
            let s = &mut samples[li];
            let mn = s.iter().cloned().fold(f64::INFINITY, f64::min);
            let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let md = median(s);
            eprintln!(
                "  threads={} n={:5} {:15} median {:7.1} GFLOP/s (min {:.1}, max {:.1}, {} samples × {} reps, check rel err {:.1e})",
                threads,
                n,
                lib.name(),
                md,
                mn,
                mx,
                s.len(),
                reps_last[li],
                errs[li]
            );
            out.push(Cell {
                library: lib.name().to_string(),
                threads,
                n,
                median_gflops: md,
                min_gflops: mn,
                max_gflops: mx,
                samples: s.len(),
                reps_per_sample: reps_last[li],
                check_max_rel_err: errs[li],
                check_ok: errs[li] <= args.tol,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Output

fn print_markdown(rep: &Report, sizes: &[usize], libs: &[Lib], threads: &[usize]) {
    let mut o = String::new();
    o.push_str(&format!(
        "CPU: {} (AVX-512F detected: {}); gemm built with x86-v4: {}\n",
        rep.cpu, rep.avx512f, rep.gemm_x86_v4_feature
    ));
    o.push_str(&format!(
        "f32 C = A·B, square n, median GFLOP/s over {} rounds × {} samples (each sample ≥ {} s, warm-up ≥ {} s)\n\n",
        rep.rounds, rep.samples_per_round, rep.min_sample_s, rep.warmup_s
    ));
    let find = |lib: &str, t: usize, n: usize| {
        rep.results
            .iter()
            .find(|c| c.library == lib && c.threads == t && c.n == n)
    };

    o.push_str("| library | threads |");
    for n in sizes {
        o.push_str(&format!(" {} |", n));
    }
    o.push_str("\n|---|---|");
    for _ in sizes {
        o.push_str("---|");
    }
    o.push('\n');
    for lib in libs {
        for &t in threads {
            o.push_str(&format!("| {} | {} |", lib.name(), t));
            for &n in sizes {
                match find(lib.name(), t, n) {
                    Some(c) => o.push_str(&format!(
                        " {:.0}{} |",
                        c.median_gflops,
                        if c.check_ok { "" } else { " (WRONG)" }
                    )),
                    None => o.push_str(" – |"),
                }
            }
            o.push('\n');
        }
    }

    o.push_str("\nMin–max range over all samples, GFLOP/s:\n\n| library | threads |");
    for n in sizes {
        o.push_str(&format!(" {} |", n));
    }
    o.push_str("\n|---|---|");
    for _ in sizes {
        o.push_str("---|");
    }
    o.push('\n');
    for lib in libs {
        for &t in threads {
            o.push_str(&format!("| {} | {} |", lib.name(), t));
            for &n in sizes {
                match find(lib.name(), t, n) {
                    Some(c) => {
                        o.push_str(&format!(" {:.0}–{:.0} |", c.min_gflops, c.max_gflops))
                    }
                    None => o.push_str(" – |"),
                }
            }
            o.push('\n');
        }
    }
    let bad: Vec<_> = rep.results.iter().filter(|c| !c.check_ok).collect();
    if bad.is_empty() {
        o.push_str(&format!(
            "\nCorrectness: all candidates matched a naive f64 dot product on 8 entries (max rel err {:.1e}).\n",
            rep.results
                .iter()
                .map(|c| c.check_max_rel_err)
                .fold(0.0, f64::max)
        ));
    } else {
        o.push_str("\nCorrectness FAILED for:\n");
        for c in bad {
            o.push_str(&format!(
                "- {} threads={} n={}: rel err {:.3e}\n",
                c.library, c.threads, c.n, c.check_max_rel_err
            ));
        }
    }
    print!("{}", o);
    std::io::stdout().flush().ok();
}

fn main() {
    let args = Args::parse();

    let mut libs = Vec::new();
    for s in &args.candidates {
        match Lib::parse(s) {
            Some(l) if !libs.contains(&l) => libs.push(l),
            Some(_) => {}
            None => {
                eprintln!("unknown candidate {s:?} (known: gemm, faer, matrixmultiply)");
                std::process::exit(2);
            }
        }
    }
    if args.rounds * args.samples_per_round < 7 {
        eprintln!("need at least 7 samples: rounds × samples-per-round must be ≥ 7");
        std::process::exit(2);
    }
    if args.sizes.iter().any(|&n| n == 0) || args.threads.iter().any(|&t| t == 0) {
        eprintln!("sizes and thread counts must be ≥ 1");
        std::process::exit(2);
    }

    // Child mode: one thread count, JSON of the cells on stdout.
    if let Some(t) = args.worker {
        let cells = run_worker(&args, t, &libs);
        println!("{}", serde_json::to_string(&cells).unwrap());
        return;
    }

    // Parent mode: one child process per thread count (MATMUL_NUM_THREADS is read once per
    // process by matrixmultiply, so it cannot change within one process).
    let exe = std::env::current_exe().expect("current_exe");
    let sizes_s = args
        .sizes
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let libs_s = libs.iter().map(|l| l.name()).collect::<Vec<_>>().join(",");
    let mut results = Vec::new();
    for &t in &args.threads {
        eprintln!("threads = {t}: running child process (MATMUL_NUM_THREADS={t}, RAYON_NUM_THREADS={t})");
        let output = Command::new(&exe)
            .arg("--worker")
            .arg(t.to_string())
            .arg("--sizes")
            .arg(&sizes_s)
            .arg("--candidates")
            .arg(&libs_s)
            .arg("--rounds")
            .arg(args.rounds.to_string())
            .arg("--samples-per-round")
            .arg(args.samples_per_round.to_string())
            .arg("--min-sample")
            .arg(args.min_sample.to_string())
            .arg("--warmup")
            .arg(args.warmup.to_string())
            .arg("--tol")
            .arg(args.tol.to_string())
            .env("MATMUL_NUM_THREADS", t.to_string())
            .env("RAYON_NUM_THREADS", t.to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("failed to run child process");
        if !output.status.success() {
            eprintln!("child for threads={t} failed: {}", output.status);
            std::process::exit(1);
        }
        let cells: Vec<Cell> =
            serde_json::from_slice(&output.stdout).expect("child printed invalid JSON");
        results.extend(cells);
    }

    let rep = Report {
        tool: format!("gemm-candidates {}", env!("CARGO_PKG_VERSION")),
        cpu: cpu_model(),
        avx512f: avx512f(),
        gemm_x86_v4_feature: true, // fixed in Cargo.toml
        rounds: args.rounds,
        samples_per_round: args.samples_per_round,
        min_sample_s: args.min_sample,
        warmup_s: args.warmup,
        results,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rep).unwrap());
    } else {
        print_markdown(&rep, &args.sizes, &libs, &args.threads);
    }
    if rep.results.iter().any(|c| !c.check_ok) {
        std::process::exit(1);
    }
}
