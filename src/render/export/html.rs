//! The self-contained HTML report (`costbench report FILE --format html`, `costbench run --html`,
//! `costbench history --html`): one file, inline CSS and inline SVG charts, no script, no font,
//! no request of any kind — a Content-Security-Policy of `default-src 'none'` says so to the
//! browser as well.
//!
//! Pages are built with `maud`, which escapes every interpolated string: a workload name, a label
//! or a catalog note from a user's file can never become markup. Only the SVG charts are inserted
//! as markup (`PreEscaped`); plotters escapes the text inside them.

use super::{Exporter, NamedReport, Output, reports_only};
use crate::catalog::{Catalog, Plan, STALE_PRICE_MONTHS};
use crate::compare::Comparison;
use crate::compare::history::History;
use crate::model::estimate::OptionEstimate;
use crate::model::pricing::{CostRecord, UncertaintyRecord};
use crate::model::uncertainty::{OptionSpread, Spread};
use crate::model::verdict::{self, Pick, Verdict};
use crate::render::chart::Family;
use crate::render::chart::cost::{self, CostBar, Sensitivity, Swing, TimeCost};
use crate::render::chart::roofline::{self, RooflinePoint, Slice};
use crate::render::cost_rows::{Column, ENERGY, RUN, report_rows};
use crate::render::history;
use crate::render::verdict::short_chip;
use crate::report::estimate::EstimateDocument;
use crate::report::schema::{Measurement, Report, StepMeasurement};
use crate::units::{self, MISSING, si};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The page of one report.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        match reports {
            [r] => Ok(Output::Text(report_page(&r.report))),
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
       color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 1160px; padding: 24px 32px 48px;
       line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 36px 0 8px; border-bottom: 2px solid #e3e3e3; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
p.lede { color: #444; margin: 0 0 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
figure { margin: 12px 0 20px; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; max-width: 1000px; height: auto; display: block; margin: 0 auto; }
figcaption { color: #555; font-size: 0.9em; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.88em; break-inside: auto; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eaf5ea; font-weight: 600; }
.note { color: #555; font-size: 0.9em; }
ul.warnings li { color: #8a4b00; }
.callout { background: #f3f7fb; border-left: 4px solid #0072b2; padding: 8px 12px; margin: 12px 0; }
.callout p { margin: 4px 0; } .callout ul { margin: 4px 0; padding-left: 20px; }
.callout .odds { font-size: 1.08em; }
.warn { background: #fff6e5; border-left: 4px solid #e69f00; padding: 6px 12px; margin: 10px 0; color: #5c3a00; font-size: 0.92em; }
.warn ul { margin: 4px 0; padding-left: 20px; }
.swatch { display: inline-block; width: 0.75em; height: 0.75em; margin-right: 0.4em; vertical-align: baseline; border-radius: 2px; }
.scroll { overflow-x: auto; }
table.costs { font-size: 0.84em; } table.costs td { white-space: nowrap; }
table.costs th, table.costs td { padding: 4px 5px; }
td.flag { color: #8a4b00; } td.nowrap { white-space: nowrap; }
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
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) (PreEscaped(family_style())) }
            }
            body { (body) }
        }
    }
    .into_string();
    // maud escapes markup characters; characters XML forbids are replaced here, once, so the
    // page (and the SVG inside it) is well-formed whatever a report held.
    crate::render::escape::xml_chars(page)
}

/// The swatch colour of each vendor family, from the charts' palette.
fn family_style() -> String {
    Family::ALL
        .iter()
        .map(|f| format!(".fam-{} {{ background: {}; }}\n", family_class(*f), f.hex()))
        .collect()
}

fn family_class(f: Family) -> &'static str {
    match f {
        Family::Trainium => "trainium",
        Family::Nvidia => "nvidia",
        Family::Cpu => "cpu",
        Family::Other => "other",
    }
}

/// A small square in the family's chart colour, before a name.
fn swatch(f: Family) -> Markup {
    html! { span class={ "swatch fam-" (family_class(f)) } title=(f.name()) {} }
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
            dt { "workload" } dd { (r.workload.name) " (" (r.workload.kind) ", from " (r.workload.source) ")" }
            dt { "costbench" } dd {
                (r.costbench_version)
                @if let Some(c) = &m.costbench_commit {
                    ", built from " (c) @if m.costbench_dirty == Some(true) { " with uncommitted changes" }
                }
                ", report schema " (r.schema_version)
            }
            @if let Some(g) = &m.git {
                dt { "working directory" } dd { "git " (g.commit) @if g.dirty { " (uncommitted changes)" } " (recorded with --record-git)" }
            }
        }
    }
}

/// What the cost section needs besides the cost record.
struct Context {
    /// When the report or estimate was made (RFC 3339): prices are aged against its date.
    made: String,
    /// Warnings about the measurement the `measured` scenario rests on (none for an estimate).
    measurement_warnings: usize,
    /// Why there is no Monte Carlo, when there is none: "report schema 1.2, before 1.3".
    without_monte_carlo: String,
}

/// One priced option as the page shows it: its vendor family, its chip's short name, why its
/// efficiency is a proxy (if it is) and its Monte Carlo spread (if there is one).
struct View<'a> {
    o: &'a OptionEstimate,
    family: Family,
    chip: String,
    proxy: Option<String>,
    spread: Option<&'a OptionSpread>,
}

impl View<'_> {
    /// The figures a chart draws: the Monte Carlo's medians, or the nominal figures.
    fn usd(&self) -> f64 {
        self.spread.map_or(self.o.usd, |s| s.usd.median)
    }

    fn wall_hours(&self) -> f64 {
        self.spread
            .map_or(self.o.wall_hours, |s| s.wall_hours.median)
    }

    /// "trn2.48xlarge †" for an option whose chip's efficiency is a proxy.
    fn name(&self) -> String {
        if self.proxy.is_some() {
            format!("{} {PROXY_MARK}", self.o.instance)
        } else {
            self.o.instance.clone()
        }
    }
}

/// Marks an option or chip whose efficiency is a proxy.
const PROXY_MARK: &str = "†";

/// The options as the page shows them. A report from before schema 1.3 records no vendor: the
/// bundled catalog names it, by the chip's display name.
fn views<'a>(c: &'a CostRecord) -> Vec<View<'a>> {
    let catalog = Catalog::bundled();
    let u = c.uncertainty.as_ref();
    let spreads = u.map(|u| &u.options).filter(|s| {
        s.len() == c.options.len()
            && s.iter()
                .zip(&c.options)
                .all(|(s, o)| s.instance == o.instance && s.plan == o.plan)
    });
    c.options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let vendor = if o.vendor.is_empty() {
                catalog
                    .accelerators
                    .iter()
                    .find(|a| a.name == o.accelerator || a.id == o.accelerator_id)
                    .map(|a| a.vendor.clone())
                    .unwrap_or_default()
            } else {
                o.vendor.clone()
            };
            let range = u.and_then(|u| u.inputs.get(&format!("efficiency:{}", o.accelerator_id)));
            let proxy = match range {
                Some(r) if r.source.starts_with("proxy") => Some(r.source.clone()),
                _ if o.efficiency_note.contains("proxy") => Some(o.efficiency_note.clone()),
                _ => None,
            };
            View {
                o,
                family: Family::of(verdict::Family::of_vendor(&vendor)),
                chip: short_chip(&o.accelerator, &vendor),
                proxy,
                spread: spreads.map(|s| &s[i]),
            }
        })
        .collect()
}

fn usd_interval(s: &Spread) -> String {
    format!("{}–{}", units::usd(s.low), units::usd(s.high))
}

fn time_interval(s: &Spread) -> String {
    format!("{}–{}", units::wall_clock(s.low), units::wall_clock(s.high))
}

fn chance(p: f64) -> String {
    units::percent_to(p, 0)
}

fn trials(n: usize) -> String {
    units::grouped(n as f64)
}

/// "Trn1 on 44 × trn1.32xlarge, reserved_3yr".
fn pick_option(chip: &str, instances: u32, instance: &str, plan: Plan) -> String {
    format!("{chip} on {instances} × {instance}, {}", plan.as_str())
}

/// One family's side of the verdict.
fn pick_item(family: &str, p: Option<&Pick>, deadline: Option<f64>) -> Markup {
    match p {
        Some(p) => html! {
            "Cheapest " (family) ": "
            strong { (pick_option(&short_chip(&p.chip, &p.vendor), p.instances, &p.instance, p.plan)) }
            " — " strong { (units::usd(p.usd.median)) } " (" (usd_interval(&p.usd)) "), "
            (units::wall_clock(p.wall_hours.median)) " (" (time_interval(&p.wall_hours)) ")"
            @if let (Some(h), Some(within)) = (deadline, p.p_within_deadline) {
                "; finishes within " (units::span_words(h)) " in " (chance(within)) " of trials"
            }
            "."
        },
        None => html! {
            "Cheapest " (family) ": none — no " (family) " option was priced (see the tables below)."
        },
    }
}

/// The verdict: the cheapest Trainium and NVIDIA options with their intervals, how likely
/// Trainium is to be cheaper, and why spot was left out.
fn verdict_callout(v: &Verdict, u: &UncertaintyRecord, views: &[View<'_>]) -> Markup {
    let cheapest_spot = views
        .iter()
        .filter(|w| w.o.plan == Plan::Spot)
        .min_by(|a, b| a.usd().total_cmp(&b.usd()));
    html! {
        div.callout id="verdict" {
            p {
                strong { "Trainium or NVIDIA?" }
                " Medians, each with its " (units::percent_to(u.interval, 0)) " interval (5th to 95th percentile), over "
                (trials(u.trials)) " paired Monte Carlo trials (seed " (u.seed) ")."
            }
            ul {
                li { (pick_item("Trainium", v.trainium.as_ref(), v.deadline_hours)) }
                li { (pick_item("NVIDIA", v.nvidia.as_ref(), v.deadline_hours)) }
            }
            @if let Some(p) = v.p_trainium_cheaper {
                p.odds {
                    strong { "Trainium is cheaper in " (chance(p)) " of " (trials(u.trials)) " paired trials" }
                    @if let Some(f) = v.p_trainium_faster { ", and faster in " (chance(f)) }
                    "."
                }
            } @else {
                p { "No probability that Trainium is cheaper: it needs a priced option of each family." }
            }
            @if let Some(days) = v.spot_left_out_beyond_days {
                p.note {
                    "Spot options are left out of this verdict: spot capacity is interruptible (AWS can reclaim it at two minutes' notice), and these runs take longer than "
                    (units::span_words(days * 24.0)) ", so they would restart many times"
                    @if let Some(w) = cheapest_spot {
                        " (the cheapest, " (w.o.instance) " spot, has a median of " (units::usd(w.usd())) ")"
                    }
                    ". They stay in the charts and the table."
                }
            }
        }
    }
}

/// Without a Monte Carlo: the cheapest option at the nominal inputs, each family's cheapest,
/// and a plain statement that there are no intervals.
fn nominal_callout(views: &[View<'_>], why: &str) -> Markup {
    let first = |f: Family| views.iter().find(|w| w.family == f);
    let line = |w: &View<'_>| {
        format!(
            "{} — {}",
            pick_option(&w.chip, w.o.instances, &w.o.instance, w.o.plan),
            units::usd(w.o.usd)
        )
    };
    html! {
        div.callout id="verdict" {
            @if let Some(b) = views.first() {
                p {
                    "Cheapest at the model's inputs: " strong { (b.o.instance) " " (b.o.plan.as_str()) } " — " strong { (units::usd(b.o.usd)) }
                    ", " (units::wall_clock(b.o.wall_hours)) " on " (b.o.chips) " chips (" (b.o.instances) @if b.o.instances == 1 { " instance), " } @else { " instances), " }
                    (units::percent(b.o.implied_mfu)) " implied MFU."
                }
            }
            @if let (Some(t), Some(n)) = (first(Family::Trainium), first(Family::Nvidia)) {
                p { "Cheapest Trainium: " strong { (line(t)) } "; cheapest NVIDIA: " strong { (line(n)) } "." }
            }
            p.note {
                "No Monte Carlo in this " (why) ": these are single figures at the model's nominal inputs, with no interval and no probability that Trainium is cheaper."
            }
        }
    }
}

/// A swing's input in words: `efficiency:trainium` → "Trn1 efficiency", `goodput`,
/// `price:trn1.32xlarge:spot` → "spot price of trn1.32xlarge".
fn input_words(input: &str, views: &[View<'_>]) -> String {
    if let Some(id) = input.strip_prefix("efficiency:") {
        let chip = views
            .iter()
            .find(|w| w.o.accelerator_id == id)
            .map_or(id.to_string(), |w| w.chip.clone());
        return format!("{chip} efficiency");
    }
    if let Some(rest) = input.strip_prefix("price:") {
        let (instance, plan) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let plan = match plan {
            "spot" => "spot price",
            "capacity_block" => "Capacity Block price",
            "on_demand" => "on-demand price",
            "reserved_1yr" => "1-year reserved price",
            "reserved_3yr" => "3-year reserved price",
            _ => "price",
        };
        return format!("{plan} of {instance}");
    }
    input.to_string()
}

/// The swings of the inputs that enter either pick's cost (the others move the ratio only by
/// sampling noise), in words, and how many were left out.
fn swings<'v>(v: &Verdict, views: &[View<'v>]) -> (Vec<(String, f64, f64)>, usize) {
    let (Some(t), Some(n)) = (&v.trainium, &v.nvidia) else {
        return (Vec::new(), 0);
    };
    let id = |p: &Pick| views.get(p.option).map(|w| w.o.accelerator_id.clone());
    let mut relevant = vec!["goodput".to_string()];
    for p in [t, n] {
        relevant.extend(id(p).map(|id| format!("efficiency:{id}")));
        relevant.push(format!("price:{}:{}", p.instance, p.plan.as_str()));
    }
    let kept: Vec<(String, f64, f64)> = v
        .swings
        .iter()
        .filter(|s| relevant.contains(&s.input))
        .map(|s| {
            (
                input_words(&s.input, views),
                s.ratio_at_low,
                s.ratio_at_high,
            )
        })
        .collect();
    let left_out = v.swings.len() - kept.len();
    (kept, left_out)
}

fn cost_section(c: &CostRecord, m: Option<&StepMeasurement>, cx: &Context) -> Markup {
    let views = views(c);
    let mc = c.uncertainty.as_ref();
    let bar_names: Vec<String> = views.iter().map(View::name).collect();
    let bars: Vec<CostBar<'_>> = views
        .iter()
        .zip(&bar_names)
        .map(|(w, name)| CostBar {
            plan: w.o.plan.as_str(),
            option: name,
            family: w.family,
            usd: w.usd(),
            interval: w.spread.map(|s| (s.usd.low, s.usd.high)),
        })
        .collect();
    let mut labels: Vec<String> = views
        .iter()
        .map(|w| format!("{} {}", w.name(), w.o.plan.as_str()))
        .collect();
    // This CPU joins the scatter when it is on the accelerators' scale: within 10× of their
    // slowest and dearest. Further out it would squeeze them into a corner; the caption says
    // where it is instead.
    let slowest = views.iter().map(View::wall_hours).fold(0.0, f64::max);
    let dearest = views.iter().map(View::usd).fold(0.0, f64::max);
    let cpu = c
        .cpu_baseline
        .as_ref()
        .map(|b| (b, b.wall_hours <= 10.0 * slowest && b.usd <= 10.0 * dearest));
    if let Some((b, true)) = cpu {
        labels.push(format!("{} (this CPU, scaled)", b.instance));
    }
    let mut points: Vec<TimeCost<'_>> = views
        .iter()
        .zip(&labels)
        .map(|(w, l)| TimeCost {
            option: l,
            family: w.family,
            days: w.wall_hours() / 24.0,
            usd: w.usd(),
            days_interval: w
                .spread
                .map(|s| (s.wall_hours.low / 24.0, s.wall_hours.high / 24.0)),
            usd_interval: w.spread.map(|s| (s.usd.low, s.usd.high)),
        })
        .collect();
    if let (Some((b, true)), Some(l)) = (cpu, labels.last()) {
        points.push(TimeCost {
            option: l,
            family: Family::Cpu,
            days: b.wall_hours / 24.0,
            usd: b.usd,
            days_interval: None,
            usd_interval: None,
        });
    }
    let tornado: Vec<Sensitivity<'_>> = c
        .sensitivity
        .iter()
        .map(|s| Sensitivity {
            option: &s.instance,
            usd: s.usd,
            efficiency: (s.usd_efficiency_minus_20, s.usd_efficiency_plus_20),
            price: (s.usd_price_minus_20, s.usd_price_plus_20),
        })
        .collect();
    let (swing_rows, swings_left_out) = mc.map_or((Vec::new(), 0), |u| swings(&u.verdict, &views));
    let swing_bars: Vec<Swing<'_>> = swing_rows
        .iter()
        .map(|(input, low, high)| Swing {
            input,
            at_low: *low,
            at_high: *high,
        })
        .collect();
    let picks = mc.and_then(|u| u.verdict.trainium.as_ref().zip(u.verdict.nvidia.as_ref()));
    let proxies: Vec<&View<'_>> = {
        let mut seen: Vec<&str> = Vec::new();
        views
            .iter()
            .filter(|w| w.proxy.is_some())
            .filter(|w| {
                let new = !seen.contains(&w.o.accelerator.as_str());
                seen.push(&w.o.accelerator);
                new
            })
            .collect()
    };
    let target = m.map(|m| &m.flops);
    let rows_of_options = report_rows(&c.options);
    let columns = [&[Column::Plan][..], &RUN, &ENERGY].concat();
    let unpriced_instances: Vec<_> = c.skipped.iter().filter(|s| s.plan.is_none()).collect();
    html! {
        h2 id="cost" { "What training the target would cost" }
        @if let Some(t) = target {
            p.lede {
                (si(t.target_params as f64)) " parameters trained on " (si(t.target_tokens as f64)) " tokens: "
                @if let Some(f) = t.target_training_flops { (si(f)) " FLOP by costbench's executed-op formula" } @else { (si(t.target_six_nd)) " FLOP (6ND)" }
                ", priced in the " strong { (c.scenario) } " scenario; cluster: " (c.cluster) "."
            }
        } @else {
            p.lede { "Priced in the " strong { (c.scenario) } " scenario; cluster: " (c.cluster) "." }
        }
        @if c.scenario == "measured" && cx.measurement_warnings > 0 {
            p.warn {
                "The measured scenario prices every option from this run's measurement, which has "
                (cx.measurement_warnings) @if cx.measurement_warnings == 1 { " warning" } @else { " warnings" }
                ": see " a href="#measured" { "What this CPU measured" } "."
            }
        }
        @match mc {
            Some(u) => (verdict_callout(&u.verdict, u, &views)),
            None => (nominal_callout(&views, &cx.without_monte_carlo)),
        }
        (figure("chart-cost", cost::cost_by_plan(&bars), &if mc.is_some() {
            "Training cost of the target on every option, grouped by pricing plan and coloured by vendor family: bars are the Monte Carlo's medians, whiskers its 90% intervals (5th to 95th percentile); the cheapest median is outlined. The cost table gives each option's cost at the model's nominal inputs.".to_string()
        } else {
            format!("Training cost of the target on every option at the model's nominal inputs, grouped by pricing plan and coloured by vendor family; the cheapest is outlined. No Monte Carlo in this {}, so no intervals.", cx.without_monte_carlo)
        }))
        @if !proxies.is_empty() {
            div.warn {
                strong { (PROXY_MARK) " Efficiency is a proxy" }
                " for these chips (no published training utilisation of their own), so their figures are less certain than the others':"
                ul { @for w in &proxies {
                    li { (swatch(w.family)) strong { (w.chip) } " (" (instances_of(&views, &w.o.accelerator)) "): " (w.proxy.as_deref().unwrap_or_default()) }
                } }
            }
        }
        (figure("chart-pareto", cost::time_vs_cost(&points), &format!(
            "Wall-clock time against cost for every option{}; the black line joins the options no other beats on both{}.",
            if mc.is_some() { " (Monte Carlo medians, with whiskers for the 90% intervals of both)" } else { " at the model's nominal inputs" },
            match cpu {
                Some((_, true)) => "; this CPU (blue) is priced as a CPU instance at its measured rate, assuming perfect scaling".to_string(),
                Some((b, false)) => format!(
                    "; this CPU, priced as {} × {} at its measured rate, would take {} and cost {}: off this chart's scale",
                    b.instances, b.instance, units::days(b.wall_hours / 24.0), units::usd(b.usd)
                ),
                None => String::new(),
            },
        )))
        @if !swing_bars.is_empty() {
            @let (t, n) = picks.expect("swings come from two picks");
            @let subject = format!(
                "{} ÷ {}",
                pick_option(&short_chip(&t.chip, &t.vendor), t.instances, &t.instance, t.plan),
                pick_option(&short_chip(&n.chip, &n.vendor), n.instances, &n.instance, n.plan),
            );
            (figure("chart-sensitivity", cost::verdict_sensitivity(&swing_bars, t.usd.median / n.usd.median, &subject), &format!(
                "Which uncertain input moves the verdict most: for each input, the median ratio of the Trainium pick's cost to the NVIDIA pick's in the trials where that input is in its lowest tenth of draws (sky-blue end) and in its highest tenth (blue end), around the ratio of the two medians (black tick). Left of the dashed line at 1, Trainium is cheaper.{}",
                if swings_left_out > 0 { format!(" {swings_left_out} other inputs enter neither pick's cost; their swings are only sampling noise and are not drawn.") } else { String::new() },
            )))
        } @else if mc.is_some() {
            p.note { "No sensitivity of the verdict: it needs a priced Trainium option and a priced NVIDIA option." }
        } @else if tornado.is_empty() {
            p.note { "No sensitivity rows in this report (written before schema 1.2)." }
        } @else {
            (figure("chart-sensitivity", cost::sensitivity_tornado(&tornado),
                "How each instance's cheapest plan moves when every efficiency, or the price, is 20% lower or higher (no Monte Carlo in this report)."))
        }
        h3 { "Cost table" }
        p.note {
            "Each option at the model's nominal inputs"
            @if mc.is_some() { ", with the Monte Carlo's 90% interval of its cost" }
            "; the chip's colour is its vendor family in the charts"
            @if !proxies.is_empty() { "; " (PROXY_MARK) " marks a chip whose efficiency is a proxy" }
            "."
        }
        div.scroll { table.costs {
            thead { tr {
                th { (Column::Instance.header()) } th { "chip" }
                @for col in &columns {
                    th class=[col.numeric().then_some("num")] { (col.header()) }
                    @if *col == Column::Usd && mc.is_some() { th.num { "USD, 90% interval" } }
                }
            } }
            tbody {
                @for (i, (row, w)) in rows_of_options.iter().zip(&views).enumerate() {
                    tr class=[(i == 0).then_some("best")] {
                        td { (row.text(Column::Instance)) }
                        td { (swatch(w.family)) (w.chip) @if w.proxy.is_some() { " " (PROXY_MARK) } }
                        @for col in &columns {
                            td class=[col.numeric().then_some("num")] { (row.text(*col)) }
                            @if *col == Column::Usd && mc.is_some() {
                                td.num { (w.spread.map_or(MISSING.to_string(), |s| usd_interval(&s.usd))) }
                            }
                        }
                    }
                }
            }
        } }
        @if rows_of_options.iter().any(|r| r.energy_kwh.is_none()) {
            p.note { (MISSING) " in kWh and t CO₂: the chip's power is not published." }
        }
        @if let Some(b) = &c.cpu_baseline {
            p.note {
                (swatch(Family::Cpu)) "This CPU as an option: " (b.instances) " × " (b.instance) " at this run's "
                (units::gflops(b.measured_gflops)) " per " (b.measured_logical_cores)
                " cores scaled to " (b.instance_vcpus) " vCPUs: " (units::days(b.wall_hours / 24.0))
                ", " (units::usd(b.usd)) " (assumes perfect scaling, which flatters the CPU; price " (b.price_source) ")."
            }
        }
        @if !unpriced_instances.is_empty() {
            div.warn {
                strong { "Instances not priced" }
                ul { @for s in &unpriced_instances { li { (s.instance) ": " (s.reason) } } }
            }
        }
        (efficiency_table(c, &views))
        (prices(c, &views, cx))
        h3 { "Assumptions" }
        table {
            thead { tr { th { "input" } th.num { "value" } th { "source" } } }
            tbody {
                tr { td { "scenario" } td.num { (c.scenario) } td { "measured: this run's per-class roofline fractions applied to each accelerator's roofline; published: each chip's published MFU (docs/cost-model.md)" } }
                tr { td { "cluster size" } td.num { "" } td { (c.cluster) } }
                @for a in &c.assumptions {
                    tr {
                        td { (a.name) } td.num { (a.value) }
                        td {
                            (a.source)
                            @if let Some(r) = mc.and_then(|u| u.inputs.get(&a.name)).filter(|r| !r.is_exact()) {
                                br; span.note { "Monte Carlo: " (units::decimal(r.low, 2)) " to " (units::decimal(r.high, 2)) ", most likely " (units::decimal(r.mode, 2)) " (" (r.source) ")" }
                            }
                        }
                    }
                }
                @if let Some(u) = mc {
                    tr { td { "Monte Carlo" } td.num { (trials(u.trials)) } td { "paired trials, seed " (u.seed) "; triangular input ranges (docs/cost-model.md, \"Uncertainty and the verdict\")" } }
                }
                tr { td { "catalog" } td.num { (c.catalog_as_of) } td { "as-of date of its newest figure; SHA-256 " code { (c.catalog_hash) } } }
            }
        }
    }
}

/// The instances of a chip's options, "p5en.48xlarge, p5e.48xlarge".
fn instances_of(views: &[View<'_>], accelerator: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    for w in views.iter().filter(|w| w.o.accelerator == accelerator) {
        if !names.contains(&w.o.instance.as_str()) {
            names.push(&w.o.instance);
        }
    }
    names.join(", ")
}

/// Each chip's efficiency as the model used it, and its range in the Monte Carlo.
fn efficiency_table(c: &CostRecord, views: &[View<'_>]) -> Markup {
    let mut chips: Vec<&View<'_>> = Vec::new();
    for w in views {
        if !chips.iter().any(|c| c.o.accelerator == w.o.accelerator) {
            chips.push(w);
        }
    }
    let mc = c.uncertainty.as_ref();
    let range_of =
        |w: &View<'_>| mc.and_then(|u| u.inputs.get(&format!("efficiency:{}", w.o.accelerator_id)));
    let uniform = chips.iter().all(|w| {
        w.o.efficiency_note == chips[0].o.efficiency_note && range_of(w) == range_of(chips[0])
    });
    html! {
        h3 { "Efficiency of each chip" }
        @if uniform && !chips.is_empty() {
            p.note {
                "Every chip: " (chips[0].o.efficiency_note)
                @if let Some(r) = range_of(chips[0]) {
                    @if r.is_exact() { "; exact in the Monte Carlo (" (r.source) ")" }
                    @else { "; in the Monte Carlo × " (units::decimal(r.low, 2)) " – " (units::decimal(r.high, 2)) " of it (" (r.source) ")" }
                }
                "."
            }
        } @else {
        table {
            thead { tr {
                th { "chip" } th { "instances" } th { "efficiency the model uses" }
                @if mc.is_some() { th.num { "Monte Carlo range" } th { "why that range" } }
            } }
            tbody { @for w in &chips {
                @let range = range_of(w);
                tr {
                    td.nowrap { (swatch(w.family)) (w.chip) @if w.proxy.is_some() { " " (PROXY_MARK) } }
                    td { (instances_of(views, &w.o.accelerator)) }
                    td { (w.o.efficiency_note) }
                    @if mc.is_some() {
                        @match range {
                            Some(r) if r.is_exact() => { td.num { "exact" } td { (r.source) } }
                            Some(r) => { td.num { "× " (units::decimal(r.low, 2)) " – " (units::decimal(r.high, 2)) } td { (r.source) } }
                            None => { td.num { (MISSING) } td { "" } }
                        }
                    }
                }
            } }
        }
        }
    }
}

/// The last `YYYY-MM-DD` date in `text`: a price's provenance (`AWS-PRICE, 2026-01-21`,
/// `AWS-SPOT (2025-11-30)`) or a timestamp (`2026-11-29T15:41:22Z`).
fn date_in(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(9))
        .rev()
        .filter(|&i| b[i].is_ascii_digit() && b[i + 4] == b'-' && b[i + 7] == b'-')
        .find_map(|i| NaiveDate::parse_from_str(text.get(i..i + 10)?, "%Y-%m-%d").ok())
}

/// Whole months from `from` to `to` (0 when `to` is earlier).
fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut n = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        n -= 1;
    }
    u32::try_from(n).unwrap_or(0)
}

/// Every price with its source and date, its age at the report's date (old ones flagged), how
/// the Monte Carlo varies it, and the prices that are not published.
fn prices(c: &CostRecord, views: &[View<'_>], cx: &Context) -> Markup {
    let made = date_in(&cx.made);
    let age = |w: &View<'_>| {
        let as_of = date_in(&w.o.price_source)?;
        Some(months_between(as_of, made?))
    };
    let stale: Vec<&View<'_>> = views
        .iter()
        .filter(|w| age(w).is_some_and(|a| a > STALE_PRICE_MONTHS))
        .collect();
    let dates: Vec<NaiveDate> = views
        .iter()
        .filter_map(|w| date_in(&w.o.price_source))
        .collect();
    let (oldest, newest) = (dates.iter().min(), dates.iter().max());
    let varied: Vec<(&str, &crate::model::uncertainty::Range)> = c
        .uncertainty
        .iter()
        .flat_map(|u| u.inputs.iter())
        .filter_map(|(k, r)| Some((k.strip_prefix("price:")?, r)))
        .filter(|(_, r)| !r.is_exact())
        .collect();
    let unpublished: Vec<_> = c.skipped.iter().filter(|s| s.plan.is_some()).collect();
    html! {
        h3 id="prices" { "Prices" }
        @if let (Some(o), Some(n)) = (oldest, newest) {
            p.note {
                "Prices as of " (o) @if o != n { " to " (n) }
                @if let Some(made) = made { "; at this page's date (" (made) ") the oldest is " (months_between(*o, made)) " months old" }
                "; prices older than " (STALE_PRICE_MONTHS) " months are flagged."
                @if c.uncertainty.is_some() {
                    " In the Monte Carlo, "
                    @for (k, (plan, r)) in varied.iter().enumerate() {
                        @if k > 0 { ", " }
                        (plan) " prices vary × " (units::decimal(r.low, 2)) "–" (units::decimal(r.high, 2)) " (" (r.source) ")"
                    }
                    @if !varied.is_empty() { "; " }
                    "on-demand and reserved prices are list prices and do not vary."
                }
            }
        }
        @if !stale.is_empty() {
            div.warn {
                strong { (stale.len()) " of " (views.len()) " prices are more than " (STALE_PRICE_MONTHS) " months old at this page's date" }
                ": check the current prices, or give one with --price INSTANCE:PLAN=USD."
            }
        }
        div.scroll { table {
            thead { tr { th { "instance" } th { "plan" } th.num { "USD per instance-hour" } th { "source, as of" } th.num { "age" } } }
            tbody { @for w in views {
                @let a = age(w);
                @let old = a.is_some_and(|a| a > STALE_PRICE_MONTHS);
                tr {
                    td { (w.o.instance) } td { (w.o.plan.as_str()) } td.num { (units::usd(w.o.usd_per_instance_hour)) } td { (w.o.price_source) }
                    td class={ "num" @if old { " flag" } } {
                        @match a { Some(a) => { (a) " mo" @if old { " ⚠ old" } }, None => { (MISSING) } }
                    }
                }
            } }
        } }
        @if !unpublished.is_empty() {
            div.warn {
                strong { "Not published, so not priced: " }
                (unpublished.len()) " instance plans."
                ul { @for s in &unpublished {
                    li { (s.instance) " " (s.plan.map_or("", |p| p.as_str())) ": " (s.reason) }
                } }
            }
        }
        @if !c.sources.is_empty() {
            table {
                thead { tr { th { "source" } th { "citation" } } }
                tbody { @for (k, v) in &c.sources { tr { td { code { (k) } } td { (v) } } } }
            }
        }
    }
}

/// The report's warnings (all about the machine and the measurement), beside the measurement.
fn measurement_warnings(r: &Report) -> Markup {
    html! {
        @if !r.warnings.is_empty() {
            div.warn id="measurement-warnings" {
                strong { "Warnings about this measurement" }
                ul { @for w in &r.warnings { li { (w) } } }
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
                h2 id="measured" { "What this CPU measured" }
                (measurement_warnings(r))
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
                h2 id="measured" { "What this CPU measured" }
                (measurement_warnings(r))
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
    let cx = Context {
        made: r.created_at.clone(),
        measurement_warnings: r.warnings.len(),
        without_monte_carlo: format!(
            "report (schema {}; the Monte Carlo arrived in 1.3)",
            r.schema_version
        ),
    };
    let body = html! {
        header {
            h1 { "costbench: " (r.workload.name) }
            p.lede { "Measured on this CPU, priced on accelerators from a sourced catalog. Every figure is traceable: measured ones to the report's samples, published ones to their source and date, modelled ones to docs/cost-model.md." }
            (run_facts(r))
        }
        @if let Some(c) = &r.cost { (cost_section(c, step, &cx)) }
        (cpu_section(r))
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
    let cx = Context {
        made: e.created_at.clone(),
        measurement_warnings: 0,
        without_monte_carlo: "estimate".to_string(),
    };
    let body = html! {
        header {
            h1 { "costbench estimate: " (e.workload.name) }
            p.lede { "The cost model alone (nothing measured): the target priced on every catalog option from published figures, each traceable to its source and date; the model's formulas are in docs/cost-model.md." }
            dl.facts {
                dt { "estimated" } dd { (e.created_at) }
                dt { "workload" } dd { (e.workload.name) " (" (e.workload.kind) ", from " (e.workload.source) ")" }
                dt { "target" } dd {
                    (units::si(e.target_params)) " parameters, " (units::si(e.target_tokens)) " tokens, "
                    (units::si(e.target_training_flops)) " FLOP to train"
                }
                dt { "scenario" } dd { (e.scenario) }
                dt { "costbench" } dd { (e.costbench_version) ", estimate schema " (e.schema_version) }
            }
        }
        (cost_section(&e.cost, None, &cx))
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
            thead { tr { th { "workload" } th { "testbed" } th { "metric" } th.num { "n" } th.num { "first" } th.num { "last" } th.num { "last/first" } th { "change points" } } }
            tbody { @for s in &h.series {
                @let first = s.points.first().map_or(f64::NAN, |p| p.estimate.point);
                @let last = s.points.last().map_or(f64::NAN, |p| p.estimate.point);
                tr {
                    td { (s.workload) } td { (history::testbed_text(s)) } td { code { (s.id) } } td.num { (s.points.len()) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::estimate::{ClusterSize, Scenario};
    use crate::model::pricing::{Request, UncertaintySettings, price};
    use crate::model::{Assumptions, Profile, validation};
    use crate::report::schema::WorkloadRecord;

    /// Llama 2 70B on 2T tokens within 30 days, priced on the bundled catalog with the Monte
    /// Carlo, as `costbench estimate --format html` would show it.
    fn llama2_70b(uncertainty: bool) -> EstimateDocument {
        let (_, w, _) = validation::llama2_runs().remove(2);
        let profile = Profile::from_transformer(&w);
        let catalog = Catalog::bundled();
        let assumptions = Assumptions::default();
        let p = price(&Request {
            profile: &profile,
            catalog: &catalog,
            scenario: Scenario::Published,
            size: ClusterSize::DeadlineDays(30.0),
            assumptions: &assumptions,
            plans: &[],
            measured: None,
            uncertainty: uncertainty.then(UncertaintySettings::default),
            model: Default::default(),
        });
        EstimateDocument {
            schema_version: crate::report::estimate::schema_version(),
            costbench_version: "0.1.0".to_string(),
            created_at: "2026-11-29T12:00:00Z".to_string(),
            workload: WorkloadRecord {
                name: "llama2-70b".to_string(),
                kind: "transformer".to_string(),
                source: "Llama 2 70B (Touvron et al. 2023)".to_string(),
                spec: serde_json::to_value(&w).unwrap(),
                spec_hash: "0".repeat(64),
            },
            target_params: profile.params,
            target_tokens: w.target_tokens as f64,
            target_training_flops: profile.executed_flops(),
            scenario: "published".to_string(),
            cost: p.record(&catalog, &assumptions),
        }
    }

    /// Every `<svg` of `page`, from its tag to its end.
    fn charts(page: &str) -> Vec<&str> {
        page.match_indices("<svg")
            .map(|(i, _)| &page[i..i + page[i..].find("</svg>").unwrap()])
            .collect()
    }

    /// Writes `page` to `$COSTBENCH_PAGE_DIR/name` when that is set (to look at it).
    fn keep(name: &str, page: &str) {
        if let Some(dir) = std::env::var_os("COSTBENCH_PAGE_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(name), page).unwrap();
        }
    }

    #[test]
    fn the_estimate_page_states_the_verdict_with_intervals_and_odds() {
        let doc = llama2_70b(true);
        let page = estimate_page(&doc);
        keep("estimate-llama2-70b.html", &page);
        let u = doc.cost.uncertainty.as_ref().unwrap();
        let (t, n) = (
            u.verdict.trainium.as_ref().unwrap(),
            u.verdict.nvidia.as_ref().unwrap(),
        );
        // Vendor and chip, the interval and the probability, in words.
        for needle in [
            "Cheapest Trainium: ",
            "Cheapest NVIDIA: ",
            "90% interval",
            "paired trials",
            &format!("{} × {}", t.instances, t.instance),
            &format!("{} × {}", n.instances, n.instance),
            &format!("{}–{}", units::usd(t.usd.low), units::usd(t.usd.high)),
            &format!(
                "Trainium is cheaper in {} of 10,000 paired trials",
                chance(u.verdict.p_trainium_cheaper.unwrap())
            ),
        ] {
            assert!(page.contains(needle), "no {needle:?} in the page");
        }
        // A month-long run: spot is left out, and the page says why.
        assert_eq!(u.verdict.spot_left_out_beyond_days, Some(1.0));
        assert!(
            page.contains(
                "Spot options are left out of this verdict: spot capacity is interruptible"
            )
        );
        assert!(page.contains("longer than 1 day"));
        // The Monte Carlo's sensitivity, not the ±20% tornado; swing labels in words.
        assert!(page.contains("Which input moves the verdict most"));
        assert!(!page.contains("efficiency ±20%"));
        // The verdict's Trainium chip (Trn1 or Trainium2, whichever the model finds cheaper)
        // has its efficiency swing in words.
        assert!(
            page.contains("Trn1 efficiency") || page.contains("Trainium2 efficiency"),
            "no Trainium efficiency swing"
        );
        assert!(
            !page.contains("&gt;efficiency:"),
            "a raw input name in a chart"
        );
        // Proxy notes beside the options they qualify, before the cost table.
        let proxy = page.find("Efficiency is a proxy").expect("a proxy note");
        assert!(proxy < page.find("Cost table").unwrap());
        // "Not published" beside the price table.
        let prices = page.find("id=\"prices\"").unwrap();
        let unpublished = page.find("Not published, so not priced").unwrap();
        assert!(unpublished > prices && unpublished < page.find("Assumptions").unwrap());
    }

    #[test]
    fn every_chart_has_a_title_and_an_accessible_label() {
        let report = crate::report::store::parse(
            include_str!("../../../tests/fixtures/reports/tiny.json"),
            "tiny.json",
        )
        .unwrap();
        for page in [
            estimate_page(&llama2_70b(true)),
            estimate_page(&llama2_70b(false)),
            report_page(&report),
        ] {
            let svgs = charts(&page);
            assert!(svgs.len() >= 3, "{} charts", svgs.len());
            for svg in svgs {
                let head = &svg[..svg.find('>').unwrap()];
                assert!(head.contains(" role=\"img\""), "{head}");
                let label = head.split(" aria-label=\"").nth(1).expect("an aria-label");
                let label = &label[..label.find('"').unwrap()];
                assert!(label.len() > 40 && label.ends_with('.'), "{label}");
                let body = &svg[head.len() + 1..];
                assert!(body.trim_start().starts_with("<title>"), "{}", &body[..80]);
            }
        }
    }

    #[test]
    fn a_report_without_a_monte_carlo_falls_back_honestly() {
        // The fixture is schema 1.2: no uncertainty, no vendors.
        let report = crate::report::store::parse(
            include_str!("../../../tests/fixtures/reports/tiny.json"),
            "tiny.json",
        )
        .unwrap();
        assert!(report.cost.as_ref().unwrap().uncertainty.is_none());
        let page = report_page(&report);
        keep("report-tiny-1.2.html", &page);
        assert!(page.contains("No Monte Carlo in this report (schema 1.2"));
        assert!(page.contains("Cheapest at the model's inputs: "));
        // Families from the bundled catalog: both named, and coloured.
        assert!(page.contains("Cheapest Trainium: ") && page.contains("cheapest NVIDIA: "));
        assert!(page.contains("fam-trainium") && page.contains("fam-nvidia"));
        // The ±20% tornado stays for such reports.
        assert!(page.contains("efficiency ±20%"));
        assert!(!page.contains("Which input moves the verdict most"));
        // Measurement warnings beside the measurement, not in a list at the end.
        let warning = &report.warnings[0];
        let at = page.find(warning.as_str()).unwrap();
        assert!(at > page.find("id=\"measured\"").unwrap());
        assert!(!page.contains("<h2>Warnings</h2>"));
    }

    #[test]
    fn short_chip_names_and_inputs_in_words() {
        assert_eq!(short_chip("AWS Trainium (Trn1)", "AWS"), "Trn1");
        assert_eq!(short_chip("NVIDIA H100 SXM", "NVIDIA"), "H100 SXM");
        assert_eq!(short_chip("AWS Trainium2", "AWS"), "Trainium2");
        assert_eq!(short_chip("NVIDIA H100 SXM", ""), "NVIDIA H100 SXM");
        assert_eq!(input_words("goodput", &[]), "goodput");
        assert_eq!(
            input_words("price:trn1.32xlarge:spot", &[]),
            "spot price of trn1.32xlarge"
        );
        assert_eq!(
            input_words("price:p5.48xlarge:capacity_block", &[]),
            "Capacity Block price of p5.48xlarge"
        );
        assert_eq!(
            input_words("efficiency:h100-sxm", &[]),
            "h100-sxm efficiency"
        );
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(date_in("AWS-SPOT (2025-11-30)"), Some(d("2025-11-30")));
        assert_eq!(date_in("AWS-PRICE, 2026-01-21"), Some(d("2026-01-21")));
        assert_eq!(date_in("2026-11-29T15:41:22Z"), Some(d("2026-11-29")));
        assert_eq!(date_in("no date"), None);
        assert_eq!(months_between(d("2025-11-30"), d("2026-11-29")), 11);
        assert_eq!(months_between(d("2025-11-29"), d("2026-11-29")), 12);
        assert_eq!(months_between(d("2026-11-29"), d("2025-11-29")), 0);
    }
}
