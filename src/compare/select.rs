//! `compare --metric TEXT`: compare only some metrics. A CI job that gates on the exact counts
//! (`count.`) at a fraction of a percent must leave out the wall-clock figures of the same
//! reports, whose run-to-run noise is larger than that threshold.

use super::Side;

/// Keeps, in every report of `side`, only the metrics whose id contains one of `patterns` (all of
/// them when `patterns` is empty). The modelled cost figures are not metrics of the file and stay
/// (they never gate).
pub fn retain_metrics(side: &mut Side, patterns: &[String]) {
    if patterns.is_empty() {
        return;
    }
    for (_, report) in side.reports.values_mut() {
        report
            .metrics
            .retain(|m| patterns.iter().any(|p| m.id.contains(p.as_str())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn only_the_metrics_named_are_kept() {
        let report = crate::report::store::parse(
            include_str!("../../tests/fixtures/reports/tiny.json"),
            "tiny.json",
        )
        .unwrap();
        let all = report.metrics.len();
        let mut reports = BTreeMap::new();
        reports.insert("tiny".to_string(), ("tiny.json".into(), report));
        let mut side = Side {
            shown: "x".into(),
            reports,
            skipped: Vec::new(),
        };
        retain_metrics(&mut side, &[]);
        assert_eq!(side.reports["tiny"].1.metrics.len(), all);
        retain_metrics(&mut side, &["step_".into(), "op.loss.".into()]);
        let ids: Vec<&str> = side.reports["tiny"]
            .1
            .metrics
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert!(ids.contains(&"step_time") && ids.contains(&"op.loss.flops"), "{ids:?}");
        assert!(ids.iter().all(|i| i.starts_with("step_") || i.starts_with("op.loss.")));
        retain_metrics(&mut side, &["count.".into()]);
        assert!(side.reports["tiny"].1.metrics.is_empty());
    }
}
