//! The `costbench` command line: clap definitions turned into calls into the library.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use costbench::catalog::{Catalog, Plan};
use costbench::measure::execute::{self, SamplingChoice};
use costbench::measure::machine::{self, MachineContext};
use costbench::measure::probe::{self, Roofline};
use costbench::measure::sampler::Progress;
use costbench::model::estimate::{self as cost, ClusterSize, DEFAULT_DEADLINE_DAYS, Scenario};
use costbench::model::{Assumptions, Profile, validation};
use costbench::render::export;
use costbench::render::summary;
use costbench::report::schema::Measurement;
use costbench::report::{self, store};
use costbench::workload::{bundled, plan};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "costbench",
    version,
    about = "Measure training-step workloads on this CPU and estimate what training would cost on accelerators"
)]
struct Cli {
    /// Worker threads for the kernels (default: one per logical core).
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// No progress bars or warnings on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the bundled workloads.
    List,
    /// Validate a workload (bundled name or file) and describe it, without running it.
    Check {
        /// Bundled workload name or path to a workload TOML file.
        workload: String,
    },
    /// Measure workloads' slices on this CPU and save a report per workload in results/.
    Run(RunArgs),
    /// List the accelerators, instances and prices the cost model uses, each with its source and
    /// as-of date (the bundled catalog, with --catalog and --price applied).
    Catalog {
        #[command(flatten)]
        catalog: CatalogArgs,
        /// Print the effective catalog as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The cost model alone, without measuring: what training a model on N tokens costs on
    /// every catalog option.
    Estimate(EstimateArgs),
    /// Measure this machine's roofline: peak GFLOP/s (f32, f64; one thread and all) and memory
    /// bandwidth. Cached per machine and reused by `run`.
    Probe {
        /// Measure again even if a cached result exists.
        #[arg(long)]
        force: bool,
        /// Fewer, shorter samples.
        #[arg(long)]
        quick: bool,
        /// Print the roofline as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare two reports, or two directories of reports, metric by metric: the relative change
    /// with a bootstrap interval and a verdict (improved, regressed, no change, inconclusive).
    /// Exits 3 with --fail-on-regression when a metric regressed beyond the threshold.
    Compare(CompareArgs),
    /// Export one report's figures as a table, Markdown, JSON, Bencher Metric Format or
    /// github-action-benchmark files.
    Report(ReportArgs),
    /// The reports of a directory in time order: each metric's series, with change points
    /// detected by E-divisive means (docs/ci.md); a table, and an SVG chart with --svg.
    History(HistoryArgs),
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// BASE and NEW: report files or directories (a directory stands for the newest report of
    /// each workload in it). With --baseline, only NEW (default: --results-dir).
    #[arg(value_name = "PATH", num_args = 0..=2)]
    paths: Vec<PathBuf>,
    /// Compare against the named baseline saved by `costbench run --save-baseline NAME`.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Directory of reports (and of results/baselines/).
    #[arg(long, default_value = "results")]
    results_dir: PathBuf,
    /// Noise band in percent: changes whose interval stays within ±PERCENT are "no change".
    #[arg(long, value_name = "PERCENT", default_value_t = 2.0, value_parser = non_negative_percent, allow_negative_numbers = true)]
    noise: f64,
    /// Significance level of the Mann–Whitney U test.
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction, allow_negative_numbers = true)]
    significance: f64,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compare times and GFLOP/s even when the reports come from different machines.
    #[arg(long)]
    raw_times: bool,
    /// Exit with code 3 when a measured metric regressed by more than PERCENT (default: the
    /// noise band), i.e. its whole interval lies beyond it and the change is significant.
    #[arg(long, value_name = "PERCENT", num_args = 0..=1, value_parser = non_negative_percent, allow_negative_numbers = true)]
    fail_on_regression: Option<Option<f64>>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: export::Format,
    /// Write the output to FILE (for github-action-benchmark: a directory for its two files);
    /// the terminal table is still printed.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Report files (several: one table / Markdown section each, one merged BMF or
    /// github-action-benchmark export, one JSON document).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
struct HistoryArgs {
    /// Directory of reports (default: results).
    dir: Option<PathBuf>,
    /// Only these workloads (repeatable).
    #[arg(long)]
    workload: Vec<String>,
    /// Only metrics whose id contains TEXT (repeatable; default: every measured metric; cost
    /// figures with `--metric cost.`).
    #[arg(long, value_name = "TEXT")]
    metric: Vec<String>,
    /// Also draw the series as an SVG chart into FILE (change points marked).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Print the history as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the history as a self-contained HTML page (table and charts) into FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Significance level of the change-point permutation test.
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction, allow_negative_numbers = true)]
    significance: f64,
}

#[derive(Args, Debug)]
struct CatalogArgs {
    /// A catalog file overlaid on the bundled one (negotiated prices, a new chip or instance).
    #[arg(long, value_name = "FILE")]
    catalog: Vec<PathBuf>,
    /// A quick what-if price, INSTANCE:PLAN=USD per instance-hour (e.g. p5.48xlarge:on_demand=40).
    #[arg(long, value_name = "INSTANCE:PLAN=USD")]
    price: Vec<String>,
}

impl CatalogArgs {
    fn load(&self) -> Result<Catalog> {
        let mut c = Catalog::bundled();
        for path in &self.catalog {
            let overlay = Catalog::load_overlay(path)?;
            c.overlay(overlay)?;
        }
        for spec in &self.price {
            c.set_price(spec)?;
        }
        Ok(c)
    }
}

/// A transformer given on the command line (`costbench estimate --layers 80 --d-model 8192 …`).
#[derive(Args, Debug)]
struct ModelFlags {
    /// Transformer blocks.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    layers: Option<u32>,
    /// Hidden size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    d_model: Option<u32>,
    /// Attention heads (divides d_model).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    heads: Option<u32>,
    /// Key/value heads for grouped-query attention (divides heads; default: heads).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    kv_heads: Option<u32>,
    /// Feed-forward width.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    d_ff: Option<u32>,
    /// Vocabulary size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    vocab: Option<u32>,
    /// Tokens per sequence.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    seq_len: Option<u32>,
    /// Sequences per optimizer step (default 1024).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    batch: Option<u32>,
    /// swiglu (three FFN matrices, RMSNorm, no position table: Llama) or gelu (two, LayerNorm,
    /// learned positions: GPT). Default swiglu.
    #[arg(long, value_parser = ["swiglu", "gelu"])]
    activation: Option<String>,
    /// Output head shares the embedding matrix.
    #[arg(long)]
    tied_embeddings: bool,
}

impl ModelFlags {
    fn given(&self) -> bool {
        self.layers.is_some()
            || self.d_model.is_some()
            || self.heads.is_some()
            || self.d_ff.is_some()
    }

    /// The workload these flags describe, validated by the same rules as a workload file.
    fn workload(&self, tokens: Option<f64>) -> Result<costbench::workload::Workload> {
        let need = |v: Option<u32>, flag: &str| {
            v.ok_or_else(|| anyhow::anyhow!("estimate: {flag} is required when the model is given as flags (also needed: --layers, --d-model, --heads, --d-ff, --vocab, --seq-len, --tokens)"))
        };
        let tokens = tokens.ok_or_else(|| {
            anyhow::anyhow!("estimate: --tokens is required when the model is given as flags")
        })?;
        let swiglu = self.activation.as_deref() != Some("gelu");
        let toml = format!(
            "name = \"cli-model\"\nkind = \"transformer\"\ndescription = \"a transformer given on the command line\"\n[target]\nlayers = {}\nd_model = {}\nheads = {}\nkv_heads = {}\nd_ff = {}\nvocab = {}\nseq_len = {}\nnorm = \"{}\"\nactivation = \"{}\"\npositions = \"{}\"\ntied_embeddings = {}\ntokens = {:e}\nbatch = {}\n[measure]\nlayers = 1\nbatch = 1\nseq_len = 1\nd_model = {}\nd_ff = 1\nvocab = 1\n",
            need(self.layers, "--layers")?,
            need(self.d_model, "--d-model")?,
            need(self.heads, "--heads")?,
            self.kv_heads.or(self.heads).unwrap_or(1),
            need(self.d_ff, "--d-ff")?,
            need(self.vocab, "--vocab")?,
            need(self.seq_len, "--seq-len")?,
            if swiglu { "rmsnorm" } else { "layernorm" },
            if swiglu { "swiglu" } else { "gelu" },
            if swiglu { "none" } else { "learned" },
            self.tied_embeddings,
            tokens,
            self.batch.unwrap_or(1024),
            self.heads.unwrap_or(1),
        );
        // Nothing is run for an estimate: the slice is a placeholder, one head-width wide.
        costbench::workload::parse::parse_workload_with_memory(
            &toml,
            "command-line flags",
            u64::MAX,
        )
        .map_err(|e| anyhow::anyhow!(flag_error(&e.to_string())))
    }
}

/// A workload error about the hidden TOML built from `estimate`'s model flags, in the flags'
/// terms: `command-line flags:7:9: target.heads: …` → `--heads: …`.
fn flag_error(message: &str) -> String {
    let mut rest = message
        .strip_prefix("command-line flags")
        .map(|r| r.trim_start_matches(|c: char| c == ':' || c == ' ' || c.is_ascii_digit()))
        .unwrap_or(message)
        .to_string();
    for field in [
        "kv_heads", "heads", "layers", "d_model", "d_ff", "vocab", "seq_len", "batch", "tokens",
    ] {
        rest = rest.replace(
            &format!("target.{field}"),
            &format!("--{}", field.replace('_', "-")),
        );
    }
    format!("estimate: {rest}")
}

#[derive(Args, Debug)]
struct EstimateArgs {
    /// A bundled workload name or workload file whose target is priced (or give the model as
    /// flags: --layers --d-model --heads [--kv-heads] --d-ff --vocab --seq-len --tokens).
    workload: Option<String>,
    #[command(flatten)]
    model: ModelFlags,
    /// Training tokens (overrides the workload's; required with --layers etc.). Accepts 2e12.
    #[arg(long, value_parser = positive_count, allow_negative_numbers = true)]
    tokens: Option<f64>,
    /// Efficiency scenario: `published` (per-chip published MFU) or `custom` (needs --mfu).
    #[arg(long, default_value = "published", value_parser = ["published", "custom"])]
    scenario: String,
    /// Model FLOPs utilisation for every option (implies --scenario custom).
    #[arg(long, value_parser = unit_fraction, allow_negative_numbers = true)]
    mfu: Option<f64>,
    /// Exactly this many chips per option (rounded up to whole instances).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    chips: Option<u32>,
    /// The fewest whole instances that finish within this many days (default 30).
    #[arg(long, value_parser = positive_days, conflicts_with = "chips", allow_negative_numbers = true)]
    deadline_days: Option<f64>,
    /// Only these pricing plans (on_demand, reserved_1yr, reserved_3yr, capacity_block, spot);
    /// repeatable. Default: all.
    #[arg(long, value_name = "PLAN")]
    plan: Vec<Plan>,
    /// Print the model's validation against Llama 2's published GPU-hours instead.
    #[arg(long)]
    validate: bool,
    #[command(flatten)]
    catalog: CatalogArgs,
}

fn positive_count(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (1.0..=1e18).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a positive number up to 1e18 such as 2e12, found '{s}'"
        )),
    }
}

fn unit_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "expected a fraction in (0, 1], e.g. 0.4, found '{s}'"
        )),
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Bundled workload names or workload files (default: the bundled default, gpt2-124m).
    workloads: Vec<String>,
    /// A short run: 0.5 s warm-up, ±3% target, 5 s budget per workload.
    #[arg(long)]
    quick: bool,
    /// Samples to take before the precision target may stop sampling.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    min_samples: Option<u64>,
    /// Sampling budget per workload in seconds (default: 30 steps' time, clamped to 10–60 s).
    #[arg(long, value_parser = positive_seconds, allow_negative_numbers = true)]
    max_time: Option<f64>,
    /// Minimum warm-up in seconds (default 3; at least one step always runs).
    #[arg(long, value_parser = non_negative_seconds, allow_negative_numbers = true)]
    warmup: Option<f64>,
    /// Stop when the median's 95% interval is within ±PERCENT (default 1).
    #[arg(long, value_name = "PERCENT", value_parser = positive_percent, allow_negative_numbers = true)]
    precision: Option<f64>,
    /// Seed of the initial weights, the synthetic data and every bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A name for this testbed, recorded in the report (the hostname never is).
    #[arg(long)]
    label: Option<String>,
    /// Write the report to FILE (replacing it) or to standard output with `-`, instead of a new
    /// file in --results-dir. Only with a single workload.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Directory for new reports.
    #[arg(long, default_value = "results")]
    results_dir: PathBuf,
    /// Do not measure or load this machine's roofline (no roofline fractions in the report).
    #[arg(long)]
    no_probe: bool,
    /// Also measure each transformer slice at 3–4 sizes and fit time = a + b·FLOPs (R² < 0.98
    /// warns that extrapolating the slice is not supported).
    #[arg(long)]
    scaling: bool,
    /// Also store each report as the named baseline (results/baselines/NAME/<workload>.json,
    /// replacing the previous one) for `costbench compare --baseline NAME`.
    #[arg(long, value_name = "NAME")]
    save_baseline: Option<String>,
    /// Also write each report as a self-contained HTML page with charts, beside the JSON
    /// (`<report>.html`).
    #[arg(long)]
    html: bool,
    #[command(flatten)]
    catalog: CatalogArgs,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, found '{s}'"
        )),
    }
}

fn positive_days(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 36_500.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of days up to 36500, found '{s}'"
        )),
    }
}

fn non_negative_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number of seconds ≥ 0, found '{s}'")),
    }
}

fn non_negative_percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a percentage from 0 to 100, e.g. 5, found '{s}'"
        )),
    }
}

fn positive_percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 100.0 => Ok(v),
        _ => Err(format!(
            "expected a percentage between 0 and 100, found '{s}'"
        )),
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `costbench estimate … | head` would panic on a closed pipe;
    // restore the default so the process ends quietly, as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<costbench::measure::interrupt::Interrupted>() => {
            eprintln!("error: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Exit code of a comparison whose CI gate fired (errors are 1, usage errors 2).
const EXIT_REGRESSION: u8 = 3;

fn dispatch(cli: Cli) -> Result<u8> {
    if let Some(n) = cli.threads {
        let n = n as usize;
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("could not start the thread pool")?;
    }
    let quiet = cli.quiet;
    match cli.command {
        Command::List => {
            for name in bundled::names() {
                // Listing does not depend on this machine's memory.
                let w = bundled::load_bundled_with_memory(name, u64::MAX)?;
                println!("{name:<12} {}", w.description);
            }
            Ok(())
        }
        Command::Check { workload } => {
            let available = costbench::workload::available_memory_bytes();
            let w = bundled::resolve_for_run(&workload, available)?;
            print!("{}", summary::describe(&w));
            let mem = plan::slice_memory_bytes(&w);
            println!(
                "  valid; the slice needs about {:.2} GiB",
                mem as f64 / (1u64 << 30) as f64
            );
            Ok(())
        }
        Command::Probe { force, quick, json } => {
            let machine = MachineContext::detect(None, rayon::current_num_threads());
            let dir = probe::default_cache_dir();
            let roofline = probe::load_or_measure(&dir, &machine.fingerprint(), quick, force)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&roofline)?);
            } else {
                print!("{}", summary::roofline(&roofline, &machine));
            }
            Ok(())
        }
        Command::Run(args) => run(args, quiet),
        Command::Catalog { catalog, json } => {
            let c = catalog.load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                print!("{}", costbench::render::catalog::table(&c));
                println!("catalog hash {} (as of {})", c.hash(), c.as_of());
            }
            if !quiet {
                for w in c.stale_prices(chrono::Utc::now().date_naive(), 12) {
                    eprintln!("warning: {w}");
                }
            }
            Ok(())
        }
        Command::Estimate(args) => estimate(args),
        Command::Compare(args) => return compare(args, quiet),
        Command::Report(args) => report_export(args, quiet),
        Command::History(args) => history(args),
    }
    .map(|()| 0)
}

/// Whether to draw progress bars: only for a person watching a terminal.
fn show_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

fn run(args: RunArgs, quiet: bool) -> Result<()> {
    costbench::measure::interrupt::install();
    let names = if args.workloads.is_empty() {
        vec![bundled::DEFAULT_WORKLOAD.to_string()]
    } else {
        args.workloads.clone()
    };
    anyhow::ensure!(
        args.output.is_none() || names.len() == 1,
        "--output takes one report; {} workloads were named (leave --output out to save one file per workload in {})",
        names.len(),
        args.results_dir.display()
    );
    // Validate every workload, and the destination, before measuring anything.
    let available = costbench::workload::available_memory_bytes();
    let parsed = names
        .iter()
        .map(|n| bundled::resolve_for_run(n, available).map(|w| (n.clone(), w)))
        .collect::<Result<Vec<_>, _>>()?;
    // Every input (catalog, prices, baseline name) is validated before any directory is
    // created, so a refused run leaves nothing behind.
    let catalog = args.catalog.load()?;
    let baseline = match &args.save_baseline {
        Some(name) => Some(costbench::compare::baseline_dir(&args.results_dir, name)?),
        None => None,
    };
    let to_stdout = args.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    anyhow::ensure!(
        !(args.html && to_stdout),
        "--html writes a page beside the report file; it cannot go with --output -"
    );
    match &args.output {
        Some(p) if p.as_os_str() == "-" => {}
        Some(p) => {
            anyhow::ensure!(
                !p.is_dir(),
                "--output '{}' is a directory; expected a file path",
                p.display()
            );
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            store::check_writable(dir, "--output")?;
        }
        None => store::check_writable(&args.results_dir, "--results-dir")?,
    }
    if let Some(dir) = &baseline {
        store::check_writable(dir, "--save-baseline")?;
    }
    // With the report on stdout, the human summary goes to stderr.
    let say = |text: &str| {
        if to_stdout {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };

    let threads = rayon::current_num_threads();
    let machine = MachineContext::detect(args.label.clone(), threads);
    let mut machine_warnings = Vec::new();
    if let Some(w) = machine.frequency_scaling_warning() {
        machine_warnings.push(w);
    }
    for (name, cpu) in machine::busy_processes(20.0) {
        machine_warnings.push(format!(
            "another process, '{name}', is using {cpu:.0}% of a core: measurements will be noisy; stop it or run later"
        ));
    }
    let roofline: Option<Roofline> = if args.no_probe {
        None
    } else {
        let bar = spinner(
            show_progress(quiet),
            "probing this machine's roofline (cached afterwards)",
        );
        let r = probe::load_or_measure(
            &probe::default_cache_dir(),
            &machine.fingerprint(),
            false,
            false,
        )?;
        bar.finish_and_clear();
        Some(r)
    };
    let choice = SamplingChoice {
        quick: args.quick,
        min_samples: args.min_samples.map(|n| n as usize),
        max_time_s: args.max_time,
        warmup_s: args.warmup,
        target: args.precision.map(|p| p / 100.0),
        seed: args.seed,
    };

    say(&format!(
        "costbench {} on {} threads; {}\n",
        env!("CARGO_PKG_VERSION"),
        threads,
        machine.cpu_model
    ));
    for (source, w) in &parsed {
        say(&summary::describe(w));
        let bar = sampling_bar(show_progress(quiet));
        costbench::measure::interrupt::check()?;
        let measured = execute::measure(w, &choice, roofline.as_ref(), |label, p| {
            update_bar(&bar, label, p)
        });
        bar.finish_and_clear();
        costbench::measure::interrupt::check()?;
        let scaling = if args.scaling {
            let bar = sampling_bar(show_progress(quiet));
            let available = costbench::workload::available_memory_bytes();
            let check = execute::scaling_check(w, &choice, available, |label, p| {
                update_bar(&bar, label, p)
            })?;
            bar.finish_and_clear();
            costbench::measure::interrupt::check()?;
            Some(check)
        } else {
            None
        };
        let created_at = chrono::Utc::now();
        let mut report = report::build(
            report::workload_record(w, source),
            measured,
            machine.clone(),
            roofline.clone(),
            &created_at,
            &machine_warnings,
        );
        if let Some(check) = scaling {
            report.warnings.extend(check.warning());
            report.scaling = Some(check);
        }
        say(&summary::measured(&report));
        if let costbench::workload::WorkloadKind::Transformer(t) = &w.kind {
            let (record, table) = price_target(t, &report, &catalog);
            say(&table);
            report.cost = Some(record);
        }
        if let Measurement::Step(m) = &report.measurement {
            anyhow::ensure!(
                m.flops.relative_difference.abs() <= execute::ACCOUNTING_TOLERANCE,
                "{}: executed FLOPs differ from the analytic formula by {:.3}% (limit {:.1}%): the step does not run the ops its plan lists; no report written; please report this",
                w.name,
                m.flops.relative_difference * 100.0,
                execute::ACCOUNTING_TOLERANCE * 100.0
            );
        }
        if !quiet {
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
        }
        // The last moment to stop cleanly: nothing of this report is on disk yet.
        costbench::measure::interrupt::check()?;
        match &args.output {
            Some(_) if to_stdout => print!("{}", store::to_json(&report)),
            Some(path) => {
                store::save_to(&report, path)?;
                say(&format!("  report: {}\n", path.display()));
                html_beside(&report, path, args.html, &say)?;
            }
            None => {
                let path = store::save_new(&report, &args.results_dir, &created_at)?;
                say(&format!("  report: {}\n", path.display()));
                html_beside(&report, &path, args.html, &say)?;
            }
        }
        if let Some(dir) = &baseline {
            let path = dir.join(format!("{}.json", report.workload.name));
            store::save_to(&report, &path)?;
            say(&format!("  baseline: {}\n", path.display()));
        }
    }
    Ok(())
}

/// With `--html`, the report's page beside its JSON file.
fn html_beside(
    report: &costbench::report::schema::Report,
    json_path: &std::path::Path,
    wanted: bool,
    say: &dyn Fn(&str),
) -> Result<()> {
    if wanted {
        let path = json_path.with_extension("html");
        write_file(&path, &costbench::render::html::report_page(report))?;
        say(&format!("  page:   {}\n", path.display()));
    }
    Ok(())
}

/// Whether to colour the terminal table: standard output is a terminal and NO_COLOR is unset.
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Writes `text` to `path` atomically (a temporary file in the same directory, then renamed).
fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    store::write_text(path, text)
}

/// Refuses an output path that would replace one of the `inputs` or any costbench report: an
/// export must never destroy a measurement.
fn guard_output(path: &std::path::Path, inputs: &[PathBuf], flag: &str) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let same =
        |p: &PathBuf| matches!((p.canonicalize(), path.canonicalize()), (Ok(a), Ok(b)) if a == b);
    anyhow::ensure!(
        !inputs.iter().any(same),
        "{flag} '{}' is one of the reports being read; expected a new output path (inputs are never overwritten)",
        path.display()
    );
    anyhow::ensure!(
        path.is_dir() || store::load(path).is_err(),
        "{flag} '{}' is a costbench report; expected a new output path (reports are never overwritten)",
        path.display()
    );
    Ok(())
}

/// Writes an export in `format` (to `out`, or standard output) and the terminal table; returns
/// whether standard output already carries the export.
fn emit(
    format: export::Format,
    out: Option<&std::path::Path>,
    inputs: &[PathBuf],
    table: &dyn Fn(bool) -> String,
    text: &dyn Fn() -> Result<String>,
    figures: &dyn Fn() -> Vec<(String, costbench::report::schema::Metric)>,
    quiet: bool,
) -> Result<()> {
    use export::Format;
    if let Some(path) = out {
        guard_output(path, inputs, "-o")?;
    }
    let body = match format {
        Format::Table => None,
        Format::Markdown | Format::Json | Format::Html | Format::Csv => Some(text()?),
        Format::Bmf => Some(export::bmf(&figures())),
        Format::GithubActionBenchmark => {
            let dir = out.ok_or_else(|| {
                anyhow::anyhow!(
                    "--format github-action-benchmark writes two files ({} and {}): give the directory with -o DIR",
                    export::GAB_SMALLER,
                    export::GAB_BIGGER
                )
            })?;
            anyhow::ensure!(
                !dir.exists() || dir.is_dir(),
                "-o '{}' is a file; expected a directory for the two github-action-benchmark files",
                dir.display()
            );
            std::fs::create_dir_all(dir).with_context(|| {
                format!("-o: could not create the directory '{}'", dir.display())
            })?;
            let (smaller, bigger) = export::github_action_benchmark(&figures());
            for (name, text) in [(export::GAB_SMALLER, smaller), (export::GAB_BIGGER, bigger)] {
                let path = dir.join(name);
                guard_output(&path, inputs, "-o")?;
                write_file(&path, &text)?;
            }
            if !quiet {
                print!("{}", table(colour()));
            }
            return Ok(());
        }
    };
    match (body, out) {
        (None, None) => print!("{}", table(colour())),
        (None, Some(path)) => {
            write_file(path, &table(false))?;
            if !quiet {
                print!("{}", table(colour()));
            }
        }
        (Some(body), None) => print!("{body}"),
        (Some(body), Some(path)) => {
            write_file(path, &body)?;
            if !quiet {
                print!("{}", table(colour()));
            }
        }
    }
    Ok(())
}

fn compare(args: CompareArgs, quiet: bool) -> Result<u8> {
    use costbench::compare::{self as cmp, Side};
    let (base_path, new_path) = match (&args.baseline, args.paths.as_slice()) {
        (Some(name), []) => (
            cmp::baseline_dir(&args.results_dir, name)?,
            args.results_dir.clone(),
        ),
        (Some(name), [new]) => (cmp::baseline_dir(&args.results_dir, name)?, new.clone()),
        (Some(_), _) => anyhow::bail!(
            "compare: with --baseline give at most one path, the NEW report or directory (default {})",
            args.results_dir.display()
        ),
        (None, [base, new]) => (base.clone(), new.clone()),
        (None, _) => anyhow::bail!(
            "compare: give BASE and NEW (report files or directories), or --baseline NAME [NEW]"
        ),
    };
    if let Some(name) = &args.baseline {
        anyhow::ensure!(
            base_path.is_dir(),
            "compare: no baseline named '{name}' in {} (save one with `costbench run --save-baseline {name}`)",
            base_path.parent().unwrap_or(&base_path).display()
        );
    }
    let mut base = Side::load(&base_path)?;
    if let Some(name) = &args.baseline {
        base.shown = format!("baseline {name}");
    }
    let new = Side::load(&new_path)?;
    let settings = cmp::Settings {
        noise: args.noise / 100.0,
        significance: args.significance,
        seed: args.seed,
        raw_times: args.raw_times,
        fail_on_regression: args
            .fail_on_regression
            .map(|p| p.map_or(args.noise / 100.0, |p| p / 100.0)),
        ..cmp::Settings::default()
    };
    let c = cmp::compare(&base, &new, &settings);
    let figures = || {
        new.reports
            .values()
            .flat_map(|(_, r)| {
                costbench::report::all_metrics(r)
                    .into_iter()
                    .map(|m| (r.workload.name.clone(), m))
            })
            .collect()
    };
    let inputs: Vec<PathBuf> = base
        .reports
        .values()
        .chain(new.reports.values())
        .map(|(p, _)| p.clone())
        .collect();
    emit(
        args.output.format,
        args.output.output.as_deref(),
        &inputs,
        &|colour| export::comparison_table(&c, colour),
        &|| match args.output.format {
            export::Format::Markdown => Ok(export::comparison_markdown(&c)),
            export::Format::Html | export::Format::Csv => anyhow::bail!(
                "compare: --format html and csv export single reports; use `costbench report FILE --format html|csv` (compare writes table, markdown, json, bmf or github-action-benchmark)"
            ),
            _ => Ok(export::comparison_json(&c)),
        },
        &figures,
        quiet,
    )?;
    let table_on_stdout =
        args.output.format == export::Format::Table && args.output.output.is_none();
    if let Some(line) = export::gate_line(&c)
        && (!table_on_stdout || c.gate_failed())
    {
        eprintln!("{line}");
    }
    Ok(if c.gate_failed() { EXIT_REGRESSION } else { 0 })
}

fn report_export(args: ReportArgs, quiet: bool) -> Result<()> {
    let reports = args
        .files
        .iter()
        .map(|f| store::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let figures = || {
        reports
            .iter()
            .flat_map(|r| {
                costbench::report::all_metrics(r)
                    .into_iter()
                    .map(|m| (r.workload.name.clone(), m))
            })
            .collect()
    };
    let each = |f: &dyn Fn(&costbench::report::schema::Report) -> String| {
        reports.iter().map(f).collect::<Vec<_>>().join("\n")
    };
    emit(
        args.output.format,
        args.output.output.as_deref(),
        &args.files,
        &|colour| each(&|r| export::report_table(r, colour)),
        &|| match args.output.format {
            export::Format::Markdown => Ok(each(&export::report_markdown)),
            export::Format::Csv => export::cost_csv(&reports),
            export::Format::Html => {
                anyhow::ensure!(
                    reports.len() == 1,
                    "report --format html makes one page per report; give one FILE ({} given)",
                    reports.len()
                );
                Ok(costbench::render::html::report_page(&reports[0]))
            }
            _ => Ok(export::report_json(&reports)),
        },
        &figures,
        quiet,
    )
}

fn spinner(visible: bool, message: &'static str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn sampling_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} [{bar:30}] {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Shows the phase, the current median and its interval width; the bar fills with the time
/// budget.
fn update_bar(bar: &ProgressBar, label: &str, p: Progress) {
    bar.set_prefix(label.to_string());
    match p {
        Progress::Warmup {
            elapsed_s,
            planned_s,
        } => {
            bar.set_position((1000.0 * (elapsed_s / planned_s.max(1e-9)).min(1.0)) as u64);
            bar.set_message(format!("warming up {elapsed_s:.1}/{planned_s:.1} s"));
        }
        Progress::Sampling {
            samples,
            elapsed_s,
            budget_s,
            median_s,
            rel_half_width,
        } => {
            bar.set_position((1000.0 * (elapsed_s / budget_s.max(1e-9)).min(1.0)) as u64);
            let ci = if rel_half_width.is_finite() {
                format!("±{:.2}%", rel_half_width * 100.0)
            } else {
                "±?".to_string()
            };
            bar.set_message(format!(
                "{samples} samples, median {median_s:.4} s {ci}, {elapsed_s:.0}/{budget_s:.0} s"
            ));
        }
    }
}

fn estimate(args: EstimateArgs) -> Result<()> {
    let catalog = args.catalog.load()?;
    if args.validate {
        print!(
            "{}",
            validation::markdown(&validation::llama2_validation(&catalog))
        );
        return Ok(());
    }
    let w = match (&args.workload, args.model.given()) {
        (Some(_), true) => {
            anyhow::bail!("estimate: give either a workload or the model as flags, not both")
        }
        (Some(name), false) => bundled::resolve(name)?,
        (None, true) => args.model.workload(args.tokens)?,
        (None, false) => anyhow::bail!(
            "estimate: name a bundled workload or a workload file (e.g. `costbench estimate llama2-7b`), or give the model as flags (--layers --d-model --heads --d-ff --vocab --seq-len --tokens)"
        ),
    };
    let costbench::workload::WorkloadKind::Transformer(mut t) = w.kind.clone() else {
        anyhow::bail!(
            "estimate: '{}' is not a transformer workload; the cost model prices transformer training",
            w.name
        );
    };
    let mut w = w;
    if let Some(tokens) = args.tokens {
        t.target_tokens = tokens as u64;
        // The header describes what is priced.
        w.kind = costbench::workload::WorkloadKind::Transformer(t.clone());
    }
    let scenario = match (args.scenario.as_str(), args.mfu) {
        (_, Some(mfu)) => Scenario::Custom { mfu },
        ("custom", None) => anyhow::bail!("--scenario custom needs --mfu FRACTION"),
        _ => Scenario::Published,
    };
    let size = match (args.chips, args.deadline_days) {
        (Some(n), _) => ClusterSize::Chips(n),
        (None, Some(d)) => ClusterSize::DeadlineDays(d),
        (None, None) => ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
    };
    let profile = Profile::from_transformer(&t);
    let assumptions = Assumptions::default();
    let (mut options, mut skipped) =
        cost::estimate_all(&profile, &catalog, &scenario, size, &assumptions);
    if !args.plan.is_empty() {
        options.retain(|o| args.plan.contains(&o.plan));
        skipped.retain(|s| s.plan.is_none_or(|p| args.plan.contains(&p)));
    }
    print!("{}", summary::describe_target(&w));
    print!(
        "{}",
        summary::cost_table(&options, &skipped, &scenario, &assumptions, &catalog)
    );
    let rows = cost::sensitivity(
        &profile,
        &catalog,
        &scenario,
        size,
        &assumptions,
        &options,
        6,
    );
    print!("{}", summary::sensitivity_table(&rows));
    if let Some(b) = cost::break_even(&profile, &catalog, &scenario, &assumptions, &options) {
        print!("{}", summary::break_even_text(&b));
    }
    Ok(())
}

/// The target of a measured transformer priced on every catalog option, with this run's
/// per-class roofline fractions as the efficiency (the `measured` scenario; `published` when the
/// run has no roofline): the report's cost record and the text to print.
fn price_target(
    t: &costbench::workload::TransformerWorkload,
    report: &costbench::report::schema::Report,
    catalog: &Catalog,
) -> (costbench::report::schema::CostRecord, String) {
    use costbench::report::schema::{AssumptionRecord, CostRecord};
    let mut fractions = std::collections::BTreeMap::new();
    if let Measurement::Step(m) = &report.measurement {
        for c in &m.op_classes {
            if let Some(f) = c.roofline_fraction {
                // A fraction above 1 means the probe under-measured the machine's bandwidth;
                // the accelerator is not credited with more than its roofline.
                fractions.insert(c.class, f.point.clamp(1e-6, 1.0));
            }
        }
    }
    let scenario = if fractions.is_empty() {
        Scenario::Published
    } else {
        Scenario::Measured(fractions)
    };
    let profile = Profile::from_transformer(t);
    let assumptions = Assumptions::default();
    let size = ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS);
    let (options, skipped) = cost::estimate_all(&profile, catalog, &scenario, size, &assumptions);
    let mut text = format!(
        "  cost of the target on every option ({} scenario, finishing within {} days):\n",
        scenario.name(),
        DEFAULT_DEADLINE_DAYS
    );
    text.push_str(&summary::cost_table(
        &options,
        &skipped,
        &scenario,
        &assumptions,
        catalog,
    ));
    let cpu_baseline = cpu_baseline(&profile, report, catalog, &assumptions);
    let sensitivity = cost::sensitivity(
        &profile,
        catalog,
        &scenario,
        size,
        &assumptions,
        &options,
        6,
    );
    // The legend entries of every source an option or the CPU baseline cites.
    let cited: Vec<&str> = options
        .iter()
        .map(|o| o.price_source.as_str())
        .chain(cpu_baseline.iter().map(|b| b.price_source.as_str()))
        .collect();
    let sources = catalog
        .sources
        .iter()
        .filter(|(key, _)| cited.iter().any(|c| c.contains(key.as_str())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(b) = &cpu_baseline {
        text.push_str(&format!(
            "  CPU baseline: {} × {} at this run's {:.1} GFLOP/s per {} cores scaled to {} vCPUs: {:.0} days, ${} (on_demand {}; assumes perfect scaling)\n",
            b.instances,
            b.instance,
            b.measured_gflops,
            b.measured_logical_cores,
            b.instance_vcpus,
            b.wall_hours / 24.0,
            summary::si(b.usd),
            b.price_source
        ));
    }
    let a = &assumptions;
    let record = CostRecord {
        scenario: scenario.name().to_string(),
        catalog_hash: catalog.hash(),
        catalog_as_of: catalog.as_of().to_string(),
        assumptions: [
            ("goodput", &a.goodput),
            ("pue", &a.pue),
            ("grid_kg_co2_per_kwh", &a.grid_kg_co2_per_kwh),
        ]
        .into_iter()
        .map(|(name, x)| AssumptionRecord {
            name: name.to_string(),
            value: x.value,
            source: x.source.to_string(),
        })
        .collect(),
        cluster: format!("fewest whole instances finishing within {DEFAULT_DEADLINE_DAYS} days"),
        options,
        skipped,
        cpu_baseline,
        sensitivity,
        sources,
    };
    (record, text)
}

/// The target trained on CPU instances (the catalog's first CPU-only instance, on demand) at
/// this run's measured whole-step rate scaled by vCPUs.
fn cpu_baseline(
    profile: &Profile,
    report: &costbench::report::schema::Report,
    catalog: &Catalog,
    assumptions: &Assumptions,
) -> Option<costbench::report::schema::CpuBaseline> {
    let Measurement::Step(m) = &report.measurement else {
        return None;
    };
    let inst = catalog.instances.iter().find(|i| i.accelerator.is_none())?;
    let vcpus = inst.vcpus?;
    let price = inst.prices.get(&Plan::OnDemand)?;
    let usd_h = price.value?;
    let cores = report.machine.logical_cores.max(1);
    let rate = m.gflops.point * 1e9 * vcpus as f64 / cores as f64;
    let instances = 1u32;
    let wall_hours =
        profile.executed_flops() / (rate * instances as f64) / 3600.0 / assumptions.goodput.value;
    Some(costbench::report::schema::CpuBaseline {
        instance: inst.id.clone(),
        measured_gflops: m.gflops.point,
        measured_logical_cores: cores,
        instance_vcpus: vcpus,
        instances,
        wall_hours,
        usd_per_instance_hour: usd_h,
        usd: wall_hours * usd_h * instances as f64,
        price_source: price.provenance(),
    })
}

fn history(args: HistoryArgs) -> Result<()> {
    use costbench::compare::history;
    use costbench::stats::changepoint;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("results"));
    let (reports, skipped) = costbench::compare::load_dir(&dir)?;
    anyhow::ensure!(
        !reports.is_empty(),
        "history: '{}' holds no readable costbench report{}",
        dir.display(),
        skipped
            .first()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    );
    let settings = changepoint::Settings {
        significance: args.significance,
        ..changepoint::Settings::default()
    };
    let h = history::build(
        &dir.display().to_string(),
        &reports,
        skipped,
        &args.workload,
        &args.metric,
        &settings,
    );
    anyhow::ensure!(
        !h.series.is_empty(),
        "history: no metric in '{}' matches the --workload/--metric filters",
        dir.display()
    );
    if args.json {
        print!("{}", history::json(&h));
    } else {
        print!("{}", costbench::render::history::table(&h));
    }
    let inputs: Vec<PathBuf> = reports.iter().map(|(p, _)| p.clone()).collect();
    for (path, flag) in [(&args.html, "--html"), (&args.svg, "--svg")] {
        if let Some(path) = path {
            guard_output(path, &inputs, flag)?;
        }
    }
    if let Some(path) = &args.html {
        write_file(path, &costbench::render::html::history_page(&h))?;
        if !args.json {
            println!("page: {}", path.display());
        }
    }
    if let Some(path) = &args.svg {
        write_file(path, &costbench::render::history::svg(&h))?;
        if !args.json {
            println!("chart: {}", path.display());
        }
    }
    Ok(())
}
