//! `costbench estimate`: the cost model alone, for a workload or a model given as flags.

use super::args::{CatalogArgs, positive_count, positive_days, unit_fraction};
use anyhow::Result;
use clap::Args;
use costbench::catalog::Plan;
use costbench::model::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, Scenario};
use costbench::model::pricing::{self, Request};
use costbench::model::{Assumptions, Profile, validation};
use costbench::render::summary;
use costbench::workload::{Workload, WorkloadKind, bundled};

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
    pub fn given(&self) -> bool {
        self.layers.is_some()
            || self.d_model.is_some()
            || self.heads.is_some()
            || self.d_ff.is_some()
    }

    /// The workload these flags describe, validated by the same rules as a workload file.
    pub fn workload(&self, tokens: Option<f64>) -> Result<Workload> {
        let need = |v: Option<u32>, flag: &str| {
            v.ok_or_else(|| anyhow::anyhow!("estimate: {flag} is required when the model is given as flags (also needed: --layers, --d-model, --heads, --d-ff, --vocab, --seq-len, --tokens)"))
        };
        let tokens = tokens.ok_or_else(|| {
            anyhow::anyhow!("estimate: --tokens is required when the model is given as flags")
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
        costbench::workload::parse::parse_workload(&toml, "command-line flags")
            .map_err(|e| anyhow::anyhow!(flag_error(&e.to_string())))
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
    /// Only these pricing plans (on_demand, reserved_1yr, reserved_3yr, capacity_block, spot);
    /// repeatable. Default: all.
    #[arg(long, value_name = "PLAN")]
    pub plan: Vec<Plan>,
    /// Print the model's validation against Llama 2's published GPU-hours instead.
    #[arg(long)]
    pub validate: bool,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

pub fn estimate(args: EstimateArgs) -> Result<()> {
    let catalog = args.catalog.load()?;
    if args.validate {
        print!(
            "{}",
            validation::markdown(&validation::llama2_validation(&catalog))
        );
        return Ok(());
    }
    let w = match (&args.workload, args.model.given()) {
        (Some(_), true) => {
            anyhow::bail!("estimate: give either a workload or the model as flags, not both")
        }
        (Some(name), false) => bundled::resolve(name)?,
        (None, true) => args.model.workload(args.tokens)?,
        (None, false) => anyhow::bail!(
            "estimate: name a bundled workload or a workload file (e.g. `costbench estimate llama2-7b`), or give the model as flags (--layers --d-model --heads --d-ff --vocab --seq-len --tokens)"
        ),
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
    let scenario = match (args.scenario.as_str(), args.mfu) {
        (_, Some(mfu)) => Scenario::Custom { mfu },
        ("custom", None) => anyhow::bail!("--scenario custom needs --mfu FRACTION"),
        _ => Scenario::Published,
    };
    let size = match (args.chips, args.deadline_days) {
        (Some(n), _) => ClusterSize::Chips(n),
        (None, Some(d)) => ClusterSize::DeadlineDays(d),
        (None, None) => ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
    };
    let profile = Profile::from_transformer(t);
    let assumptions = Assumptions::default();
    let p = pricing::price(&Request {
        profile: &profile,
        catalog: &catalog,
        scenario,
        size,
        assumptions: &assumptions,
        plans: &args.plan,
        measured: None,
        uncertainty: Some(pricing::UncertaintySettings::default()),
    });
    print!("{}", summary::describe_target(&w));
    print!(
        "{}",
        summary::cost_table(&p.options, &p.skipped, &p.scenario, &assumptions, &catalog)
    );
    print!("{}", summary::sensitivity_table(&p.sensitivity));
    if let Some(b) = &p.break_even {
        print!("{}", summary::break_even_text(b));
    }
    Ok(())
}
