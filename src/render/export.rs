//! The formats `costbench compare` and `costbench report` write: a terminal table, Markdown for a
//! pull-request comment, JSON, Bencher Metric Format and github-action-benchmark's custom
//! format. Each reads only a [`Comparison`] or [`Report`]s; snapshot tests pin every format.

use crate::compare::sources::split_id;
use crate::compare::{Comparison, CostComparison, MetricComparison, PairComparison, Verdict};
use crate::report::schema::{Direction, Metric, Report};
use crate::stats::Estimate;
use comfy_table::{Cell, Color, ContentArrangement, LineStyle, Table, TableStyle, presets};
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text (colour on a terminal).
    Table,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
    /// The full comparison (or the report's metrics) as JSON.
    Json,
    /// Bencher Metric Format: {"bench": {"measure": {"value", "lower_value", "upper_value"}}}.
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter` and `customBiggerIsBetter` arrays,
    /// written as two files into the -o directory.
    #[value(name = "github-action-benchmark", alias = "gab")]
    GithubActionBenchmark,
    /// A self-contained HTML page with charts (`report` only).
    Html,
    /// The cost table as CSV, one row per priced option (`report` only).
    Csv,
}

/// A number in a metric's unit, for people.
pub fn value(x: f64, unit: &str) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    match unit {
        "s" => match x.abs() {
            a if a >= 1.0 => format!("{x:.3} s"),
            a if a >= 1e-3 => format!("{:.3} ms", x * 1e3),
            _ => format!("{:.2} µs", x * 1e6),
        },
        "GFLOP/s" => format!("{x:.1} GFLOP/s"),
        "fraction" => format!("{:.1}%", x * 100.0),
        "FLOP" => format!("{} FLOP", crate::render::summary::si(x)),
        "USD" => format!("${}", crate::render::summary::si(x)),
        "days" if x.abs() < 1.0 => format!("{:.2} h", x * 24.0),
        "days" => format!("{x:.1} d"),
        "hours" => format!("{} h", crate::render::summary::si(x)),
        _ => format!("{x} {unit}"),
    }
}

/// A relative change as a signed percentage.
pub fn percent(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    format!("{:+.2}%", x * 100.0)
}

fn interval(e: &Estimate) -> String {
    if e.lower == e.upper {
        return "exact".to_string();
    }
    format!("[{}, {}]", percent(e.lower), percent(e.upper))
}

fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".to_string(),
        Some(p) => format!("{p:.3}"),
        None => "—".to_string(),
    }
}

fn verdict_color(v: Verdict) -> Option<Color> {
    match v {
        Verdict::Regressed => Some(Color::Red),
        Verdict::Improved => Some(Color::Green),
        Verdict::Inconclusive => Some(Color::Yellow),
        _ => None,
    }
}

/// Lines above and below the table and under the header only.
pub const STYLE: TableStyle = presets::UTF8_HORIZONTAL_ONLY.row_separator(LineStyle::none());

pub(crate) fn table(header: &[&str], color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn counts(c: &Comparison) -> String {
    let mut n = [0usize; 4];
    for m in c.pairs.iter().flat_map(|p| &p.metrics) {
        match m.verdict {
            Verdict::Regressed => n[0] += 1,
            Verdict::Improved => n[1] += 1,
            Verdict::Inconclusive => n[2] += 1,
            Verdict::NoChange => n[3] += 1,
            _ => {}
        }
    }
    format!(
        "{} regressed, {} improved, {} inconclusive, {} no change (noise band ±{}%, α = {}, {:.0}% intervals)",
        n[0],
        n[1],
        n[2],
        n[3],
        c.settings.noise * 100.0,
        c.settings.significance,
        c.settings.confidence_level * 100.0
    )
}

/// The lines that must not be missed: different machines, changed workloads, one-sided
/// workloads, unreadable files, the gate.
fn notices(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for p in &c.pairs {
        if !p.machine_differences.is_empty() {
            out.push(format!(
                "{}: DIFFERENT MACHINES ({}); {}",
                p.workload,
                p.machine_differences.join("; "),
                if p.raw_times_compared {
                    "raw times compared anyway (--raw-times)".to_string()
                } else {
                    format!(
                        "comparing machine-independent figures only ({} machine-dependent metrics left out; --raw-times compares them)",
                        p.not_compared.len()
                    )
                }
            ));
        }
        if p.base_samples.min(p.new_samples) < crate::compare::FEW_SAMPLES {
            out.push(format!(
                "{}: few samples ({} base, {} new; under {}): the intervals understate the uncertainty and a single run shows nothing of the run-to-run spread (several % on shared machines); measure without --quick, or gate with a wider --fail-on-regression",
                p.workload,
                p.base_samples,
                p.new_samples,
                crate::compare::FEW_SAMPLES
            ));
        }
        if p.spec_changed {
            out.push(format!(
                "{}: the workload's spec changed between the reports: FLOP counts and times measure different work",
                p.workload
            ));
        }
        if p.base_schema_version != p.new_schema_version {
            out.push(format!(
                "{}: report schema {} vs {}: fields new in {} are left out",
                p.workload,
                p.base_schema_version,
                p.new_schema_version,
                p.new_schema_version
                    .clone()
                    .max(p.base_schema_version.clone())
            ));
        }
    }
    for w in &c.only_in_base {
        out.push(format!("{w}: in the base only"));
    }
    for w in &c.only_in_new {
        out.push(format!("{w}: in the new side only"));
    }
    for s in &c.skipped_files {
        out.push(format!("skipped: {s}"));
    }
    out
}

/// The gate's verdict in one line (None without `--fail-on-regression`).
pub fn gate_line(c: &Comparison) -> Option<String> {
    let g = c.gate.as_ref()?;
    Some(if g.triggered.is_empty() {
        format!(
            "gate passed: no metric regressed by more than {}% against {}",
            g.threshold * 100.0,
            c.base
        )
    } else {
        let hits: Vec<String> = g
            .triggered
            .iter()
            .map(|h| {
                format!(
                    "{} {} {} {}",
                    h.workload,
                    h.metric,
                    percent(h.change.point),
                    interval(&h.change)
                )
            })
            .collect();
        format!(
            "gate FAILED: {} metric(s) regressed by more than {}% against {}: {}",
            g.triggered.len(),
            g.threshold * 100.0,
            c.base,
            hits.join(", ")
        )
    })
}

fn metric_row(m: &MetricComparison) -> Vec<String> {
    let show = |e: &Option<Estimate>| e.map_or("—".to_string(), |e| value(e.point, &m.unit));
    vec![
        m.id.clone(),
        show(&m.base),
        show(&m.new),
        m.change.map_or("—".to_string(), |c| percent(c.point)),
        m.change.map_or("—".to_string(), |c| interval(&c)),
        p_text(m.p_value),
        m.verdict.as_str().to_string(),
    ]
}

/// One row per option: USD and wall-clock days, base → new, with the change and its cause.
fn cost_rows(costs: &[CostComparison]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut options: Vec<&str> = costs.iter().map(|c| c.option.as_str()).collect();
    options.dedup();
    for option in options {
        let get = |figure: &str| {
            costs
                .iter()
                .find(|c| c.option == option && c.figure == figure)
        };
        let Some(usd) = get("usd") else { continue };
        let days = get("wall_days");
        let show = |x: Option<f64>, unit: &str| x.map_or("—".to_string(), |x| value(x, unit));
        rows.push(vec![
            option.to_string(),
            show(usd.base, "USD"),
            show(usd.new, "USD"),
            usd.change.map_or("—".to_string(), percent),
            days.map_or("—".to_string(), |d| {
                format!("{} → {}", show(d.base, "days"), show(d.new, "days"))
            }),
            usd.verdict.as_str().to_string(),
            usd.cause.clone(),
        ]);
    }
    rows
}

const COST_HEADER: [&str; 7] = [
    "option",
    "USD base",
    "USD new",
    "change",
    "wall-clock",
    "verdict",
    "cause",
];

fn pair_header(p: &PairComparison) -> String {
    let commit = |c: &Option<String>| {
        c.as_deref()
            .map(|c| format!(" @ {}", &c[..c.len().min(10)]))
            .unwrap_or_default()
    };
    format!(
        "{}\n  base: {} ({}{})\n  new:  {} ({}{})",
        p.workload,
        p.base_file,
        p.base_created_at,
        commit(&p.base_commit),
        p.new_file,
        p.new_created_at,
        commit(&p.new_commit)
    )
}

/// The terminal table: per workload, every metric and every cost figure that changed.
pub fn comparison_table(c: &Comparison, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "costbench compare: {} → {}", c.base, c.new);
    for n in notices(c) {
        let _ = writeln!(out, "! {n}");
    }
    for p in &c.pairs {
        let _ = writeln!(out, "\n{}", pair_header(p));
        let mut t = table(
            &[
                "metric", "base", "new", "change", "interval", "p", "verdict",
            ],
            color,
        );
        for m in &p.metrics {
            let row = metric_row(m);
            let mut cells: Vec<Cell> = row.into_iter().map(Cell::new).collect();
            if let Some(col) = verdict_color(m.verdict) {
                let last = cells.pop().expect("seven cells");
                cells.push(last.fg(col));
            }
            t.add_row(cells);
        }
        let _ = writeln!(out, "{t}");
        for i in &p.cost_inputs {
            let _ = writeln!(out, "  cost input changed: {i}");
        }
        let moved: Vec<CostComparison> = p
            .costs
            .iter()
            .filter(|x| x.verdict != Verdict::NoChange)
            .cloned()
            .collect();
        if p.costs.is_empty() {
            continue;
        }
        if moved.is_empty() {
            let _ = writeln!(
                out,
                "  modelled costs: all {} figures within ±{}%",
                p.costs.len(),
                c.settings.noise * 100.0
            );
            continue;
        }
        let mut t = table(&COST_HEADER, color);
        for row in cost_rows(&moved) {
            t.add_row(row);
        }
        let _ = writeln!(
            out,
            "  modelled cost of the target where it moved beyond ±{}% (others unchanged):\n{t}",
            c.settings.noise * 100.0
        );
    }
    let _ = writeln!(out, "\n{}", counts(c));
    if let Some(g) = gate_line(c) {
        let _ = writeln!(out, "{g}");
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn md_table(header: &[&str], rows: &[Vec<String>], out: &mut String) {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty()
        .set_header(header.iter().copied());
    for r in rows {
        t.add_row(r.iter().map(|c| md_escape(c)));
    }
    let _ = writeln!(out, "{t}");
}

fn md_verdict(v: Verdict) -> String {
    match v {
        Verdict::Regressed => "🔴 **regressed**".to_string(),
        Verdict::Improved => "🟢 **improved**".to_string(),
        Verdict::Inconclusive => "🟡 inconclusive".to_string(),
        other => other.as_str().to_string(),
    }
}

/// Markdown for a pull-request comment: the changes first, the rest folded.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## costbench: `{}` → `{}`\n", c.base, c.new);
    if let Some(g) = gate_line(c) {
        let mark = if c.gate_failed() { "❌" } else { "✅" };
        let _ = writeln!(out, "{mark} {}\n", md_escape(&g));
    }
    let _ = writeln!(out, "{}\n", counts(c));
    for n in notices(c) {
        let _ = writeln!(out, "> ⚠️ {}", md_escape(&n));
    }
    let header = [
        "metric", "base", "new", "change", "interval", "p", "verdict",
    ];
    for p in &c.pairs {
        let _ = writeln!(out, "\n### {}\n", md_escape(&p.workload));
        let row = |m: &MetricComparison| {
            let mut r = metric_row(m);
            r[0] = format!("`{}`", r[0]);
            r[6] = md_verdict(m.verdict);
            r
        };
        let (moved, quiet): (Vec<_>, Vec<_>) = p
            .metrics
            .iter()
            .partition(|m| m.verdict != Verdict::NoChange);
        if moved.is_empty() {
            let _ = writeln!(out, "No metric moved beyond the noise band.\n");
        } else {
            let rows: Vec<Vec<String>> = moved.iter().map(|m| row(m)).collect();
            md_table(&header, &rows, &mut out);
        }
        if !quiet.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>{} metrics with no change</summary>\n",
                quiet.len()
            );
            let rows: Vec<Vec<String>> = quiet.iter().map(|m| row(m)).collect();
            md_table(&header, &rows, &mut out);
            let _ = writeln!(out, "\n</details>");
        }
        for i in &p.cost_inputs {
            let _ = writeln!(out, "\nCost input changed: {}", md_escape(i));
        }
        let moved: Vec<CostComparison> = p
            .costs
            .iter()
            .filter(|x| x.verdict != Verdict::NoChange)
            .cloned()
            .collect();
        if !moved.is_empty() {
            let _ = writeln!(out, "\nModelled cost of the target where it moved:\n");
            md_table(&COST_HEADER, &cost_rows(&moved), &mut out);
        } else if !p.costs.is_empty() {
            let _ = writeln!(
                out,
                "\nModelled costs: all {} figures within ±{}%.",
                p.costs.len(),
                c.settings.noise * 100.0
            );
        }
    }
    let _ = writeln!(
        out,
        "\n<sub>costbench {} · bootstrap of medians, {} resamples, seed {} · verdict rule: docs/ci.md</sub>",
        c.costbench_version, c.settings.resamples, c.settings.seed
    );
    out
}

/// The comparison as pretty JSON with a trailing newline (schema: docs/ci.md).
pub fn comparison_json(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(c).expect("comparisons serialise");
    s.push('\n');
    s
}

/// One report's figures as a terminal table.
pub fn report_table(report: &Report, color: bool) -> String {
    let _ = color; // no verdicts to colour
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}), {} on {}",
        report.workload.name, report.workload.source, report.created_at, report.machine.cpu_model
    );
    let mut t = table(&["metric", "value", "interval", "±"], false);
    for m in crate::report::all_metrics(report) {
        let e = m.estimate;
        let (iv, hw) = if e.lower == e.upper {
            ("exact".to_string(), String::new())
        } else {
            (
                format!("[{}, {}]", value(e.lower, &m.unit), value(e.upper, &m.unit)),
                format!("{:.2}%", e.relative_half_width() * 100.0),
            )
        };
        t.add_row(vec![m.id.clone(), value(e.point, &m.unit), iv, hw]);
    }
    let _ = writeln!(out, "{t}");
    out
}

/// One report's figures as Markdown.
pub fn report_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## costbench: {}\n\n{} on {} ({} threads){}\n",
        md_escape(&report.workload.name),
        report.created_at,
        md_escape(&report.machine.cpu_model),
        report.machine.threads,
        report
            .machine
            .git
            .as_ref()
            .map(|g| format!(", commit `{}`", &g.commit[..g.commit.len().min(10)]))
            .unwrap_or_default()
    );
    let rows: Vec<Vec<String>> = crate::report::all_metrics(report)
        .iter()
        .map(|m| {
            let e = m.estimate;
            vec![
                format!("`{}`", m.id),
                value(e.point, &m.unit),
                if e.lower == e.upper {
                    "exact".to_string()
                } else {
                    format!("[{}, {}]", value(e.lower, &m.unit), value(e.upper, &m.unit))
                },
            ]
        })
        .collect();
    md_table(&["metric", "value", "95% interval"], &rows, &mut out);
    if let Some(c) = &report.cost {
        let _ = writeln!(
            out,
            "\n### Cost of the target ({} scenario; {}; catalog as of {})\n",
            c.scenario,
            md_escape(&c.cluster),
            c.catalog_as_of
        );
        let rows: Vec<Vec<String>> = c
            .options
            .iter()
            .map(|o| {
                vec![
                    o.instance.clone(),
                    o.plan.as_str().to_string(),
                    o.chips.to_string(),
                    format!("{:.1}", o.wall_hours / 24.0),
                    value(o.usd, "USD"),
                    format!("{:.3}", o.usd_per_million_tokens),
                    format!("{:.1}%", o.implied_mfu * 100.0),
                    format!("{:.3}", o.usd_per_instance_hour),
                    o.price_source.clone(),
                ]
            })
            .collect();
        md_table(
            &[
                "instance",
                "plan",
                "chips",
                "days",
                "USD",
                "$/M tokens",
                "implied MFU",
                "USD/instance-hour",
                "price source",
            ],
            &rows,
            &mut out,
        );
    }
    out
}

/// The cost tables of `reports` as CSV (RFC 4180, header row, one row per priced option,
/// figures unrounded) for spreadsheets.
pub fn cost_csv(reports: &[Report]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "workload",
        "scenario",
        "instance",
        "accelerator",
        "plan",
        "chips",
        "instances",
        "wall_days",
        "chip_hours",
        "usd",
        "usd_per_million_tokens",
        "implied_mfu",
        "energy_kwh",
        "t_co2",
        "usd_per_instance_hour",
        "price_source",
        "catalog_as_of",
        "efficiency",
    ])?;
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    for r in reports {
        let Some(c) = &r.cost else { continue };
        for o in &c.options {
            w.write_record([
                r.workload.name.clone(),
                c.scenario.clone(),
                o.instance.clone(),
                o.accelerator.clone(),
                o.plan.as_str().to_string(),
                o.chips.to_string(),
                o.instances.to_string(),
                (o.wall_hours / 24.0).to_string(),
                o.chip_hours.to_string(),
                o.usd.to_string(),
                o.usd_per_million_tokens.to_string(),
                o.implied_mfu.to_string(),
                opt(o.energy_kwh),
                opt(o.kg_co2.map(|k| k / 1000.0)),
                o.usd_per_instance_hour.to_string(),
                o.price_source.clone(),
                c.catalog_as_of.clone(),
                o.efficiency_note.clone(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Reports' figures as JSON: `{schema_version, reports: [{workload, created_at, commit,
/// report_schema_version, metrics}]}` (every metric, measured and modelled).
pub fn report_json(reports: &[Report]) -> String {
    let list: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload.name,
                "created_at": r.created_at,
                "commit": r.machine.git.as_ref().map(|g| g.commit.clone()),
                "report_schema_version": r.schema_version,
                "metrics": crate::report::all_metrics(r),
            })
        })
        .collect();
    let v = json!({
        "schema_version": crate::compare::COMPARISON_SCHEMA_VERSION,
        "reports": list,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("values serialise");
    s.push('\n');
    s
}

/// Bencher's measure slug and the factor to its unit: times in nanoseconds under Bencher's
/// built-in `latency`; the other quantities as custom measures.
fn bmf_measure(quantity: &str, unit: &str) -> (String, f64) {
    match (quantity, unit) {
        (_, "s") => ("latency".to_string(), 1e9),
        ("gflops", _) => ("gflops".to_string(), 1.0),
        ("roofline_fraction", _) => ("roofline-fraction".to_string(), 1.0),
        ("flops", _) => ("flops".to_string(), 1.0),
        (q, _) => (q.replace('_', "-"), 1.0),
    }
}

/// Bencher Metric Format of `(workload, metric)` figures: bench `<workload>/<subject>`, measure
/// by quantity (`latency` in ns, `gflops`, `roofline-fraction`, `flops`, `usd`, `wall-days`).
pub fn bmf(figures: &[(String, Metric)]) -> String {
    let mut root = Map::new();
    for (workload, m) in figures {
        let (subject, quantity) = split_id(&m.id);
        let (measure, k) = bmf_measure(quantity, &m.unit);
        let e = m.estimate;
        let mut fields = Map::new();
        fields.insert("value".into(), json!(e.point * k));
        if e.lower.is_finite() && e.upper.is_finite() {
            fields.insert("lower_value".into(), json!(e.lower * k));
            fields.insert("upper_value".into(), json!(e.upper * k));
        }
        let bench = root
            .entry(format!("{workload}/{subject}"))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(b) = bench {
            b.insert(measure, Value::Object(fields));
        }
    }
    let mut s = serde_json::to_string_pretty(&Value::Object(root)).expect("values serialise");
    s.push('\n');
    s
}

/// github-action-benchmark's custom format: `(smaller-is-better, bigger-is-better)` JSON arrays
/// of `{name, unit, value, range, extra}`.
pub fn github_action_benchmark(figures: &[(String, Metric)]) -> (String, String) {
    let mut smaller = Vec::new();
    let mut bigger = Vec::new();
    for (workload, m) in figures {
        let e = m.estimate;
        if !e.point.is_finite() {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("name".into(), json!(format!("{workload} {}", m.id)));
        entry.insert("unit".into(), json!(m.unit));
        entry.insert("value".into(), json!(e.point));
        if e.lower.is_finite() && e.upper.is_finite() && e.lower != e.upper {
            entry.insert(
                "range".into(),
                json!(format!("± {}", (e.upper - e.lower) / 2.0)),
            );
            entry.insert(
                "extra".into(),
                json!(format!(
                    "{:.0}% interval [{}, {}]",
                    e.confidence_level * 100.0,
                    e.lower,
                    e.upper
                )),
            );
        }
        match m.direction {
            Direction::SmallerIsBetter => smaller.push(Value::Object(entry)),
            Direction::BiggerIsBetter => bigger.push(Value::Object(entry)),
        }
    }
    let show = |v: Vec<Value>| {
        let mut s = serde_json::to_string_pretty(&Value::Array(v)).expect("values serialise");
        s.push('\n');
        s
    };
    (show(smaller), show(bigger))
}

/// File names of the two github-action-benchmark files.
pub const GAB_SMALLER: &str = "costbench-smaller-is-better.json";
pub const GAB_BIGGER: &str = "costbench-bigger-is-better.json";
