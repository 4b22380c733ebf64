//! costbench measures real training-step workloads (matrix products, attention, the backward
//! pass, the optimizer update) on this CPU with benchmark-grade statistics, and turns them into
//! sourced cost comparisons between accelerators (AWS Trainium, NVIDIA GPUs and others).
//!
//! Most users run the `costbench` command (see the README). This library exposes the same work
//! to Rust code through a small API:
//!
//! - [`Workload`]: load a bundled workload or a workload file;
//! - [`estimate`]: price training a workload's target on every [`Catalog`] option, without
//!   measuring;
//! - [`measure`]: measure a workload's slice on this CPU into a [`Report`];
//! - [`Report`]: load, inspect and save reports.
//!
//! ```
//! use costbench::{Catalog, EstimateOptions, Workload};
//!
//! let model = Workload::bundled("llama2-7b")?;
//! let priced = costbench::estimate(&model, &Catalog::bundled(), &EstimateOptions::default())?;
//! for option in priced.options().iter().take(3) {
//!     println!("{} ({}): ${:.0}", option.instance, option.plan, option.usd);
//! }
//! # Ok::<(), costbench::Error>(())
//! ```
//!
//! `examples/price_a_model.rs` is a complete program. Everything not re-exported here is
//! private; the `internals` feature makes the internal modules reachable for costbench's own
//! tests, benches and fuzzers, with no stability promise. The architecture is in
//! `docs/design.md`.

mod api;
mod cli;

pub use api::{
    Catalog, Error, Estimate, EstimateOptions, Interval, MeasureOptions, Metric, PricedOption,
    Report, Result, Verdict, Workload, estimate, measure,
};

/// Declares the internal modules: private, or public (and hidden from the docs) with the
/// `internals` feature. Private, some of their items (and re-exports) serve only the tests and
/// benches, which see them through the feature: those are not dead, so the lints stay quiet.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "internals")]
            #[doc(hidden)]
            pub mod $name;
            #[cfg(not(feature = "internals"))]
            #[allow(dead_code, unused_imports)]
            mod $name;
        )*
    };
}

internal_modules!(
    catalog, compare, diag, kernels, measure, model, ops, render, report, stats, train, units,
    workload,
);

/// The `costbench` binary's entry point: parses the command line, runs the command and maps
/// its outcome to an exit code. Not part of the library API.
#[doc(hidden)]
pub fn run_command_line() -> std::process::ExitCode {
    cli::main()
}
