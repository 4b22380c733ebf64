//! Reading catalog files (the bundled one, a user's full catalog, or an overlay): TOML text → a
//! validated [`CatalogOverlay`], applied to a [`Catalog`] (a full catalog is an overlay applied
//! to an empty one). The format is documented in `catalog/README.md`.
//!
//! As for workload files (`workload::parse`), every problem is reported as **one line** naming
//! the file, the line and column, the field (a dotted path such as
//! `instances[3].prices.spot.usd_per_hour`, entries counted from 0) and what was expected:
//!
//! 1. syntax: `toml`'s parser, whose error spans give the position;
//! 2. shape: serde into private `Raw*` structs with `deny_unknown_fields`, every value wrapped
//!    in [`toml::Spanned`] so the checks below can point at it;
//! 3. meaning: ids, provenance (`source` and `as_of` on every figure, a note where there is no
//!    value), finite positive numbers (TOML's `nan` and `inf` are refused), fractions ≤ 1,
//!    duplicate ids;
//! 4. when applied ([`CatalogOverlay::apply_to`]): a new entry gives every field, an instance's
//!    accelerator exists, a short source name is defined under `[sources]`.

use super::{
    Accelerator, Catalog, CatalogError, EfficiencyKind, Instance, LinkDirection, MAX_FILE_BYTES,
    Plan, Position, Sourced, parse_iso_date,
};
use crate::diag::toml_diag::{
    self, Expecting, Format, InvalidFile, Problem, ReadProblem, Refusal, closest, one_line,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// How catalog files are read.
const FORMAT: Format = Format {
    what: "catalog",
    max_bytes: MAX_FILE_BYTES,
    empty: "the file is empty (no settings); expected [sources], [[accelerators]] or \
            [[instances]] entries (see catalog/README.md)",
    syntax_errors_name_their_key: true,
};

/// A validated catalog file whose entries may be partial: what [`Catalog::overlay`] applies.
/// It remembers where each entry is, so the checks made when applying it still name the file,
/// line and column.
#[derive(Debug, Clone)]
pub struct CatalogOverlay {
    origin: String,
    sources: Vec<(String, String)>,
    accelerators: Vec<AcceleratorPatch>,
    instances: Vec<InstancePatch>,
    /// Every `source` given, with where it is (checked against `[sources]` when applied).
    source_refs: Vec<(String, Spot)>,
}

/// Where something is: the position and the dotted field path.
#[derive(Debug, Clone)]
struct Spot {
    position: Option<Position>,
    field: String,
}

#[derive(Debug, Clone)]
struct AcceleratorPatch {
    /// The entry (its `id`).
    spot: Spot,
    id: String,
    name: Option<String>,
    vendor: Option<String>,
    link_direction: Option<LinkDirection>,
    tflops_bf16: Option<Sourced<f64>>,
    tflops_fp8: Option<Sourced<f64>>,
    tflops_fp32: Option<Sourced<f64>>,
    hbm_bytes: Option<Sourced<f64>>,
    hbm_bytes_per_s: Option<Sourced<f64>>,
    link_bytes_per_s: Option<Sourced<f64>>,
    tdp_watts: Option<Sourced<f64>>,
    gemm_efficiency: Option<Sourced<f64>>,
    training_mfu: Option<Sourced<f64>>,
    training_mfu_kind: Option<EfficiencyKind>,
}

#[derive(Debug, Clone)]
struct InstancePatch {
    spot: Spot,
    id: String,
    accelerator: Option<(String, Spot)>,
    chips: Option<u32>,
    vcpus: Option<u32>,
    network_bits_per_s: Option<Sourced<f64>>,
    region: Option<String>,
    prices: BTreeMap<Plan, Sourced<f64>>,
}

impl CatalogOverlay {
    /// Parses and validates catalog text whose entries may be partial; `origin` names the text
    /// in error messages (usually the file path).
    pub fn parse(text: &str, origin: &str) -> Result<CatalogOverlay, CatalogError> {
        let doc = Doc(toml_diag::Doc::new(text, origin, &FORMAT)?);
        let raw: RawFile = doc.read()?;
        let mut overlay = CatalogOverlay {
            origin: one_line(origin),
            sources: Vec::new(),
            accelerators: Vec::new(),
            instances: Vec::new(),
            source_refs: Vec::new(),
        };
        if let Some(sources) = &raw.sources {
            for (name, full) in sources.get_ref() {
                let path = format!("sources.{name}");
                if !is_short_name(name) {
                    let at = doc.index.key_span(&path).unwrap_or(sources.span());
                    return Err(CatalogError::Invalid(doc.error(
                        Some(&at),
                        Some(&path),
                        format!(
                            "`{}` is not a short source name; expected capital letters, digits \
                             and hyphens, starting with a letter (e.g. AWS-PRICE)",
                            one_line(name)
                        ),
                    )));
                }
                let full = doc.text_value(full, &path)?;
                overlay.sources.push((name.clone(), full));
            }
        }
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, entry) in raw
            .accelerators
            .iter()
            .flat_map(|a| a.get_ref())
            .enumerate()
        {
            let patch = doc.accelerator(entry, i, &mut overlay.source_refs)?;
            doc.refuse_duplicate(&mut seen, &patch.id, &entry.get_ref().id, &patch.spot)?;
            overlay.accelerators.push(patch);
        }
        seen.clear();
        for (i, entry) in raw.instances.iter().flat_map(|a| a.get_ref()).enumerate() {
            let patch = doc.instance(entry, i, &mut overlay.source_refs)?;
            doc.refuse_duplicate(&mut seen, &patch.id, &entry.get_ref().id, &patch.spot)?;
            overlay.instances.push(patch);
        }
        Ok(overlay)
    }

    /// Whether the file defines no accelerator and no instance.
    pub fn is_empty(&self) -> bool {
        self.accelerators.is_empty() && self.instances.is_empty()
    }

    /// The name of the text this overlay was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(super) fn error_here(
        &self,
        position: Option<Position>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> CatalogError {
        CatalogError::Invalid(InvalidFile {
            origin: self.origin.clone(),
            position,
            field: field.map(one_line),
            message: one_line(&message.into()),
        })
    }

    fn error_at(&self, spot: &Spot, message: impl Into<String>) -> CatalogError {
        self.error_here(spot.position, Some(&spot.field), message)
    }

    /// Merges this overlay into `catalog` (which the caller discards on error).
    pub(super) fn apply_to(self, catalog: &mut Catalog) -> Result<(), CatalogError> {
        for (name, full) in &self.sources {
            catalog.sources.insert(name.clone(), full.clone());
        }
        for p in &self.accelerators {
            match catalog.accelerators.iter_mut().find(|a| a.id == p.id) {
                Some(a) => p.merge_into(a),
                None => {
                    let a = self.new_accelerator(p)?;
                    catalog.accelerators.push(a);
                }
            }
        }
        for p in &self.instances {
            match catalog.instances.iter_mut().find(|i| i.id == p.id) {
                Some(i) => p.merge_into(i),
                None => {
                    let i = self.new_instance(p)?;
                    catalog.instances.push(i);
                }
            }
        }
        let accelerator_ids: Vec<String> =
            catalog.accelerators.iter().map(|a| a.id.clone()).collect();
        for p in &self.instances {
            let Some(instance) = catalog.instances.iter().find(|i| i.id == p.id) else {
                continue;
            };
            self.check_instance(p, instance, &accelerator_ids)?;
        }
        let short_names: Vec<String> = catalog.sources.keys().cloned().collect();
        for (source, spot) in &self.source_refs {
            if is_short_name(source) && !catalog.sources.contains_key(source) {
                let hint = closest(source, &short_names)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                let defined = if short_names.is_empty() {
                    String::new()
                } else {
                    format!("one of {}, ", short_names.join(", "))
                };
                return Err(self.error_at(
                    spot,
                    format!(
                        "`{source}` looks like a short source name but is not defined under \
                         [sources]{hint}; expected {defined}a new [sources] entry, or the \
                         citation written in full"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn missing(&self, p: &Spot, kind: &str, id: &str, name: &str, expected: &str) -> CatalogError {
        self.error_here(
            p.position,
            Some(&format!("{}.{name}", p.field)),
            format!(
                "required field is missing for {kind} `{id}` (it is not in the catalog this \
                 file applies to, so every field must be given); expected {expected}"
            ),
        )
    }

    fn new_accelerator(&self, p: &AcceleratorPatch) -> Result<Accelerator, CatalogError> {
        const FIGURE: &str = "{ value = …, source = \"…\", as_of = YYYY-MM-DD } (without \
                              value, and with a note, if nothing is published)";
        let need = |v: &Option<Sourced<f64>>, name: &str| {
            v.clone()
                .ok_or_else(|| self.missing(&p.spot, "accelerator", &p.id, name, FIGURE))
        };
        let text = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| self.missing(&p.spot, "accelerator", &p.id, name, "a string"))
        };
        Ok(Accelerator {
            id: p.id.clone(),
            name: text(&p.name, "name")?,
            vendor: text(&p.vendor, "vendor")?,
            tflops_bf16: need(&p.tflops_bf16, "tflops_bf16")?,
            tflops_fp8: need(&p.tflops_fp8, "tflops_fp8")?,
            tflops_fp32: need(&p.tflops_fp32, "tflops_fp32")?,
            hbm_bytes: need(&p.hbm_bytes, "hbm_bytes")?,
            hbm_bytes_per_s: need(&p.hbm_bytes_per_s, "hbm_bytes_per_s")?,
            link_bytes_per_s: need(&p.link_bytes_per_s, "link_bytes_per_s")?,
            link_direction: p.link_direction.ok_or_else(|| {
                self.missing(
                    &p.spot,
                    "accelerator",
                    &p.id,
                    "link_direction",
                    "one of bidirectional, one_way, unstated",
                )
            })?,
            tdp_watts: need(&p.tdp_watts, "tdp_watts")?,
            gemm_efficiency: need(&p.gemm_efficiency, "gemm_efficiency")?,
            training_mfu: need(&p.training_mfu, "training_mfu")?,
            training_mfu_kind: p.training_mfu_kind.unwrap_or_default(),
        })
    }

    fn new_instance(&self, p: &InstancePatch) -> Result<Instance, CatalogError> {
        let network = p.network_bits_per_s.clone().ok_or_else(|| {
            self.missing(
                &p.spot,
                "instance",
                &p.id,
                "network_bits_per_s",
                "{ value = …, source = \"…\", as_of = YYYY-MM-DD } in bits/s (without value, \
                 and with a note, if nothing is published)",
            )
        })?;
        let region = p.region.clone().ok_or_else(|| {
            self.missing(
                &p.spot,
                "instance",
                &p.id,
                "region",
                "an AWS region such as \"us-east-1\"",
            )
        })?;
        let accelerator = p.accelerator.as_ref().map(|(id, _)| id.clone());
        let chips = match (&accelerator, p.chips) {
            (Some(_), None) => {
                return Err(self.missing(
                    &p.spot,
                    "instance",
                    &p.id,
                    "chips",
                    "the number of accelerator chips per instance",
                ));
            }
            (_, chips) => chips.unwrap_or(0),
        };
        if accelerator.is_none() && p.vcpus.is_none() {
            return Err(self.missing(
                &p.spot,
                "instance",
                &p.id,
                "accelerator",
                "an accelerator id with chips, or vcpus for a CPU-only instance",
            ));
        }
        Ok(Instance {
            id: p.id.clone(),
            accelerator,
            chips,
            vcpus: p.vcpus,
            network_bits_per_s: network,
            region,
            prices: p.prices.clone(),
        })
    }

    /// Checks an instance as merged: its accelerator exists, chips agree with it.
    fn check_instance(
        &self,
        p: &InstancePatch,
        i: &Instance,
        accelerator_ids: &[String],
    ) -> Result<(), CatalogError> {
        let accelerator_spot = p
            .accelerator
            .as_ref()
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Spot {
                position: p.spot.position,
                field: format!("{}.accelerator", p.spot.field),
            });
        let chips_spot = Spot {
            position: p.spot.position,
            field: format!("{}.chips", p.spot.field),
        };
        match &i.accelerator {
            Some(id) if !accelerator_ids.contains(id) => {
                let hint = closest(id, accelerator_ids)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                let expected = if accelerator_ids.is_empty() {
                    "an [[accelerators]] entry with that id (none is defined)".to_string()
                } else {
                    format!(
                        "one of {} or a new [[accelerators]] entry",
                        accelerator_ids.join(", ")
                    )
                };
                Err(self.error_at(
                    &accelerator_spot,
                    format!("unknown accelerator `{id}`{hint}; expected {expected}"),
                ))
            }
            Some(id) if i.chips == 0 => Err(self.error_at(
                &chips_spot,
                format!(
                    "an instance with accelerator `{id}` has 0 chips; expected at least 1 \
                     (omit accelerator for a CPU-only instance)"
                ),
            )),
            None if i.chips > 0 => Err(self.error_at(
                &chips_spot,
                format!(
                    "{} chips but no accelerator; expected accelerator = \"<id>\", or no chips \
                     for a CPU-only instance",
                    i.chips
                ),
            )),
            None if i.vcpus.is_none() => Err(self.error_at(
                &Spot {
                    position: p.spot.position,
                    field: format!("{}.vcpus", p.spot.field),
                },
                "a CPU-only instance (no accelerator) needs vcpus; expected a positive integer",
            )),
            _ => Ok(()),
        }
    }
}

impl AcceleratorPatch {
    fn merge_into(&self, a: &mut Accelerator) {
        fn set<T: Clone>(to: &mut T, from: &Option<T>) {
            if let Some(v) = from {
                *to = v.clone();
            }
        }
        set(&mut a.name, &self.name);
        set(&mut a.vendor, &self.vendor);
        set(&mut a.link_direction, &self.link_direction);
        set(&mut a.tflops_bf16, &self.tflops_bf16);
        set(&mut a.tflops_fp8, &self.tflops_fp8);
        set(&mut a.tflops_fp32, &self.tflops_fp32);
        set(&mut a.hbm_bytes, &self.hbm_bytes);
        set(&mut a.hbm_bytes_per_s, &self.hbm_bytes_per_s);
        set(&mut a.link_bytes_per_s, &self.link_bytes_per_s);
        set(&mut a.tdp_watts, &self.tdp_watts);
        set(&mut a.gemm_efficiency, &self.gemm_efficiency);
        set(&mut a.training_mfu, &self.training_mfu);
        set(&mut a.training_mfu_kind, &self.training_mfu_kind);
    }
}

impl InstancePatch {
    fn merge_into(&self, i: &mut Instance) {
        if let Some((id, _)) = &self.accelerator {
            i.accelerator = Some(id.clone());
        }
        if let Some(c) = self.chips {
            i.chips = c;
        }
        if let Some(v) = self.vcpus {
            i.vcpus = Some(v);
        }
        if let Some(n) = &self.network_bits_per_s {
            i.network_bits_per_s = n.clone();
        }
        if let Some(r) = &self.region {
            i.region = r.clone();
        }
        for (plan, price) in &self.prices {
            i.prices.insert(*plan, price.clone());
        }
    }
}

/// Reads a catalog file as UTF-8 text, refusing directories and files over
/// [`MAX_FILE_BYTES`]; returns the text and the origin to name it by.
pub(super) fn read_file(path: &Path) -> Result<(String, String), CatalogError> {
    toml_diag::read_text_file(path, &FORMAT).map_err(|p| match p {
        ReadProblem::Unreadable { path, reason } => CatalogError::Unreadable { path, reason },
        ReadProblem::Invalid(e) => CatalogError::Invalid(e),
    })
}

/// `AWS-PRICE`, `NVIDIA`, `MAMF`: capital letters, digits and hyphens, starting with a letter.
pub(super) fn is_short_name(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

// ---------------------------------------------------------------------------------------------
// Raw (as written) forms.

type Field<T> = Option<Spanned<T>>;

/// What a catalog's numbers are expected to be, in messages.
struct ANumber;
impl Expecting for ANumber {
    const TEXT: &'static str = "a number";
}

struct WholeNumber;
impl Expecting for WholeNumber {
    const TEXT: &'static str = "a whole number";
}

/// A number as written: a TOML integer or float (including `nan` and `inf`, which the checks
/// refuse with their value).
type Num = toml_diag::Number<ANumber>;

/// A whole number as written, before range checks.
type Int = toml_diag::Int<WholeNumber>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sources: Field<BTreeMap<String, Spanned<String>>>,
    accelerators: Field<Vec<Spanned<RawAccelerator>>>,
    instances: Field<Vec<Spanned<RawInstance>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccelerator {
    id: Field<String>,
    name: Field<String>,
    vendor: Field<String>,
    tflops_bf16: Field<RawFigure>,
    tflops_fp8: Field<RawFigure>,
    tflops_fp32: Field<RawFigure>,
    hbm_bytes: Field<RawFigure>,
    hbm_bytes_per_s: Field<RawFigure>,
    link_bytes_per_s: Field<RawFigure>,
    link_direction: Field<String>,
    tdp_watts: Field<RawFigure>,
    gemm_efficiency: Field<RawFigure>,
    training_mfu: Field<RawFigure>,
    training_mfu_kind: Field<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    id: Field<String>,
    accelerator: Field<String>,
    chips: Field<Int>,
    vcpus: Field<Int>,
    network_bits_per_s: Field<RawFigure>,
    region: Field<String>,
    prices: Field<RawPrices>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrices {
    on_demand: Field<RawPrice>,
    reserved_1yr: Field<RawPrice>,
    reserved_3yr: Field<RawPrice>,
    capacity_block: Field<RawPrice>,
    spot: Field<RawPrice>,
}

/// A specification figure: `{ value, source, as_of, note }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFigure {
    value: Field<Num>,
    source: Field<String>,
    as_of: Field<toml::Value>,
    note: Field<String>,
}

/// A price: `{ usd_per_hour, source, as_of, note }` (the unit in the key, where a mistake
/// costs money).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    usd_per_hour: Field<Num>,
    source: Field<String>,
    as_of: Field<toml::Value>,
    note: Field<String>,
}

/// What a figure's number must be.
#[derive(Clone, Copy)]
enum Rule {
    /// Finite and > 0, in this unit.
    Positive(&'static str),
    /// Finite, > 0 and ≤ 1.
    Fraction,
}

// ---------------------------------------------------------------------------------------------
// The document, with the catalog's checks of meaning.

struct Doc<'a>(toml_diag::Doc<'a>);

impl<'a> std::ops::Deref for Doc<'a> {
    type Target = toml_diag::Doc<'a>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Doc<'_> {
    fn spot<T>(&self, v: &Spanned<T>, path: &str) -> Spot {
        Spot {
            position: Some(self.position(v.span().start)),
            field: path.to_string(),
        }
    }

    /// Reads the document into `T` with serde, wording a refusal in the catalog's terms.
    fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, InvalidFile> {
        self.deserialize().map_err(|r: Refusal| {
            let path = r.path.as_deref();
            let message = match &r.problem {
                Problem::UnknownField { name, allowed } => {
                    let what = if r.parent().ends_with(".prices") {
                        "unknown price plan"
                    } else {
                        "unknown field"
                    };
                    format!(
                        "{what} `{name}`{}",
                        Refusal::unknown_field_hint(name, allowed)
                    )
                }
                Problem::OutOfRange => "expected a positive, finite number, found one beyond the \
                                       floating-point range"
                    .to_string(),
                Problem::Mismatch { found, .. }
                    if matches!(path, Some("accelerators" | "instances")) =>
                {
                    let p = path.unwrap_or_default();
                    format!(
                        "expected [[{p}]] entries (an array of tables), found {found}; write \
                         [[{p}]] before each entry"
                    )
                }
                Problem::Mismatch { found, expected } => {
                    format!("expected {expected}, found {found}")
                }
                Problem::Other(message) => message.clone(),
            };
            self.error(r.span.as_ref(), path, message)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Values.

    /// A one-line, non-empty string.
    fn text_value(&self, v: &Spanned<String>, path: &str) -> Result<String, InvalidFile> {
        let s = v.get_ref().trim();
        if s.is_empty() || s.chars().any(char::is_control) {
            return Err(self.at(
                v,
                path,
                format!(
                    "expected a non-empty one-line string, found {:?}",
                    v.get_ref()
                ),
            ));
        }
        Ok(s.to_string())
    }

    fn text_opt(&self, v: &Field<String>, path: &str) -> Result<Option<String>, InvalidFile> {
        v.as_ref().map(|v| self.text_value(v, path)).transpose()
    }

    /// An id: 1 to 64 lowercase letters, digits, '.', '_' or '-'.
    fn id(&self, v: &Spanned<String>, path: &str) -> Result<String, InvalidFile> {
        let s = v.get_ref();
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if s.is_empty() || s.len() > 64 || !s.chars().all(ok) {
            return Err(self.at(
                v,
                path,
                format!(
                    "expected an id of 1 to 64 lowercase letters, digits, '.', '_' or '-' \
                     (e.g. \"h100-sxm\", \"p5.48xlarge\"), found {s:?}"
                ),
            ));
        }
        Ok(s.clone())
    }

    fn required_id<T>(
        &self,
        v: &Field<String>,
        entry: &Spanned<T>,
        path: &str,
        kind: &str,
    ) -> Result<String, InvalidFile> {
        match v {
            Some(v) => self.id(v, &format!("{path}.id")),
            None => Err(self.at(
                entry,
                &format!("{path}.id"),
                format!("required field is missing; expected the {kind}'s id, e.g. id = \"…\""),
            )),
        }
    }

    fn refuse_duplicate(
        &self,
        seen: &mut HashMap<String, String>,
        id: &str,
        at: &Field<String>,
        spot: &Spot,
    ) -> Result<(), InvalidFile> {
        let entry = spot.field.trim_end_matches(".id").to_string();
        if let Some(first) = seen.get(id) {
            let field = format!("{entry}.id");
            let message = format!(
                "duplicate id `{id}` (also {first}); expected each id once per file (an \
                 overlay file changes an existing entry by giving its id once)"
            );
            return Err(match at {
                Some(v) => self.at(v, &field, message),
                None => self.error(None, Some(&field), message),
            });
        }
        seen.insert(id.to_string(), entry);
        Ok(())
    }

    /// A whole number in 1..=u32::MAX (or 0..= when `zero_ok`).
    fn count(&self, v: &Spanned<Int>, path: &str, zero_ok: bool) -> Result<u32, InvalidFile> {
        let n = v.get_ref().0;
        let min = if zero_ok { 0 } else { 1 };
        if n < min || n > i128::from(u32::MAX) {
            let what = if zero_ok {
                "a whole number ≥ 0"
            } else {
                "a positive whole number"
            };
            return Err(self.at(v, path, format!("expected {what}, found {n}")));
        }
        Ok(n as u32)
    }

    fn as_of(
        &self,
        v: &Spanned<toml::Value>,
        path: &str,
    ) -> Result<chrono::NaiveDate, InvalidFile> {
        const EXPECTED: &str = "expected a date YYYY-MM-DD (e.g. as_of = 2026-01-21 or \
                                \"2026-01-21\"; where only the month is known, its first day)";
        let date = match v.get_ref() {
            toml::Value::String(s) => parse_iso_date(s.trim())
                .ok_or_else(|| self.at(v, path, format!("{EXPECTED}, found {s:?}")))?,
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    chrono::NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                        .ok_or_else(|| self.at(v, path, format!("{EXPECTED}, found {dt}")))?
                }
                _ => {
                    return Err(self.at(v, path, format!("{EXPECTED} without a time, found {dt}")));
                }
            },
            other => {
                return Err(self.at(v, path, format!("{EXPECTED}, found {}", other.type_str())));
            }
        };
        Ok(date)
    }

    /// Validates one figure or price: a finite positive value (or none, with a note), a source,
    /// a date.
    #[allow(clippy::too_many_arguments)]
    fn sourced(
        &self,
        whole: Range<usize>,
        value: &Field<Num>,
        value_key: &str,
        source: &Field<String>,
        as_of: &Field<toml::Value>,
        note: &Field<String>,
        path: &str,
        rule: Rule,
        refs: &mut Vec<(String, Spot)>,
    ) -> Result<Sourced<f64>, InvalidFile> {
        let provenance = "every figure needs source (a short name from [sources] or a full \
                          citation) and as_of (the date it was read or published)";
        let value = match value {
            None => None,
            Some(v) => {
                let x = v.get_ref().0.as_f64();
                let vpath = format!("{path}.{value_key}");
                let (ok, expected) = match rule {
                    Rule::Positive(unit) => (
                        x.is_finite() && x > 0.0,
                        format!("a positive, finite number of {unit}"),
                    ),
                    Rule::Fraction => (
                        x.is_finite() && x > 0.0 && x <= 1.0,
                        "a fraction of peak, greater than 0 and at most 1 (e.g. 0.4 for 40%)"
                            .to_string(),
                    ),
                };
                if !ok {
                    return Err(self.at(v, &vpath, format!("expected {expected}, found {x}")));
                }
                Some(x)
            }
        };
        let Some(source_v) = source else {
            return Err(self.error(
                Some(&whole),
                Some(&format!("{path}.source")),
                format!("required field is missing: {provenance}"),
            ));
        };
        let source_path = format!("{path}.source");
        let source_text = self.text_value(source_v, &source_path)?;
        refs.push((source_text.clone(), self.spot(source_v, &source_path)));
        let Some(as_of_v) = as_of else {
            return Err(self.error(
                Some(&whole),
                Some(&format!("{path}.as_of")),
                format!("required field is missing: {provenance}"),
            ));
        };
        let as_of = self.as_of(as_of_v, &format!("{path}.as_of"))?;
        let note = self.text_opt(note, &format!("{path}.note"))?;
        if value.is_none() && note.is_none() {
            return Err(self.error(
                Some(&whole),
                Some(path),
                format!(
                    "no {value_key} and no note; expected {value_key} = …, or a note saying why \
                     there is none (e.g. note = \"not published\")"
                ),
            ));
        }
        Ok(Sourced {
            value,
            source: source_text,
            as_of,
            note,
        })
    }

    fn figure(
        &self,
        v: &Field<RawFigure>,
        path: &str,
        rule: Rule,
        refs: &mut Vec<(String, Spot)>,
    ) -> Result<Option<Sourced<f64>>, InvalidFile> {
        let Some(v) = v else { return Ok(None) };
        let f = v.get_ref();
        self.sourced(
            v.span(),
            &f.value,
            "value",
            &f.source,
            &f.as_of,
            &f.note,
            path,
            rule,
            refs,
        )
        .map(Some)
    }

    fn price(
        &self,
        v: &Spanned<RawPrice>,
        path: &str,
        refs: &mut Vec<(String, Spot)>,
    ) -> Result<Sourced<f64>, InvalidFile> {
        let p = v.get_ref();
        self.sourced(
            v.span(),
            &p.usd_per_hour,
            "usd_per_hour",
            &p.source,
            &p.as_of,
            &p.note,
            path,
            Rule::Positive("US dollars per instance-hour"),
            refs,
        )
    }

    // -----------------------------------------------------------------------------------------
    // Entries.

    fn accelerator(
        &self,
        entry: &Spanned<RawAccelerator>,
        i: usize,
        refs: &mut Vec<(String, Spot)>,
    ) -> Result<AcceleratorPatch, InvalidFile> {
        let path = format!("accelerators[{i}]");
        let r = entry.get_ref();
        let id = self.required_id(&r.id, entry, &path, "accelerator")?;
        let spot = match &r.id {
            Some(v) => self.spot(v, &path),
            None => self.spot(entry, &path),
        };
        let f = |name: &str| format!("{path}.{name}");
        let link_direction = match &r.link_direction {
            None => None,
            Some(v) => Some(
                v.get_ref()
                    .parse::<LinkDirection>()
                    .map_err(|m| self.at(v, &f("link_direction"), m))?,
            ),
        };
        let training_mfu_kind = match &r.training_mfu_kind {
            None => None,
            Some(v) => Some(
                v.get_ref()
                    .parse::<EfficiencyKind>()
                    .map_err(|m| self.at(v, &f("training_mfu_kind"), m))?,
            ),
        };
        Ok(AcceleratorPatch {
            training_mfu_kind,
            name: self.text_opt(&r.name, &f("name"))?,
            vendor: self.text_opt(&r.vendor, &f("vendor"))?,
            link_direction,
            tflops_bf16: self.figure(&r.tflops_bf16, &f("tflops_bf16"), TFLOPS, refs)?,
            tflops_fp8: self.figure(&r.tflops_fp8, &f("tflops_fp8"), TFLOPS, refs)?,
            tflops_fp32: self.figure(&r.tflops_fp32, &f("tflops_fp32"), TFLOPS, refs)?,
            hbm_bytes: self.figure(&r.hbm_bytes, &f("hbm_bytes"), Rule::Positive("bytes"), refs)?,
            hbm_bytes_per_s: self.figure(
                &r.hbm_bytes_per_s,
                &f("hbm_bytes_per_s"),
                Rule::Positive("bytes/s"),
                refs,
            )?,
            link_bytes_per_s: self.figure(
                &r.link_bytes_per_s,
                &f("link_bytes_per_s"),
                Rule::Positive("bytes/s"),
                refs,
            )?,
            tdp_watts: self.figure(&r.tdp_watts, &f("tdp_watts"), Rule::Positive("watts"), refs)?,
            gemm_efficiency: self.figure(
                &r.gemm_efficiency,
                &f("gemm_efficiency"),
                Rule::Fraction,
                refs,
            )?,
            training_mfu: self.figure(&r.training_mfu, &f("training_mfu"), Rule::Fraction, refs)?,
            spot,
            id,
        })
    }

    fn instance(
        &self,
        entry: &Spanned<RawInstance>,
        i: usize,
        refs: &mut Vec<(String, Spot)>,
    ) -> Result<InstancePatch, InvalidFile> {
        let path = format!("instances[{i}]");
        let r = entry.get_ref();
        let id = self.required_id(&r.id, entry, &path, "instance")?;
        let spot = match &r.id {
            Some(v) => self.spot(v, &path),
            None => self.spot(entry, &path),
        };
        let f = |name: &str| format!("{path}.{name}");
        let accelerator = match &r.accelerator {
            None => None,
            Some(v) => {
                let p = f("accelerator");
                Some((self.id(v, &p)?, self.spot(v, &p)))
            }
        };
        let chips = r
            .chips
            .as_ref()
            .map(|v| self.count(v, &f("chips"), true))
            .transpose()?;
        let vcpus = r
            .vcpus
            .as_ref()
            .map(|v| self.count(v, &f("vcpus"), false))
            .transpose()?;
        let network_bits_per_s = self.figure(
            &r.network_bits_per_s,
            &f("network_bits_per_s"),
            Rule::Positive("bits/s"),
            refs,
        )?;
        let region = match &r.region {
            None => None,
            Some(v) => {
                let s = v.get_ref();
                let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
                if s.is_empty() || !s.chars().all(ok) {
                    return Err(self.at(
                        v,
                        &f("region"),
                        format!("expected a region name such as \"us-east-1\", found {s:?}"),
                    ));
                }
                Some(s.clone())
            }
        };
        let mut prices = BTreeMap::new();
        if let Some(ps) = &r.prices {
            let ps = ps.get_ref();
            for (plan, raw) in [
                (Plan::OnDemand, &ps.on_demand),
                (Plan::Reserved1yr, &ps.reserved_1yr),
                (Plan::Reserved3yr, &ps.reserved_3yr),
                (Plan::CapacityBlock, &ps.capacity_block),
                (Plan::Spot, &ps.spot),
            ] {
                if let Some(raw) = raw {
                    let p = self.price(raw, &format!("{path}.prices.{plan}"), refs)?;
                    prices.insert(plan, p);
                }
            }
        }
        Ok(InstancePatch {
            spot,
            id,
            accelerator,
            chips,
            vcpus,
            network_bits_per_s,
            region,
            prices,
        })
    }
}

const TFLOPS: Rule = Rule::Positive("TFLOP/s");
