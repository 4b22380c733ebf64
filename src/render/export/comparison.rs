//! What the terminal table and the Markdown of a comparison share: the summary counts, the
//! notices that must not be missed, the gate's line and the rows of metrics and cost figures.
//!
//! Every string taken from a report or an argument (workload names, file paths, metric ids,
//! machine differences, option names) is shown through [`term`]: these lines reach terminals.

use crate::compare::{Comparison, CostComparison, MetricComparison, PairComparison, Verdict};
use crate::render::escape::term;
use crate::stats::Estimate;
use crate::units::{self, MISSING};

/// The header of a metric row.
pub(super) const METRIC_HEADER: [&str; 7] = [
    "metric", "base", "new", "change", "interval", "p", "verdict",
];

/// The header of a cost-figure row.
pub(super) const COST_HEADER: [&str; 8] = [
    "option",
    "USD base",
    "USD new",
    "change",
    "interval",
    "wall-clock",
    "verdict",
    "cause",
];

/// A change's interval, `[+4.11%, +16.45%]`, or `exact`.
fn interval(e: &Estimate) -> String {
    if e.lower == e.upper {
        return "exact".to_string();
    }
    format!("[{}, {}]", units::change(e.lower), units::change(e.upper))
}

/// Rows by verdict: regressed, improved, inconclusive, no change, only in base, only in new.
fn tally<'a>(verdicts: impl Iterator<Item = Verdict> + 'a) -> [usize; 6] {
    let mut n = [0usize; 6];
    for v in verdicts {
        n[match v {
            Verdict::Regressed => 0,
            Verdict::Improved => 1,
            Verdict::Inconclusive => 2,
            Verdict::NoChange => 3,
            Verdict::OnlyInBase => 4,
            Verdict::OnlyInNew => 5,
        }] += 1;
    }
    n
}

/// `regressed, improved, inconclusive, no change`, and the one-sided rows when there are any.
fn tally_text(n: [usize; 6]) -> String {
    let mut text = format!(
        "{} regressed, {} improved, {} inconclusive, {} no change",
        n[0], n[1], n[2], n[3]
    );
    for (count, what) in [(n[4], "only in base"), (n[5], "only in new")] {
        if count > 0 {
            text.push_str(&format!(", {count} {what}"));
        }
    }
    text
}

/// Every row counted: `44 metrics: 0 regressed, 1 improved, 3 inconclusive, 40 no change; 96
/// cost figures: …; 12 measured metrics left out across testbeds (noise band ±2%, α = 0.05,
/// 95% intervals)`. Cost figures moved by an input (price, catalog…) are counted by verdict
/// and named as such: they never gate.
pub(super) fn counts(c: &Comparison) -> String {
    let metrics = c.pairs.iter().flat_map(|p| &p.metrics);
    let costs = c.pairs.iter().flat_map(|p| &p.costs);
    let n_metrics = metrics.clone().count();
    let n_costs = costs.clone().count();
    let mut text = format!(
        "{n_metrics} metrics: {}",
        tally_text(tally(metrics.map(|m| m.verdict)))
    );
    if n_costs > 0 {
        let by_input = costs
            .clone()
            .filter(|x| {
                !x.cause.is_empty() && x.cause != "performance" && x.cause != "testbed"
            })
            .count();
        text.push_str(&format!(
            "; {n_costs} cost figures: {}",
            tally_text(tally(costs.map(|x| x.verdict)))
        ));
        if by_input > 0 {
            text.push_str(&format!(
                " ({by_input} moved by an input of the cost model, never gated)"
            ));
        }
    }
    let left_out: usize = c.pairs.iter().map(|p| p.not_compared.len()).sum();
    if left_out > 0 {
        text.push_str(&format!(
            "; {left_out} measured metrics left out across testbeds"
        ));
    }
    format!(
        "{text} (noise band ±{}%, α = {}, {} intervals)",
        units::plain(c.settings.noise * 100.0),
        units::plain(c.settings.significance),
        units::percent_to(c.settings.confidence_level, 0)
    )
}

/// The lines that must not be missed: different machines, changed workloads, one-sided
/// workloads, unreadable files.
pub(super) fn notices(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for p in &c.pairs {
        let workload = term(&p.workload);
        if !p.machine_differences.is_empty() {
            out.push(format!(
                "{workload}: DIFFERENT TESTBEDS, base {} vs new {} ({}): only exact figures (FLOP counts) can gate, with --across-machines; roofline fractions are shown, never gated; {}",
                term(&p.base_testbed.to_string()),
                term(&p.new_testbed.to_string()),
                term(&p.machine_differences.join("; ")),
                if p.raw_times_compared {
                    "times and rates shown anyway (--raw-times), never gated".to_string()
                } else {
                    format!(
                        "{} measured metrics (times, rates) left out (--raw-times shows them)",
                        p.not_compared.len()
                    )
                }
            ));
        } else if p.base_testbed.label != p.new_testbed.label {
            out.push(format!(
                "{workload}: one machine under two labels (fingerprint {}): base {}, new {}; compared as one testbed",
                term(&p.base_testbed.short_fingerprint()),
                term(p.base_testbed.label.as_deref().unwrap_or("no label")),
                term(p.new_testbed.label.as_deref().unwrap_or("no label"))
            ));
        }
        if p.base_samples.min(p.new_samples) < crate::compare::FEW_SAMPLES {
            out.push(format!(
                "{workload}: few samples ({} base, {} new; under {}): the intervals understate the uncertainty and a single run shows nothing of the run-to-run spread (several % on shared machines); measure without --quick, or gate with a wider --fail-on-regression",
                p.base_samples,
                p.new_samples,
                crate::compare::FEW_SAMPLES
            ));
        }
        if p.spec_changed {
            out.push(format!(
                "{workload}: the workload's spec changed between the reports: FLOP counts and times measure different work"
            ));
        }
        if p.base_schema_version != p.new_schema_version {
            out.push(format!(
                "{workload}: report schema {} vs {}: fields new in {} are left out",
                term(&p.base_schema_version),
                term(&p.new_schema_version),
                term(
                    &p.new_schema_version
                        .clone()
                        .max(p.base_schema_version.clone())
                )
            ));
        }
    }
    for w in &c.only_in_base {
        out.push(format!("{}: in the base only", term(w)));
    }
    for w in &c.only_in_new {
        out.push(format!("{}: in the new side only", term(w)));
    }
    for s in &c.skipped_files {
        out.push(format!("skipped: {}", term(s)));
    }
    out
}

/// The gate's verdict in one line (None without `--fail-on-regression`).
pub fn gate_line(c: &Comparison) -> Option<String> {
    let g = c.gate.as_ref()?;
    let threshold = units::plain(g.threshold * 100.0);
    Some(if !g.refused.is_empty() {
        format!(
            "gate REFUSED: gating across machines needs --across-machines ({} measured on different testbeds; it gates only exact figures)",
            term(&g.refused.join(", "))
        )
    } else if g.triggered.is_empty() {
        format!(
            "gate passed: no metric regressed by more than {threshold}% against {}",
            term(&c.base)
        )
    } else {
        let hits: Vec<String> = g
            .triggered
            .iter()
            .map(|h| {
                format!(
                    "{} {} {} {}",
                    term(&h.workload),
                    term(&h.metric),
                    units::change(h.change.point),
                    interval(&h.change)
                )
            })
            .collect();
        format!(
            "gate FAILED: {} metric(s) regressed by more than {threshold}% against {}: {}",
            g.triggered.len(),
            term(&c.base),
            hits.join(", ")
        )
    })
}

/// A metric's row under [`METRIC_HEADER`].
pub(super) fn metric_row(m: &MetricComparison) -> Vec<String> {
    let show =
        |e: &Option<Estimate>| e.map_or(MISSING.to_string(), |e| units::in_unit(e.point, &m.unit));
    vec![
        term(&m.id).into_owned(),
        show(&m.base),
        show(&m.new),
        m.change
            .map_or(MISSING.to_string(), |c| units::change(c.point)),
        m.change.map_or(MISSING.to_string(), |c| interval(&c)),
        units::p_value(m.p_value),
        verdict_text(m.verdict, m.gated),
    ]
}

/// The verdict, and `(not gated)` for a row the gate does not see (across testbeds).
pub(super) fn verdict_text(v: Verdict, gated: bool) -> String {
    if gated {
        v.as_str().to_string()
    } else {
        format!("{} (not gated)", v.as_str())
    }
}

/// The cost figures of a pair that moved beyond the noise band.
pub(super) fn moved_costs(p: &PairComparison) -> Vec<CostComparison> {
    p.costs
        .iter()
        .filter(|x| x.verdict != Verdict::NoChange)
        .cloned()
        .collect()
}

/// One row per option under [`COST_HEADER`]: USD and wall-clock days, base → new, with the
/// change and its cause.
pub(super) fn cost_rows(costs: &[CostComparison]) -> Vec<Vec<String>> {
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
        let show =
            |x: Option<f64>, unit: &str| x.map_or(MISSING.to_string(), |x| units::in_unit(x, unit));
        rows.push(vec![
            term(option).into_owned(),
            show(usd.base, "USD"),
            show(usd.new, "USD"),
            usd.change.map_or(MISSING.to_string(), units::change),
            match (&usd.interval, usd.change) {
                (Some(e), _) => interval(e),
                // Moved by the measurement, which cannot say how far.
                (None, Some(c)) if c != 0.0 && !usd.driven_by.is_empty() => MISSING.to_string(),
                (None, Some(_)) => "exact".to_string(),
                (None, None) => MISSING.to_string(),
            },
            days.map_or(MISSING.to_string(), |d| {
                format!("{} → {}", show(d.base, "days"), show(d.new, "days"))
            }),
            usd.verdict.as_str().to_string(),
            term(&usd.cause).into_owned(),
        ]);
    }
    rows
}

/// `testbed: lab@5c1e0f3a (AMD EPYC, 2 threads)`, or both when they differ.
pub(super) fn testbed_line(p: &PairComparison) -> String {
    let show = |t: &crate::measure::machine::Testbed| {
        format!("{} ({})", term(&t.to_string()), term(&t.machine))
    };
    if p.base_testbed == p.new_testbed {
        format!("testbed: {}", show(&p.base_testbed))
    } else {
        format!(
            "testbeds: base {}, new {}",
            show(&p.base_testbed),
            show(&p.new_testbed)
        )
    }
}

/// `workload` and the two files with their dates and commits, and the testbed(s).
pub(super) fn pair_header(p: &PairComparison) -> String {
    let commit = |c: &Option<String>| {
        c.as_deref()
            .map(|c| format!(" @ {}", term(&c.chars().take(10).collect::<String>())))
            .unwrap_or_default()
    };
    format!(
        "{}\n  base: {} ({}{})\n  new:  {} ({}{})\n  {}",
        term(&p.workload),
        term(&p.base_file),
        term(&p.base_created_at),
        commit(&p.base_commit),
        term(&p.new_file),
        term(&p.new_created_at),
        commit(&p.new_commit),
        testbed_line(p)
    )
}
