//! Small SVG charts for reports, drawn with plotters' SVG backend. No fonts or bitmaps are
//! needed: text becomes SVG `<text>` elements that the viewer lays out, and plotters sizes the
//! axes from a crude width estimate (its font-less "naive" text layout).
//!
//! [`history_svg`] draws one panel per metric, stacked vertically: the values as a line with
//! point markers, error bars where confidence bounds are given, a dashed vertical line before
//! each change point labelled with the change of the segment mean across it, a few of the
//! caller's x labels (first, last and evenly spaced ones that do not overlap) and the unit on
//! the y axis.
//!
//! Text from the caller (titles, units, labels) is XML-escaped by plotters' SVG backend, which
//! escapes `<`, `>`, `&`, `"` and `'` in every text node and attribute value
//! (`plotters-svg` 0.3.7, `SVGBackend::escape_and_push`); it is not escaped again here, which
//! would double it. A test pins this down.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One panel: a metric's series over time.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Panel title, e.g. "gpt2-124m · step_time (s)".
    pub title: &'a str,
    /// Unit of the values, written along the y axis.
    pub unit: &'a str,
    /// x labels (e.g. "2026-11-26 18:00 ab12cd3"), one per point.
    pub labels: &'a [String],
    pub values: &'a [f64],
    /// Optional lower/upper confidence bounds, same length as values.
    pub lower: Option<&'a [f64]>,
    pub upper: Option<&'a [f64]>,
    /// Indices where a new segment starts (change points).
    pub change_points: &'a [usize],
}

const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 260;
const FONT: &str = "sans-serif";
/// Font sizes as plotters takes them; its SVG backend writes `size / 1.24` px.
const TITLE_SIZE: f64 = 18.0;
const LABEL_SIZE: f64 = 13.0;
const CHANGE_LABEL_SIZE: f64 = 12.0;
/// "no data".
const GREY_TEXT: RGBColor = RGBColor(110, 110, 110);
/// The series (matplotlib's first colour).
const LINE: RGBColor = RGBColor(31, 119, 180);
/// Change-point markers and their labels; used for nothing else, so tests can find them.
const CHANGE: RGBColor = RGBColor(214, 39, 40);
/// Longest x label drawn, in characters; longer ones are cut with "…".
const MAX_LABEL_CHARS: usize = 32;
/// Minimum horizontal gap between two x labels, px.
const LABEL_GAP: i32 = 12;

type Failure = Box<dyn std::error::Error>;

/// An SVG document with one panel per series stacked vertically (width 900 px, 260 px per
/// panel): line with point markers, error bars (vertical segments) where bounds are given, a
/// dashed vertical red line at each change point with a small label "change +12.3%" computed
/// from the segment means on either side, x axis labelled with a few of the labels (first,
/// last, and evenly spaced, no overlap), y axis with the unit. Returns the SVG text.
///
/// Never panics. A panel whose series has no finite value (or none at all) says "no data"; an
/// empty `series` gives one such panel. Non-finite values are left out (the line breaks
/// there), as are non-finite bounds; a missing bound (or one past the end of a shorter bounds
/// slice) draws the bar from the value to the other bound. Change points outside `1..n` and
/// duplicates are ignored; segment means use the finite values only, and a label whose
/// relative change is not finite reads just "change". A missing x label is replaced by the
/// point's index.
pub fn history_svg(series: &[Series<'_>]) -> String {
    let panels = u32::try_from(series.len().max(1)).unwrap_or(u32::MAX);
    let height = PANEL_HEIGHT.saturating_mul(panels);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        // The SVG backend writes to a String and cannot fail; were a panel to fail anyway it
        // would be left incomplete, never a panic.
        let _ = root.fill(&WHITE);
        if series.is_empty() {
            let _ = no_data(&root, "");
        } else {
            for (area, s) in root.split_evenly((series.len(), 1)).iter().zip(series) {
                let _ = panel(&root, area, s);
            }
        }
        let _ = root.present();
    }
    svg
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<(), Failure>
where
    DB::ErrorType: 'static,
{
    let inner = area.titled(title, (FONT, TITLE_SIZE))?;
    let (w, h) = inner.dim_in_pixel();
    let style = TextStyle::from((FONT, LABEL_SIZE).into_font())
        .color(&GREY_TEXT)
        .pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw_text("no data", &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// Draws one series into `area`; text outside the plotting area goes on `root` (absolute
/// pixel coordinates).
fn panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    s: &Series<'_>,
) -> Result<(), Failure>
where
    DB::ErrorType: 'static,
{
    let n = s.values.len();
    let finite = |v: Option<&f64>| v.copied().filter(|v| v.is_finite());
    let value = |i: usize| finite(s.values.get(i));
    let lower = |i: usize| finite(s.lower.and_then(|l| l.get(i)));
    let upper = |i: usize| finite(s.upper.and_then(|u| u.get(i)));

    // y range over the finite values and bounds.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        if let Some(v) = value(i) {
            for y in [Some(v), lower(i), upper(i)].into_iter().flatten() {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
    }
    let span = hi - lo;
    if !(lo.is_finite() && hi.is_finite() && span.is_finite()) {
        return no_data(area, s.title);
    }

    let changes = change_labels(s.values, s.change_points);
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        (lo.abs() * 0.05).max(1.0)
    };
    // Head room for the change labels above the data.
    let top_pad = if changes.is_empty() {
        pad
    } else {
        pad + (span + 2.0 * pad) * 0.2
    };
    let (y0, y1) = (lo - pad, hi + top_pad);
    if !(y0.is_finite() && y1.is_finite() && y1 > y0) {
        return no_data(area, s.title);
    }
    let x_range = -0.5..n as f64 - 0.5;

    let mut chart = ChartBuilder::on(area)
        .caption(s.title, (FONT, TITLE_SIZE))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(26)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range, y0..y1)?;
    let decimals = tick_decimals((y1 - y0) / 5.0);
    let y_format = |y: &f64| format!("{y:.decimals$}");
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&y_format)
        .y_desc(s.unit)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()?;

    // Error bars, under the line.
    let cap = 0.2;
    for i in 0..n {
        let Some(v) = value(i) else { continue };
        let (b, t) = (lower(i).unwrap_or(v), upper(i).unwrap_or(v));
        if b == t {
            continue;
        }
        let x = i as f64;
        let style = LINE.mix(0.55).stroke_width(1);
        chart.draw_series([
            PathElement::new(vec![(x, b), (x, t)], style),
            PathElement::new(vec![(x - cap, b), (x + cap, b)], style),
            PathElement::new(vec![(x - cap, t), (x + cap, t)], style),
        ])?;
    }

    // The line, broken at non-finite values, and its markers.
    let mut run: Vec<(f64, f64)> = Vec::new();
    for i in 0..=n {
        match value(i) {
            Some(v) if i < n => run.push((i as f64, v)),
            _ => {
                if run.len() > 1 {
                    chart
                        .draw_series(LineSeries::new(run.iter().copied(), LINE.stroke_width(2)))?;
                }
                run.clear();
            }
        }
    }
    chart.draw_series(
        (0..n).filter_map(|i| value(i).map(|v| Circle::new((i as f64, v), 3, LINE.filled()))),
    )?;

    let (plot_x, plot_y) = chart.plotting_area().get_pixel_range();

    // Change points: a dashed line between the last point of a segment and the first of the
    // next, labelled near the top, staggered over three rows when labels would collide.
    let style = TextStyle::from((FONT, CHANGE_LABEL_SIZE).into_font()).color(&CHANGE);
    let mut row_ends = [i32::MIN; 3];
    for (index, label) in &changes {
        let x = *index as f64 - 0.5;
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(x, y0), (x, y1)],
            6,
            4,
            CHANGE.stroke_width(1),
        )))?;
        let px = chart.backend_coord(&(x, y1)).0;
        let width = text_width(label, CHANGE_LABEL_SIZE);
        // Right of the line, or left of it when that would run past the plot.
        let right_of_line = px + 4 + width <= plot_x.end;
        let (left, tx, anchor) = if right_of_line {
            (px + 4, px + 4, HPos::Left)
        } else {
            (px - 4 - width, px - 4, HPos::Right)
        };
        let row = row_ends.iter().position(|&end| left > end + 6).unwrap_or(0);
        row_ends[row] = left + width;
        let ty = plot_y.start + 3 + row as i32 * 15;
        root.draw(&Text::new(
            label.as_str(),
            (tx, ty),
            style.pos(Pos::new(anchor, VPos::Top)),
        ))?;
    }

    // x labels under the axis.
    let style = TextStyle::from((FONT, LABEL_SIZE).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let texts: Vec<String> = (0..n).map(|i| x_label(s.labels, i)).collect();
    let centers: Vec<i32> = (0..n)
        .map(|i| chart.backend_coord(&(i as f64, y0)).0)
        .collect();
    let widths: Vec<i32> = texts.iter().map(|t| text_width(t, LABEL_SIZE)).collect();
    let total = i32::try_from(WIDTH).unwrap_or(i32::MAX);
    for (i, center) in pick_labels(&centers, &widths, total) {
        root.draw(&PathElement::new(
            vec![(centers[i], plot_y.end), (centers[i], plot_y.end + 4)],
            BLACK,
        ))?;
        root.draw(&Text::new(
            texts[i].as_str(),
            (center, plot_y.end + 6),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Valid change points (inside `1..n`, sorted, distinct) with their labels, "change +12.3%":
/// the relative change of the mean of the finite values from the segment before to the
/// segment after (segments bounded by the neighbouring change points).
fn change_labels(values: &[f64], change_points: &[usize]) -> Vec<(usize, String)> {
    let n = values.len();
    let mut points: Vec<usize> = change_points
        .iter()
        .copied()
        .filter(|&c| 0 < c && c < n)
        .collect();
    points.sort_unstable();
    points.dedup();
    let mean = |xs: &[f64]| {
        let (sum, count) = xs
            .iter()
            .filter(|x| x.is_finite())
            .fold((0.0, 0usize), |(s, k), x| (s + x, k + 1));
        sum / count as f64
    };
    (0..points.len())
        .map(|k| {
            let start = if k == 0 { 0 } else { points[k - 1] };
            let end = points.get(k + 1).copied().unwrap_or(n);
            let c = points[k];
            let change = mean(&values[c..end]) / mean(&values[start..c]) - 1.0;
            let label = if change.is_finite() {
                format!("change {:+.1}%", change * 100.0)
            } else {
                "change".to_owned()
            };
            (c, label)
        })
        .collect()
}

/// The caller's label for point `i` (cut to [`MAX_LABEL_CHARS`]), or the index if there is none.
fn x_label(labels: &[String], i: usize) -> String {
    match labels.get(i) {
        Some(l) if l.chars().count() > MAX_LABEL_CHARS => {
            let mut cut: String = l.chars().take(MAX_LABEL_CHARS - 1).collect();
            cut.push('…');
            cut
        }
        Some(l) => l.clone(),
        None => i.to_string(),
    }
}

/// Estimated width in px of `text` at plotters font size `size` (SVG font size `size / 1.24`,
/// an average glyph about 0.6 em wide in a sans-serif face).
fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * 0.6 * size / 1.24).ceil() as i32
}

/// Decimals for y ticks about `step` apart.
fn tick_decimals(step: f64) -> usize {
    if step.is_finite() && step > 0.0 {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    } else {
        0
    }
}

/// Which x labels to draw, with their centres: always the first, the last unless it collides
/// with the first, and evenly spaced ones in between that keep a gap of [`LABEL_GAP`] px to
/// their neighbours. Labels are centred on their point but kept inside `0..total_width`.
fn pick_labels(centers: &[i32], widths: &[i32], total_width: i32) -> Vec<(usize, i32)> {
    let n = centers.len();
    if n == 0 {
        return Vec::new();
    }
    let place = |i: usize| {
        let half = widths[i] / 2;
        let center = centers[i].min(total_width - half - 2).max(half + 2);
        (center, center - half, center + widths[i] - half)
    };
    let widest = widths.iter().copied().max().unwrap_or(0) + LABEL_GAP;
    let span = (centers[n - 1] - centers[0]).max(0);
    let slots = usize::try_from(span / widest.max(1))
        .unwrap_or(0)
        .min(n - 1);
    let mut candidates: Vec<usize> = (0..=slots)
        .map(|j| (j * (n - 1) + slots / 2).checked_div(slots).unwrap_or(0))
        .collect();
    candidates.push(n - 1);
    candidates.dedup();

    let mut chosen: Vec<(usize, i32, i32)> = Vec::new(); // (index, centre, right edge)
    for &i in &candidates {
        let (center, left, right) = place(i);
        if i == n - 1 && i != 0 {
            // The last label wins over middle ones it collides with, not over the first.
            while chosen.len() > 1 && chosen.last().is_some_and(|&(_, _, r)| left < r + LABEL_GAP) {
                chosen.pop();
            }
        }
        if chosen.last().is_none_or(|&(_, _, r)| left >= r + LABEL_GAP) {
            chosen.push((i, center, right));
        }
    }
    chosen.into_iter().map(|(i, c, _)| (i, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn labels(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("2026-11-{:02} 18:00 ab{i:05}", 1 + i % 28))
            .collect()
    }

    fn series<'a>(title: &'a str, labels: &'a [String], values: &'a [f64]) -> Series<'a> {
        Series {
            title,
            unit: "s",
            labels,
            values,
            lower: None,
            upper: None,
            change_points: &[],
        }
    }

    /// x positions of the change-point markers: the distinct first x of the polylines drawn in
    /// the change colour (each dashed line is many short polylines at one x).
    fn marker_xs(svg: &str) -> BTreeSet<String> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke=\"#D62728\""))
            .filter_map(|l| {
                let points = l.split("points=\"").nth(1)?;
                Some(points.split(',').next()?.to_owned())
            })
            .collect()
    }

    #[test]
    fn panels_titles_bounds_and_change_points() {
        let l = labels(40);
        let values: Vec<f64> = (0..40)
            .map(|i| if i < 20 { 0.100 } else { 0.120 } + (i % 3) as f64 * 1e-3)
            .collect();
        let lower: Vec<f64> = values.iter().map(|v| v - 0.002).collect();
        let upper: Vec<f64> = values.iter().map(|v| v + 0.002).collect();
        let a = Series {
            lower: Some(&lower),
            upper: Some(&upper),
            change_points: &[20],
            ..series("gpt2-124m · step_time (s)", &l, &values)
        };
        let b = Series {
            change_points: &[10, 30, 30, 0, 99],
            ..series("llama & friends · tokens/s", &l, &values)
        };
        let svg = history_svg(&[a, b]);
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("height=\"520\""));
        assert!(svg.contains("gpt2-124m · step_time (s)"));
        assert!(svg.contains("llama &amp; friends · tokens/s"));
        // One marker per valid change point: 20 in the first panel, 10 and 30 in the second
        // (duplicates and out-of-range ones dropped). Both panels have 40 points, so the
        // three markers sit at three distinct x.
        assert_eq!(marker_xs(&svg).len(), 3, "{:?}", marker_xs(&svg));
        assert_eq!(
            svg.matches("change +").count() + svg.matches("change -").count(),
            3
        );
        assert!(
            svg.contains("change +19.") || svg.contains("change +20."),
            "{svg}"
        );
        // Error bars: 40 bars of three strokes each, in the faded line colour.
        assert_eq!(
            svg.matches("opacity=\"0.55\" stroke=\"#1F77B4\"").count(),
            120
        );
        // First and last x labels are drawn.
        assert!(svg.contains(&l[0]) && svg.contains(&l[39]));
    }

    #[test]
    fn caller_text_is_escaped() {
        let l = vec!["<b>x</b>".to_owned(), "y".to_owned()];
        let s = Series {
            unit: "\"ms\" & <i>",
            ..series("<script>alert(1)</script>", &l, &[1.0, 2.0])
        };
        let svg = history_svg(&[s]);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(svg.contains("&quot;ms&quot; &amp; &lt;i&gt;"));
        assert!(!svg.contains("<b>") && !svg.contains("<i>"));
        // Escaped once, not twice.
        assert!(!svg.contains("&amp;lt;"));
    }

    #[test]
    fn empty_input_says_no_data() {
        let svg = history_svg(&[]);
        assert!(svg.starts_with("<svg") && svg.contains("no data"));
        let svg = history_svg(&[series("empty panel", &[], &[])]);
        assert!(svg.contains("no data") && svg.contains("empty panel"));
    }

    #[test]
    fn non_finite_values_do_not_panic() {
        let l = labels(6);
        let svg = history_svg(&[series("all nan", &l, &[f64::NAN; 6])]);
        assert!(svg.contains("no data"));
        let values = [1.0, f64::NAN, 2.0, f64::INFINITY, 3.0, f64::NEG_INFINITY];
        let lower = [f64::NAN; 2];
        let s = Series {
            lower: Some(&lower),
            upper: Some(&values),
            change_points: &[1, 2, 3, 5],
            ..series("some nan", &l, &values)
        };
        let svg = history_svg(&[s]);
        assert!(svg.starts_with("<svg") && !svg.contains("no data"));
        // Extreme but finite values, a flat series, one point, missing labels.
        for values in [
            vec![-1e308, 1e308],
            vec![1e-300, 2e-300, 1.5e-300],
            vec![5.0; 4],
            vec![0.0],
            vec![-3.0, 7.0],
        ] {
            let svg = history_svg(&[Series {
                change_points: &[1],
                ..series("edge", &[], &values)
            }]);
            assert!(svg.starts_with("<svg") && svg.contains("edge"));
        }
    }

    #[test]
    fn x_labels_include_ends_and_do_not_overlap() {
        for n in [1, 2, 3, 7, 40, 200] {
            let l = labels(n);
            let centers: Vec<i32> = (0..n)
                .map(|i| 80 + (i as i32 * 800) / n.max(1) as i32)
                .collect();
            let widths: Vec<i32> = l.iter().map(|t| text_width(t, LABEL_SIZE)).collect();
            let picked = pick_labels(&centers, &widths, 900);
            assert_eq!(picked[0].0, 0);
            if n > 1 {
                assert_eq!(picked.last().unwrap().0, n - 1, "n = {n}: {picked:?}");
            }
            for w in picked.windows(2) {
                let right = w[0].1 + widths[w[0].0] - widths[w[0].0] / 2;
                let left = w[1].1 - widths[w[1].0] / 2;
                assert!(
                    w[0].0 < w[1].0 && right + LABEL_GAP <= left,
                    "n = {n}: {picked:?}"
                );
            }
            if n == 200 {
                assert!(picked.len() >= 3, "{picked:?}");
            }
        }
    }

    #[test]
    fn long_labels_are_cut() {
        let l = vec!["x".repeat(100)];
        assert_eq!(x_label(&l, 0).chars().count(), MAX_LABEL_CHARS);
        assert_eq!(x_label(&l, 3), "3");
    }
}
