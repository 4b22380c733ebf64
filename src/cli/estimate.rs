//! `costbench estimate`: the cost model alone, for a workload or a model given as flags.

use super::args::{CatalogArgs, non_negative_days, positive_count, positive_days, unit_fraction};
use super::output::{guard_output, write_file};
use super::usage::{self, usage};
use crate::catalog::Plan;
use crate::diag::read;
use crate::diag::show::short;
use crate::model::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, ModelOptions, Scenario};
use crate::model::pricing::{self, Request};
use crate::model::{Assumed, Assumptions, Profile, validation};
use crate::model::{Objective, Precision};
use crate::render::export::{csv, html, markdown};
use crate::render::summary;
use crate::report::estimate::EstimateDocument;
use crate::workload::{Workload, WorkloadKind, bundled};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Largest `--hf-config` file read, in bytes (1 MiB, as workload files; a model's
/// `config.json` is a few KiB).
const MAX_HF_CONFIG_BYTES: u64 = 1 << 20;

/// A transformer given on the command line (`costbench estimate --layers 80 --d-model 8192 …`).
#[derive(Args, Debug)]
pub struct ModelFlags {
    /// Transformer blocks.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub layers: Option<u32>,
    /// Hidden size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub d_model: Option<u32>,
    /// Attention heads (divides d_model).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub heads: Option<u32>,
    /// Key/value heads for grouped-query attention (divides heads; default: heads).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub kv_heads: Option<u32>,
    /// Feed-forward width.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub d_ff: Option<u32>,
    /// Vocabulary size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub vocab: Option<u32>,
    /// Tokens per sequence.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub seq_len: Option<u32>,
    /// Sequences per optimizer step (default 1024).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub batch: Option<u32>,
    /// swiglu (three FFN matrices, RMSNorm, no position table: Llama) or gelu (two, LayerNorm,
    /// learned positions: GPT). Default swiglu.
    #[arg(long, value_parser = ["swiglu", "gelu"])]
    pub activation: Option<String>,
    /// Output head shares the embedding matrix.
    #[arg(long)]
    pub tied_embeddings: bool,
}

impl ModelFlags {
    /// Whether any flag of the model's shape is given (`--seq-len` and `--batch` also go with
    /// `--hf-config`).
    pub fn given(&self) -> bool {
        self.layers.is_some()
            || self.d_model.is_some()
            || self.heads.is_some()
            || self.kv_heads.is_some()
            || self.d_ff.is_some()
            || self.vocab.is_some()
            || self.activation.is_some()
            || self.tied_embeddings
    }

    /// The workload these flags describe, validated by the same rules as a workload file. Every
    /// error is a usage error: the flags alone are wrong.
    pub fn workload(&self, tokens: Option<f64>) -> Result<Workload> {
        let need = |v: Option<u32>, flag: &str| {
            v.ok_or_else(|| usage(format!("estimate: {flag} is required when the model is given as flags (also needed: --layers, --d-model, --heads, --d-ff, --vocab, --seq-len, --tokens)")))
        };
        let tokens = tokens.ok_or_else(|| {
            usage("estimate: --tokens is required when the model is given as flags")
        })?;
        let swiglu = self.activation.as_deref() != Some("gelu");
        let toml = format!(
            "name = \"cli-model\"\nkind = \"transformer\"\ndescription = \"a transformer given on the command line\"\n[target]\nlayers = {}\nd_model = {}\nheads = {}\nkv_heads = {}\nd_ff = {}\nvocab = {}\nseq_len = {}\nnorm = \"{}\"\nactivation = \"{}\"\npositions = \"{}\"\ntied_embeddings = {}\ntokens = {:e}\nbatch = {}\n[measure]\nlayers = 1\nbatch = 1\nseq_len = 1\nd_model = {}\nd_ff = 1\nvocab = 1\n",
            need(self.layers, "--layers")?,
            need(self.d_model, "--d-model")?,
            need(self.heads, "--heads")?,
            self.kv_heads.or(self.heads).unwrap_or(1),
            need(self.d_ff, "--d-ff")?,
            need(self.vocab, "--vocab")?,
            need(self.seq_len, "--seq-len")?,
            if swiglu { "rmsnorm" } else { "layernorm" },
            if swiglu { "swiglu" } else { "gelu" },
            if swiglu { "none" } else { "learned" },
            self.tied_embeddings,
            tokens,
            self.batch.unwrap_or(1024),
            self.heads.unwrap_or(1),
        );
        // Nothing is run for an estimate: the slice is a placeholder, one head-width wide.
        crate::workload::parse::parse_workload(&toml, "command-line flags")
            .map_err(|e| usage(flag_error(&e.to_string())))
    }
}

/// A workload error about the hidden TOML built from `estimate`'s model flags, in the flags'
/// terms: `command-line flags:7:9: target.heads: …` → `--heads: …`.
pub fn flag_error(message: &str) -> String {
    let mut rest = message
        .strip_prefix("command-line flags")
        .map(|r| r.trim_start_matches(|c: char| c == ':' || c == ' ' || c.is_ascii_digit()))
        .unwrap_or(message)
        .to_string();
    for field in [
        "kv_heads", "heads", "layers", "d_model", "d_ff", "vocab", "seq_len", "batch", "tokens",
    ] {
        rest = rest.replace(
            &format!("target.{field}"),
            &format!("--{}", field.replace('_', "-")),
        );
    }
    format!("estimate: {rest}")
}

#[derive(Args, Debug)]
pub struct EstimateArgs {
    /// A bundled workload name or workload file whose target is priced (or give the model as
    /// flags: --layers --d-model --heads [--kv-heads] --d-ff --vocab --seq-len --tokens).
    pub workload: Option<String>,
    #[command(flatten)]
    pub model: ModelFlags,
    /// Training tokens (overrides the workload's; required with --layers etc.). Accepts 2e12.
    #[arg(long, value_parser = positive_count, allow_negative_numbers = true)]
    pub tokens: Option<f64>,
    /// Efficiency scenario: `published` (per-chip published MFU) or `custom` (needs --mfu).
    #[arg(long, default_value = "published", value_parser = ["published", "custom"])]
    pub scenario: String,
    /// Model FLOPs utilisation for every option (implies --scenario custom).
    #[arg(long, value_parser = unit_fraction, allow_negative_numbers = true)]
    pub mfu: Option<f64>,
    /// Exactly this many chips per option (rounded up to whole instances).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub chips: Option<u32>,
    /// The fewest whole instances that finish within this many days (default 30).
    #[arg(long, value_parser = positive_days, conflicts_with = "chips", allow_negative_numbers = true)]
    pub deadline_days: Option<f64>,
    /// Only these pricing plans; repeatable. Default: all.
    #[arg(long, value_name = "PLAN", value_parser = plan_value())]
    pub plan: Vec<Plan>,
    /// Print the model's validation instead: every calibration run's predicted and published
    /// step time at its published layout (docs/validation.md) and the median absolute error,
    /// then Llama 2's published GPU-hours.
    #[arg(long)]
    pub validate: bool,
    /// A Hugging Face config.json (llama, mistral, mixtral, qwen2, gpt2, gpt_neox) whose model
    /// is priced; needs --tokens, takes --seq-len and --batch.
    #[arg(long, value_name = "FILE", conflicts_with = "workload")]
    pub hf_config: Option<PathBuf>,
    /// Precision of the products: bf16, or fp8 (the dense layers at the FP8 peak; chips
    /// without one are not priced).
    #[arg(long, value_enum, default_value = "bf16")]
    pub precision: PrecisionArg,
    /// What the cluster search minimises: fastest (fewest instances meeting the deadline) or
    /// cheapest (fewest chip-hours among the sizes meeting it).
    #[arg(long, value_enum, default_value = "fastest")]
    pub objective: ObjectiveArg,
    /// Share of paid hours that advance training (default 0.90 with a published range; a
    /// value given here is taken as exact).
    #[arg(long, value_parser = unit_fraction, allow_negative_numbers = true)]
    pub goodput: Option<f64>,
    /// Power usage effectiveness of the data centre (default 1.14, AWS's published figure).
    #[arg(long, value_parser = pue_value, allow_negative_numbers = true)]
    pub pue: Option<f64>,
    /// Grid carbon intensity, kg CO₂ per kWh (default 0.367, the U.S. average of 2023).
    #[arg(long, value_name = "KG_PER_KWH", value_parser = grid_value, allow_negative_numbers = true)]
    pub grid_intensity: Option<f64>,
    /// Seed of the Monte Carlo.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Leave spot out of the verdict for runs longer than this many days (spot capacity can be
    /// reclaimed); it stays in the table.
    #[arg(long, value_name = "DAYS", default_value_t = 1.0, value_parser = non_negative_days, allow_negative_numbers = true)]
    pub spot_max_days: f64,
    /// Every instance × plan, what was not priced and why, every assumption with its source,
    /// the ±20% sensitivity and the break-even.
    #[arg(long, short)]
    pub verbose: bool,
    /// Output format: table (for people), json (docs/estimate-schema.json), csv, markdown, html.
    #[arg(long, value_enum, default_value = "table")]
    pub format: EstimateFormat,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// What `--precision` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrecisionArg {
    Bf16,
    Fp8,
}

/// What `--objective` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectiveArg {
    Fastest,
    Cheapest,
}

/// What `estimate --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EstimateFormat {
    /// The verdict and a compact table for people (`--verbose`: everything).
    Table,
    /// The estimate document (schema: docs/estimate-schema.json).
    Json,
    /// One row per priced option, unrounded, with the Monte Carlo's intervals.
    Csv,
    /// The verdict and the options as GitHub-flavoured Markdown.
    Markdown,
    /// A self-contained HTML page with charts.
    Html,
}

/// `--plan`: the catalog's plan names, listed in help as clap's possible values.
fn plan_value() -> impl clap::builder::TypedValueParser<Value = Plan> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Plan::ALL.map(Plan::as_str))
        .map(|name| name.parse::<Plan>().expect("a possible value is a plan"))
}

fn pue_value(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (1.0..=3.0).contains(&v) => Ok(v),
        _ => Err(format!("expected a PUE from 1 to 3, e.g. 1.2, found '{s}'")),
    }
}

fn grid_value(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=2.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected kg CO₂ per kWh from 0 to 2, e.g. 0.367, found '{s}'"
        )),
    }
}

/// Where `estimate`'s model comes from.
enum Source<'a> {
    /// A bundled workload name or a workload file.
    Workload(&'a str),
    /// A Hugging Face config.json.
    HfConfig(&'a std::path::Path),
    /// `--layers`, `--d-model`, … (checked already).
    Flags(Box<Workload>),
}

/// Where the model comes from, and the usage errors of the flags that say so: one source, and
/// what it needs.
fn source(args: &EstimateArgs) -> Result<Source<'_>> {
    let source = match (&args.workload, args.model.given(), &args.hf_config) {
        (_, true, Some(_)) => {
            return Err(usage(
                "estimate: give either --hf-config or the model as flags (--seq-len and --batch may go with --hf-config), not both",
            ));
        }
        (Some(_), _, Some(_)) => {
            return Err(usage(
                "estimate: give either a workload or --hf-config, not both",
            ));
        }
        (Some(_), true, None) => {
            return Err(usage(
                "estimate: give either a workload or the model as flags, not both",
            ));
        }
        (None, false, None) => {
            return Err(usage(
                "estimate: name a bundled workload or a workload file (e.g. `costbench estimate llama2-7b`), or give the model as flags (--layers --d-model --heads --d-ff --vocab --seq-len --tokens)",
            ));
        }
        (Some(name), false, None) => Source::Workload(name),
        (None, false, Some(path)) => Source::HfConfig(path),
        (None, true, None) => Source::Flags(Box::new(args.model.workload(args.tokens)?)),
    };
    match &source {
        Source::Workload(_) => usage::ensure(
            args.model.seq_len.is_none() && args.model.batch.is_none(),
            || {
                "estimate: --seq-len and --batch go with --hf-config or the model as flags; a workload sets its own (edit its [target])".into()
            },
        )?,
        Source::HfConfig(_) => usage::ensure(args.tokens.is_some(), || {
            "estimate: --tokens is required with --hf-config".into()
        })?,
        Source::Flags(_) => {}
    }
    Ok(source)
}

pub fn estimate(args: EstimateArgs) -> Result<()> {
    if args.validate {
        let catalog = args.catalog.load()?;
        print!(
            "{}\n{}",
            validation::calibration_markdown(&validation::calibration(&catalog)),
            validation::markdown(&validation::llama2_validation(&catalog))
        );
        return Ok(());
    }
    // Usage errors first, before any file is read.
    let source = source(&args)?;
    let scenario = match (args.scenario.as_str(), args.mfu) {
        (_, Some(mfu)) => Scenario::Custom { mfu },
        ("custom", None) => return Err(usage("--scenario custom needs --mfu FRACTION")),
        _ => Scenario::Published,
    };
    let catalog = args.catalog.load()?;
    let w = match source {
        Source::HfConfig(path) => {
            let origin = path.display().to_string();
            let bytes = read::bounded(path, MAX_HF_CONFIG_BYTES, "Hugging Face config.json")
                .map_err(|e| anyhow::anyhow!("estimate: --hf-config: {e}"))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!(
                    "estimate: --hf-config: '{}' is not UTF-8 text; expected a Hugging Face config.json",
                    short(&origin)
                )
            })?;
            crate::workload::hf::workload_from_hf_config(
                &text,
                &origin,
                crate::workload::hf::HfRun {
                    // Checked by `source`.
                    tokens: args.tokens.unwrap_or_default(),
                    seq_len: args.model.seq_len,
                    batch: args.model.batch,
                },
            )
            .map_err(|e| anyhow::anyhow!("estimate: {e}"))?
        }
        Source::Workload(name) => bundled::resolve(name)?,
        Source::Flags(w) => *w,
    };
    let w = match args.tokens {
        // The header describes what is priced.
        Some(tokens) => w.with_target_tokens(tokens as u64),
        None => w,
    };
    let WorkloadKind::Transformer(t) = &w.kind else {
        anyhow::bail!(
            "estimate: '{}' is not a transformer workload; the cost model prices transformer training",
            w.name
        );
    };
    let size = match (args.chips, args.deadline_days) {
        (Some(n), _) => ClusterSize::Chips(n),
        (None, Some(d)) => ClusterSize::DeadlineDays(d),
        (None, None) => ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
    };
    let profile = Profile::from_transformer(t);
    let mut assumptions = Assumptions::default();
    if let Some(g) = args.goodput {
        assumptions.goodput = Assumed::given(g, "--goodput");
    }
    if let Some(p) = args.pue {
        assumptions.pue = Assumed::given(p, "--pue");
    }
    if let Some(g) = args.grid_intensity {
        assumptions.grid_kg_co2_per_kwh = Assumed::given(g, "--grid-intensity");
    }
    let p = pricing::price(&Request {
        profile: &profile,
        catalog: &catalog,
        scenario,
        size,
        assumptions: &assumptions,
        plans: &args.plan,
        measured: None,
        uncertainty: Some(pricing::UncertaintySettings {
            seed: args.seed,
            spot_max_days: args.spot_max_days,
            ..Default::default()
        }),
        model: ModelOptions {
            precision: match args.precision {
                PrecisionArg::Bf16 => Precision::Bf16,
                PrecisionArg::Fp8 => Precision::Fp8,
            },
            objective: match args.objective {
                ObjectiveArg::Fastest => Objective::Fastest,
                ObjectiveArg::Cheapest => Objective::Cheapest,
            },
            goodput: None,
        },
    });
    let doc = EstimateDocument {
        schema_version: crate::report::estimate::schema_version(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        workload: crate::report::workload_record(
            &w,
            args.workload.as_deref().unwrap_or("command-line flags"),
        ),
        target_params: profile.params,
        target_tokens: profile.tokens,
        target_training_flops: profile.executed_flops(),
        scenario: p.scenario.name().to_string(),
        cost: p.record(&catalog, &assumptions),
    };
    let text = match args.format {
        EstimateFormat::Table => format!(
            "{}{}",
            summary::describe_target(&w),
            summary::pricing(&p, &assumptions, &catalog, args.verbose)
        ),
        EstimateFormat::Json => doc.to_json(),
        EstimateFormat::Csv => csv::estimate_csv(&doc)?,
        EstimateFormat::Markdown => markdown::estimate_markdown(&doc),
        EstimateFormat::Html => html::estimate_page(&doc),
    };
    match &args.output {
        Some(path) => {
            // Never over an input: the workload file, the Hugging Face config, an overlay.
            let inputs: Vec<PathBuf> = args
                .workload
                .iter()
                .map(PathBuf::from)
                .chain(args.hf_config.iter().cloned())
                .chain(args.catalog.catalog.iter().cloned())
                .collect();
            guard_output(path, &inputs, "-o")?;
            write_file(path, &text)?;
        }
        None => print!("{text}"),
    }
    Ok(())
}
