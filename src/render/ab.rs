//! `costbench ab`'s output: one row per metric (gated ones first), the rounds' order and files,
//! and the gate; as a terminal table or GitHub-flavoured Markdown.

use super::escape;
use super::table;
use crate::compare::Verdict;
use crate::compare::ab::AbComparison;
use crate::units;

const HEADER: [&str; 8] = [
    "workload", "metric", "gated", "base (median of rounds)", "head", "change (95% CI)", "p",
    "verdict",
];

/// The per-metric rows: gated metrics first, then the others in report order.
fn rows(ab: &AbComparison, all: bool) -> Vec<[String; 8]> {
    let mut metrics: Vec<_> = ab.metrics.iter().filter(|m| all || m.gated).collect();
    metrics.sort_by_key(|m| !m.gated);
    metrics
        .into_iter()
        .map(|m| {
            let median = |xs: &[f64]| units::in_unit(crate::stats::median(xs), &m.unit);
            let c = &m.change;
            [
                m.workload.clone(),
                m.id.clone(),
                if m.gated { "yes" } else { "" }.to_string(),
                median(&m.base),
                median(&m.head),
                format!(
                    "{} ({} to {})",
                    units::change(c.point),
                    units::change(c.lower),
                    units::change(c.upper)
                ),
                units::p_value(m.p_value),
                m.verdict.as_str().to_string(),
            ]
        })
        .collect()
}

fn headline(ab: &AbComparison) -> String {
    let gated: Vec<_> = ab.metrics.iter().filter(|m| m.gated).collect();
    let count = |v: Verdict| gated.iter().filter(|m| m.verdict == v).count();
    let mut line = format!(
        "A/B on one machine: {} rounds (base and head alternating first), {} gated metric(s): {} regressed, {} improved, {} no change, {} inconclusive",
        ab.rounds.len(),
        gated.len(),
        count(Verdict::Regressed),
        count(Verdict::Improved),
        count(Verdict::NoChange),
        count(Verdict::Inconclusive)
    );
    if let Some(g) = &ab.gate {
        line.push_str(&if g.triggered.is_empty() {
            format!("; gate at {}: passed", units::percent(g.threshold))
        } else {
            format!(
                "; gate at {}: FAILED on {}",
                units::percent(g.threshold),
                g.triggered
                    .iter()
                    .map(|h| format!("{} {}", h.workload, h.metric))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    }
    line
}

/// The terminal table (`all`: every metric, not only the gated ones).
pub fn text(ab: &AbComparison, all: bool, color: bool) -> String {
    let show = crate::diag::show::printable;
    let mut out = format!(
        "base: {} ({})\nhead: {} ({})\n{}\n",
        show(&ab.base),
        show(&ab.base_version),
        show(&ab.head),
        show(&ab.head_version),
        headline(ab)
    );
    let mut t = table::ruled(&HEADER, color);
    for row in rows(ab, all) {
        t.add_row(row.iter().map(|c| show(c)));
    }
    table::align_right(&mut t, &[3, 4, 5, 6]);
    out.push_str(&table::indented(&t, "  "));
    if !all && ab.metrics.iter().any(|m| !m.gated) {
        out.push_str(&format!(
            "  ({} other metrics: --all shows them; --format json has every round)\n",
            ab.metrics.iter().filter(|m| !m.gated).count()
        ));
    }
    for w in &ab.warnings {
        out.push_str(&format!("warning: {}\n", show(w)));
    }
    out
}

/// GitHub-flavoured Markdown: the headline, every metric, the rounds.
pub fn markdown(ab: &AbComparison) -> String {
    let md = escape::markdown;
    let mut out = format!(
        "### costbench A/B\n\nbase `{}` ({}), head `{}` ({})\n\n{}\n\n",
        md(&ab.base),
        md(&ab.base_version),
        md(&ab.head),
        md(&ab.head_version),
        md(&headline(ab))
    );
    let mut t = table::markdown(&HEADER);
    for row in rows(ab, true) {
        t.add_row(row.iter().map(|c| md(c)));
    }
    out.push_str(&t.to_string());
    out.push_str("\n\n| round | order | base reports | head reports |\n|---|---|---|---|\n");
    for r in &ab.rounds {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.index,
            md(&r.order),
            md(&r.base_reports.join(", ")),
            md(&r.head_reports.join(", "))
        ));
    }
    for w in &ab.warnings {
        out.push_str(&format!("\n> warning: {}\n", md(w)));
    }
    out
}
