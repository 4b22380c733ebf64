//! The catalog through its library API: the bundled figures as their public sources give them,
//! overlays, `--price`, stale-price warnings, and one test per validation rule of
//! `catalog/README.md` (each asserting a single-line error naming the file, position and field).

mod common;

use chrono::NaiveDate;
use common::edit;
use costbench::catalog::{
    Catalog, CatalogError, LinkDirection, PRICE_FLAG_SOURCE, Plan, STALE_PRICE_MONTHS,
};
use std::path::Path;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const GIB: f64 = (1u64 << 30) as f64;

// ---------------------------------------------------------------------------------------------
// The bundled catalog.

#[test]
fn bundled_catalog_parses_with_every_listed_entry() {
    let c = Catalog::bundled();
    let accelerators: Vec<&str> = c.accelerators.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        accelerators,
        [
            "trainium",
            "trainium2",
            "trainium3",
            "a100-40gb",
            "a100-80gb",
            "h100-sxm",
            "h800-sxm",
            "h200-sxm",
            "b200-sxm",
            "gb200"
        ]
    );
    let instances: Vec<&str> = c.instances.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        instances,
        [
            "trn1.32xlarge",
            "trn1n.32xlarge",
            "trn2.48xlarge",
            "p4d.24xlarge",
            "p4de.24xlarge",
            "p5.48xlarge",
            "p5e.48xlarge",
            "p5en.48xlarge",
            "p6-b200.48xlarge",
            "c7i.48xlarge"
        ]
    );
}

#[test]
fn every_bundled_figure_has_provenance_and_every_gap_a_note() {
    let c = Catalog::bundled();
    let figures = c.figures();
    // 10 accelerators × 9 figures + 10 instances × (network + 5 plans).
    assert_eq!(figures.len(), 10 * 9 + 10 * 6);
    for (label, f) in figures {
        assert!(!f.source.trim().is_empty(), "{label}: empty source");
        assert!(
            f.as_of >= date("2021-01-01") && f.as_of <= date("2026-08-01"),
            "{label}: as_of {} outside the dates of the catalog's sources",
            f.as_of
        );
        match f.value {
            Some(v) => assert!(v.is_finite() && v > 0.0, "{label}: {v}"),
            None => {
                let note = f.note.as_deref().unwrap_or_default();
                assert!(
                    note.contains("not published"),
                    "{label}: a missing value needs a 'not published' note, got {note:?}"
                );
            }
        }
        if let Some(note) = &f.note {
            assert!(!note.trim().is_empty() && !note.contains('\n'), "{label}");
        }
    }
}

#[test]
fn every_bundled_instance_prices_all_five_plans() {
    for i in Catalog::bundled().instances {
        let plans: Vec<Plan> = i.prices.keys().copied().collect();
        assert_eq!(plans, Plan::ALL, "{}", i.id);
    }
}

#[test]
fn unpublished_figures_are_absent_with_a_note() {
    let c = Catalog::bundled();
    let trn2 = c.instance("trn2.48xlarge").unwrap();
    let od = &trn2.prices[&Plan::OnDemand];
    assert_eq!(od.value, None);
    assert!(
        od.note
            .as_deref()
            .unwrap()
            .contains("not in the AWS Price List")
    );
    assert_eq!(trn2.price(Plan::CapacityBlock), Some(35.7608));
    assert_eq!(trn2.region, "us-east-2");

    let p5e = c.instance("p5e.48xlarge").unwrap();
    assert_eq!(p5e.price(Plan::OnDemand), None);
    assert_eq!(p5e.price(Plan::CapacityBlock), Some(47.76));

    for id in ["trainium", "trainium2", "trainium3"] {
        let a = c.accelerator(id).unwrap();
        assert_eq!(a.tdp_watts.value, None, "{id}");
        assert!(
            a.tdp_watts
                .note
                .as_deref()
                .unwrap()
                .contains("not published")
        );
        assert_eq!(a.gemm_efficiency.value, None, "{id}");
    }
    for id in ["trainium2", "trainium3", "b200-sxm", "gb200"] {
        let mfu = &c.accelerator(id).unwrap().training_mfu;
        assert_eq!(mfu.value, None, "{id}");
        assert!(
            mfu.note.as_deref().unwrap().contains("not published"),
            "{id}"
        );
    }
    for id in ["a100-40gb", "a100-80gb"] {
        assert_eq!(c.accelerator(id).unwrap().tflops_fp8.value, None);
    }
}

#[test]
fn peaks_are_dense() {
    let c = Catalog::bundled();
    let h100 = c.accelerator("h100-sxm").unwrap();
    assert_eq!(h100.tflops_bf16.value, Some(989.0)); // not the sparse 1,979
    assert_eq!(h100.tflops_fp8.value, Some(1979.0));
    assert_eq!(h100.tflops_fp32.value, Some(67.0));
    assert_eq!(h100.tflops_bf16.source, "NVIDIA");
    let trn2 = c.accelerator("trainium2").unwrap();
    assert_eq!(trn2.tflops_bf16.value, Some(667.0)); // not the sparse 2,563
    assert_eq!(
        c.accelerator("b200-sxm").unwrap().tflops_bf16.value,
        Some(2250.0)
    );
    assert_eq!(
        c.accelerator("trainium").unwrap().tflops_bf16.value,
        Some(190.0)
    );
    assert_eq!(
        c.accelerator("trainium3").unwrap().tflops_fp8.value,
        Some(2517.0)
    );
}

#[test]
fn memory_sizes_convert_gib_and_gb_as_published() {
    let c = Catalog::bundled();
    let hbm = |id: &str| c.accelerator(id).unwrap().hbm_bytes.value.unwrap();
    assert_eq!(hbm("trainium"), 32.0 * GIB);
    assert_eq!(hbm("trainium2"), 96.0 * GIB);
    assert_eq!(hbm("trainium3"), 144.0 * GIB);
    assert_eq!(hbm("a100-40gb"), 40e9);
    assert_eq!(hbm("a100-80gb"), 80e9);
    assert_eq!(hbm("h100-sxm"), 80e9);
    assert_eq!(hbm("h200-sxm"), 141e9);
    assert_eq!(hbm("b200-sxm"), 180e9);
    let bw = |id: &str| c.accelerator(id).unwrap().hbm_bytes_per_s.value.unwrap();
    assert_eq!(bw("h100-sxm"), 3.35e12);
    assert_eq!(bw("trainium"), 0.82e12);
    assert_eq!(bw("a100-40gb"), 1.555e12);
}

#[test]
fn link_bandwidth_one_way_halves_bidirectional_figures_only() {
    let c = Catalog::bundled();
    let h100 = c.accelerator("h100-sxm").unwrap();
    assert_eq!(h100.link_direction, LinkDirection::Bidirectional);
    assert_eq!(h100.link_bytes_per_s.value, Some(900e9));
    assert_eq!(h100.link_bytes_per_s_one_way(), Some(450e9));
    assert_eq!(
        c.accelerator("b200-sxm")
            .unwrap()
            .link_bytes_per_s_one_way(),
        Some(900e9)
    );
    let trn2 = c.accelerator("trainium2").unwrap();
    assert_eq!(trn2.link_direction, LinkDirection::Unstated);
    assert_eq!(trn2.link_bytes_per_s_one_way(), Some(1280e9));
    assert_eq!(
        c.accelerator("trainium")
            .unwrap()
            .link_bytes_per_s_one_way(),
        Some(384e9)
    );
}

#[test]
fn efficiencies_are_the_published_defaults() {
    let c = Catalog::bundled();
    let gemm = |id: &str| c.accelerator(id).unwrap().gemm_efficiency.value;
    assert_eq!(gemm("a100-40gb"), Some(0.87));
    assert_eq!(gemm("h100-sxm"), Some(0.80));
    assert_eq!(gemm("h200-sxm"), Some(0.80));
    assert_eq!(gemm("b200-sxm"), Some(0.78));
    let mfu = |id: &str| c.accelerator(id).unwrap().training_mfu.clone();
    assert_eq!(mfu("h100-sxm").value, Some(0.40));
    assert!(mfu("h100-sxm").source.contains("2407.21783"));
    assert_eq!(mfu("h200-sxm").value, Some(0.40));
    assert!(mfu("h200-sxm").note.unwrap().contains("proxy"));
    assert_eq!(mfu("a100-80gb").value, Some(0.52));
    assert!(mfu("a100-80gb").source.contains("Narayanan"));
    assert_eq!(mfu("trainium").value, Some(0.33));
    assert_eq!(mfu("trainium").source, "NEURON");
}

#[test]
fn bundled_prices_are_the_current_ones_with_history_in_notes() {
    let c = Catalog::bundled();
    let p5 = c.instance("p5.48xlarge").unwrap();
    assert_eq!(p5.price(Plan::OnDemand), Some(55.04));
    assert_eq!(p5.price_per_chip_hour(Plan::OnDemand), Some(6.88));
    let od = &p5.prices[&Plan::OnDemand];
    assert_eq!(
        (od.source.as_str(), od.as_of),
        ("AWS-PRICE", date("2026-01-21"))
    );
    assert!(od.note.as_deref().unwrap().contains("98.32"));
    let ri1 = &p5.prices[&Plan::Reserved1yr];
    assert_eq!(ri1.value, Some(43.344));
    assert!(
        ri1.note
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("convertible")
    );
    let cb = &p5.prices[&Plan::CapacityBlock];
    assert_eq!((cb.value, cb.as_of), (Some(41.528), date("2026-07-22")));
    assert!(cb.note.as_deref().unwrap().contains("31.464"));
    let spot = &p5.prices[&Plan::Spot];
    assert_eq!((spot.value, spot.as_of), (Some(28.11), date("2025-11-30")));

    let p4d = c.instance("p4d.24xlarge").unwrap();
    assert_eq!(p4d.price(Plan::OnDemand), Some(21.957642));
    assert!(
        p4d.prices[&Plan::OnDemand]
            .note
            .as_deref()
            .unwrap()
            .contains("32.7726")
    );
    assert_eq!(
        c.instance("p4de.24xlarge")
            .unwrap()
            .price(Plan::CapacityBlock),
        Some(17.712)
    );
    assert_eq!(
        c.instance("p6-b200.48xlarge")
            .unwrap()
            .price(Plan::OnDemand),
        Some(113.9328)
    );
    assert_eq!(
        c.instance("trn1.32xlarge")
            .unwrap()
            .price(Plan::Reserved3yr),
        Some(8.197)
    );
}

#[test]
fn instances_name_their_chips_and_network() {
    let c = Catalog::bundled();
    for i in &c.instances {
        match &i.accelerator {
            Some(id) => {
                assert!(c.accelerator(id).is_some(), "{}", i.id);
                assert!(i.chips > 0, "{}", i.id);
                assert_eq!(c.accelerator_of(i).unwrap().id, *id);
            }
            None => assert_eq!(i.chips, 0, "{}", i.id),
        }
        assert!(!i.region.is_empty());
    }
    let chips = |id: &str| c.instance(id).unwrap().chips;
    assert_eq!(chips("trn1.32xlarge"), 16);
    assert_eq!(chips("trn2.48xlarge"), 16);
    assert_eq!(chips("p5.48xlarge"), 8);
    let cpu = c.instance("c7i.48xlarge").unwrap();
    assert_eq!(
        (cpu.accelerator.as_deref(), cpu.chips, cpu.vcpus),
        (None, 0, Some(192))
    );
    assert_eq!(cpu.price(Plan::OnDemand), Some(8.568));
    assert_eq!(cpu.price_per_chip_hour(Plan::OnDemand), None);
    assert_eq!(cpu.network_bits_per_s.value, None);
    let net = |id: &str| c.instance(id).unwrap().network_bits_per_s.value;
    assert_eq!(net("p5.48xlarge"), Some(3200e9));
    assert_eq!(net("trn1.32xlarge"), Some(800e9));
    assert_eq!(net("trn1n.32xlarge"), Some(1600e9));
    assert_eq!(net("p4d.24xlarge"), Some(400e9));
}

#[test]
fn hash_and_as_of_describe_the_bundled_catalog() {
    let c = Catalog::bundled();
    let h = c.hash();
    assert_eq!(h.len(), 64);
    assert!(
        h.chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
    );
    assert_eq!(h, Catalog::bundled().hash());
    assert_eq!(c.as_of(), date("2026-08-01"));
}

#[test]
fn catalog_round_trips_through_json_and_has_a_schema() {
    let c = Catalog::bundled();
    let json = serde_json::to_string_pretty(&c).unwrap();
    assert!(json.contains("\"on_demand\""));
    assert!(json.contains("\"as_of\": \"2026-01-21\""));
    let back: Catalog = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.hash(), c.hash());
    let schema = serde_json::to_string(&schemars::schema_for!(Catalog)).unwrap();
    assert!(schema.contains("usd") || schema.contains("USD"));
}

#[test]
fn table_lists_every_entry_with_sources() {
    let c = Catalog::bundled();
    let t = costbench::render::catalog::table(&c);
    for a in &c.accelerators {
        assert!(t.contains(&format!("{}: ", a.id)), "{}", a.id);
    }
    for i in &c.instances {
        assert!(t.contains(&format!("{}: ", i.id)), "{}", i.id);
    }
    for needle in [
        "989 TFLOP/s",
        "$55.04/h",
        "$21.96/h",
        "AWS-PRICE, 2026-01-21",
        "not published",
        "900 GB/s bidirectional (450 GB/s each way)",
        "32 GiB",
        "SOURCES",
        &c.hash()[..16],
    ] {
        assert!(t.contains(needle), "missing {needle:?}");
    }
    // The not-published on-demand line of trn2 says so, with where it was looked for.
    assert!(t.lines().any(|l| l.contains("on_demand")
        && l.contains("not published")
        && l.contains("AWS-PRICE, 2026-01-21")));
}

// ---------------------------------------------------------------------------------------------
// Overlays.

const OVERLAY: &str = r#"[sources]
MY-QUOTE = "our account team's quote, e-mail of 2026-10-01"

[[instances]]
id = "p5.48xlarge"
prices.on_demand = { usd_per_hour = 40, source = "MY-QUOTE", as_of = 2026-10-01 }

[[instances]]
id = "p5.4xlarge"
accelerator = "h100-sxm"
chips = 1
region = "us-east-1"
network_bits_per_s = { value = 100e9, source = "MY-QUOTE", as_of = 2026-10-01 }
prices.on_demand = { usd_per_hour = 6.88, source = "MY-QUOTE", as_of = 2026-10-01, note = "hypothetical" }
"#;

#[test]
fn overlay_replaces_one_price_and_adds_an_instance() {
    let mut c = Catalog::bundled();
    let before = c.hash();
    let overlay = costbench::catalog::CatalogOverlay::parse(OVERLAY, "mine.toml").unwrap();
    c.overlay(overlay).unwrap();
    let p5 = c.instance("p5.48xlarge").unwrap();
    assert_eq!(p5.price(Plan::OnDemand), Some(40.0));
    assert_eq!(p5.prices[&Plan::OnDemand].source, "MY-QUOTE");
    // Only the plan given changes.
    assert_eq!(p5.price(Plan::Spot), Some(28.11));
    assert_eq!(p5.price(Plan::CapacityBlock), Some(41.528));
    assert_eq!(p5.chips, 8);
    assert_eq!(p5.network_bits_per_s.value, Some(3200e9));
    let new = c.instance("p5.4xlarge").unwrap();
    assert_eq!(
        (new.chips, new.accelerator.as_deref()),
        (1, Some("h100-sxm"))
    );
    assert_eq!(c.instances.last().unwrap().id, "p5.4xlarge");
    assert_eq!(c.instances.len(), 11);
    assert!(c.sources.contains_key("MY-QUOTE"));
    assert_ne!(c.hash(), before);
    assert_eq!(c.as_of(), date("2026-10-01"));
}

#[test]
fn overlay_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, OVERLAY).unwrap();
    let mut c = Catalog::bundled();
    c.overlay(Catalog::load_overlay(&path).unwrap()).unwrap();
    assert_eq!(
        c.instance("p5.48xlarge").unwrap().price(Plan::OnDemand),
        Some(40.0)
    );

    let missing = Catalog::load_overlay(&dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(missing, CatalogError::Unreadable { .. }));
    assert!(missing.to_string().contains("no such file"), "{missing}");
    let directory = Catalog::load_overlay(dir.path()).unwrap_err();
    assert!(directory.to_string().contains("directory"), "{directory}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, b"[[instances]]\nid = \"\xff\"\n").unwrap();
    let e = Catalog::load_overlay(&bad).unwrap_err().to_string();
    assert!(e.contains("UTF-8") && e.contains(":2:"), "{e}");
}

#[test]
fn overlay_changes_only_the_fields_it_gives_of_an_accelerator() {
    let mut c = Catalog::bundled();
    let text = r#"[[accelerators]]
id = "trainium2"
training_mfu = { value = 0.35, source = "our own Trn2 runs", as_of = 2026-11-01, note = "Llama-style 70B, 256 chips" }
"#;
    c.overlay(costbench::catalog::CatalogOverlay::parse(text, "o.toml").unwrap())
        .unwrap();
    let trn2 = c.accelerator("trainium2").unwrap();
    assert_eq!(trn2.training_mfu.value, Some(0.35));
    assert_eq!(trn2.tflops_bf16.value, Some(667.0));
    assert_eq!(trn2.name, "AWS Trainium2");
    assert_eq!(c.accelerators.len(), 10);
}

/// The error of applying overlay `text` to the bundled catalog (which must stay unchanged).
fn overlay_error(text: &str) -> String {
    let mut c = Catalog::bundled();
    let result =
        costbench::catalog::CatalogOverlay::parse(text, "o.toml").and_then(|o| c.overlay(o));
    let e = result
        .expect_err("the overlay should be refused")
        .to_string();
    assert_eq!(
        c,
        Catalog::bundled(),
        "a refused overlay changed the catalog"
    );
    assert!(!e.contains('\n'), "{e}");
    e
}

#[test]
fn overlay_new_entry_must_give_every_field() {
    let e = overlay_error(
        "[[accelerators]]\nid = \"mi300x\"\nname = \"AMD MI300X\"\nvendor = \"AMD\"\n\
         tflops_bf16 = { value = 1307, source = \"AMD datasheet\", as_of = 2026-01-01 }\n",
    );
    assert!(
        e.starts_with("o.toml:2:6: accelerators[0].tflops_fp8: required field is missing"),
        "{e}"
    );
    assert!(e.contains("mi300x"), "{e}");

    let e = overlay_error("[[instances]]\nid = \"p9.huge\"\nchips = 8\n");
    assert!(
        e.starts_with("o.toml:2:6: instances[0].network_bits_per_s: required"),
        "{e}"
    );
}

#[test]
fn overlay_instance_with_unknown_accelerator() {
    let e = overlay_error(
        "[[instances]]\nid = \"x.large\"\naccelerator = \"h100-sxn\"\nchips = 8\n\
         region = \"us-east-1\"\n\
         network_bits_per_s = { value = 1e9, source = \"AWS-EFA\", as_of = 2026-01-01 }\n",
    );
    assert!(
        e.starts_with("o.toml:3:15: instances[0].accelerator: unknown accelerator `h100-sxn`"),
        "{e}"
    );
    assert!(e.contains("did you mean `h100-sxm`"), "{e}");
}

#[test]
fn overlay_may_not_point_an_instance_at_a_missing_accelerator() {
    let e = overlay_error("[[instances]]\nid = \"p5.48xlarge\"\naccelerator = \"tpu-v5\"\n");
    assert!(
        e.contains("instances[0].accelerator: unknown accelerator `tpu-v5`"),
        "{e}"
    );
}

#[test]
fn overlay_source_short_names_must_be_defined() {
    let e = overlay_error(
        "[[instances]]\nid = \"p5.48xlarge\"\n\
         prices.spot = { usd_per_hour = 20, source = \"AWS-PRCE\", as_of = 2026-10-01 }\n",
    );
    assert!(
        e.starts_with("o.toml:3:45: instances[0].prices.spot.source:"),
        "{e}"
    );
    assert!(e.contains("did you mean `AWS-PRICE`"), "{e}");
    // A full citation needs no definition.
    let mut c = Catalog::bundled();
    let ok = "[[instances]]\nid = \"p5.48xlarge\"\n\
              prices.spot = { usd_per_hour = 20, source = \"spot history, console\", as_of = 2026-10-01 }\n";
    c.overlay(costbench::catalog::CatalogOverlay::parse(ok, "o.toml").unwrap())
        .unwrap();
    assert_eq!(
        c.instance("p5.48xlarge").unwrap().price(Plan::Spot),
        Some(20.0)
    );
}

#[test]
fn overlay_duplicate_ids_are_refused() {
    let e =
        overlay_error("[[instances]]\nid = \"p5.48xlarge\"\n[[instances]]\nid = \"p5.48xlarge\"\n");
    assert!(
        e.starts_with("o.toml:4:6: instances[1].id: duplicate id `p5.48xlarge`"),
        "{e}"
    );
}

#[test]
fn overlay_figures_are_validated_like_the_catalog() {
    let e = overlay_error(
        "[[instances]]\nid = \"p5.48xlarge\"\nprices.on_demand = { usd_per_hour = -3, source = \"x\", as_of = 2026-10-01 }\n",
    );
    assert!(
        e.contains("instances[0].prices.on_demand.usd_per_hour: expected a positive"),
        "{e}"
    );
    let e = overlay_error(
        "[[instances]]\nid = \"p5.48xlarge\"\nprices.on_demand = { usd_per_hour = 30 }\n",
    );
    assert!(
        e.contains("instances[0].prices.on_demand.source: required field is missing"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// --price.

#[test]
fn set_price_replaces_a_price_with_user_provenance() {
    let mut c = Catalog::bundled();
    let before = c.hash();
    c.set_price_as_of("p5.48xlarge:on_demand=40", date("2026-11-01"))
        .unwrap();
    let p = &c.instance("p5.48xlarge").unwrap().prices[&Plan::OnDemand];
    assert_eq!(p.value, Some(40.0));
    assert_eq!(p.source, PRICE_FLAG_SOURCE);
    assert_eq!(p.as_of, date("2026-11-01"));
    assert!(
        p.note.as_deref().unwrap().contains("$55.04"),
        "{:?}",
        p.note
    );
    assert_ne!(c.hash(), before);
    assert_eq!(c.as_of(), date("2026-11-01"));

    // A plan with no published price can be given one; spaces and a '$' are accepted.
    c.set_price_as_of(" trn2.48xlarge : on_demand = $30.5 ", date("2026-11-01"))
        .unwrap();
    assert_eq!(
        c.instance("trn2.48xlarge").unwrap().price(Plan::OnDemand),
        Some(30.5)
    );
}

#[test]
fn set_price_dates_today() {
    let mut c = Catalog::bundled();
    c.set_price("p4d.24xlarge:spot=7.5").unwrap();
    let p = &c.instance("p4d.24xlarge").unwrap().prices[&Plan::Spot];
    assert_eq!(p.value, Some(7.5));
    assert_eq!(p.as_of, chrono::Local::now().date_naive());
}

fn price_error(spec: &str) -> CatalogError {
    let mut c = Catalog::bundled();
    let e = c
        .set_price_as_of(spec, date("2026-11-01"))
        .expect_err("the price should be refused");
    assert_eq!(
        c,
        Catalog::bundled(),
        "a refused --price changed the catalog"
    );
    let s = e.to_string();
    assert!(!s.contains('\n'), "{s}");
    assert!(s.starts_with("--price '"), "{s}");
    e
}

#[test]
fn set_price_refuses_unknown_instances_and_plans() {
    let e = price_error("p5.48xlarg:on_demand=40");
    assert_eq!(e.field(), Some("instance"));
    assert!(e.to_string().contains("did you mean `p5.48xlarge`"), "{e}");
    let e = price_error("p5.48xlarge:ondemand=40");
    assert_eq!(e.field(), Some("plan"));
    let s = e.to_string();
    assert!(
        s.contains("unknown plan `ondemand`") && s.contains("did you mean `on_demand`"),
        "{s}"
    );
    assert!(
        s.contains("on_demand, reserved_1yr, reserved_3yr, capacity_block, spot"),
        "{s}"
    );
}

#[test]
fn set_price_refuses_non_positive_and_non_numbers() {
    for spec in [
        "p5.48xlarge:on_demand=-1",
        "p5.48xlarge:on_demand=0",
        "p5.48xlarge:on_demand=NaN",
        "p5.48xlarge:on_demand=nan",
        "p5.48xlarge:on_demand=inf",
        "p5.48xlarge:on_demand=abc",
        "p5.48xlarge:on_demand=",
        "p5.48xlarge:on_demand=1e400",
    ] {
        let e = price_error(spec);
        assert_eq!(e.field(), Some("usd"), "{spec}");
        assert!(
            e.to_string().contains("expected a positive, finite price"),
            "{e}"
        );
    }
}

#[test]
fn set_price_refuses_malformed_syntax() {
    let e = price_error("p5.48xlarge:on_demand 40");
    assert!(e.to_string().contains("no '='"), "{e}");
    assert!(e.to_string().contains("INSTANCE:PLAN=USD"), "{e}");
    let e = price_error("p5.48xlarge=40");
    assert!(e.to_string().contains("no ':'"), "{e}");
    let e = price_error("abc");
    assert!(e.to_string().contains("INSTANCE:PLAN=USD"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Stale prices.

#[test]
fn stale_prices_flags_prices_older_than_twelve_months() {
    let c = Catalog::bundled();
    let warnings = c.stale_prices(date("2027-02-22"), STALE_PRICE_MONTHS);
    assert!(
        warnings.contains(
            &"p4d.24xlarge on_demand: $21.96/h as of 2026-01-21 is 13 months old; check the \
              current price or override it with --price p4d.24xlarge:on_demand=USD"
                .to_string()
        ),
        "{warnings:#?}"
    );
    // Capacity Block prices of 2026-07-22 are 7 months old then.
    assert!(
        !warnings.iter().any(|w| w.contains("capacity_block")),
        "{warnings:#?}"
    );
    // Absent prices are never stale.
    assert!(
        !warnings
            .iter()
            .any(|w| w.starts_with("trn2.48xlarge on_demand"))
    );
    for w in &warnings {
        assert!(!w.contains('\n'));
    }
}

#[test]
fn stale_prices_counts_whole_months() {
    let c = Catalog::bundled();
    // Spot prices are of 2025-11-30: exactly 12 months on 2026-11-30, older the day after.
    let on = |d: &str| c.stale_prices(date(d), 12);
    assert!(on("2026-11-30").is_empty(), "{:#?}", on("2026-11-30"));
    let next = on("2026-12-01");
    assert!(!next.is_empty());
    assert!(
        next.iter()
            .all(|w| w.contains(" spot: ") && w.contains("12 months old")),
        "{next:#?}"
    );
    assert!(c.stale_prices(date("2026-06-01"), 12).is_empty());
}

#[test]
fn a_fresh_price_is_not_stale() {
    let mut c = Catalog::bundled();
    c.set_price_as_of("p4d.24xlarge:on_demand=20", date("2027-02-01"))
        .unwrap();
    let warnings = c.stale_prices(date("2027-02-22"), 12);
    assert!(
        !warnings
            .iter()
            .any(|w| w.starts_with("p4d.24xlarge on_demand"))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("p5.48xlarge on_demand"))
    );
}

// ---------------------------------------------------------------------------------------------
// Validation: one test per rule, on a small valid catalog with one line changed.

/// A small valid catalog; tests replace single lines of it (line numbers are 1-based).
const MINI: &str = r#"[sources]
SRC = "a test source"

[[accelerators]]
id = "chip"
name = "Test Chip"
vendor = "Test"
tflops_bf16 = { value = 100, source = "SRC", as_of = 2026-01-01 }
tflops_fp8 = { value = 200, source = "SRC", as_of = 2026-01-01 }
tflops_fp32 = { value = 50, source = "SRC", as_of = 2026-01-01 }
hbm_bytes = { value = 80e9, source = "SRC", as_of = 2026-01-01 }
hbm_bytes_per_s = { value = 3e12, source = "SRC", as_of = 2026-01-01 }
link_bytes_per_s = { value = 900e9, source = "SRC", as_of = 2026-01-01 }
link_direction = "bidirectional"
tdp_watts = { source = "SRC", as_of = 2026-01-01, note = "not published" }
gemm_efficiency = { value = 0.8, source = "SRC", as_of = 2026-01-01 }
training_mfu = { value = 0.4, source = "Some Paper 2024", as_of = "2024-07-01" }

[[instances]]
id = "box.8x"
accelerator = "chip"
chips = 8
region = "us-east-1"
network_bits_per_s = { value = 3200e9, source = "SRC", as_of = 2026-01-01 }
prices.on_demand = { usd_per_hour = 10, source = "SRC", as_of = 2026-01-01 }
prices.spot = { source = "SRC", as_of = 2026-01-01, note = "not published" }
"#;

/// Parses `text` expecting an error at `line:col` (when given) about `field`, whose message
/// contains every `needle`.
fn refused(text: &str, at: Option<(usize, usize)>, field: &str, needles: &[&str]) {
    let e = Catalog::parse(text, "mini.toml").expect_err("the catalog should be refused");
    let s = e.to_string();
    assert!(!s.contains('\n'), "not one line: {s}");
    let prefix = match at {
        Some((l, c)) => format!("mini.toml:{l}:{c}: {field}: "),
        None => format!("mini.toml: {field}: "),
    };
    assert!(s.starts_with(&prefix), "expected {prefix:?}…, got {s}");
    assert_eq!(e.field(), Some(field), "{s}");
    for n in needles {
        assert!(s.contains(n), "{s} lacks {n:?}");
    }
}

#[test]
fn mini_catalog_is_valid() {
    let c = Catalog::parse(MINI, "mini.toml").unwrap();
    assert_eq!(c.accelerators.len(), 1);
    assert_eq!(c.instances[0].price(Plan::OnDemand), Some(10.0));
    assert_eq!(c.accelerators[0].training_mfu.as_of, date("2024-07-01"));
    assert_eq!(c.as_of(), date("2026-01-01"));
}

#[test]
fn unknown_key_at_the_top_level() {
    refused(
        &edit(MINI, 1, "[source]"),
        Some((1, 2)),
        "source",
        &["unknown field", "sources"],
    );
}

#[test]
fn unknown_key_in_an_accelerator() {
    refused(
        &edit(MINI, 11, "hbm_gb = 80"),
        Some((11, 1)),
        "accelerators[0].hbm_gb",
        &["unknown field `hbm_gb`", "hbm_bytes"],
    );
}

#[test]
fn unknown_key_in_a_figure() {
    refused(
        &edit(
            MINI,
            12,
            r#"hbm_bytes_per_s = { value = 3, unit = "TB/s", source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((12, 32)),
        "accelerators[0].hbm_bytes_per_s.unit",
        &["unknown field `unit`", "value, source, as_of, note"],
    );
}

#[test]
fn price_written_as_value() {
    refused(
        &edit(
            MINI,
            25,
            r#"prices.on_demand = { value = 10, source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((25, 22)),
        "instances[0].prices.on_demand.value",
        &["unknown field `value`", "usd_per_hour"],
    );
}

#[test]
fn unknown_plan_name() {
    refused(
        &edit(
            MINI,
            26,
            r#"prices.reserved_1y = { usd_per_hour = 5, source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((26, 8)),
        "instances[0].prices.reserved_1y",
        &[
            "unknown price plan `reserved_1y`",
            "did you mean `reserved_1yr`",
            "capacity_block",
        ],
    );
}

#[test]
fn wrong_type_of_number() {
    refused(
        &edit(
            MINI,
            8,
            r#"tflops_bf16 = { value = "100", source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((8, 25)),
        "accelerators[0].tflops_bf16.value",
        &["expected a number", "string"],
    );
}

#[test]
fn wrong_type_of_figure() {
    refused(
        &edit(MINI, 8, "tflops_bf16 = 100"),
        Some((8, 15)),
        "accelerators[0].tflops_bf16",
        &["expected a table"],
    );
}

#[test]
fn fractional_chip_count() {
    refused(
        &edit(MINI, 22, "chips = 8.5"),
        Some((22, 9)),
        "instances[0].chips",
        &["expected a whole number"],
    );
}

#[test]
fn negative_chip_count() {
    refused(
        &edit(MINI, 22, "chips = -8"),
        Some((22, 9)),
        "instances[0].chips",
        &["found -8"],
    );
}

#[test]
fn negative_zero_nan_and_infinite_prices() {
    for bad in ["-10", "0", "0.0", "nan", "-nan", "inf", "+inf", "-inf"] {
        refused(
            &edit(
                MINI,
                25,
                &format!(
                    r#"prices.on_demand = {{ usd_per_hour = {bad}, source = "SRC", as_of = 2026-01-01 }}"#
                ),
            ),
            Some((25, 37)),
            "instances[0].prices.on_demand.usd_per_hour",
            &["expected a positive, finite number of US dollars per instance-hour"],
        );
    }
}

#[test]
fn negative_zero_nan_and_infinite_specs() {
    for bad in ["-100", "0", "nan", "inf"] {
        refused(
            &edit(
                MINI,
                8,
                &format!(
                    r#"tflops_bf16 = {{ value = {bad}, source = "SRC", as_of = 2026-01-01 }}"#
                ),
            ),
            Some((8, 25)),
            "accelerators[0].tflops_bf16.value",
            &["expected a positive, finite number of TFLOP/s"],
        );
    }
    refused(
        &edit(
            MINI,
            11,
            r#"hbm_bytes = { value = -inf, source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((11, 23)),
        "accelerators[0].hbm_bytes.value",
        &["bytes"],
    );
}

#[test]
fn efficiency_above_one() {
    refused(
        &edit(
            MINI,
            17,
            r#"training_mfu = { value = 40, source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((17, 26)),
        "accelerators[0].training_mfu.value",
        &["at most 1", "0.4 for 40%", "found 40"],
    );
}

#[test]
fn price_without_a_source() {
    refused(
        &edit(
            MINI,
            25,
            "prices.on_demand = { usd_per_hour = 10, as_of = 2026-01-01 }",
        ),
        Some((25, 20)),
        "instances[0].prices.on_demand.source",
        &["required field is missing", "source", "as_of"],
    );
}

#[test]
fn price_without_a_date() {
    refused(
        &edit(
            MINI,
            25,
            r#"prices.on_demand = { usd_per_hour = 10, source = "SRC" }"#,
        ),
        Some((25, 20)),
        "instances[0].prices.on_demand.as_of",
        &["required field is missing"],
    );
}

#[test]
fn spec_without_a_source() {
    refused(
        &edit(MINI, 9, "tflops_fp8 = { value = 200, as_of = 2026-01-01 }"),
        Some((9, 14)),
        "accelerators[0].tflops_fp8.source",
        &["required field is missing"],
    );
}

#[test]
fn empty_source() {
    refused(
        &edit(
            MINI,
            9,
            r#"tflops_fp8 = { value = 200, source = " ", as_of = 2026-01-01 }"#,
        ),
        Some((9, 38)),
        "accelerators[0].tflops_fp8.source",
        &["non-empty one-line string"],
    );
}

#[test]
fn missing_value_without_a_note() {
    refused(
        &edit(
            MINI,
            15,
            r#"tdp_watts = { source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((15, 13)),
        "accelerators[0].tdp_watts",
        &["no value and no note", "not published"],
    );
    refused(
        &edit(
            MINI,
            26,
            r#"prices.spot = { source = "SRC", as_of = 2026-01-01 }"#,
        ),
        Some((26, 15)),
        "instances[0].prices.spot",
        &["no usd_per_hour and no note"],
    );
}

#[test]
fn bad_dates() {
    for (bad, col) in [
        (r#""2026-13-01""#, 54),
        (r#""21 Jan 2026""#, 54),
        (r#""2026-1-5""#, 54),
        (r#""2026-02-29""#, 54),
        ("2026-01-01T10:00:00", 54),
        ("20260101", 54),
    ] {
        refused(
            &edit(
                MINI,
                8,
                &format!(r#"tflops_bf16 = {{ value = 100, source = "SRC", as_of = {bad} }}"#),
            ),
            Some((8, col)),
            "accelerators[0].tflops_bf16.as_of",
            &["expected a date YYYY-MM-DD"],
        );
    }
}

#[test]
fn impossible_date_literal() {
    // TOML itself refuses the literal; the key on that line still names the field.
    refused(
        &edit(
            MINI,
            8,
            r#"tflops_bf16 = { value = 100, source = "SRC", as_of = 2026-02-30 }"#,
        ),
        Some((8, 54)),
        "as_of",
        &["invalid TOML", "2026-02-30"],
    );
}

#[test]
fn instance_with_unknown_accelerator() {
    refused(
        &edit(MINI, 21, r#"accelerator = "chip2""#),
        Some((21, 15)),
        "instances[0].accelerator",
        &[
            "unknown accelerator `chip2`",
            "did you mean `chip`",
            "expected one of chip",
        ],
    );
}

#[test]
fn duplicate_accelerator_ids() {
    let second = MINI.lines().skip(3).take(14).collect::<Vec<_>>().join("\n");
    let text = edit(MINI, 18, &format!("\n{second}\n"));
    refused(
        &text,
        Some((20, 6)),
        "accelerators[1].id",
        &["duplicate id `chip`", "accelerators[0]"],
    );
}

#[test]
fn duplicate_instance_ids() {
    let text = format!("{MINI}\n[[instances]]\nid = \"box.8x\"\n");
    refused(
        &text,
        Some((29, 6)),
        "instances[1].id",
        &["duplicate id `box.8x`"],
    );
}

#[test]
fn unknown_link_direction() {
    refused(
        &edit(MINI, 14, r#"link_direction = "both""#),
        Some((14, 18)),
        "accelerators[0].link_direction",
        &[
            "unknown link direction `both`",
            "bidirectional, one_way, unstated",
        ],
    );
}

#[test]
fn bad_id() {
    refused(
        &edit(MINI, 5, r#"id = "H100 SXM""#),
        Some((5, 6)),
        "accelerators[0].id",
        &["lowercase letters"],
    );
}

#[test]
fn missing_field_of_a_new_entry() {
    refused(
        &edit(MINI, 13, ""),
        Some((5, 6)),
        "accelerators[0].link_bytes_per_s",
        &["required field is missing", "`chip`"],
    );
    refused(
        &edit(MINI, 23, ""),
        Some((20, 6)),
        "instances[0].region",
        &["required field is missing"],
    );
}

#[test]
fn accelerated_instance_without_chips() {
    refused(
        &edit(MINI, 22, "chips = 0"),
        Some((20, 6)),
        "instances[0].chips",
        &["0 chips", "at least 1"],
    );
}

#[test]
fn cpu_instance_needs_vcpus_and_no_chips() {
    refused(
        &edit(MINI, 21, "vcpus = 192"),
        Some((20, 6)),
        "instances[0].chips",
        &["8 chips but no accelerator"],
    );
    let cpu = edit(&edit(MINI, 22, ""), 21, "");
    refused(&cpu, Some((20, 6)), "instances[0].accelerator", &["vcpus"]);
    let ok = edit(&edit(MINI, 22, "vcpus = 192"), 21, "");
    let c = Catalog::parse(&ok, "mini.toml").unwrap();
    assert_eq!((c.instances[0].chips, c.instances[0].vcpus), (0, Some(192)));
}

#[test]
fn undefined_short_source_name() {
    refused(
        &edit(
            MINI,
            10,
            r#"tflops_fp32 = { value = 50, source = "SCR", as_of = 2026-01-01 }"#,
        ),
        Some((10, 38)),
        "accelerators[0].tflops_fp32.source",
        &["`SCR`", "not defined under [sources]", "did you mean `SRC`"],
    );
}

#[test]
fn source_key_must_be_a_short_name() {
    refused(
        &edit(MINI, 2, r#"src = "a test source""#),
        Some((2, 1)),
        "sources.src",
        &["not a short source name"],
    );
}

#[test]
fn array_where_entries_belong() {
    refused(
        &edit(MINI, 4, "[accelerators]"),
        Some((4, 1)),
        "accelerators",
        &["[[accelerators]]"],
    );
}

#[test]
fn syntax_error() {
    let e = Catalog::parse("[[instances]\nid = 1\n", "mini.toml").unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with("mini.toml:1:") && s.contains("invalid TOML"),
        "{s}"
    );
}

#[test]
fn empty_file() {
    let e = Catalog::parse("# nothing\n", "mini.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mini.toml: the file is empty"), "{e}");
    let e = Catalog::parse("[sources]\nXY = \"y\"\n", "mini.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mini.toml: the catalog is empty"), "{e}");
}

#[test]
fn full_catalog_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, edit(MINI, 22, "chips = x")).unwrap();
    let e = Catalog::load(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:22:9: chips: invalid TOML", path.display())),
        "{e}"
    );
    std::fs::write(&path, MINI).unwrap();
    assert_eq!(
        Catalog::load(&path).unwrap(),
        Catalog::parse(MINI, "x").unwrap()
    );
    assert!(Catalog::load(Path::new("/nonexistent/catalog.toml")).is_err());
}
