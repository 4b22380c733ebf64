//! The cost table's one view model: [`cost_rows`] turns the priced options into [`CostRow`]s
//! once, and every format shows those rows — the terminal (`summary::cost_table`), Markdown,
//! CSV and HTML each pick their [`Column`]s and ask a row for a column's text (formatted by
//! [`crate::units`]) or, for CSV, its unrounded value.

use crate::catalog::Catalog;
use crate::model::estimate::OptionEstimate;
use crate::model::memory::Recompute;
use crate::model::uncertainty::OptionSpread;
use crate::model::verdict::Family;
use crate::units;

/// One priced option (instance and plan), as every format shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    pub instance: String,
    /// Catalog id of the accelerator (`h100-sxm`).
    pub accelerator: String,
    /// Its maker, from the catalog (None when the catalog does not know the accelerator).
    pub vendor: Option<String>,
    pub plan: &'static str,
    pub chips: u32,
    pub instances: u32,
    /// Wall-clock days including lost time.
    pub wall_days: f64,
    pub chip_hours: f64,
    pub usd: f64,
    pub usd_per_million_tokens: f64,
    pub implied_mfu: f64,
    /// Tensor-parallel degree and activation recomputation: `8/sel`.
    pub layout: String,
    pub energy_kwh: Option<f64>,
    /// Tonnes of CO₂.
    pub t_co2: Option<f64>,
    pub usd_per_instance_hour: f64,
    pub price_source: String,
    pub efficiency: String,
    /// The Monte Carlo's medians and 90% intervals, when the pricing ran it.
    pub spread: Option<OptionSpread>,
    /// The option's price, instance or chip was changed by `--price` or an overlay.
    pub changed: bool,
}

/// A column of the cost table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Instance,
    Accelerator,
    Vendor,
    Plan,
    Chips,
    Instances,
    WallTime,
    ChipHours,
    Usd,
    UsdPerMillionTokens,
    ImpliedMfu,
    Layout,
    EnergyKwh,
    TCo2,
    UsdPerInstanceHour,
    PriceSource,
    Efficiency,
    /// Trainium / NVIDIA / other.
    Family,
    /// Median USD with its 90% interval.
    UsdInterval,
    /// Median wall-clock time with its 90% interval.
    WallInterval,
}

impl Column {
    /// The heading people read and the machine-readable name (CSV's header row).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Column::Instance => ("instance", "instance"),
            Column::Accelerator => ("accelerator", "accelerator"),
            Column::Vendor => ("vendor", "vendor"),
            Column::Plan => ("plan", "plan"),
            Column::Chips => ("chips", "chips"),
            Column::Instances => ("instances", "instances"),
            Column::WallTime => ("wall-clock", "wall_days"),
            Column::ChipHours => ("chip-hours", "chip_hours"),
            Column::Usd => ("USD", "usd"),
            Column::UsdPerMillionTokens => ("$/M tokens", "usd_per_million_tokens"),
            Column::ImpliedMfu => ("implied MFU", "implied_mfu"),
            Column::Layout => ("TP/recompute", "layout"),
            Column::EnergyKwh => ("kWh", "energy_kwh"),
            Column::TCo2 => ("t CO₂", "t_co2"),
            Column::UsdPerInstanceHour => ("USD/instance-hour", "usd_per_instance_hour"),
            Column::PriceSource => ("price source", "price_source"),
            Column::Efficiency => ("efficiency", "efficiency"),
            Column::Family => ("vendor", "family"),
            Column::UsdInterval => ("USD (90% interval)", "usd_interval"),
            Column::WallInterval => ("wall-clock (90%)", "wall_interval"),
        }
    }

    /// The heading people read.
    pub fn header(self) -> &'static str {
        self.names().0
    }

    /// The machine-readable name (CSV's header row).
    pub fn key(self) -> &'static str {
        self.names().1
    }

    /// Whether the column holds figures (right-aligned).
    pub fn numeric(self) -> bool {
        !matches!(
            self,
            Column::Instance
                | Column::Accelerator
                | Column::Vendor
                | Column::Plan
                | Column::Layout
                | Column::PriceSource
                | Column::Efficiency
                | Column::Family
        )
    }
}

/// What a run on an option takes and costs, in the order every format shows it.
pub const RUN: [Column; 7] = [
    Column::Chips,
    Column::Instances,
    Column::WallTime,
    Column::ChipHours,
    Column::Usd,
    Column::UsdPerMillionTokens,
    Column::ImpliedMfu,
];

/// The energy of a run and its CO₂.
pub const ENERGY: [Column; 2] = [Column::EnergyKwh, Column::TCo2];

impl CostRow {
    /// The row from a priced option; `catalog` names the accelerator's vendor when the option
    /// does not (reports older than schema 1.3).
    pub fn new(o: &OptionEstimate, catalog: &Catalog) -> CostRow {
        let recompute = match o.layout.recompute {
            Recompute::None => "none",
            Recompute::Selective => "sel",
            Recompute::Full => "full",
        };
        CostRow {
            instance: o.instance.clone(),
            accelerator: o.accelerator.clone(),
            vendor: if o.vendor.is_empty() {
                catalog
                    .instance(&o.instance)
                    .and_then(|i| i.accelerator.as_deref())
                    .and_then(|id| catalog.accelerator(id))
                    .map(|a| a.vendor.clone())
            } else {
                Some(o.vendor.clone())
            },
            plan: o.plan.as_str(),
            chips: o.chips,
            instances: o.instances,
            wall_days: o.wall_hours / 24.0,
            chip_hours: o.chip_hours,
            usd: o.usd,
            usd_per_million_tokens: o.usd_per_million_tokens,
            implied_mfu: o.implied_mfu,
            layout: format!("{}/{recompute}", o.layout.tensor_parallel),
            energy_kwh: o.energy_kwh,
            t_co2: o.kg_co2.map(|k| k / 1000.0),
            usd_per_instance_hour: o.usd_per_instance_hour,
            price_source: o.price_source.clone(),
            efficiency: o.efficiency_note.clone(),
            spread: None,
            changed: o.changed_by_user,
        }
    }

    /// The column's text for people. Names and sources come from a report or a catalog file:
    /// control characters are shown visibly (`render::escape::term`), as every table needs.
    pub fn text(&self, c: Column) -> String {
        use crate::render::escape::term;
        let missing = || units::MISSING.to_string();
        match c {
            Column::Instance if self.changed => format!("{}*", term(&self.instance)),
            Column::Instance => term(&self.instance).into_owned(),
            Column::Accelerator => term(&self.accelerator).into_owned(),
            Column::Vendor => self
                .vendor
                .as_deref()
                .map_or_else(missing, |v| term(v).into_owned()),
            Column::Plan => self.plan.to_string(),
            Column::Chips => self.chips.to_string(),
            Column::Instances => self.instances.to_string(),
            Column::WallTime => units::days(self.wall_days),
            Column::ChipHours => units::si(self.chip_hours),
            Column::Usd => units::usd(self.usd),
            Column::UsdPerMillionTokens => units::usd(self.usd_per_million_tokens),
            Column::ImpliedMfu => units::percent(self.implied_mfu),
            Column::Layout => self.layout.clone(),
            Column::EnergyKwh => self.energy_kwh.map_or_else(missing, units::si),
            Column::TCo2 => self.t_co2.map_or_else(missing, |t| units::decimal(t, 1)),
            Column::UsdPerInstanceHour => units::usd(self.usd_per_instance_hour),
            Column::PriceSource => term(&self.price_source).into_owned(),
            Column::Efficiency => term(&self.efficiency).into_owned(),
            Column::Family => self
                .vendor
                .as_deref()
                .map_or_else(missing, |v| Family::of_vendor(v).name().to_string()),
            Column::UsdInterval => match &self.spread {
                Some(s) => units::usd_interval(s.usd.median, s.usd.low, s.usd.high),
                None => units::usd(self.usd),
            },
            Column::WallInterval => match &self.spread {
                Some(s) => units::wall_clock_interval(
                    s.wall_hours.median,
                    s.wall_hours.low,
                    s.wall_hours.high,
                ),
                None => units::days(self.wall_days),
            },
        }
    }

    /// The column's value unrounded, as it reads back (an empty text for a missing one), for
    /// spreadsheets.
    pub fn raw(&self, c: Column) -> String {
        let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
        match c {
            Column::Vendor => self.vendor.clone().unwrap_or_default(),
            Column::WallTime => self.wall_days.to_string(),
            Column::ChipHours => self.chip_hours.to_string(),
            Column::Usd => self.usd.to_string(),
            Column::UsdPerMillionTokens => self.usd_per_million_tokens.to_string(),
            Column::ImpliedMfu => self.implied_mfu.to_string(),
            Column::EnergyKwh => opt(self.energy_kwh),
            Column::TCo2 => opt(self.t_co2),
            Column::UsdPerInstanceHour => self.usd_per_instance_hour.to_string(),
            Column::Instance => self.instance.clone(),
            Column::UsdInterval => self.spread.as_ref().map_or(self.usd.to_string(), |s| {
                format!("{} {} {}", s.usd.median, s.usd.low, s.usd.high)
            }),
            Column::WallInterval => {
                self.spread
                    .as_ref()
                    .map_or((self.wall_days * 24.0).to_string(), |s| {
                        format!(
                            "{} {} {}",
                            s.wall_hours.median, s.wall_hours.low, s.wall_hours.high
                        )
                    })
            }
            _ => self.text(c),
        }
    }
}

/// The rows of `options`, in their order (cheapest first).
pub fn cost_rows(options: &[OptionEstimate], catalog: &Catalog) -> Vec<CostRow> {
    options.iter().map(|o| CostRow::new(o, catalog)).collect()
}

/// The rows of a priced target, each with its Monte Carlo spread (`spreads` is in the order
/// of `options`).
pub fn priced_rows(
    options: &[OptionEstimate],
    spreads: Option<&[OptionSpread]>,
    catalog: &Catalog,
) -> Vec<CostRow> {
    options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut row = CostRow::new(o, catalog);
            row.spread = spreads.and_then(|s| s.get(i)).cloned();
            row
        })
        .collect()
}

/// The rows of a saved cost record, with its Monte Carlo spreads when it has them.
pub fn record_rows(c: &crate::model::pricing::CostRecord) -> Vec<CostRow> {
    let spreads = c.uncertainty.as_ref().map(|u| u.options.as_slice());
    priced_rows(&c.options, spreads, &Catalog::bundled())
}

/// The rows of a saved report's options: reports do not record vendors, so they are looked up
/// in the bundled catalog.
pub fn report_rows(options: &[OptionEstimate]) -> Vec<CostRow> {
    cost_rows(options, &Catalog::bundled())
}

/// The cost table in `columns` as a terminal table.
pub fn terminal_table(rows: &[CostRow], columns: &[Column]) -> comfy_table::Table {
    let header: Vec<&str> = columns.iter().map(|c| c.header()).collect();
    let mut t = super::table::ruled(&header, false);
    for r in rows {
        t.add_row(columns.iter().map(|&c| r.text(c)));
    }
    let numeric: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].numeric())
        .collect();
    super::table::align_right(&mut t, &numeric);
    t
}
