//! Prices training a model from Rust code: Llama 2 7B on 2 trillion tokens, on every catalog option
//! within the default 30-day deadline, then with a negotiated Trainium price.
//!
//! Run it with `cargo run --release --example price_a_model`.

use costbench::{Catalog, EstimateOptions, Workload, estimate};

fn main() -> Result<(), costbench::Error> {
    let model = Workload::bundled("llama2-7b")?.with_target_tokens(2_000_000_000_000);
    println!(
        "{}: {:.2e} parameters, {:.2e} tokens, {:.2e} training FLOPs",
        model.name(),
        model.target_parameters().unwrap_or(0.0),
        model.target_tokens().unwrap_or(0.0),
        model.target_training_flops().unwrap_or(0.0),
    );

    let mut catalog = Catalog::bundled();
    let options = EstimateOptions::default();
    let priced = estimate(&model, &catalog, &options)?;
    println!(
        "catalog as of {}; the five cheapest options:",
        priced.catalog_as_of()
    );
    show(&priced);

    // A what-if: a negotiated on-demand price for trn1.32xlarge, USD per instance-hour.
    let on_demand = |e: &costbench::Estimate| {
        e.options()
            .into_iter()
            .find(|o| o.instance == "trn1.32xlarge" && o.plan == "on_demand")
            .map_or(f64::NAN, |o| o.usd)
    };
    catalog.set_price("trn1.32xlarge:on_demand=14")?;
    let what_if = estimate(&model, &catalog, &options)?;
    println!(
        "\ntrn1.32xlarge on demand: ${:.0} at the catalog price, ${:.0} at $14 an hour",
        on_demand(&priced),
        on_demand(&what_if)
    );
    Ok(())
}

fn show(priced: &costbench::Estimate) {
    for o in priced.options().iter().take(5) {
        // The Monte Carlo's median and 90% interval where it ran, else the nominal figure.
        let cost = match o.usd_interval {
            Some(i) => format!("${:.0} (90%: ${:.0}–${:.0})", i.value, i.low, i.high),
            None => format!("${:.0}", o.usd),
        };
        println!(
            "  {:<16} {:<13} {:>4} × {:<22} {cost}, {:.0} days",
            o.instance,
            o.plan,
            o.instances,
            o.accelerator,
            o.wall_hours_interval.map_or(o.wall_hours, |i| i.value) / 24.0
        );
    }
    if let Some(v) = priced.verdict() {
        let name = |p: &Option<(String, String)>| {
            p.as_ref()
                .map_or("none".to_string(), |(i, plan)| format!("{i} {plan}"))
        };
        println!(
            "  verdict: Trainium pick {}, NVIDIA pick {}, P(Trainium cheaper) = {}",
            name(&v.trainium),
            name(&v.nvidia),
            v.p_trainium_cheaper
                .map_or("n/a".to_string(), |p| format!("{p:.2}"))
        );
    }
}
