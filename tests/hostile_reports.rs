//! Reports that cannot lie, outputs that cannot inject (issue 14): crafted variants of the
//! report fixture (`tests/fixtures/reports/tiny.json`, a real quick run) that once passed.
//!
//! - A report whose figures disagree with its samples — summaries doubled over empty samples,
//!   samples doubled under the old summaries, an interval turned inside out, a NaN, an
//!   unparsable date — is refused by `report`, `compare` (also in a directory, so the CI gate
//!   cannot pass by skipping it) with one `error:` line naming the file, the field and what was
//!   expected; `history` lists it as skipped.
//! - Text from a report reaches a terminal with its control characters shown, Markdown with
//!   its markup escaped and its rows whole, CSV with formulas neutralised, SVG and HTML as
//!   well-formed XML.

mod common;

use common::{REPORT_FIXTURE, costbench, panic_traces, single_error};
use serde_json::{Value, json};
use std::path::Path;

fn fixture() -> Value {
    serde_json::from_slice(&std::fs::read(REPORT_FIXTURE).unwrap()).unwrap()
}

/// The fixture changed by `f`, as JSON text.
fn hostile(f: impl FnOnce(&mut Value)) -> String {
    let mut v = fixture();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

fn scale(v: &mut Value, k: f64) {
    *v = json!(v.as_f64().unwrap() * k);
}

fn scale_all(xs: &mut Value, k: f64) {
    for x in xs.as_array_mut().unwrap() {
        scale(x, k);
    }
}

/// The estimate's point and bounds times `k`.
fn scale_estimate(e: &mut Value, k: f64) {
    for f in ["point", "lower", "upper", "standard_error"] {
        scale(&mut e[f], k);
    }
}

fn step_time_metric(v: &mut Value) -> &mut Value {
    v["metrics"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["id"] == "step_time")
        .unwrap()
}

type Mutation = fn(&mut Value);

/// (name, mutation of the fixture, words the one-line error must hold).
fn refused_cases() -> Vec<(&'static str, Mutation, &'static [&'static str])> {
    vec![
        (
            "doubled_summaries_empty_samples",
            |v| {
                let m = &mut v["measurement"];
                m["samples_s"] = json!([]);
                scale_estimate(&mut m["step_time_s"]["median"], 2.0);
                scale_estimate(&mut m["step_time_s"]["mean"], 2.0);
                scale_estimate(&mut step_time_metric(v)["estimate"], 2.0);
            },
            &[
                "inconsistent",
                "measurement.samples_s",
                "at least 2 samples",
                "found 0",
            ],
        ),
        (
            "doubled_samples_under_stored_summaries",
            |v| scale_all(&mut v["measurement"]["samples_s"], 2.0),
            &[
                "inconsistent",
                "measurement.step_time_s",
                "expected",
                "samples_s",
            ],
        ),
        (
            "doubled_step_time_metric_only",
            |v| scale_estimate(&mut step_time_metric(v)["estimate"], 2.0),
            &[
                "inconsistent",
                "metrics[0] (step_time).estimate.point",
                "expected",
            ],
        ),
        (
            "doubled_step_summary_and_metric",
            |v| {
                scale_estimate(&mut v["measurement"]["step_time_s"]["median"], 2.0);
                scale_estimate(&mut step_time_metric(v)["estimate"], 2.0);
            },
            &[
                "inconsistent",
                "measurement.step_time_s.median.point",
                "median of",
            ],
        ),
        (
            "doubled_op_class_samples",
            |v| scale_all(&mut v["measurement"]["op_classes"][0]["samples_s"], 2.0),
            &[
                "inconsistent",
                "measurement.op_classes[0].time_s",
                "expected",
            ],
        ),
        (
            "op_class_samples_missing",
            |v| v["measurement"]["op_classes"][1]["samples_s"] = json!([]),
            &[
                "measurement.op_classes[1].samples_s",
                "one per sampled step",
            ],
        ),
        (
            "doubled_gflops",
            |v| scale_estimate(&mut v["measurement"]["gflops"], 2.0),
            &[
                "inconsistent",
                "measurement.gflops.point",
                "median step time",
            ],
        ),
        (
            "doubled_roofline_fraction",
            |v| {
                scale_estimate(
                    &mut v["measurement"]["op_classes"][0]["roofline_fraction"],
                    2.0,
                )
            },
            &[
                "measurement.op_classes[0].roofline_fraction.point",
                "roofline",
            ],
        ),
        (
            "edited_roofline_median",
            |v| scale(&mut v["roofline"]["f32_gflops_all_threads"]["median"], 2.0),
            &[
                "roofline.f32_gflops_all_threads.median",
                "median of its samples",
            ],
        ),
        (
            "lower_above_upper_in_a_summary",
            |v| {
                let e = &mut v["measurement"]["step_time_s"]["median"];
                let (lo, hi) = (e["lower"].clone(), e["upper"].clone());
                e["lower"] = hi;
                e["upper"] = lo;
            },
            &["measurement.step_time_s.median", "lower", "above upper"],
        ),
        (
            "lower_above_upper_in_a_metric",
            |v| {
                let e = &mut step_time_metric(v)["estimate"];
                let (lo, hi) = (e["lower"].clone(), e["upper"].clone());
                e["lower"] = hi;
                e["upper"] = lo;
            },
            &["metrics[0] (step_time).estimate.lower", "expected"],
        ),
        (
            "interval_narrowed_around_the_point",
            |v| {
                let e = &mut v["measurement"]["step_time_s"]["median"];
                e["lower"] = e["point"].clone();
                e["upper"] = e["point"].clone();
                let m = &mut step_time_metric(v)["estimate"];
                m["lower"] = m["point"].clone();
                m["upper"] = m["point"].clone();
            },
            &["measurement.step_time_s.median.lower", "bootstrap", "seed"],
        ),
        (
            "standard_error_negative",
            |v| v["measurement"]["step_time_s"]["mean"]["standard_error"] = json!(-1.0),
            &["measurement.step_time_s.mean.standard_error", "expected"],
        ),
        (
            "created_at_banana",
            |v| v["created_at"] = json!("banana"),
            &["impossible", "created_at", "RFC 3339", "banana"],
        ),
        (
            "roofline_measured_at_not_a_time",
            |v| v["roofline"]["measured_at"] = json!("yesterday"),
            &["roofline.measured_at", "RFC 3339", "yesterday"],
        ),
        (
            "nan_standard_deviation",
            |v| v["measurement"]["step_time_s"]["std_dev"] = Value::Null,
            &["measurement.step_time_s.std_dev", "NaN", "expected"],
        ),
        (
            "nan_gflops",
            |v| v["measurement"]["gflops"]["point"] = Value::Null,
            &["measurement.gflops.point", "NaN", "expected"],
        ),
        (
            "nan_interval_bound",
            |v| v["measurement"]["step_time_s"]["median"]["upper"] = Value::Null,
            &["measurement.step_time_s.median.upper", "finite", "NaN"],
        ),
        (
            "negative_sample",
            |v| v["measurement"]["samples_s"][3] = json!(-0.001),
            &["measurement.samples_s[3]", "expected"],
        ),
        (
            "negative_warmup_time",
            |v| v["measurement"]["warmup_s"][0] = json!(-1.0),
            &["measurement.warmup_s[0]", "expected"],
        ),
        (
            "count_not_the_samples",
            |v| v["measurement"]["step_time_s"]["n"] = json!(1000),
            &["measurement.step_time_s.n", "found 1000", "expected 58"],
        ),
        (
            "outlier_count_edited",
            |v| v["measurement"]["step_time_s"]["outliers"]["high_severe"] = json!(40),
            &["measurement.step_time_s.outliers.high_severe", "Tukey"],
        ),
        (
            "a_metric_no_sample_supports",
            |v| {
                let mut extra = step_time_metric(v).clone();
                extra["id"] = json!("step_time_fast");
                v["metrics"].as_array_mut().unwrap().push(extra);
            },
            &[
                "metrics",
                "step_time_fast",
                "not a figure of the measurement",
            ],
        ),
        (
            "a_metric_removed",
            |v| {
                v["metrics"].as_array_mut().unwrap().pop();
            },
            &["metrics", "is missing"],
        ),
        (
            "accounting_difference_edited",
            |v| v["measurement"]["flops"]["relative_difference"] = json!(0.2),
            &["measurement.flops.relative_difference", "analytic"],
        ),
        (
            "executed_flops_doubled",
            |v| {
                let f = &mut v["measurement"]["flops"]["executed_per_step"];
                *f = json!(f.as_u64().unwrap() * 2);
            },
            &["measurement.gflops", "expected"],
        ),
        (
            "op_class_twice",
            |v| {
                let c = v["measurement"]["op_classes"][0].clone();
                v["measurement"]["op_classes"]
                    .as_array_mut()
                    .unwrap()
                    .push(c);
            },
            &["measurement.op_classes[9].class", "twice"],
        ),
        (
            "confidence_level_impossible",
            |v| v["settings"]["confidence_level"] = json!(1.5),
            &["settings.confidence_level", "between 0 and 1"],
        ),
        (
            "resamples_huge",
            |v| v["settings"]["resamples"] = json!(20_000),
            &["settings.resamples", "expected 1 to 10000", "found 20000"],
        ),
        (
            "cost_usd_negative",
            |v| v["cost"]["options"][0]["usd"] = json!(-5.0),
            &["cost.options[0].usd", "expected a finite number"],
        ),
    ]
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    costbench().current_dir(dir).args(args).output().unwrap()
}

#[test]
fn reports_whose_figures_disagree_with_their_samples_are_refused() {
    let mut failures = Vec::new();
    for (name, mutation, words) in refused_cases() {
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(REPORT_FIXTURE, d.path().join("good.json")).unwrap();
        std::fs::write(d.path().join("bad.json"), hostile(mutation)).unwrap();
        std::fs::create_dir(d.path().join("new")).unwrap();
        std::fs::copy(d.path().join("bad.json"), d.path().join("new/bad.json")).unwrap();
        for args in [
            &["compare", "good.json", "bad.json", "--fail-on-regression"][..],
            &["compare", "bad.json", "good.json"],
            &["report", "bad.json"],
            // In a directory: the gate must not pass by skipping the lying report.
            &["compare", "good.json", "new", "--fail-on-regression"],
        ] {
            let out = run(d.path(), args);
            let result = std::panic::catch_unwind(|| single_error(&out));
            let line = match result {
                Ok(line) => line,
                Err(_) => {
                    failures.push(format!(
                        "{name}: {args:?}: exit {:?}, stdout {:?}, stderr {:?}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout).lines().next(),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                    continue;
                }
            };
            let missing: Vec<&&str> = words
                .iter()
                .chain(&["bad.json"])
                .filter(|w| !line.contains(**w))
                .collect();
            if !missing.is_empty() {
                failures.push(format!("{name}: {args:?}: {missing:?} not in {line}"));
            }
        }
        // `history` keeps going without it and says why.
        let out = run(d.path(), &["history", "."]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.code() != Some(0)
            || !stdout.contains("! skipped: './bad.json'")
            || !panic_traces(&out).is_empty()
        {
            failures.push(format!(
                "{name}: history: exit {:?}: {stdout}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The committed reports — the fixture, the CI baseline and the fuzzers' report seeds — are
/// consistent and load.
#[test]
fn committed_reports_are_consistent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("tests/fixtures/reports/tiny.json")];
    for dir in ["results/baselines/ci", "fuzz/seeds/report_load"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            // The truncated and regression seeds are meant not to load.
            if p.extension().is_some_and(|x| x == "json")
                && !name.contains("truncated")
                && !name.starts_with("regress-")
            {
                paths.push(p);
            }
        }
    }
    assert!(paths.len() >= 4, "{paths:?}");
    for p in paths {
        if let Err(e) = costbench::report::store::load(&p) {
            panic!("{}: {e}", p.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Escaping.

const TERMINAL_ATTACK: &str = "evil\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m";

/// The fixture with terminal escapes in every name a command prints.
fn terminal_attack() -> String {
    hostile(|v| {
        v["workload"]["name"] = json!(TERMINAL_ATTACK);
        v["workload"]["source"] = json!(format!("src{TERMINAL_ATTACK}"));
        v["machine"]["cpu_model"] = json!(format!("cpu{TERMINAL_ATTACK}"));
        v["machine"]["label"] = json!(format!("label{TERMINAL_ATTACK}"));
        // A commit of multi-byte characters: cut by characters, never panicking.
        v["machine"]["git"]["commit"] = json!("ééééééééééééé\u{1b}[2J");
        v["cost"]["options"][0]["instance"] = json!(format!("inst{TERMINAL_ATTACK}"));
        v["cost"]["options"][0]["price_source"] = json!(format!("src{TERMINAL_ATTACK}"));
    })
}

/// No raw control character but line feeds.
fn assert_no_controls(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: raw control characters {bad:?} in {text}"
    );
}

#[test]
fn report_compare_and_history_print_names_escaped() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("dir")).unwrap();
    std::fs::write(d.path().join("dir/evil.json"), terminal_attack()).unwrap();
    std::fs::copy(REPORT_FIXTURE, d.path().join("good.json")).unwrap();
    let runs: &[&[&str]] = &[
        &["report", "dir/evil.json"],
        &["report", "dir/evil.json", "--format", "markdown"],
        &["report", "dir/evil.json", "--format", "csv"],
        &["compare", "good.json", "dir/evil.json", "--raw-times"],
        &[
            "compare",
            "good.json",
            "dir/evil.json",
            "--format",
            "markdown",
        ],
        // Another CPU model (and label), so another testbed: the gate is refused (exit 2, a
        // message that shows the names escaped too)…
        &[
            "compare",
            "good.json",
            "dir/evil.json",
            "--fail-on-regression=0",
        ],
        // …unless asked to gate across machines.
        &[
            "compare",
            "good.json",
            "dir/evil.json",
            "--fail-on-regression=0",
            "--across-machines",
        ],
        &["history", "dir"],
        &["history", "dir", "--metric", "cost."],
    ];
    for args in runs {
        let out = run(d.path(), args);
        let refused =
            args.contains(&"--fail-on-regression=0") && !args.contains(&"--across-machines");
        assert!(
            if refused {
                out.status.code() == Some(2)
            } else {
                matches!(out.status.code(), Some(0 | 3))
            },
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(panic_traces(&out).is_empty(), "{args:?}");
        assert_no_controls(&format!("{args:?} stdout"), &out.stdout);
        assert_no_controls(&format!("{args:?} stderr"), &out.stderr);
    }
    // Shown, not dropped: the escapes are visible.
    let out = run(d.path(), &["report", "dir/evil.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("evil\\e]0;owned\\u{7}\\e[2J\\u{9b}31m"),
        "{text}"
    );
    let out = run(d.path(), &["history", "dir"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("evil\\e]0;owned"), "{text}");
    let out = run(d.path(), &["compare", "good.json", "dir/evil.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("@ éééééééééé)"), "{text}");
}

#[test]
fn csv_cells_that_spreadsheets_would_run_are_neutralised() {
    let d = tempfile::tempdir().unwrap();
    let evil = hostile(|v| {
        v["workload"]["name"] = json!("=HYPERLINK(\"http://evil.example\",\"click\")");
        v["cost"]["options"][0]["instance"] = json!("+cmd|' /C calc'!A0");
        v["cost"]["options"][0]["price_source"] = json!("@SUM(1+1)*cmd|' /C calc'!A0");
        v["cost"]["options"][1]["price_source"] = json!("-2+3+cmd|' /C calc'!A0");
        v["cost"]["options"][2]["price_source"] = json!("\tx");
    });
    std::fs::write(d.path().join("evil.json"), evil).unwrap();
    let out = run(d.path(), &["report", "evil.json", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row.starts_with(
                "evil.json,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\","
            ),
            "{row}"
        );
    }
    assert!(rows[0].contains(",\"'+cmd|' /C calc'!A0\","), "{}", rows[0]);
    assert!(
        rows[0].contains("\"'@SUM(1+1)*cmd|' /C calc'!A0\""),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("\"'-2+3+cmd|' /C calc'!A0\""),
        "{}",
        rows[1]
    );
    // A tab is shown visibly (the CSV may be printed on a terminal), so no cell starts with it.
    assert!(rows[2].contains(",\\tx,"), "{}", rows[2]);
    // No field of any row starts a formula unquoted.
    for row in &rows {
        for field in row.split(',') {
            assert!(
                !field.starts_with(['=', '+', '@', '\t', '\r']),
                "{field} in {row}"
            );
        }
    }
    // costbench's own figures stay numbers.
    let good = run(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["report", REPORT_FIXTURE, "--format", "csv"],
    );
    let good = String::from_utf8(good.stdout).unwrap();
    let first = good.lines().nth(1).unwrap();
    assert!(first.contains(",2.48,"), "{first}");
    assert!(
        !first.contains(",'") && !first.contains(",\"'"),
        "nothing neutralised: {first}"
    );
}

#[test]
fn markdown_keeps_markup_as_text_and_rows_whole() {
    let d = tempfile::tempdir().unwrap();
    let evil = hostile(|v| {
        v["workload"]["name"] = json!("<script>alert(1)</script>\n| forged | row |");
        v["machine"]["cpu_model"] = json!("<img src=x onerror=alert(1)>\r\n## heading");
        v["cost"]["cluster"] = json!("x\n\n<script>alert(2)</script>");
        v["cost"]["options"][0]["price_source"] = json!("a|b\nc<i>");
    });
    std::fs::write(d.path().join("evil.json"), &evil).unwrap();
    std::fs::copy(REPORT_FIXTURE, d.path().join("good.json")).unwrap();
    for args in [
        &["report", "evil.json", "--format", "markdown"][..],
        &["compare", "good.json", "evil.json", "--format", "markdown"],
    ] {
        let out = run(d.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let md = String::from_utf8(out.stdout).unwrap();
        for bad in ["<script", "<img", "<i>", "\n## heading", "\n| forged"] {
            assert!(!md.contains(bad), "{args:?}: {bad:?} in {md}");
        }
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
        // Every table row has as many cells as its header.
        let mut columns = None;
        for line in md.lines() {
            if line.starts_with('|') {
                let cells = line.replace("\\|", "").matches('|').count();
                if line.starts_with("|-") || columns.is_none() {
                    columns = Some(cells);
                }
                assert_eq!(Some(cells), columns, "{args:?}: {line}");
            } else {
                columns = None;
            }
        }
    }
    let out = run(d.path(), &["report", "evil.json", "--format", "markdown"]);
    let md = String::from_utf8(out.stdout).unwrap();
    let heading = md.lines().find(|l| l.starts_with("## costbench")).unwrap();
    assert!(heading.contains("\\| forged \\| row \\|"), "{heading}");
}

/// The `<svg>…</svg>` elements of a document.
fn svgs(doc: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("closed") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn assert_well_formed(what: &str, xml: &str) {
    if let Err(e) = roxmltree::Document::parse(xml) {
        panic!("{what}: not well-formed XML: {e}");
    }
}

#[test]
fn svg_and_html_stay_well_formed_xml() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let evil = hostile(|v| {
        let name = "w\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[2J\u{7f}\u{9b}\u{fffe}\u{ffff}<&>\"'";
        v["workload"]["name"] = json!(name);
        v["machine"]["cpu_model"] = json!(name);
        v["cost"]["options"][0]["instance"] = json!(name);
    });
    std::fs::write(d.path().join("dir/evil.json"), &evil).unwrap();
    std::fs::copy(REPORT_FIXTURE, d.path().join("dir/good.json")).unwrap();
    let out = run(
        d.path(),
        &["history", "dir", "--svg", "h.svg", "--html", "h.html"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(d.path().join("h.svg")).unwrap();
    assert_well_formed("history --svg", &svg);
    assert!(
        svg.contains("w\u{fffd}"),
        "the name is shown, its controls replaced"
    );
    let html = std::fs::read_to_string(d.path().join("h.html")).unwrap();
    let out = run(
        d.path(),
        &[
            "report",
            "dir/evil.json",
            "--format",
            "html",
            "-o",
            "r.html",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    for (what, page) in [("history --html", &html), ("report --format html", &report)] {
        let bad: Vec<char> = page
            .chars()
            .filter(|&c| {
                (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                    || matches!(c, '\u{fffe}' | '\u{ffff}')
            })
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:?}");
        let charts = svgs(page);
        assert!(!charts.is_empty(), "{what} has charts");
        for svg in charts {
            assert_well_formed(what, svg);
        }
    }
}
