//! The model against published training runs: Llama 2's GPU-hours on A100 80GB (Touvron et al.
//! 2023, Table 2), predicted with the default `published` scenario and default goodput. The
//! table in `docs/cost-model.md` is printed by `costbench estimate --validate`, and the test
//! below requires every row within ±25%.

use super::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, Scenario, estimate_all};
use super::{Assumptions, Profile};
use crate::catalog::Catalog;
use crate::workload::{Activation, Norm, Positions, TransformerShape, TransformerWorkload};
use serde::Serialize;

/// One published run, predicted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationRow {
    pub run: &'static str,
    pub published_gpu_hours: f64,
    pub predicted_gpu_hours: f64,
    /// (predicted − published) / published.
    pub error: f64,
    pub chips: u32,
    pub implied_mfu: f64,
}

fn llama2(
    layers: usize,
    d_model: usize,
    heads: usize,
    kv_heads: usize,
    d_ff: usize,
) -> TransformerWorkload {
    let shape = TransformerShape {
        layers,
        d_model,
        heads,
        kv_heads,
        d_ff,
        vocab: 32000,
        seq_len: 4096,
        norm: Norm::Rmsnorm,
        activation: Activation::Swiglu,
        positions: Positions::None,
        tied_embeddings: false,
    };
    TransformerWorkload {
        target: shape.clone(),
        target_tokens: 2_000_000_000_000,
        // 4M-token global batch (Touvron et al. 2023, §2.2).
        target_batch: 1024,
        slice: shape,
        slice_batch: 1,
        target_moe: None,
    }
}

/// Llama 2 7B, 13B and 70B (architectures from Touvron et al. 2023, arXiv 2307.09288, Table 1 and
/// Meta's released configs; 34B's layer count and widths were never published and the model
/// was never released, so it is left out).
pub fn llama2_runs() -> Vec<(&'static str, TransformerWorkload, f64)> {
    vec![
        ("Llama 2 7B", llama2(32, 4096, 32, 32, 11008), 184_320.0),
        ("Llama 2 13B", llama2(40, 5120, 40, 40, 13824), 368_640.0),
        ("Llama 2 70B", llama2(80, 8192, 64, 8, 28672), 1_720_320.0),
    ]
}

/// The id of the validation cluster added to the catalog.
pub const LLAMA2_CLUSTER: &str = "llama2-a100-cluster";

/// The catalog's p4de.24xlarge (8 × A100 80GB) with the network Llama 2 was trained on: "Both
/// of these solutions interconnect 200 Gbps end-points" (Meta's RSC InfiniBand and production
/// RoCE clusters; Touvron et al. 2023, §2.2.1), i.e. 1.6 Tbps per 8-GPU server instead of
/// p4de's 400 Gbps EFA. Validating on the hardware that ran the job keeps the network of a
/// different cloud from being mistaken for a model error.
pub fn with_llama2_cluster(catalog: &Catalog) -> Option<Catalog> {
    let mut c = catalog.clone();
    let mut inst = c.instance("p4de.24xlarge")?.clone();
    inst.id = LLAMA2_CLUSTER.to_string();
    inst.network_bits_per_s.value = Some(8.0 * 200e9);
    inst.network_bits_per_s.source =
        "Touvron et al. 2023 (Llama 2), §2.2.1: 200 Gbps end-points".to_string();
    c.instances.push(inst);
    Some(c)
}

/// Predicts each Llama 2 run on A100 80GB servers with Llama 2's network.
pub fn llama2_validation(catalog: &Catalog) -> Vec<ValidationRow> {
    let assumptions = Assumptions::default();
    let Some(catalog) = with_llama2_cluster(catalog) else {
        return Vec::new();
    };
    let catalog = &catalog;
    llama2_runs()
        .into_iter()
        .filter_map(|(run, w, published)| {
            let p = Profile::from_transformer(&w);
            let (options, _) = estimate_all(
                &p,
                catalog,
                &Scenario::Published,
                ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
                &assumptions,
            );
            let o = options.iter().find(|o| o.instance == LLAMA2_CLUSTER)?;
            Some(ValidationRow {
                run,
                published_gpu_hours: published,
                predicted_gpu_hours: o.chip_hours,
                error: (o.chip_hours - published) / published,
                chips: o.chips,
                implied_mfu: o.implied_mfu,
            })
        })
        .collect()
}

/// The validation table as Markdown.
pub fn markdown(rows: &[ValidationRow]) -> String {
    let mut s = String::from(
        "| run | published GPU-hours | predicted | error | chips | implied MFU |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:+.1}% | {} | {:.1}% |\n",
            r.run,
            r.published_gpu_hours,
            r.predicted_gpu_hours,
            r.error * 100.0,
            r.chips,
            r.implied_mfu * 100.0
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama2_gpu_hours_within_25_percent_of_published() {
        let rows = llama2_validation(&Catalog::bundled());
        assert_eq!(rows.len(), 3, "every run priced on the A100 cluster");
        for r in &rows {
            assert!(r.error.abs() <= 0.25, "{}", markdown(&rows));
        }
    }

    /// The table in docs/cost-model.md is this command's output, kept current by this test
    /// (`COSTBENCH_UPDATE_DOCS=1 cargo test --release validation_table` rewrites it).
    #[test]
    fn the_validation_table_in_the_docs_is_current() {
        let table = markdown(&llama2_validation(&Catalog::bundled()));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cost-model.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let start = doc
            .find("| run | published GPU-hours")
            .expect("the table is in the doc");
        let end = doc[start..]
            .find("\n\n")
            .map_or(doc.len(), |e| start + e + 1);
        if std::env::var_os("COSTBENCH_UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{}{}{}", &doc[..start], table, &doc[end..])).unwrap();
            return;
        }
        assert!(
            doc[start..end] == table,
            "docs/cost-model.md's validation table is out of date: run `COSTBENCH_UPDATE_DOCS=1 cargo test --release validation_table`"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The calibration set: published training runs and benchmarks at their published layouts.

use super::efficiency::{Precision, Scenario as EffScenario, efficiency as chip_efficiency};
use super::layout::{self, Layout, Target};
use super::memory::Recompute;
use super::time::Chip;

/// What a source published about a run's speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Seconds per optimizer step.
    StepSeconds(f64),
    /// Tokens per second per chip.
    TokensPerChipSecond(f64),
    /// Sequences per second for the whole cluster.
    SequencesPerSecond(f64),
    /// Megatron-LM's "achieved teraFLOP/s per GPU": 96·B·s·l·h²·(1 + s/6h + V/16lh) FLOPs per
    /// step (Narayanan et al. 2021, eq. 3, counting the recomputed forward).
    MegatronTflops(f64),
}

/// The cluster a run used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cluster {
    /// Catalog id of the chip.
    pub accelerator: &'static str,
    pub chips_per_instance: u32,
    /// Network bandwidth per instance (node), bits/s.
    pub network_bits_per_s: f64,
}

/// One published run with its given layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedRun {
    /// Row id of `docs/validation.md`, e.g. `A-14`.
    pub id: &'static str,
    pub name: &'static str,
    /// Short citation; the full one is in `docs/validation.md`.
    pub source: &'static str,
    pub shape: TransformerShape,
    pub global_batch: usize,
    pub cluster: Cluster,
    pub layout: Layout,
    pub precision: Precision,
    pub outcome: Outcome,
}

impl PublishedRun {
    /// The published seconds per step.
    pub fn published_step_s(&self) -> f64 {
        let chips = self.layout.chips() as f64;
        let tokens = self.global_batch as f64 * self.shape.seq_len as f64;
        match self.outcome {
            Outcome::StepSeconds(s) => s,
            Outcome::TokensPerChipSecond(r) => tokens / (chips * r),
            Outcome::SequencesPerSecond(r) => self.global_batch as f64 / r,
            Outcome::MegatronTflops(tf) => {
                let (b, s) = (self.global_batch as f64, self.shape.seq_len as f64);
                let (l, h) = (self.shape.layers as f64, self.shape.d_model as f64);
                let v = self.shape.vocab as f64;
                let flops = 96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
                flops / (chips * tf * 1e12)
            }
        }
    }
}

/// One row of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationRow {
    pub id: &'static str,
    pub name: &'static str,
    pub source: &'static str,
    pub chips: u32,
    pub accelerator: &'static str,
    pub layout: String,
    pub published_step_s: f64,
    pub predicted_step_s: f64,
    /// (predicted − published) / published.
    pub error: f64,
    /// The model's MFU at the predicted step time (6N + 12·l·h·s per token).
    pub predicted_mfu: f64,
    /// The planner's own best layout on the same chips, and its step time over the published
    /// layout's predicted step time.
    pub planner_layout: String,
    pub planner_ratio: f64,
}

#[allow(clippy::too_many_arguments)]
fn shape(
    layers: usize,
    d_model: usize,
    heads: usize,
    kv_heads: usize,
    d_ff: usize,
    vocab: usize,
    seq_len: usize,
    llama: bool,
    tied: bool,
) -> TransformerShape {
    TransformerShape {
        layers,
        d_model,
        heads,
        kv_heads,
        d_ff,
        vocab,
        seq_len,
        norm: if llama {
            Norm::Rmsnorm
        } else {
            Norm::Layernorm
        },
        activation: if llama {
            Activation::Swiglu
        } else {
            Activation::Gelu
        },
        positions: Positions::None,
        tied_embeddings: tied,
    }
}

/// GPT-3-style (GELU, LayerNorm, 4h FFN, multi-head).
fn gpt(layers: usize, d: usize, heads: usize, vocab: usize, seq: usize) -> TransformerShape {
    shape(layers, d, heads, heads, 4 * d, vocab, seq, false, false)
}

#[allow(clippy::too_many_arguments)]
fn lay(
    t: u32,
    p: u32,
    v: u32,
    d: u32,
    b: u32,
    global_batch: usize,
    zero: u8,
    recompute: Recompute,
    fa: bool,
) -> Layout {
    Layout {
        tensor_parallel: t,
        pipeline_parallel: p,
        virtual_stages: v,
        data_parallel: d,
        expert_parallel: 1,
        micro_batch: b,
        micro_batches: (global_batch as f64 / (d * b) as f64).ceil() as u32,
        zero,
        sequence_parallel: t > 1,
        recompute,
        flash_attention: fa,
    }
}

/// Selene (Narayanan et al. 2021; Korthikanti et al. 2022): DGX A100 80GB, 8 × 200 Gb/s HDR
/// InfiniBand per node.
const SELENE: Cluster = Cluster {
    accelerator: "a100-80gb",
    chips_per_instance: 8,
    network_bits_per_s: 1600e9,
};
/// DGX H100 (Nemotron-4, NeMo): 8 × 400 Gb/s per node.
const DGX_H100: Cluster = Cluster {
    accelerator: "h100-sxm",
    chips_per_instance: 8,
    network_bits_per_s: 3200e9,
};
/// MosaicML's A100 80GB and H100 clusters (llm-foundry benchmarks): 8 GPUs per node,
/// 8 × 200 Gb/s (A100) and 8 × 400 Gb/s (H100) InfiniBand (stated assumption: the benchmark
/// README does not give the fabric).
const MOSAIC_A100_80: Cluster = Cluster {
    accelerator: "a100-80gb",
    chips_per_instance: 8,
    network_bits_per_s: 1600e9,
};
const MOSAIC_A100_40: Cluster = Cluster {
    accelerator: "a100-40gb",
    chips_per_instance: 8,
    network_bits_per_s: 1600e9,
};
/// IBM's FSDP clusters: 400 Gb/s per A100 node and 800 Gb/s per H100 node (as the blog gives).
const IBM_A100: Cluster = Cluster {
    accelerator: "a100-80gb",
    chips_per_instance: 8,
    network_bits_per_s: 400e9,
};
const IBM_H100: Cluster = Cluster {
    accelerator: "h100-sxm",
    chips_per_instance: 8,
    network_bits_per_s: 800e9,
};
/// trn1.32xlarge: 16 Trainium chips, 800 Gb/s EFA.
const TRN1: Cluster = Cluster {
    accelerator: "trainium",
    chips_per_instance: 16,
    network_bits_per_s: 800e9,
};

/// The calibration set (docs/validation.md gives each row's source and what was assumed).
pub fn calibration_runs() -> Vec<PublishedRun> {
    use Outcome::*;
    use Recompute::{Full, None as NoRc, Selective};
    let bf16 = Precision::Bf16;
    let fp8 = Precision::Fp8;
    let nar = "Narayanan et al. 2021, Table 1";
    let kor = "Korthikanti et al. 2022, Table 5";
    let ibm = "PyTorch/IBM FSDP blog, Table 1";
    let foundry = "llm-foundry benchmarks README";
    let nemo = "NeMo 24.07 performance summary";
    let neuron = "AWS Neuron Trn1 benchmarks";
    let gpt2_vocab = 51200;
    let mpt = |layers, d, heads| shape(layers, d, heads, heads, 4 * d, 50368, 2048, false, true);
    let llama7 = shape(32, 4096, 32, 32, 11008, 32000, 4096, true, false);
    let llama13 = shape(40, 5120, 40, 40, 13824, 32000, 4096, true, false);
    let llama70 = shape(80, 8192, 64, 8, 28672, 32000, 4096, true, false);
    let run =
        |id, name, source, shape: TransformerShape, gbs, cluster, layout, precision, outcome| {
            PublishedRun {
                id,
                name,
                source,
                shape,
                global_batch: gbs,
                cluster,
                layout,
                precision,
                outcome,
            }
        };
    vec![
        run(
            "A-01",
            "GPT 1.7B",
            nar,
            gpt(24, 2304, 24, gpt2_vocab, 2048),
            512,
            SELENE,
            lay(1, 1, 1, 32, 4, 512, 0, Full, false),
            bf16,
            MegatronTflops(137.0),
        ),
        run(
            "A-03",
            "GPT 7.5B",
            nar,
            gpt(36, 4096, 32, gpt2_vocab, 2048),
            512,
            SELENE,
            lay(4, 1, 1, 32, 4, 512, 0, Full, false),
            bf16,
            MegatronTflops(142.0),
        ),
        run(
            "A-05",
            "GPT 39.1B",
            nar,
            gpt(48, 8192, 64, gpt2_vocab, 2048),
            1536,
            SELENE,
            lay(8, 2, 2, 32, 1, 1536, 0, Full, false),
            bf16,
            MegatronTflops(138.0),
        ),
        run(
            "A-07",
            "GPT 145.6B",
            nar,
            gpt(80, 12288, 96, gpt2_vocab, 2048),
            2304,
            SELENE,
            lay(8, 8, 2, 24, 1, 2304, 0, Full, false),
            bf16,
            MegatronTflops(148.0),
        ),
        run(
            "A-09",
            "GPT 529.6B",
            nar,
            gpt(105, 20480, 128, gpt2_vocab, 2048),
            2520,
            SELENE,
            lay(8, 35, 3, 9, 1, 2520, 0, Full, false),
            bf16,
            MegatronTflops(163.0),
        ),
        run(
            "A-13",
            "GPT 22B",
            kor,
            gpt(48, 6144, 64, gpt2_vocab, 2048),
            4,
            SELENE,
            lay(8, 1, 1, 1, 4, 4, 0, Selective, false),
            bf16,
            StepSeconds(1.10),
        ),
        run(
            "A-14",
            "GPT-3 175B",
            kor,
            gpt(96, 12288, 96, gpt2_vocab, 2048),
            64,
            SELENE,
            lay(8, 8, 3, 1, 1, 64, 0, Selective, false),
            bf16,
            StepSeconds(13.75),
        ),
        run(
            "A-16",
            "GPT 1T",
            kor,
            gpt(128, 25600, 160, gpt2_vocab, 2048),
            512,
            SELENE,
            lay(8, 64, 1, 1, 1, 512, 0, Selective, false),
            bf16,
            StepSeconds(71.49),
        ),
        run(
            "A-22",
            "Llama-2 7B (FSDP)",
            ibm,
            llama7.clone(),
            256,
            IBM_A100,
            lay(1, 1, 1, 128, 2, 256, 3, NoRc, true),
            bf16,
            TokensPerChipSecond(3700.0),
        ),
        run(
            "A-25",
            "Llama-2 70B (FSDP)",
            ibm,
            llama70.clone(),
            256,
            IBM_A100,
            lay(1, 1, 1, 128, 2, 256, 3, Full, true),
            bf16,
            TokensPerChipSecond(370.0),
        ),
        run(
            "A-26",
            "MPT-7B",
            foundry,
            mpt(32, 4096, 32),
            96,
            MOSAIC_A100_80,
            lay(1, 1, 1, 8, 6, 96, 3, NoRc, true),
            bf16,
            TokensPerChipSecond(4641.0),
        ),
        run(
            "A-27",
            "MPT-70B",
            foundry,
            mpt(80, 8192, 64),
            2048,
            MOSAIC_A100_80,
            lay(1, 1, 1, 64, 8, 2048, 3, Full, true),
            bf16,
            TokensPerChipSecond(410.0),
        ),
        run(
            "A-28",
            "MPT-7B (A100 40GB)",
            foundry,
            mpt(32, 4096, 32),
            2304,
            MOSAIC_A100_40,
            lay(1, 1, 1, 128, 18, 2304, 3, Full, true),
            bf16,
            TokensPerChipSecond(3623.0),
        ),
        run(
            "A-33",
            "GPT 175B (MegaScale baseline, 256 GPUs)",
            "MegaScale (Jiang et al. 2024), Table 2",
            shape(96, 12288, 128, 128, 4 * 12288, 64000, 2048, false, false),
            768,
            SELENE,
            lay(8, 8, 6, 4, 1, 768, 1, NoRc, true),
            bf16,
            StepSeconds(40.0),
        ),
        run(
            "A-33b",
            "GPT 175B (MegaScale baseline, 1024 GPUs)",
            "MegaScale (Jiang et al. 2024), Table 2",
            shape(96, 12288, 128, 128, 4 * 12288, 64000, 2048, false, false),
            768,
            SELENE,
            lay(8, 8, 6, 16, 1, 768, 1, NoRc, true),
            bf16,
            StepSeconds(11.9),
        ),
        run(
            "B-01",
            "Nemotron-4 15B",
            "Parmar et al. 2024, Table 2",
            shape(32, 6144, 48, 8, 24576, 256000, 4096, false, false),
            384,
            DGX_H100,
            lay(8, 1, 1, 96, 1, 384, 1, NoRc, true),
            bf16,
            StepSeconds(0.57),
        ),
        run(
            "B-03",
            "Nemotron-4 340B",
            "Nemotron-4 340B report, Table 2",
            shape(96, 18432, 96, 8, 73728, 256000, 4096, false, false),
            768,
            DGX_H100,
            lay(8, 12, 2, 16, 1, 768, 1, NoRc, true),
            bf16,
            StepSeconds(10.3),
        ),
        run(
            "B-07",
            "GPT-3 5B (FP8)",
            nemo,
            shape(24, 4096, 32, 32, 16384, 51200, 2048, false, true),
            2048,
            DGX_H100,
            lay(1, 1, 1, 64, 4, 2048, 1, NoRc, true),
            fp8,
            TokensPerChipSecond(23406.0),
        ),
        run(
            "B-09",
            "GPT-3 175B (FP8)",
            nemo,
            shape(96, 12288, 96, 96, 49152, 51200, 2048, false, true),
            256,
            DGX_H100,
            lay(4, 8, 6, 4, 1, 256, 1, NoRc, true),
            fp8,
            TokensPerChipSecond(716.0),
        ),
        run(
            "B-11",
            "Llama-2 7B (FP8)",
            nemo,
            llama7.clone(),
            128,
            DGX_H100,
            lay(1, 1, 1, 8, 1, 128, 1, NoRc, true),
            fp8,
            TokensPerChipSecond(16934.0),
        ),
        run(
            "B-13",
            "Llama-2 70B (FP8)",
            nemo,
            llama70.clone(),
            128,
            DGX_H100,
            lay(4, 4, 20, 4, 1, 128, 1, NoRc, true),
            fp8,
            TokensPerChipSecond(1728.0),
        ),
        run(
            "B-19",
            "Llama-2 7B (FSDP, H100)",
            ibm,
            llama7.clone(),
            192,
            IBM_H100,
            lay(1, 1, 1, 96, 2, 192, 3, NoRc, true),
            bf16,
            TokensPerChipSecond(7500.0),
        ),
        run(
            "B-21",
            "MPT-7B (H100)",
            foundry,
            mpt(32, 4096, 32),
            48,
            DGX_H100,
            lay(1, 1, 1, 8, 6, 48, 3, NoRc, true),
            bf16,
            TokensPerChipSecond(10643.0),
        ),
        run(
            "B-23",
            "MPT-70B (H100)",
            foundry,
            mpt(80, 8192, 64),
            2048,
            DGX_H100,
            lay(1, 1, 1, 64, 8, 2048, 3, Full, true),
            bf16,
            TokensPerChipSecond(1039.0),
        ),
        run(
            "T-01",
            "GPT-3 23B (Trn1)",
            neuron,
            shape(28, 8192, 64, 64, 32768, 50257, 2048, false, false),
            1024,
            TRN1,
            lay(4, 4, 1, 32, 1, 1024, 1, Selective, false),
            bf16,
            SequencesPerSecond(103.0),
        ),
        run(
            "T-02",
            "Llama-2 7B (Trn1)",
            neuron,
            llama7.clone(),
            1024,
            TRN1,
            lay(4, 1, 1, 64, 1, 1024, 1, Selective, false),
            bf16,
            SequencesPerSecond(81.0),
        ),
        run(
            "T-03",
            "Llama-2 13B (Trn1)",
            neuron,
            llama13,
            1024,
            TRN1,
            lay(4, 4, 1, 32, 1, 1024, 1, Selective, false),
            bf16,
            SequencesPerSecond(87.44),
        ),
    ]
}

/// The catalog chip of a run's cluster, with the run's network.
pub fn cluster_chip(
    catalog: &Catalog,
    c: &Cluster,
) -> Option<(Chip, f64, crate::catalog::Accelerator)> {
    let a = catalog.accelerator(c.accelerator)?.clone();
    let chip = Chip {
        peak_flops: a.tflops_bf16.value? * 1e12,
        peak_fp8_flops: a.tflops_fp8.value.map(|v| v * 1e12),
        hbm_bytes_per_s: a.hbm_bytes_per_s.value?,
        link_bytes_per_s: a.link_bytes_per_s_one_way()?,
        network_bytes_per_s: c.network_bits_per_s / 8.0,
        chips_per_instance: c.chips_per_instance,
        alpha_link_s: Chip::ALPHAS.0,
        alpha_network_s: Chip::ALPHAS.1,
    };
    Some((chip, a.hbm_bytes.value?, a))
}

/// Predicts every calibration run at its published layout with the `published` scenario.
pub fn calibration(catalog: &Catalog) -> Vec<CalibrationRow> {
    calibration_runs()
        .into_iter()
        .filter_map(|r| {
            let (chip, hbm, a) = cluster_chip(catalog, &r.cluster)?;
            let eff = chip_efficiency(&a, catalog, &EffScenario::Published)?;
            let p = Profile::from_shape(&r.shape, 1e9, r.global_batch);
            let step = super::time::layout_step_time(&p, &chip, &r.layout, &eff, r.precision)?;
            let published = r.published_step_s();
            let target = Target {
                profile: &p,
                chip: &chip,
                hbm_bytes: hbm,
                eff: &eff,
                precision: r.precision,
            };
            let planned = layout::plan(&target, r.layout.chips());
            let tokens = r.global_batch as f64 * r.shape.seq_len as f64;
            let peak = chip.peak_flops * r.layout.chips() as f64;
            Some(CalibrationRow {
                id: r.id,
                name: r.name,
                source: r.source,
                chips: r.layout.chips(),
                accelerator: r.cluster.accelerator,
                layout: r.layout.describe(),
                published_step_s: published,
                predicted_step_s: step.total_s,
                error: (step.total_s - published) / published,
                predicted_mfu: p.model_flops_per_token * tokens / (peak * step.total_s),
                planner_layout: planned
                    .as_ref()
                    .map_or("nothing fits".into(), |x| x.layout.describe()),
                planner_ratio: planned.map_or(f64::NAN, |x| x.step.total_s / step.total_s),
            })
        })
        .collect()
}

/// Median absolute error of a calibration table.
pub fn median_abs_error(rows: &[CalibrationRow]) -> f64 {
    let mut e: Vec<f64> = rows.iter().map(|r| r.error.abs()).collect();
    e.sort_by(f64::total_cmp);
    if e.is_empty() {
        return f64::NAN;
    }
    let n = e.len();
    if n % 2 == 1 {
        e[n / 2]
    } else {
        (e[n / 2 - 1] + e[n / 2]) / 2.0
    }
}

/// The calibration table as Markdown, with the median absolute error.
pub fn calibration_markdown(rows: &[CalibrationRow]) -> String {
    let mut s = String::from(
        "| row | run | source | chips | published s/step | predicted | error | predicted MFU | planner's layout | planner ÷ published layout |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} × {} | {:.3} | {:.3} | {:+.1}% | {:.1}% | {} | {:.2} |\n",
            r.id,
            r.name,
            r.source,
            r.chips,
            r.accelerator,
            r.published_step_s,
            r.predicted_step_s,
            r.error * 100.0,
            r.predicted_mfu * 100.0,
            r.planner_layout,
            r.planner_ratio
        ));
    }
    s.push_str(&format!(
        "\nMedian absolute error: {:.1}% over {} runs; largest: {:.1}%.\n",
        median_abs_error(rows) * 100.0,
        rows.len(),
        rows.iter().map(|r| r.error.abs()).fold(0.0, f64::max) * 100.0
    ));
    s
}

#[cfg(test)]
mod calibration_tests {
    use super::*;

    /// The calibration set spans 1B to 1T parameters, A100, H100 and Trainium, with and
    /// without pipelines, ZeRO-3, FP8 and recomputation: the model must predict it with a
    /// median absolute error of at most 15% and every row within ±35%.
    #[test]
    fn calibration_median_error_at_most_15_percent_and_every_row_within_35() {
        let rows = calibration(&Catalog::bundled());
        assert_eq!(rows.len(), calibration_runs().len(), "every run predicted");
        assert!(rows.len() >= 10);
        let table = calibration_markdown(&rows);
        assert!(median_abs_error(&rows) <= 0.15, "{table}");
        for r in &rows {
            assert!(r.error.abs() <= 0.35, "{}: {table}", r.id);
        }
        for chip in ["a100-80gb", "h100-sxm", "trainium"] {
            assert!(rows.iter().any(|r| r.accelerator == chip), "{chip}");
        }
        let params: Vec<f64> = calibration_runs()
            .iter()
            .map(|r| Profile::from_shape(&r.shape, 1e9, r.global_batch).params)
            .collect();
        assert!(params.iter().any(|&n| n < 2e9) && params.iter().any(|&n| n > 0.9e12));
    }

    /// The planner, given the same chips, batch and precision, never does much worse than the
    /// layout the published run used (it may do better: it can use FlashAttention where a 2021
    /// run could not).
    #[test]
    fn the_planner_is_never_much_slower_than_a_published_layout() {
        for r in calibration(&Catalog::bundled()) {
            assert!(
                r.planner_ratio <= 1.05,
                "{}: planner {} is {:.2}× the published layout",
                r.id,
                r.planner_layout,
                r.planner_ratio
            );
        }
    }

    /// The validation table in docs/validation.md is this function's output
    /// (`COSTBENCH_UPDATE_DOCS=1 cargo test --release --lib calibration_table` rewrites it).
    #[test]
    fn the_calibration_table_in_the_docs_is_current() {
        let table = calibration_markdown(&calibration(&Catalog::bundled()));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/validation.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let begin = "<!-- calibration table: generated -->\n";
        let end_mark = "<!-- end of calibration table -->";
        let (Some(start), Some(end)) = (doc.find(begin), doc.find(end_mark)) else {
            panic!("docs/validation.md has no generated calibration table");
        };
        let start = start + begin.len();
        if std::env::var_os("COSTBENCH_UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{}{}{}", &doc[..start], table, &doc[end..])).unwrap();
            return;
        }
        assert!(
            doc[start..end] == table,
            "docs/validation.md's calibration table is out of date: run `COSTBENCH_UPDATE_DOCS=1 cargo test --release --lib calibration_table`"
        );
    }

    /// Runs of the same sources not in the calibration set, for a held-out check
    /// (`cargo test --release --lib held_out -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn held_out() {
        use Outcome::*;
        use Recompute::{Full, None as NoRc, Selective};
        let bf16 = Precision::Bf16;
        let fp8 = Precision::Fp8;
        let v = 51200;
        let run = |id, shape, gbs, cluster, layout, precision, outcome| PublishedRun {
            id,
            name: id,
            source: "held out",
            shape,
            global_batch: gbs,
            cluster,
            layout,
            precision,
            outcome,
        };
        let llama = |l, d, h, kv, f| shape(l, d, h, kv, f, 32000, 4096, true, false);
        let mpt = |l, d: usize, h, s| shape(l, d, h, h, 4 * d, 50368, s, false, true);
        let rows = vec![
            run(
                "A-02",
                gpt(30, 3072, 32, v, 2048),
                512,
                SELENE,
                lay(2, 1, 1, 32, 4, 512, 0, Full, false),
                bf16,
                MegatronTflops(138.0),
            ),
            run(
                "A-04",
                gpt(40, 6144, 48, v, 2048),
                1024,
                SELENE,
                lay(8, 1, 1, 32, 4, 1024, 0, Full, false),
                bf16,
                MegatronTflops(135.0),
            ),
            run(
                "A-06",
                gpt(60, 10240, 80, v, 2048),
                1792,
                SELENE,
                lay(8, 4, 3, 32, 1, 1792, 0, Full, false),
                bf16,
                MegatronTflops(140.0),
            ),
            run(
                "A-08",
                gpt(96, 16384, 128, v, 2048),
                2160,
                SELENE,
                lay(8, 16, 2, 15, 1, 2160, 0, Full, false),
                bf16,
                MegatronTflops(155.0),
            ),
            run(
                "A-15",
                gpt(105, 20480, 128, v, 2048),
                280,
                SELENE,
                lay(8, 35, 3, 1, 1, 280, 0, Selective, false),
                bf16,
                StepSeconds(37.83),
            ),
            run(
                "A-17",
                gpt(105, 20480, 128, v, 2048),
                2240,
                SELENE,
                lay(8, 35, 3, 8, 1, 2240, 0, Selective, false),
                bf16,
                StepSeconds(39.15),
            ),
            run(
                "A-29",
                mpt(48, 7168, 56, 2048),
                768,
                MOSAIC_A100_40,
                lay(1, 1, 1, 128, 6, 768, 3, Full, true),
                bf16,
                TokensPerChipSecond(865.0),
            ),
            run(
                "A-30",
                mpt(40, 5120, 40, 32768),
                24,
                MOSAIC_A100_80,
                lay(1, 1, 1, 8, 1, 24, 3, Full, true),
                bf16,
                TokensPerChipSecond(1016.0),
            ),
            run(
                "A-34",
                shape(96, 12288, 128, 128, 4 * 12288, 64000, 2048, false, false),
                6144,
                SELENE,
                lay(8, 8, 6, 48, 1, 6144, 1, NoRc, true),
                bf16,
                StepSeconds(29.02),
            ),
            run(
                "B-02",
                shape(32, 6144, 48, 8, 24576, 256000, 4096, false, false),
                768,
                DGX_H100,
                lay(8, 1, 1, 192, 1, 768, 1, NoRc, true),
                bf16,
                StepSeconds(0.58),
            ),
            run(
                "B-05",
                shape(96, 18432, 96, 8, 73728, 256000, 4096, false, false),
                2304,
                DGX_H100,
                lay(8, 12, 2, 64, 1, 2304, 1, NoRc, true),
                bf16,
                StepSeconds(8.0),
            ),
            run(
                "B-08",
                gpt(44, 6144, 48, v, 2048),
                256,
                DGX_H100,
                lay(2, 1, 1, 32, 2, 256, 1, NoRc, true),
                fp8,
                TokensPerChipSecond(5851.0),
            ),
            run(
                "B-10",
                gpt(96, 12288, 96, v, 2048),
                2048,
                DGX_H100,
                lay(4, 8, 6, 16, 2, 2048, 1, NoRc, true),
                fp8,
                TokensPerChipSecond(825.0),
            ),
            run(
                "B-12",
                llama(40, 5120, 40, 40, 13824),
                128,
                DGX_H100,
                lay(1, 4, 10, 4, 1, 128, 1, NoRc, true),
                fp8,
                TokensPerChipSecond(8715.0),
            ),
            run(
                "B-20a",
                llama(80, 8192, 64, 8, 28672),
                192,
                IBM_H100,
                lay(1, 1, 1, 96, 2, 192, 3, Full, true),
                bf16,
                TokensPerChipSecond(800.0),
            ),
            run(
                "B-22",
                mpt(48, 7168, 56, 2048),
                1344,
                DGX_H100,
                lay(1, 1, 1, 32, 14, 1344, 3, Full, true),
                bf16,
                TokensPerChipSecond(2308.0),
            ),
            run(
                "T-04",
                llama(40, 5120, 40, 40, 13824),
                1024,
                TRN1,
                lay(4, 4, 1, 32, 1, 1024, 1, Selective, false),
                bf16,
                SequencesPerSecond(60.0),
            ),
        ];
        let catalog = Catalog::bundled();
        let mut errors = Vec::new();
        for r in calibration_runs() {
            let (_, _, a) = cluster_chip(&catalog, &r.cluster).unwrap();
            let p = Profile::from_shape(&r.shape, 1e9, r.global_batch);
            let m = super::super::memory::layout_bytes(&p, &r.layout, r.precision);
            println!(
                "calibration {} memory {:.1} GB of {:.1} usable",
                r.id,
                m.total / 1e9,
                super::super::memory::USABLE_HBM * a.hbm_bytes.value.unwrap() / 1e9
            );
        }
        for r in rows {
            let (chip, _, a) = cluster_chip(&catalog, &r.cluster).unwrap();
            let eff = chip_efficiency(&a, &catalog, &EffScenario::Published).unwrap();
            let p = Profile::from_shape(&r.shape, 1e9, r.global_batch);
            let st = super::super::time::layout_step_time(&p, &chip, &r.layout, &eff, r.precision)
                .unwrap();
            let fits = super::super::memory::layout_bytes(&p, &r.layout, r.precision).total
                <= super::super::memory::USABLE_HBM * a.hbm_bytes.value.unwrap();
            let e = st.total_s / r.published_step_s() - 1.0;
            errors.push(e.abs());
            println!(
                "{} published {:.3} predicted {:.3} error {:+.1}% fits {fits}",
                r.id,
                r.published_step_s(),
                st.total_s,
                100.0 * e
            );
        }
        errors.sort_by(f64::total_cmp);
        println!("median |error| {:.1}%", 100.0 * errors[errors.len() / 2]);
    }

    #[test]
    #[ignore]
    fn print_calibration() {
        let catalog = Catalog::bundled();
        println!("{}", calibration_markdown(&calibration(&catalog)));
        for r in calibration_runs() {
            let (chip, _, a) = cluster_chip(&catalog, &r.cluster).unwrap();
            let eff = chip_efficiency(&a, &catalog, &EffScenario::Published).unwrap();
            let p = Profile::from_shape(&r.shape, 1e9, r.global_batch);
            let st = super::super::time::layout_step_time(&p, &chip, &r.layout, &eff, r.precision)
                .unwrap();
            println!(
                "{} published {:.3} s, predicted {:.3} s: compute {:.3}, bubble {:.3}, exposed TP {:.3}, PP {:.3}, DP {:.3}",
                r.id,
                r.published_step_s(),
                st.total_s,
                st.compute_s,
                st.bubble_s,
                st.exposed_tp_s,
                st.exposed_pp_s,
                st.exposed_dp_s
            );
        }
    }
}
