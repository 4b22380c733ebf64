//! The command line as the Rust CLI ecosystem expects it: completions, a man page, help that
//! tells the truth.

use assert_cmd::Command;

fn costbench() -> Command {
    let mut cmd = Command::cargo_bin("costbench").unwrap();
    cmd.env("CI", "true");
    cmd
}

const SUBCOMMANDS: [&str; 9] = [
    "list", "check", "run", "catalog", "estimate", "probe", "compare", "report", "history",
];

#[test]
fn completions_are_generated_for_every_shell_and_know_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = costbench().args(["completions", shell]).assert().success();
        let script = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        // Options of a subcommand too, e.g. run's --quick.
        assert!(
            script.contains("quick"),
            "{shell} completion lacks run --quick"
        );
    }
    costbench()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid value 'tcsh'"));
}

#[test]
fn the_man_page_is_roff_and_lists_every_subcommand() {
    let out = costbench().arg("man").assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(page.contains(".TH costbench 1"), "{}", &page[..200]);
    assert!(page.contains(".SH SUBCOMMANDS"), "no SUBCOMMANDS section");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("costbench\\-{sub}")),
            "man page lacks {sub}"
        );
    }
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = costbench().args(args).assert().success();
    serde_json::from_slice(&out.get_output().stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

#[test]
fn list_check_and_catalog_speak_json_in_their_documented_shape() {
    use costbench::render::documents::{CheckDocument, WorkloadList};
    let list: WorkloadList =
        serde_json::from_value(json_of(&["list", "--format", "json"])).unwrap();
    let names: Vec<&str> = list
        .workloads
        .iter()
        .map(|w| w.workload.name.as_str())
        .collect();
    assert_eq!(names, costbench::workload::bundled::names());
    assert!(
        list.workloads
            .iter()
            .all(|w| w.workload.spec_hash.len() == 64)
    );

    let check: CheckDocument =
        serde_json::from_value(json_of(&["check", "mlp-small", "--format", "json"])).unwrap();
    assert_eq!(check.workload.workload.name, "mlp-small");
    assert!(check.slice_memory_bytes > 0);

    // The catalog's --format json is the old --json, and parses as the catalog type.
    let a = json_of(&["catalog", "--format", "json"]);
    assert_eq!(a, json_of(&["catalog", "--json"]));
    let _: costbench::catalog::Catalog = serde_json::from_value(a).unwrap();

    // An invalid workload is an error on stderr, never a document on stdout.
    let out = costbench()
        .args(["check", "gpt2", "--format", "json"])
        .assert()
        .code(1);
    assert!(out.get_output().stdout.is_empty());
}

/// `--color` and the environment conventions behind `auto` (a pipe is never a terminal here).
#[test]
fn colour_follows_the_flag_no_color_and_clicolor_force() {
    let r = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reports/tiny.json"
    );
    let escapes = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = costbench();
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.args(["compare", r, r]).args(args).assert().success();
        out.get_output()
            .stdout
            .iter()
            .filter(|&&b| b == 0x1b)
            .count()
    };
    assert_eq!(escapes(&[], &[]), 0, "auto into a pipe");
    assert!(escapes(&["--color", "always"], &[]) > 0);
    assert_eq!(
        escapes(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]),
        0
    );
    assert!(
        escapes(&[], &[("CLICOLOR_FORCE", "1")]) > 0,
        "CLICOLOR_FORCE into a pipe"
    );
    assert_eq!(
        escapes(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        0,
        "NO_COLOR wins"
    );
    assert!(
        escapes(&["--color", "always"], &[("NO_COLOR", "1")]) > 0,
        "an explicit flag wins"
    );
}

/// A first CI run has no reports yet: `history` says so and succeeds (JSON: an empty
/// document); a directory named on the command line that does not exist is still an error.
#[test]
fn history_of_no_reports_is_a_note_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    costbench()
        .args(["history", d])
        .assert()
        .success()
        .stderr(predicates::str::contains("holds no costbench report yet"));
    let v = json_of(&["history", d, "--json"]);
    assert_eq!(v, json_of(&["history", d, "--format", "json"]));
    assert_eq!(v["reports"], 0);
    assert_eq!(v["series"], serde_json::json!([]));
    // The default results/ of a fresh checkout.
    costbench()
        .current_dir(dir.path())
        .arg("history")
        .assert()
        .success();
    costbench()
        .args(["history", &format!("{d}/missing")])
        .assert()
        .code(1);
}

/// `probe --format json` prints the roofline in its documented shape (docs/probe-schema.json).
#[test]
fn probe_speaks_json() {
    let cache = tempfile::tempdir().unwrap();
    let out = costbench()
        .env("COSTBENCH_CACHE_DIR", cache.path())
        .args(["probe", "--quick", "--threads", "1", "--format", "json"])
        .assert()
        .success();
    let r: costbench::measure::probe::Roofline =
        serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(r.fingerprint.len() == 16, "{}", r.fingerprint);
}
