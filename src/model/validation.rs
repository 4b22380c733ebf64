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
