//! The self-contained HTML report (`costbench report FILE --format html`, `costbench run --html`,
//! `costbench history --html`): one file, inline CSS and inline SVG charts, no script, no font,
//! no request of any kind — a Content-Security-Policy of `default-src 'none'` says so to the
//! browser as well.
//!
//! Pages are built with `maud`, which escapes every interpolated string: a workload name, a label
//! or a catalog note from a user's file can never become markup. Only the SVG charts are inserted
//! as markup (`PreEscaped`); plotters escapes the text inside them.

use super::{Exporter, Output, reports_only};
use crate::compare::Comparison;
use crate::compare::history::History;
use crate::render::chart::cost::{self, CostBar, Sensitivity, TimeCost};
use crate::render::chart::roofline::{self, RooflinePoint, Slice};
use crate::render::cost_rows::{Column, ENERGY, RUN, report_rows};
use crate::render::history;
use crate::report::estimate::EstimateDocument;
use crate::report::schema::{CostRecord, Measurement, Report, StepMeasurement};
use crate::units::{self, MISSING, si};
use anyhow::Result;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The page of one report.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn report(&self, reports: &[Report]) -> Result<Output> {
        match reports {
            [r] => Ok(Output::Text(report_page(r))),
            _ => anyhow::bail!(
                "report --format html makes one page per report; give one FILE ({} given)",
                reports.len()
            ),
        }
    }

    fn comparison(&self, _c: &Comparison, _new: &[Report]) -> Result<Output> {
        Err(reports_only(self.name()))
    }
}

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
        .map(|o| format!("{} {}", o.instance, o.plan.as_str()))
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
    let rows_of_options = report_rows(&c.options);
    // The efficiency note joins the columns when the options differ in it.
    let columns = [&[Column::Instance, Column::Plan][..], &RUN, &ENERGY].concat();
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
                "Cheapest: " strong { (b.instance) " " (b.plan.as_str()) } " — " strong { (units::usd(b.usd)) }
                ", " (units::days(b.wall_hours / 24.0)) " on " (b.chips) " chips (" (b.instances) @if b.instances == 1 { " instance), " } @else { " instances), " }
                (units::percent(b.implied_mfu)) " implied MFU."
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
                @for col in &columns { th class=[col.numeric().then_some("num")] { (col.header()) } }
                @if !same_note { th { (Column::Efficiency.header()) } }
            } }
            tbody {
                @for (i, row) in rows_of_options.iter().enumerate() {
                    tr class=[(i == 0).then_some("best")] {
                        @for col in &columns { td class=[col.numeric().then_some("num")] { (row.text(*col)) } }
                        @if !same_note { td.note { (row.text(Column::Efficiency)) } }
                    }
                }
            }
        }
        @if rows_of_options.iter().any(|r| r.energy_kwh.is_none()) {
            p.note { (MISSING) " in kWh and t CO₂: the chip's power is not published." }
        }
        @if let Some(b) = &c.cpu_baseline {
            p.note {
                "This CPU as an option: " (b.instances) " × " (b.instance) " at this run's "
                (units::gflops(b.measured_gflops)) " per " (b.measured_logical_cores)
                " cores scaled to " (b.instance_vcpus) " vCPUs: " (units::days(b.wall_hours / 24.0))
                ", " (units::usd(b.usd)) " (assumes perfect scaling, which flatters the CPU; price " (b.price_source) ")."
            }
        }
        @if !c.skipped.is_empty() {
            h3 { "Not priced" }
            table {
                thead { tr { th { "instance" } th { "plan" } th { "why" } } }
                tbody { @for s in &c.skipped {
                    tr { td { (s.instance) } td { (s.plan.map_or("all", |p| p.as_str())) } td { (s.reason) } }
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
            tbody { @for row in &rows_of_options {
                tr { td { (row.text(Column::Instance)) } td { (row.text(Column::Plan)) } td.num { (row.text(Column::UsdPerInstanceHour)) } td { (row.text(Column::PriceSource)) } }
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
                    "One training step of the slice: median " strong { (units::seconds(st.median.point)) }
                    " [" (units::seconds(st.median.lower)) " – " (units::seconds(st.median.upper)) "] ("
                    (units::percent_to(st.median.confidence_level, 0)) " bootstrap interval, "
                    (st.n) " samples), " (units::gflops(m.gflops.point)) "; executed FLOPs "
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
                            td.num { (units::seconds(c.time_s.median.point)) }
                            td.num { (units::decimal(c.gflops.point, 1)) }
                            td.num { (units::intensity(c.arithmetic_intensity)) }
                            td.num { (c.roofline_fraction.map_or(MISSING.into(), |f| units::percent(f.point))) }
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
                            td { (c.label) } td.num { (units::seconds(c.time_s.median.point)) }
                            td.num { (units::plus_minus(c.time_s.median.relative_half_width())) }
                            td.num { (units::decimal(c.gflops.point, 1)) }
                            td.num { (c.roofline_fraction.map_or(MISSING.into(), |f| units::percent(f.point))) }
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

/// `costbench estimate --format html`: the priced target as a self-contained page (the same
/// cost section as a report's, without a measurement).
pub fn estimate_page(e: &EstimateDocument) -> String {
    let body = html! {
        header {
            h1 { "costbench estimate: " (e.workload.name) }
            p.lede { "The cost model alone (nothing measured): the target priced on every catalog option from published figures, each traceable to its source and date; the model's formulas are in docs/cost-model.md." }
            dl.facts {
                dt { "estimated" } dd { (e.created_at) }
                dt { "workload" } dd { (e.workload.name) " (" (e.workload.kind) ", from " (e.workload.source) ")" }
                dt { "target" } dd {
                    (units::si(e.target_params)) " parameters, " (units::si(e.target_tokens)) " tokens, "
                    (units::si(e.target_training_flops)) "FLOP to train"
                }
                dt { "scenario" } dd { (e.scenario) }
                dt { "costbench" } dd { (e.costbench_version) ", estimate schema " (e.schema_version) }
            }
        }
        (cost_section(&e.cost, None))
        footer {
            "costbench " (e.costbench_version) " · estimate schema " (e.schema_version)
            " · workload spec SHA-256 " code { (e.workload.spec_hash) }
        }
    };
    page(&format!("costbench · estimate · {}", e.workload.name), body)
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
                    td.num { (units::in_unit(first, &s.unit)) } td.num { (units::in_unit(last, &s.unit)) }
                    td.num { (units::change(last / first - 1.0)) }
                    td { @for c in &s.change_points {
                        div { "#" (c.index + 1) " (" (history::point_label(&s.points[c.index])) "): " (units::change(c.relative_change)) ", p = " (units::p_value(Some(c.p_value))) }
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
