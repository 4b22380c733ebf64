//! "Did you mean" suggestions: the allowed name closest to what was written, by edit distance
//! (`strsim`'s Levenshtein).
//!
//! Names come from user files without a length limit (a catalog's `source` or `[sources]` key),
//! and a full edit-distance table of two 300 KB names takes minutes. So the common beginning and
//! end of the two names are set aside first (they do not change the distance), and only what
//! differs is compared, when it is at most [`MAX_COMPARED`] characters long: a near miss of a
//! long name still gets its hint, and two long names that differ throughout get none, at once.

/// Longest differing middle part (in characters) that is compared.
pub const MAX_COMPARED: usize = 64;

/// Largest edit distance that is suggested.
const MAX_DISTANCE: usize = 2;

/// The allowed name closest to `name` within two edits (and not equal to it), for "did you
/// mean"; the first of equally close ones.
pub(crate) fn closest<'s, S: AsRef<str>>(name: &str, allowed: &'s [S]) -> Option<&'s str> {
    allowed
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|a| distance_within(name, a).map(|d| (d, a)))
        .filter(|(d, a)| *d > 0 && *d < a.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// The edit distance between `a` and `b` when it is at most [`MAX_DISTANCE`] and what differs
/// between them is short enough to compare, else `None`.
fn distance_within(a: &str, b: &str) -> Option<usize> {
    if a.len().abs_diff(b.len()) > MAX_DISTANCE * 4 {
        // Each edit changes the length by at most one character of at most four bytes.
        return None;
    }
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix: usize = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    // A common end cannot overlap the common beginning: that is set aside already.
    let suffix = suffix.min(a.len()).min(b.len());
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let short = |s: &str| s.chars().nth(MAX_COMPARED).is_none();
    if !short(a) || !short(b) {
        return None;
    }
    Some(strsim::levenshtein(a, b)).filter(|d| *d <= MAX_DISTANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Where it answers, the distance is `strsim`'s over the whole names.
        #[test]
        fn setting_aside_common_ends_keeps_the_distance(a in "[abé]{0,12}", b in "[abé]{0,12}") {
            let full = strsim::levenshtein(&a, &b);
            let d = distance_within(&a, &b);
            proptest::prop_assert_eq!(d, (full <= MAX_DISTANCE).then_some(full));
        }
    }

    #[test]
    fn closest_suggests_within_two_edits() {
        let allowed = ["layers".to_string(), "d_model".to_string()];
        assert_eq!(closest("layer", &allowed), Some("layers"));
        assert_eq!(closest("d_mdoel", &allowed), Some("d_model"));
        assert_eq!(closest("vocab", &allowed), None);
        assert_eq!(closest("layers", &allowed), None);
        assert_eq!(closest("layer", &["layers", "player"]), Some("layers"));
    }

    #[test]
    fn long_names_are_compared_by_what_differs() {
        let n = 100_000;
        let long = format!("A{}", "C".repeat(n));
        let start = std::time::Instant::now();
        assert_eq!(
            closest(&format!("{long}X"), std::slice::from_ref(&long)),
            Some(long.as_str())
        );
        let other = format!("A{}", "D".repeat(n));
        assert_eq!(closest(&other, std::slice::from_ref(&long)), None);
        assert!(start.elapsed().as_secs() < 2, "took {:?}", start.elapsed());
    }
}
