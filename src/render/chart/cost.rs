//! Cost charts for the report: training cost per option grouped by pricing plan
//! ([`cost_by_plan`]), wall-clock time against cost with the Pareto frontier
//! ([`time_vs_cost`], [`pareto_front`]), and how the cost moves when efficiency or price are
//! off by 20% ([`sensitivity_tornado`]).
//!
//! Costs are in USD and written by `units::usd` ("$1.235M"). A cost axis is log10 when all values are
//! positive and the largest is more than 20× the smallest, linear from zero otherwise; the axis
//! title says which. Non-finite (or negative) costs are never drawn as bars: their row says
//! "no data", and a chart without any usable value is a "no data" panel.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Axis, BBox, Fallible, GREY_TEXT, GRID, INK, Ink, LABEL_SIZE, Labeller, OI_BLACK, OI_BLUE,
    OI_GREEN, OI_ORANGE, OI_PURPLE, OI_SKY, OI_VERMILLION, OI_YELLOW, Root, WIDTH_PX, fit,
    height_of, legend, line_boxes, log_floor, nice_ceil, no_data_svg, padded, put, px, render,
    tick_label, title, usd_tick_label, wants_log, x_axis, y_axis,
};
use crate::units::{self, MISSING};

/// One priced option: `option` is the instance name (e.g. "p5.48xlarge"), `plan` the pricing
/// plan ("on_demand", "reserved_1yr", "reserved_3yr", "capacity_block", "spot").
#[derive(Debug, Clone, Copy)]
pub struct CostBar<'a> {
    pub plan: &'a str,
    pub option: &'a str,
    pub usd: f64,
}

/// A wall-clock time and a cost for one option.
#[derive(Debug, Clone, Copy)]
pub struct TimeCost<'a> {
    pub option: &'a str,
    pub days: f64,
    pub usd: f64,
}

/// How one option's cost moves when the model's inputs are off by 20%.
#[derive(Debug, Clone, Copy)]
pub struct Sensitivity<'a> {
    pub option: &'a str,
    /// Cost at the model's inputs.
    pub usd: f64,
    /// Cost with every efficiency × 0.8 and × 1.2 (so the first is the higher cost).
    pub efficiency: (f64, f64),
    /// Cost with the price × 0.8 and × 1.2.
    pub price: (f64, f64),
}

/// Bar colours of the pricing plans, in order of first appearance (cycled). Vermillion is kept
/// for the cheapest bar.
const PLAN_COLOURS: [RGBColor; 6] = [OI_BLUE, OI_GREEN, OI_PURPLE, OI_SKY, OI_YELLOW, OI_ORANGE];
const CHEAPEST: RGBColor = OI_VERMILLION;
/// Widest option name on the left of the bars, px; longer names are cut with "…".
const MAX_NAME_PX: i32 = 260;
const NAME_INK: Ink = Ink::new(LABEL_SIZE, INK);
const VALUE_INK: Ink = Ink::new(12.0, INK);
const SMALL_GREY: Ink = Ink::new(11.5, GREY_TEXT);
/// The figures right of the tornado rows.
const RANGE_INK: Ink = Ink::new(11.5, INK);
/// Rows at which the tick labels are repeated above the bars.
const MANY_ROWS: usize = 20;

/// A cost that can be drawn: finite and not negative.
fn usable(usd: f64) -> bool {
    usd.is_finite() && usd >= 0.0
}

/// "training cost (USD, log scale)" or "…, linear scale)".
fn cost_axis_title(log: bool) -> String {
    let scale = if log { "log" } else { "linear" };
    format!("training cost (USD, {scale} scale)")
}

/// The cost axis (USD ticks, "log" or "linear" in its title) below and, with `many` rows,
/// above the bars.
fn cost_axis(root: &Root<'_>, axis: &Axis, log: bool, span: (i32, i32), many: bool) -> Fallible {
    let (ticks, fmt) = usd_ticks(axis, if log { 8 } else { 6 });
    x_axis(root, axis, &ticks, &fmt, span, many, &cost_axis_title(log))
}

/// Tick labels of a cost axis: "$1M", "$250k".
fn usd_ticks(axis: &Axis, target: usize) -> (Vec<f64>, impl Fn(f64) -> String) {
    let step = axis.tick_step(target);
    (axis.ticks(target), move |t: f64| usd_tick_label(t, step))
}

/// The smallest and largest of `values`, if any.
fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

const COST_TITLE: &str = "Training cost by pricing plan";
const ROW: i32 = 20;
const BAR: i32 = 13;
const GROUP_HEAD: i32 = 26;

/// Training cost per option grouped by pricing plan: one group per plan (in order of first
/// appearance) headed by the plan name and a swatch of its bar colour, one horizontal bar per
/// option inside it (in the given order, so an option sits at the same place in every group),
/// value labels like "$1.23M" at the bar end, and the cheapest bar overall (the first one on a
/// tie) in vermillion with a black outline and "· cheapest" after its value. Cost axis log10
/// when max/min > 20 (all costs positive), linear from zero otherwise; the axis title says
/// which. The height grows by 20 px per bar and 26 px per plan, so 60 bars stay legible; from
/// 20 bars on the tick labels are repeated above the bars.
///
/// Never panics: a bar whose cost is not finite or negative says "no data" in its row; no
/// usable cost at all gives a "no data" panel.
pub fn cost_by_plan(bars: &[CostBar<'_>]) -> String {
    let Some((min, max)) = min_max(bars.iter().map(|b| b.usd).filter(|&u| usable(u))) else {
        return no_data_svg(COST_TITLE);
    };
    let cheapest = bars.iter().position(|b| usable(b.usd) && b.usd == min);
    let mut plans: Vec<&str> = Vec::new();
    for b in bars {
        if !plans.contains(&b.plan) {
            plans.push(b.plan);
        }
    }

    let value_text = |i: usize| {
        let v = units::usd(bars[i].usd);
        if Some(i) == cheapest {
            format!("{v} · cheapest")
        } else {
            v
        }
    };
    let names: Vec<String> = bars
        .iter()
        .map(|b| fit(option_name(b.option), MAX_NAME_PX, NAME_INK))
        .collect();
    let name_w = names.iter().map(|n| NAME_INK.width(n)).max().unwrap_or(0);
    let value_w = (0..bars.len())
        .map(|i| {
            let t = value_text(i);
            if Some(i) == cheapest {
                VALUE_INK.bold().width(&t)
            } else {
                VALUE_INK.width(&t)
            }
        })
        .max()
        .unwrap_or(0);
    let plot_x0 = 16 + name_w.max(60) + 12;
    let plot_x1 = WIDTH_PX - 16 - value_w - 10;

    let many = bars.len() >= MANY_ROWS;
    let top: i32 = 48 + if many { 22 } else { 0 };
    let bottom = top
        .saturating_add(px(plans.len()).saturating_mul(GROUP_HEAD))
        .saturating_add(px(bars.len()).saturating_mul(ROW))
        .saturating_add(6);
    let height = bottom.saturating_add(50);

    let log = wants_log(min, max);
    let (lo, hi) = if log {
        (log_floor(min), max)
    } else {
        (0.0, nice_ceil(max, 5))
    };
    let Some(axis) = Axis::new(lo, hi, log, plot_x0, plot_x1) else {
        return no_data_svg(COST_TITLE);
    };

    render(height_of(height), |root| {
        title(root, COST_TITLE)?;
        cost_axis(root, &axis, log, (top, bottom), many)?;

        let mut y = top;
        for (g, plan) in plans.iter().enumerate() {
            let colour = PLAN_COLOURS[g % PLAN_COLOURS.len()];
            if g > 0 {
                root.draw(&PathElement::new(
                    vec![(16, y), (WIDTH_PX - 16, y)],
                    RGBColor(190, 190, 190),
                ))?;
            }
            let cy = y + GROUP_HEAD / 2 + 1;
            root.draw(&Rectangle::new(
                [(16, cy - 6), (28, cy + 6)],
                colour.filled(),
            ))?;
            let head = if plan.is_empty() { "(no plan)" } else { plan };
            let head = fit(head, WIDTH_PX - 60, NAME_INK.bold());
            put(
                root,
                &head,
                (34, cy),
                NAME_INK.bold(),
                (HPos::Left, VPos::Center),
            )?;
            y += GROUP_HEAD;
            for (i, b) in bars.iter().enumerate().filter(|(_, b)| b.plan == *plan) {
                let cy = y + ROW / 2;
                put(
                    root,
                    &names[i],
                    (plot_x0 - 10, cy),
                    NAME_INK,
                    (HPos::Right, VPos::Center),
                )?;
                if usable(b.usd) {
                    let end = axis.px(b.usd).max(plot_x0);
                    let is_cheapest = Some(i) == cheapest;
                    let fill = if is_cheapest { CHEAPEST } else { colour };
                    let corners = [(plot_x0, cy - BAR / 2), (end, cy + BAR / 2)];
                    root.draw(&Rectangle::new(corners, fill.filled()))?;
                    if is_cheapest {
                        root.draw(&Rectangle::new(corners, OI_BLACK.stroke_width(1)))?;
                    }
                    let ink = if is_cheapest {
                        VALUE_INK.bold()
                    } else {
                        VALUE_INK
                    };
                    put(
                        root,
                        &value_text(i),
                        (end + 6, cy),
                        ink,
                        (HPos::Left, VPos::Center),
                    )?;
                } else {
                    put(
                        root,
                        "no data",
                        (plot_x0 + 6, cy),
                        SMALL_GREY,
                        (HPos::Left, VPos::Center),
                    )?;
                }
                y += ROW;
            }
        }
        Ok(())
    })
}

/// The option's name, or "(unnamed)".
fn option_name(option: &str) -> &str {
    if option.is_empty() {
        "(unnamed)"
    } else {
        option
    }
}

/// Indices of the Pareto-optimal points (no other point is at most as slow and at most as
/// expensive and strictly better in one), sorted by days ascending (then by cost, then by
/// index). Points with a non-finite time or cost are never on the front and dominate nothing;
/// identical points do not dominate each other, so all copies of a front point are on it.
pub fn pareto_front(points: &[TimeCost<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].days.is_finite() && points[i].usd.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        let (p, q) = (&points[a], &points[b]);
        p.days
            .total_cmp(&q.days)
            .then(p.usd.total_cmp(&q.usd))
            .then(a.cmp(&b))
    });
    // Walk groups of equal time, fastest first. A point is on the front when it is the
    // cheapest of its group and strictly cheaper than every faster point.
    let mut front = Vec::new();
    let mut cheapest_faster = f64::INFINITY;
    let mut k = 0;
    while k < order.len() {
        let days = points[order[k]].days;
        let end = k + order[k..]
            .iter()
            .take_while(|&&i| points[i].days == days)
            .count();
        let group = &order[k..end];
        let group_min = group
            .iter()
            .map(|&i| points[i].usd)
            .fold(f64::INFINITY, f64::min);
        if group_min < cheapest_faster {
            front.extend(
                group
                    .iter()
                    .copied()
                    .filter(|&i| points[i].usd == group_min),
            );
        }
        cheapest_faster = cheapest_faster.min(group_min);
        k = end;
    }
    front
}

const SCATTER_TITLE: &str = "Training time vs cost";
const SCATTER_HEIGHT: i32 = 600;
const OTHER: RGBColor = OI_BLUE;
const FRONT: RGBColor = OI_VERMILLION;

/// Scatter of wall-clock days (x) against cost in USD (y), each axis log10 when its values are
/// positive and span more than 20×, else linear (the axis titles say which). Every point with a
/// finite time and cost is drawn (blue); the Pareto frontier ([`pareto_front`]) is a vermillion
/// step line through its points, which are drawn larger, outlined and labelled with `option`
/// (bold; placed clear of the markers and of each other, with a leader line when moved
/// away). Other points get a small grey label only where one fits right next to them without
/// overlapping anything. Legend: "Pareto frontier", "other options". A footnote counts the
/// options left out for a non-finite time or cost.
///
/// Never panics; no point with a finite time and cost gives a "no data" panel.
pub fn time_vs_cost(points: &[TimeCost<'_>]) -> String {
    let finite: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].days.is_finite() && points[i].usd.is_finite())
        .collect();
    let (Some((d0, d1)), Some((c0, c1))) = (
        min_max(finite.iter().map(|&i| points[i].days)),
        min_max(finite.iter().map(|&i| points[i].usd)),
    ) else {
        return no_data_svg(SCATTER_TITLE);
    };
    let (x_log, y_log) = (wants_log(d0, d1), wants_log(c0, c1));
    let (x_lo, x_hi) = padded(d0, d1, x_log, 0.06);
    let (y_lo, y_hi) = padded(c0, c1, y_log, 0.08);

    let (top, bottom) = (74, SCATTER_HEIGHT - 84);
    let right = WIDTH_PX - 24;
    // The y tick labels decide the left margin.
    let probe = Axis::new(y_lo, y_hi, y_log, bottom, top);
    let y_ticks = probe.map(|a| a.ticks(7)).unwrap_or_default();
    let y_step = probe.map_or(0.0, |a| a.tick_step(7));
    let y_fmt = move |t: f64| usd_tick_label(t, y_step);
    let tick_w = y_ticks
        .iter()
        .map(|&t| NAME_INK.width(&y_fmt(t)))
        .max()
        .unwrap_or(0);
    let left = 40 + tick_w + 10;
    let (Some(xa), Some(ya)) = (
        Axis::new(x_lo, x_hi, x_log, left, right),
        Axis::new(y_lo, y_hi, y_log, bottom, top),
    ) else {
        return no_data_svg(SCATTER_TITLE);
    };
    let front = pareto_front(points);
    let left_out = points.len() - finite.len();

    render(height_of(SCATTER_HEIGHT), |root| {
        title(root, SCATTER_TITLE)?;
        let front_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&PathElement::new(
                vec![(x, y), (x + 16, y)],
                FRONT.stroke_width(2),
            ))?;
            front_marker(root, (x + 8, y))
        };
        let other_swatch =
            |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible { other_marker(root, (x + 8, y)) };
        legend(
            root,
            (left, 50),
            &[
                ("Pareto frontier", &front_swatch),
                ("other options", &other_swatch),
            ],
        )?;

        let x_step = xa.tick_step(8);
        x_axis(
            root,
            &xa,
            &xa.ticks(8),
            &|t| tick_label(t, x_step),
            (top, bottom),
            false,
            &format!(
                "wall-clock time (days, {} scale)",
                if x_log { "log" } else { "linear" }
            ),
        )?;
        y_axis(
            root,
            &ya,
            &y_ticks,
            &y_fmt,
            (left, right),
            (&cost_axis_title(y_log), 22),
        )?;
        root.draw(&PathElement::new(vec![(left, top), (right, top)], GRID))?;
        root.draw(&PathElement::new(vec![(right, top), (right, bottom)], GRID))?;

        let at = |i: usize| (xa.px(points[i].days), ya.px(points[i].usd));
        for &i in &finite {
            if !front.contains(&i) {
                other_marker(root, at(i))?;
            }
        }
        let mut step: Vec<(i32, i32)> = Vec::new();
        for (k, &i) in front.iter().enumerate() {
            step.push(at(i));
            if let Some(&next) = front.get(k + 1) {
                step.push((at(next).0, at(i).1));
            }
        }
        root.draw(&PathElement::new(step.clone(), FRONT.stroke_width(2)))?;
        for &i in &front {
            front_marker(root, at(i))?;
        }

        // Labels, clear of the markers, the frontier line and each other: the frontier's
        // first, then the others' where one fits right next to its point.
        let bounds = BBox {
            x0: left + 2,
            y0: top + 2,
            x1: right - 2,
            y1: bottom - 2,
        };
        let markers: Vec<BBox> = finite.iter().map(|&i| BBox::around(at(i), 6)).collect();
        let mut labels = Labeller::new(bounds, markers, line_boxes(&step));
        let front_ink = Ink::new(12.0, INK).bold();
        for &i in &front {
            let text = fit(option_name(points[i].option), 240, front_ink);
            labels.place(text, at(i), front_ink, 12, true);
        }
        for &i in &finite {
            if !front.contains(&i) {
                let text = fit(option_name(points[i].option), 240, SMALL_GREY);
                labels.place(text, at(i), SMALL_GREY, 1, false);
            }
        }
        labels.draw(root)?;
        if left_out > 0 {
            let s = if left_out == 1 { "" } else { "s" };
            put(
                root,
                &format!("{left_out} option{s} with a non-finite time or cost (no data) not shown"),
                (left, SCATTER_HEIGHT - 14),
                SMALL_GREY,
                (HPos::Left, VPos::Bottom),
            )?;
        }
        Ok(())
    })
}

fn front_marker(root: &Root<'_>, p: (i32, i32)) -> Fallible {
    root.draw(&Circle::new(p, 5, FRONT.filled()))?;
    root.draw(&Circle::new(p, 5, OI_BLACK.stroke_width(1)))?;
    Ok(())
}

fn other_marker(root: &Root<'_>, p: (i32, i32)) -> Fallible {
    root.draw(&Circle::new(p, 4, OTHER.mix(0.8).filled()))?;
    Ok(())
}

const TORNADO_TITLE: &str = "Cost sensitivity: efficiency and price ±20%";
const TORNADO_ROW: i32 = 38;
const EFFICIENCY: RGBColor = OI_BLUE;
const PRICE: RGBColor = OI_ORANGE;

/// Tornado chart: one row per option (in the given order) with its name and, below it in grey,
/// its cost at the model's inputs; two thin bars per row — "efficiency ±20%" (blue, upper) and
/// "price ±20%" (orange, lower) — each spanning min..max of its pair; a black tick at the cost
/// at the inputs; and on the right the two ranges in figures ("efficiency $0.98M–$1.54M").
/// x axis = cost in USD, log10 when all values are positive and max/min > 20, linear from zero
/// otherwise. Legend for the two inputs and the tick. From 20 rows on the tick labels are
/// repeated above the rows.
///
/// Never panics: a pair with a non-finite or negative value has no bar (its figures read
/// "—"), a row with nothing usable says "no data", and no usable value at all gives a
/// "no data" panel.
pub fn sensitivity_tornado(rows: &[Sensitivity<'_>]) -> String {
    let pair = |p: (f64, f64)| (usable(p.0) && usable(p.1)).then(|| (p.0.min(p.1), p.0.max(p.1)));
    let values = rows.iter().flat_map(|r| {
        let mut v = Vec::with_capacity(5);
        if usable(r.usd) {
            v.push(r.usd);
        }
        for (a, b) in [pair(r.efficiency), pair(r.price)].into_iter().flatten() {
            v.extend([a, b]);
        }
        v
    });
    let Some((min, max)) = min_max(values) else {
        return no_data_svg(TORNADO_TITLE);
    };
    let log = wants_log(min, max);
    let (lo, hi) = if log {
        padded(min, max, true, 0.04)
    } else {
        (0.0, nice_ceil(max, 5))
    };

    let range_text = |what: &str, p: Option<(f64, f64)>| match p {
        Some((a, b)) => format!("{what} {}–{}", units::usd(a), units::usd(b)),
        None => format!("{what} {MISSING}"),
    };
    let texts: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                fit(option_name(r.option), MAX_NAME_PX, NAME_INK),
                format!("at inputs {}", units::usd(r.usd)),
                range_text("efficiency", pair(r.efficiency)),
                range_text("price", pair(r.price)),
            ]
        })
        .collect();
    let name_w = texts
        .iter()
        .map(|t| NAME_INK.width(&t[0]).max(SMALL_GREY.width(&t[1])))
        .max()
        .unwrap_or(0);
    let range_w = texts
        .iter()
        .map(|t| SMALL_GREY.width(&t[2]).max(SMALL_GREY.width(&t[3])))
        .max()
        .unwrap_or(0);
    let plot_x0 = 16 + name_w.max(60) + 14;
    let plot_x1 = WIDTH_PX - 16 - range_w - 14;
    let Some(axis) = Axis::new(lo, hi, log, plot_x0, plot_x1) else {
        return no_data_svg(TORNADO_TITLE);
    };
    let many = rows.len() >= MANY_ROWS;
    let top: i32 = 74 + if many { 22 } else { 0 };
    let bottom = top
        .saturating_add(px(rows.len()).saturating_mul(TORNADO_ROW))
        .saturating_add(4);
    let height = bottom.saturating_add(50);

    render(height_of(height), |root| {
        title(root, TORNADO_TITLE)?;
        let eff_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&Rectangle::new(
                [(x, y - 4), (x + 16, y + 4)],
                EFFICIENCY.filled(),
            ))?;
            Ok(())
        };
        let price_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&Rectangle::new(
                [(x, y - 4), (x + 16, y + 4)],
                PRICE.filled(),
            ))?;
            Ok(())
        };
        let tick_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&PathElement::new(
                vec![(x + 8, y - 8), (x + 8, y + 8)],
                OI_BLACK.stroke_width(2),
            ))?;
            Ok(())
        };
        legend(
            root,
            (plot_x0, 48),
            &[
                ("efficiency ±20%", &eff_swatch),
                ("price ±20%", &price_swatch),
                ("cost at the model's inputs", &tick_swatch),
            ],
        )?;
        // Row shading under the grid.
        for k in (1..rows.len()).step_by(2) {
            let y = top + px(k) * TORNADO_ROW;
            root.draw(&Rectangle::new(
                [(16, y), (WIDTH_PX - 16, y + TORNADO_ROW)],
                RGBColor(246, 246, 246).filled(),
            ))?;
        }
        cost_axis(root, &axis, log, (top, bottom), many)?;

        for (k, (r, t)) in rows.iter().zip(&texts).enumerate() {
            let y = top + px(k) * TORNADO_ROW;
            let (cy1, cy2) = (y + 13, y + 26);
            put(
                root,
                &t[0],
                (plot_x0 - 12, cy1),
                NAME_INK,
                (HPos::Right, VPos::Center),
            )?;
            put(
                root,
                &t[1],
                (plot_x0 - 12, cy2),
                SMALL_GREY,
                (HPos::Right, VPos::Center),
            )?;
            let bars = [
                (pair(r.efficiency), EFFICIENCY, cy1),
                (pair(r.price), PRICE, cy2),
            ];
            if !usable(r.usd) && bars.iter().all(|b| b.0.is_none()) {
                put(
                    root,
                    "no data",
                    (plot_x0 + 6, (cy1 + cy2) / 2),
                    SMALL_GREY,
                    (HPos::Left, VPos::Center),
                )?;
                continue;
            }
            for (span, colour, cy) in bars {
                if let Some((a, b)) = span {
                    // At least 2 px, so a zero-width range still shows.
                    let (x0, x1) = (axis.px(a), axis.px(b).max(axis.px(a) + 2));
                    root.draw(&Rectangle::new(
                        [(x0, cy - 4), (x1, cy + 5)],
                        colour.filled(),
                    ))?;
                }
            }
            if usable(r.usd) {
                let x = axis.px(r.usd);
                root.draw(&PathElement::new(
                    vec![(x, y + 5), (x, y + 34)],
                    OI_BLACK.stroke_width(2),
                ))?;
            }
            for (text, cy) in [(&t[2], cy1), (&t[3], cy2)] {
                put(
                    root,
                    text,
                    (plot_x1 + 14, cy),
                    RANGE_INK,
                    (HPos::Left, VPos::Center),
                )?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PLANS: [&str; 5] = [
        "on_demand",
        "reserved_1yr",
        "reserved_3yr",
        "capacity_block",
        "spot",
    ];

    fn check_svg(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        let head = &svg[..svg.find('>').unwrap()];
        assert!(head.contains("viewBox=\"0 0 900 "), "{head}");
    }

    fn bar<'a>(plan: &'a str, option: &'a str, usd: f64) -> CostBar<'a> {
        CostBar { plan, option, usd }
    }

    fn tc(option: &str, days: f64, usd: f64) -> TimeCost<'_> {
        TimeCost { option, days, usd }
    }

    fn sens(option: &str, usd: f64) -> Sensitivity<'_> {
        Sensitivity {
            option,
            usd,
            efficiency: (usd * 1.25, usd * 0.833),
            price: (usd * 0.8, usd * 1.2),
        }
    }

    /// Brute force: does `j` dominate `i`?
    fn dominates(p: &[TimeCost<'_>], j: usize, i: usize) -> bool {
        let (a, b) = (&p[j], &p[i]);
        a.days <= b.days && a.usd <= b.usd && (a.days < b.days || a.usd < b.usd)
    }

    #[test]
    fn cost_by_plan_groups_marks_cheapest_once() {
        let options = ["p5.48xlarge", "p4d.24xlarge", "trn1.32xlarge"];
        let mut bars = Vec::new();
        for (k, plan) in PLANS.iter().enumerate() {
            for (j, option) in options.iter().enumerate() {
                let usd = 2.5e6 / (1.0 + k as f64) * (1.0 + j as f64 * 0.3);
                bars.push(bar(plan, option, usd));
            }
        }
        let svg = cost_by_plan(&bars);
        check_svg(&svg);
        for plan in PLANS {
            assert!(svg.contains(&format!(">\n{plan}\n<")), "{plan}");
        }
        assert_eq!(svg.matches("cheapest").count(), 1);
        // The cheapest is spot × p5.48xlarge: 2.5e6 / 5 = $500k, drawn bold.
        assert!(svg.contains("$500.0k · cheapest"), "{svg}");
        assert!(svg.contains("$2.500M"));
        // 2.5M / 0.5M = 5×: linear.
        assert!(svg.contains("USD, linear scale"));
        assert!(!svg.contains("no data"));
        // One vermillion bar, the rest in plan colours.
        assert_eq!(svg.matches("fill=\"#D55E00\"").count(), 1);
    }

    #[test]
    fn cost_by_plan_log_axis_ties_and_sixty_bars() {
        let names: Vec<String> = (0..60).map(|i| format!("instance-{i:02}")).collect();
        let bars: Vec<CostBar<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| bar(PLANS[i % 5], n, 1e4 * (1.0 + i as f64).powf(1.5)))
            .collect();
        let svg = cost_by_plan(&bars);
        check_svg(&svg);
        assert!(svg.contains("USD, log scale"));
        assert_eq!(svg.matches("cheapest").count(), 1);
        assert!(svg.contains("$10.00k · cheapest"));
        // Height grows with the rows: 60 bars of 20 px and 5 headers of 26 px at least.
        let h: i32 = svg
            .split("height=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        assert!(h >= 60 * 20 + 5 * 26, "{h}");
        for n in &names {
            assert!(svg.contains(n.as_str()), "{n}");
        }
        // Two equally cheap bars: only the first is marked.
        let svg = cost_by_plan(&[bar("spot", "a", 5.0), bar("spot", "b", 5.0)]);
        assert_eq!(svg.matches("cheapest").count(), 1);
        assert!(svg.contains("$5.00 · cheapest"));
    }

    #[test]
    fn cost_by_plan_no_data() {
        let svg = cost_by_plan(&[]);
        check_svg(&svg);
        assert!(svg.contains("no data"));
        let svg = cost_by_plan(&[
            bar("spot", "a", f64::NAN),
            bar("spot", "b", f64::INFINITY),
            bar("on_demand", "c", -1.0),
        ]);
        check_svg(&svg);
        assert!(svg.contains("no data") && !svg.contains("cheapest"));
        // Some bars usable: the others say "no data" in their row.
        let svg = cost_by_plan(&[
            bar("spot", "a", f64::NAN),
            bar("spot", "b", 3e5),
            bar("on_demand", "c", f64::NEG_INFINITY),
            bar("on_demand", "d", 0.0),
        ]);
        check_svg(&svg);
        assert_eq!(svg.matches(">\nno data\n<").count(), 2);
        assert!(svg.contains("$0.00 · cheapest"));
        // Extreme but finite.
        for usd in [
            [1e-300, 1e300],
            [f64::MAX, f64::MAX],
            [0.0, 0.0],
            [1e-320, 1.0],
        ] {
            let svg = cost_by_plan(&[bar("p", "a", usd[0]), bar("p", "b", usd[1])]);
            check_svg(&svg);
        }
    }

    #[test]
    fn cost_text_is_escaped() {
        let x = "<script>alert(1)</script>";
        for svg in [
            cost_by_plan(&[bar(x, x, 1.0)]),
            time_vs_cost(&[tc(x, 1.0, 2.0), tc("b", 2.0, 1.0)]),
            sensitivity_tornado(&[sens(x, 1e5)]),
        ] {
            check_svg(&svg);
            assert!(!svg.contains("<script"), "{svg}");
            assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(!svg.contains("&amp;lt;"));
        }
    }

    #[test]
    fn pareto_hand_made() {
        // b is dominated by a (as fast, dearer); c is slower and cheaper; d dominated by c.
        let p = [
            tc("a", 1.0, 10.0),
            tc("b", 1.0, 12.0),
            tc("c", 3.0, 5.0),
            tc("d", 4.0, 5.0),
            tc("e", 2.0, 20.0),
        ];
        assert_eq!(pareto_front(&p), vec![0, 2]);
        // Exact ties are both on the front; a tie in one coordinate is not.
        let p = [tc("x", 2.0, 2.0), tc("y", 2.0, 2.0), tc("z", 1.0, 2.0)];
        assert_eq!(pareto_front(&p), vec![2]);
        let p = [tc("x", 2.0, 2.0), tc("y", 2.0, 2.0), tc("z", 3.0, 1.0)];
        assert_eq!(pareto_front(&p), vec![0, 1, 2]);
        // NaN and infinities are never on the front and dominate nothing.
        let p = [
            tc("nan", f64::NAN, 0.0),
            tc("a", 5.0, 5.0),
            tc("inf", 0.0, f64::NEG_INFINITY),
            tc("b", 6.0, f64::NAN),
        ];
        assert_eq!(pareto_front(&p), vec![1]);
        assert!(pareto_front(&[]).is_empty());
        assert!(pareto_front(&[tc("n", f64::NAN, f64::NAN)]).is_empty());
        // Sorted by days, not by index.
        let p = [
            tc("slow", 9.0, 1.0),
            tc("fast", 1.0, 9.0),
            tc("mid", 5.0, 5.0),
        ];
        assert_eq!(pareto_front(&p), vec![1, 2, 0]);
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => (0u8..6).prop_map(f64::from),
            4 => 0.0..100.0f64,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(-0.0),
        ]
    }

    proptest! {
        #[test]
        fn pareto_front_properties(pts in prop::collection::vec((value(), value()), 0..40)) {
            let p: Vec<TimeCost<'_>> = pts.iter().map(|&(d, c)| tc("o", d, c)).collect();
            let front = pareto_front(&p);
            let finite = |i: usize| p[i].days.is_finite() && p[i].usd.is_finite();
            for w in front.windows(2) {
                prop_assert!(p[w[0]].days <= p[w[1]].days);
                prop_assert!(w[0] != w[1]);
            }
            for &f in &front {
                prop_assert!(finite(f));
                for j in 0..p.len() {
                    prop_assert!(!dominates(&p, j, f), "{f} dominated by {j}");
                }
            }
            for i in (0..p.len()).filter(|&i| finite(i) && !front.contains(&i)) {
                prop_assert!(
                    front.iter().any(|&f| dominates(&p, f, i)),
                    "{i} is off the front but no front point dominates it"
                );
            }
        }
    }

    #[test]
    fn time_vs_cost_front_labelled() {
        let p = [
            tc("p5.48xlarge", 3.0, 2.0e6),
            tc("p4d.24xlarge", 7.0, 1.5e6),
            tc("trn1.32xlarge", 9.0, 0.9e6),
            tc("g5.48xlarge", 12.0, 1.7e6),
            tc("dl1.24xlarge", 10.0, 2.2e6),
        ];
        let svg = time_vs_cost(&p);
        check_svg(&svg);
        assert!(svg.contains("Pareto frontier"));
        for name in ["p5.48xlarge", "p4d.24xlarge", "trn1.32xlarge"] {
            assert!(svg.contains(&format!(">\n{name}\n<")), "{name}");
        }
        // 3–12 days and $0.9–2.2M: linear.
        assert!(svg.contains("days, linear scale") && svg.contains("USD, linear scale"));
        assert!(!svg.contains("no data"));
        // Wide ranges: log axes.
        let p = [
            tc("a", 0.5, 1e4),
            tc("b", 50.0, 1e7),
            tc("c", 5.0, f64::NAN),
        ];
        let svg = time_vs_cost(&p);
        assert!(svg.contains("days, log scale") && svg.contains("USD, log scale"));
        assert!(svg.contains("1 option with a non-finite time or cost (no data) not shown"));
    }

    #[test]
    fn time_vs_cost_no_data_and_edge_cases() {
        for p in [
            vec![],
            vec![tc("a", f64::NAN, 1.0), tc("b", 1.0, f64::INFINITY)],
        ] {
            let svg = time_vs_cost(&p);
            check_svg(&svg);
            assert!(svg.contains("no data"));
        }
        for p in [
            vec![tc("one", 2.0, 3.0)],
            vec![tc("same", 2.0, 3.0); 30],
            vec![tc("neg", -2.0, -3.0), tc("zero", 0.0, 0.0)],
            vec![tc("tiny", 1e-300, 1e-300), tc("huge", 1e300, 1e300)],
            vec![tc("max", f64::MAX, f64::MAX), tc("min", -f64::MAX, 0.0)],
        ] {
            let svg = time_vs_cost(&p);
            check_svg(&svg);
        }
    }

    #[test]
    fn tornado_rows_and_no_data() {
        let rows = [sens("p5.48xlarge", 2.0e6), sens("trn1.32xlarge", 1.2e6)];
        let svg = sensitivity_tornado(&rows);
        check_svg(&svg);
        assert!(svg.contains("efficiency ±20%") && svg.contains("price ±20%"));
        assert!(svg.contains("p5.48xlarge") && svg.contains("trn1.32xlarge"));
        assert!(svg.contains("at inputs $2.000M"));
        assert!(svg.contains("price $1.600M–$2.400M"));
        // The efficiency pair is given high first and still spans min..max.
        assert!(svg.contains("efficiency $1.666M–$2.500M"));
        assert!(svg.contains("USD, linear scale"));
        assert!(!svg.contains("no data"));
        // Two bars per row.
        assert_eq!(svg.matches("fill=\"#0072B2\"").count(), 1 + 2);
        assert_eq!(svg.matches("fill=\"#E69F00\"").count(), 1 + 2);

        let svg = sensitivity_tornado(&[sens("a", 1e3), sens("b", 1e6)]);
        assert!(svg.contains("USD, log scale"));

        for rows in [
            vec![],
            vec![sens("nan", f64::NAN)],
            vec![Sensitivity {
                option: "inf",
                usd: f64::INFINITY,
                efficiency: (f64::NAN, 1.0),
                price: (f64::NEG_INFINITY, f64::INFINITY),
            }],
        ] {
            let svg = sensitivity_tornado(&rows);
            check_svg(&svg);
            assert!(svg.contains("no data"));
        }
        // A row without anything usable next to a good one says "no data" in its row.
        let svg = sensitivity_tornado(&[sens("good", 5e5), sens("bad", f64::NAN)]);
        check_svg(&svg);
        assert_eq!(svg.matches(">\nno data\n<").count(), 1);
        // Only the pairs usable, or only the base.
        let rows = [
            Sensitivity {
                usd: f64::NAN,
                ..sens("pairs", 1e5)
            },
            Sensitivity {
                efficiency: (f64::NAN, 1.0),
                price: (1.0, f64::INFINITY),
                ..sens("base", 1e5)
            },
        ];
        let svg = sensitivity_tornado(&rows);
        check_svg(&svg);
        assert!(svg.contains("efficiency —") && svg.contains("at inputs —"));
        assert!(!svg.contains("no data"));
    }
}
