//! A Hugging Face `config.json` as a transformer target (`costbench estimate --hf-config FILE`):
//! the architecture fields of the llama, mistral, mixtral, qwen2, gpt2 and gpt_neox families,
//! turned into a workload and validated by the same rules as a workload file. Pure: the caller
//! reads the file.
//!
//! | workload field | llama / mistral / mixtral / qwen2 | gpt2 | gpt_neox |
//! |---|---|---|---|
//! | layers | `num_hidden_layers` | `n_layer` | `num_hidden_layers` |
//! | d_model | `hidden_size` | `n_embd` | `hidden_size` |
//! | heads | `num_attention_heads` | `n_head` | `num_attention_heads` |
//! | kv_heads | `num_key_value_heads` (default heads) | heads | heads |
//! | d_ff | `intermediate_size` | `n_inner` (default 4 × n_embd) | `intermediate_size` |
//! | vocab | `vocab_size` | `vocab_size` | `vocab_size` |
//! | seq_len | `max_position_embeddings` | `n_positions` | `max_position_embeddings` |
//! | tied | `tie_word_embeddings` (default false) | (default true) | (default false) |
//! | experts, top_k | `num_local_experts`, `num_experts_per_tok` (mixtral) | — | — |
//!
//! llama-family configs are RMSNorm, SwiGLU and rotary (no position parameters); gpt2 is
//! LayerNorm, GELU and learned positions; gpt_neox LayerNorm, GELU and rotary.

use super::parse::{WorkloadError, parse_workload};
use super::spec::Workload;
use serde_json::{Map, Value};

/// What the command line adds to a config: training tokens, and optionally the sequence length
/// and global batch (sequences).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HfRun {
    pub tokens: f64,
    pub seq_len: Option<u32>,
    pub batch: Option<u32>,
}

/// The families whose configs are read.
const FAMILIES: [&str; 6] = ["llama", "mistral", "mixtral", "qwen2", "gpt2", "gpt_neox"];

/// One field of the config: its value, or a one-line error naming the file and the field.
struct Config<'a> {
    origin: &'a str,
    map: &'a Map<String, Value>,
}

impl Config<'_> {
    fn err(&self, field: &str, message: impl std::fmt::Display) -> String {
        format!("{}: {field}: {message}", self.origin)
    }

    fn int(&self, field: &str) -> Result<Option<u64>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Ok(Some(n)),
                _ => Err(self.err(field, format!("expected a positive integer, found {v}"))),
            },
        }
    }

    fn need(&self, field: &str) -> Result<u64, String> {
        self.int(field)?
            .ok_or_else(|| self.err(field, "missing (expected a positive integer)"))
    }

    fn bool(&self, field: &str, default: bool) -> Result<bool, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.err(field, format!("expected true or false, found {v}"))),
        }
    }
}

/// The workload a Hugging Face config describes, trained as `run` says. Errors are one line,
/// `FILE: field: message`, in the config's own field names.
pub fn workload_from_hf_config(text: &str, origin: &str, run: HfRun) -> Result<Workload, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("{origin}: not a JSON config ({e})"))?;
    let Value::Object(map) = &value else {
        return Err(format!(
            "{origin}: expected a JSON object of model settings (a Hugging Face config.json)"
        ));
    };
    let c = Config { origin, map };
    let family = match map.get("model_type") {
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Err(c.err("model_type", format!("expected a string, found {v}"))),
        None if map.contains_key("n_layer") => "gpt2",
        None => "llama",
    };
    if !FAMILIES.contains(&family) {
        return Err(c.err(
            "model_type",
            format!(
                "'{family}' is not a family costbench reads; expected one of {}",
                FAMILIES.join(", ")
            ),
        ));
    }
    let gpt2 = family == "gpt2";
    let (layers_f, width_f, heads_f, ffn_f, seq_f) = if gpt2 {
        ("n_layer", "n_embd", "n_head", "n_inner", "n_positions")
    } else {
        (
            "num_hidden_layers",
            "hidden_size",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
        )
    };
    let layers = c.need(layers_f)?;
    let d_model = c.need(width_f)?;
    let heads = c.need(heads_f)?;
    let kv_heads = if gpt2 || family == "gpt_neox" {
        heads
    } else {
        c.int("num_key_value_heads")?.unwrap_or(heads)
    };
    let d_ff = match (gpt2, c.int(ffn_f)?) {
        (_, Some(f)) => f,
        (true, None) => 4 * d_model,
        (false, None) => return Err(c.err(ffn_f, "missing (expected a positive integer)")),
    };
    let vocab = c.need("vocab_size")?;
    let seq_len = match run.seq_len {
        Some(s) => s as u64,
        None => c.need(seq_f)?,
    };
    let tied = c.bool("tie_word_embeddings", gpt2)?;
    let moe = if family == "mixtral" || map.contains_key("num_local_experts") {
        let experts = c.need("num_local_experts")?;
        let top_k = c.need("num_experts_per_tok")?;
        format!("experts = {experts}\ntop_k = {top_k}\n")
    } else {
        String::new()
    };
    let (norm, activation, positions) = match family {
        "gpt2" => ("layernorm", "gelu", "learned"),
        "gpt_neox" => ("layernorm", "gelu", "none"),
        _ => ("rmsnorm", "swiglu", "none"),
    };
    let name: String = origin
        .rsplit('/')
        .next()
        .unwrap_or("hf-config")
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || ch == '-' {
                ch.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let toml = format!(
        "name = \"{name}\"\nkind = \"transformer\"\ndescription = \"{family} model from {origin_escaped}\"\n[target]\nlayers = {layers}\nd_model = {d_model}\nheads = {heads}\nkv_heads = {kv_heads}\nd_ff = {d_ff}\nvocab = {vocab}\nseq_len = {seq_len}\nnorm = \"{norm}\"\nactivation = \"{activation}\"\npositions = \"{positions}\"\ntied_embeddings = {tied}\ntokens = {tokens:e}\nbatch = {batch}\n{moe}[measure]\nlayers = 1\nbatch = 1\nseq_len = 1\nd_model = {heads}\nd_ff = 1\nvocab = 1\n",
        origin_escaped = origin.replace(['"', '\\'], "'"),
        tokens = run.tokens,
        batch = run.batch.unwrap_or(1024),
    );
    parse_workload(&toml, "hf-config").map_err(|e| hf_error(&c, &e, gpt2))
}

/// A validation error of the workload built from a config, in the config's field names.
fn hf_error(c: &Config<'_>, e: &WorkloadError, gpt2: bool) -> String {
    let field = e.field().unwrap_or("");
    let hf = match (field, gpt2) {
        ("target.layers", false) => "num_hidden_layers",
        ("target.layers", true) => "n_layer",
        ("target.d_model", false) => "hidden_size",
        ("target.d_model", true) => "n_embd",
        ("target.heads", false) => "num_attention_heads",
        ("target.heads", true) => "n_head",
        ("target.kv_heads", _) => "num_key_value_heads",
        ("target.d_ff", false) => "intermediate_size",
        ("target.d_ff", true) => "n_inner",
        ("target.vocab", _) => "vocab_size",
        ("target.seq_len", false) => "max_position_embeddings (or --seq-len)",
        ("target.seq_len", true) => "n_positions (or --seq-len)",
        ("target.experts", _) => "num_local_experts",
        ("target.top_k", _) => "num_experts_per_tok",
        ("target.tokens", _) => "--tokens",
        ("target.batch", _) => "--batch",
        _ => "",
    };
    let text = e.to_string();
    // `hf-config:9:8: target.heads: message` → `message`.
    let message = match text.find(&format!("{field}: ")) {
        Some(i) if !field.is_empty() => text[i + field.len() + 2..].to_string(),
        _ => text,
    };
    let message = message
        .replace("target.d_model", "the hidden size")
        .replace("target.heads", "the attention heads");
    if hf.is_empty() {
        format!("{}: {message}", c.origin)
    } else {
        c.err(hf, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadKind;

    const RUN: HfRun = HfRun {
        tokens: 1e12,
        seq_len: None,
        batch: None,
    };

    fn target(text: &str) -> crate::workload::TransformerWorkload {
        match workload_from_hf_config(text, "config.json", RUN)
            .unwrap()
            .kind
        {
            WorkloadKind::Transformer(t) => t,
            _ => unreachable!(),
        }
    }

    #[test]
    fn llama2_7b_config_reads_as_llama2_7b() {
        let t = target(
            r#"{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,
            "intermediate_size":11008,"max_position_embeddings":4096,"num_attention_heads":32,
            "num_hidden_layers":32,"num_key_value_heads":32,"rms_norm_eps":1e-05,
            "tie_word_embeddings":false,"vocab_size":32000}"#,
        );
        assert_eq!(
            (
                t.target.layers,
                t.target.d_model,
                t.target.d_ff,
                t.target.seq_len
            ),
            (32, 4096, 11008, 4096)
        );
        assert_eq!(
            crate::workload::plan::transformer_params(&t.target),
            6_738_415_616
        );
        assert!(t.target_moe.is_none());
    }

    #[test]
    fn mixtral_config_reads_its_experts() {
        let t = target(
            r#"{"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,
            "max_position_embeddings":32768,"num_attention_heads":32,"num_hidden_layers":32,
            "num_key_value_heads":8,"num_local_experts":8,"num_experts_per_tok":2,
            "vocab_size":32000,"tie_word_embeddings":false}"#,
        );
        let moe = t.target_moe.unwrap();
        assert_eq!((moe.experts, moe.top_k), (8, 2));
        assert_eq!(t.target.kv_heads, 8);
    }

    #[test]
    fn gpt2_config_uses_its_own_names_and_defaults() {
        let t = target(
            r#"{"model_type":"gpt2","n_embd":768,"n_head":12,"n_layer":12,"n_positions":1024,
            "vocab_size":50257}"#,
        );
        assert_eq!((t.target.d_ff, t.target.seq_len), (3072, 1024));
        assert!(t.target.tied_embeddings);
        assert_eq!(t.target.positions, crate::workload::Positions::Learned);
    }

    #[test]
    fn errors_name_the_file_and_the_config_field() {
        let run = |text: &str| workload_from_hf_config(text, "m/config.json", RUN).unwrap_err();
        let e = run(r#"{"model_type":"llama","hidden_size":4096}"#);
        assert!(
            e.starts_with("m/config.json: intermediate_size: missing")
                || e.contains("num_hidden_layers: missing"),
            "{e}"
        );
        let e = run(
            r#"{"model_type":"llama","hidden_size":4096,"intermediate_size":11008,
            "max_position_embeddings":4096,"num_attention_heads":30,"num_hidden_layers":32,
            "vocab_size":32000}"#,
        );
        assert!(e.starts_with("m/config.json: num_attention_heads: "), "{e}");
        assert!(!e.contains('\n'));
        let e = run(r#"{"model_type":"t5"}"#);
        assert!(e.starts_with("m/config.json: model_type: 't5'"), "{e}");
        let e = run(r#"{"model_type":"gpt2","n_layer":"twelve"}"#);
        assert!(
            e.starts_with("m/config.json: n_layer: expected a positive integer"),
            "{e}"
        );
        let e = run("not json");
        assert!(e.starts_with("m/config.json: not a JSON config"), "{e}");
        let e = run(
            r#"{"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,
            "max_position_embeddings":4096,"num_attention_heads":32,"num_hidden_layers":32,
            "num_local_experts":8,"num_experts_per_tok":9,"vocab_size":32000}"#,
        );
        assert!(e.starts_with("m/config.json: num_experts_per_tok: "), "{e}");
    }
}
