//! Reproducible randomness for the bootstrap and the change-point permutations: ChaCha8 keyed
//! by the caller's seed, and uniform indices drawn from it by Lemire's multiply-and-reject
//! method (D. Lemire, "Fast random integer generation in an interval", *ACM TOMACS* 29(1),
//! 2019), implemented here rather than borrowed from `rand::Rng::random_range`, whose algorithm
//! may change between rand versions. ChaCha8's output is specified by its algorithm, so a seed
//! gives the same draws on every platform.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ChaCha8 keyed by `seed` (little-endian in the first 8 key bytes, the rest zero), on `stream`.
/// Spelled out rather than `seed_from_u64` so the key schedule is fixed by this file alone.
pub(crate) fn generator(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// A uniform index in `0..n` (`n ≥ 1`), unbiased, by Lemire's multiply-and-reject. Samples
/// that fit in `u32` (all real ones) take 32-bit draws, which halves the generator's share of a
/// bootstrap; the choice depends only on `n`, so 32- and 64-bit platforms draw the same indices.
pub(crate) fn index_below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    match u32::try_from(n) {
        Ok(n) => {
            let mut m = u64::from(rng.next_u32()) * u64::from(n);
            if (m as u32) < n {
                let threshold = n.wrapping_neg() % n;
                while (m as u32) < threshold {
                    m = u64::from(rng.next_u32()) * u64::from(n);
                }
            }
            (m >> 32) as usize
        }
        Err(_) => {
            let n = n as u64;
            let mut m = u128::from(rng.next_u64()) * u128::from(n);
            if (m as u64) < n {
                let threshold = n.wrapping_neg() % n;
                while (m as u64) < threshold {
                    m = u128::from(rng.next_u64()) * u128::from(n);
                }
            }
            (m >> 64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_draws_are_uniform_and_in_range() {
        let mut rng = generator(9, 0);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[index_below(&mut rng, 7)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(index_below(&mut rng, 1), 0);
    }
}
