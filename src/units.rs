//! Every number costbench shows to a person, formatted in one place: SI prefixes, dollars,
//! durations, percentages, fractions, bytes and rates. The terminal text, the exports, the HTML
//! page, the SVG charts and the catalog's own messages all call these functions, so one figure
//! reads the same wherever it appears. (Machine-readable outputs — JSON, CSV, BMF — keep their
//! figures unrounded and do not come here.)
//!
//! The rules:
//! - **Missing.** A figure that is absent, not finite or not published is [`MISSING`], `—`,
//!   everywhere (never `n/a`, `n/p` or `-`): every function here returns it for a non-finite
//!   input.
//! - **Dollars** ([`usd`]), one rule: from $1,000 four significant digits and an SI prefix
//!   (`$1.235M`, `$45.60k`, `$2.000G`); from $1 to $1,000 to the cent (`$55.04`, `$5.00`); below
//!   $1 three significant digits (`$0.500`, `$0.0258`, `$0.0446`), with an exponent below
//!   $0.0001 (`$2.60e-5`); zero is `$0.00`. The minus sign goes
//!   before the dollar sign. Axis ticks ([`usd_axis`]) use the same prefixes with the digits the
//!   axis step needs and no trailing zeros (`$1M`, `$2.5k`).
//! - **Counts** ([`si`]): an SI prefix (k, M, G, T, P, E, Z, Y) and three decimals (`124.357M`).
//! - **Durations** ([`seconds`]): four significant digits in s, ms, µs or ns (`2.304 ms`,
//!   `896.9 µs`); wall-clock spans ([`days`]) in days with one decimal, hours below a day.
//! - **Percentages**: a fraction as a percentage with one decimal ([`percent`], `16.9%`; `<0.1%`
//!   for a positive figure that would show as zero), a signed change with two ([`change`],
//!   `+10.00%`), or as many as asked ([`percent_to`]).
//! - **Bytes** ([`bytes`], [`bandwidth`], [`bit_rate`]) in the decimal or binary unit they were
//!   published in; **FLOP/s** ([`gflops`], [`tflops`]).

/// What every renderer shows for a missing, non-finite or unpublished figure.
pub const MISSING: &str = "—";

/// SI prefixes from 10^3 up.
const PREFIXES: [(f64, &str); 8] = [
    (1e3, "k"),
    (1e6, "M"),
    (1e9, "G"),
    (1e12, "T"),
    (1e15, "P"),
    (1e18, "E"),
    (1e21, "Z"),
    (1e24, "Y"),
];

/// `x` scaled to the largest SI prefix not above `|x|` (`(1.5, "k")` for 1500).
fn prefixed(x: f64) -> (f64, &'static str) {
    PREFIXES
        .iter()
        .rev()
        .find(|(unit, _)| x.abs() >= *unit)
        .map_or((x, ""), |&(unit, p)| (x / unit, p))
}

/// `x` with an SI prefix (k, M, G, T, P, E, Z, Y) and three decimals: `124.357M`, `0.026`.
pub fn si(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let mut i = PREFIXES.iter().rposition(|(unit, _)| x.abs() >= *unit);
    let scale = |i: Option<usize>| i.map_or(1.0, |i| PREFIXES[i].0);
    // The prefix of the rounded figure: 999,999.9 is `1.000M`, not `1000.000k`.
    let next = i.map_or(0, |i| i + 1);
    if (x / scale(i) * 1e3).round().abs() >= 1e6 && next < PREFIXES.len() {
        i = Some(next);
    }
    format!("{:.3}{}", x / scale(i), i.map_or("", |i| PREFIXES[i].1))
}

/// `v` rounded to `digits` significant digits.
fn round_sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    let r = (v * scale).round() / scale;
    if r.is_finite() { r } else { v }
}

/// `v` with `digits` significant digits and no exponent (at most 12 decimals); trailing zeros
/// dropped when `trim`: `sig(27.388, 3, false)` is `27.4`, `sig(2.50, 3, true)` is `2.5`.
fn sig(v: f64, digits: i32, trim: bool) -> String {
    if !v.is_finite() {
        return MISSING.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let r = round_sig(v, digits);
    let decimals = (digits - 1 - r.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{r:.decimals$}");
    if trim { trim_zeros(&s) } else { s }
}

/// `s` (a decimal number) without trailing zeros after the point, or the point itself.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `x` in `digits` significant digits with an SI prefix from 1,000 up, chosen after rounding
/// (999,960 at four digits is `1.000M`).
fn sig_prefixed(x: f64, digits: i32, trim: bool) -> String {
    let r = round_sig(x, digits);
    let (scaled, p) = prefixed(r);
    if scaled.abs() >= 1e3 {
        // Beyond the largest prefix: an exponent.
        let precision = (digits - 1).max(0) as usize;
        return format!("{r:.precision$e}");
    }
    format!("{}{p}", sig(scaled, digits, trim))
}

/// Dollars by costbench's one rule (see the module documentation): `$1.235M`, `$55.04`,
/// `$0.0258`, `$2.60e-5`, `-$2.500k`; [`MISSING`] when not finite.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    let body = if (a * 100.0).round() / 100.0 >= 1e3 {
        sig_prefixed(a, 4, false)
    } else if a == 0.0 || a >= 1.0 || round_sig(a, 3) >= 1.0 {
        format!("{a:.2}")
    } else if round_sig(a, 3) >= 1e-4 {
        sig(a, 3, false)
    } else {
        format!("{a:.2e}")
    };
    format!("{sign}${body}")
}

/// A dollar tick label on a chart axis: [`usd`]'s prefixes with `digits` significant digits
/// (what the axis step needs) and no trailing zeros: `$1M`, `$2.5k`, `$0`.
pub fn usd_axis(x: f64, digits: i32) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    if x == 0.0 {
        return "$0".to_string();
    }
    format!("{sign}${}", sig_prefixed(x.abs(), digits, true))
}

/// A plain tick label on a chart axis: `digits` significant digits, no trailing zeros, and an
/// exponent outside 0.001 to 10^6: `0.01`, `1000`, `2.5`, `1e7`.
pub fn axis(v: f64, digits: i32) -> String {
    let a = v.abs();
    if !v.is_finite() {
        MISSING.to_string()
    } else if v == 0.0 {
        "0".to_string()
    } else if (1e-3..1e6).contains(&a) {
        sig(v, digits, true)
    } else {
        let s = format!("{v:e}");
        // "1.5e7" stays; "1.2345678e7" is cut to three digits.
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{e}", sig(m.parse().unwrap_or(v), 3, true))
    }
}

/// A duration given in seconds, four significant digits in s, ms, µs or ns: `1.235 s`,
/// `2.304 ms`, `896.9 µs`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return MISSING.to_string();
    }
    let r = round_sig(s, 4).abs();
    let (v, unit) = if r >= 1.0 || s == 0.0 {
        (s, "s")
    } else if r >= 1e-3 {
        (s * 1e3, "ms")
    } else if r >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    format!("{} {unit}", sig(v, 4, false))
}

/// A wall-clock span given in days: `12.3 d` from two days up, hours below (`30.5 h`,
/// `5.25 h`): a run of a day and a half reads better as 36 hours than as 1.5 days.
pub fn days(d: f64) -> String {
    if !d.is_finite() {
        MISSING.to_string()
    } else if d.abs() < 2.0 {
        let h = d * 24.0;
        if h.abs() >= 10.0 {
            format!("{h:.1} h")
        } else {
            format!("{h:.2} h")
        }
    } else {
        format!("{d:.1} d")
    }
}

/// A wall-clock span given in hours, as [`days`] writes it.
pub fn wall_clock(hours: f64) -> String {
    days(hours / 24.0)
}

/// A FLOP count with an SI prefix and three significant digits: `92.2 ZFLOP`, `8.57 EFLOP`.
pub fn flop(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let (scaled, p) = prefixed(round_sig(x, 3));
    format!("{} {p}FLOP", sig(scaled, 3, false))
}

/// A median cost with its interval, the bounds written in the median's prefix when they share
/// it: `$308.3k (257.6–445.8k)`; otherwise each in full: `$950.0 ($812.3–$1.203k)`. Each figure
/// follows [`usd`]'s rule.
pub fn usd_interval(median: f64, low: f64, high: f64) -> String {
    let (m, l, h) = (usd(median), usd(low), usd(high));
    let suffix = |s: &str| s.chars().last().filter(|c| c.is_alphabetic());
    match (suffix(&m), suffix(&l), suffix(&h)) {
        (Some(a), Some(b), Some(c)) if a == b && b == c && !m.contains('e') => {
            let bare = |s: &str| s.trim_start_matches('$').trim_end_matches(a).to_string();
            format!("{m} ({}–{}{a})", bare(&l), bare(&h))
        }
        _ => format!("{m} ({l}–{h})"),
    }
}

/// A median wall-clock span with its interval, all in the median's unit (hours under two
/// days): `29.4 d (25.0–38.3)`, `30.5 h (26.1–41.0)`.
pub fn wall_clock_interval(median_h: f64, low_h: f64, high_h: f64) -> String {
    if !(median_h.is_finite() && low_h.is_finite() && high_h.is_finite()) {
        return MISSING.to_string();
    }
    let (k, unit) = if median_h < 48.0 {
        (1.0, "h")
    } else {
        (24.0, "d")
    };
    format!(
        "{:.1} {unit} ({:.1}–{:.1})",
        median_h / k,
        low_h / k,
        high_h / k
    )
}

/// A span in words for a sentence, given in hours: `30 days`, `1 day`, `36 h`, `7.5 h`.
pub fn span_words(hours: f64) -> String {
    let trim = |x: f64| {
        let s = format!("{x:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if !hours.is_finite() {
        MISSING.to_string()
    } else if hours == 24.0 {
        "1 day".to_string()
    } else if hours < 48.0 {
        format!("{} h", trim(hours))
    } else {
        format!("{} days", trim(hours / 24.0))
    }
}

/// Hours with an SI prefix: `1.234M h`.
pub fn hours(h: f64) -> String {
    if !h.is_finite() {
        return MISSING.to_string();
    }
    format!("{} h", si(h))
}

/// A fraction as a percentage with one decimal: `16.9%`; `<0.1%` for a positive fraction that
/// would round to zero.
pub fn percent(f: f64) -> String {
    if f > 0.0 && f < 0.0005 {
        return "<0.1%".to_string();
    }
    percent_to(f, 1)
}

/// A fraction as a percentage with `decimals` decimals: `percent_to(0.0283, 2)` is `2.83%`.
pub fn percent_to(f: f64, decimals: usize) -> String {
    if !f.is_finite() {
        return MISSING.to_string();
    }
    format!("{:.decimals$}%", f * 100.0)
}

/// A relative change (a fraction), signed, two decimals: `+10.00%`, `-9.09%`.
pub fn change(f: f64) -> String {
    if !f.is_finite() {
        return MISSING.to_string();
    }
    format!("{:+.2}%", f * 100.0)
}

/// An interval's relative half-width (a fraction): `±2.83%`.
pub fn plus_minus(f: f64) -> String {
    if !f.is_finite() {
        return MISSING.to_string();
    }
    format!("±{}", percent_to(f, 2))
}

/// A p-value: three decimals, `<0.001` below that, [`MISSING`] when there is none.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p.is_finite() && p < 0.001 => "<0.001".to_string(),
        Some(p) => decimal(p, 3),
        None => MISSING.to_string(),
    }
}

/// A fraction as recorded (an efficiency, an MFU): two decimals, more when it has more: `0.40`,
/// `0.82`, `0.355`.
pub fn fraction(f: f64) -> String {
    if !f.is_finite() {
        return MISSING.to_string();
    }
    let two = format!("{f:.2}");
    if two.parse::<f64>() == Ok(f) {
        two
    } else {
        f.to_string()
    }
}

/// `x` with `places` decimals: `decimal(11.04213, 4)` is `11.0421`.
pub fn decimal(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    format!("{x:.places$}")
}

/// `x` as briefly as it reads back exactly (`2`, `2.5`, `0.05`), for echoing a setting.
pub fn plain(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    format!("{x}")
}

/// `x` with thousands separators and every decimal it has: `1,979`, `47.5`, `0.82`.
pub fn grouped(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let s = format!("{x}");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `x` rounded to `places` decimals, with separators and no trailing zeros: `2.9`, `1,800`.
fn grouped_to(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let s = format!("{x:.places$}");
    grouped(s.parse().unwrap_or(x))
}

const GIB: f64 = (1u64 << 30) as f64;

/// A capacity in the unit it was published in: whole GiB as `32 GiB`, otherwise GB with at most
/// one decimal (`80 GB`, `141 GB`).
pub fn bytes(b: f64) -> String {
    if !b.is_finite() {
        MISSING.to_string()
    } else if b % GIB == 0.0 {
        format!("{} GiB", grouped(b / GIB))
    } else {
        format!("{} GB", grouped_to(b / 1e9, 1))
    }
}

/// Bytes per second: TB/s from 1 TB/s (up to three decimals), GB/s below (up to one):
/// `3.35 TB/s`, `900 GB/s`, `24.3 GB/s`.
pub fn bandwidth(bytes_per_s: f64) -> String {
    if !bytes_per_s.is_finite() {
        MISSING.to_string()
    } else if bytes_per_s.abs() >= 1e12 {
        format!("{} TB/s", grouped_to(bytes_per_s / 1e12, 3))
    } else {
        format!("{} GB/s", grouped_to(bytes_per_s / 1e9, 1))
    }
}

/// Bits per second of a network, in Gbps with at most one decimal: `3,200 Gbps`.
pub fn bit_rate(bits_per_s: f64) -> String {
    if !bits_per_s.is_finite() {
        return MISSING.to_string();
    }
    format!("{} Gbps", grouped_to(bits_per_s / 1e9, 1))
}

/// A measured rate in GFLOP/s, one decimal: `40.3 GFLOP/s`.
pub fn gflops(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    format!("{x:.1} GFLOP/s")
}

/// A published peak in TFLOP/s, with the digits it was published with: `1,979 TFLOP/s`.
pub fn tflops(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    format!("{} TFLOP/s", grouped(x))
}

/// Arithmetic intensity, FLOP per byte with two decimals: `207.50`.
pub fn intensity(x: f64) -> String {
    decimal(x, 2)
}

/// `x` in a report metric's `unit` (`s`, `GFLOP/s`, `fraction`, `FLOP`, `instructions`,
/// `references`, `misses`, `USD`, `days`, `hours`; any other unit is written after the number).
pub fn in_unit(x: f64, unit: &str) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    match unit {
        "s" => seconds(x),
        "GFLOP/s" => gflops(x),
        "fraction" => percent(x),
        "FLOP" => format!("{} FLOP", si(x)),
        // Counts of a step (`count.*` metrics).
        "instructions" | "references" | "misses" => format!("{} {unit}", si(x)),
        "USD" => usd(x),
        "days" => days(x),
        "hours" => hours(x),
        _ => format!("{} {unit}", plain(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_intervals_share_the_median_prefix() {
        assert_eq!(
            usd_interval(308_300.0, 257_600.0, 445_800.0),
            "$308.3k (257.6–445.8k)"
        );
        assert_eq!(
            usd_interval(950.0, 812.3, 1203.0),
            "$950.00 ($812.30–$1.203k)"
        );
        assert_eq!(
            usd_interval(2.27e6, 2.05e6, 2.53e6),
            "$2.270M (2.050–2.530M)"
        );
    }

    #[test]
    fn every_function_shows_a_missing_figure_the_same_way() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for s in [
                si(x),
                sig(x, 3, false),
                usd(x),
                usd_axis(x, 3),
                axis(x, 3),
                seconds(x),
                days(x),
                hours(x),
                percent(x),
                percent_to(x, 2),
                change(x),
                plus_minus(x),
                fraction(x),
                decimal(x, 2),
                plain(x),
                grouped(x),
                grouped_to(x, 1),
                bytes(x),
                bandwidth(x),
                bit_rate(x),
                gflops(x),
                tflops(x),
                intensity(x),
                in_unit(x, "s"),
            ] {
                assert_eq!(s, MISSING);
            }
        }
        assert_eq!(p_value(None), MISSING);
    }

    #[test]
    fn si_prefixes_have_three_decimals() {
        assert_eq!(si(124_357_000.0), "124.357M");
        assert_eq!(si(0.026), "0.026");
        assert_eq!(si(8.57e18), "8.570E");
        assert_eq!(si(-1500.0), "-1.500k");
        assert_eq!(si(999_999.9), "1.000M");
        assert_eq!(si(3e27), "3000.000Y");
    }

    #[test]
    fn dollars_follow_one_rule() {
        // From $1,000: four significant digits and an SI prefix.
        assert_eq!(usd(1_234_567.0), "$1.235M");
        assert_eq!(usd(45_600.0), "$45.60k");
        assert_eq!(usd(999_960.0), "$1.000M");
        assert_eq!(usd(3.2e9), "$3.200G");
        assert_eq!(usd(999.996), "$1.000k");
        // $1 to $1,000: cents.
        assert_eq!(usd(55.04), "$55.04");
        assert_eq!(usd(21.957642), "$21.96");
        assert_eq!(usd(5.0), "$5.00");
        assert_eq!(usd(113.933), "$113.93");
        assert_eq!(usd(0.999), "$0.999");
        assert_eq!(usd(0.9996), "$1.00");
        // Below $1: three significant digits.
        assert_eq!(usd(0.5), "$0.500");
        assert_eq!(usd(0.17), "$0.170");
        assert_eq!(usd(0.02578), "$0.0258");
        assert_eq!(usd(8.568 / 192.0), "$0.0446");
        assert_eq!(usd(0.0001234), "$0.000123");
        assert_eq!(usd(2.597e-5), "$2.60e-5");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(5e-324 / 9.0), "$0.00");
        assert_eq!(usd(-2500.0), "-$2.500k");
        assert_eq!(usd(1e30), "$1.000e30");
    }

    #[test]
    fn axis_labels_drop_trailing_zeros() {
        assert_eq!(usd_axis(1_000_000.0, 3), "$1M");
        assert_eq!(usd_axis(-2500.0, 3), "-$2.5k");
        assert_eq!(usd_axis(0.0, 3), "$0");
        assert_eq!(usd_axis(12.5, 3), "$12.5");
        assert_eq!(axis(0.01, 3), "0.01");
        assert_eq!(axis(1000.0, 3), "1000");
        assert_eq!(axis(1e7, 3), "1e7");
        assert_eq!(axis(2.5, 3), "2.5");
        assert_eq!(sig(27.388, 3, false), "27.4");
        assert_eq!(sig(0.0123, 3, false), "0.0123");
    }

    #[test]
    fn durations_have_four_significant_digits() {
        assert_eq!(seconds(1.2344), "1.234 s");
        assert_eq!(seconds(0.002304), "2.304 ms");
        assert_eq!(seconds(0.00089688), "896.9 µs");
        assert_eq!(seconds(0.0183), "18.30 ms");
        assert_eq!(seconds(0.9999999), "1.000 s");
        assert_eq!(seconds(5e-8), "50.00 ns");
        assert_eq!(seconds(0.0), "0 s");
        assert_eq!(days(0.25), "6.00 h");
        assert_eq!(days(12.34), "12.3 d");
    }

    #[test]
    fn percentages_and_fractions() {
        assert_eq!(percent(0.169), "16.9%");
        assert_eq!(percent(0.0001), "<0.1%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent_to(0.95, 0), "95%");
        assert_eq!(change(0.1), "+10.00%");
        assert_eq!(change(-0.0909), "-9.09%");
        assert_eq!(plus_minus(0.0283), "±2.83%");
        assert_eq!(p_value(Some(0.0004)), "<0.001");
        assert_eq!(p_value(Some(0.0061)), "0.006");
        assert_eq!(fraction(0.4), "0.40");
        assert_eq!(fraction(0.355), "0.355");
    }

    #[test]
    fn numbers_are_grouped_and_keep_their_decimals() {
        assert_eq!(grouped(1979.0), "1,979");
        assert_eq!(grouped(47.5), "47.5");
        assert_eq!(grouped(0.82), "0.82");
        assert_eq!(grouped(1_000_000.0), "1,000,000");
        assert_eq!(grouped(-3200.0), "-3,200");
        assert_eq!(grouped_to(2.9e12 / 1e12, 3), "2.9");
        assert_eq!(tflops(1979.0), "1,979 TFLOP/s");
    }

    #[test]
    fn capacities_and_rates_in_their_published_units() {
        assert_eq!(bytes(32.0 * GIB), "32 GiB");
        assert_eq!(bytes(80e9), "80 GB");
        assert_eq!(bytes(141e9), "141 GB");
        assert_eq!(bandwidth(3.35e12), "3.35 TB/s");
        assert_eq!(bandwidth(900e9), "900 GB/s");
        assert_eq!(bandwidth(24.31e9), "24.3 GB/s");
        assert_eq!(bit_rate(3.2e12), "3,200 Gbps");
        assert_eq!(gflops(40.33), "40.3 GFLOP/s");
    }

    #[test]
    fn metric_units() {
        assert_eq!(in_unit(0.002304, "s"), "2.304 ms");
        assert_eq!(in_unit(92_782_000.0, "FLOP"), "92.782M FLOP");
        assert_eq!(in_unit(0.169, "fraction"), "16.9%");
        assert_eq!(in_unit(0.0004, "days"), "0.01 h");
        assert_eq!(in_unit(3.0, "widgets"), "3 widgets");
    }
}
