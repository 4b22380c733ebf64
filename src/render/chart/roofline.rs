//! Charts of this CPU's measurements: its roofline with the measured workloads on it
//! ([`roofline`]) and where the time of one training step goes ([`time_breakdown`]).

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Axis, BBox, Fallible, GREY_TEXT, GRID, INK, Ink, LABEL_SIZE, Labeller, OI_BLACK, OI_BLUE, Root,
    TITLE_INK, WIDTH_PX, fit, height_of, legend, line_boxes, nice_ceil, no_data_svg, put, px,
    render, tick_label, title, x_axis, y_axis,
};
use crate::units;

/// One measured workload: `intensity` in FLOP/byte, `gflops` attained.
#[derive(Debug, Clone, Copy)]
pub struct RooflinePoint<'a> {
    pub label: &'a str,
    pub intensity: f64,
    pub gflops: f64,
}

/// One op class's share of a step.
#[derive(Debug, Clone, Copy)]
pub struct Slice<'a> {
    pub label: &'a str,
    pub seconds: f64,
}

const NAME_INK: Ink = Ink::new(LABEL_SIZE, INK);
const SMALL_GREY: Ink = Ink::new(11.5, GREY_TEXT);

const ROOF_TITLE: &str = "Roofline of this CPU";
const ROOF_HEIGHT: i32 = 620;
const ROOF: RGBColor = OI_BLACK;
const POINT: RGBColor = OI_BLUE;

/// The power of ten at or below `v` (at or above with `up`), after moving `v` by `margin`
/// decades outwards.
fn decade(v: f64, margin: f64, up: bool) -> f64 {
    let t = v.log10();
    if up {
        10f64.powf((t + margin).ceil())
    } else {
        10f64.powf((t - margin).floor())
    }
}

/// This CPU's measured roofline, log–log: attainable GFLOP/s = min(peak_gflops, bandwidth_gbs
/// × intensity) over intensity (FLOP/byte) from 0.01 to 1000, widened to whole decades to take
/// in the points and the ridge. The ridge (intensity peak/bandwidth) is marked with a diamond,
/// a dashed vertical line and the label "ridge 25.00 FLOP/byte". Each point is a blue dot
/// labelled with `label`, the labels placed clear of each other and of the markers (with a
/// leader line when moved away from their point). Axes "arithmetic intensity (FLOP/byte)" and
/// "GFLOP/s"; title "Roofline of this CPU: peak … GFLOP/s, memory bandwidth … GB/s"; legend
/// for the roof, the points and the ridge.
///
/// Never panics. A peak or bandwidth that is not finite and positive gives a "no data" panel;
/// points with a non-finite or non-positive intensity or GFLOP/s are left out and counted in a
/// footnote; without any point the roof is drawn with "no data: no measured points".
pub fn roofline(peak_gflops: f64, bandwidth_gbs: f64, points: &[RooflinePoint<'_>]) -> String {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    let ridge = peak_gflops / bandwidth_gbs;
    if !(ok(peak_gflops) && ok(bandwidth_gbs) && ok(ridge)) {
        return no_data_svg(ROOF_TITLE);
    }
    let shown: Vec<usize> = (0..points.len())
        .filter(|&i| ok(points[i].intensity) && ok(points[i].gflops))
        .collect();
    let fold = |f: fn(f64, f64) -> f64, start: f64, v: &dyn Fn(usize) -> f64| {
        shown.iter().map(|&i| v(i)).fold(start, f)
    };
    // 0.01..1000 at least; points or a ridge outside it widen the range to whole decades,
    // with a margin so that no marker sits on the edge.
    let x_lo = decade(fold(f64::min, ridge, &|i| points[i].intensity), 0.05, false).min(0.01);
    let x_hi = decade(fold(f64::max, ridge, &|i| points[i].intensity), 0.05, true).max(1000.0);
    let roof_lo = peak_gflops.min(bandwidth_gbs * x_lo);
    let y_lo = decade(fold(f64::min, roof_lo, &|i| points[i].gflops), 0.05, false);
    let y_hi = decade(
        fold(f64::max, peak_gflops, &|i| points[i].gflops),
        0.15,
        true,
    );

    let (top, bottom) = (80, ROOF_HEIGHT - 84);
    let right = WIDTH_PX - 24;
    let Some(probe) = Axis::new(y_lo, y_hi, true, bottom, top) else {
        return no_data_svg(ROOF_TITLE);
    };
    let y_ticks = probe.ticks(7);
    let tick_w = y_ticks
        .iter()
        .map(|&t| NAME_INK.width(&tick_label(t, 0.0)))
        .max()
        .unwrap_or(0);
    let left = 40 + tick_w + 10;
    let (Some(xa), Some(ya)) = (
        Axis::new(x_lo, x_hi, true, left, right),
        Axis::new(y_lo, y_hi, true, bottom, top),
    ) else {
        return no_data_svg(ROOF_TITLE);
    };
    let heading = format!(
        "{ROOF_TITLE}: peak {}, memory bandwidth {}",
        units::gflops(peak_gflops),
        units::bandwidth(bandwidth_gbs * 1e9)
    );
    let heading = fit(&heading, WIDTH_PX - 20, TITLE_INK);
    let ridge_text = format!("ridge {} FLOP/byte", units::intensity(ridge));
    let left_out = points.len() - shown.len();
    let names: Vec<String> = shown
        .iter()
        .take(12)
        .map(|&i| {
            let p = &points[i];
            format!(
                "{} at {} FLOP/byte and {}",
                p.label,
                units::intensity(p.intensity),
                units::gflops(p.gflops)
            )
        })
        .collect();
    let label = format!(
        "Log-log roofline of this CPU: attainable GFLOP/s against arithmetic intensity, with a \
         peak of {} and a memory bandwidth of {} meeting at a ridge of {} FLOP/byte; {} {}{}.",
        units::gflops(peak_gflops),
        units::bandwidth(bandwidth_gbs * 1e9),
        units::intensity(ridge),
        if shown.len() == 1 {
            "one measured point:"
        } else {
            "measured points:"
        },
        if names.is_empty() {
            "none".to_owned()
        } else {
            super::in_words(&names)
        },
        if shown.len() > names.len() {
            " and more"
        } else {
            ""
        },
    );

    render(height_of(ROOF_HEIGHT), (ROOF_TITLE, &label), |root| {
        title(root, &heading)?;
        let roof_swatch = |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible {
            root.draw(&PathElement::new(
                vec![(x, y + 5), (x + 8, y - 3), (x + 16, y - 3)],
                ROOF.stroke_width(2),
            ))?;
            Ok(())
        };
        let point_swatch =
            |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible { point_marker(root, (x + 8, y)) };
        let ridge_swatch =
            |root: &Root<'_>, (x, y): (i32, i32)| -> Fallible { ridge_marker(root, (x + 8, y)) };
        legend(
            root,
            (left, 52),
            &[
                (
                    "attainable = min(peak, bandwidth × intensity)",
                    &roof_swatch,
                ),
                ("measured workload", &point_swatch),
                ("ridge point", &ridge_swatch),
            ],
        )?;
        x_axis(
            root,
            &xa,
            &xa.ticks(8),
            &|t| tick_label(t, 0.0),
            (top, bottom),
            false,
            "arithmetic intensity (FLOP/byte)",
        )?;
        y_axis(
            root,
            &ya,
            &y_ticks,
            &|t| tick_label(t, 0.0),
            (left, right),
            ("GFLOP/s", 22),
        )?;
        root.draw(&PathElement::new(vec![(left, top), (right, top)], GRID))?;
        root.draw(&PathElement::new(vec![(right, top), (right, bottom)], GRID))?;

        let at = |x: f64, y: f64| (xa.px(x), ya.px(y));
        let ridge_at = at(ridge, peak_gflops);
        root.draw(&DashedPathElement::new(
            vec![(ridge_at.0, bottom), ridge_at],
            5,
            4,
            RGBColor(120, 120, 120).stroke_width(1),
        ))?;
        let roof = vec![
            at(x_lo, bandwidth_gbs * x_lo),
            ridge_at,
            at(x_hi, peak_gflops),
        ];
        root.draw(&PathElement::new(roof.clone(), ROOF.stroke_width(2)))?;
        ridge_marker(root, ridge_at)?;
        let point_at = |i: usize| at(points[i].intensity, points[i].gflops);
        for &i in &shown {
            point_marker(root, point_at(i))?;
        }

        // Labels: the ridge's first (under the roof, right of the dashed line when it fits),
        // then the points'.
        let bounds = BBox {
            x0: left + 2,
            y0: top + 2,
            x1: right - 2,
            y1: bottom - 2,
        };
        let mut markers: Vec<BBox> = shown
            .iter()
            .map(|&i| BBox::around(point_at(i), 6))
            .collect();
        markers.push(BBox::around(ridge_at, 7));
        let mut lines = line_boxes(&roof);
        lines.extend(line_boxes(&[(ridge_at.0, bottom), ridge_at]));
        let mut labels = Labeller::new(bounds, markers, lines);
        let ridge_ink = Ink::new(12.0, INK).bold();
        labels.place_preferring(ridge_text.clone(), ridge_at, ridge_ink, (8, 10));
        let point_ink = Ink::new(12.0, INK);
        for &i in &shown {
            if !points[i].label.is_empty() {
                let text = fit(points[i].label, 240, point_ink);
                labels.place(text, point_at(i), point_ink, 12, true);
            }
        }
        labels.draw(root)?;
        if shown.is_empty() {
            put(
                root,
                "no data: no measured points",
                ((left + right) / 2, (top + bottom) / 2),
                Ink::new(LABEL_SIZE, GREY_TEXT),
                (HPos::Center, VPos::Center),
            )?;
        }
        if left_out > 0 {
            let s = if left_out == 1 { "" } else { "s" };
            put(
                root,
                &format!(
                    "{left_out} point{s} with a non-finite or non-positive value (no data) not shown"
                ),
                (left, ROOF_HEIGHT - 14),
                SMALL_GREY,
                (HPos::Left, VPos::Bottom),
            )?;
        }
        Ok(())
    })
}

fn point_marker(root: &Root<'_>, p: (i32, i32)) -> Fallible {
    root.draw(&Circle::new(p, 5, POINT.filled()))?;
    root.draw(&Circle::new(p, 5, WHITE.stroke_width(1)))?;
    Ok(())
}

fn ridge_marker(root: &Root<'_>, (x, y): (i32, i32)) -> Fallible {
    root.draw(&Polygon::new(
        vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)],
        ROOF.filled(),
    ))?;
    Ok(())
}

const BREAKDOWN_TITLE: &str = "Step time by op class";
const ROW: i32 = 22;
const BAR: i32 = 14;
const BAR_COLOUR: RGBColor = OI_BLUE;

/// Per-op-class time breakdown of one step: horizontal bars sorted by time descending (ties
/// in the given order), each labelled at its end with its time (s, ms or µs) and its share of
/// the total in percent ("12.3 ms · 45.6%"); the title gives the total. Linear time axis from
/// zero in the unit of the longest item.
///
/// Never panics: an item whose time is not finite or negative is listed last with "no data"
/// (and counts towards no total); no usable item, or a total of zero, gives a "no data" panel.
pub fn time_breakdown(items: &[Slice<'_>]) -> String {
    let usable = |s: f64| s.is_finite() && s >= 0.0;
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&i| usable(items[i].seconds))
        .collect();
    let total: f64 = order.iter().map(|&i| items[i].seconds).sum();
    if order.is_empty() || !(total.is_finite() && total > 0.0) {
        return no_data_svg(BREAKDOWN_TITLE);
    }
    order.sort_by(|&a, &b| {
        items[b]
            .seconds
            .total_cmp(&items[a].seconds)
            .then(a.cmp(&b))
    });
    let max = items[order[0]].seconds;
    let rows: Vec<usize> = order
        .iter()
        .copied()
        .chain((0..items.len()).filter(|&i| !usable(items[i].seconds)))
        .collect();

    let value_ink = Ink::new(12.0, INK);
    let names: Vec<String> = rows
        .iter()
        .map(|&i| {
            let l = items[i].label;
            fit(if l.is_empty() { "(unnamed)" } else { l }, 260, NAME_INK)
        })
        .collect();
    let values: Vec<Option<String>> = rows
        .iter()
        .map(|&i| {
            let s = items[i].seconds;
            usable(s).then(|| format!("{} · {}", units::seconds(s), units::percent(s / total)))
        })
        .collect();
    let name_w = names.iter().map(|n| NAME_INK.width(n)).max().unwrap_or(0);
    let value_w = values
        .iter()
        .flatten()
        .map(|v| value_ink.width(v))
        .max()
        .unwrap_or(0);
    let plot_x0 = 16 + name_w.max(60) + 12;
    let plot_x1 = WIDTH_PX - 16 - value_w - 10;
    let (unit, scale) = if max >= 1.0 {
        ("s", 1.0)
    } else if max >= 1e-3 {
        ("ms", 1e3)
    } else {
        ("µs", 1e6)
    };
    let Some(axis) = Axis::new(0.0, nice_ceil(max, 5), false, plot_x0, plot_x1) else {
        return no_data_svg(BREAKDOWN_TITLE);
    };
    let top: i32 = 50;
    let bottom = top
        .saturating_add(px(rows.len()).saturating_mul(ROW))
        .saturating_add(6);
    let height = bottom.saturating_add(50);
    let heading = format!("{BREAKDOWN_TITLE} (total {})", units::seconds(total));
    let shares: Vec<String> = order
        .iter()
        .take(4)
        .map(|&i| {
            format!(
                "{} {}",
                items[i].label,
                units::percent(items[i].seconds / total)
            )
        })
        .collect();
    let label = format!(
        "Bar chart of the median time per op class in one training step, {} in all, longest \
         first: {}{}.",
        units::seconds(total),
        super::in_words(&shares),
        if order.len() > shares.len() {
            ", then the rest"
        } else {
            ""
        },
    );

    render(height_of(height), (BREAKDOWN_TITLE, &label), |root| {
        title(root, &heading)?;
        let step = axis.tick_step(6);
        x_axis(
            root,
            &axis,
            &axis.ticks(6),
            &|t| tick_label(t * scale, step * scale),
            (top, bottom),
            false,
            &format!("time per step ({unit})"),
        )?;
        for (k, (&i, (name, value))) in rows.iter().zip(names.iter().zip(&values)).enumerate() {
            let cy = top + 4 + px(k).saturating_mul(ROW) + ROW / 2;
            put(
                root,
                name,
                (plot_x0 - 10, cy),
                NAME_INK,
                (HPos::Right, VPos::Center),
            )?;
            match value {
                Some(v) => {
                    let end = axis.px(items[i].seconds).max(plot_x0);
                    root.draw(&Rectangle::new(
                        [(plot_x0, cy - BAR / 2), (end, cy + BAR / 2)],
                        BAR_COLOUR.filled(),
                    ))?;
                    put(
                        root,
                        v,
                        (end + 6, cy),
                        value_ink,
                        (HPos::Left, VPos::Center),
                    )?;
                }
                None => put(
                    root,
                    "no data",
                    (plot_x0 + 6, cy),
                    SMALL_GREY,
                    (HPos::Left, VPos::Center),
                )?,
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-number attribute `key` of the SVG element text `element`.
    fn attribute(element: &str, key: &str) -> i32 {
        element
            .split(&format!(" {key}=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn check_svg(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        let head = &svg[..svg.find('>').unwrap()];
        assert!(head.contains("viewBox=\"0 0 900 "), "{head}");
    }

    fn pt(label: &str, intensity: f64, gflops: f64) -> RooflinePoint<'_> {
        RooflinePoint {
            label,
            intensity,
            gflops,
        }
    }

    fn slice(label: &str, seconds: f64) -> Slice<'_> {
        Slice { label, seconds }
    }

    /// The texts of the `<text>` elements.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once(">\n")?.1.split_once("\n</text>")?.0.to_owned()))
            .collect()
    }

    #[test]
    fn roofline_ridge_axes_and_labels() {
        let points = [
            pt("gemm 4096", 680.0, 1450.0),
            pt("gemm 512", 85.0, 900.0),
            pt("layernorm", 0.6, 9.0),
            pt("softmax", 0.7, 10.0),
            pt("adamw", 0.25, 4.0),
        ];
        let svg = roofline(2000.0, 80.0, &points);
        check_svg(&svg);
        let t = texts(&svg);
        // Ridge at 2000 / 80 = 25 FLOP/byte.
        assert!(t.contains(&"ridge 25.00 FLOP/byte".to_owned()), "{t:?}");
        assert!(t.iter().any(|s| s.contains("peak 2000.0 GFLOP/s")));
        assert!(t.iter().any(|s| s.contains("memory bandwidth 80 GB/s")));
        for s in ["arithmetic intensity (FLOP/byte)", "GFLOP/s"] {
            assert!(t.contains(&s.to_owned()), "{s}");
        }
        for p in &points {
            assert!(t.contains(&p.label.to_owned()), "{}", p.label);
        }
        // The x axis spans at least 0.01..1000.
        assert!(
            t.contains(&"0.01".to_owned()) && t.contains(&"1000".to_owned()),
            "{t:?}"
        );
        assert!(!svg.contains("no data"));

        let svg = roofline(150.0, 12.0, &[pt("x", 1.0, 1.0)]);
        assert!(texts(&svg).contains(&"ridge 12.50 FLOP/byte".to_owned()));
    }

    #[test]
    fn roofline_ridge_is_drawn_at_peak_over_bandwidth() {
        // The diamond's top vertex (the last polygon; the first is the legend's) sits at the
        // ridge: on the x axis of a 0.01..1000 log range
        // (5 decades), intensity 10 is at 3/5 of the plot width.
        let svg = roofline(1000.0, 100.0, &[]);
        assert!(texts(&svg).contains(&"ridge 10.00 FLOP/byte".to_owned()));
        let polygon = svg
            .lines()
            .rfind(|l| l.starts_with("<polygon"))
            .expect("ridge marker");
        let first = polygon.split("points=\"").nth(1).unwrap();
        let x: i32 = first.split(',').next().unwrap().parse().unwrap();
        let ticks: Vec<i32> = ["0.01", "1000"]
            .iter()
            .map(|t| {
                let i = svg.find(&format!(">\n{t}\n</text>")).unwrap();
                attribute(&svg[svg[..i].rfind("<text").unwrap()..i], "x")
            })
            .collect();
        let expected = ticks[0] + (ticks[1] - ticks[0]) * 3 / 5;
        assert!((x - expected).abs() <= 1, "{x} vs {expected} ({ticks:?})");
    }

    #[test]
    fn roofline_no_data_and_edge_cases() {
        for (peak, bw) in [
            (f64::NAN, 10.0),
            (100.0, f64::INFINITY),
            (0.0, 10.0),
            (100.0, -1.0),
            (1e300, 1e-300),
        ] {
            let svg = roofline(peak, bw, &[pt("a", 1.0, 1.0)]);
            check_svg(&svg);
            assert!(svg.contains("no data"), "{peak} {bw}");
        }
        // The roof without points.
        let svg = roofline(100.0, 10.0, &[]);
        check_svg(&svg);
        assert!(svg.contains("no data: no measured points"));
        // Bad points are left out and counted; the rest is drawn.
        let svg = roofline(
            100.0,
            10.0,
            &[
                pt("nan", f64::NAN, 1.0),
                pt("inf", 1.0, f64::INFINITY),
                pt("zero", 0.0, 1.0),
                pt("ok", 2.0, 15.0),
            ],
        );
        check_svg(&svg);
        assert!(svg.contains("3 points with a non-finite or non-positive value (no data)"));
        assert!(texts(&svg).contains(&"ok".to_owned()));
        // Extreme points and many coincident ones.
        let many = vec![pt("same", 1.0, 5.0); 25];
        for points in [vec![pt("tiny", 1e-30, 1e-30), pt("huge", 1e30, 1e30)], many] {
            let svg = roofline(100.0, 10.0, &points);
            check_svg(&svg);
        }
    }

    #[test]
    fn roofline_labels_do_not_overlap() {
        // Points close together: the placed label boxes (white backings) must not intersect.
        let points: Vec<RooflinePoint<'_>> = (0..12)
            .map(|i| {
                pt(
                    "kernel name",
                    1.0 + 0.05 * f64::from(i),
                    20.0 + f64::from(i),
                )
            })
            .collect();
        let svg = roofline(500.0, 50.0, &points);
        let boxes: Vec<(i32, i32, i32, i32)> = svg
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains("opacity=\"0.8\""))
            .map(|l| {
                let a = |k: &str| attribute(l, k);
                (a("x"), a("y"), a("x") + a("width"), a("y") + a("height"))
            })
            .collect();
        assert_eq!(boxes.len(), 13);
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                assert!(apart, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn roofline_text_is_escaped() {
        let x = "<script>alert(1)</script>";
        let svg = roofline(100.0, 10.0, &[pt(x, 1.0, 5.0)]);
        let svg2 = time_breakdown(&[slice(x, 1.0)]);
        for svg in [svg, svg2] {
            check_svg(&svg);
            assert!(!svg.contains("<script"), "{svg}");
            assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(!svg.contains("&amp;lt;"));
        }
    }

    #[test]
    fn breakdown_sorted_with_shares_summing_to_100() {
        let items = [
            slice("elementwise", 0.0042),
            slice("matmul", 0.0183),
            slice("attention", 0.0061),
            slice("optimizer", 0.0009),
            slice("layernorm", 0.0011),
        ];
        let svg = time_breakdown(&items);
        check_svg(&svg);
        let t = texts(&svg);
        let shares: Vec<f64> = t
            .iter()
            .filter_map(|s| s.split(" · ").nth(1)?.strip_suffix('%')?.parse().ok())
            .collect();
        assert_eq!(shares.len(), 5, "{t:?}");
        let sum: f64 = shares.iter().sum();
        assert!((sum - 100.0).abs() <= 0.05 * 5.0, "{sum}");
        // Sorted descending: matmul first, optimizer last; times in ms.
        let order: Vec<usize> = [
            "matmul",
            "attention",
            "elementwise",
            "layernorm",
            "optimizer",
        ]
        .iter()
        .map(|n| t.iter().position(|s| s == n).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(t.contains(&"18.30 ms · 59.8%".to_owned()), "{t:?}");
        assert!(t.contains(&"900.0 µs · 2.9%".to_owned()), "{t:?}");
        assert!(t.iter().any(|s| s.contains("total 30.60 ms")));
        assert!(t.contains(&"time per step (ms)".to_owned()));
    }

    #[test]
    fn breakdown_no_data() {
        for items in [
            vec![],
            vec![slice("nan", f64::NAN), slice("inf", f64::INFINITY)],
            vec![slice("zero", 0.0)],
            vec![slice("big", f64::MAX), slice("big", f64::MAX)],
        ] {
            let svg = time_breakdown(&items);
            check_svg(&svg);
            assert!(svg.contains("no data"));
        }
        let svg = time_breakdown(&[slice("ok", 2.0), slice("bad", f64::NAN), slice("z", 0.0)]);
        check_svg(&svg);
        let t = texts(&svg);
        assert!(t.contains(&"2.000 s · 100.0%".to_owned()), "{t:?}");
        assert!(t.contains(&"0 s · 0.0%".to_owned()), "{t:?}");
        assert_eq!(t.iter().filter(|s| *s == "no data").count(), 1);
    }
}
