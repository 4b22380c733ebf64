//! How fast each class of work runs on a chip: the efficiency of dense products (by their
//! per-chip size and precision), of FlashAttention, of the memory-bound classes, and where each
//! figure comes from.
//!
//! **Physics, not per-run factors.** In the `published` scenario a dense product of large size
//! runs at the chip's best large-GEMM efficiency (the MAMF table, `gemm_efficiency` in the
//! catalog) times one [`FRAMEWORK_GEMM_FACTOR`] shared by every chip (the gap between a
//! stand-alone `torch.matmul` and the same product inside a training step: launch gaps,
//! epilogues, non-ideal shapes). Smaller products are slower by the size curve
//! ([`super::size_multiplier`], Calculon's A100 curve). FlashAttention runs at
//! [`FLASH_ATTENTION_FACTOR`] of the product efficiency on the FLOPs it executes (half of the
//! counted s² products under a causal mask). Every other class is memory-bound at
//! [`super::time::HBM_EFFICIENCY`] of HBM bandwidth. Each constant is calibrated once against the
//! published runs of `docs/validation.md` and documented with that data in
//! `docs/cost-model.md`.
//!
//! **MFU and HFU are kept apart.** A published training efficiency is either model-FLOPs
//! utilisation (6N + 12·l·h·s per token) or hardware-FLOPs utilisation (counting recomputed
//! work): [`Convention`] says which, and [`published_mfu`] converts to MFU before anything is
//! compared with it. The catalog's A100 figure, 52%, is Megatron-LM's 163 TFLOP/s with full
//! recomputation (Narayanan et al. 2021, eq. 3 counts the recomputed forward: 8N instead of
//! 6N), so its MFU is 0.75 × 52% = 39%.

use super::memory::Recompute;
use super::size_multiplier;
use crate::catalog::{Accelerator, Catalog, EfficiencyKind};
use crate::ops::OpClass;
use serde::Serialize;
use std::collections::BTreeMap;

/// Fraction of a chip's best stand-alone large-GEMM rate (MAMF) that the products of a training
/// step reach (calibrated on the validation set: `docs/cost-model.md`).
pub const FRAMEWORK_GEMM_FACTOR: f64 = 0.84;
/// FlashAttention's efficiency relative to the chip's product efficiency, on the FLOPs it
/// executes (calibrated; FlashAttention-2 reaches 50-70% of A100 peak forward+backward with a
/// causal mask against 87% for the best GEMM, and a smaller share of H100's; Dao 2023, arXiv
/// 2307.08691, Fig. 6).
pub const FLASH_ATTENTION_FACTOR: f64 = 0.55;
/// Share of the counted attention products a causal FlashAttention kernel executes (the masked
/// upper triangle is skipped).
pub const CAUSAL_EXECUTED_SHARE: f64 = 0.5;
/// Large-GEMM efficiency of Trainium (Trn1) products, a stated proxy where MAMF has no entry:
/// calibrated on AWS's published Trn1 training benchmarks (GPT-3 23B, Llama-2 7B and 13B;
/// `docs/validation.md`) and applied to Trainium2 and Trainium3 (same Neuron software stack).
pub const TRAINIUM_GEMM_EFFICIENCY: f64 = 0.54;
/// FP8 large-GEMM efficiency as a fraction of FP8 peak, where the MAMF table gives it: H100
/// 71% ("FP8: 71%", the catalog's H100 note). Other chips with an FP8 peak take the same ratio
/// to their BF16 figure (0.71 / 0.80), a stated proxy.
pub const H100_FP8_GEMM_EFFICIENCY: f64 = 0.71;
/// The H100 BF16 large-GEMM efficiency the FP8 ratio is taken against.
pub const H100_BF16_GEMM_EFFICIENCY: f64 = 0.80;

/// The training precision of the products.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// BF16 products, FP32 master weights and optimizer (mixed precision).
    #[default]
    Bf16,
    /// FP8 products of the dense layers (Transformer Engine's recipe): attention, the
    /// memory-bound classes and the optimizer stay BF16/FP32.
    Fp8,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
        }
    }
}

/// What a published training-efficiency figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// Model FLOPs (6N + 12·l·h·s per token) over peak.
    Mfu,
    /// Hardware FLOPs, counting the recomputed forward of `recompute`.
    Hfu(Recompute),
}

impl Convention {
    /// The MFU a figure of this convention stands for: full recomputation executes 8N for 6N
    /// model FLOPs (× 0.75); selective recomputation re-runs only the attention core (HFU/MFU ≈
    /// 1 + s/6h, Korthikanti et al. 2022, Table 5; ≈ 1.03 at s = 2048, h = 12288).
    pub fn to_mfu(self, value: f64) -> f64 {
        match self {
            Convention::Mfu | Convention::Hfu(Recompute::None) => value,
            Convention::Hfu(Recompute::Full) => value * 0.75,
            Convention::Hfu(Recompute::Selective) => value / 1.03,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Convention::Mfu => "MFU",
            Convention::Hfu(Recompute::Full) => "HFU with full recomputation",
            Convention::Hfu(Recompute::Selective) => "HFU with selective recomputation",
            Convention::Hfu(Recompute::None) => "HFU without recomputation",
        }
    }
}

/// The convention of the catalog's `training_mfu` figure of a chip (its `training_mfu_kind`).
/// The bundled A100 figures are Megatron-LM's 163 TFLOP/s (hardware FLOPs with full
/// recomputation); every other bundled figure is model FLOPs (Llama 3 405B's MFU, AWS Neuron's
/// MFU column).
pub fn catalog_convention(a: &Accelerator) -> Convention {
    match a.training_mfu_kind {
        EfficiencyKind::Mfu => Convention::Mfu,
        EfficiencyKind::HfuFullRecompute => Convention::Hfu(Recompute::Full),
        EfficiencyKind::HfuSelectiveRecompute => Convention::Hfu(Recompute::Selective),
    }
}

/// The catalog's published training efficiency of `a` as MFU, with a note of what was
/// published; None when nothing is published.
pub fn published_mfu(a: &Accelerator) -> Option<(f64, String)> {
    let v = a.training_mfu.value?;
    let c = catalog_convention(a);
    let mfu = c.to_mfu(v);
    let note = if c == Convention::Mfu {
        format!(
            "published MFU {:.0}% ({})",
            v * 100.0,
            a.training_mfu.source
        )
    } else {
        format!(
            "published {} {:.0}% = MFU {:.0}% ({})",
            c.describe(),
            v * 100.0,
            mfu * 100.0,
            a.training_mfu.source
        )
    };
    Some((mfu, note))
}

/// Where the compute efficiency of each op class comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// The chip's large-GEMM efficiency (catalog, MAMF) × the framework factor, slowed for small
    /// products by the size curve; a chip without one uses a stated proxy.
    Published,
    /// This CPU's achieved fraction of its own roofline per op class (from a report), applied to
    /// the accelerator's roofline.
    Measured(BTreeMap<OpClass, f64>),
    /// One efficiency for every product (`--mfu`), slowed for small products by the size curve.
    Custom { mfu: f64 },
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Published => "published",
            Scenario::Measured(_) => "measured",
            Scenario::Custom { .. } => "custom",
        }
    }
}

/// The efficiency of each class on one chip under a scenario, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Efficiency {
    /// Large-product efficiency at BF16, fraction of the BF16 peak.
    pub product: f64,
    /// Large-product efficiency at FP8, fraction of the FP8 peak; None where the chip has no
    /// FP8 figure.
    pub product_fp8: Option<f64>,
    /// Whether small products are slowed by the size curve (not for measured fractions, which
    /// already are what this code reached).
    pub size_curve: bool,
    /// Per-class fractions (measured scenario).
    pub measured: Option<BTreeMap<OpClass, f64>>,
    /// Where `product` came from.
    pub note: String,
    /// Multiplier of the HBM efficiency (sensitivity analyses; 1 otherwise).
    pub memory_scale: f64,
}

impl Efficiency {
    /// Every efficiency × `k`, none above 1.
    pub fn scaled(mut self, k: f64) -> Self {
        self.product = (self.product * k).min(1.0);
        self.product_fp8 = self.product_fp8.map(|v| (v * k).min(1.0));
        if let Some(m) = &mut self.measured {
            m.values_mut().for_each(|v| *v = (*v * k).min(1.0));
        }
        self.memory_scale = k;
        self
    }

    /// Efficiency of a dense product of `gflop` GFLOP on one chip at `precision` (fraction of
    /// that precision's peak); None when the chip has no such precision.
    pub fn product_at(&self, gflop: f64, precision: Precision) -> Option<f64> {
        let base = match (precision, &self.measured) {
            (_, Some(m)) => return Some(m.get(&OpClass::Matmul).copied()?.max(1e-6)),
            (Precision::Bf16, None) => self.product,
            (Precision::Fp8, None) => self.product_fp8?,
        };
        let size = if self.size_curve {
            size_multiplier(gflop)
        } else {
            1.0
        };
        Some((base * size).max(1e-6))
    }

    /// Efficiency of unfused attention products (batched per head) of `gflop` GFLOP each.
    pub fn attention_products(&self, gflop: f64) -> f64 {
        if let Some(m) = &self.measured {
            return m
                .get(&OpClass::Attention)
                .copied()
                .unwrap_or(self.product)
                .max(1e-6);
        }
        let size = if self.size_curve {
            size_multiplier(gflop)
        } else {
            1.0
        };
        (self.product * size).max(1e-6)
    }

    /// FlashAttention's efficiency on the FLOPs it executes.
    pub fn flash_attention(&self) -> f64 {
        match &self.measured {
            Some(m) => m
                .get(&OpClass::Attention)
                .copied()
                .unwrap_or(self.product)
                .max(1e-6),
            None => (self.product * FLASH_ATTENTION_FACTOR).max(1e-6),
        }
    }

    /// Compute efficiency of a non-product class (these are memory-bound in practice).
    pub fn eta(&self, class: OpClass) -> f64 {
        match &self.measured {
            Some(m) => m.get(&class).copied().unwrap_or(self.product).max(1e-6),
            None => self.product.max(1e-6),
        }
    }

    /// Fraction of HBM bandwidth the class's memory traffic reaches.
    pub fn mu(&self, class: OpClass) -> f64 {
        match &self.measured {
            Some(m) => m
                .get(&class)
                .copied()
                .unwrap_or(super::time::HBM_EFFICIENCY)
                .max(1e-6),
            None => (super::time::HBM_EFFICIENCY * self.memory_scale).min(1.0),
        }
    }
}

/// The best large-GEMM BF16 efficiency of `a`: the catalog's MAMF figure, or a stated proxy.
fn gemm_efficiency(a: &Accelerator, catalog: &Catalog) -> (f64, String) {
    if let Some(v) = a.gemm_efficiency.value {
        return (v, format!("large-GEMM {:.0}% (MAMF)", v * 100.0));
    }
    if a.vendor.eq_ignore_ascii_case("AWS") {
        return (
            TRAINIUM_GEMM_EFFICIENCY,
            format!(
                "large-GEMM {:.0}% (no MAMF figure: calibrated on AWS's published Trn1 benchmarks)",
                TRAINIUM_GEMM_EFFICIENCY * 100.0
            ),
        );
    }
    // The same vendor's chip with the nearest BF16 peak that has a figure.
    let peak = a.tflops_bf16.value.unwrap_or(0.0);
    let nearest = catalog
        .accelerators
        .iter()
        .filter(|o| o.vendor == a.vendor && o.id != a.id)
        .filter_map(|o| Some((o, o.gemm_efficiency.value?, o.tflops_bf16.value?)))
        .min_by(|x, y| (x.2 - peak).abs().total_cmp(&(y.2 - peak).abs()));
    match nearest {
        Some((o, v, _)) => (
            v,
            format!(
                "large-GEMM {:.0}% (no MAMF figure: proxy = {}'s)",
                v * 100.0,
                o.name
            ),
        ),
        None => (
            H100_BF16_GEMM_EFFICIENCY,
            format!(
                "large-GEMM {:.0}% (no MAMF figure: proxy = H100's)",
                H100_BF16_GEMM_EFFICIENCY * 100.0
            ),
        ),
    }
}

/// The efficiency of `a` under `scenario`; None when the scenario has nothing for this chip.
pub fn efficiency(a: &Accelerator, catalog: &Catalog, scenario: &Scenario) -> Option<Efficiency> {
    let fp8_ratio = H100_FP8_GEMM_EFFICIENCY / H100_BF16_GEMM_EFFICIENCY;
    let has_fp8 = a.tflops_fp8.value.is_some();
    match scenario {
        Scenario::Published => {
            let (gemm, gemm_note) = gemm_efficiency(a, catalog);
            let product = gemm * FRAMEWORK_GEMM_FACTOR;
            let published = published_mfu(a)
                .map(|(_, n)| format!("; {n}"))
                .unwrap_or_default();
            Some(Efficiency {
                product,
                product_fp8: has_fp8.then_some(product * fp8_ratio),
                size_curve: true,
                measured: None,
                note: format!(
                    "products {:.0}% of peak = {gemm_note} × framework {:.2}, smaller products slower{published}",
                    product * 100.0,
                    FRAMEWORK_GEMM_FACTOR
                ),
                memory_scale: 1.0,
            })
        }
        Scenario::Custom { mfu } => Some(Efficiency {
            product: *mfu,
            product_fp8: has_fp8.then_some(*mfu),
            size_curve: true,
            measured: None,
            note: format!("custom MFU {:.0}% (--mfu)", mfu * 100.0),
            memory_scale: 1.0,
        }),
        // Without a measured product fraction there is nothing to transfer.
        Scenario::Measured(m) => Some(Efficiency {
            product: *m.get(&OpClass::Matmul)?,
            product_fp8: None,
            size_curve: false,
            measured: Some(m.clone()),
            note: "this CPU's measured fraction of its roofline per op class".to_string(),
            memory_scale: 1.0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_a100_figure_is_hfu_and_converts_to_mfu() {
        let c = Catalog::bundled();
        let a = c.accelerator("a100-80gb").unwrap();
        let (mfu, note) = published_mfu(a).unwrap();
        assert!((mfu - 0.39).abs() < 1e-9, "{mfu}");
        assert!(note.contains("HFU") && note.contains("MFU 39%"), "{note}");
        let h = c.accelerator("h100-sxm").unwrap();
        assert_eq!(published_mfu(h).unwrap().0, 0.40);
    }

    #[test]
    fn every_bundled_chip_has_a_published_efficiency_or_a_stated_proxy() {
        let c = Catalog::bundled();
        for a in &c.accelerators {
            let e = efficiency(a, &c, &Scenario::Published).unwrap();
            assert!(
                e.product > 0.3 && e.product < 0.9,
                "{}: {}",
                a.id,
                e.product
            );
            assert!(!e.note.is_empty());
        }
        let a100 = c.accelerator("a100-80gb").unwrap();
        assert!(
            efficiency(a100, &c, &Scenario::Published)
                .unwrap()
                .product_fp8
                .is_none()
        );
    }
}
