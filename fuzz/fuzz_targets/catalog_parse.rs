//! Catalog overlays (`costbench catalog --catalog FILE`): arbitrary text never panics, and any
//! error is one line naming the file. An overlay that parses is applied to the bundled catalog
//! (the overlay step has its own checks), and the text is also read as a complete catalog.
#![no_main]

use costbench::catalog::{Catalog, CatalogOverlay};
use libfuzzer_sys::fuzz_target;

/// A fixed "today", so staleness does not depend on the day the fuzzer runs.
fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("a valid date")
}

/// What `costbench catalog` computes and shows of a catalog: its hash (the canonical JSON), its
/// as-of date, the table and the stale-price warnings.
fn show(catalog: &Catalog) {
    let _ = (catalog.hash(), catalog.as_of(), costbench::render::catalog::table(&catalog));
    let _ = catalog.stale_prices(today(), costbench::catalog::STALE_PRICE_MONTHS);
}

fn check_error(e: &costbench::catalog::CatalogError) {
    let shown = e.to_string();
    assert!(!shown.contains('\n'), "error not on one line: {shown:?}");
    assert!(
        shown.starts_with("fuzz.toml"),
        "error without its file: {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // What `Catalog::load_overlay` does after reading the file, then `Catalog::overlay`.
    match CatalogOverlay::parse(text, "fuzz.toml") {
        Err(e) => check_error(&e),
        Ok(overlay) => {
            let mut catalog = Catalog::bundled();
            match catalog.overlay(overlay) {
                Err(e) => check_error(&e),
                Ok(()) => show(&catalog),
            }
        }
    }
    // The same text as a complete catalog (`Catalog::load`).
    match Catalog::parse(text, "fuzz.toml") {
        Err(e) => check_error(&e),
        Ok(catalog) => show(&catalog),
    }
});
