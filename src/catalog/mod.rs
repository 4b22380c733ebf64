//! The accelerator and instance catalog: published per-chip specifications (dense peak FLOP/s,
//! HBM, bandwidths, power, achievable efficiency) and AWS instance prices, every figure carrying
//! its `source` and `as_of` date, or `None` with a note when nothing is published.
//!
//! The bundled catalog is `catalog/catalog.toml`, compiled in; its format and its dating rules
//! are documented in `catalog/README.md`, and every figure cites a public source (the legend is
//! in the catalog's `[sources]` and in `docs/sources.md`). Users change it in two ways, both validated
//! like the bundled file: an overlay file (`--catalog FILE`, [`Catalog::load_overlay`] then
//! [`Catalog::overlay`]) whose entries replace the fields they give or add new entries, and
//! single prices on the command line (`--price INSTANCE:PLAN=USD`, [`Catalog::set_price`]).
//!
//! This module records figures faithfully and never fills a gap: what to do with a `None`
//! (no published MFU, no on-demand price) is the cost model's decision, not the catalog's.
//! The one derived figure here is [`Accelerator::link_bytes_per_s_one_way`], because a
//! bidirectional link figure halves when the model needs one direction.

mod parse;

pub use parse::CatalogOverlay;

use crate::diag::toml_diag::{InvalidFile, closest, field_prefix, one_line};

use chrono::{Datelike, Months, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

/// The bundled catalog's TOML text.
pub const BUNDLED_TOML: &str = include_str!("../../catalog/catalog.toml");

/// How the bundled catalog is named in messages.
pub const BUNDLED_ORIGIN: &str = "catalog/catalog.toml (bundled)";

/// Prices older than this many months are flagged by [`Catalog::stale_prices`] in normal use.
pub const STALE_PRICE_MONTHS: u32 = 12;

/// The `source` of a price set with `--price`.
pub const PRICE_FLAG_SOURCE: &str = "user (--price)";

/// Largest catalog or overlay file accepted, in bytes (1 MiB; the bundled file is ~30 KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// One published figure and its provenance. The unit is the one named by the field holding it
/// (`tflops_bf16`: TFLOP/s; `hbm_bytes`: bytes; prices: USD per instance-hour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sourced<T> {
    /// The figure, in the unit its field names; `None` when nothing is published, in which
    /// case `note` says so.
    pub value: Option<T>,
    /// Where the figure was read: a short name defined in [`Catalog::sources`] (e.g.
    /// `AWS-PRICE`) or a full citation (e.g. `Llama 3 paper, arXiv 2407.21783, Table 4`).
    pub source: String,
    /// When the source was captured or published (ISO date; where only the month is known, its
    /// first day, and the note says "month only").
    #[serde(with = "iso_date")]
    #[schemars(with = "IsoDate")]
    pub as_of: NaiveDate,
    /// Caveats: a range the value was chosen from, an earlier price, why there is no value.
    pub note: Option<String>,
}

impl<T> Sourced<T> {
    /// The figure's provenance in the form `SOURCE, YYYY-MM-DD`.
    pub fn provenance(&self) -> String {
        format!("{}, {}", self.source, self.as_of)
    }
}

/// Schema stand-in for an ISO `YYYY-MM-DD` date string.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
struct IsoDate(#[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))] String);

mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_iso_date(&s)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&s), &"a date YYYY-MM-DD"))
    }
}

/// A strict `YYYY-MM-DD` date (chrono alone would accept `2026-1-5`).
pub(crate) fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// How a chip-to-chip bandwidth figure is quoted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    /// Both directions added together (NVIDIA's NVLink figures: H100 900 GB/s = 450 each way).
    Bidirectional,
    /// One direction.
    OneWay,
    /// The source does not say (AWS's NeuronLink figures); taken as one-way, as quoted.
    Unstated,
}

/// What a published training-efficiency figure (`training_mfu`) counts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EfficiencyKind {
    /// Model FLOPs (6N + 12·l·h·s per token) over peak: MFU.
    #[default]
    Mfu,
    /// Hardware FLOPs with full recomputation (8N: Megatron-LM's "achieved TFLOP/s").
    HfuFullRecompute,
    /// Hardware FLOPs with selective recomputation of the attention core.
    HfuSelectiveRecompute,
}

impl EfficiencyKind {
    pub const ALL: [EfficiencyKind; 3] = [
        EfficiencyKind::Mfu,
        EfficiencyKind::HfuFullRecompute,
        EfficiencyKind::HfuSelectiveRecompute,
    ];

    /// The name used in catalog files.
    pub fn as_str(self) -> &'static str {
        match self {
            EfficiencyKind::Mfu => "mfu",
            EfficiencyKind::HfuFullRecompute => "hfu_full_recompute",
            EfficiencyKind::HfuSelectiveRecompute => "hfu_selective_recompute",
        }
    }
}

impl FromStr for EfficiencyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EfficiencyKind::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown efficiency kind `{s}`; expected one of {}",
                    names(EfficiencyKind::ALL.iter().map(|d| d.as_str()))
                )
            })
    }
}

impl LinkDirection {
    /// Every direction with its name in catalog files.
    pub const ALL: [LinkDirection; 3] = [
        LinkDirection::Bidirectional,
        LinkDirection::OneWay,
        LinkDirection::Unstated,
    ];

    /// The name used in catalog files.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkDirection::Bidirectional => "bidirectional",
            LinkDirection::OneWay => "one_way",
            LinkDirection::Unstated => "unstated",
        }
    }
}

impl fmt::Display for LinkDirection {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LinkDirection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LinkDirection::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown link direction `{s}`; expected one of {}",
                    names(LinkDirection::ALL.iter().map(|d| d.as_str()))
                )
            })
    }
}

/// One accelerator chip. Peaks are **dense** (no structured sparsity) and per chip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Accelerator {
    /// Catalog id, e.g. `h100-sxm`.
    pub id: String,
    /// Display name, e.g. `NVIDIA H100 SXM`.
    pub name: String,
    /// Maker, e.g. `NVIDIA`, `AWS`.
    pub vendor: String,
    /// Dense BF16 peak, TFLOP/s (10^12 FLOP/s) per chip.
    pub tflops_bf16: Sourced<f64>,
    /// Dense FP8 peak, TFLOP/s per chip; `None` where the chip has no FP8.
    pub tflops_fp8: Sourced<f64>,
    /// FP32 (non-tensor) peak, TFLOP/s per chip.
    pub tflops_fp32: Sourced<f64>,
    /// HBM capacity, bytes per chip (GiB = 2^30 and GB = 10^9 converted as published).
    pub hbm_bytes: Sourced<f64>,
    /// HBM bandwidth, bytes/s per chip (TB/s × 10^12).
    pub hbm_bytes_per_s: Sourced<f64>,
    /// Chip-to-chip (NVLink / NeuronLink) bandwidth per chip, bytes/s, quoted as
    /// `link_direction` says; see [`Accelerator::link_bytes_per_s_one_way`].
    pub link_bytes_per_s: Sourced<f64>,
    /// How `link_bytes_per_s` is quoted.
    pub link_direction: LinkDirection,
    /// Board power (TDP), watts per chip; `None` where unpublished (Trainium).
    pub tdp_watts: Sourced<f64>,
    /// Best measured large BF16 matrix-product throughput as a fraction of `tflops_bf16`
    /// (0–1; the MAMF table), an upper bound for any training step's efficiency.
    pub gemm_efficiency: Sourced<f64>,
    /// Published LLM-training efficiency (0–1) over dense BF16 peak, as reached by a published
    /// large run; `training_mfu_kind` says whether it counts model or hardware FLOPs.
    pub training_mfu: Sourced<f64>,
    /// What `training_mfu` counts (`mfu` unless the file says otherwise).
    pub training_mfu_kind: EfficiencyKind,
}

impl Accelerator {
    /// Chip-to-chip bandwidth in one direction, bytes/s: half a bidirectional figure; a
    /// one-way or unstated figure as quoted (an unstated NeuronLink figure is taken at face
    /// value, which favours Trainium if AWS in fact quotes both directions — see
    /// `catalog/README.md`). `None` when no link bandwidth is published.
    pub fn link_bytes_per_s_one_way(&self) -> Option<f64> {
        let v = self.link_bytes_per_s.value?;
        Some(match self.link_direction {
            LinkDirection::Bidirectional => v / 2.0,
            LinkDirection::OneWay | LinkDirection::Unstated => v,
        })
    }

    /// Every figure with its field name, in file order.
    pub fn figures(&self) -> [(&'static str, &Sourced<f64>); 9] {
        [
            ("tflops_bf16", &self.tflops_bf16),
            ("tflops_fp8", &self.tflops_fp8),
            ("tflops_fp32", &self.tflops_fp32),
            ("hbm_bytes", &self.hbm_bytes),
            ("hbm_bytes_per_s", &self.hbm_bytes_per_s),
            ("link_bytes_per_s", &self.link_bytes_per_s),
            ("tdp_watts", &self.tdp_watts),
            ("gemm_efficiency", &self.gemm_efficiency),
            ("training_mfu", &self.training_mfu),
        ]
    }
}

/// A way of paying for an instance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Plan {
    /// On-demand, per instance-hour.
    #[serde(rename = "on_demand")]
    OnDemand,
    /// One-year reserved instance (standard, no upfront, unless the note says otherwise),
    /// effective per instance-hour.
    #[serde(rename = "reserved_1yr")]
    Reserved1yr,
    /// Three-year reserved instance, effective per instance-hour.
    #[serde(rename = "reserved_3yr")]
    Reserved3yr,
    /// EC2 Capacity Block (reserved GPU/Trainium time bought in advance), per instance-hour.
    #[serde(rename = "capacity_block")]
    CapacityBlock,
    /// Spot (interruptible; a snapshot, it moves continuously), per instance-hour.
    #[serde(rename = "spot")]
    Spot,
}

impl Plan {
    /// Every plan, in display order.
    pub const ALL: [Plan; 5] = [
        Plan::OnDemand,
        Plan::Reserved1yr,
        Plan::Reserved3yr,
        Plan::CapacityBlock,
        Plan::Spot,
    ];

    /// The name used in catalog files and `--price`.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::OnDemand => "on_demand",
            Plan::Reserved1yr => "reserved_1yr",
            Plan::Reserved3yr => "reserved_3yr",
            Plan::CapacityBlock => "capacity_block",
            Plan::Spot => "spot",
        }
    }

    /// The names of every plan, comma-separated.
    pub fn names() -> String {
        names(Plan::ALL.iter().map(|p| p.as_str()))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<String> = Plan::ALL.iter().map(|p| p.to_string()).collect();
                let hint = closest(s, &all)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                format!(
                    "unknown plan `{}`{hint}; expected one of {}",
                    one_line(s),
                    Plan::names()
                )
            })
    }
}

/// One cloud instance type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Instance {
    /// Instance type, e.g. `p5.48xlarge`.
    pub id: String,
    /// Id of its accelerator in [`Catalog::accelerators`]; `None` for a CPU-only instance.
    pub accelerator: Option<String>,
    /// Accelerator chips per instance (0 for a CPU-only instance).
    pub chips: u32,
    /// Virtual CPUs, given for CPU-only instances (the CPU baseline prices per vCPU).
    pub vcpus: Option<u32>,
    /// Network (EFA) bandwidth between instances, bits/s per instance.
    pub network_bits_per_s: Sourced<f64>,
    /// AWS region the prices are for, e.g. `us-east-1`.
    pub region: String,
    /// Price per plan, USD per instance-hour. A plan missing from the map is as unknown as one
    /// whose value is `None`.
    pub prices: BTreeMap<Plan, Sourced<f64>>,
}

impl Instance {
    /// The price of `plan`, USD per instance-hour, when published.
    pub fn price(&self, plan: Plan) -> Option<f64> {
        self.prices.get(&plan).and_then(|p| p.value)
    }

    /// The price of `plan` per accelerator chip, USD per chip-hour (`None` for CPU instances).
    pub fn price_per_chip_hour(&self, plan: Plan) -> Option<f64> {
        (self.chips > 0)
            .then(|| self.price(plan).map(|p| p / f64::from(self.chips)))
            .flatten()
    }
}

/// The effective catalog: the bundled one, or a user's, with any overlays and `--price`s
/// applied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Catalog {
    /// Short source names used in `source` fields (e.g. `AWS-PRICE`) → what they stand for.
    pub sources: BTreeMap<String, String>,
    /// Accelerator chips, in file order.
    pub accelerators: Vec<Accelerator>,
    /// Instance types, in file order.
    pub instances: Vec<Instance>,
}

pub use crate::diag::toml_diag::Position;

/// Why a catalog, an overlay or a `--price` could not be used. Every variant displays as one
/// line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The text is not a valid catalog: `origin:line:col: field: message` (the field a dotted
    /// path such as `instances[3].prices.spot.usd_per_hour`).
    #[error(transparent)]
    Invalid(#[from] InvalidFile),
    /// The file could not be read.
    #[error("could not read '{path}': {reason}")]
    Unreadable { path: String, reason: String },
    /// A `--price INSTANCE:PLAN=USD` argument is malformed or names something unknown.
    #[error("--price '{spec}': {}{message}", field_prefix(field))]
    Price {
        /// The argument as given.
        spec: String,
        /// `instance`, `plan` or `usd`, when the problem is with one part.
        field: Option<String>,
        message: String,
    },
}

impl CatalogError {
    /// The offending field, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            CatalogError::Invalid(InvalidFile { field, .. })
            | CatalogError::Price { field, .. } => field.as_deref(),
            CatalogError::Unreadable { .. } => None,
        }
    }

    /// Where in the file the problem is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            CatalogError::Invalid(e) => e.position,
            _ => None,
        }
    }
}

impl Catalog {
    /// The bundled catalog (`catalog/catalog.toml`, compiled in). A test proves it parses.
    pub fn bundled() -> Catalog {
        static BUNDLED: OnceLock<Catalog> = OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                Catalog::parse(BUNDLED_TOML, BUNDLED_ORIGIN)
                    .unwrap_or_else(|e| panic!("the bundled catalog is invalid: {e}"))
            })
            .clone()
    }

    /// Parses and validates a complete catalog; `origin` names the text in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let overlay = CatalogOverlay::parse(text, origin)?;
        if overlay.is_empty() {
            return Err(overlay.error_here(
                None,
                None,
                "the catalog is empty; expected [sources], [[accelerators]] and [[instances]] \
                 entries (see catalog/README.md)",
            ));
        }
        let mut catalog = Catalog::default();
        catalog.overlay(overlay)?;
        Ok(catalog)
    }

    /// Reads and validates a complete catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let (text, origin) = parse::read_file(path)?;
        Catalog::parse(&text, &origin)
    }

    /// Reads and validates an overlay file (entries may give only some fields of an existing
    /// entry); apply it with [`Catalog::overlay`].
    pub fn load_overlay(path: &Path) -> Result<CatalogOverlay, CatalogError> {
        let (text, origin) = parse::read_file(path)?;
        CatalogOverlay::parse(&text, &origin)
    }

    /// Applies an overlay: entries whose id exists replace the fields they give (each price
    /// plan separately), new ids are added after the existing ones and must give every field,
    /// `[sources]` entries are added or replaced. Checks that need the merged catalog (a new
    /// entry's missing fields, an unknown accelerator id, an undefined source short name) are
    /// made here; on error the catalog is left unchanged.
    pub fn overlay(&mut self, overlay: CatalogOverlay) -> Result<(), CatalogError> {
        let mut merged = self.clone();
        overlay.apply_to(&mut merged)?;
        *self = merged;
        Ok(())
    }

    /// Sets one price from `--price INSTANCE:PLAN=USD` (e.g. `p5.48xlarge:on_demand=40`),
    /// dated today, with source [`PRICE_FLAG_SOURCE`].
    pub fn set_price(&mut self, spec: &str) -> Result<(), CatalogError> {
        self.set_price_as_of(spec, chrono::Local::now().date_naive())
    }

    /// [`Catalog::set_price`] dated `as_of` (for tests and reproducible runs).
    pub fn set_price_as_of(&mut self, spec: &str, as_of: NaiveDate) -> Result<(), CatalogError> {
        let fail = |field: Option<&str>, message: String| CatalogError::Price {
            spec: one_line(spec),
            field: field.map(str::to_string),
            message,
        };
        const FORM: &str = "expected INSTANCE:PLAN=USD, e.g. p5.48xlarge:on_demand=40";
        let Some((target, usd)) = spec.split_once('=') else {
            return Err(fail(None, format!("no '=' before the price; {FORM}")));
        };
        let Some((instance_id, plan)) = target.split_once(':') else {
            return Err(fail(
                None,
                format!("no ':' between instance and plan; {FORM}"),
            ));
        };
        let (instance_id, plan, usd) = (instance_id.trim(), plan.trim(), usd.trim());
        let known: Vec<String> = self.instances.iter().map(|i| i.id.clone()).collect();
        let Some(index) = self.instances.iter().position(|i| i.id == instance_id) else {
            let hint = closest(instance_id, &known)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(fail(
                Some("instance"),
                format!(
                    "unknown instance `{}`{hint}; expected one of {}",
                    one_line(instance_id),
                    known.join(", ")
                ),
            ));
        };
        let plan: Plan = plan.parse().map_err(|m| fail(Some("plan"), m))?;
        let number = usd.strip_prefix('$').unwrap_or(usd).trim();
        let value = match number.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => v,
            _ => {
                return Err(fail(
                    Some("usd"),
                    format!(
                        "expected a positive, finite price in US dollars per instance-hour, \
                         found `{}`",
                        one_line(usd)
                    ),
                ));
            }
        };
        let instance = &mut self.instances[index];
        let replaced = match instance.prices.get(&plan) {
            Some(old) => match old.value {
                Some(v) => format!(
                    "; replaces {}/h ({})",
                    crate::units::usd(v),
                    old.provenance()
                ),
                None => format!("; no published price before ({})", old.provenance()),
            },
            None => String::new(),
        };
        instance.prices.insert(
            plan,
            Sourced {
                value: Some(value),
                source: PRICE_FLAG_SOURCE.to_string(),
                as_of,
                note: Some(format!("set on the command line{replaced}")),
            },
        );
        Ok(())
    }

    /// The accelerator with this id.
    pub fn accelerator(&self, id: &str) -> Option<&Accelerator> {
        self.accelerators.iter().find(|a| a.id == id)
    }

    /// The instance type with this id.
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    /// The accelerator of an instance (`None` for CPU-only instances).
    pub fn accelerator_of(&self, instance: &Instance) -> Option<&Accelerator> {
        instance
            .accelerator
            .as_deref()
            .and_then(|id| self.accelerator(id))
    }

    /// SHA-256 (lowercase hex) of the canonical JSON of this catalog: entries sorted by id,
    /// fields in declaration order, so the same figures give the same hash whatever the file
    /// order. Reports record it to say exactly which figures they used.
    pub fn hash(&self) -> String {
        let mut canonical = self.clone();
        canonical.accelerators.sort_by(|a, b| a.id.cmp(&b.id));
        canonical.instances.sort_by(|a, b| a.id.cmp(&b.id));
        let json = serde_json::to_vec(&canonical).expect("a catalog serialises to JSON");
        Sha256::digest(&json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Every figure with a label naming where it is (`h100-sxm tflops_bf16`,
    /// `p5.48xlarge on_demand`), in display order.
    pub fn figures(&self) -> Vec<(String, &Sourced<f64>)> {
        let mut out = Vec::new();
        for a in &self.accelerators {
            for (name, f) in a.figures() {
                out.push((format!("{} {name}", a.id), f));
            }
        }
        for i in &self.instances {
            out.push((
                format!("{} network_bits_per_s", i.id),
                &i.network_bits_per_s,
            ));
            for (plan, p) in &i.prices {
                out.push((format!("{} {plan}", i.id), p));
            }
        }
        out
    }

    /// The newest `as_of` of any figure (`NaiveDate::MIN` for an empty catalog, which
    /// [`Catalog::parse`] never returns).
    pub fn as_of(&self) -> NaiveDate {
        self.figures()
            .iter()
            .map(|(_, f)| f.as_of)
            .max()
            .unwrap_or(NaiveDate::MIN)
    }

    /// One warning line for each price older than `months` whole months on `today`, e.g.
    /// `p4d.24xlarge on_demand: $21.96/h as of 2026-01-21 is 13 months old; check the current
    /// price or override it with --price p4d.24xlarge:on_demand=USD`.
    pub fn stale_prices(&self, today: NaiveDate, months: u32) -> Vec<String> {
        let mut out = Vec::new();
        for i in &self.instances {
            for (plan, p) in &i.prices {
                let Some(usd) = p.value else { continue };
                let Some(limit) = p.as_of.checked_add_months(Months::new(months)) else {
                    continue;
                };
                if limit >= today {
                    continue;
                }
                let age = whole_months(p.as_of, today);
                out.push(format!(
                    "{id} {plan}: {price}/h as of {as_of} is {age} months old; check the current \
                     price or override it with --price {id}:{plan}=USD",
                    id = i.id,
                    price = crate::units::usd(usd),
                    as_of = p.as_of,
                ));
            }
        }
        out
    }
}

impl Catalog {
    /// Whether the `plan` price of `instance`, the instance itself or its accelerator differs
    /// from `base` (the bundled catalog): the option was changed by `--price` or an overlay.
    pub fn option_differs_from(&self, base: &Catalog, instance: &str, plan: Plan) -> bool {
        let Some(mine) = self.instance(instance) else {
            return false;
        };
        let Some(theirs) = base.instance(instance) else {
            return true;
        };
        let accelerator = |c: &Catalog, i: &Instance| {
            i.accelerator
                .as_deref()
                .and_then(|id| c.accelerator(id))
                .cloned()
        };
        let mut mine_rest = mine.clone();
        let mut theirs_rest = theirs.clone();
        mine_rest.prices.clear();
        theirs_rest.prices.clear();
        mine.prices.get(&plan) != theirs.prices.get(&plan)
            || mine_rest != theirs_rest
            || accelerator(self, mine) != accelerator(base, theirs)
    }
}

/// Whole months from `from` to `to` (the largest n with from + n months ≤ to; 0 if to < from).
fn whole_months(from: NaiveDate, to: NaiveDate) -> u32 {
    if to <= from {
        return 0;
    }
    let guess = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let mut n = guess.max(0) as u32;
    let reached = |n: u32| {
        from.checked_add_months(Months::new(n))
            .is_some_and(|d| d <= to)
    };
    while n > 0 && !reached(n) {
        n -= 1;
    }
    while reached(n + 1) {
        n += 1;
    }
    n
}

/// `a, b, c`.
fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
