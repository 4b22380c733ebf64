//! The library API: what other Rust code may rely on. Everything else in the crate is private
//! (reachable only with the `internals` feature, which the crate's own tests and benches use and
//! which carries no stability promise).
//!
//! The types here wrap the internal ones and expose plain data (strings, numbers, small
//! structs), so the internals can change without breaking callers.

use crate::catalog::{self, Plan};
use crate::measure::execute::{self, SamplingChoice};
use crate::measure::machine::MachineContext;
use crate::measure::probe;
use crate::model::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, ModelOptions, Scenario};
use crate::model::pricing::{self, Request};
use crate::model::{Assumptions, Profile};
use crate::report::estimate::EstimateDocument;
use crate::report::schema::{self, CostRecord, Direction};
use crate::report::{self as reports, store};
use crate::workload::{self, WorkloadKind, bundled};
use std::fmt;
use std::path::Path;

/// An error from the library: one line that names the file, the field and what was expected,
/// as the command line prints it.
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    fn new(message: impl fmt::Display) -> Self {
        Error {
            message: crate::diag::show::one_line(&message.to_string()),
        }
    }

    fn from_anyhow(e: anyhow::Error) -> Self {
        Error::new(format!("{e:#}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// A validated workload: what is trained (the target, priced by the cost model) and what is
/// measured on this CPU (the slice). The format is in `workloads/README.md`.
///
/// ```
/// let w = costbench::Workload::bundled("gpt2-124m")?;
/// assert_eq!(w.name(), "gpt2-124m");
/// assert!(w.target_parameters().unwrap() > 1.0e8);
/// assert!(costbench::Workload::bundled_names().contains(&"llama2-7b"));
/// # Ok::<(), costbench::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Workload {
    inner: workload::Workload,
}

impl Workload {
    /// The names of the bundled workloads, e.g. `gpt2-124m`, `llama2-7b`.
    pub fn bundled_names() -> Vec<&'static str> {
        bundled::names()
    }

    /// A bundled workload by name.
    pub fn bundled(name: &str) -> Result<Self> {
        bundled::load_bundled(name)
            .map(Self::wrap)
            .map_err(Error::new)
    }

    /// A workload file (TOML, at most 1 MiB).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        workload::parse::load_workload(path.as_ref())
            .map(Self::wrap)
            .map_err(Error::new)
    }

    /// A workload from TOML text; `origin` names it in errors (`origin:line:col: field: …`).
    ///
    /// ```
    /// let err = costbench::Workload::from_toml("name = \"mine\"", "mine.toml").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "mine.toml: kind: required field is missing; expected kind = one of gemm, mlp, transformer"
    /// );
    /// ```
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        workload::parse::parse_workload(text, origin)
            .map(Self::wrap)
            .map_err(Error::new)
    }

    fn wrap(inner: workload::Workload) -> Self {
        Workload { inner }
    }

    /// Short identifier, e.g. `gpt2-124m`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// One-line description.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// `transformer`, `mlp` or `gemm`.
    pub fn kind(&self) -> &'static str {
        match self.inner.kind {
            WorkloadKind::Gemm(_) => "gemm",
            WorkloadKind::Mlp(_) => "mlp",
            WorkloadKind::Transformer(_) => "transformer",
        }
    }

    /// The same workload with the target trained on `tokens` tokens.
    pub fn with_target_tokens(self, tokens: u64) -> Self {
        Self::wrap(self.inner.with_target_tokens(tokens))
    }

    fn profile(&self) -> Option<Profile> {
        match &self.inner.kind {
            WorkloadKind::Transformer(t) => Some(Profile::from_transformer(t)),
            _ => None,
        }
    }

    /// The target model's parameters (transformers only).
    pub fn target_parameters(&self) -> Option<f64> {
        self.profile().map(|p| p.params)
    }

    /// The target's training tokens (transformers only).
    pub fn target_tokens(&self) -> Option<f64> {
        self.profile().map(|p| p.tokens)
    }

    /// FLOPs the target's whole training run executes, by the count in `docs/flops.md`
    /// (transformers only).
    pub fn target_training_flops(&self) -> Option<f64> {
        self.profile().map(|p| p.executed_flops())
    }
}

/// The accelerators, instances and prices the cost model uses, each with its source and as-of
/// date: the bundled catalog, optionally overlaid with a file or what-if prices.
///
/// ```
/// let mut catalog = costbench::Catalog::bundled();
/// catalog.set_price("trn1.32xlarge:on_demand=20")?;
/// assert!(catalog.instances().iter().any(|i| i == "p5.48xlarge"));
/// assert!(catalog.set_price("no-such-instance:on_demand=1").is_err());
/// # Ok::<(), costbench::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Catalog {
    inner: catalog::Catalog,
}

impl Catalog {
    /// The catalog compiled into costbench (`catalog/` in the repository; `docs/sources.md`).
    pub fn bundled() -> Self {
        Catalog {
            inner: catalog::Catalog::bundled(),
        }
    }

    /// Overlays a catalog file (negotiated prices, a new chip or instance), as `--catalog` does.
    pub fn overlay_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let overlay = catalog::Catalog::load_overlay(path.as_ref()).map_err(Error::new)?;
        self.inner.overlay(overlay).map_err(Error::new)
    }

    /// A what-if price, `INSTANCE:PLAN=USD` per instance-hour, as `--price` does.
    pub fn set_price(&mut self, spec: &str) -> Result<()> {
        self.inner.set_price(spec).map_err(Error::new)
    }

    /// The instance ids the catalog prices, e.g. `trn1.32xlarge`, `p5.48xlarge`.
    pub fn instances(&self) -> Vec<String> {
        self.inner.instances.iter().map(|i| i.id.clone()).collect()
    }

    /// The date of the newest figure in the catalog, `YYYY-MM-DD`.
    pub fn as_of(&self) -> String {
        self.inner.as_of().to_string()
    }
}

/// How [`estimate`] sizes and prices the cluster. Start from [`Default`] and set fields:
///
/// ```
/// let mut options = costbench::EstimateOptions::default();
/// options.chips = Some(256);
/// options.mfu = Some(0.4);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EstimateOptions {
    /// The fewest whole instances that finish within this many days (default 30); ignored
    /// when `chips` is set.
    pub deadline_days: f64,
    /// Exactly this many chips per option (rounded up to whole instances).
    pub chips: Option<u32>,
    /// One model FLOPs utilisation for every option instead of each chip's published one.
    pub mfu: Option<f64>,
    /// Seed of the Monte Carlo behind the intervals and the verdict.
    pub seed: u64,
    /// Leave spot out of the verdict for runs longer than this many days (default 1).
    pub spot_max_days: f64,
}

impl Default for EstimateOptions {
    fn default() -> Self {
        EstimateOptions {
            deadline_days: DEFAULT_DEADLINE_DAYS,
            chips: None,
            mfu: None,
            seed: 0,
            spot_max_days: 1.0,
        }
    }
}

/// A figure with its interval: the median and the 5th and 95th percentiles of the Monte Carlo
/// (a cost), or the point and the confidence interval of a measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// One priced option: an instance type on a pricing plan, sized for the run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PricedOption {
    /// Instance id, e.g. `trn1.32xlarge`.
    pub instance: String,
    /// Chip display name, e.g. `AWS Trainium`.
    pub accelerator: String,
    /// The chip's maker, e.g. `AWS`, `NVIDIA`.
    pub vendor: String,
    /// `on_demand`, `reserved_1yr`, `reserved_3yr`, `capacity_block` or `spot`.
    pub plan: String,
    pub chips: u32,
    pub instances: u32,
    /// The nominal cost of the whole run, USD (every input at its central value).
    pub usd: f64,
    /// The Monte Carlo's median and 90% interval of the cost, when it was run.
    pub usd_interval: Option<Interval>,
    /// Wall-clock hours including lost time (nominal).
    pub wall_hours: f64,
    /// The Monte Carlo's median and 90% interval of the wall-clock hours, when it was run.
    pub wall_hours_interval: Option<Interval>,
    pub chip_hours: f64,
    /// Energy, kWh, where the chip's power is published.
    pub energy_kwh: Option<f64>,
    /// Where the price comes from (a source key of the catalog and its date).
    pub price_source: String,
}

/// The cost model's answer: every catalog option priced, cheapest first, and the verdict
/// between the cheapest Trainium and the cheapest NVIDIA option.
#[derive(Debug, Clone)]
pub struct Estimate {
    cost: CostRecord,
    json: Option<String>,
}

/// The verdict: which family's pick costs less, and how sure the Monte Carlo is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// Instance and plan of the cheapest Trainium option, e.g. (`trn1.32xlarge`, `spot`).
    pub trainium: Option<(String, String)>,
    /// Instance and plan of the cheapest NVIDIA option.
    pub nvidia: Option<(String, String)>,
    /// Probability that the Trainium pick costs less than the NVIDIA pick.
    pub p_trainium_cheaper: Option<f64>,
}

impl Estimate {
    /// Every priced option, cheapest first.
    pub fn options(&self) -> Vec<PricedOption> {
        let spread = |o: &crate::model::estimate::OptionEstimate| {
            self.cost.uncertainty.as_ref().and_then(|u| {
                u.options
                    .iter()
                    .find(|s| s.instance == o.instance && s.plan == o.plan)
            })
        };
        let interval = |s: &crate::model::uncertainty::Spread| Interval {
            value: s.median,
            low: s.low,
            high: s.high,
        };
        self.cost
            .options
            .iter()
            .map(|o| {
                let spread = spread(o);
                PricedOption {
                    instance: o.instance.clone(),
                    accelerator: o.accelerator.clone(),
                    vendor: o.vendor.clone(),
                    plan: o.plan.as_str().to_string(),
                    chips: o.chips,
                    instances: o.instances,
                    usd: o.usd,
                    usd_interval: spread.map(|s| interval(&s.usd)),
                    wall_hours_interval: spread.map(|s| interval(&s.wall_hours)),
                    wall_hours: o.wall_hours,
                    chip_hours: o.chip_hours,
                    energy_kwh: o.energy_kwh,
                    price_source: o.price_source.clone(),
                }
            })
            .collect()
    }

    /// The verdict, when the Monte Carlo was run.
    pub fn verdict(&self) -> Option<Verdict> {
        let v = &self.cost.uncertainty.as_ref()?.verdict;
        let pick = |p: &Option<crate::model::verdict::Pick>| {
            p.as_ref()
                .map(|p| (p.instance.clone(), p.plan.as_str().to_string()))
        };
        Some(Verdict {
            trainium: pick(&v.trainium),
            nvidia: pick(&v.nvidia),
            p_trainium_cheaper: v.p_trainium_cheaper,
        })
    }

    /// The date of the newest catalog figure behind the prices, `YYYY-MM-DD`.
    pub fn catalog_as_of(&self) -> &str {
        &self.cost.catalog_as_of
    }

    /// The estimate document `costbench estimate --format json` prints
    /// (`docs/estimate-schema.json`), or the report's `cost` section for an estimate taken
    /// from a [`Report`].
    pub fn to_json(&self) -> String {
        match &self.json {
            Some(json) => json.clone(),
            None => serde_json::to_string_pretty(&self.cost).unwrap_or_default(),
        }
    }
}

/// Prices training `workload`'s target on every option of `catalog`, without measuring
/// anything: what `costbench estimate` does.
///
/// ```
/// use costbench::{Catalog, EstimateOptions, Workload, estimate};
/// let model = Workload::bundled("llama2-7b")?.with_target_tokens(2_000_000_000_000);
/// let priced = estimate(&model, &Catalog::bundled(), &EstimateOptions::default())?;
/// let cheapest = &priced.options()[0];
/// assert!(cheapest.usd > 0.0 && cheapest.wall_hours <= 30.0 * 24.0);
/// # Ok::<(), costbench::Error>(())
/// ```
pub fn estimate(
    workload: &Workload,
    catalog: &Catalog,
    options: &EstimateOptions,
) -> Result<Estimate> {
    let Some(profile) = workload.profile() else {
        return Err(Error::new(format!(
            "'{}' is a {} workload; the cost model prices transformer training",
            workload.name(),
            workload.kind()
        )));
    };
    if let Some(mfu) = options.mfu
        && !(mfu > 0.0 && mfu <= 1.0)
    {
        return Err(Error::new(format!(
            "EstimateOptions.mfu: expected a fraction in (0, 1], found {mfu}"
        )));
    }
    if !(options.deadline_days.is_finite() && options.deadline_days > 0.0) {
        return Err(Error::new(format!(
            "EstimateOptions.deadline_days: expected a positive number of days, found {}",
            options.deadline_days
        )));
    }
    if options.chips == Some(0) {
        return Err(Error::new("EstimateOptions.chips: expected at least 1"));
    }
    let assumptions = Assumptions::default();
    let p = pricing::price(&Request {
        profile: &profile,
        catalog: &catalog.inner,
        scenario: match options.mfu {
            Some(mfu) => Scenario::Custom { mfu },
            None => Scenario::Published,
        },
        size: match options.chips {
            Some(n) => ClusterSize::Chips(n),
            None => ClusterSize::DeadlineDays(options.deadline_days),
        },
        assumptions: &assumptions,
        plans: &[] as &[Plan],
        measured: None,
        uncertainty: Some(pricing::UncertaintySettings {
            seed: options.seed,
            spot_max_days: options.spot_max_days.max(0.0),
            ..Default::default()
        }),
        model: ModelOptions::default(),
    });
    let cost = p.record(&catalog.inner, &assumptions);
    let doc = EstimateDocument {
        schema_version: crate::report::estimate::schema_version(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        workload: reports::workload_record(&workload.inner, "library"),
        target_params: profile.params,
        target_tokens: profile.tokens,
        target_training_flops: profile.executed_flops(),
        scenario: p.scenario.name().to_string(),
        cost: cost.clone(),
    };
    Ok(Estimate {
        json: Some(doc.to_json()),
        cost,
    })
}

/// How [`measure`] samples. Start from [`Default`] (the full measurement `costbench run` makes)
/// and set fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MeasureOptions {
    /// `--quick`'s sampling: a short warm-up and a ±3% target (`docs/measurement.md`).
    pub quick: bool,
    /// A bound on the whole measurement, seconds (`--max-time`).
    pub max_time_s: Option<f64>,
    /// Measure (or reuse from the cache) this machine's roofline, so that the report carries
    /// roofline fractions and the cost model's `measured` scenario (default true).
    pub probe: bool,
    /// A label recorded with the machine, e.g. a CI runner's name.
    pub label: Option<String>,
    /// Seed of the bootstrap and of the cost model's Monte Carlo.
    pub seed: u64,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        MeasureOptions {
            quick: false,
            max_time_s: None,
            probe: true,
            label: None,
            seed: 0,
        }
    }
}

/// Measures `workload`'s slice on this CPU (on rayon's global thread pool, however the caller
/// built it) and prices its target with the measured rates: the report `costbench run` saves.
///
/// ```no_run
/// let w = costbench::Workload::bundled("gpt2-124m")?;
/// let mut options = costbench::MeasureOptions::default();
/// options.quick = true;
/// let report = costbench::measure(&w, &options)?;
/// println!("step: {:?}", report.metric("step_time"));
/// report.save("gpt2.json")?;
/// # Ok::<(), costbench::Error>(())
/// ```
pub fn measure(workload: &Workload, options: &MeasureOptions) -> Result<Report> {
    if let Some(t) = options.max_time_s
        && !(t.is_finite() && t > 0.0)
    {
        return Err(Error::new(format!(
            "MeasureOptions.max_time_s: expected a positive number of seconds, found {t}"
        )));
    }
    let w = &workload.inner;
    let available = workload::available_memory_bytes();
    workload::fit::check_fits(w, available)
        .map_err(|e| Error::new(format!("{}: {}", w.name, e.message)))?;
    let threads = rayon::current_num_threads();
    let machine = MachineContext::detect(options.label.clone(), threads);
    let roofline = options.probe.then(|| {
        probe::cached_or_measured(
            &probe::default_cache_dir(),
            &machine.fingerprint(),
            false,
            false,
        )
        .roofline
    });
    let choice = SamplingChoice {
        quick: options.quick,
        max_time_s: options.max_time_s,
        seed: options.seed,
        ..Default::default()
    };
    let measured =
        execute::measure(w, &choice, roofline.as_ref(), |_, _| {}).map_err(Error::from_anyhow)?;
    let catalog = catalog::Catalog::bundled();
    let assumptions = Assumptions::default();
    let pricing = reports::price_run(
        w,
        &measured.measurement,
        &machine,
        &catalog,
        &assumptions,
        reports::RunPricing {
            measured_scenario: true,
            seed: options.seed,
            spot_max_days: 1.0,
        },
    );
    let mut machine_warnings = Vec::new();
    machine_warnings.extend(machine.frequency_scaling_warning());
    Ok(Report {
        inner: reports::compose(reports::Parts {
            workload: reports::workload_record(w, "library"),
            measured,
            machine,
            roofline,
            created_at: chrono::Utc::now(),
            machine_warnings,
            scaling: None,
            counts: None,
            cost: pricing.map(|p| p.record(&catalog, &assumptions)),
        }),
    })
}

/// One comparable figure of a report: a measurement (a time, a rate, a fraction of this
/// machine's roofline) or a modelled cost.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// Stable identifier, e.g. `step_time`, `op.matmul.gflops` (`docs/report-schema.md`).
    pub id: String,
    /// Unit, e.g. `s`, `GFLOP/s`, `fraction`, `USD`.
    pub unit: String,
    /// The figure and its confidence interval.
    pub value: Interval,
    /// Whether a smaller figure is better (times, costs) or a bigger one (rates).
    pub smaller_is_better: bool,
    /// Whether the figure is not a raw time or rate (FLOP counts, fractions of the machine's own
    /// roofline, costs). Of these only FLOP counts are exact on every machine: roofline
    /// fractions still move between machines, and `costbench compare` never gates on them
    /// across machines (`docs/ci.md`).
    pub machine_independent: bool,
}

/// A costbench report: the samples of every measured case, their statistics, the machine, and
/// the cost model's pricing. The schema is `docs/report-schema.json`.
///
/// ```no_run
/// let report = costbench::Report::load("results/gpt2-124m.json")?;
/// for m in report.metrics() {
///     println!("{} {} {}", m.id, m.value.value, m.unit);
/// }
/// # Ok::<(), costbench::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Report {
    inner: schema::Report,
}

impl Report {
    /// Loads and checks a report: its schema version, and every summary against its own
    /// samples (a report that disagrees with its samples is refused).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        store::load(path.as_ref())
            .map(|inner| Report { inner })
            .map_err(Error::new)
    }

    /// [`Report::load`] from text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        store::parse(text, origin)
            .map(|inner| Report { inner })
            .map_err(Error::new)
    }

    /// The report as JSON (exact: loading it back gives the same report).
    pub fn to_json(&self) -> String {
        store::to_json(&self.inner)
    }

    /// Writes the report to `path` atomically (a reader never sees half a file), replacing a
    /// regular file there; anything else at `path` (a directory, a device) is refused.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        store::save_to(&self.inner, path.as_ref()).map_err(Error::from_anyhow)
    }

    /// The measured workload's name.
    pub fn workload_name(&self) -> &str {
        &self.inner.workload.name
    }

    /// When the report was made, RFC 3339 (UTC).
    pub fn created_at(&self) -> &str {
        &self.inner.created_at
    }

    /// The costbench version that made it.
    pub fn costbench_version(&self) -> &str {
        &self.inner.costbench_version
    }

    /// Every comparable figure: the measurement's, then the modelled costs (ids `cost.…`).
    pub fn metrics(&self) -> Vec<Metric> {
        reports::all_metrics(&self.inner)
            .into_iter()
            .map(|m| Metric {
                value: Interval {
                    value: m.estimate.point,
                    low: m.estimate.lower,
                    high: m.estimate.upper,
                },
                smaller_is_better: m.direction == Direction::SmallerIsBetter,
                machine_independent: m.machine_independent,
                unit: m.unit,
                id: m.id,
            })
            .collect()
    }

    /// One figure by id, e.g. `step_time`.
    pub fn metric(&self, id: &str) -> Option<Metric> {
        self.metrics().into_iter().find(|m| m.id == id)
    }

    /// The cost model's pricing stored in the report (transformer workloads).
    pub fn estimate(&self) -> Option<Estimate> {
        self.inner
            .cost
            .clone()
            .map(|cost| Estimate { cost, json: None })
    }

    /// The warnings recorded with the measurement (a busy machine, a noisy case, …).
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }
}
