//! Probe cache files (`costbench::measure::probe::parse_cache_file`, what the cache reader calls
//! on a file's bytes): arbitrary bytes never panic; a refusal is one non-empty line; what is
//! accepted is for the fingerprint and thread count asked, has the plan's sample counts and
//! plausible rates, and survives a write and a read back unchanged.
#![no_main]

use costbench::measure::probe::{CACHE_MAX_BYTES, parse_cache_file};
use libfuzzer_sys::fuzz_target;

const FINGERPRINT: &str = "0123456789abcdef";
const THREADS: usize = 2;

fuzz_target!(|data: &[u8]| {
    for quick in [false, true] {
        match parse_cache_file(data, FINGERPRINT, THREADS, quick) {
            Ok(r) => {
                assert!(data.len() as u64 <= CACHE_MAX_BYTES);
                assert_eq!(r.fingerprint, FINGERPRINT);
                assert_eq!(r.threads, THREADS);
                for rate in [
                    &r.f32_gflops_one_thread,
                    &r.f32_gflops_all_threads,
                    &r.f64_gflops_one_thread,
                    &r.f64_gflops_all_threads,
                    &r.triad_gbps_one_thread,
                    &r.triad_gbps_all_threads,
                ] {
                    assert!(rate.median.is_finite() && rate.median > 0.0, "{rate:?}");
                    assert!(!rate.samples.is_empty());
                }
                let fraction = r.fraction_of_roofline(1.0, 1.0);
                assert!(fraction.is_finite() && fraction > 0.0, "{fraction}");
                // What the cache writes (pretty JSON) reads back as the same roofline.
                let json = serde_json::to_vec_pretty(&r).expect("a roofline serialises");
                let back = parse_cache_file(&json, FINGERPRINT, THREADS, quick)
                    .expect("an accepted roofline, written again, is accepted");
                assert_eq!(back, r);
            }
            Err(reason) => {
                assert!(!reason.is_empty());
                assert!(
                    !reason.contains('\n'),
                    "reason on several lines: {reason:?}"
                );
            }
        }
    }
});
