//! The text `costbench catalog` prints: one block per accelerator and per instance, one line per
//! figure with its value and unit, source, as-of date and note; then the source legend.

use crate::catalog::{Accelerator, Catalog, Instance, LinkDirection, Plan, Sourced};
use crate::render::table::{bare, indented};
use crate::units::{self, MISSING};

/// Rows of [label, value, provenance, note] in aligned columns.
fn aligned(rows: &[[String; 4]], out: &mut String) {
    let mut t = bare();
    for r in rows {
        t.add_row(r.iter());
    }
    out.push_str(&indented(&t, " "));
}

fn row<T>(label: &str, value: String, f: &Sourced<T>) -> [String; 4] {
    [
        label.to_string(),
        value,
        f.provenance(),
        f.note.clone().unwrap_or_default(),
    ]
}

fn figure(label: &str, f: &Sourced<f64>, show: impl Fn(f64) -> String) -> [String; 4] {
    let value = f.value.map_or_else(|| "not published".to_string(), show);
    row(label, value, f)
}

fn accelerator_rows(a: &Accelerator) -> Vec<[String; 4]> {
    let fraction = |v: f64| {
        format!(
            "{} ({} of BF16 peak)",
            units::fraction(v),
            units::percent(v)
        )
    };
    let link = |v: f64| match a.link_direction {
        LinkDirection::Bidirectional => format!(
            "{} bidirectional ({} each way)",
            units::bandwidth(v),
            units::bandwidth(v / 2.0)
        ),
        LinkDirection::OneWay => format!("{} each way", units::bandwidth(v)),
        LinkDirection::Unstated => format!(
            "{} (direction unstated; taken as one-way)",
            units::bandwidth(v)
        ),
    };
    vec![
        figure("BF16 peak", &a.tflops_bf16, units::tflops),
        figure("FP8 peak", &a.tflops_fp8, units::tflops),
        figure("FP32 peak", &a.tflops_fp32, units::tflops),
        figure("HBM", &a.hbm_bytes, units::bytes),
        figure("HBM bandwidth", &a.hbm_bytes_per_s, units::bandwidth),
        figure("chip-to-chip", &a.link_bytes_per_s, link),
        figure("power (TDP)", &a.tdp_watts, |v| {
            format!("{} W", units::grouped(v))
        }),
        figure("GEMM efficiency", &a.gemm_efficiency, fraction),
        figure("training MFU", &a.training_mfu, fraction),
    ]
}

fn instance_rows(i: &Instance) -> Vec<[String; 4]> {
    let mut rows = vec![figure("network", &i.network_bits_per_s, |v| {
        format!("{} ({})", units::bit_rate(v), units::bandwidth(v / 8.0))
    })];
    for plan in Plan::ALL {
        let label = plan.as_str();
        match i.prices.get(&plan) {
            None => rows.push([
                label.to_string(),
                MISSING.to_string(),
                String::new(),
                "no entry in the catalog".to_string(),
            ]),
            Some(p) => rows.push(figure(label, p, |usd| {
                let per = if i.chips > 0 {
                    format!(" ({}/chip-h)", units::usd(usd / f64::from(i.chips)))
                } else if let Some(v) = i.vcpus.filter(|v| *v > 0) {
                    format!(" ({}/vCPU-h)", units::usd(usd / f64::from(v)))
                } else {
                    String::new()
                };
                format!("{}/h{per}", units::usd(usd))
            })),
        }
    }
    rows
}

/// The whole listing.
pub fn table(c: &Catalog) -> String {
    let mut out = String::new();
    let hash = c.hash();
    out.push_str(&format!(
        "costbench catalog: {} accelerators, {} instances; newest figure as of {}; sha256 {}\n",
        c.accelerators.len(),
        c.instances.len(),
        c.as_of(),
        &hash[..16]
    ));
    out.push_str(
        "Peaks are dense (no sparsity) and per chip. \"not published\": no public figure (the \
         note says where it was looked for).\n",
    );

    out.push_str("\nACCELERATORS\n");
    for a in &c.accelerators {
        out.push_str(&format!("\n{}: {} ({})\n", a.id, a.name, a.vendor));
        aligned(&accelerator_rows(a), &mut out);
    }

    out.push_str("\nINSTANCES (prices in USD per instance-hour)\n");
    for i in &c.instances {
        let what = match (&i.accelerator, i.vcpus) {
            (Some(id), _) => {
                let name = c
                    .accelerator(id)
                    .map(|a| format!(" ({})", a.name))
                    .unwrap_or_default();
                format!("{} × {id}{name}", i.chips)
            }
            (None, Some(v)) => format!("{v} vCPU, no accelerator"),
            (None, None) => "no accelerator".to_string(),
        };
        out.push_str(&format!("\n{}: {what}, {}\n", i.id, i.region));
        aligned(&instance_rows(i), &mut out);
    }

    if !c.sources.is_empty() {
        out.push_str("\nSOURCES\n");
        let mut t = bare();
        for (name, full) in &c.sources {
            t.add_row([name, full]);
        }
        out.push_str(&indented(&t, " "));
    }
    out
}
