//! `costbench run`: measure workloads on this CPU, price their targets, save a report each.

use super::args::{
    CatalogArgs, non_negative_days, non_negative_seconds, positive_percent, positive_seconds,
};
use super::output::{Target, guard_outputs, shown, write_file};
use super::progress::{sampling_bar, show_progress, spinner, update_bar};
use super::usage::{self, usage};
use crate::diag::show::{one_line, printable};
use crate::diag::write;
use crate::measure::execute::{self, SamplingChoice};
use crate::measure::interrupt;
use crate::measure::machine::{self, MachineContext};
use crate::measure::probe::{self, Roofline};
use crate::model::Assumptions;
use crate::render::export::html;
use crate::render::summary;
use crate::report::schema::Report;
use crate::report::{self, store};
use crate::workload::bundled;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Bundled workload names or workload files (default: the bundled default, gpt2-124m).
    pub workloads: Vec<String>,
    /// A shorter measurement, not a time limit: 0.5 s warm-up, then sampling until ±3% or 5 s,
    /// but at least 5 samples (so at least 7 steps); --max-time bounds the time.
    ///
    /// The step (or each product of a sweep) warms up for 0.5 s (a step: its first two runs at
    /// least), then is sampled until its median is within ±3% or its share of 5 s of sampling
    /// has passed, but never fewer than 5 times. So a workload takes at least 7 steps (over a
    /// minute at 10 s a step), a sweep at least 0.5 s per product. --max-time bounds the whole
    /// measurement instead (with --quick too).
    #[arg(long)]
    pub quick: bool,
    /// Samples to take before the precision target may stop sampling.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub min_samples: Option<u64>,
    /// Time bound per workload in seconds: warm-ups and samples of every product included
    /// (default: none; the warm-up, then 30 steps' time of sampling, clamped to 10–60 s).
    #[arg(long, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub max_time: Option<f64>,
    /// Minimum warm-up in seconds (default 3; at least one step always runs).
    #[arg(long, value_parser = non_negative_seconds, allow_negative_numbers = true)]
    pub warmup: Option<f64>,
    /// Stop when the median's 95% interval is within ±PERCENT (default 1).
    #[arg(long, value_name = "PERCENT", value_parser = positive_percent, allow_negative_numbers = true)]
    pub precision: Option<f64>,
    /// Seed of the initial weights, the synthetic data and every bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A name for this testbed, recorded in the report (the hostname never is).
    #[arg(long)]
    pub label: Option<String>,
    /// Also record the git commit (and dirty flag) of the working directory's repository —
    /// your project, not costbench, whose own build commit is always recorded.
    #[arg(long)]
    pub record_git: bool,
    /// Write the report to FILE or to standard output with `-`, instead of a new file in
    /// --results-dir. Only with a single workload. An existing FILE is replaced unless it is a
    /// costbench report (see --force) or an input of the run.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// With --output: replace the costbench report already at FILE (an input of the run is
    /// never replaced).
    #[arg(long, requires = "output")]
    pub force: bool,
    /// Directory for new reports.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Do not measure or load this machine's roofline (no roofline fractions in the report).
    #[arg(long)]
    pub no_probe: bool,
    /// Also measure each transformer slice at 3–4 sizes and fit time = a + b·FLOPs (R² < 0.98
    /// warns that extrapolating the slice is not supported).
    #[arg(long)]
    pub scaling: bool,
    /// Also store each report as the named baseline (results/baselines/NAME/<workload>.json,
    /// replacing the previous one) for `costbench compare --baseline NAME`.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Also write each report as a self-contained HTML page with charts, beside the JSON
    /// (`<report>.html`).
    #[arg(long)]
    pub html: bool,
    /// Efficiency scenario of the accelerator costs: `published` (the calibrated model, with
    /// published spreads) or `measured`, a what-if that transfers this CPU's per-class roofline
    /// fractions to every accelerator (it moves with this machine's load).
    #[arg(long, default_value = "published", value_parser = ["published", "measured"])]
    pub scenario: String,
    /// Also count one training step's instructions, cache references and misses under
    /// valgrind's Cachegrind: exact for this binary, whatever the machine's load, so CI can gate
    /// on them at 0.1%. Runs costbench itself twice under valgrind, on one thread; hundreds of
    /// times slower than the step itself (docs/ci.md, "Counts").
    #[arg(long)]
    pub counts: bool,
    /// Every instance × plan, what was not priced, every assumption with its source.
    #[arg(long, short)]
    pub verbose: bool,
    /// Leave spot out of the verdict for runs longer than this many days (spot capacity can be
    /// reclaimed); it stays in the table.
    #[arg(long, value_name = "DAYS", default_value_t = 1.0, value_parser = non_negative_days, allow_negative_numbers = true)]
    pub spot_max_days: f64,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    #[command(flatten)]
    pub threads: super::args::ThreadsArg,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
}

/// Measures each workload, prices its target, composes its report once and saves it.
pub fn run(args: RunArgs, quiet: bool) -> Result<()> {
    super::interrupt::install();
    let names = if args.workloads.is_empty() {
        vec![bundled::DEFAULT_WORKLOAD.to_string()]
    } else {
        args.workloads.clone()
    };
    // Usage errors first, before any workload, catalog or output is looked at.
    usage::ensure(args.output.is_none() || names.len() == 1, || {
        format!(
            "--output takes one report; {} workloads were named (leave --output out to save one file per workload in {})",
            names.len(),
            args.results_dir.display()
        )
    })?;
    // `baseline_dir` only checks the name.
    let baseline = match &args.save_baseline {
        Some(name) => Some(
            crate::compare::baseline_dir(&args.results_dir, name)
                .map_err(|e| usage(format!("--save-baseline: {e}")))?,
        ),
        None => None,
    };
    let to_stdout = args.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    usage::ensure(!(args.html && to_stdout), || {
        "--html writes a page beside the report file; it cannot go with --output -".into()
    })?;
    let report_path = args.output.as_deref().filter(|_| !to_stdout);
    let page_path = report_path
        .filter(|_| args.html)
        .map(|p| p.with_extension("html"));
    if let (Some(report), Some(page)) = (report_path, &page_path) {
        usage::ensure(report.file_name() != page.file_name(), || {
            format!(
                "--html writes the page beside the report as '<report>.html', which is the report '{}' itself; give --output a .json name",
                shown(report)
            )
        })?;
    }
    // Validate every workload, and the destination, before measuring anything.
    let available = crate::workload::available_memory_bytes();
    let parsed = names
        .iter()
        .map(|n| bundled::resolve_for_run(n, available).map(|w| (n.clone(), w)))
        .collect::<Result<Vec<_>, _>>()?;
    // Every input (catalog, prices) is validated before any directory is created, so a refused
    // run leaves nothing behind.
    let catalog = args.catalog.load()?;
    // Counting needs valgrind and a training step: checked before anything is measured.
    if args.counts {
        let workloads: Vec<_> = parsed.iter().map(|(_, w)| w).collect();
        super::count::preflight(&workloads)?;
    }
    let choice = SamplingChoice {
        quick: args.quick,
        min_samples: args.min_samples.map(|n| n as usize),
        max_time_s: args.max_time,
        warmup_s: args.warmup,
        target: args.precision.map(|p| p / 100.0),
        seed: args.seed,
    };
    // Every output is checked before any directory is created or anything measured: none may
    // be an input of the run, a report (unless --force, or the baseline the flag replaces), a
    // directory, a device, a FIFO, or the same file as another output.
    let inputs: Vec<PathBuf> = names
        .iter()
        .map(PathBuf::from)
        .chain(args.catalog.catalog.iter().cloned())
        .filter(|p| !matches!(write::what_is_at(p), Ok(write::Found::Nothing) | Err(_)))
        .collect();
    let baseline_paths: Vec<PathBuf> = match &baseline {
        Some(dir) => parsed
            .iter()
            .map(|(_, w)| dir.join(format!("{}.json", w.name)))
            .collect(),
        None => Vec::new(),
    };
    let mut targets = Vec::new();
    if let Some(p) = report_path {
        targets.push(Target {
            flag: "--output",
            path: p,
            may_replace_report: args.force,
            override_flag: Some("--force"),
        });
    }
    if let Some(p) = &page_path {
        targets.push(Target::new("--html", p));
    }
    for p in &baseline_paths {
        // `--save-baseline` replaces the previous baseline by design.
        targets.push(Target {
            flag: "--save-baseline",
            path: p,
            may_replace_report: true,
            override_flag: None,
        });
    }
    guard_outputs(&targets, &inputs)?;
    // Room for every report (and page) before measuring: the bound follows from the
    // workloads and the sampling settings (`store::report_bytes_bound`).
    let max_samples = choice.settings(1.0, 1).max_samples;
    let reports_bytes: u64 = parsed
        .iter()
        .map(|(_, w)| store::report_bytes_bound(w, max_samples, args.scaling))
        .fold(0, u64::saturating_add);
    // A page is counted as large as its report.
    let pages_bytes = if args.html { reports_bytes } else { 0 };
    // check_writable creates and removes a probe file: not to be cut by a signal.
    let writing = interrupt::writing();
    match report_path {
        _ if to_stdout => {}
        Some(p) => {
            store::check_writable(
                write::parent_dir(p),
                "--output",
                reports_bytes.saturating_add(pages_bytes),
            )?;
        }
        None => store::check_writable(
            &args.results_dir,
            "--results-dir",
            reports_bytes.saturating_add(pages_bytes),
        )?,
    }
    if let Some(dir) = &baseline {
        store::check_writable(dir, "--save-baseline", reports_bytes)?;
    }
    drop(writing);
    // With the report on stdout, the human summary goes to stderr. A summary that cannot be
    // shown (a closed pipe) does not stop the run: the report is what matters.
    let say = |text: &str| {
        use std::io::Write as _;
        let _ = if to_stdout {
            std::io::stderr().write_all(text.as_bytes())
        } else {
            std::io::stdout().write_all(text.as_bytes())
        };
    };

    let threads = rayon::current_num_threads();
    let machine = MachineContext::detect_with_git(args.label.clone(), threads, args.record_git);
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
        let probed = probe::cached_or_measured(
            &probe::default_cache_dir(),
            &machine.fingerprint(),
            false,
            false,
        );
        bar.finish_and_clear();
        // The cache's problems are warnings, never a failed run (and silent with --quiet).
        if !quiet {
            for w in &probed.warnings {
                eprintln!("warning: {}", one_line(w));
            }
        }
        Some(probed.roofline)
    };
    let assumptions = Assumptions::default();

    say(&format!(
        "costbench {} on {} threads; {}\n",
        env!("CARGO_PKG_VERSION"),
        threads,
        printable(&machine.cpu_model)
    ));
    for (source, w) in &parsed {
        say(&summary::describe(w));
        let bar = sampling_bar(show_progress(quiet));
        interrupt::check()?;
        // The FLOP accounting is checked here, before anything is built from the samples.
        let measured = execute::measure(w, &choice, roofline.as_ref(), |label, p| {
            update_bar(&bar, label, p)
        })?;
        bar.finish_and_clear();
        interrupt::check()?;
        let scaling = if args.scaling {
            let bar = sampling_bar(show_progress(quiet));
            let available = crate::workload::available_memory_bytes();
            let check = execute::scaling_check(w, &choice, available, |label, p| {
                update_bar(&bar, label, p)
            })?;
            bar.finish_and_clear();
            interrupt::check()?;
            Some(check)
        } else {
            None
        };
        let counts = if args.counts {
            let bar = spinner(
                show_progress(quiet),
                "counting a step under Cachegrind (two runs of costbench under valgrind)",
            );
            let counted = super::count::count(source, w, args.seed, quiet);
            bar.finish_and_clear();
            // An interrupt reached the counted processes too: say so, not their failure.
            interrupt::check()?;
            Some(counted?)
        } else {
            None
        };
        let pricing = report::price_run(
            w,
            &measured.measurement,
            &machine,
            &catalog,
            &assumptions,
            report::RunPricing {
                measured_scenario: args.scenario == "measured",
                seed: args.seed,
                spot_max_days: args.spot_max_days,
            },
        );
        let created_at = chrono::Utc::now();
        let report = report::compose(report::Parts {
            workload: report::workload_record(w, source),
            measured,
            machine: machine.clone(),
            roofline: roofline.clone(),
            created_at,
            machine_warnings: machine_warnings.clone(),
            scaling,
            cost: pricing.as_ref().map(|p| p.record(&catalog, &assumptions)),
            counts,
        });
        // The answer first (the verdict and the best options), then what was measured.
        if let Some(p) = &pricing {
            say(&summary::pricing(p, &assumptions, &catalog, args.verbose));
            say("\n");
        }
        say(&summary::wrap(&summary::measured(&report), 100));
        if let Some(p) = &pricing {
            say(&summary::cpu_option(p));
        }
        if !quiet {
            for warning in &report.warnings {
                eprintln!("warning: {}", one_line(warning));
            }
        }
        // The last moment to stop cleanly: nothing of this report is on disk yet. Once begun,
        // the writes complete (a second signal waits for them) and are named on exit.
        interrupt::check()?;
        let _writing = interrupt::writing();
        save(&report, &args, &created_at, to_stdout, &say)?;
        if let Some(dir) = &baseline {
            let path = dir.join(format!("{}.json", report.workload.name));
            store::save_to(&report, &path)?;
            interrupt::record_written(path.display());
            say(&format!(
                "  baseline: {}\n",
                printable(&path.display().to_string())
            ));
        }
    }
    // A signal during the last write: it completed, and the exit says so (130, not 0).
    interrupt::check()?;
    Ok(())
}

/// Saves the report where the arguments say: standard output, `--output`, or a new file in
/// `--results-dir`; with `--html`, the page beside it. A report that cannot be written there is
/// saved to a recovery file instead ([`recover`]): a measurement is never lost.
fn save(
    report: &Report,
    args: &RunArgs,
    created_at: &chrono::DateTime<chrono::Utc>,
    to_stdout: bool,
    say: &dyn Fn(&str),
) -> Result<()> {
    let json = store::to_json(report);
    let written = match &args.output {
        Some(_) if to_stdout => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            match out.write_all(json.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {
                    interrupt::record_written("standard output");
                    return Ok(());
                }
                Err(e) => Err(anyhow::anyhow!(
                    "could not write the report to standard output: {e}"
                )),
            }
        }
        Some(path) => store::save_to(report, path).map(|()| path.clone()),
        None => store::save_new(report, &args.results_dir, created_at),
    };
    let path = match written {
        Ok(p) => p,
        Err(e) => {
            let name = store::recovery_name(created_at, &report.workload.name);
            return Err(recover(&json, &name, e, !to_stdout));
        }
    };
    interrupt::record_written(path.display());
    say(&format!(
        "  report: {}\n",
        printable(&path.display().to_string())
    ));
    if args.html {
        let page_text = html::report_page(report);
        let page = match &args.output {
            // Checked before measuring: not the report, an input or a report.
            Some(_) => {
                let page = path.with_extension("html");
                write_file(&page, &page_text).map(|()| page)
            }
            // Beside a new report, a new page: never replacing a file.
            None => {
                let name = path.with_extension("html");
                let name = name.file_name().unwrap_or_default().to_string_lossy();
                write::create_new(&args.results_dir, [name.into_owned()], page_text.as_bytes())
            }
        }
        .map_err(|e| {
            anyhow::anyhow!(
                "--html: the report is saved as '{}' but its page could not be written: {e:#}",
                shown(&path)
            )
        })?;
        interrupt::record_written(page.display());
        say(&format!(
            "  page:   {}\n",
            printable(&page.display().to_string())
        ));
    }
    Ok(())
}

/// Where a report goes when it cannot be written where it was meant to: the temporary
/// directory (`$TMPDIR`), then the working directory.
fn recovery_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![std::env::temp_dir()];
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd);
    }
    dirs
}

/// The error of a report that could not be written (`failure`), once the report is safe: saved
/// under a new name in a recovery directory, or else printed whole to standard output (when
/// `may_print`: it is not standard output that failed). The error says where it went.
fn recover(json: &str, name: &str, failure: anyhow::Error, may_print: bool) -> anyhow::Error {
    match store::save_recovery(json, name, &recovery_dirs()) {
        // In full (escaped, not cut): the user needs the whole path to find the report.
        Ok(path) => anyhow::anyhow!(
            "{failure:#}; the measurement is not lost: the report was saved to '{}' instead",
            printable(&path.display().to_string())
        ),
        Err(errors) => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if may_print
                && out
                    .write_all(json.as_bytes())
                    .and_then(|()| out.flush())
                    .is_ok()
            {
                anyhow::anyhow!(
                    "{failure:#}; no recovery file could be written either ({}), so the report was printed whole to standard output",
                    errors.join("; ")
                )
            } else {
                anyhow::anyhow!(
                    "{failure:#}; no recovery file could be written either ({}): the report is lost",
                    errors.join("; ")
                )
            }
        }
    }
}
