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
