//! Unit tests of the catalog's internals (the public behaviour is tested in `tests/catalog.rs`).

use super::parse::{CatalogOverlay, is_short_name};
use super::*;
use crate::diag::toml_diag::{InvalidFile, key_before};

fn date(s: &str) -> NaiveDate {
    parse_iso_date(s).unwrap()
}

#[test]
fn the_bundled_text_is_the_file() {
    assert!(BUNDLED_TOML.contains("[[accelerators]]"));
    assert_eq!(
        Catalog::parse(BUNDLED_TOML, BUNDLED_ORIGIN).unwrap(),
        Catalog::bundled()
    );
}

#[test]
fn iso_dates_are_strict() {
    assert_eq!(
        parse_iso_date("2026-01-05"),
        NaiveDate::from_ymd_opt(2026, 1, 5)
    );
    assert_eq!(
        parse_iso_date("2024-02-29"),
        NaiveDate::from_ymd_opt(2024, 2, 29)
    );
    for bad in [
        "2026-1-5",
        "2026-02-29",
        "2026-13-01",
        "26-01-05",
        "2026/01/05",
        "2026-01-05T00:00",
        "",
        "２０２６-01-05",
    ] {
        assert_eq!(parse_iso_date(bad), None, "{bad}");
    }
}

#[test]
fn whole_months_counts_calendar_months() {
    assert_eq!(whole_months(date("2026-01-21"), date("2027-02-22")), 13);
    assert_eq!(whole_months(date("2026-01-21"), date("2027-01-21")), 12);
    assert_eq!(whole_months(date("2026-01-21"), date("2027-01-20")), 11);
    // chrono clamps Jan 31 + 1 month to Feb 28.
    assert_eq!(whole_months(date("2026-01-31"), date("2026-02-28")), 1);
    assert_eq!(whole_months(date("2026-05-01"), date("2026-05-01")), 0);
    assert_eq!(whole_months(date("2026-05-01"), date("2025-05-01")), 0);
}

#[test]
fn plan_names_round_trip() {
    for p in Plan::ALL {
        assert_eq!(p.as_str().parse::<Plan>(), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            format!("\"{}\"", p.as_str())
        );
    }
    let e = "Spot".parse::<Plan>().unwrap_err();
    assert!(e.contains("did you mean `spot`"), "{e}");
    let e = "reserved".parse::<Plan>().unwrap_err();
    assert!(e.contains("expected one of on_demand"), "{e}");
}

#[test]
fn link_directions_round_trip() {
    for d in LinkDirection::ALL {
        assert_eq!(d.as_str().parse::<LinkDirection>(), Ok(d));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            format!("\"{}\"", d.as_str())
        );
    }
    assert!("bidir".parse::<LinkDirection>().is_err());
}

fn with_link(bytes_per_s: Option<f64>, direction: LinkDirection) -> Accelerator {
    let mut a = Catalog::bundled().accelerator("h100-sxm").unwrap().clone();
    a.link_bytes_per_s.value = bytes_per_s;
    a.link_direction = direction;
    a
}

#[test]
fn one_way_link_bandwidth_by_direction() {
    assert_eq!(
        with_link(Some(900e9), LinkDirection::Bidirectional).link_bytes_per_s_one_way(),
        Some(450e9)
    );
    assert_eq!(
        with_link(Some(450e9), LinkDirection::OneWay).link_bytes_per_s_one_way(),
        Some(450e9)
    );
    assert_eq!(
        with_link(Some(1280e9), LinkDirection::Unstated).link_bytes_per_s_one_way(),
        Some(1280e9)
    );
    assert_eq!(
        with_link(None, LinkDirection::Bidirectional).link_bytes_per_s_one_way(),
        None
    );
}

#[test]
fn hash_ignores_entry_order_but_not_figures() {
    let c = Catalog::bundled();
    let mut reordered = c.clone();
    reordered.accelerators.reverse();
    reordered.instances.reverse();
    assert_eq!(reordered.hash(), c.hash());
    let mut changed = c.clone();
    changed.accelerators[0].tflops_bf16.value = Some(191.0);
    assert_ne!(changed.hash(), c.hash());
    let mut renoted = c.clone();
    renoted.instances[0]
        .prices
        .get_mut(&Plan::Spot)
        .unwrap()
        .note = None;
    assert_ne!(renoted.hash(), c.hash());
}

#[test]
fn empty_catalog_has_the_earliest_date() {
    assert_eq!(Catalog::default().as_of(), NaiveDate::MIN);
    assert!(
        Catalog::default()
            .stale_prices(date("2030-01-01"), 12)
            .is_empty()
    );
}

#[test]
fn short_source_names() {
    for ok in ["NEURON", "AWS-PRICE", "MAMF", "A1", "AWS-CB2"] {
        assert!(is_short_name(ok), "{ok}");
    }
    for no in [
        "X",
        "Aws",
        "AWS-",
        "-AWS",
        "AWS PRICE",
        "Llama 3 paper",
        "user (--price)",
        "1ABC",
    ] {
        assert!(!is_short_name(no), "{no}");
    }
}

#[test]
fn syntax_errors_name_the_key_on_their_line() {
    let text = "a = 1\nx = { as_of = 2026-02-30 }\n";
    let at = text.find("2026-02-30").unwrap();
    assert_eq!(key_before(text, at).as_deref(), Some("as_of"));
    assert_eq!(
        key_before("prices.spot = ", 14).as_deref(),
        Some("prices.spot")
    );
    assert_eq!(key_before("[[instances]\n", 12), None);
    assert_eq!(key_before("= 3", 2), None);
}

#[test]
fn errors_display_on_one_line() {
    let e = CatalogError::Invalid(InvalidFile {
        origin: "c.toml".into(),
        position: Some(Position { line: 3, column: 7 }),
        field: Some("instances[0].region".into()),
        message: "expected a region".into(),
    });
    assert_eq!(
        e.to_string(),
        "c.toml:3:7: instances[0].region: expected a region"
    );
    assert_eq!(e.field(), Some("instances[0].region"));
    assert_eq!(e.position(), Some(Position { line: 3, column: 7 }));
    let e = CatalogError::Price {
        spec: "x".into(),
        field: None,
        message: "m".into(),
    };
    assert_eq!(e.to_string(), "--price 'x': m");
    // Control characters in what the user wrote cannot break the line.
    let mut c = Catalog::bundled();
    let e = c
        .set_price_as_of("p5.48x\nlarge:on_demand=1", date("2026-01-01"))
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n'), "{e}");
    let e = Catalog::parse("[[instances]]\nid = \"a\nb\"\n", "c\n.toml")
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn overlay_parse_keeps_partial_entries() {
    let o = CatalogOverlay::parse(
        "[[instances]]\nid = \"p5.48xlarge\"\nregion = \"us-west-2\"\n",
        "o.toml",
    )
    .unwrap();
    assert!(!o.is_empty());
    assert_eq!(o.origin(), "o.toml");
    let mut c = Catalog::bundled();
    c.overlay(o).unwrap();
    let p5 = c.instance("p5.48xlarge").unwrap();
    assert_eq!(p5.region, "us-west-2");
    assert_eq!(p5.price(Plan::OnDemand), Some(55.04));
}

#[test]
fn large_integers_and_underscores_are_numbers() {
    let text = BUNDLED_TOML.replace("value = 34_359_738_368", "value = 34359738368");
    let c = Catalog::parse(&text, "t").unwrap();
    assert_eq!(c, Catalog::bundled());
}

#[test]
fn every_bundled_source_short_name_is_used() {
    let c = Catalog::bundled();
    let figures = c.figures();
    for name in c.sources.keys() {
        let in_notes = name == "AWS-CUT"
            && figures
                .iter()
                .any(|(_, f)| f.note.as_deref().unwrap_or("").contains(name.as_str()));
        assert!(
            in_notes || figures.iter().any(|(_, f)| f.source == *name),
            "[sources] {name} is never cited"
        );
    }
}

/// Found by fuzzing (`catalog_parse`): an overlay whose figure cites an undefined short source
/// name, with a long name defined under `[sources]`, spent minutes in the quadratic edit
/// distance of the "did you mean" hint (two 20,000-character names: 48 s in the fuzz build;
/// 300,000: over 5 minutes). It is refused at once now, with or without a hint.
#[test]
fn fuzz_long_source_names() {
    let n = 100_000;
    let overlay = |defined: &str, cited: &str| {
        format!(
            "[sources]\n{defined} = \"x\"\n\n[[instances]]\nid = \"trn1.32xlarge\"\n\
             network_bits_per_s = {{ value = 1, source = \"{cited}\", as_of = 2026-01-01 }}\n"
        )
    };
    let apply = |text: &str| {
        let start = std::time::Instant::now();
        let o = CatalogOverlay::parse(text, "o.toml").expect("the overlay parses");
        let e = Catalog::bundled().overlay(o).unwrap_err().to_string();
        assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
        assert!(!e.contains('\n'), "{e}");
        e
    };
    let long = |c: &str| format!("A{}", c.repeat(n));
    let e = apply(&overlay(&long("C"), &long("D")));
    assert!(
        e.starts_with("o.toml:6:44: instances[0].network_bits_per_s.source: `AD"),
        "{}",
        &e[..100]
    );
    assert!(e.contains("is not defined under [sources]; expected one of"));
    // A near miss of a long name still gets its hint.
    let e = apply(&overlay(&long("C"), &format!("{}X", long("C"))));
    assert!(e.contains("[sources] (did you mean `ACCC"), "{}", &e[..100]);
}
