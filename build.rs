//! Records how this binary was built, for the machine context of every report
//! (`src/measure/machine.rs`): the compiler, the target triple, the profile, the target
//! features the code was compiled for, and costbench's own source commit.
//!
//! The commit is that of the repository this crate is built from (only when the crate is the
//! top of that repository — a copy vendored inside another project's tree records no commit),
//! else the `git.sha1` cargo writes into a published package (`.cargo_vcs_info.json`). "Dirty"
//! means the files that make the binary (`src/`, `build.rs`, the manifest and lock file, the
//! bundled workloads and catalog) differ from that commit; edits to tests or docs do not make a
//! build dirty. The script reruns when one of those files changes or the checked-out commit
//! moves, so the recorded state is that of the build, not of the day the script first ran.

use std::env;
use std::process::Command;

/// The files and directories whose content makes the binary (and decides "dirty").
const SOURCES: &[&str] = &[
    "src",
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    "workloads",
    "catalog",
];

fn main() {
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    let (commit, dirty) = source_commit();
    set("COSTBENCH_BUILD_COMMIT", commit.as_deref().unwrap_or(""));
    set(
        "COSTBENCH_BUILD_DIRTY",
        match dirty {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        },
    );

    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = rustc_version(&rustc).unwrap_or_else(|| "unknown".to_owned());
    set("COSTBENCH_RUSTC", &rustc_version);
    set("COSTBENCH_TARGET", &env_or_unknown("TARGET"));
    set("COSTBENCH_PROFILE", &env_or_unknown("PROFILE"));
    // Comma-separated, e.g. "avx,avx2,fma,...": what the compiler may assume everywhere (the
    // release build targets x86-64-v3); AVX-512 code paths are chosen at run time on top of it.
    set(
        "COSTBENCH_TARGET_FEATURES",
        &env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default(),
    );
}

/// `git` in the manifest's directory; `None` on any failure.
fn git(args: &[&str]) -> Option<String> {
    let dir = env::var("CARGO_MANIFEST_DIR").ok()?;
    let output = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// This crate's source commit and whether its sources differ from it.
fn source_commit() -> (Option<String>, Option<bool>) {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let top = git(&["rev-parse", "--show-toplevel"]);
    let ours = top.as_deref().is_some_and(|top| {
        std::fs::canonicalize(top).ok() == std::fs::canonicalize(&manifest_dir).ok()
    });
    if ours && let Some(commit) = git(&["rev-parse", "HEAD"]) {
        // Rerun when the commit moves: HEAD, the branch it names, packed refs (in a worktree
        // the refs live in the common directory).
        for (flag, name) in [("--git-dir", "HEAD"), ("--git-common-dir", "packed-refs")] {
            if let Some(dir) = git(&["rev-parse", flag]) {
                println!("cargo:rerun-if-changed={}", abs(&manifest_dir, &dir, name));
            }
        }
        if let (Some(branch), Some(common)) = (
            git(&["symbolic-ref", "-q", "HEAD"]),
            git(&["rev-parse", "--git-common-dir"]),
        ) {
            println!(
                "cargo:rerun-if-changed={}",
                abs(&manifest_dir, &common, &branch)
            );
        }
        let mut args = vec!["status", "--porcelain", "--untracked-files=no", "--"];
        args.extend(SOURCES);
        let dirty = git(&args).map(|status| !status.is_empty());
        return (Some(commit), dirty);
    }
    // A published package: cargo records the commit it was packaged from.
    let vcs = std::path::Path::new(&manifest_dir).join(".cargo_vcs_info.json");
    let sha = std::fs::read_to_string(vcs).ok().and_then(|text| {
        let at = text.find("\"sha1\"")?;
        let rest = &text[at + 6..];
        let start = rest.find('"')? + 1;
        let end = start + rest[start..].find('"')?;
        let sha = &rest[start..end];
        sha.chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| sha.to_owned())
    });
    let dirty = sha.as_ref().map(|_| {
        std::fs::read_to_string(std::path::Path::new(&manifest_dir).join(".cargo_vcs_info.json"))
            .is_ok_and(|text| text.contains("\"dirty\": true"))
    });
    (sha, dirty)
}

/// `dir/name` made absolute against the manifest's directory (git prints relative paths).
fn abs(manifest_dir: &str, dir: &str, name: &str) -> String {
    let dir = std::path::Path::new(dir);
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::path::Path::new(manifest_dir).join(dir)
    };
    dir.join(name).display().to_string()
}

/// "rustc 1.95.0 (…) host: x86_64-unknown-linux-gnu" from `rustc -vV`.
fn rustc_version(rustc: &str) -> Option<String> {
    let output = Command::new(rustc).arg("-vV").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next()?.trim().to_owned();
    let host = text
        .lines()
        .find_map(|line| line.strip_prefix("host:"))
        .map(str::trim);
    Some(match host {
        Some(host) => format!("{first} host: {host}"),
        None => first,
    })
}

fn env_or_unknown(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| "unknown".to_owned())
}

fn set(name: &str, value: &str) {
    // A newline would end the cargo directive early.
    let value = value.replace(['\n', '\r'], " ");
    println!("cargo:rustc-env={name}={value}");
}
