//! `costbench compare`: two reports (or directories, or a named baseline) metric by metric.

use super::args::{OutputArgs, non_negative_percent, unit_fraction};
use super::output::{colour, emit};
use super::report::ReportFormat;
use super::usage::usage;
use super::{EXIT_REGRESSION, EXIT_USAGE};
use crate::render::export;
use anyhow::Result;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What `compare --format` writes: `report`'s formats that have a comparison form (html and csv
/// export single reports, and are usage errors here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompareFormat(ReportFormat);

impl ValueEnum for CompareFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            CompareFormat(ReportFormat::Table),
            CompareFormat(ReportFormat::Markdown),
            CompareFormat(ReportFormat::Json),
            CompareFormat(ReportFormat::Bmf),
            CompareFormat(ReportFormat::GithubActionBenchmark),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        self.0.to_possible_value()
    }
}

/// Parses [`CompareFormat`] and, for a format only `report` writes, says where to find it (still
/// a usage error).
#[derive(Debug, Clone, Copy)]
struct CompareFormatParser;

impl TypedValueParser for CompareFormatParser {
    type Value = CompareFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<CompareFormat, clap::Error> {
        let parsed =
            clap::builder::EnumValueParser::<CompareFormat>::new().parse_ref(cmd, arg, value);
        parsed.map_err(|e| match value.to_str() {
            Some(v @ ("html" | "csv")) => cmd.clone().error(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "compare: --format {v} exports single reports; use `costbench report FILE --format {v}` (compare writes table, markdown, json, bmf or github-action-benchmark)"
                ),
            ),
            _ => e,
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            CompareFormat::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// BASE and NEW: report files or directories (a directory stands for the newest report of
    /// each workload in it). With --baseline, only NEW (default: --results-dir).
    #[arg(value_name = "PATH", num_args = 0..=2)]
    pub paths: Vec<PathBuf>,
    /// Compare against the named baseline saved by `costbench run --save-baseline NAME`.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Directory of reports (and of results/baselines/).
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Noise band in percent: changes whose interval stays within ±PERCENT are "no change".
    #[arg(long, value_name = "PERCENT", default_value_t = 2.0, value_parser = non_negative_percent, allow_negative_numbers = true)]
    pub noise: f64,
    /// Significance level of the Mann–Whitney U test.
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction, allow_negative_numbers = true)]
    pub significance: f64,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Show times and GFLOP/s even when the reports come from different testbeds (never gated
    /// there).
    #[arg(long)]
    pub raw_times: bool,
    /// With --fail-on-regression across different testbeds (machine, setup, threads or build):
    /// gate on the figures exact there (FLOP counts). Without it such a gate is refused (exit 2).
    #[arg(long)]
    pub across_machines: bool,
    /// Exit with code 3 when a measured metric regressed by more than PERCENT (default: the
    /// noise band), i.e. its whole interval lies beyond it and the change is significant.
    /// Against a report from another testbed it needs --across-machines (else exit 2).
    #[arg(long, value_name = "PERCENT", num_args = 0..=1, value_parser = non_negative_percent, allow_negative_numbers = true)]
    pub fail_on_regression: Option<Option<f64>>,
    /// Compare (and gate on) only the metrics whose id contains TEXT; repeatable. E.g.
    /// `--metric count.` for the instruction and cache counts of `run --counts`.
    #[arg(long, value_name = "TEXT")]
    pub metric: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = CompareFormatParser)]
    pub format: CompareFormat,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
    #[command(flatten)]
    pub color: super::args::ColorArg,
}

pub fn compare(args: CompareArgs, quiet: bool) -> Result<u8> {
    use crate::compare::{self as cmp, Side};
    // Usage errors first: the format's output, the paths' count and the baseline's name
    // (`baseline_dir` only checks the name).
    super::report::check_output(args.format.0, args.output.output.as_deref())?;
    let baseline_dir = |name: &str| {
        cmp::baseline_dir(&args.results_dir, name).map_err(|e| usage(format!("--baseline: {e}")))
    };
    let (base_path, new_path) = match (&args.baseline, args.paths.as_slice()) {
        (Some(name), []) => (baseline_dir(name)?, args.results_dir.clone()),
        (Some(name), [new]) => (baseline_dir(name)?, new.clone()),
        (Some(_), _) => {
            return Err(usage(format!(
                "compare: with --baseline give at most one path, the NEW report or directory (default {})",
                args.results_dir.display()
            )));
        }
        (None, [base, new]) => (base.clone(), new.clone()),
        (None, _) => {
            return Err(usage(
                "compare: give BASE and NEW (report files or directories), or --baseline NAME [NEW]",
            ));
        }
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
    let mut new = Side::load(&new_path)?;
    cmp::select::retain_metrics(&mut base, &args.metric);
    cmp::select::retain_metrics(&mut new, &args.metric);
    let settings = cmp::Settings {
        noise: args.noise / 100.0,
        significance: args.significance,
        seed: args.seed,
        raw_times: args.raw_times,
        across_machines: args.across_machines,
        fail_on_regression: args
            .fail_on_regression
            .map(|p| p.map_or(args.noise / 100.0, |p| p / 100.0)),
        ..cmp::Settings::default()
    };
    let c = cmp::compare(&base, &new, &settings);
    let new_reports: Vec<_> = new.reports.values().map(|(_, r)| r.clone()).collect();
    let inputs: Vec<PathBuf> = base
        .reports
        .values()
        .chain(new.reports.values())
        .map(|(p, _)| p.clone())
        .collect();
    let out = args.output.output.as_deref();
    let chosen = args.format.0.exporter(out.is_none() && colour());
    emit(
        chosen.as_ref(),
        &|e| e.comparison(&c, &new_reports),
        out,
        &inputs,
        quiet,
    )?;
    let table_on_stdout = args.format.0 == ReportFormat::Table && out.is_none();
    if c.gate_refused() {
        // The comparison is printed; the gate is a usage error: timings from two testbeds
        // differ by the machine, not only the code (docs/ci.md, "Across testbeds").
        let refused = c
            .gate
            .as_ref()
            .map(|g| g.refused.join(", "))
            .unwrap_or_default();
        eprintln!(
            "error: gating across machines needs --across-machines: {} measured on different testbeds (it then gates only the figures exact there: FLOP counts); or compare reports of one testbed",
            crate::diag::show::one_line(&refused)
        );
        return Ok(EXIT_USAGE);
    }
    if let Some(line) = export::gate_line(&c)
        && (!table_on_stdout || c.gate_failed())
    {
        eprintln!("{line}");
    }
    Ok(if c.gate_failed() { EXIT_REGRESSION } else { 0 })
}
