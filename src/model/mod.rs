//! The cost model: a training run's work (`profile`), whether it fits (`memory`), how long a
//! step takes (`time`), and what the run costs on each catalog option (here). Every formula and
//! default is in `docs/cost-model.md` with its source; this module knows nothing of files.

pub mod comm;
pub mod efficiency;
pub mod estimate;
pub mod layout;
pub mod memory;
pub mod pricing;
pub mod profile;
#[cfg(test)]
mod properties;
pub mod time;
pub mod uncertainty;
pub mod validation;
pub mod verdict;

pub use efficiency::Precision;
pub use layout::{Layout, Objective};
pub use profile::{Moe, Profile};

use crate::ops::OpClass;
use serde::Serialize;

/// A default of the model with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumed {
    pub value: f64,
    pub source: String,
    /// Given by the user on the command line (so it carries no published range).
    pub given: bool,
}

impl Assumed {
    fn published(value: f64, source: &str) -> Self {
        Assumed {
            value,
            source: source.to_string(),
            given: false,
        }
    }

    /// A value the user gave with `flag`.
    pub fn given(value: f64, flag: &str) -> Self {
        Assumed {
            value,
            source: format!("given on the command line ({flag})"),
            given: true,
        }
    }
}

/// The inputs of the model that are not in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumptions {
    /// Share of paid hours that advance training (failures, restarts, evaluation, stalls).
    pub goodput: Assumed,
    /// Power usage effectiveness of the data centre.
    pub pue: Assumed,
    /// Grid carbon intensity, kg CO₂ per kWh.
    pub grid_kg_co2_per_kwh: Assumed,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            goodput: Assumed::published(
                0.90,
                "Llama 3 405B pre-training: 'higher than 90% effective training time' over 54 days on 16,384 H100 (Llama Team, arXiv 2407.21783, §3.3.4)",
            ),
            pue: Assumed::published(
                1.14,
                "AWS global data-centre PUE 2025 (1.15 in 2023 and 2024), sustainability.aboutamazon.com; industry average 1.58 (Uptime Institute 2023)",
            ),
            grid_kg_co2_per_kwh: Assumed::published(
                0.367,
                "U.S. average 2023, 0.81 lb CO2/kWh (U.S. EIA FAQ 'How much carbon dioxide is produced per kilowatthour of U.S. electricity generation?')",
            ),
        }
    }
}

/// The Calculon A100 matrix-efficiency curve by product size (GFLOP per product → efficiency):
/// ≥ 128 → 0.95, 16 → 0.9, 1 → 0.6, 0.1 → 0.1, interpolated in log(size) (Isaev et al. 2023).
pub fn calculon_matrix_efficiency(gflop: f64) -> f64 {
    const POINTS: [(f64, f64); 4] = [(0.1, 0.1), (1.0, 0.6), (16.0, 0.9), (128.0, 0.95)];
    if gflop <= POINTS[0].0 {
        return POINTS[0].1;
    }
    for w in POINTS.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if gflop <= x1 {
            let t = (gflop.ln() - x0.ln()) / (x1.ln() - x0.ln());
            return y0 + t * (y1 - y0);
        }
    }
    POINTS[3].1
}

/// Size multiplier of product efficiency relative to large products (1 at ≥ 128 GFLOP): the
/// Calculon curve divided by its plateau.
pub fn size_multiplier(gflop: f64) -> f64 {
    calculon_matrix_efficiency(gflop) / 0.95
}

/// Is this class a product (compute-bound at its published efficiency)?
pub fn is_product(class: OpClass) -> bool {
    matches!(class, OpClass::Matmul | OpClass::Attention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calculon_curve_hits_its_points_and_is_monotone() {
        assert!((calculon_matrix_efficiency(128.0) - 0.95).abs() < 1e-12);
        assert!((calculon_matrix_efficiency(1000.0) - 0.95).abs() < 1e-12);
        assert!((calculon_matrix_efficiency(16.0) - 0.9).abs() < 1e-12);
        assert!((calculon_matrix_efficiency(1.0) - 0.6).abs() < 1e-12);
        assert!((calculon_matrix_efficiency(0.01) - 0.1).abs() < 1e-12);
        let mut last = 0.0;
        for i in 0..200 {
            let e = calculon_matrix_efficiency(10f64.powf(-2.0 + i as f64 * 0.03));
            assert!(e >= last);
            last = e;
        }
        assert!((size_multiplier(500.0) - 1.0).abs() < 1e-12);
    }
}
