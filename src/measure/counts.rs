//! Counting a training step: instructions (and, with cache simulation, cache references and
//! misses) of one step of a workload's slice, under valgrind's Cachegrind. Counts of the same
//! binary on the same inputs do not depend on the machine's load, frequency or noise, so they can
//! gate CI at a fraction of a percent where wall-clock time cannot (`docs/ci.md`, "Counts").
//!
//! How a step is isolated: Cachegrind counts a whole process, and valgrind 3.19 offers no client
//! request a Rust program can use to start and stop counting around a step. So costbench runs
//! itself ([`std::env::current_exe`]) twice under Cachegrind, through a hidden command that builds
//! the slice and runs a given number of steps ([`run_steps`]) on one thread with fixed seeds,
//! once with N1 and once with N2 steps, and takes the difference:
//! `per step = (count(N2) − count(N1)) ÷ (N2 − N1)` ([`per_step`]). Process start-up and
//! building the slice are the same in both runs and cancel. The default N1 = 1, N2 = 2 keeps the
//! first step (page faults of fresh buffers, lazily sized scratch) out of the figure, as the
//! sampler's warm-up keeps it out of the times.
//!
//! Determinism: the counted process runs its kernels on rayon's pool of one thread that *is* the
//! main thread ([`start_counting_pool`]): no other thread exists, so no worker spins idle for a
//! time-dependent number of rounds while the main thread works (which made counts vary from run to
//! run with a separate one-thread pool; the figures are in `docs/ci.md`). The simulated caches
//! have a fixed geometry ([`CACHES`]), not this host's, so miss counts do not depend on the CPU
//! either. What still does: the instruction set the process sees. Valgrind 3.19 hides AVX-512, so
//! the products (`gemm`) take their AVX2 + FMA path under Cachegrind even on an AVX-512 host; the
//! path is recorded ([`Counts::isa`]).
//!
//! The parser reads Cachegrind's output file (`--cachegrind-out-file`): its `events:` line names
//! the counters (`Ir`, and with `--cache-sim=yes` `I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw`) and its
//! `summary:` line gives their totals ([`parse_cachegrind`]). A perf_event backend (hardware
//! counters, where a kernel exposes them) would produce the same [`CountRun`]s; none is built
//! here, since the development machine exposes no counters to test one on.

use crate::kernels::Tally;
use crate::train::{MlpTrainer, TrainingStep, TransformerTrainer};
use crate::workload::{Workload, WorkloadKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The counting tool (the only one so far).
pub const TOOL: &str = "cachegrind";

/// Steps of the two counted runs, N1 and N2: the figure is the second step.
pub const DEFAULT_STEPS: (u64, u64) = (1, 2);

/// The environment variable that names the valgrind program (default `valgrind` on `PATH`).
pub const VALGRIND_ENV: &str = "COSTBENCH_VALGRIND";

/// The caches Cachegrind simulates, fixed rather than this host's (which Cachegrind would read
/// with CPUID) so that miss counts are the same on every machine: a common x86 server L1
/// (32 KiB, 8-way, 64-byte lines, instruction and data) and an 8 MiB, 16-way last level.
pub const CACHES: SimulatedCaches = SimulatedCaches {
    i1: CacheGeometry {
        size_bytes: 32 * 1024,
        associativity: 8,
        line_bytes: 64,
    },
    d1: CacheGeometry {
        size_bytes: 32 * 1024,
        associativity: 8,
        line_bytes: 64,
    },
    ll: CacheGeometry {
        size_bytes: 8 * 1024 * 1024,
        associativity: 16,
        line_bytes: 64,
    },
};

/// What `run --counts` records in a report (`counts`, since schema 1.6): the tool, how it was
/// run, the raw totals of both runs and the per-step figures derived from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// `cachegrind`.
    pub tool: String,
    /// What `valgrind --version` printed, e.g. `valgrind-3.19.0`.
    pub tool_version: String,
    /// Whether the caches were simulated (`--cache-sim=yes`): then the runs' events include the
    /// references and misses, and `per_step` their figures.
    pub cache_sim: bool,
    /// The simulated caches' geometry (with `cache_sim`).
    #[serde(default)]
    pub caches: Option<SimulatedCaches>,
    /// Worker threads of the counted process: always 1.
    pub threads: usize,
    /// Seed of the slice's weights and synthetic data.
    pub seed: u64,
    /// The widest instruction set the counted process saw and its kernels used (`avx512f`,
    /// `avx2+fma`, `sse2`, `neon`, …). Under valgrind 3.19 AVX-512 is hidden, so an AVX-512 host
    /// counts the AVX2 + FMA path.
    pub isa: String,
    /// SHA-256 of the costbench executable that was counted: counts are exact for one binary.
    pub executable_sha256: String,
    /// The counted runs, fewer steps first (N1, then N2).
    pub runs: Vec<CountRun>,
    /// Per step: `(total(N2) − total(N1)) ÷ (N2 − N1)` of each figure ([`per_step`]).
    pub per_step: PerStep,
}

/// One process counted under the tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CountRun {
    /// Training steps the process ran (after building the slice).
    pub steps: u64,
    /// The tool's totals by event name (Cachegrind's `summary:` line under its `events:` names:
    /// `Ir`; with cache simulation also `I1mr`, `ILmr`, `Dr`, `D1mr`, `DLmr`, `Dw`, `D1mw`,
    /// `DLmw`).
    pub events: BTreeMap<String, u64>,
    /// Wall time of the process under the tool, seconds.
    pub seconds: f64,
}

/// The per-step figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PerStep {
    /// Instructions executed (`Ir`).
    pub instructions: f64,
    /// References to the first-level caches: every instruction fetch and every data read and
    /// write (`Ir + Dr + Dw`); with cache simulation only.
    #[serde(default)]
    pub cache_refs: Option<f64>,
    /// First-level data cache misses, reads and writes (`D1mr + D1mw`).
    #[serde(default)]
    pub d1_misses: Option<f64>,
    /// Last-level cache misses, instruction and data (`ILmr + DLmr + DLmw`).
    #[serde(default)]
    pub ll_misses: Option<f64>,
}

/// The simulated caches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SimulatedCaches {
    pub i1: CacheGeometry,
    pub d1: CacheGeometry,
    pub ll: CacheGeometry,
}

/// One cache's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CacheGeometry {
    pub size_bytes: u64,
    pub associativity: u32,
    pub line_bytes: u32,
}

impl CacheGeometry {
    /// Cachegrind's `size,associativity,line size` option value.
    fn option(&self) -> String {
        format!(
            "{},{},{}",
            self.size_bytes, self.associativity, self.line_bytes
        )
    }
}

/// A per-step figure: its name in `per_step` (and metric `count.<name>`), its unit, and the
/// events whose sum it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    pub events: &'static [&'static str],
    /// Needs cache simulation.
    pub cache: bool,
}

/// Every per-step figure, in the order of the report's metrics.
pub const FIGURES: [Figure; 4] = [
    Figure {
        name: "instructions",
        unit: "instructions",
        events: &["Ir"],
        cache: false,
    },
    Figure {
        name: "cache_refs",
        unit: "references",
        events: &["Ir", "Dr", "Dw"],
        cache: true,
    },
    Figure {
        name: "d1_misses",
        unit: "misses",
        events: &["D1mr", "D1mw"],
        cache: true,
    },
    Figure {
        name: "ll_misses",
        unit: "misses",
        events: &["ILmr", "DLmr", "DLmw"],
        cache: true,
    },
];

impl PerStep {
    /// The figure called `name` ([`FIGURES`]), if measured.
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "instructions" => Some(self.instructions),
            "cache_refs" => self.cache_refs,
            "d1_misses" => self.d1_misses,
            "ll_misses" => self.ll_misses,
            _ => None,
        }
    }
}

/// Cachegrind's totals from the text of its output file (`file` names it in errors): the
/// `events:` line's names with the `summary:` line's counts. An error is one line naming the
/// file and the field.
pub fn parse_cachegrind(text: &str, file: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut events: Option<(usize, Vec<&str>)> = None;
    let mut summary: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("events:") {
            if let Some((first, _)) = events {
                return Err(format!(
                    "{file}: line {}: a second 'events:' line (the first is line {}); expected one",
                    i + 1,
                    first + 1
                ));
            }
            events = Some((i, rest.split_whitespace().collect()));
        } else if let Some(rest) = line.strip_prefix("summary:") {
            summary = Some((i, rest));
        }
    }
    let Some((events_line, names)) = events else {
        return Err(format!(
            "{file}: no 'events:' line; expected Cachegrind's output (`--cachegrind-out-file`)"
        ));
    };
    if names.is_empty() {
        return Err(format!(
            "{file}: line {}: 'events:' names no event",
            events_line + 1
        ));
    }
    let Some((summary_line, values)) = summary else {
        return Err(format!(
            "{file}: no 'summary:' line; the file is cut short, or the counted process did not exit normally"
        ));
    };
    let values: Vec<&str> = values.split_whitespace().collect();
    if values.len() != names.len() {
        return Err(format!(
            "{file}: line {}: 'summary:' has {} counts for the {} events of line {} ({})",
            summary_line + 1,
            values.len(),
            names.len(),
            events_line + 1,
            names.join(" ")
        ));
    }
    let mut totals = BTreeMap::new();
    for (name, value) in names.iter().zip(&values) {
        let count = value.parse::<u64>().map_err(|_| {
            format!(
                "{file}: line {}: 'summary:' count of {name} is '{}', expected a whole number",
                summary_line + 1,
                crate::diag::show::short(value)
            )
        })?;
        if totals.insert((*name).to_string(), count).is_some() {
            return Err(format!(
                "{file}: line {}: event {name} is named twice in 'events:'",
                events_line + 1
            ));
        }
    }
    Ok(totals)
}

/// The per-step figures of two counted runs: for each figure, its total (the sum of its events)
/// in the longer run minus that in the shorter, divided by the difference in steps. The cache
/// figures are present when both runs have every event they need. An error names the figure or
/// the event: runs in the wrong order or of equal steps, an event missing, or a longer run that
/// counted less (the counts were not deterministic).
pub fn per_step(runs: &[CountRun]) -> Result<PerStep, String> {
    let [short, long] = runs else {
        return Err(format!(
            "runs: expected two counted runs (N1 and N2 steps), found {}",
            runs.len()
        ));
    };
    if long.steps <= short.steps {
        return Err(format!(
            "runs: expected the second run to have more steps than the first, found {} and {}",
            short.steps, long.steps
        ));
    }
    let steps = (long.steps - short.steps) as f64;
    let total = |run: &CountRun, f: &Figure| -> Option<u128> {
        f.events
            .iter()
            .map(|e| run.events.get(*e).map(|&v| u128::from(v)))
            .sum()
    };
    let mut figures = BTreeMap::new();
    for f in &FIGURES {
        let (a, b) = match (total(short, f), total(long, f)) {
            (Some(a), Some(b)) => (a, b),
            _ if f.cache => continue,
            _ => {
                return Err(format!(
                    "runs: event {} missing; expected Cachegrind's instruction count in both runs",
                    f.events[0]
                ));
            }
        };
        if b < a {
            return Err(format!(
                "runs[1].events: {} ({}) is {b} after {} steps, less than the {a} of runs[0] after {}: the counts are not deterministic",
                f.name,
                f.events.join(" + "),
                long.steps,
                short.steps
            ));
        }
        figures.insert(f.name, (b - a) as f64 / steps);
    }
    Ok(PerStep {
        instructions: figures["instructions"],
        cache_refs: figures.get("cache_refs").copied(),
        d1_misses: figures.get("d1_misses").copied(),
        ll_misses: figures.get("ll_misses").copied(),
    })
}

/// What the counted process prints on its standard output, one JSON line: what it ran, so the
/// parent can check both runs built the same slice and computed the same numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepsRun {
    pub workload: String,
    /// SHA-256 of the validated workload as compact JSON (the report's `workload.spec_hash`).
    pub spec_sha256: String,
    pub steps: u64,
    pub seed: u64,
    pub threads: usize,
    /// [`Counts::isa`].
    pub isa: String,
    /// The loss of every step: the shorter run's are the start of the longer run's.
    pub losses: Vec<f32>,
}

/// SHA-256, hex, of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of a validated workload as compact JSON: the report's `workload.spec_hash`.
pub fn spec_sha256(w: &Workload) -> String {
    let compact = serde_json::to_string(w).expect("workloads serialise");
    sha256_hex(compact.as_bytes())
}

/// The widest vector instruction set this process sees, the one the kernels dispatch on:
/// `avx512f`, `avx2+fma`, `avx`, `sse2` (x86-64), `neon` (aarch64), else the architecture.
pub fn seen_isa() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as x86;
        if x86!("avx512f") {
            "avx512f".into()
        } else if x86!("avx2") && x86!("fma") {
            "avx2+fma".into()
        } else if x86!("avx") {
            "avx".into()
        } else {
            "sse2".into()
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon".into()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        std::env::consts::ARCH.into()
    }
}

/// Makes the calling thread rayon's whole global pool: one worker, which is this thread. Parallel
/// kernels then run inline on it, and no other thread exists whose idle spinning could add a
/// time-dependent number of instructions to the count. Call before anything uses rayon.
pub fn start_counting_pool() -> anyhow::Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build_global()
        .map_err(|e| anyhow::anyhow!("could not set up the counting thread pool: {e}"))
}

/// What a workload needs to be counted: a training step (a product sweep has none).
pub fn check_countable(w: &Workload) -> anyhow::Result<()> {
    anyhow::ensure!(
        !matches!(w.kind, WorkloadKind::Gemm(_)),
        "--counts: '{}' is a product sweep; counts are of a training step (a transformer or MLP workload)",
        w.name
    );
    Ok(())
}

/// Builds `w`'s slice from `seed` and runs `steps` training steps (each drawing its batch, then
/// the step), as the counted process does. Call [`start_counting_pool`] first.
pub fn run_steps(w: &Workload, steps: u64, seed: u64) -> anyhow::Result<StepsRun> {
    check_countable(w)?;
    let mut slice: Box<dyn TrainingStep> = match &w.kind {
        WorkloadKind::Transformer(t) => {
            Box::new(TransformerTrainer::new(&t.slice, t.slice_batch, seed))
        }
        WorkloadKind::Mlp(m) => Box::new(MlpTrainer::new(&m.slice, m.slice_batch, seed)),
        WorkloadKind::Gemm(_) => unreachable!("checked above"),
    };
    let mut losses = Vec::new();
    for _ in 0..steps {
        slice.next_batch();
        let mut tally = Tally::new();
        losses.push(slice.step(&mut tally));
    }
    Ok(StepsRun {
        workload: w.name.clone(),
        spec_sha256: spec_sha256(w),
        steps,
        seed,
        threads: rayon::current_num_threads(),
        isa: seen_isa(),
        losses,
    })
}

/// FLOPs of a training step that Cachegrind runs per second of CPU time on the AVX2 + FMA path
/// (valgrind emulates each FMA lane by lane): 40 MFLOP/s for the tiny test transformer and
/// 38.5 MFLOP/s for a one-layer, 32-token slice of GPT-2 at full width, on the development
/// machine (docs/ci.md, "Counts"). Only for [`expected_hours`]'s rough warning.
pub const FLOPS_PER_SECOND_UNDER_TOOL: f64 = 4e7;

/// Roughly how long counting `w` takes, hours: the longer run's steps at
/// [`FLOPS_PER_SECOND_UNDER_TOOL`] (the two runs go at once on two cores). None for a sweep.
pub fn expected_hours(w: &Workload) -> Option<f64> {
    let flops = match &w.kind {
        WorkloadKind::Transformer(t) => {
            crate::workload::plan::transformer_step(&t.slice, t.slice_batch).total_flops()
        }
        WorkloadKind::Mlp(m) => crate::workload::plan::mlp_step(&m.slice, m.slice_batch).total_flops(),
        WorkloadKind::Gemm(_) => return None,
    };
    Some(flops as f64 * DEFAULT_STEPS.1 as f64 / FLOPS_PER_SECOND_UNDER_TOOL / 3600.0)
}

/// How to count a workload.
pub struct Request<'a> {
    /// The valgrind program.
    pub valgrind: &'a OsStr,
    /// The costbench executable to count.
    pub exe: &'a Path,
    /// Its arguments for a run of the given number of steps (the hidden command that calls
    /// [`run_steps`]); they must not vary otherwise, for the reason [`count`] gives.
    pub args: &'a (dyn Fn(u64) -> Vec<OsString> + Sync),
    /// What the counted process reads on its standard input: the workload's TOML text.
    pub stdin: &'a str,
    /// The workload, to check the counted process built the same one.
    pub workload: &'a Workload,
    pub seed: u64,
    /// N1 and N2.
    pub steps: (u64, u64),
    pub cache_sim: bool,
    /// Run the two processes at once (two cores, and memory for two slices).
    pub parallel: bool,
}

/// How to install valgrind, for the error when it is missing.
const INSTALL: &str = "install it (Debian/Ubuntu: sudo apt-get install valgrind; Fedora: sudo dnf install valgrind)";

/// The version valgrind reports (`valgrind-3.19.0`). A missing program is a one-line error
/// saying how to install it.
pub fn tool_version(valgrind: &OsStr) -> anyhow::Result<String> {
    let shown = valgrind.to_string_lossy();
    let out = std::process::Command::new(find_program(valgrind))
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "--counts needs valgrind (its Cachegrind tool counts the instructions), and '{}' was not found: {INSTALL}, or name it with {VALGRIND_ENV}",
                    crate::diag::show::short(&shown)
                )
            } else {
                anyhow::anyhow!(
                    "--counts: could not run '{} --version': {e}",
                    crate::diag::show::short(&shown)
                )
            }
        })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    anyhow::ensure!(
        out.status.success() && version.starts_with("valgrind"),
        "--counts: '{} --version' did not answer as valgrind does (status {}, output '{}'); {INSTALL}",
        crate::diag::show::short(&shown),
        out.status,
        crate::diag::show::short(&version)
    );
    Ok(version)
}

/// `program` as a path: itself when it names a file by a path, else the first executable file
/// of that name in a `PATH` directory (else `program` unchanged, for the error to name).
pub fn find_program(program: &OsStr) -> PathBuf {
    let given = Path::new(program);
    if given.components().count() > 1 {
        return given.to_path_buf();
    }
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| {
            #[cfg(unix)]
            let runnable = {
                use std::os::unix::fs::PermissionsExt as _;
                m.permissions().mode() & 0o111 != 0
            };
            #[cfg(not(unix))]
            let runnable = true;
            m.is_file() && runnable
        })
    };
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(given))
                .find(|p| executable(p))
        })
        .unwrap_or_else(|| given.to_path_buf())
}

/// Counts `req.workload`'s step: runs the two processes under Cachegrind (at once with
/// `parallel`), reads their output files from a private temporary directory, checks both built
/// the same slice and computed the same losses, and derives the per-step figures.
///
/// The counted process gets the same start whoever runs it and from wherever: an empty
/// environment, the workload on its standard input rather than as a path, the executable named
/// `./<file name>` from its own directory, and valgrind told to read no `.valgrindrc` or
/// `VALGRIND_OPTS` (`--command-line-only=yes`). The environment and the arguments are copied onto
/// the process's stack, and their length moves the stack's alignment: with the caller's
/// environment, a step's instruction count changed by 0.02% and its D1 misses by up to 0.04%
/// from one shell to another (`docs/ci.md`, "Counts").
pub fn count(req: &Request) -> anyhow::Result<Counts> {
    let version = tool_version(req.valgrind)?;
    let dir = tempfile::Builder::new()
        .prefix("costbench-counts-")
        .tempdir()
        .map_err(|e| anyhow::anyhow!("--counts: could not create a temporary directory: {e}"))?;
    let (n1, n2) = req.steps;
    let one = |steps: u64| count_one(req, dir.path(), steps);
    let (a, b) = if req.parallel {
        std::thread::scope(|s| {
            let a = s.spawn(|| one(n1));
            let b = one(n2);
            (a.join().expect("a counting thread does not panic"), b)
        })
    } else {
        let a = one(n1);
        (a, one(n2))
    };
    let ((run1, seen1), (run2, seen2)) = (a?, b?);
    let spec = spec_sha256(req.workload);
    for seen in [&seen1, &seen2] {
        anyhow::ensure!(
            seen.spec_sha256 == spec && seen.seed == req.seed,
            "--counts: the counted process built another workload than '{}' (its file changed during the run?)",
            req.workload.name
        );
    }
    anyhow::ensure!(
        seen1.isa == seen2.isa && seen1.threads == 1 && seen2.threads == 1,
        "--counts: the counted processes ran differently (instruction sets {} and {}, threads {} and {})",
        seen1.isa,
        seen2.isa,
        seen1.threads,
        seen2.threads
    );
    let same_start = seen1.losses.len() as u64 == n1
        && seen2.losses.len() as u64 == n2
        && seen1
            .losses
            .iter()
            .zip(&seen2.losses)
            .all(|(x, y)| x.to_bits() == y.to_bits());
    anyhow::ensure!(
        same_start,
        "--counts: the two counted runs computed different losses over their common steps ({:?} and {:?}): the step is not deterministic",
        seen1.losses,
        seen2.losses
    );
    let runs = vec![run1, run2];
    let per_step = per_step(&runs).map_err(|e| anyhow::anyhow!("--counts: {e}"))?;
    let exe = std::fs::read(req.exe).map_err(|e| {
        anyhow::anyhow!(
            "--counts: could not read the executable '{}': {e}",
            req.exe.display()
        )
    })?;
    Ok(Counts {
        tool: TOOL.to_string(),
        tool_version: version,
        cache_sim: req.cache_sim,
        caches: req.cache_sim.then_some(CACHES),
        threads: 1,
        seed: req.seed,
        isa: seen1.isa,
        executable_sha256: sha256_hex(&exe),
        runs,
        per_step,
    })
}

/// The valgrind arguments before the counted program.
pub fn valgrind_args(out_file: &Path, cache_sim: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--tool=cachegrind".into(),
        "--command-line-only=yes".into(),
        "--quiet".into(),
        format!("--cache-sim={}", if cache_sim { "yes" } else { "no" }).into(),
        "--branch-sim=no".into(),
    ];
    if cache_sim {
        args.push(format!("--I1={}", CACHES.i1.option()).into());
        args.push(format!("--D1={}", CACHES.d1.option()).into());
        args.push(format!("--LL={}", CACHES.ll.option()).into());
    }
    let mut out = OsString::from("--cachegrind-out-file=");
    out.push(out_file);
    args.push(out);
    args
}

/// Runs one process of `steps` steps under Cachegrind and reads its totals.
fn count_one(req: &Request, dir: &Path, steps: u64) -> anyhow::Result<(CountRun, StepsRun)> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let out_file: PathBuf = dir.join(format!("cachegrind.{steps}.out"));
    let (Some(exe_dir), Some(exe_name)) = (req.exe.parent(), req.exe.file_name()) else {
        anyhow::bail!(
            "--counts: costbench's executable '{}' has no directory and file name",
            req.exe.display()
        );
    };
    let mut program = OsString::from("./");
    program.push(exe_name);
    let mut command = Command::new(find_program(req.valgrind));
    command
        .env_clear()
        .current_dir(exe_dir)
        .args(valgrind_args(&out_file, req.cache_sim))
        .arg(program)
        .args((req.args)(steps))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Where valgrind finds its tools, for an installation outside its compiled-in directory.
    if let Some(lib) = std::env::var_os("VALGRIND_LIB") {
        command.env("VALGRIND_LIB", lib);
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| anyhow::anyhow!("--counts: could not start valgrind: {e}"))?;
    // The workload is a few KiB, well under a pipe's buffer: written whole before reading.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(req.stdin.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| anyhow::anyhow!("--counts: could not wait for valgrind: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("(no message)");
        anyhow::bail!(
            "--counts: the process counting {steps} steps under Cachegrind failed ({}): {}",
            output.status,
            crate::diag::show::short(last)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seen: StepsRun = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--counts: the process counting {steps} steps did not say what it ran (its output: '{}')",
                crate::diag::show::short(stdout.trim())
            )
        })?;
    let text = std::fs::read_to_string(&out_file).map_err(|e| {
        anyhow::anyhow!(
            "--counts: could not read Cachegrind's output '{}': {e}",
            out_file.display()
        )
    })?;
    let events = parse_cachegrind(&text, &out_file.display().to_string())
        .map_err(|e| anyhow::anyhow!("--counts: {e}"))?;
    Ok((
        CountRun {
            steps,
            events,
            seconds,
        },
        seen,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_CACHES: &str = "\
desc: I1 cache:         32768 B, 64 B, 8-way associative
desc: D1 cache:         32768 B, 64 B, 8-way associative
desc: LL cache:         8388608 B, 64 B, 16-way associative
cmd: /usr/bin/costbench count-steps tiny --steps 2
events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
fl=./csu/../csu/libc-start.c
fn=__libc_start_main@@GLIBC_2.34
128 2 1 1 0 0 0 0 0 0
summary: 1000 10 5 400 40 4 200 20 2
";

    fn run(steps: u64, pairs: &[(&str, u64)]) -> CountRun {
        CountRun {
            steps,
            events: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            seconds: 1.0,
        }
    }

    #[test]
    fn the_summary_is_read_under_the_events_names() {
        let t = parse_cachegrind(WITH_CACHES, "cg.out").unwrap();
        assert_eq!(t.len(), 9);
        assert_eq!(t["Ir"], 1000);
        assert_eq!(t["I1mr"], 10);
        assert_eq!(t["DLmw"], 2);
        // Instructions only, and Windows line ends.
        let t = parse_cachegrind("events: Ir\r\nfl=x\r\n1 2\r\nsummary: 54150939\r\n", "f")
            .unwrap();
        assert_eq!(t.into_iter().collect::<Vec<_>>(), [("Ir".into(), 54150939)]);
    }

    #[test]
    fn a_malformed_file_is_one_line_naming_the_file_and_the_field() {
        let cases: [(&str, &str); 7] = [
            ("", "cg.out: no 'events:' line"),
            ("events: Ir\n1 2\n", "cg.out: no 'summary:' line"),
            ("events:\nsummary: 1\n", "cg.out: line 1: 'events:' names no event"),
            (
                "events: Ir Dr\nsummary: 5\n",
                "cg.out: line 2: 'summary:' has 1 counts for the 2 events of line 1 (Ir Dr)",
            ),
            (
                "events: Ir Dr\nsummary: 5 x7\n",
                "cg.out: line 2: 'summary:' count of Dr is 'x7', expected a whole number",
            ),
            (
                "events: Ir\nsummary: -3\n",
                "cg.out: line 2: 'summary:' count of Ir is '-3', expected a whole number",
            ),
            (
                "events: Ir Ir\nsummary: 1 2\n",
                "cg.out: line 1: event Ir is named twice in 'events:'",
            ),
        ];
        for (text, expected) in cases {
            let e = parse_cachegrind(text, "cg.out").unwrap_err();
            assert!(e.starts_with(expected), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = parse_cachegrind("events: Ir\nevents: Ir\nsummary: 1\n", "cg.out").unwrap_err();
        assert_eq!(
            e,
            "cg.out: line 2: a second 'events:' line (the first is line 1); expected one"
        );
        // A count beyond u64.
        let e = parse_cachegrind("events: Ir\nsummary: 99999999999999999999\n", "cg.out")
            .unwrap_err();
        assert!(e.contains("count of Ir"), "{e}");
    }

    #[test]
    fn a_step_is_the_difference_of_two_runs() {
        let short = run(1, &[("Ir", 1_000_000)]);
        let long = run(3, &[("Ir", 1_000_000 + 2 * 123_457)]);
        let p = per_step(&[short.clone(), long]).unwrap();
        assert_eq!(p.instructions, 123_457.0);
        assert_eq!((p.cache_refs, p.d1_misses, p.ll_misses), (None, None, None));
        // A difference not divisible by the steps: the exact quotient.
        let odd = run(3, &[("Ir", 1_000_001)]);
        assert_eq!(per_step(&[short, odd]).unwrap().instructions, 0.5);

        let all = |steps, k: u64| {
            run(
                steps,
                &[
                    ("Ir", 100 * k),
                    ("I1mr", k),
                    ("ILmr", k),
                    ("Dr", 30 * k),
                    ("D1mr", 3 * k),
                    ("DLmr", 2 * k),
                    ("Dw", 20 * k),
                    ("D1mw", 4 * k),
                    ("DLmw", 5 * k),
                ],
            )
        };
        let p = per_step(&[all(1, 10), all(2, 17)]).unwrap();
        assert_eq!(p.instructions, 700.0);
        assert_eq!(p.cache_refs, Some(150.0 * 7.0));
        assert_eq!(p.d1_misses, Some(7.0 * 7.0));
        assert_eq!(p.ll_misses, Some(8.0 * 7.0));
        assert_eq!(p.get("d1_misses"), p.d1_misses);
    }

    #[test]
    fn runs_that_cannot_give_a_step_are_refused_by_name() {
        let a = run(1, &[("Ir", 10)]);
        let b = run(2, &[("Ir", 30)]);
        let e = per_step(&[b.clone(), a.clone()]).unwrap_err();
        assert!(e.contains("more steps than the first"), "{e}");
        let e = per_step(std::slice::from_ref(&a)).unwrap_err();
        assert!(e.contains("expected two counted runs"), "{e}");
        let fewer = run(2, &[("Ir", 9)]);
        let e = per_step(&[a.clone(), fewer]).unwrap_err();
        assert_eq!(
            e,
            "runs[1].events: instructions (Ir) is 9 after 2 steps, less than the 10 of runs[0] after 1: the counts are not deterministic"
        );
        let e = per_step(&[run(1, &[("Dr", 1)]), run(2, &[("Dr", 2)])]).unwrap_err();
        assert!(e.contains("event Ir missing"), "{e}");
        // A cache figure with an event missing on one side is left out, not invented.
        let p = per_step(&[run(1, &[("Ir", 1), ("D1mr", 1), ("D1mw", 1)]), b]).unwrap();
        assert_eq!(p.d1_misses, None);
    }

    #[test]
    fn the_valgrind_command_fixes_the_simulated_caches() {
        let args = valgrind_args(Path::new("/tmp/x/cg.out"), true);
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--tool=cachegrind",
                "--command-line-only=yes",
                "--quiet",
                "--cache-sim=yes",
                "--branch-sim=no",
                "--I1=32768,8,64",
                "--D1=32768,8,64",
                "--LL=8388608,16,64",
                "--cachegrind-out-file=/tmp/x/cg.out"
            ]
        );
        assert!(
            !valgrind_args(Path::new("f"), false)
                .iter()
                .any(|a| a.to_string_lossy().starts_with("--LL"))
        );
    }

    #[test]
    fn counting_the_default_workload_is_expected_to_take_hours() {
        let hours = |name: &str| {
            expected_hours(&crate::workload::bundled::load_bundled(name).unwrap()).unwrap()
        };
        // 330 GFLOP a step, two steps at 40 MFLOP/s: about 4.6 hours.
        assert!((4.0..5.0).contains(&hours("gpt2-124m")), "{}", hours("gpt2-124m"));
        assert!((0.2..0.3).contains(&hours("mlp-small")), "{}", hours("mlp-small"));
        let tiny = crate::workload::parse_workload(
            include_str!("../../tests/fixtures/tiny.toml"),
            "tiny.toml",
        )
        .unwrap();
        assert!(expected_hours(&tiny).unwrap() * 3600.0 < 10.0);
        assert_eq!(
            expected_hours(&crate::workload::bundled::load_bundled("gemm-sweep").unwrap()),
            None
        );
    }

    #[test]
    fn a_missing_valgrind_says_how_to_install_it() {
        let e = tool_version(OsStr::new("/nonexistent/valgrind")).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("apt-get install valgrind"), "{e}");
        assert!(e.contains("'/nonexistent/valgrind' was not found"), "{e}");
        assert!(!e.contains('\n'));
        // A program that is not valgrind.
        let e = format!("{:#}", tool_version(OsStr::new("true")).unwrap_err());
        assert!(e.contains("did not answer as valgrind does"), "{e}");
    }
}
