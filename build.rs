//! Records how this binary was built, for the machine context of every report
//! (`src/measure/machine.rs`): the compiler, the target triple, the profile and the target
//! features the code was compiled for.
//!
//! Nothing here depends on the state of the work tree (no git hash): the git commit is read at
//! run time, so this script runs again only when it changes itself.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");

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
