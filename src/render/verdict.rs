//! The verdict as the first lines `run` and `estimate` print: the cheapest Trainium and the
//! cheapest NVIDIA option with their medians and 90% intervals, the probability that Trainium is
//! cheaper, and how likely each is to meet the deadline. At most five lines, each within 100
//! columns.

use crate::model::verdict::{Pick, Verdict};
use crate::units::{self, span_words};

/// `$1.23M ($0.98M–$1.61M)`.
fn money_range(s: &crate::model::uncertainty::Spread) -> String {
    units::usd_interval(s.median, s.low, s.high)
}

/// `36 d (30–52)`, `7.5 h (6.1–9.8)`: the interval in the median's unit (hours under two
/// days), whole numbers from 10 up.
fn time_range(s: &crate::model::uncertainty::Spread) -> String {
    let (k, unit) = if s.median < 48.0 {
        (1.0, "h")
    } else {
        (24.0, "d")
    };
    let d = if s.median / k >= 10.0 { 0 } else { 1 };
    format!(
        "{:.d$} {unit} ({:.d$}–{:.d$})",
        s.median / k,
        s.low / k,
        s.high / k
    )
}

/// The chip's short name: the part in parentheses (`AWS Trainium (Trn1)` → `Trn1`), or the
/// name without its maker (`NVIDIA H100 SXM` → `H100 SXM`).
pub fn short_chip(name: &str, vendor: &str) -> String {
    if let (Some(a), Some(b)) = (name.find('('), name.rfind(')'))
        && a + 1 < b
    {
        return name[a + 1..b].to_string();
    }
    if vendor.is_empty() {
        return name.to_string();
    }
    name.strip_prefix(vendor)
        .map(str::trim_start)
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
        .to_string()
}

fn percent(p: f64) -> String {
    units::percent_to(p, 0)
}

fn pick_line(label: &str, p: &Pick) -> String {
    format!(
        "  {label:<9} {} × {} ({}), {}: {}, {}",
        p.instances,
        p.instance,
        short_chip(&p.chip, &p.vendor),
        p.plan.as_str(),
        money_range(&p.usd),
        time_range(&p.wall_hours)
    )
}

/// The verdict's lines (3–5), each ending in a newline.
pub fn text(v: &Verdict) -> String {
    let mut out = format!(
        "Trainium or NVIDIA? Medians and 90% intervals over {} paired trials (seed {}):\n",
        thousands(v.trials),
        v.seed
    );
    match &v.trainium {
        Some(p) => out.push_str(&pick_line("Trainium", p)),
        None => out.push_str("  Trainium  no Trainium option could be priced (see --verbose)"),
    }
    out.push('\n');
    match &v.nvidia {
        Some(p) => out.push_str(&pick_line("NVIDIA", p)),
        None => out.push_str("  NVIDIA    no NVIDIA option could be priced (see --verbose)"),
    }
    out.push('\n');
    if let (Some(cheaper), Some(faster)) = (v.p_trainium_cheaper, v.p_trainium_faster) {
        let mut line = format!(
            "  Trainium is cheaper in {} of trials and faster in {}",
            percent(cheaper),
            percent(faster)
        );
        if let (Some(h), Some(t), Some(n)) = (&v.deadline_hours, &v.trainium, &v.nvidia)
            && let (Some(pt), Some(pn)) = (t.p_within_deadline, n.p_within_deadline)
        {
            line.push_str(&format!(
                "; within {}: Trainium {}, NVIDIA {}",
                span_words(*h),
                percent(pt),
                percent(pn)
            ));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(days) = v.spot_left_out_beyond_days {
        out.push_str(&format!(
            "  Spot left out: it can be reclaimed at 2 minutes' notice, and this run lasts over {}.\n",
            span_words(days * 24.0)
        ));
    }
    out
}

fn thousands(n: usize) -> String {
    units::grouped(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_counts_read_well() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(short_chip("AWS Trainium (Trn1)", "AWS"), "Trn1");
        assert_eq!(short_chip("NVIDIA H100 SXM", "NVIDIA"), "H100 SXM");
    }
}

#[cfg(test)]
mod snapshot {
    use crate::catalog::Catalog;
    use crate::model::estimate::{ClusterSize, Scenario};
    use crate::model::pricing::{Request, UncertaintySettings, price};
    use crate::model::{Assumptions, Profile, validation};

    /// Llama 2 70B on 2T tokens, finishing within 30 days, on the bundled catalog.
    #[test]
    fn the_verdict_of_llama2_70b() {
        let (_, w, _) = validation::llama2_runs().remove(2);
        let profile = Profile::from_transformer(&w);
        let catalog = Catalog::bundled();
        let assumptions = Assumptions::default();
        let p = price(&Request {
            profile: &profile,
            catalog: &catalog,
            scenario: Scenario::Published,
            size: ClusterSize::DeadlineDays(30.0),
            assumptions: &assumptions,
            plans: &[],
            measured: None,
            uncertainty: Some(UncertaintySettings::default()),
            model: Default::default(),
        });
        let text = super::text(&p.uncertainty.expect("asked for").verdict);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!((3..=5).contains(&text.lines().count()));
        insta::assert_snapshot!(text);
    }
}
