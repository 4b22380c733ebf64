//! `costbench ab`: same-runner A/B. Runs a base build's and a head build's `costbench run` back
//! to back, in interleaved rounds, and gates on the paired per-round differences
//! (`compare::ab`, `docs/ci.md`).

use super::EXIT_REGRESSION;
use super::args::{non_negative_percent, positive_percent, unit_fraction};
use super::list::DocFormat;
use super::output::{Target, colour, guard_outputs, shown, write_file};
use crate::compare::ab::{self, AbComparison, AbSettings, Round, RoundReports};
use crate::diag::show::one_line;
use crate::report::store;
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Args, Debug)]
pub struct AbArgs {
    /// The base build's costbench binary (e.g. built from the merge base).
    pub base: PathBuf,
    /// The head build's costbench binary (the same file as BASE gives an A/A check of the
    /// machine's noise).
    pub head: PathBuf,
    /// Workloads each side runs, bundled names or files (default: the bundled default).
    pub workloads: Vec<String>,
    /// Rounds; each runs both builds once, base first in odd rounds and head first in even
    /// ones. More rounds narrow the interval (docs/ci.md gives the detection power per count).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub rounds: u32,
    /// Each run samples fully instead of with --quick (slower, each round's figure steadier).
    #[arg(long)]
    pub full: bool,
    /// An argument passed to every `run` of both builds, e.g. --run-arg=--threads=2
    /// (repeatable).
    #[arg(long = "run-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub run_args: Vec<String>,
    /// Metrics the gate looks at (repeatable; default step_time). Every metric is compared.
    #[arg(long = "metric", value_name = "ID")]
    pub metrics: Vec<String>,
    /// Exit 3 when a gated metric regressed by more than PCT percent (judged as `compare`
    /// judges, with the paired interval).
    #[arg(long, value_name = "PCT", value_parser = positive_percent, allow_negative_numbers = true)]
    pub fail_on_regression: Option<f64>,
    /// Half-width of the noise band, percent.
    #[arg(long, default_value_t = 2.0, value_parser = non_negative_percent, allow_negative_numbers = true)]
    pub noise: f64,
    /// Significance level of the paired t-test.
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction, allow_negative_numbers = true)]
    pub significance: f64,
    /// Directory the rounds' reports are kept in (a new subdirectory per invocation).
    #[arg(long, default_value = "results/ab")]
    pub results_dir: PathBuf,
    /// Output format (JSON schema: docs/ab-schema.json).
    #[arg(long, value_enum, default_value_t = DocFormat::Table)]
    pub format: DocFormat,
    /// Also write the comparison as GitHub-flavoured Markdown into FILE (e.g. a pull request
    /// comment).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Show every metric in the table, not only the gated ones.
    #[arg(long)]
    pub all: bool,
    /// Seed passed to every run (the same seed on both sides: the same data and weights).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
    #[command(flatten)]
    pub color: super::args::ColorArg,
}

/// `BIN --version`'s line, e.g. `costbench 0.1.0`, or why it could not be run.
fn version_of(bin: &Path) -> Result<String> {
    let out = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("ab: could not run '{}'", shown(bin)))?;
    anyhow::ensure!(
        out.status.success(),
        "ab: '{} --version' failed ({}); expected a costbench binary",
        shown(bin),
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    anyhow::ensure!(
        text.starts_with("costbench "),
        "ab: '{}' printed '{}' for --version; expected a costbench binary",
        shown(bin),
        one_line(&text)
    );
    Ok(text)
}

/// One side's run of one round: `BIN run WORKLOADS --quick --no-probe --quiet --seed S
/// --results-dir DIR [RUN_ARGS]`, its reports (one per workload, in DIR).
fn run_side(bin: &Path, args: &AbArgs, workloads: &[String], dir: &Path) -> Result<()> {
    let mut cmd = Command::new(bin);
    cmd.arg("run")
        .args(workloads)
        .args(["--no-probe", "--quiet", "--seed"])
        .arg(args.seed.to_string())
        .arg("--results-dir")
        .arg(dir)
        .args(&args.run_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if !args.full {
        cmd.arg("--quick");
    }
    let status = cmd
        .status()
        .with_context(|| format!("ab: could not run '{}'", shown(bin)))?;
    if status.code() == Some(super::EXIT_INTERRUPTED as i32) {
        return Err(crate::measure::interrupt::Interrupted::now().into());
    }
    anyhow::ensure!(
        status.success(),
        "ab: '{} run' failed ({status}); its reports so far are in '{}'",
        shown(bin),
        shown(dir)
    );
    Ok(())
}

/// The reports a side's run wrote into `dir`, one per workload, by workload name.
fn reports_in(dir: &Path) -> Result<Vec<(PathBuf, crate::report::schema::Report)>> {
    let (reports, skipped) = crate::compare::load_dir(dir)?;
    anyhow::ensure!(
        skipped.is_empty(),
        "ab: '{}' holds files that are not readable reports: {}",
        shown(dir),
        skipped.join("; ")
    );
    Ok(reports)
}

/// Creates a directory that did not exist in `parent`: `name`, else `name-2`, `name-3`, …
/// (`create_dir` fails on an existing name, so two invocations never share one).
fn new_dir(parent: &Path, name: &str) -> Result<PathBuf> {
    for n in 1..1000 {
        let dir = match n {
            1 => parent.join(name),
            n => parent.join(format!("{name}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("ab: could not create '{}'", shown(&dir)));
            }
        }
    }
    anyhow::bail!(
        "ab: no free directory name '{name}-N' in '{}'",
        shown(parent)
    )
}

pub fn ab(args: AbArgs, quiet: bool) -> Result<u8> {
    let base_version = version_of(&args.base)?;
    let head_version = version_of(&args.head)?;
    let workloads = if args.workloads.is_empty() {
        vec![crate::workload::bundled::DEFAULT_WORKLOAD.to_string()]
    } else {
        args.workloads.clone()
    };
    // Every workload is checked before anything runs (by this build's rules).
    for w in &workloads {
        crate::workload::bundled::resolve(w)?;
    }
    if let Some(md) = &args.markdown {
        guard_outputs(&[Target::new("--markdown", md)], &[])?;
    }
    // A new directory per invocation: the rounds' reports are kept, never replaced.
    std::fs::create_dir_all(&args.results_dir)
        .with_context(|| format!("ab: could not create '{}'", shown(&args.results_dir)))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let run_dir = new_dir(&args.results_dir, &format!("ab-{stamp}"))?;
    let settings = AbSettings {
        noise: args.noise / 100.0,
        significance: args.significance,
        confidence_level: 0.95,
        fail_on_regression: args.fail_on_regression.map(|p| p / 100.0),
        gated_metrics: if args.metrics.is_empty() {
            vec!["step_time".to_string()]
        } else {
            args.metrics.clone()
        },
    };
    let mut rounds = Vec::new();
    let mut reports = Vec::new();
    for index in 1..=args.rounds as usize {
        let order = if ab::base_first(index) {
            [("base", &args.base), ("head", &args.head)]
        } else {
            [("head", &args.head), ("base", &args.base)]
        };
        let mut round = RoundReports {
            base: Vec::new(),
            head: Vec::new(),
        };
        let mut files = (Vec::new(), Vec::new());
        for (side, bin) in order {
            if !quiet {
                eprintln!("round {index}/{}: {side}", args.rounds);
            }
            crate::measure::interrupt::check()?;
            let dir = run_dir.join(format!("round-{index:03}-{side}"));
            std::fs::create_dir(&dir)
                .with_context(|| format!("ab: could not create '{}'", shown(&dir)))?;
            run_side(bin, &args, &workloads, &dir)?;
            for (path, report) in reports_in(&dir)? {
                let name = path.display().to_string();
                if side == "base" {
                    files.0.push(name);
                    round.base.push(report);
                } else {
                    files.1.push(name);
                    round.head.push(report);
                }
            }
        }
        rounds.push(Round {
            index,
            order: order.map(|(s, _)| s).join(", "),
            base_reports: files.0,
            head_reports: files.1,
        });
        reports.push(round);
    }
    let (metrics, incomplete) = ab::analyse(&reports, &settings);
    let gate = ab::gate(&metrics, &settings);
    let mut warnings: Vec<String> = reports
        .iter()
        .flat_map(|r| r.base.iter().chain(&r.head))
        .flat_map(|r| r.warnings.iter())
        .filter(|w| w.contains(crate::measure::execute::PLANTED_SLOWDOWN_VAR))
        .cloned()
        .collect();
    warnings.sort();
    warnings.dedup();
    let comparison = AbComparison {
        schema_version: ab::AB_SCHEMA_VERSION.to_string(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        base: args.base.display().to_string(),
        head: args.head.display().to_string(),
        base_version,
        head_version,
        settings,
        rounds,
        metrics,
        incomplete,
        gate,
        warnings,
    };
    let json = serde_json::to_string_pretty(&comparison)? + "\n";
    // The comparison is kept beside the rounds' reports, whatever is printed.
    store::write_text(&run_dir.join("ab.json"), &json)?;
    if let Some(md) = &args.markdown {
        write_file(md, &crate::render::ab::markdown(&comparison))?;
    }
    match args.format {
        DocFormat::Json => print!("{json}"),
        DocFormat::Table => println!(
            "{}  reports and ab.json: {}",
            crate::render::ab::text(&comparison, args.all, colour()),
            shown(&run_dir)
        ),
    }
    Ok(if comparison.gate_failed() {
        EXIT_REGRESSION
    } else {
        0
    })
}
