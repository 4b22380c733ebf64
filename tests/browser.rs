//! The HTML report in a real browser: Debian's Chromium renders it headless, and the tests check
//! the screenshot is not blank, the page logged nothing to the console (no error, no blocked
//! request or script), the chart elements are in the DOM with a `<title>` and an accessible
//! label, the verdict is stated in words (vendor, chip, interval, probability) on a report
//! with a Monte Carlo and on an estimate page, an older report without one still renders, and
//! that a workload named `<script>alert(1)</script>` stays text.
//!
//! `.ci/run` installs Chromium (`apt-get install chromium`). Without it the tests fail under CI
//! (`CI` set) and are skipped with a message elsewhere, so `cargo test` still works on a
//! machine without a browser.

mod common;

use assert_cmd::Command;
use common::{REPORT_FIXTURE, TINY_WORKLOAD};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The browser: `$COSTBENCH_CHROMIUM`, or the first of chromium / chromium-browser /
/// google-chrome on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COSTBENCH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn browser_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium not found: CI must run the browser tests (.ci/run installs Debian's chromium)"
        );
        eprintln!(
            "skipped: no Chromium on PATH (apt-get install chromium, or set COSTBENCH_CHROMIUM)"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `extra` flags. The flags keep it off the network
/// (this machine has none) and away from the user's profile.
fn run_chromium(browser: &Path, page: &Path, profile: &Path, extra: &[&str]) -> Output {
    let url = format!("file://{}", page.display());
    std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("Chromium starts")
}

/// Lines where the page wrote to the console (Chromium logs them as `INFO:CONSOLE`), including
/// Content-Security-Policy violations: a blocked script, font or request.
fn console_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

/// `report` → HTML page in `dir`.
fn html_page(dir: &Path, report: &Path, name: &str) -> PathBuf {
    let page = dir.join(name);
    Command::cargo_bin("costbench")
        .unwrap()
        .args(["report"])
        .arg(report)
        .args(["--format", "html", "-o"])
        .arg(&page)
        .arg("-q")
        .assert()
        .success();
    page
}

/// Share of pixels that are not (near) white, and the number of distinct colours.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut inked = 0usize;
    let mut colours = std::collections::BTreeSet::new();
    for px in pixels.chunks(channels) {
        let rgb = &px[..3.min(channels)];
        if rgb.iter().any(|&c| c < 240) {
            inked += 1;
        }
        if colours.len() < 10_000 {
            colours.insert(rgb.to_vec());
        }
    }
    (
        inked as f64 / (pixels.len() / channels) as f64,
        colours.len(),
    )
}

/// A fresh report of the tiny workload, with the Monte Carlo and the verdict (schema 1.3 on).
fn fresh_report(dir: &Path) -> PathBuf {
    let report = dir.join("fresh.json");
    Command::cargo_bin("costbench")
        .unwrap()
        .current_dir(dir)
        .args([
            "run",
            "--threads",
            "1",
            TINY_WORKLOAD,
            "--quick",
            "--no-probe",
        ])
        .args(["--warmup", "0", "--max-time", "0.3", "-q", "-o"])
        .arg(&report)
        .assert()
        .success();
    report
}

/// Screenshots `page` and checks it is not blank and logged nothing; returns the DOM as the
/// browser built it.
fn render_in_browser(browser: &Path, dir: &Path, page: &Path) -> String {
    let shot = dir.join("page.png");
    let out = run_chromium(
        browser,
        page,
        &dir.join("profile"),
        &[
            "--window-size=1280,3000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        console_lines(&out),
        Vec::<String>::new(),
        "the page logged to the console"
    );
    let (share, colours) = ink(&shot);
    assert!(
        share > 0.03,
        "the screenshot is nearly blank: {:.1}% inked",
        share * 100.0
    );
    assert!(colours > 20, "the screenshot has only {colours} colours");
    let out = run_chromium(browser, page, &dir.join("profile"), &["--dump-dom"]);
    assert_eq!(
        console_lines(&out),
        Vec::<String>::new(),
        "the page logged to the console"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Each of `ids` is a figure holding an SVG with `role="img"`, an `aria-label` sentence and a
/// `<title>`; returns the labels.
fn charts_are_labelled(dom: &str, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let at = dom
                .find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no #{id} in the rendered page"));
            let svg = &dom[at..][dom[at..]
                .find("<svg")
                .unwrap_or_else(|| panic!("#{id} has no SVG"))..];
            let head = &svg[..svg.find('>').unwrap()];
            assert!(head.contains(" role=\"img\""), "#{id}: {head}");
            let label = head
                .split(" aria-label=\"")
                .nth(1)
                .unwrap_or_else(|| panic!("#{id} has no aria-label"));
            let label = &label[..label.find('"').unwrap()];
            assert!(label.len() > 40 && label.ends_with('.'), "#{id}: {label}");
            let body = &svg[head.len() + 1..];
            assert!(
                body.trim_start().starts_with("<title>"),
                "#{id} has no <title>"
            );
            label.to_string()
        })
        .collect()
}

/// The text of `dom` without its tags, whitespace collapsed (what a reader sees, roughly).
fn text_of(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_report_with_a_monte_carlo_states_the_verdict_in_words() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = fresh_report(dir.path());
    let page = html_page(dir.path(), &report, "fresh.html");
    let dom = render_in_browser(&browser, dir.path(), &page);
    let text = text_of(&dom);
    for words in [
        "Trainium or NVIDIA?",
        "90% interval (5th to 95th percentile)",
        "Cheapest Trainium: ",
        "Cheapest NVIDIA: ",
        "paired Monte Carlo trials",
        "Trainium is cheaper in ",
        "of 10,000 paired trials",
        "USD, 90% interval",
    ] {
        assert!(text.contains(words), "the page does not say {words:?}");
    }
    let labels = charts_are_labelled(
        &dom,
        &[
            "chart-cost",
            "chart-pareto",
            "chart-sensitivity",
            "chart-ops",
        ],
    );
    assert!(
        labels[0].contains("coloured by vendor family (Trainium and NVIDIA)"),
        "{}",
        labels[0]
    );
    assert!(
        labels[2].starts_with("Sensitivity of the verdict"),
        "{}",
        labels[2]
    );
    // The sensitivity chart is the Monte Carlo's, in words, with the tie.
    assert!(dom.contains("Which input moves the verdict most") && dom.contains("Trn1 efficiency"));
    assert!(!dom.contains("efficiency ±20%"));
    // The run was measured without a roofline probe: the page says so.
    assert!(text.contains("No roofline in this report"));
}

/// Llama 2 70B within 30 days, priced with the Monte Carlo: the page `costbench estimate
/// --format html` writes.
fn estimate_of_llama2_70b() -> String {
    use costbench::catalog::Catalog;
    use costbench::model::estimate::{ClusterSize, Scenario};
    use costbench::model::pricing::{Request, UncertaintySettings, price};
    use costbench::model::{Assumptions, Profile, validation};
    use costbench::report::estimate::{EstimateDocument, schema_version};
    use costbench::report::schema::WorkloadRecord;

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
    costbench::render::export::html::estimate_page(&EstimateDocument {
        schema_version: schema_version(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: "2026-11-29T12:00:00Z".to_string(),
        workload: WorkloadRecord {
            name: "llama2-70b".to_string(),
            kind: "transformer".to_string(),
            source: "Llama 2 70B (Touvron et al. 2023)".to_string(),
            spec: serde_json::Value::Null,
            spec_hash: "0".repeat(64),
        },
        target_params: profile.params,
        target_tokens: w.target_tokens as f64,
        target_training_flops: profile.executed_flops(),
        scenario: "published".to_string(),
        cost: p.record(&catalog, &assumptions),
    })
}

#[test]
fn the_estimate_page_states_the_verdict_and_why_spot_is_left_out() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("estimate.html");
    std::fs::write(&page, estimate_of_llama2_70b()).unwrap();
    let dom = render_in_browser(&browser, dir.path(), &page);
    let text = text_of(&dom);
    for words in [
        "costbench estimate: llama2-70b",
        "Cheapest Trainium: ",
        "Cheapest NVIDIA: H100 SXM on ",
        "Trainium is cheaper in ",
        "of 10,000 paired trials",
        "Spot options are left out of this verdict: spot capacity is interruptible",
        "longer than 1 day",
        "Efficiency is a proxy",
        "Not published, so not priced",
    ] {
        assert!(text.contains(words), "the page does not say {words:?}");
    }
    charts_are_labelled(&dom, &["chart-cost", "chart-pareto", "chart-sensitivity"]);
}

#[test]
fn the_report_renders_with_charts_and_no_console_output() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = html_page(dir.path(), Path::new(REPORT_FIXTURE), "report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch, nothing to run.
    // (SVG's xmlns="http://www.w3.org/2000/svg" names a namespace; it fetches nothing.)
    for banned in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(banned), "the page contains {banned:?}");
    }

    let shot = dir.path().join("report.png");
    let out = run_chromium(
        &browser,
        &page,
        &dir.path().join("profile"),
        &[
            "--window-size=1280,3000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        console_lines(&out),
        Vec::<String>::new(),
        "the page logged to the console"
    );
    let (share, colours) = ink(&shot);
    assert!(
        share > 0.03,
        "the screenshot is nearly blank: {:.1}% inked",
        share * 100.0
    );
    assert!(colours > 20, "the screenshot has only {colours} colours");

    let out = run_chromium(
        &browser,
        &page,
        &dir.path().join("profile"),
        &["--dump-dom"],
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    for id in [
        "chart-cost",
        "chart-pareto",
        "chart-sensitivity",
        "chart-roofline",
        "chart-ops",
    ] {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in the rendered page"));
        assert!(dom[at..].contains("<svg"), "#{id} has no SVG");
    }
    assert!(dom.contains("Cost table") && dom.contains("Assumptions") && dom.contains("Prices"));
    // A report from before the Monte Carlo (schema 1.2): every chart still labelled, the ±20%
    // tornado kept, and the page says there are no intervals.
    charts_are_labelled(
        &dom,
        &[
            "chart-cost",
            "chart-pareto",
            "chart-sensitivity",
            "chart-roofline",
            "chart-ops",
        ],
    );
    assert!(dom.contains("efficiency ±20%"));
    assert!(text_of(&dom).contains("No Monte Carlo in this report"));
}

#[test]
fn console_detection_sees_a_blocked_script() {
    // The check above would pass vacuously if console lines were never seen: a page with an
    // inline script (blocked by the same policy) must produce one.
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body><script>console.error('x')</script></body></html>",
    )
    .unwrap();
    let out = run_chromium(
        &browser,
        &page,
        &dir.path().join("profile"),
        &["--dump-dom"],
    );
    let lines = console_lines(&out);
    assert!(
        !lines.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_workload_named_like_a_script_stays_text() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let evil = "<script>alert(1)</script>";
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(REPORT_FIXTURE).unwrap()).unwrap();
    v["workload"]["name"] = evil.into();
    v["workload"]["source"] = format!("\"><img src=x onerror=alert(2)>{evil}").into();
    v["machine"]["label"] = evil.into();
    v["warnings"] = serde_json::json!([evil]);
    if let Some(options) = v["cost"]["options"].as_array_mut() {
        for o in options {
            // "proxy" puts the note beside the options as well as in the efficiency table.
            o["efficiency_note"] = format!("proxy {evil}").into();
            o["price_source"] = evil.into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("evil.json");
    std::fs::write(&report, v.to_string()).unwrap();
    let page = html_page(dir.path(), &report, "evil.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "an unescaped script tag");
    assert!(!html.contains("<img"), "an unescaped img tag");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let out = run_chromium(
        &browser,
        &page,
        &dir.path().join("profile"),
        &["--dump-dom"],
    );
    assert_eq!(
        console_lines(&out),
        Vec::<String>::new(),
        "the page logged to the console"
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The DOM holds the name as text, and no script or img element.
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
    assert!(dom.contains("costbench: &lt;script&gt;alert(1)&lt;/script&gt;"));
}
