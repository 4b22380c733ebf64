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
//! would double it. A test pins this down. Characters XML forbids (a control character in a
//! report's workload name) are replaced in the finished document by
//! [`crate::render::escape::xml_chars`], so every chart is well-formed XML.
//!
//! The other charts live in [`cost`] (training cost by plan, time against cost, sensitivity)
//! and [`roofline`] (this CPU's roofline, per-op time breakdown). They share the helpers at the
//! end of this file: a colour-blind-safe palette (Okabe–Ito), axes (linear or log10) with
//! "nice" ticks, number formatting, a label placer that keeps labels off each other and off
//! the markers, and the "no data" panel. They draw in pixel coordinates on the root area, so
//! every position is computed here rather than by plotters' text-size estimates. Every SVG
//! carries a `viewBox` so CSS can scale it.

pub mod cost;
pub mod roofline;

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
/// Ink of chart titles.
const TITLE_INK: Ink = Ink::new(TITLE_SIZE, INK);
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
    let titles: Vec<String> = series.iter().map(|s| format!("“{}”", s.title)).collect();
    let label = match series.len() {
        0 => "History: no series to draw.".to_owned(),
        1 => format!("One metric over time, with its interval: {}.", titles[0]),
        n => format!(
            "{n} metrics over time, one panel each, with their intervals and change points: {}.",
            in_words(&titles)
        ),
    };
    crate::render::escape::xml_chars(accessible(with_view_box(svg), "Metrics over time", &label))
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
    let y_format = |y: &f64| crate::units::decimal(*y, decimals);
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
                format!("change {}", crate::units::change(change))
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

// ---------------------------------------------------------------------------------------------
// Shared by the `cost` and `roofline` charts.

/// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies).
const OI_BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);
const OI_ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const OI_SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const OI_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const OI_BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const OI_VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const OI_PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
/// Grid lines and separators.
const GRID: RGBColor = RGBColor(225, 225, 225);
/// Body text.
const INK: RGBColor = RGBColor(25, 25, 25);
/// Height of a chart that only says "no data".
const NO_DATA_HEIGHT: u32 = 200;
/// Gap kept between two tick labels, px.
const TICK_GAP: i32 = 10;

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// [`WIDTH`] as a pixel coordinate.
const WIDTH_PX: i32 = WIDTH as i32;

/// `n` rows as a pixel count, saturating (absurdly long inputs give a tall chart, not an
/// overflow).
fn px(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / 4).min(i32::MAX / 4)
}

/// A height in pixels as the backend takes it (at most 200 000 px).
fn height_of(h: i32) -> u32 {
    u32::try_from(h.clamp(1, 200_000)).unwrap_or(200_000)
}

/// Draws a `WIDTH` × `height` SVG: white background, then `draw` in pixel coordinates, with
/// `title` as its `<title>` and `label` (a sentence saying what the chart shows) as its
/// accessible name ([`accessible`]). A drawing error leaves the chart incomplete; it never
/// panics.
fn render(
    height: u32,
    (title, label): (&str, &str),
    draw: impl FnOnce(&Root<'_>) -> Result<(), Failure>,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let _ = draw(&root);
        let _ = root.present();
    }
    crate::render::escape::xml_chars(accessible(with_view_box(svg), title, label))
}

/// A chart that only has `title` and "no data".
fn no_data_svg(title: &str) -> String {
    render(
        NO_DATA_HEIGHT,
        (title, &format!("{title}: no data to draw.")),
        |root| no_data(root, title),
    )
}

/// `svg` made readable to assistive technology: `role="img"` and `aria-label` (a sentence
/// describing the chart's content) on the root element, and a `<title>` as its first child (a
/// browser shows it on hover). Both are XML-escaped here, once: they may hold names from a
/// user's file. An `svg` that already has a role, or is not an SVG element, is returned as is.
fn accessible(svg: String, title: &str, label: &str) -> String {
    let Some(end) = svg.find('>') else { return svg };
    let head = &svg[..end];
    if !head.starts_with("<svg") || head.contains(" role=") || head.ends_with('/') {
        return svg;
    }
    format!(
        "{head} role=\"img\" aria-label=\"{}\">\n<title>{}</title>{}",
        escape(label),
        escape(title),
        &svg[end + 1..]
    )
}

/// `text` with `&`, `<`, `>`, `"` and `'` as XML character entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `items` joined as a sentence does: "a", "a and b", "a, b and c".
fn in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The vendor family of an option, as the charts colour it (Okabe–Ito): Trainium orange,
/// NVIDIA bluish green, a CPU blue, anything else reddish purple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Trainium,
    Nvidia,
    Cpu,
    Other,
}

impl Family {
    /// Every family, in legend order.
    pub const ALL: [Family; 4] = [Family::Trainium, Family::Nvidia, Family::Cpu, Family::Other];

    /// The chart family of a verdict family.
    pub fn of(f: crate::model::verdict::Family) -> Family {
        match f {
            crate::model::verdict::Family::Trainium => Family::Trainium,
            crate::model::verdict::Family::Nvidia => Family::Nvidia,
            crate::model::verdict::Family::Other => Family::Other,
        }
    }

    /// As a legend names it: "Trainium", "NVIDIA", "CPU", "other".
    pub fn name(self) -> &'static str {
        match self {
            Family::Trainium => "Trainium",
            Family::Nvidia => "NVIDIA",
            Family::Cpu => "CPU",
            Family::Other => "other",
        }
    }

    /// Its colour, `#RRGGBB` (for a page's legend and table swatches).
    pub fn hex(self) -> String {
        let RGBColor(r, g, b) = self.colour();
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    fn colour(self) -> RGBColor {
        match self {
            Family::Trainium => OI_ORANGE,
            Family::Nvidia => OI_GREEN,
            Family::Cpu => OI_BLUE,
            Family::Other => OI_PURPLE,
        }
    }
}

/// The families present in `families`, in legend order.
fn families_present(families: impl Iterator<Item = Family>) -> Vec<Family> {
    let mut seen: Vec<Family> = families.collect();
    seen.sort_unstable();
    seen.dedup();
    seen
}

/// A legend swatch for `family`: a filled square.
fn family_swatch(family: Family) -> impl Fn(&Root<'_>, (i32, i32)) -> Fallible {
    move |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
        root.draw(&Rectangle::new(
            [(x + 2, y - 6), (x + 14, y + 6)],
            family.colour().filled(),
        ))?;
        Ok(())
    }
}

/// Ink of interval whiskers.
const WHISKER: RGBColor = RGBColor(40, 40, 40);

/// A horizontal whisker from `x0` to `x1` at `y` with end caps `cap` px high either side.
fn h_whisker(root: &Root<'_>, (x0, x1): (i32, i32), y: i32, cap: i32, ink: ShapeStyle) -> Fallible {
    let (a, b) = (x0.min(x1), x0.max(x1));
    root.draw(&PathElement::new(vec![(a, y), (b, y)], ink))?;
    for x in [a, b] {
        root.draw(&PathElement::new(vec![(x, y - cap), (x, y + cap)], ink))?;
    }
    Ok(())
}

/// A vertical whisker from `y0` to `y1` at `x` with end caps `cap` px wide either side.
fn v_whisker(root: &Root<'_>, x: i32, (y0, y1): (i32, i32), cap: i32, ink: ShapeStyle) -> Fallible {
    let (a, b) = (y0.min(y1), y0.max(y1));
    root.draw(&PathElement::new(vec![(x, a), (x, b)], ink))?;
    for y in [a, b] {
        root.draw(&PathElement::new(vec![(x - cap, y), (x + cap, y)], ink))?;
    }
    Ok(())
}

/// The legend swatch of a 90% interval: a whisker.
fn whisker_swatch(root: &Root<'_>, (x, y): (i32, i32)) -> Fallible {
    h_whisker(root, (x, x + 16), y, 4, WHISKER.stroke_width(1))
}

/// `svg` with a `viewBox="0 0 W H"` on its root element (taken from its `width` and `height`)
/// when it has none, so CSS can scale it. plotters-svg 0.3.7 writes one itself; this keeps the
/// guarantee should it stop doing so.
fn with_view_box(svg: String) -> String {
    let Some(end) = svg.find('>') else { return svg };
    let head = &svg[..end];
    if !head.starts_with("<svg") || head.contains("viewBox") {
        return svg;
    }
    let attr = |name: &str| {
        let key = format!(" {name}=\"");
        let start = head.find(&key)? + key.len();
        let len = head[start..].find('"')?;
        Some(head[start..start + len].to_owned())
    };
    let (Some(w), Some(h)) = (attr("width"), attr("height")) else {
        return svg;
    };
    let at = if head.ends_with('/') { end - 1 } else { end };
    format!("{} viewBox=\"0 0 {w} {h}\"{}", &svg[..at], &svg[at..])
}

/// How a piece of text looks.
#[derive(Debug, Clone, Copy)]
struct Ink {
    size: f64,
    color: RGBColor,
    bold: bool,
}

impl Ink {
    const fn new(size: f64, color: RGBColor) -> Self {
        Self {
            size,
            color,
            bold: false,
        }
    }

    const fn bold(self) -> Self {
        Self { bold: true, ..self }
    }

    /// Estimated width of `text` in px (bold glyphs are about 10% wider).
    fn width(&self, text: &str) -> i32 {
        let w = text_width(text, self.size);
        if self.bold { w + w / 10 } else { w }
    }

    /// Height of a line of text in px (the SVG font size).
    fn height(&self) -> i32 {
        (self.size / 1.24).ceil() as i32
    }

    fn style(&self, h: HPos, v: VPos) -> TextStyle<'static> {
        let font = (FONT, self.size).into_font();
        let font = if self.bold {
            font.style(FontStyle::Bold)
        } else {
            font
        };
        TextStyle {
            font,
            color: self.color.to_backend_color(),
            pos: Pos::new(h, v),
        }
    }
}

/// Draws `text` at `pos` anchored by `(h, v)`.
fn put(root: &Root<'_>, text: &str, pos: (i32, i32), ink: Ink, anchor: (HPos, VPos)) -> Fallible {
    root.draw(&Text::new(text, pos, ink.style(anchor.0, anchor.1)))?;
    Ok(())
}

/// Draws `text` rotated to read bottom to top, centred on `pos` (a y-axis title).
/// A chart's title, centred at the top.
fn title(root: &Root<'_>, text: &str) -> Fallible {
    put(
        root,
        text,
        (WIDTH_PX / 2, 12),
        TITLE_INK,
        (HPos::Center, VPos::Top),
    )
}

fn put_vertical(root: &Root<'_>, text: &str, pos: (i32, i32), ink: Ink) -> Fallible {
    let style = ink.style(HPos::Center, VPos::Center);
    let font = style.font.transform(FontTransform::Rotate270);
    root.draw(&Text::new(text, pos, TextStyle { font, ..style }))?;
    Ok(())
}

type Fallible = Result<(), Failure>;

/// `text` cut with "…" so that it is at most `max_px` wide in `ink`.
fn fit(text: &str, max_px: i32, ink: Ink) -> String {
    if ink.width(text) <= max_px {
        return text.to_owned();
    }
    // No label is wider than the chart, about 160 characters: start from at most 400.
    let mut cut: String = text.chars().take(400).collect();
    while !cut.is_empty() && ink.width(&format!("{cut}…")) > max_px {
        cut.pop();
    }
    cut.push('…');
    cut
}

/// A chart axis mapping values in `lo..=hi` (both > 0 on a log axis) to pixels `p0..=p1`
/// (`p0 > p1` for a y axis, whose pixels grow downwards).
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    p0: i32,
    p1: i32,
}

impl Axis {
    /// `None` unless the range is finite and not empty (and positive on a log axis).
    fn new(lo: f64, hi: f64, log: bool, p0: i32, p1: i32) -> Option<Self> {
        let axis = Self {
            lo,
            hi,
            log,
            p0,
            p1,
        };
        let (t0, t1) = (axis.t(lo), axis.t(hi));
        (t0.is_finite() && t1.is_finite() && (t1 - t0).is_finite() && t1 > t0 && p0 != p1)
            .then_some(axis)
    }

    fn t(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Pixel of `v` (values outside the range extrapolate; NaN gives `p0`).
    fn px(&self, v: f64) -> i32 {
        let (t0, t1) = (self.t(self.lo), self.t(self.hi));
        let f = (self.t(v) - t0) / (t1 - t0);
        let p = f64::from(self.p0) + f * f64::from(self.p1 - self.p0);
        if p.is_nan() {
            self.p0
        } else {
            p.clamp(-1e6, 1e6).round() as i32
        }
    }

    /// About `target` tick values inside the range: multiples of 1, 2 or 5 × 10^k on a linear
    /// axis; powers of ten on a log axis (every few decades on a wide one, with 2× and 5× in
    /// between on a narrow one).
    fn ticks(&self, target: usize) -> Vec<f64> {
        let target = target.max(2);
        let (t0, t1) = (self.t(self.lo), self.t(self.hi));
        let eps = (t1 - t0) * 1e-9;
        if self.log {
            let first = (t0 - eps).ceil().clamp(-400.0, 400.0) as i32;
            let last = (t1 + eps).floor().clamp(-400.0, 400.0) as i32;
            if t1 - t0 < 3.5 {
                let mut ticks = Vec::new();
                for e in (t0.floor().clamp(-400.0, 400.0) as i32)..=last {
                    for m in [1.0, 2.0, 5.0] {
                        let v = m * 10f64.powi(e);
                        let t = v.log10();
                        if t >= t0 - eps && t <= t1 + eps {
                            ticks.push(v);
                        }
                    }
                }
                return ticks;
            }
            let decades = usize::try_from(last - first + 1).unwrap_or(0);
            let every = decades.div_ceil(target).max(1);
            (first..=last)
                .step_by(every)
                .map(|e| 10f64.powi(e))
                .collect()
        } else {
            let step = nice_step((t1 - t0) / target as f64);
            if !(step.is_finite() && step > 0.0) {
                return vec![self.lo, self.hi];
            }
            let first = (t0 / step - 1e-9).ceil();
            let last = (t1 / step + 1e-9).floor();
            if !(first.is_finite() && last.is_finite()) || last - first > 100.0 {
                return vec![self.lo, self.hi];
            }
            // Counted in integers: `first + 1.0` may equal `first` for a range far from zero.
            let count = (last - first).max(-1.0) as i64 + 1;
            (0..count)
                .map(|j| {
                    let k = first + j as f64;
                    // Avoid "-0".
                    if k == 0.0 { 0.0 } else { k * step }
                })
                .collect()
        }
    }

    /// Distance between neighbouring linear ticks (for choosing decimals); 0 on a log axis.
    fn tick_step(&self, target: usize) -> f64 {
        if self.log {
            0.0
        } else {
            nice_step((self.hi - self.lo) / target.max(2) as f64)
        }
    }
}

/// 1, 2 or 5 × 10^k, the smallest not below `raw` (1 for a non-positive or non-finite `raw`).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let f = raw / base;
    let m = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    let step = m * base;
    if step.is_finite() && step > 0.0 {
        step
    } else {
        raw
    }
}

/// `max` rounded up to a multiple of a nice step (about `target` steps from zero); 1 when `max`
/// is not positive.
fn nice_ceil(max: f64, target: usize) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let step = nice_step(max / target.max(1) as f64);
    let hi = (max / step - 1e-9).ceil() * step;
    if hi.is_finite() && hi >= max { hi } else { max }
}

/// The lower end of a log range that starts below `min` (> 0): the power of ten at or below it,
/// one more decade down when `min` is within 0.15 decade of it (so the smallest bar shows).
fn log_floor(min: f64) -> f64 {
    let t = min.log10();
    let mut e = t.floor();
    if t - e < 0.15 {
        e -= 1.0;
    }
    10f64.powf(e)
}

/// A range around `min..=max` with a margin of `pad` × its span on each side (in log10 units on
/// a log axis; linear ranges of non-negative data do not go below zero).
fn padded(min: f64, max: f64, log: bool, pad: f64) -> (f64, f64) {
    if log {
        let (t0, t1) = (min.log10(), max.log10());
        let m = ((t1 - t0) * pad).max(0.05);
        (10f64.powf(t0 - m), 10f64.powf(t1 + m))
    } else {
        let span = max - min;
        let m = if span > 0.0 {
            span * pad
        } else {
            (min.abs() * 0.1).max(1.0)
        };
        let lo = if min >= 0.0 {
            (min - m).max(0.0)
        } else {
            min - m
        };
        (lo, max + m)
    }
}

/// Whether values from `min` to `max` are drawn on a log axis: all positive and spanning more
/// than 20×.
fn wants_log(min: f64, max: f64) -> bool {
    min > 0.0 && max / min > 20.0
}

/// Significant digits a tick label needs to tell ticks `step` apart around `v` (3 at least).
fn tick_sig(v: f64, step: f64) -> i32 {
    if !(step > 0.0 && v.is_finite() && v != 0.0) {
        return 3;
    }
    ((v.abs() / step).log10().floor() as i32 + 1).clamp(3, 9)
}

/// A plain tick label at `v` on an axis whose ticks are `step` apart (0: unknown).
fn tick_label(v: f64, step: f64) -> String {
    crate::units::axis(v, tick_sig(v, step))
}

/// A dollar tick label at `v` on an axis whose ticks are `step` apart.
fn usd_tick_label(v: f64, step: f64) -> String {
    crate::units::usd_axis(v, tick_sig(v, step))
}

/// Keeps tick labels (centre pixel, width) that do not overlap, left to right (or top to
/// bottom): the indices of those drawn.
fn spaced(labels: &[(i32, i32)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| labels[i].0);
    let mut kept = Vec::new();
    let mut end = i32::MIN;
    for i in order {
        let (c, w) = labels[i];
        if c - w / 2 >= end.saturating_add(TICK_GAP) {
            kept.push(i);
            end = c + w - w / 2;
        }
    }
    kept
}

/// Vertical grid lines at `ticks` from `top` to `bottom`, the axis line along `bottom`, tick
/// labels under it (and above `top` when `labels_on_top`), and `title` centred below.
fn x_axis(
    root: &Root<'_>,
    axis: &Axis,
    ticks: &[f64],
    fmt: &dyn Fn(f64) -> String,
    (top, bottom): (i32, i32),
    labels_on_top: bool,
    title: &str,
) -> Fallible {
    let ink = Ink::new(LABEL_SIZE, INK);
    let texts: Vec<(i32, String)> = ticks.iter().map(|&t| (axis.px(t), fmt(t))).collect();
    for (x, _) in &texts {
        root.draw(&PathElement::new(vec![(*x, top), (*x, bottom)], GRID))?;
    }
    root.draw(&PathElement::new(
        vec![
            (axis.p0.min(axis.p1), bottom),
            (axis.p0.max(axis.p1), bottom),
        ],
        INK,
    ))?;
    let sizes: Vec<(i32, i32)> = texts.iter().map(|(x, s)| (*x, ink.width(s))).collect();
    for i in spaced(&sizes) {
        let (x, s) = &texts[i];
        root.draw(&PathElement::new(vec![(*x, bottom), (*x, bottom + 4)], INK))?;
        put(root, s, (*x, bottom + 6), ink, (HPos::Center, VPos::Top))?;
        if labels_on_top {
            put(root, s, (*x, top - 4), ink, (HPos::Center, VPos::Bottom))?;
        }
    }
    let centre = (axis.p0 + axis.p1) / 2;
    put(
        root,
        title,
        (centre, bottom + 8 + ink.height() + 6),
        ink,
        (HPos::Center, VPos::Top),
    )?;
    Ok(())
}

/// Horizontal grid lines at `ticks` from `left` to `right`, the axis line along `left`, tick
/// labels left of it, and `title` written vertically at `title_x`.
fn y_axis(
    root: &Root<'_>,
    axis: &Axis,
    ticks: &[f64],
    fmt: &dyn Fn(f64) -> String,
    (left, right): (i32, i32),
    title: (&str, i32),
) -> Fallible {
    let ink = Ink::new(LABEL_SIZE, INK);
    let texts: Vec<(i32, String)> = ticks.iter().map(|&t| (axis.px(t), fmt(t))).collect();
    for (y, _) in &texts {
        root.draw(&PathElement::new(vec![(left, *y), (right, *y)], GRID))?;
    }
    root.draw(&PathElement::new(
        vec![(left, axis.p0.max(axis.p1)), (left, axis.p0.min(axis.p1))],
        INK,
    ))?;
    let sizes: Vec<(i32, i32)> = texts.iter().map(|(y, _)| (*y, ink.height() + 2)).collect();
    for i in spaced(&sizes) {
        let (y, s) = &texts[i];
        root.draw(&PathElement::new(vec![(left - 4, *y), (left, *y)], INK))?;
        put(root, s, (left - 6, *y), ink, (HPos::Right, VPos::Center))?;
    }
    put_vertical(root, title.0, (title.1, (axis.p0 + axis.p1) / 2), ink)?;
    Ok(())
}

/// A box in pixels (`x0 <= x1`, `y0 <= y1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BBox {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl BBox {
    /// The square of half-side `r` around `p`.
    fn around((x, y): (i32, i32), r: i32) -> Self {
        Self {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    fn overlaps(&self, o: &Self) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn overlap_area(&self, o: &Self) -> i64 {
        let w = i64::from((self.x1.min(o.x1) - self.x0.max(o.x0)).max(0));
        let h = i64::from((self.y1.min(o.y1) - self.y0.max(o.y0)).max(0));
        w * h
    }

    fn within(&self, o: &Self) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }

    /// Whether `(x, y)` is strictly inside.
    fn contains(&self, (x, y): (i32, i32)) -> bool {
        self.x0 < x && x < self.x1 && self.y0 < y && y < self.y1
    }

    /// The point of the box nearest to `p`.
    fn nearest(&self, (x, y): (i32, i32)) -> (i32, i32) {
        (x.clamp(self.x0, self.x1), y.clamp(self.y0, self.y1))
    }
}

/// Places labels next to points so that no label overlaps another label, a marker, a line
/// registered as an obstacle or another label's leader line, no leader line runs through a
/// label or another point's marker, and a label without a leader line is nearer to its own
/// point than to any other.
#[derive(Debug)]
struct Labeller {
    /// Labels stay inside.
    bounds: BBox,
    /// What labels keep off: markers, lines, placed labels and their leader lines.
    taken: Vec<BBox>,
    /// What leader lines keep off: markers and placed labels.
    uncrossable: Vec<BBox>,
    /// Centres of the markers.
    markers: Vec<(i32, i32)>,
    placed: Vec<Placed>,
}

/// A label placed near its point.
#[derive(Debug, Clone)]
struct Placed {
    text: String,
    point: (i32, i32),
    at: BBox,
    ink: Ink,
}

/// Leader lines are drawn from a point to its label when they are this far apart, px.
const LEADER_FROM: i32 = 12;

impl Labeller {
    /// `markers` (boxes around the points) and `lines` (see [`line_boxes`]) are obstacles.
    fn new(bounds: BBox, markers: Vec<BBox>, lines: Vec<BBox>) -> Self {
        let centres = markers
            .iter()
            .map(|m| ((m.x0 + m.x1) / 2, (m.y0 + m.y1) / 2))
            .collect();
        let mut taken = markers.clone();
        taken.extend(lines);
        Self {
            bounds,
            taken,
            uncrossable: markers,
            markers: centres,
            placed: Vec::new(),
        }
    }

    /// Places `text` near `p`: the first free position among those around the point (right,
    /// upper right, lower right, left, above, below, upper left, lower left) at growing
    /// distances (`rings` of them). When none is free, `force` still places it where it
    /// overlaps least (returning true); otherwise the label is left out (false).
    fn place(&mut self, text: String, p: (i32, i32), ink: Ink, rings: usize, force: bool) -> bool {
        let size = label_size(&text, ink);
        let free = candidates(p, size, rings).find(|b| self.is_free(p, b));
        let at = match free {
            Some(b) => b,
            None if force => self.least_bad(p, size, rings),
            None => return false,
        };
        self.commit(text, p, ink, at);
        true
    }

    /// Places `text` for `p` with its box's top left corner at `offset` from `p` when that spot
    /// is free, else as [`Labeller::place`] (12 rings, forced).
    fn place_preferring(&mut self, text: String, p: (i32, i32), ink: Ink, offset: (i32, i32)) {
        let (w, h) = label_size(&text, ink);
        let (x0, y0) = (p.0 + offset.0, p.1 + offset.1);
        let at = BBox {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        };
        if self.is_free(p, &at) {
            self.commit(text, p, ink, at);
        } else {
            self.place(text, p, ink, 12, true);
        }
    }

    fn commit(&mut self, text: String, p: (i32, i32), ink: Ink, at: BBox) {
        self.taken.push(at);
        self.uncrossable.push(at);
        let end = at.nearest(p);
        if distance(p, end) > f64::from(LEADER_FROM) {
            self.taken.extend(line_boxes(&[p, end]));
        }
        self.placed.push(Placed {
            text,
            point: p,
            at,
            ink,
        });
    }

    /// Whether a label for `p` can go at `b`: inside the bounds, clear of everything taken;
    /// with a leader line, one that crosses no marker or label; without one, nearer to `p`
    /// than to any other marker (so it cannot be read as another point's label).
    fn is_free(&self, p: (i32, i32), b: &BBox) -> bool {
        if !b.within(&self.bounds) || self.taken.iter().any(|t| t.overlaps(b)) {
            return false;
        }
        let own = distance(p, b.nearest(p));
        if own > f64::from(LEADER_FROM) {
            return self.leader_crossings(p, b) == 0;
        }
        self.markers
            .iter()
            .all(|&m| m == p || distance(m, b.nearest(m)) > own + 2.0)
    }

    /// How many markers and labels the leader line from `p` to `b` runs through.
    fn leader_crossings(&self, p: (i32, i32), b: &BBox) -> usize {
        let end = b.nearest(p);
        let len = distance(p, end);
        if len <= f64::from(LEADER_FROM) {
            return 0;
        }
        let steps = (len / 3.0).ceil().min(400.0) as i32;
        let samples: Vec<(i32, i32)> = (0..=steps)
            .map(|k| {
                let f = f64::from(k) / f64::from(steps);
                let x = f64::from(p.0) + f * f64::from(end.0 - p.0);
                let y = f64::from(p.1) + f * f64::from(end.1 - p.1);
                (x.round() as i32, y.round() as i32)
            })
            .filter(|&q| distance(p, q) >= 8.0)
            .collect();
        self.uncrossable
            .iter()
            .filter(|t| samples.iter().any(|&q| t.contains(q)))
            .count()
    }

    /// The candidate inside the bounds that overlaps what is taken least (and among those, whose
    /// leader line crosses fewest markers and labels), or, if none fits inside, the label right of the point pushed into the bounds.
    fn least_bad(&self, p: (i32, i32), size: (i32, i32), rings: usize) -> BBox {
        // Overlap first (a leader line across something is the lesser evil), then crossings.
        let cost = |b: &BBox| {
            let area: i64 = self.taken.iter().map(|t| t.overlap_area(b)).sum();
            (area, self.leader_crossings(p, b))
        };
        candidates(p, size, rings.max(1))
            .filter(|b| b.within(&self.bounds))
            .min_by_key(cost)
            .unwrap_or_else(|| {
                let (w, h) = size;
                let x0 = (p.0 + 6).min(self.bounds.x1 - w).max(self.bounds.x0);
                let y0 = (p.1 - h / 2).min(self.bounds.y1 - h).max(self.bounds.y0);
                BBox {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                }
            })
    }

    /// Draws the labels: first a thin grey leader line from each point whose label sits away
    /// from it, then over them each label on a faint white backing (so a line behind a label
    /// does not cross its text).
    fn draw(&self, root: &Root<'_>) -> Fallible {
        for l in &self.placed {
            let end = l.at.nearest(l.point);
            if distance(l.point, end) > f64::from(LEADER_FROM) {
                root.draw(&PathElement::new(
                    vec![l.point, end],
                    RGBColor(150, 150, 150).stroke_width(1),
                ))?;
            }
        }
        for l in &self.placed {
            let at = l.at;
            root.draw(&Rectangle::new(
                [(at.x0, at.y0), (at.x1, at.y1)],
                WHITE.mix(0.8).filled(),
            ))?;
            put(
                root,
                &l.text,
                (at.x0 + 2, at.y0 + 2),
                l.ink,
                (HPos::Left, VPos::Top),
            )?;
        }
        Ok(())
    }
}

fn distance(a: (i32, i32), b: (i32, i32)) -> f64 {
    let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    (dx * dx + dy * dy).sqrt()
}

/// Label positions around `p` for a label of size (w, h), ring after ring.
fn candidates(p: (i32, i32), (w, h): (i32, i32), rings: usize) -> impl Iterator<Item = BBox> {
    let (x, y) = p;
    (0..rings).flat_map(move |ring| {
        // Ring 0 touches a marker box of half-size 6 around the point.
        let d = 8 + 14 * i32::try_from(ring).unwrap_or(0);
        let diag = d * 3 / 4;
        [
            (x + d, y - h / 2),
            (x + diag, y - diag - h),
            (x + diag, y + diag),
            (x - d - w, y - h / 2),
            (x - w / 2, y - d - h),
            (x - w / 2, y + d),
            (x - diag - w, y - diag - h),
            (x - diag - w, y + diag),
        ]
        .map(|(x0, y0)| BBox {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        })
    })
}

/// Boxes covering the polyline through `points` (3 px either side), so labels keep off it.
fn line_boxes(points: &[(i32, i32)]) -> Vec<BBox> {
    let mut boxes = Vec::new();
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let len = (x1 - x0).abs().max((y1 - y0).abs());
        let steps = (len / 8).clamp(1, 400);
        let at = |k: i32| (x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps);
        for k in 0..steps {
            let ((ax, ay), (bx, by)) = (at(k), at(k + 1));
            boxes.push(BBox {
                x0: ax.min(bx) - 3,
                y0: ay.min(by) - 3,
                x1: ax.max(bx) + 3,
                y1: ay.max(by) + 3,
            });
        }
    }
    boxes
}

/// Size in px of a label box for `text` (text plus a 2 px margin).
fn label_size(text: &str, ink: Ink) -> (i32, i32) {
    (ink.width(text) + 4, ink.height() + 4)
}

/// Draws a legend swatch with its left centre at the given point.
type Swatch<'s> = dyn Fn(&Root<'_>, (i32, i32)) -> Fallible + 's;

/// A legend row: for each entry a swatch drawn by `swatch` at its left (16 px wide) and the
/// text, left to right from `(x, y)` (y is the row's centre line).
fn legend(root: &Root<'_>, (x, y): (i32, i32), entries: &[(&str, &Swatch<'_>)]) -> Fallible {
    let ink = Ink::new(LABEL_SIZE, INK);
    let mut at = x;
    for (text, swatch) in entries {
        swatch(root, (at, y))?;
        put(root, text, (at + 22, y), ink, (HPos::Left, VPos::Center))?;
        at += 22 + ink.width(text) + 24;
    }
    Ok(())
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

    #[test]
    fn view_box_is_present_or_added() {
        let svg = history_svg(&[]);
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 900 260\""));
        let bare =
            "<svg width=\"900\" height=\"300\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>";
        let fixed = with_view_box(bare.to_owned());
        assert!(
            fixed.starts_with("<svg width=\"900\" height=\"300\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 900 300\">"),
            "{fixed}"
        );
        assert_eq!(with_view_box(fixed.clone()), fixed);
        assert_eq!(
            with_view_box("<svg width=\"1\" height=\"2\"/>".to_owned()),
            "<svg width=\"1\" height=\"2\" viewBox=\"0 0 1 2\"/>"
        );
        for odd in ["", "no svg here", "<svg>", "<g width=\"1\" height=\"1\">"] {
            assert_eq!(with_view_box(odd.to_owned()), odd);
        }
    }

    #[test]
    fn charts_are_labelled_for_assistive_technology() {
        let svg = accessible(
            "<svg width=\"900\" height=\"200\" viewBox=\"0 0 900 200\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>".to_owned(),
            "A <b>title</b>",
            "Says what it shows: \"quotes\" & 'apostrophes'.",
        );
        assert!(svg.starts_with("<svg width=\"900\" height=\"200\" viewBox=\"0 0 900 200\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Says what it shows: &quot;quotes&quot; &amp; &#39;apostrophes&#39;.\">\n<title>A &lt;b&gt;title&lt;/b&gt;</title>\n<rect/>"), "{svg}");
        // Once only, and nothing else is touched.
        assert_eq!(accessible(svg.clone(), "x", "y"), svg);
        for odd in ["", "text", "<g>", "<svg/>"] {
            assert_eq!(accessible(odd.to_owned(), "x", "y"), odd);
        }
        // Every chart of this module: the history and the "no data" panel.
        let l = labels(3);
        for svg in [
            history_svg(&[]),
            history_svg(&[series("a & b", &l, &[1.0, 2.0, 3.0])]),
            no_data_svg("Empty"),
        ] {
            let head = &svg[..svg.find('>').unwrap()];
            assert!(head.contains(" role=\"img\" aria-label=\""), "{head}");
            assert!(svg[head.len()..].starts_with(">\n<title>"), "{svg}");
        }
        let svg = history_svg(&[series("a & b", &l, &[1.0, 2.0, 3.0])]);
        assert!(
            svg.contains("aria-label=\"One metric over time, with its interval: “a &amp; b”.\""),
            "{svg}"
        );
    }

    #[test]
    fn tick_labels() {
        assert_eq!(usd_tick_label(1_000_000.0, 0.0), "$1M");
        assert_eq!(usd_tick_label(-2500.0, 500.0), "-$2.5k");
        assert_eq!(tick_label(0.01, 0.0), "0.01");
        assert_eq!(tick_label(1000.0, 0.0), "1000");
        assert_eq!(tick_label(1e7, 0.0), "1e7");
        assert_eq!(tick_label(2.5, 0.5), "2.5");
    }

    #[test]
    fn axis_ticks() {
        let a = Axis::new(0.0, 10.0, false, 0, 500).unwrap();
        assert_eq!(a.ticks(5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!((a.px(0.0), a.px(5.0), a.px(10.0)), (0, 250, 500));
        let a = Axis::new(0.01, 1000.0, true, 100, 600).unwrap();
        assert_eq!(a.ticks(8), vec![0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(a.px(1.0), 300);
        // Narrow log ranges get 2× and 5× ticks; very wide ones every few decades.
        let a = Axis::new(30.0, 3000.0, true, 0, 100).unwrap();
        assert_eq!(a.ticks(8), vec![50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]);
        let a = Axis::new(1e-300, 1e300, true, 0, 100).unwrap();
        assert!(a.ticks(8).len() <= 9);
        // Far from zero the ticks still end (counted in integers).
        let a = Axis::new(1e16, 1e16 + 4.0, false, 0, 100).unwrap();
        assert!(a.ticks(5).len() <= 101);
        assert!(Axis::new(0.0, 1.0, true, 0, 100).is_none());
        assert!(Axis::new(1.0, 1.0, false, 0, 100).is_none());
        assert!(Axis::new(-f64::MAX, f64::MAX, false, 0, 100).is_none());
        assert_eq!(nice_ceil(7.3e6, 5), 8e6);
        assert_eq!(log_floor(1.05e4), 1e3);
        assert_eq!(log_floor(3e4), 1e4);
    }

    #[test]
    fn labeller_keeps_labels_apart() {
        let bounds = BBox {
            x0: 0,
            y0: 0,
            x1: 600,
            y1: 400,
        };
        let points: Vec<(i32, i32)> = (0..20).map(|i| (250 + i * 3, 200 - i * 2)).collect();
        let markers = points.iter().map(|&p| BBox::around(p, 6)).collect();
        let mut l = Labeller::new(bounds, markers, line_boxes(&[(0, 300), (600, 100)]));
        let ink = Ink::new(12.0, INK);
        for &p in &points {
            assert!(l.place("a label".to_owned(), p, ink, 12, true));
        }
        // An optional label that does not fit next to its point is left out.
        assert!(!l.place("x".repeat(40), points[10], ink, 1, false));
        assert_eq!(l.placed.len(), 20);
        for (i, a) in l.placed.iter().enumerate() {
            assert!(a.at.within(&bounds));
            for b in &l.placed[i + 1..] {
                assert!(!a.at.overlaps(&b.at), "{a:?} {b:?}");
            }
            for p in &points {
                assert!(!BBox::around(*p, 6).overlaps(&a.at), "{a:?} on {p:?}");
            }
        }
    }
}
