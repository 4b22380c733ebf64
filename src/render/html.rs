//! The self-contained HTML report (`costbench report FILE --format html`, `costbench run --html`,
//! `costbench history --html`): one file, inline CSS and inline SVG charts, no script, no font,
//! no request of any kind — a Content-Security-Policy of `default-src 'none'` says so to the
//! browser as well.
//!
//! Pages are built with `maud`, which escapes every interpolated string: a workload name, a label
//! or a catalog note from a user's file can never become markup. Only the SVG charts are inserted
//! as markup (`PreEscaped`); plotters escapes the text inside them.

use crate::compare::history::History;
use crate::render::chart::cost::{self, CostBar, Sensitivity, TimeCost};
use crate::render::chart::roofline::{self, RooflinePoint, Slice};
use crate::render::export::{percent, value};
use crate::render::history;
use crate::render::summary::si;
use crate::report::schema::{CostRecord, Measurement, Report, StepMeasurement};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Inline style: readable on a laptop, printable (figures and tables are not split across
/// pages, colours kept).
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 1040px; padding: 24px 32px 48px;
       line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 36px 0 8px; border-bottom: 2px solid #e3e3e3; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
p.lede { color: #444; margin: 0 0 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
figure { margin: 12px 0 20px; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9em; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.88em; break-inside: auto; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eaf5ea; font-weight: 600; }
.note { color: #555; font-size: 0.9em; }
ul.warnings li { color: #8a4b00; }
.callout { background: #f3f7fb; border-left: 4px solid #0072b2; padding: 8px 12px; margin: 12px 0; }
footer { margin-top: 40px; color: #666; font-size: 0.85em; border-top: 1px solid #e3e3e3; padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// No script, style only inline, images only as data URIs, nothing fetched.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

fn figure(id: &str, svg: String, caption: &str) -> Markup {
    html! {
        figure id=(id) class="chart" {
            (PreEscaped(svg))
            figcaption { (caption) }
        }
    }
}

fn plan_name(plan: &str) -> String {
    plan.replace('_', " ")
}

fn usd(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x.abs() >= 1e3 {
        format!("${}", si(x))
    } else {
        format!("${x:.2}")
    }
}

fn run_facts(r: &Report) -> Markup {
    let m = &r.machine;
    html! {
        dl.facts {
            dt { "measured" } dd { (r.created_at) }
            dt { "machine" } dd {
                (m.cpu_model) ", " (m.threads) " threads of " (m.logical_cores)
                @if let Some(l) = &m.label { " (" (l) ")" }
                @if let Some(v) = &m.virtualization { "; virtualised: " (v) }
            }
            @if let Some(g) = &m.git {
                dt { "commit" } dd { (g.commit) @if g.dirty { " (uncommitted changes)" } }
            }
            dt { "workload" } dd { (r.workload.name) " (" (r.workload.kind) ", from " (r.workload.source) ")" }
            dt { "costbench" } dd { (r.costbench_version) ", report schema " (r.schema_version) }
        }
    }
}

fn cost_section(c: &CostRecord, m: Option<&StepMeasurement>) -> Markup {
    let bars: Vec<CostBar<'_>> = c
        .options
        .iter()
        .map(|o| CostBar {
            plan: o.plan.as_str(),
            option: &o.instance,
            usd: o.usd,
        })
        .collect();
    let labels: Vec<String> = c
        .options
        .iter()
        .map(|o| format!("{} {}", o.instance, plan_name(o.plan.as_str())))
        .collect();
    let points: Vec<TimeCost<'_>> = c
        .options
        .iter()
        .zip(&labels)
        .map(|(o, l)| TimeCost {
            option: l,
            days: o.wall_hours / 24.0,
            usd: o.usd,
        })
        .collect();
    let rows: Vec<Sensitivity<'_>> = c
        .sensitivity
        .iter()
        .map(|s| Sensitivity {
            option: &s.instance,
            usd: s.usd,
            efficiency: (s.usd_efficiency_minus_20, s.usd_efficiency_plus_20),
            price: (s.usd_price_minus_20, s.usd_price_plus_20),
        })
        .collect();
    let best = c.options.first();
    let same_note = !c.options.is_empty()
        && c.options
            .iter()
            .all(|o| o.efficiency_note == c.options[0].efficiency_note);
    let target = m.map(|m| &m.flops);
    html! {
        h2 { "What training the target would cost" }
        @if let Some(t) = target {
            p.lede {
                (si(t.target_params as f64)) " parameters trained on " (si(t.target_tokens as f64)) " tokens: "
                @if let Some(f) = t.target_training_flops { (si(f)) " FLOP by costbench's executed-op formula" } @else { (si(t.target_six_nd)) " FLOP (6ND)" }
                ", priced in the " strong { (c.scenario) } " scenario; cluster: " (c.cluster) "."
            }
        }
        @if let Some(b) = best {
            div.callout {
                "Cheapest: " strong { (b.instance) " " (plan_name(b.plan.as_str())) } " — " strong { (usd(b.usd)) }
                ", " (format!("{:.1}", b.wall_hours / 24.0)) " days on " (b.chips) " chips (" (b.instances) @if b.instances == 1 { " instance), " } @else { " instances), " }
                (format!("{:.1}% implied MFU", b.implied_mfu * 100.0)) "."
            }
        }
        (figure("chart-cost", cost::cost_by_plan(&bars),
            "Training cost of the target on every option, grouped by pricing plan; the cheapest is marked."))
        (figure("chart-pareto", cost::time_vs_cost(&points),
            "Wall-clock time against cost for every option; the line joins the options no other option beats on both."))
        @if rows.is_empty() {
            p.note { "No sensitivity rows in this report (written before schema 1.2)." }
        } @else {
            (figure("chart-sensitivity", cost::sensitivity_tornado(&rows),
                "How each instance's cheapest plan moves when every efficiency, or the price, is 20% lower or higher."))
        }
        h3 { "Cost table" }
        @if same_note { p.note { "Efficiency of every option: " (c.options[0].efficiency_note) "." } }
        table {
            thead { tr {
                th { "instance" } th { "plan" } th.num { "chips" } th.num { "instances" } th.num { "days" }
                th.num { "chip-hours" } th.num { "USD" } th.num { "$/M tokens" } th.num { "implied MFU" }
                th.num { "kWh" } th.num { "t CO₂" } @if !same_note { th { "efficiency" } }
            } }
            tbody {
                @for (i, o) in c.options.iter().enumerate() {
                    tr class=[(i == 0).then_some("best")] {
                        td { (o.instance) } td { (plan_name(o.plan.as_str())) }
                        td.num { (o.chips) } td.num { (o.instances) }
                        td.num { (format!("{:.1}", o.wall_hours / 24.0)) }
                        td.num { (si(o.chip_hours)) } td.num { (usd(o.usd)) }
                        td.num { (format!("{:.3}", o.usd_per_million_tokens)) }
                        td.num { (format!("{:.1}%", o.implied_mfu * 100.0)) }
                        td.num { (o.energy_kwh.map_or("n/p".into(), si)) }
                        td.num { (o.kg_co2.map_or("n/p".into(), |k| format!("{:.1}", k / 1000.0))) }
                        @if !same_note { td.note { (o.efficiency_note) } }
                    }
                }
            }
        }
        @if let Some(b) = &c.cpu_baseline {
            p.note {
                "This CPU as an option: " (b.instances) " × " (b.instance) " at this run's "
                (format!("{:.1}", b.measured_gflops)) " GFLOP/s per " (b.measured_logical_cores)
                " cores scaled to " (b.instance_vcpus) " vCPUs: " (format!("{:.0}", b.wall_hours / 24.0))
                " days, " (usd(b.usd)) " (assumes perfect scaling, which flatters the CPU; price " (b.price_source) ")."
            }
        }
        @if !c.skipped.is_empty() {
            h3 { "Not priced" }
            table {
                thead { tr { th { "instance" } th { "plan" } th { "why" } } }
                tbody { @for s in &c.skipped {
                    tr { td { (s.instance) } td { (s.plan.map_or("all".into(), |p| plan_name(p.as_str()))) } td { (s.reason) } }
                } }
            }
        }
        h3 { "Assumptions" }
        table {
            thead { tr { th { "input" } th.num { "value" } th { "source" } } }
            tbody {
                tr { td { "scenario" } td.num { (c.scenario) } td { "measured: this run's per-class roofline fractions applied to each accelerator's roofline; published: each chip's published MFU (docs/cost-model.md)" } }
                tr { td { "cluster size" } td.num { "" } td { (c.cluster) } }
                @for a in &c.assumptions {
                    tr { td { (a.name) } td.num { (a.value) } td { (a.source) } }
                }
                tr { td { "catalog" } td.num { (c.catalog_as_of) } td { "as-of date of its newest figure; SHA-256 " code { (c.catalog_hash) } } }
            }
        }
        h3 { "Prices" }
        table {
            thead { tr { th { "instance" } th { "plan" } th.num { "USD per instance-hour" } th { "source, as of" } } }
            tbody { @for o in &c.options {
                tr { td { (o.instance) } td { (plan_name(o.plan.as_str())) } td.num { (format!("{:.3}", o.usd_per_instance_hour)) } td { (o.price_source) } }
            } }
        }
        @if !c.sources.is_empty() {
            table {
                thead { tr { th { "source" } th { "citation" } } }
                tbody { @for (k, v) in &c.sources { tr { td { code { (k) } } td { (v) } } } }
            }
        }
    }
}

fn cpu_section(r: &Report) -> Markup {
    let roof = r.roofline.as_ref();
    match &r.measurement {
        Measurement::Step(m) => {
            let points: Vec<RooflinePoint<'_>> = m
                .op_classes
                .iter()
                .map(|c| RooflinePoint {
                    label: c.class.name(),
                    intensity: c.arithmetic_intensity,
                    gflops: c.gflops.point,
                })
                .collect();
            let slices: Vec<Slice<'_>> = m
                .op_classes
                .iter()
                .map(|c| Slice {
                    label: c.class.name(),
                    seconds: c.time_s.median.point,
                })
                .collect();
            let st = &m.step_time_s;
            html! {
                h2 { "What this CPU measured" }
                p.lede {
                    "One training step of the slice: median " strong { (value(st.median.point, "s")) }
                    " [" (value(st.median.lower, "s")) " – " (value(st.median.upper, "s")) "] ("
                    (format!("{:.0}%", st.median.confidence_level * 100.0)) " bootstrap interval, "
                    (st.n) " samples), " (format!("{:.1}", m.gflops.point)) " GFLOP/s; executed FLOPs "
                    (m.flops.executed_per_step) " vs analytic " (m.flops.analytic_per_step) "."
                }
                @if let Some(roof) = roof {
                    (figure("chart-roofline", roofline::roofline(roof.f32_gflops_all_threads.median, roof.triad_gbps_all_threads.median, &points),
                        "This machine's measured roofline (f32 FMA peak, STREAM triad) with each op class at its arithmetic intensity."))
                } @else {
                    p.note { "No roofline in this report (run without --no-probe to measure one)." }
                }
                (figure("chart-ops", roofline::time_breakdown(&slices),
                    "Where a step's time goes: median time per op class."))
                table {
                    thead { tr {
                        th { "op class" } th.num { "FLOPs/step" } th.num { "median time" } th.num { "GFLOP/s" }
                        th.num { "FLOP/byte" } th.num { "roofline fraction" }
                    } }
                    tbody { @for c in &m.op_classes {
                        tr {
                            td { (c.class.name()) } td.num { (si(c.flops as f64)) }
                            td.num { (value(c.time_s.median.point, "s")) }
                            td.num { (format!("{:.1}", c.gflops.point)) }
                            td.num { (format!("{:.2}", c.arithmetic_intensity)) }
                            td.num { (c.roofline_fraction.map_or("—".into(), |f| value(f.point, "fraction"))) }
                        }
                    } }
                }
            }
        }
        Measurement::Sweep(s) => {
            let points: Vec<RooflinePoint<'_>> = s
                .cases
                .iter()
                .map(|c| RooflinePoint {
                    label: &c.label,
                    intensity: c.flops as f64 / c.bytes as f64,
                    gflops: c.gflops.point,
                })
                .collect();
            html! {
                h2 { "What this CPU measured" }
                @if let Some(roof) = roof {
                    (figure("chart-roofline", roofline::roofline(roof.f32_gflops_all_threads.median, roof.triad_gbps_all_threads.median, &points),
                        "This machine's measured roofline with each product of the sweep."))
                }
                table {
                    thead { tr { th { "product" } th.num { "median time" } th.num { "interval" } th.num { "GFLOP/s" } th.num { "roofline fraction" } } }
                    tbody { @for c in &s.cases {
                        tr {
                            td { (c.label) } td.num { (value(c.time_s.median.point, "s")) }
                            td.num { (format!("±{:.2}%", c.time_s.median.relative_half_width() * 100.0)) }
                            td.num { (format!("{:.1}", c.gflops.point)) }
                            td.num { (c.roofline_fraction.map_or("—".into(), |f| value(f.point, "fraction"))) }
                        }
                    } }
                }
            }
        }
    }
}

/// One report as a self-contained HTML page.
pub fn report_page(r: &Report) -> String {
    let step = match &r.measurement {
        Measurement::Step(m) => Some(m.as_ref()),
        Measurement::Sweep(_) => None,
    };
    let body = html! {
        header {
            h1 { "costbench: " (r.workload.name) }
            p.lede { "Measured on this CPU, priced on accelerators from a sourced catalog. Every figure is traceable: measured ones to the report's samples, published ones to their source and date, modelled ones to docs/cost-model.md." }
            (run_facts(r))
        }
        @if let Some(c) = &r.cost { (cost_section(c, step)) }
        (cpu_section(r))
        @if !r.warnings.is_empty() {
            h2 { "Warnings" }
            ul.warnings { @for w in &r.warnings { li { (w) } } }
        }
        footer {
            "costbench " (r.costbench_version) " · report schema " (r.schema_version)
            " · workload spec SHA-256 " code { (r.workload.spec_hash) }
        }
    };
    page(&format!("costbench · {}", r.workload.name), body)
}

/// `costbench history` as a self-contained HTML page: the table and one chart per series.
pub fn history_page(h: &History) -> String {
    let body = html! {
        header {
            h1 { "costbench history" }
            p.lede { (h.reports) " reports in " (h.dir) "; change points: " (h.method) "." }
        }
        (figure("chart-history", history::svg(h), "Each metric over time with its interval; dashed lines mark detected change points."))
        table {
            thead { tr { th { "workload" } th { "machine" } th { "metric" } th.num { "n" } th.num { "first" } th.num { "last" } th.num { "last/first" } th { "change points" } } }
            tbody { @for s in &h.series {
                @let first = s.points.first().map_or(f64::NAN, |p| p.estimate.point);
                @let last = s.points.last().map_or(f64::NAN, |p| p.estimate.point);
                tr {
                    td { (s.workload) } td { (s.machine) } td { code { (s.id) } } td.num { (s.points.len()) }
                    td.num { (value(first, &s.unit)) } td.num { (value(last, &s.unit)) }
                    td.num { (percent(last / first - 1.0)) }
                    td { @for c in &s.change_points {
                        div { "#" (c.index + 1) " (" (history::point_label(&s.points[c.index])) "): " (percent(c.relative_change)) ", p = " (format!("{:.3}", c.p_value)) }
                    } }
                }
            } }
        }
        @if !h.skipped.is_empty() {
            h2 { "Skipped files" }
            ul.warnings { @for s in &h.skipped { li { (s) } } }
        }
    };
    page("costbench history", body)
}
