//! Argument types and value parsers shared by several commands.

use crate::catalog::Catalog;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// `--threads`, on the commands that start the kernels' thread pool (`run`, `probe`): the others
/// never start threads, so they do not take it.
#[derive(Args, Debug, Default, Clone, Copy)]
pub struct ThreadsArg {
    /// Worker threads for the kernels (default: RAYON_NUM_THREADS if set, else one per logical
    /// core; more than the cores is allowed, with a warning).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=super::MAX_THREADS))]
    pub threads: Option<u32>,
}

/// `--quiet`, on the commands that write progress bars, warnings or notes to standard error
/// (`run`, `probe`, `catalog`, `compare`, `report`, `history`); the others write nothing there
/// but errors.
#[derive(Args, Debug, Default, Clone, Copy)]
pub struct QuietArg {
    /// No progress bars, warnings or notes on stderr (errors are still shown).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--color`, on the commands whose terminal table has colour (`compare`, `report`).
#[derive(Args, Debug, Default, Clone, Copy)]
pub struct ColorArg {
    /// Colour in the terminal table (default: auto).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<super::color::ColorWhen>,
}

/// Where an export goes (each command has its own `--format` enum).
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Write the output to FILE (for github-action-benchmark: a directory for its two files);
    /// the terminal table is still printed.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CatalogArgs {
    /// A catalog file overlaid on the bundled one (negotiated prices, a new chip or instance).
    #[arg(long, value_name = "FILE")]
    pub catalog: Vec<PathBuf>,
    /// A quick what-if price, INSTANCE:PLAN=USD per instance-hour (e.g. p5.48xlarge:on_demand=40).
    #[arg(long, value_name = "INSTANCE:PLAN=USD")]
    pub price: Vec<String>,
}

impl CatalogArgs {
    pub fn load(&self) -> Result<Catalog> {
        let mut c = Catalog::bundled();
        for path in &self.catalog {
            let overlay = Catalog::load_overlay(path)?;
            c.overlay(overlay)?;
        }
        // A --price that cannot apply is a usage error (a value of the command line); an
        // overlay file that cannot be read or holds invalid figures, a runtime error.
        for spec in &self.price {
            c.set_price(spec)
                .map_err(|e| super::usage::usage(e.to_string()))?;
        }
        Ok(c)
    }
}

pub fn positive_count(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (1.0..=1e18).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a positive number up to 1e18 such as 2e12, found '{s}'"
        )),
    }
}

pub fn unit_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "expected a fraction in (0, 1], e.g. 0.4, found '{s}'"
        )),
    }
}

pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, found '{s}'"
        )),
    }
}

pub fn positive_days(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 36_500.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of days up to 36500, found '{s}'"
        )),
    }
}

pub fn non_negative_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number of seconds ≥ 0, found '{s}'")),
    }
}

pub fn non_negative_percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a percentage from 0 to 100, e.g. 5, found '{s}'"
        )),
    }
}

pub fn positive_percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 100.0 => Ok(v),
        _ => Err(format!(
            "expected a percentage between 0 and 100, found '{s}'"
        )),
    }
}

/// A number of days from 0 to 36500 (`--spot-max-days`).
pub fn non_negative_days(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=36_500.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of days from 0 to 36500, found '{s}'"
        )),
    }
}
