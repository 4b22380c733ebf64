//! Cost charts for the report: training cost per option grouped by pricing plan
//! ([`cost_by_plan`]), wall-clock time against cost with the Pareto frontier
//! ([`time_vs_cost`], [`pareto_front`]), which uncertain input moves the Trainium-or-NVIDIA
//! verdict most ([`verdict_sensitivity`]), and, for reports without a Monte Carlo, how the cost
//! moves when efficiency or price are off by 20% ([`sensitivity_tornado`]).
//!
//! Options are coloured by vendor family ([`Family`]: Trainium, NVIDIA, CPU, other) with a
//! legend; where the Monte Carlo gave a 90% interval (5th to 95th percentile) it is drawn as a
//! whisker. Costs are in USD and written by `units::usd` ("$1.235M"). A cost axis is log10
//! when all values are positive and the largest is more than 20× the smallest, linear from zero
//! otherwise; the axis title says which. Non-finite (or negative) costs are never drawn as
//! bars: their row says "no data", and a chart without any usable value is a "no data" panel.
//! Every chart carries a `<title>` and an `aria-label` sentence saying what it shows.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Axis, BBox, Fallible, Family, GREY_TEXT, GRID, INK, Ink, LABEL_SIZE, Labeller, OI_BLACK,
    OI_BLUE, OI_ORANGE, OI_SKY, OI_VERMILLION, Root, WHISKER, WIDTH_PX, families_present,
    family_swatch, fit, h_whisker, height_of, in_words, legend, line_boxes, log_floor, nice_ceil,
    no_data_svg, padded, put, px, render, tick_label, title, usd_tick_label, v_whisker, wants_log,
    whisker_swatch, x_axis, y_axis,
};
use crate::units::{self, MISSING};

/// One priced option: `option` is the instance name (e.g. "p5.48xlarge"), `plan` the pricing
/// plan ("on_demand", "reserved_1yr", "reserved_3yr", "capacity_block", "spot").
#[derive(Debug, Clone, Copy)]
pub struct CostBar<'a> {
    pub plan: &'a str,
    pub option: &'a str,
    pub family: Family,
    /// The bar: the Monte Carlo's median cost, or the cost at the model's inputs without one.
    pub usd: f64,
    /// The 90% interval (5th and 95th percentile), when the report has a Monte Carlo.
    pub interval: Option<(f64, f64)>,
}

/// A wall-clock time and a cost for one option, each with its 90% interval when known.
#[derive(Debug, Clone, Copy)]
pub struct TimeCost<'a> {
    pub option: &'a str,
    pub family: Family,
    pub days: f64,
    pub usd: f64,
    pub days_interval: Option<(f64, f64)>,
    pub usd_interval: Option<(f64, f64)>,
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

/// How one uncertain input moves the ratio of the Trainium pick's cost to the NVIDIA pick's.
#[derive(Debug, Clone, Copy)]
pub struct Swing<'a> {
    /// The input in words: "Trn1 efficiency", "goodput", "spot price of trn1.32xlarge".
    pub input: &'a str,
    /// The median ratio in the trials where the input is in its lowest tenth of draws.
    pub at_low: f64,
    /// … in its highest tenth.
    pub at_high: f64,
}

/// The cheapest bar's outline.
const CHEAPEST: RGBColor = OI_BLACK;
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

/// An interval that can be drawn: both ends usable, in order.
fn usable_pair(p: Option<(f64, f64)>) -> Option<(f64, f64)> {
    p.filter(|&(a, b)| usable(a) && usable(b))
        .map(|(a, b)| (a.min(b), a.max(b)))
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

/// The families of `items` in words for an accessible label: "coloured by vendor family
/// (Trainium and NVIDIA)".
fn families_in_words(families: &[Family]) -> String {
    let names: Vec<String> = families.iter().map(|f| f.name().to_owned()).collect();
    format!("coloured by vendor family ({})", in_words(&names))
}

const COST_TITLE: &str = "Training cost by pricing plan";
const ROW: i32 = 20;
const BAR: i32 = 13;
const GROUP_HEAD: i32 = 26;

/// Training cost per option grouped by pricing plan: a legend of the vendor families present
/// (and of the whiskers, when there are intervals), one group per plan (in order of first
/// appearance) headed by the plan name, one horizontal bar per option inside it (in the given
/// order, so an option sits at the same place in every group) in its family's colour, its 90%
/// interval as a whisker over it, value labels like "$1.23M" right of the bar and whisker, and
/// the cheapest bar overall (the first one on a tie) outlined in black with "· cheapest" after
/// its value. Cost axis log10 when max/min > 20 (all costs positive), linear from zero
/// otherwise; the axis title says which. The height grows by 20 px per bar and 26 px per plan,
/// so 60 bars stay legible; from 20 bars on the tick labels are repeated above the bars.
///
/// Never panics: a bar whose cost is not finite or negative says "no data" in its row (an
/// unusable interval is not drawn); no usable cost at all gives a "no data" panel.
pub fn cost_by_plan(bars: &[CostBar<'_>]) -> String {
    let values = bars.iter().flat_map(|b| {
        let mut v = Vec::with_capacity(3);
        if usable(b.usd) {
            v.push(b.usd);
            if let Some((lo, hi)) = usable_pair(b.interval) {
                v.extend([lo, hi]);
            }
        }
        v
    });
    let Some((min, max)) = min_max(values) else {
        return no_data_svg(COST_TITLE);
    };
    let cheapest_usd = bars
        .iter()
        .map(|b| b.usd)
        .filter(|&u| usable(u))
        .fold(f64::INFINITY, f64::min);
    let cheapest = bars
        .iter()
        .position(|b| usable(b.usd) && b.usd == cheapest_usd);
    let mut plans: Vec<&str> = Vec::new();
    for b in bars {
        if !plans.contains(&b.plan) {
            plans.push(b.plan);
        }
    }
    let drawn = || bars.iter().filter(|b| usable(b.usd));
    let families = families_present(drawn().map(|b| b.family));
    let intervals = drawn().any(|b| usable_pair(b.interval).is_some());

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
    let top: i32 = 70 + if many { 22 } else { 0 };
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

    let label = {
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let mut l = format!(
            "Horizontal bar chart of the training cost of {} in {}, {}",
            plural(bars.len(), "option", "options"),
            plural(plans.len(), "pricing plan", "pricing plans"),
            families_in_words(&families),
        );
        if intervals {
            l.push_str(
                "; bars are Monte Carlo medians with whiskers for the 90% interval (5th to 95th \
                 percentile)",
            );
        }
        if let Some(i) = cheapest {
            let b = &bars[i];
            l.push_str(&format!(
                "; the cheapest is {} ({}) {} at {}",
                option_name(b.option),
                b.family.name(),
                b.plan,
                units::usd(b.usd)
            ));
            if let Some((a, z)) = usable_pair(b.interval) {
                l.push_str(&format!(" ({}–{})", units::usd(a), units::usd(z)));
            }
        }
        l.push('.');
        l
    };

    let heading = if intervals {
        format!("{COST_TITLE}: medians and 90% intervals")
    } else {
        COST_TITLE.to_owned()
    };

    render(height_of(height), (&heading, &label), |root| {
        title(root, &heading)?;
        let swatches: Vec<_> = families.iter().map(|&f| family_swatch(f)).collect();
        let mut entries: Vec<(&str, &super::Swatch<'_>)> = families
            .iter()
            .zip(&swatches)
            .map(|(f, s)| (f.name(), s as &super::Swatch<'_>))
            .collect();
        if intervals {
            entries.push(("90% interval", &whisker_swatch));
        }
        let cheapest_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            outline(root, [(x + 2, y - 6), (x + 14, y + 6)])
        };
        if cheapest.is_some() {
            entries.push(("cheapest (outlined)", &cheapest_swatch));
        }
        legend(root, (plot_x0, 46), &entries)?;
        cost_axis(root, &axis, log, (top, bottom), many)?;

        let mut y = top;
        for (g, plan) in plans.iter().enumerate() {
            if g > 0 {
                root.draw(&PathElement::new(
                    vec![(16, y), (WIDTH_PX - 16, y)],
                    RGBColor(190, 190, 190),
                ))?;
            }
            let cy = y + GROUP_HEAD / 2 + 1;
            let head = if plan.is_empty() { "(no plan)" } else { plan };
            let head = fit(head, WIDTH_PX - 60, NAME_INK.bold());
            put(
                root,
                &head,
                (16, cy),
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
                    let corners = [(plot_x0, cy - BAR / 2), (end, cy + BAR / 2)];
                    root.draw(&Rectangle::new(corners, b.family.colour().filled()))?;
                    if is_cheapest {
                        outline(root, corners)?;
                    }
                    let mut text_at = end;
                    if let Some((a, z)) = usable_pair(b.interval) {
                        let (xa, xz) = (axis.px(a).max(plot_x0), axis.px(z).max(plot_x0));
                        h_whisker(root, (xa, xz), cy, 4, WHISKER.stroke_width(1))?;
                        text_at = text_at.max(xz);
                    }
                    let ink = if is_cheapest {
                        VALUE_INK.bold()
                    } else {
                        VALUE_INK
                    };
                    put(
                        root,
                        &value_text(i),
                        (text_at + 6, cy),
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

/// A 2 px black outline around the box with these corners (plotters' SVG rectangles ignore
/// the stroke width, paths keep it).
fn outline(root: &Root<'_>, [(x0, y0), (x1, y1)]: [(i32, i32); 2]) -> Fallible {
    root.draw(&PathElement::new(
        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
        CHEAPEST.stroke_width(2),
    ))?;
    Ok(())
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
const SCATTER_HEIGHT: i32 = 640;
/// The Pareto frontier's line.
const FRONT: RGBColor = OI_BLACK;

/// Scatter of wall-clock days (x) against cost in USD (y), each axis log10 when its values
/// (with their intervals) are positive and span more than 20×, else linear (the axis titles say
/// which). Every point with a finite time and cost is drawn in its vendor family's colour; its
/// 90% intervals, when given, are thin whiskers in both directions. The Pareto frontier
/// ([`pareto_front`], on the medians) is a black step line through its points, which are drawn
/// larger, outlined and labelled with `option` (bold; placed clear of the markers and of each
/// other, with a leader line when moved away). Other points get a small grey label only where
/// one fits right next to them without overlapping anything. Legend: the families present,
/// "Pareto frontier (medians)", and "90% interval" when there are intervals. A footnote counts
/// the options left out for a non-finite time or cost.
///
/// Never panics; no point with a finite time and cost gives a "no data" panel.
pub fn time_vs_cost(points: &[TimeCost<'_>]) -> String {
    let finite: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].days.is_finite() && points[i].usd.is_finite())
        .collect();
    let ok = |p: Option<(f64, f64)>| {
        p.filter(|&(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (a.min(b), a.max(b)))
    };
    let days_of = |i: usize| {
        let p = &points[i];
        let (a, b) = ok(p.days_interval).unwrap_or((p.days, p.days));
        [p.days, a, b]
    };
    let usd_of = |i: usize| {
        let p = &points[i];
        let (a, b) = ok(p.usd_interval).unwrap_or((p.usd, p.usd));
        [p.usd, a, b]
    };
    let (Some((d0, d1)), Some((c0, c1))) = (
        min_max(finite.iter().flat_map(|&i| days_of(i))),
        min_max(finite.iter().flat_map(|&i| usd_of(i))),
    ) else {
        return no_data_svg(SCATTER_TITLE);
    };
    let (x_log, y_log) = (wants_log(d0, d1), wants_log(c0, c1));
    let (x_lo, x_hi) = padded(d0, d1, x_log, 0.05);
    let (y_lo, y_hi) = padded(c0, c1, y_log, 0.06);

    let (top, bottom) = (78, SCATTER_HEIGHT - 84);
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
    let families = families_present(finite.iter().map(|&i| points[i].family));
    let intervals = finite
        .iter()
        .any(|&i| ok(points[i].days_interval).is_some() || ok(points[i].usd_interval).is_some());

    let label = {
        let on_front: Vec<String> = front
            .iter()
            .map(|&i| {
                let p = &points[i];
                format!(
                    "{} ({}, {}, {})",
                    option_name(p.option),
                    p.family.name(),
                    units::days(p.days),
                    units::usd(p.usd)
                )
            })
            .collect();
        format!(
            "Scatter of wall-clock time against training cost for {} options, {}{}; the Pareto \
             frontier (options no other beats on both time and cost) runs through {}.",
            finite.len(),
            families_in_words(&families),
            if intervals {
                ", each point a Monte Carlo median with whiskers for its 90% intervals of time and cost"
            } else {
                ""
            },
            if on_front.is_empty() {
                "no option".to_owned()
            } else {
                in_words(&on_front)
            },
        )
    };

    render(height_of(SCATTER_HEIGHT), (SCATTER_TITLE, &label), |root| {
        title(root, SCATTER_TITLE)?;
        // A step of the line with a hollow frontier marker on its corner.
        let front_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&PathElement::new(
                vec![
                    (x - 2, y - 5),
                    (x + 6, y - 5),
                    (x + 6, y + 5),
                    (x + 18, y + 5),
                ],
                FRONT.stroke_width(2),
            ))?;
            root.draw(&Circle::new((x + 6, y - 5), 4, WHITE.filled()))?;
            root.draw(&Circle::new((x + 6, y - 5), 4, OI_BLACK.stroke_width(2)))?;
            Ok(())
        };
        let swatches: Vec<_> = families.iter().map(|&f| family_swatch(f)).collect();
        let mut entries: Vec<(&str, &super::Swatch<'_>)> = families
            .iter()
            .zip(&swatches)
            .map(|(f, s)| (f.name(), s as &super::Swatch<'_>))
            .collect();
        entries.push(("Pareto frontier (medians)", &front_swatch));
        if intervals {
            entries.push(("90% interval", &whisker_swatch));
        }
        legend(root, (left, 50), &entries)?;

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
        // Whiskers first, under every marker; each in a light tint of its family's colour.
        let mut obstacles = Vec::new();
        for &i in &finite {
            let p = &points[i];
            let (x, y) = at(i);
            let ink = p.family.colour().mix(0.55).stroke_width(1);
            if let Some((a, b)) = ok(p.days_interval) {
                let (xa0, xa1) = (xa.px(a), xa.px(b));
                h_whisker(root, (xa0, xa1), y, 3, ink)?;
                obstacles.extend(line_boxes(&[(xa0, y), (xa1, y)]));
            }
            if let Some((a, b)) = ok(p.usd_interval) {
                let (ya0, ya1) = (ya.px(a), ya.px(b));
                v_whisker(root, x, (ya0, ya1), 3, ink)?;
                obstacles.extend(line_boxes(&[(x, ya0), (x, ya1)]));
            }
        }
        for &i in &finite {
            if !front.contains(&i) {
                other_marker(root, at(i), points[i].family.colour())?;
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
            front_marker(root, at(i), points[i].family.colour().to_rgba())?;
        }

        // Labels, clear of the markers, the frontier line and each other: the frontier's
        // first, then the others' where one fits right next to its point (and off the
        // whiskers).
        let bounds = BBox {
            x0: left + 2,
            y0: top + 2,
            x1: right - 2,
            y1: bottom - 2,
        };
        let markers: Vec<BBox> = finite.iter().map(|&i| BBox::around(at(i), 6)).collect();
        let mut lines = line_boxes(&step);
        let mut labels = Labeller::new(bounds, markers.clone(), lines.clone());
        let front_ink = Ink::new(12.0, INK).bold();
        for &i in &front {
            let text = fit(option_name(points[i].option), 240, front_ink);
            labels.place(text, at(i), front_ink, 12, true);
        }
        let placed = labels.placed.clone();
        lines.extend(obstacles);
        let mut others = Labeller::new(bounds, markers, lines);
        for l in &placed {
            others.commit(l.text.clone(), l.point, l.ink, l.at);
        }
        for &i in &finite {
            if !front.contains(&i) {
                let text = fit(option_name(points[i].option), 240, SMALL_GREY);
                others.place(text, at(i), SMALL_GREY, 1, false);
            }
        }
        others.draw(root)?;
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

/// A point on the frontier: larger, filled with its family's colour, outlined in black.
fn front_marker(root: &Root<'_>, p: (i32, i32), fill: RGBAColor) -> Fallible {
    root.draw(&Circle::new(p, 6, fill.filled()))?;
    root.draw(&Circle::new(p, 6, OI_BLACK.stroke_width(2)))?;
    Ok(())
}

fn other_marker(root: &Root<'_>, p: (i32, i32), colour: RGBColor) -> Fallible {
    root.draw(&Circle::new(p, 4, colour.filled()))?;
    root.draw(&Circle::new(p, 4, WHITE.stroke_width(1)))?;
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
    let label = format!(
        "Tornado chart of how the cost of {} moves when every efficiency, or the price, is 20% \
         lower or higher: for each, a bar for the efficiency range and one for the price range \
         around a tick at the cost at the model's inputs.",
        match rows.len() {
            1 => "1 option".to_owned(),
            n => format!("{n} options"),
        }
    );

    render(height_of(height), (TORNADO_TITLE, &label), |root| {
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

const SWING_TITLE: &str = "Which input moves the verdict most";
const SWING_ROW: i32 = 30;
const SWING_BAR: i32 = 14;
/// The half of a swing bar towards the ratio with the input in its lowest tenth …
const SWING_LOW: RGBColor = OI_SKY;
/// … and towards the ratio with it in its highest tenth.
const SWING_HIGH: RGBColor = OI_BLUE;
/// The tie line (ratio 1).
const TIE: RGBColor = OI_VERMILLION;
/// Most rows a swing chart draws.
pub const MAX_SWINGS: usize = 10;

/// A ratio as the swing chart writes it: two decimals, three below 0.1 (`0.47`, `1.30`,
/// `0.085`).
fn ratio_text(r: f64) -> String {
    if r.is_finite() && r.abs() < 0.1 {
        units::decimal(r, 3)
    } else {
        units::decimal(r, 2)
    }
}

/// The step of a ratio axis's linear ticks: about eight across it (a log axis packs the
/// upper ones closer, and the label spacing drops those that would touch).
fn ratio_step(axis: &Axis) -> f64 {
    super::nice_step((axis.hi - axis.lo) / 8.0)
}

/// Ticks of a ratio axis: nice linear steps (shown on the log axis) when the range spans less
/// than a decade and a half, else the log axis's own; 1 is always among them when inside.
fn ratio_ticks(axis: &Axis) -> Vec<f64> {
    let mut ticks = if axis.hi / axis.lo < 30.0 {
        let step = ratio_step(axis);
        let first = (axis.lo / step).ceil() as i64;
        let last = (axis.hi / step).floor() as i64;
        (first..=last.min(first + 40))
            .map(|k| k as f64 * step)
            .filter(|&t| t > 0.0)
            .collect()
    } else {
        axis.ticks(8)
    };
    if axis.lo <= 1.0 && 1.0 <= axis.hi && !ticks.iter().any(|&t| (t - 1.0).abs() < 1e-9) {
        ticks.push(1.0);
        ticks.sort_by(f64::total_cmp);
    }
    ticks
}

/// Which uncertain input moves the verdict most (from the Monte Carlo's paired trials): one
/// row per input in the given order (largest swing first; at most [`MAX_SWINGS`]), labelled in
/// words, with a bar from the ratio of the Trainium pick's cost to the NVIDIA pick's when the
/// input is in its lowest tenth of draws to the ratio when it is in its highest tenth, split at
/// `median` (the ratio of the two picks' median costs, a black tick): the half towards the low-tenth ratio in sky blue,
/// the half towards the high-tenth ratio in blue. A dashed vermillion line marks the tie (ratio
/// 1), with "← Trainium cheaper" and "NVIDIA cheaper →" either side; right of each row the two
/// ratios in figures, and "crosses the tie" where they fall either side of 1 (the input alone
/// can turn the verdict). `subject` names the two picks under the title. The ratio axis is
/// log10 (a ratio of 2 is as far from a tie as one of 0.5).
///
/// Never panics: a row whose ratios are not finite and positive says "no data"; no usable row
/// gives a "no data" panel; a `median` that is not finite and positive is not drawn.
pub fn verdict_sensitivity(swings: &[Swing<'_>], median: f64, subject: &str) -> String {
    let rows = &swings[..swings.len().min(MAX_SWINGS)];
    let pos = |v: f64| v.is_finite() && v > 0.0;
    let good = |s: &Swing<'_>| pos(s.at_low) && pos(s.at_high);
    let median = pos(median).then_some(median);
    let values = rows
        .iter()
        .filter(|s| good(s))
        .flat_map(|s| [s.at_low, s.at_high])
        .chain(median)
        .chain([1.0]);
    let Some((min, max)) = min_max(values) else {
        return no_data_svg(SWING_TITLE);
    };
    if !rows.iter().any(good) {
        return no_data_svg(SWING_TITLE);
    }
    let (lo, hi) = padded(min, max, true, 0.08);

    let names: Vec<String> = rows
        .iter()
        .map(|s| fit(option_name(s.input), MAX_NAME_PX, NAME_INK))
        .collect();
    let figures: Vec<String> = rows
        .iter()
        .map(|s| {
            if good(s) {
                let crosses = (s.at_low - 1.0) * (s.at_high - 1.0) < 0.0;
                format!(
                    "low {} · high {}{}",
                    ratio_text(s.at_low),
                    ratio_text(s.at_high),
                    if crosses { " · crosses the tie" } else { "" }
                )
            } else {
                String::new()
            }
        })
        .collect();
    let name_w = names.iter().map(|n| NAME_INK.width(n)).max().unwrap_or(0);
    let fig_w = figures
        .iter()
        .map(|f| RANGE_INK.width(f))
        .max()
        .unwrap_or(0);
    let plot_x0 = 16 + name_w.max(60) + 14;
    let plot_x1 = WIDTH_PX - 16 - fig_w - 14;
    let Some(axis) = Axis::new(lo, hi, true, plot_x0, plot_x1) else {
        return no_data_svg(SWING_TITLE);
    };
    let subject = fit(subject, WIDTH_PX - 40, SMALL_GREY);
    let top: i32 = 110;
    let bottom = top
        .saturating_add(px(rows.len()).saturating_mul(SWING_ROW))
        .saturating_add(4);
    let height = bottom.saturating_add(54);

    let label = {
        let median_words = median.map_or(String::new(), |m| {
            format!(" around the ratio of the two medians, {}", ratio_text(m))
        });
        let first = rows.iter().find(|s| good(s)).map_or(String::new(), |s| {
            format!(
                "; the largest swing is {}: the ratio is {} with it in its lowest tenth of draws \
                 and {} in its highest",
                option_name(s.input),
                ratio_text(s.at_low),
                ratio_text(s.at_high)
            )
        });
        let crossing: Vec<String> = rows
            .iter()
            .filter(|s| good(s) && (s.at_low - 1.0) * (s.at_high - 1.0) < 0.0)
            .map(|s| option_name(s.input).to_owned())
            .collect();
        let crossing = if crossing.is_empty() {
            "; no input alone moves the ratio across the tie at 1".to_owned()
        } else {
            format!(
                "; {} alone can move it across the tie at 1",
                in_words(&crossing)
            )
        };
        format!(
            "Sensitivity of the verdict, from the Monte Carlo: for {} uncertain inputs, the ratio \
             of the Trainium pick's cost to the NVIDIA pick's ({subject}) when the input is low \
             and when it is high{median_words}, on a log scale where below 1 Trainium is \
             cheaper{first}{crossing}.",
            rows.len()
        )
    };

    render(height_of(height), (SWING_TITLE, &label), |root| {
        title(root, SWING_TITLE)?;
        put(
            root,
            &subject,
            (WIDTH_PX / 2, 38),
            SMALL_GREY,
            (HPos::Center, VPos::Top),
        )?;
        let low_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&Rectangle::new(
                [(x, y - 5), (x + 16, y + 5)],
                SWING_LOW.filled(),
            ))?;
            Ok(())
        };
        let high_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&Rectangle::new(
                [(x, y - 5), (x + 16, y + 5)],
                SWING_HIGH.filled(),
            ))?;
            Ok(())
        };
        let median_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&PathElement::new(
                vec![(x + 8, y - 8), (x + 8, y + 8)],
                OI_BLACK.stroke_width(2),
            ))?;
            Ok(())
        };
        let tie_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&DashedPathElement::new(
                vec![(x + 8, y - 8), (x + 8, y + 8)],
                4,
                3,
                TIE.stroke_width(2),
            ))?;
            Ok(())
        };
        legend(
            root,
            (plot_x0.min(120), 64),
            &[
                ("input in its lowest tenth", &low_swatch),
                ("in its highest tenth", &high_swatch),
                ("ratio of the medians", &median_swatch),
                ("tie", &tie_swatch),
            ],
        )?;
        // Row shading under the grid.
        for k in (1..rows.len()).step_by(2) {
            let y = top + px(k) * SWING_ROW;
            root.draw(&Rectangle::new(
                [(16, y), (WIDTH_PX - 16, y + SWING_ROW)],
                RGBColor(246, 246, 246).filled(),
            ))?;
        }
        let ticks = ratio_ticks(&axis);
        let step = if axis.hi / axis.lo < 30.0 {
            ratio_step(&axis)
        } else {
            0.0
        };
        x_axis(
            root,
            &axis,
            &ticks,
            &|t| tick_label(t, step),
            (top, bottom),
            false,
            "Trainium pick's cost ÷ NVIDIA pick's cost (log scale)",
        )?;
        // The tie, and which side is whose.
        let tie = axis.px(1.0);
        root.draw(&DashedPathElement::new(
            vec![(tie, top - 6), (tie, bottom)],
            5,
            4,
            TIE.stroke_width(2),
        ))?;
        let side = Ink::new(12.0, TIE).bold();
        put(
            root,
            "← Trainium cheaper",
            (tie - 6, top - 8),
            side,
            (HPos::Right, VPos::Bottom),
        )?;
        put(
            root,
            "NVIDIA cheaper →",
            (tie + 6, top - 8),
            side,
            (HPos::Left, VPos::Bottom),
        )?;

        for (k, s) in rows.iter().enumerate() {
            let y = top + px(k) * SWING_ROW;
            let cy = y + SWING_ROW / 2;
            put(
                root,
                &names[k],
                (plot_x0 - 12, cy),
                NAME_INK,
                (HPos::Right, VPos::Center),
            )?;
            if !good(s) {
                put(
                    root,
                    "no data",
                    (plot_x0 + 6, cy),
                    SMALL_GREY,
                    (HPos::Left, VPos::Center),
                )?;
                continue;
            }
            let centre = axis.px(median.unwrap_or((s.at_low * s.at_high).sqrt()));
            for (end, colour) in [(s.at_low, SWING_LOW), (s.at_high, SWING_HIGH)] {
                let x = axis.px(end);
                // At least 2 px, so a swing of nothing still shows.
                let (a, b) = if x < centre {
                    (x.min(centre - 2), centre)
                } else {
                    (centre, x.max(centre + 2))
                };
                root.draw(&Rectangle::new(
                    [(a, cy - SWING_BAR / 2), (b, cy + SWING_BAR / 2)],
                    colour.filled(),
                ))?;
            }
            if median.is_some() {
                root.draw(&PathElement::new(
                    vec![(centre, y + 3), (centre, y + SWING_ROW - 3)],
                    OI_BLACK.stroke_width(2),
                ))?;
            }
            put(
                root,
                &figures[k],
                (plot_x1 + 14, cy),
                RANGE_INK,
                (HPos::Left, VPos::Center),
            )?;
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

    /// Trainium for `trn…` instances, NVIDIA otherwise.
    fn family_of(option: &str) -> Family {
        if option.starts_with("trn") {
            Family::Trainium
        } else {
            Family::Nvidia
        }
    }

    /// Text of the root element's `aria-label`.
    fn aria_label(svg: &str) -> &str {
        let head = &svg[..svg.find('>').unwrap()];
        let l = head.split(" aria-label=\"").nth(1).expect("an aria-label");
        &l[..l.find('"').unwrap()]
    }

    fn bar<'a>(plan: &'a str, option: &'a str, usd: f64) -> CostBar<'a> {
        CostBar {
            plan,
            option,
            family: family_of(option),
            usd,
            interval: None,
        }
    }

    fn tc(option: &str, days: f64, usd: f64) -> TimeCost<'_> {
        TimeCost {
            option,
            family: family_of(option),
            days,
            usd,
            days_interval: None,
            usd_interval: None,
        }
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
        assert_eq!(svg.matches("· cheapest").count(), 1);
        // The cheapest is spot × p5.48xlarge: 2.5e6 / 5 = $500k, drawn bold.
        assert!(svg.contains("$500.0k · cheapest"), "{svg}");
        assert!(svg.contains("$2.500M"));
        // 2.5M / 0.5M = 5×: linear.
        assert!(svg.contains("USD, linear scale"));
        assert!(!svg.contains("no data"));
        // Bars in their family's colour (plus one legend swatch each): 5 Trainium, 10 NVIDIA.
        assert_eq!(svg.matches("fill=\"#E69F00\"").count(), 5 + 1);
        assert_eq!(svg.matches("fill=\"#009E73\"").count(), 10 + 1);
        assert!(svg.contains(">\nTrainium\n<") && svg.contains(">\nNVIDIA\n<"));
        // The cheapest outlined in black, as in the legend; no whiskers without intervals.
        assert_eq!(
            svg.matches("stroke=\"#000000\" stroke-width=\"2\"").count(),
            2
        );
        assert!(!svg.contains("90% interval"));
        let label = aria_label(&svg);
        assert!(
            label.starts_with("Horizontal bar chart of the training cost of 15 options in 5 pricing plans, coloured by vendor family (Trainium and NVIDIA)"),
            "{label}"
        );
        assert!(
            label.ends_with("the cheapest is p5.48xlarge (NVIDIA) spot at $500.0k."),
            "{label}"
        );
        assert!(svg.contains("<title>Training cost by pricing plan</title>"));
    }

    #[test]
    fn cost_by_plan_draws_intervals_as_whiskers() {
        let bars = [
            CostBar {
                interval: Some((8e5, 1.4e6)),
                ..bar("reserved_3yr", "trn1.32xlarge", 1e6)
            },
            CostBar {
                interval: Some((1.5e6, 1.1e6)),
                ..bar("reserved_3yr", "p5.48xlarge", 1.2e6)
            },
            CostBar {
                interval: Some((f64::NAN, 2e6)),
                ..bar("reserved_3yr", "p4d.24xlarge", 1.9e6)
            },
        ];
        let svg = cost_by_plan(&bars);
        check_svg(&svg);
        assert!(svg.contains(">\n90% interval\n<"));
        // Two whiskers of three strokes each (the NaN interval is not drawn), plus the legend's.
        assert_eq!(
            svg.matches("stroke=\"#282828\"").count(),
            3 * 2 + 3,
            "{svg}"
        );
        // The axis takes in the whiskers: $0 to $2M.
        assert!(svg.contains(">\n$2M\n<"), "{svg}");
        let label = aria_label(&svg);
        assert!(label.contains("whiskers for the 90% interval"), "{label}");
        assert!(
            label.contains("trn1.32xlarge (Trainium) reserved_3yr at $1.000M ($800.0k–$1.400M)"),
            "{label}"
        );
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
        assert_eq!(svg.matches("· cheapest").count(), 1);
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
        assert_eq!(svg.matches("· cheapest").count(), 1);
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
            verdict_sensitivity(&[swing(x, 0.8, 1.2)], 1.0, x),
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
    fn swing(input: &str, at_low: f64, at_high: f64) -> Swing<'_> {
        Swing {
            input,
            at_low,
            at_high,
        }
    }

    #[test]
    fn time_vs_cost_colours_families_and_draws_both_intervals() {
        let mut p = vec![
            tc("p5.48xlarge reserved_3yr", 20.0, 2.0e6),
            tc("trn1.32xlarge reserved_3yr", 28.0, 1.4e6),
            tc("p4d.24xlarge spot", 26.0, 2.6e6),
        ];
        for q in &mut p {
            q.days_interval = Some((q.days * 0.8, q.days * 1.3));
            q.usd_interval = Some((q.usd * 0.7, q.usd * 1.4));
        }
        p.push(TimeCost {
            family: Family::Cpu,
            ..tc("c7i.48xlarge (this CPU, scaled)", 30.0, 3.0e6)
        });
        let svg = time_vs_cost(&p);
        check_svg(&svg);
        for legend in [
            "Trainium",
            "NVIDIA",
            "CPU",
            "Pareto frontier (medians)",
            "90% interval",
        ] {
            assert!(svg.contains(&format!(">\n{legend}\n<")), "{legend}");
        }
        // Two whiskers of three strokes per point with intervals, in its family's tint.
        assert_eq!(
            svg.matches("opacity=\"0.55\" stroke=\"#009E73\"").count(),
            2 * 2 * 3
        );
        assert_eq!(
            svg.matches("opacity=\"0.55\" stroke=\"#E69F00\"").count(),
            2 * 3
        );
        // The axes take in the whiskers: cost up to 1.4 × $2.6M = $3.64M.
        assert!(
            svg.contains(">\n$3.5M\n<") || svg.contains(">\n$4M\n<"),
            "{svg}"
        );
        let label = aria_label(&svg);
        assert!(
            label.contains("coloured by vendor family (Trainium, NVIDIA and CPU)"),
            "{label}"
        );
        assert!(
            label.contains("whiskers for its 90% intervals of time and cost"),
            "{label}"
        );
        assert!(label.contains("runs through p5.48xlarge reserved_3yr (NVIDIA, 20.0 d, $2.000M) and trn1.32xlarge reserved_3yr (Trainium, 28.0 d, $1.400M)"), "{label}");
    }

    #[test]
    fn verdict_sensitivity_rows_tie_line_and_words() {
        let rows = [
            swing("Trn1 efficiency", 1.35, 0.82),
            swing("spot price of trn1.32xlarge", 0.9, 1.1),
            swing("H100 SXM efficiency", 0.95, 1.02),
            swing("goodput", 1.0, 1.0),
        ];
        let svg = verdict_sensitivity(
            &rows,
            0.97,
            "Trn1 on 44 × trn1.32xlarge ÷ H100 SXM on 32 × p5.48xlarge",
        );
        check_svg(&svg);
        assert!(svg.contains("<title>Which input moves the verdict most</title>"));
        for text in [
            "Trn1 efficiency",
            "spot price of trn1.32xlarge",
            "goodput",
            "← Trainium cheaper",
            "NVIDIA cheaper →",
            "low 1.35 · high 0.82 · crosses the tie",
            "low 0.95 · high 1.02 · crosses the tie",
            "low 1.00 · high 1.00",
            "Trn1 on 44 × trn1.32xlarge ÷ H100 SXM on 32 × p5.48xlarge",
            "(log scale)",
        ] {
            assert!(svg.contains(text), "no {text:?}");
        }
        // Each row: a low half (sky) and a high half (blue), and the legend's swatches.
        assert_eq!(svg.matches("fill=\"#56B4E9\"").count(), 4 + 1);
        assert_eq!(svg.matches("fill=\"#0072B2\"").count(), 4 + 1);
        // The tie at 1 is a tick label.
        assert!(svg.contains(">\n1\n<"), "{svg}");
        let label = aria_label(&svg);
        assert!(label.contains("the largest swing is Trn1 efficiency: the ratio is 1.35 with it in its lowest tenth of draws and 0.82 in its highest"), "{label}");
        assert!(label.contains("Trn1 efficiency, spot price of trn1.32xlarge and H100 SXM efficiency alone can move it across the tie at 1"), "{label}");
        assert!(
            label.contains("around the ratio of the two medians, 0.97"),
            "{label}"
        );
    }

    #[test]
    fn verdict_sensitivity_no_data_and_limits() {
        for rows in [
            vec![],
            vec![swing("nan", f64::NAN, 1.0)],
            vec![swing("zero", 0.0, 1.0), swing("neg", -1.0, 2.0)],
        ] {
            let svg = verdict_sensitivity(&rows, 1.0, "");
            check_svg(&svg);
            assert!(svg.contains("no data"), "{svg}");
        }
        // A bad row beside good ones says "no data" in its row; a bad median is not drawn.
        let svg = verdict_sensitivity(
            &[swing("good", 0.5, 2.0), swing("bad", f64::INFINITY, 1.0)],
            f64::NAN,
            "",
        );
        check_svg(&svg);
        assert_eq!(svg.matches(">\nno data\n<").count(), 1);
        // At most MAX_SWINGS rows; extreme ratios still draw.
        let names: Vec<String> = (0..25).map(|i| format!("input {i}")).collect();
        let rows: Vec<Swing<'_>> = names.iter().map(|n| swing(n, 1e-6, 1e6)).collect();
        let svg = verdict_sensitivity(&rows, 1.0, "");
        check_svg(&svg);
        assert!(svg.contains("input 9") && !svg.contains("input 10"));
        assert!(aria_label(&svg).contains("for 10 uncertain inputs"));
    }
}
