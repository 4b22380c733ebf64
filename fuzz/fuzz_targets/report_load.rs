//! Report files (`costbench::report::store::load`): arbitrary text never panics, and any error
//! names the file on one line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = costbench::report::store::parse(text, "fuzz.json") {
        let shown = e.to_string();
        assert!(!shown.contains('\n'), "error not on one line: {shown:?}");
        assert!(
            shown.contains("fuzz.json"),
            "error without its file: {shown:?}"
        );
    }
});
