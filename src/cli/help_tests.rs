//! Help that tells the truth, checked against the clap definitions themselves (`Cli::command()`),
//! so that a value, an alias or a flag added later without its help fails here:
//!
//! - every value an enumerated argument lists in `--help` (names and aliases) is accepted by
//!   the parser, and every value the parser accepts is listed, aliases included;
//! - an export command's description names exactly the formats its `--format` accepts;
//! - `--threads`, `--quiet` and `--color` sit only on the commands they act on;
//! - `--help` prints the exit codes.

use super::{Cli, EXIT_CODES};
use clap::CommandFactory;
use std::collections::BTreeSet;

/// The subcommands, built as the user meets them (bin names and `help` set).
fn subcommands() -> Vec<clap::Command> {
    let mut cli = Cli::command();
    cli.build();
    cli.get_subcommands().cloned().collect()
}

/// The arguments a command shows in help that take one of a fixed set of values.
fn enumerated(cmd: &clap::Command) -> Vec<&clap::Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.get_possible_values().is_empty())
        .collect()
}

/// Whether `word` occurs in `text` as a whole word (`-` counts as part of a word, so `html`
/// is not found in `xhtml` nor `json` in `json-lines`), ignoring case.
fn mentions(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    let part = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(&word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// The lines of `cmd`'s long help that describe `arg`: its header line and everything indented
/// under it.
fn help_block(cmd: &clap::Command, arg: &clap::Arg) -> String {
    let help = cmd.clone().render_long_help().to_string();
    let header = |line: &str| {
        let line = line.trim_start();
        match arg.get_long() {
            Some(long) => {
                line.starts_with(&format!("--{long}"))
                    || arg
                        .get_short()
                        .is_some_and(|s| line.starts_with(&format!("-{s}, --{long}")))
            }
            None => arg.get_value_names().is_some_and(|names| {
                names.iter().any(|n| {
                    line.starts_with(&format!("<{n}>")) || line.starts_with(&format!("[{n}]"))
                })
            }),
        }
    };
    let mut lines = help.lines().skip_while(|l| !header(l));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("{}: no help for {}", cmd.get_name(), arg.get_id()));
    let indent = |l: &str| l.len() - l.trim_start().len();
    let body = lines.take_while(|l| l.trim().is_empty() || indent(l) > indent(first));
    std::iter::once(first)
        .chain(body)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `cmd` parses with `arg` set to `value` (every other required argument given a
/// placeholder). Parsing reads no file, so `x` stands for any path or name.
fn accepts(cmd: &clap::Command, arg: &clap::Arg, value: &str) -> bool {
    let mut line = vec!["costbench".to_string(), cmd.get_name().to_string()];
    for other in cmd.get_arguments() {
        if other.get_id() == arg.get_id() || !other.is_required_set() {
            continue;
        }
        assert!(
            other.is_positional(),
            "{}: the required option {} needs a placeholder here",
            cmd.get_name(),
            other.get_id()
        );
        line.push("x".into());
    }
    match arg.get_long() {
        Some(long) => line.push(format!("--{long}={value}")),
        None => line.push(value.into()),
    }
    Cli::command().try_get_matches_from(&line).is_ok()
}

/// Every value name and alias of every enumerated argument of the command line, and a few words
/// a parser might accept unlisted: the candidates each parser is tried on.
fn candidates() -> BTreeSet<String> {
    let mut words: BTreeSet<String> = ["gab", "html", "csv", "yes", "no", "true", "false", "none"]
        .map(String::from)
        .into();
    for cmd in subcommands() {
        for arg in cmd.get_arguments() {
            for v in arg.get_possible_values() {
                words.extend(v.get_name_and_aliases().map(String::from));
            }
        }
    }
    words
}

#[test]
fn every_value_in_help_is_accepted_and_every_accepted_value_is_in_help() {
    let candidates = candidates();
    let mut problems = Vec::new();
    let mut checked = 0;
    for cmd in subcommands() {
        for arg in enumerated(&cmd) {
            let what = format!("{} --{}", cmd.get_name(), arg.get_id());
            let block = help_block(&cmd, arg);
            let mut listed = BTreeSet::new();
            for value in arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
            {
                for word in value.get_name_and_aliases() {
                    listed.insert(word.to_string());
                    if !accepts(&cmd, arg, word) {
                        problems.push(format!("{what}: '{word}' is listed but refused"));
                    }
                    if !mentions(&block, word) {
                        problems.push(format!(
                            "{what}: '{word}' is accepted but its help does not show it:\n{block}"
                        ));
                    }
                }
            }
            for word in &candidates {
                if !listed.contains(word) && accepts(&cmd, arg, word) {
                    problems.push(format!("{what}: '{word}' is accepted but not listed"));
                }
            }
            checked += 1;
        }
    }
    // The export formats, --color, the shells, --plan, --precision, … are all checked.
    assert!(checked >= 15, "only {checked} enumerated arguments found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_export_commands_description_names_exactly_the_formats_it_writes() {
    let formats = |cmd: &clap::Command| -> Option<BTreeSet<String>> {
        let arg = cmd.get_arguments().find(|a| a.get_id() == "format")?;
        Some(
            arg.get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect(),
        )
    };
    // The export commands: a --format beyond table and json.
    let exports: Vec<(clap::Command, BTreeSet<String>)> = subcommands()
        .into_iter()
        .filter_map(|c| formats(&c).map(|f| (c, f)))
        .filter(|(_, f)| f.len() > 2)
        .collect();
    let names: Vec<&str> = exports.iter().map(|(c, _)| c.get_name()).collect();
    assert_eq!(names, ["estimate", "compare", "report"]);
    let every: BTreeSet<&String> = exports.iter().flat_map(|(_, f)| f).collect();
    let mut problems = Vec::new();
    for (cmd, accepted) in &exports {
        let about = cmd
            .get_long_about()
            .or(cmd.get_about())
            .map(|s| s.to_string())
            .unwrap_or_default();
        for format in &every {
            match (accepted.contains(*format), mentions(&about, format)) {
                (true, false) => problems.push(format!(
                    "{}: writes {format} but its description does not say so: {about:?}",
                    cmd.get_name()
                )),
                (false, true) => problems.push(format!(
                    "{}: its description names {format}, which it refuses: {about:?}",
                    cmd.get_name()
                )),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each shared flag is on the commands it acts on and on no other; the top level shows none
/// (its hidden copies are the old position, `BeforeCommand`).
#[test]
fn shared_flags_sit_only_on_the_commands_they_act_on() {
    let takers = |id: &str| -> Vec<String> {
        subcommands()
            .iter()
            .filter(|c| c.get_arguments().any(|a| a.get_id() == id))
            .map(|c| c.get_name().to_string())
            .collect()
    };
    // The commands that build the thread pool (`dispatch` starts it for those that take it).
    assert_eq!(takers("threads"), ["run", "probe"]);
    // The commands that write progress, warnings or notes to stderr.
    assert_eq!(
        takers("quiet"),
        [
            "run", "catalog", "probe", "ab", "compare", "report", "history"
        ]
    );
    // The commands whose terminal table has colour (`output::colour`).
    assert_eq!(takers("color"), ["ab", "compare", "report"]);
    let mut top = Cli::command();
    top.build();
    let shown: Vec<&str> = top
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .map(|a| a.get_id().as_str())
        .collect();
    assert_eq!(shown, ["help", "version"], "{shown:?}");
}

#[test]
fn help_prints_every_exit_code() {
    let help = Cli::command().render_long_help().to_string();
    let section = help
        .split_once("Exit codes:\n")
        .map(|(_, s)| s)
        .expect("an exit-code section");
    for (code, meaning) in EXIT_CODES {
        assert!(
            section.contains(&format!("  {code:<5}{meaning}\n")),
            "{code} missing:\n{section}"
        );
    }
}

#[test]
fn the_word_matcher_matches_whole_words() {
    assert!(mentions("as HTML (a page)", "html"));
    assert!(mentions(
        "github-action-benchmark files",
        "github-action-benchmark"
    ));
    assert!(!mentions("xhtml", "html"));
    assert!(!mentions("json-lines", "json"));
    assert!(!mentions("a table-like", "table"));
}
