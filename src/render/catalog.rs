//! The text `costbench catalog` prints: one block per accelerator and per instance, one line per
//! figure with its value and unit, source, as-of date and note; then the source legend.

use crate::catalog::{Accelerator, Catalog, Instance, LinkDirection, Plan, Sourced, usd_text};

const GIB: f64 = (1u64 << 30) as f64;

/// Rows of [label, value, provenance, note], aligned on the first three columns.
fn aligned(rows: &[[String; 4]], out: &mut String) {
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r[2].chars().count()).max().unwrap_or(0);
    for r in rows {
        let line = format!("  {:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `x` with thousands separators, as many decimals as it has (`1,979`, `47.5`, `0.82`).
pub(super) fn number(x: f64) -> String {
    let s = format!("{x}");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int.as_str()),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `x` rounded to `decimals` and shown with separators, trailing zeros dropped.
fn rounded(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    number(s.parse().unwrap_or(x))
}

/// A per-chip or per-vCPU rate: three decimals from $1 up, four significant digits below.
fn rate(x: f64) -> String {
    // A price can underflow to 0 when divided by chips (a fuzzed 5e-324 on 9 chips): no log10.
    if !(x.is_finite() && x > 0.0) || x < 1e-8 {
        return format!("${x:.2e}");
    }
    if x >= 1.0 {
        format!("${}", rounded(x, 3))
    } else {
        let decimals = (3 - x.log10().floor() as i32).clamp(2, 8) as usize;
        format!("${}", rounded(x, decimals))
    }
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

fn bytes(b: f64) -> String {
    if b % GIB == 0.0 {
        format!("{} GiB", number(b / GIB))
    } else {
        format!("{} GB", rounded(b / 1e9, 1))
    }
}

fn accelerator_rows(a: &Accelerator) -> Vec<[String; 4]> {
    let tflops = |v: f64| format!("{} TFLOP/s", number(v));
    let fraction = |v: f64| {
        let two = format!("{v:.2}");
        let shown = if two.parse::<f64>() == Ok(v) {
            two
        } else {
            v.to_string()
        };
        format!("{shown} ({}% of BF16 peak)", rounded(v * 100.0, 1))
    };
    let link = |v: f64| match a.link_direction {
        LinkDirection::Bidirectional => format!(
            "{} GB/s bidirectional ({} GB/s each way)",
            rounded(v / 1e9, 1),
            rounded(v / 2e9, 1)
        ),
        LinkDirection::OneWay => format!("{} GB/s each way", rounded(v / 1e9, 1)),
        LinkDirection::Unstated => format!(
            "{} GB/s (direction unstated; taken as one-way)",
            rounded(v / 1e9, 1)
        ),
    };
    vec![
        figure("BF16 peak", &a.tflops_bf16, tflops),
        figure("FP8 peak", &a.tflops_fp8, tflops),
        figure("FP32 peak", &a.tflops_fp32, tflops),
        figure("HBM", &a.hbm_bytes, bytes),
        figure("HBM bandwidth", &a.hbm_bytes_per_s, |v| {
            format!("{} TB/s", rounded(v / 1e12, 3))
        }),
        figure("chip-to-chip", &a.link_bytes_per_s, link),
        figure("power (TDP)", &a.tdp_watts, |v| format!("{} W", number(v))),
        figure("GEMM efficiency", &a.gemm_efficiency, fraction),
        figure("training MFU", &a.training_mfu, fraction),
    ]
}

fn instance_rows(i: &Instance) -> Vec<[String; 4]> {
    let mut rows = vec![figure("network", &i.network_bits_per_s, |v| {
        format!(
            "{} Gbps ({} GB/s)",
            rounded(v / 1e9, 1),
            rounded(v / 8e9, 1)
        )
    })];
    for plan in Plan::ALL {
        let label = plan.as_str();
        match i.prices.get(&plan) {
            None => rows.push([
                label.to_string(),
                "—".to_string(),
                String::new(),
                "no entry in the catalog".to_string(),
            ]),
            Some(p) => rows.push(figure(label, p, |usd| {
                let per = if i.chips > 0 {
                    format!(" ({}/chip-h)", rate(usd / f64::from(i.chips)))
                } else if let Some(v) = i.vcpus.filter(|v| *v > 0) {
                    format!(" ({}/vCPU-h)", rate(usd / f64::from(v)))
                } else {
                    String::new()
                };
                format!("{}/h{per}", usd_text(usd))
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
        let w = c.sources.keys().map(|k| k.len()).max().unwrap_or(0);
        for (name, full) in &c.sources {
            out.push_str(&format!("  {name:<w$}  {full}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_rate_of_a_price_that_underflows() {
        assert_eq!(super::rate(0.0), "$0.00e0");
        assert_eq!(super::rate(5e-324 / 9.0), "$0.00e0");
        assert_eq!(super::rate(1e-12), "$1.00e-12");
        assert_eq!(super::rate(0.0123), "$0.0123");
    }

    use super::*;

    #[test]
    fn numbers_are_grouped_and_keep_their_decimals() {
        assert_eq!(number(1979.0), "1,979");
        assert_eq!(number(47.5), "47.5");
        assert_eq!(number(0.82), "0.82");
        assert_eq!(number(3200.0), "3,200");
        assert_eq!(number(1_000_000.0), "1,000,000");
        assert_eq!(rounded(2.9e12 / 1e12, 3), "2.9");
    }

    #[test]
    fn rates_keep_four_significant_digits_below_a_dollar() {
        assert_eq!(rate(6.88), "$6.88");
        assert_eq!(rate(21.957642 / 8.0), "$2.745");
        assert_eq!(rate(8.568 / 192.0), "$0.04462");
    }

    #[test]
    fn capacities_are_shown_in_the_unit_they_were_published_in() {
        assert_eq!(bytes(32.0 * GIB), "32 GiB");
        assert_eq!(bytes(80e9), "80 GB");
        assert_eq!(bytes(141e9), "141 GB");
    }
}
