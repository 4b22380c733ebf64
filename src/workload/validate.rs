//! The rules of meaning of a workload file: raw structs (as `parse.rs` read them, with their
//! spans) → a validated [`Workload`]. Each rule reports the first problem as one line naming the
//! field and what was expected (`workloads/README.md` lists the rules).
//!
//! Sizes are positive and at most [`MAX_DIMENSION`], divisibility holds in the target and in the
//! measured slice, the slice is no larger than its target, token counts are whole and at most
//! [`MAX_TRAINING_TOKENS`]; and every figure of the plan the workload will be run and priced
//! with can be counted: `plan`'s own formulas, in checked arithmetic, must fit their 64-bit
//! counters (one step at most [`MAX_STEP_FLOPS`] FLOPs), so a huge size is refused here with
//! what it would need instead of overflowing later. Nothing here asks this machine anything:
//! whether the slice fits its memory is `fit`'s question, asked where a run is planned.

use crate::diag::toml_diag::{Doc, InvalidFile, Written};
use crate::workload::fit::{self, about_gib};
use crate::workload::parse::{
    COUNT_EXPECTED, Choice, Count, Field, Int, MAX_DIMENSION, MAX_TRAINING_TOKENS, Pick, RawFile,
    RawGemmMeasure, RawGemmTarget, RawMlpMeasure, RawMlpTarget, RawTransformerMeasure,
    RawTransformerTarget, RawWorkload, choice_names, section_phrase,
};
use crate::workload::plan::{self, MAX_STEP_FLOPS, StepPlan, TooLarge};
use crate::workload::spec::{
    Dtype, GemmShape, GemmSweep, MlpShape, MlpWorkload, MoeSpec, Positions, TransformerShape,
    TransformerWorkload, Workload, WorkloadKind,
};
use std::ops::Range;
use toml::Spanned;

/// What `[target]` needs, by kind (for the message when it is missing).
const TRANSFORMER_TARGET: &str = "layers, d_model, heads, d_ff, vocab, seq_len, norm, activation, \
                                  tied_embeddings, tokens and batch (and, for a mixture of \
                                  experts, experts and top_k)";
const MLP_TARGET: &str = "d_in, d_hidden, hidden_layers, classes, samples and batch";
const GEMM_TARGET: &str =
    "`square = [...]` and/or [[target.shapes]] entries (m, n, k), and optionally dtypes";

/// The validated workload of a file read by `parse.rs`.
pub(super) fn workload(doc: &Doc, raw: &RawWorkload) -> Result<Workload, InvalidFile> {
    let rules = Rules(doc);
    match raw {
        RawWorkload::Gemm(r) => rules.gemm(rules.common(r, GEMM_TARGET)?, &r.measure),
        RawWorkload::Mlp(r) => rules.mlp(rules.common(r, MLP_TARGET)?, &r.measure),
        RawWorkload::Transformer(r) => {
            rules.transformer(rules.common(r, TRANSFORMER_TARGET)?, &r.measure)
        }
    }
}

/// What every kind has: `name`, `description`, and the `[target]` table.
struct Common<'r, T> {
    name: String,
    description: String,
    target: &'r Spanned<T>,
}

/// The rules, applied to one document (whose errors they point into).
struct Rules<'d, 'a>(&'d Doc<'a>);

impl<'a> std::ops::Deref for Rules<'_, 'a> {
    type Target = Doc<'a>;
    fn deref(&self) -> &Doc<'a> {
        self.0
    }
}

impl Rules<'_, '_> {
    fn section<'r, T>(
        &self,
        section: &'r Field<T>,
        name: &str,
        needs: &str,
    ) -> Result<&'r Spanned<T>, InvalidFile> {
        section.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some(name),
                format!(
                    "required section [{name}] is missing; expected a [{name}] table with {needs}"
                ),
            )
        })
    }

    /// A required field of `section` (at path `path`); when missing, the error points at the
    /// section's header.
    fn required<'r, T, S>(
        &self,
        v: &'r Field<T>,
        section: &Spanned<S>,
        path: &str,
        expected: &str,
    ) -> Result<&'r Spanned<T>, InvalidFile> {
        v.as_ref().ok_or_else(|| {
            let (table, _) = path.rsplit_once('.').unwrap_or(("", path));
            self.error(
                Some(&section.span()),
                Some(path),
                format!(
                    "required field is missing {}; expected {expected}",
                    section_phrase(table).replacen("in ", "from ", 1)
                ),
            )
        })
    }

    /// A size: a positive integer no larger than [`MAX_DIMENSION`].
    fn dim(&self, v: &Spanned<Int>, path: &str) -> Result<usize, InvalidFile> {
        let n = v.get_ref().0;
        if n < 1 {
            Err(self.at(v, path, format!("expected a positive integer, found {n}")))
        } else if n > MAX_DIMENSION as i128 {
            Err(self.at(
                v,
                path,
                format!(
                    "expected at most {MAX_DIMENSION} (2^24, the largest size costbench accepts \
                     for any single dimension), found {n}"
                ),
            ))
        } else {
            Ok(n as usize)
        }
    }

    fn required_dim<S>(
        &self,
        v: &Field<Int>,
        section: &Spanned<S>,
        path: &str,
    ) -> Result<usize, InvalidFile> {
        self.dim(self.required(v, section, path, "a positive integer")?, path)
    }

    /// A measured-slice size: the target's value when omitted, never larger than it.
    fn slice_dim(
        &self,
        v: &Field<Int>,
        path: &str,
        target: usize,
    ) -> Result<(usize, Option<Range<usize>>), InvalidFile> {
        let Some(v) = v else {
            return Ok((target, None));
        };
        let n = self.dim(v, path)?;
        if n > target {
            let target_path = path.replacen("measure.", "target.", 1);
            return Err(self.at(
                v,
                path,
                format!(
                    "the slice is larger than its target ({n} > {target_path} = {target}); \
                     expected at most {target}"
                ),
            ));
        }
        Ok((n, Some(v.span())))
    }

    /// Training tokens or samples: a whole positive number no larger than
    /// [`MAX_TRAINING_TOKENS`].
    fn count(&self, v: &Spanned<Count>, path: &str) -> Result<u64, InvalidFile> {
        let max = MAX_TRAINING_TOKENS;
        let too_big = |shown: String| {
            self.at(
                v,
                path,
                format!(
                    "expected at most 1e18 (costbench's limit on training tokens), found {shown}"
                ),
            )
        };
        match v.get_ref().0 {
            Written::Int(n) if n < 1 => {
                Err(self.at(v, path, format!("expected {COUNT_EXPECTED}, found {n}")))
            }
            Written::Int(n) if n > i128::from(max) => Err(too_big(n.to_string())),
            Written::Int(n) => Ok(n as u64),
            Written::Float(f) if !f.is_finite() || f < 1.0 || f.fract() != 0.0 => {
                Err(self.at(v, path, format!("expected {COUNT_EXPECTED}, found {f:?}")))
            }
            Written::Float(f) if f > max as f64 => Err(too_big(format!("{f:e}"))),
            Written::Float(f) => Ok(f as u64),
        }
    }

    fn pick<T: Choice, S>(
        &self,
        v: &Field<Pick<T>>,
        section: &Spanned<S>,
        path: &str,
    ) -> Result<T, InvalidFile> {
        let expected = format!("one of {}", choice_names::<T>());
        Ok(self.required(v, section, path, &expected)?.get_ref().0)
    }

    /// `name` and `description`, common to every kind, and the `[target]` table (which needs
    /// `target_needs`).
    fn common<'r, T, M>(
        &self,
        raw: &'r RawFile<T, M>,
        target_needs: &str,
    ) -> Result<Common<'r, T>, InvalidFile> {
        const NAME_RULE: &str = "a name of 1 to 64 lowercase letters, digits, '.', '_' or '-' \
                                 (it is used in file names)";
        let name = raw.name.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some("name"),
                format!("required field is missing; expected {NAME_RULE}"),
            )
        })?;
        let n = name.get_ref();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if n.is_empty() || n.len() > 64 || !n.chars().all(ok_char) {
            return Err(self.at(name, "name", format!("expected {NAME_RULE}, found {n:?}")));
        }
        let description = raw.description.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some("description"),
                "required field is missing; expected a one-line description string",
            )
        })?;
        let d = description.get_ref().trim();
        if d.is_empty() || d.contains(['\n', '\r']) {
            return Err(self.at(
                description,
                "description",
                format!(
                    "expected a non-empty one-line string, found {:?}",
                    description.get_ref()
                ),
            ));
        }
        Ok(Common {
            name: n.clone(),
            description: d.to_string(),
            target: self.section(&raw.target, "target", target_needs)?,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Kinds.

    fn transformer(
        &self,
        Common {
            name,
            description,
            target: ts,
        }: Common<RawTransformerTarget>,
        measure: &Field<RawTransformerMeasure>,
    ) -> Result<Workload, InvalidFile> {
        let t = ts.get_ref();
        let layers = self.required_dim(&t.layers, ts, "target.layers")?;
        let d_model = self.required_dim(&t.d_model, ts, "target.d_model")?;
        let heads_v = self.required(&t.heads, ts, "target.heads", "a positive integer")?;
        let heads = self.dim(heads_v, "target.heads")?;
        if d_model % heads != 0 {
            return Err(self.at(
                heads_v,
                "target.heads",
                format!(
                    "{heads} heads do not divide target.d_model = {d_model}; expected a divisor \
                     of {d_model} (each head is d_model/heads wide)"
                ),
            ));
        }
        let kv_heads = match &t.kv_heads {
            None => heads,
            Some(v) => {
                let kv = self.dim(v, "target.kv_heads")?;
                if heads % kv != 0 {
                    return Err(self.at(
                        v,
                        "target.kv_heads",
                        format!(
                            "{kv} key/value heads do not divide target.heads = {heads}; expected \
                             a divisor of {heads} (each key/value head serves heads/kv_heads \
                             query heads)"
                        ),
                    ));
                }
                kv
            }
        };
        let d_ff = self.required_dim(&t.d_ff, ts, "target.d_ff")?;
        let vocab = self.required_dim(&t.vocab, ts, "target.vocab")?;
        let seq_len = self.required_dim(&t.seq_len, ts, "target.seq_len")?;
        let norm = self.pick(&t.norm, ts, "target.norm")?;
        let activation = self.pick(&t.activation, ts, "target.activation")?;
        let positions = t
            .positions
            .as_ref()
            .map_or(Positions::Learned, |p| p.get_ref().0);
        let tied_embeddings = *self
            .required(
                &t.tied_embeddings,
                ts,
                "target.tied_embeddings",
                "true or false",
            )?
            .get_ref();
        let tokens_v = self.required(&t.tokens, ts, "target.tokens", COUNT_EXPECTED)?;
        let target_tokens = self.count(tokens_v, "target.tokens")?;
        let batch_v = self.required(&t.batch, ts, "target.batch", "a positive integer")?;
        let target_batch = self.dim(batch_v, "target.batch")?;
        let target_moe = self.moe(t, ts)?;
        let target = TransformerShape {
            layers,
            d_model,
            heads,
            kv_heads,
            d_ff,
            vocab,
            seq_len,
            norm,
            activation,
            positions,
            tied_embeddings,
        };

        let ms = self.section(
            measure,
            "measure",
            "batch (sequences per measured step) and optionally layers, seq_len, d_model, heads, \
             kv_heads, d_ff, vocab",
        )?;
        let m = ms.get_ref();
        let (s_layers, _) = self.slice_dim(&m.layers, "measure.layers", layers)?;
        let slice_batch_v = self.required(
            &m.batch,
            ms,
            "measure.batch",
            "a positive integer (sequences per measured step)",
        )?;
        let (slice_batch, _) = self.slice_dim(&m.batch, "measure.batch", target_batch)?;
        let (s_seq, _) = self.slice_dim(&m.seq_len, "measure.seq_len", seq_len)?;
        let (s_d_model, d_model_at) = self.slice_dim(&m.d_model, "measure.d_model", d_model)?;
        let (s_heads, heads_at) = self.slice_dim(&m.heads, "measure.heads", heads)?;
        // A multi-head target stays multi-head when only `measure.heads` is given.
        let kv_default = if kv_heads == heads { s_heads } else { kv_heads };
        let (s_kv, kv_at) = match &m.kv_heads {
            None => (kv_default, None),
            some => self.slice_dim(some, "measure.kv_heads", kv_heads)?,
        };
        let measure_span = ms.span();
        if s_d_model % s_heads != 0 {
            let (at, field) = match &heads_at {
                Some(s) => (s, "measure.heads"),
                None => (
                    d_model_at.as_ref().unwrap_or(&measure_span),
                    "measure.d_model",
                ),
            };
            return Err(self.error(
                Some(at),
                Some(field),
                format!(
                    "in the measured slice, heads = {s_heads} does not divide d_model = \
                     {s_d_model}; expected heads to divide d_model (each head is d_model/heads \
                     wide)"
                ),
            ));
        }
        if s_heads % s_kv != 0 {
            let (at, field) = match (&kv_at, &heads_at) {
                (Some(s), _) => (s, "measure.kv_heads"),
                (None, Some(s)) => (s, "measure.heads"),
                (None, None) => (&measure_span, "measure"),
            };
            return Err(self.error(
                Some(at),
                Some(field),
                format!(
                    "in the measured slice, kv_heads = {s_kv} does not divide heads = {s_heads}; \
                     expected kv_heads to divide heads (set measure.kv_heads)"
                ),
            ));
        }
        let (s_d_ff, _) = self.slice_dim(&m.d_ff, "measure.d_ff", d_ff)?;
        let (s_vocab, _) = self.slice_dim(&m.vocab, "measure.vocab", vocab)?;
        let slice = TransformerShape {
            layers: s_layers,
            d_model: s_d_model,
            heads: s_heads,
            kv_heads: s_kv,
            d_ff: s_d_ff,
            vocab: s_vocab,
            seq_len: s_seq,
            ..target.clone()
        };

        // The plan of the target is evaluated one sequence at a time
        // (`plan::target_training_flops`), so one sequence must fit its counters.
        self.check_step(
            plan::checked_transformer_step(&target, 1),
            &t.seq_len.as_ref().unwrap_or(batch_v).span(),
            "target.seq_len",
            "training on one sequence of the target",
            "a shorter target.seq_len or a smaller model",
        )?;
        // The measured step's plan counts all `slice_batch` sequences in one step.
        self.check_step(
            plan::checked_transformer_step(&slice, slice_batch),
            &slice_batch_v.span(),
            "measure.batch",
            "one measured step of the slice",
            "a smaller measure.batch, measure.seq_len or measure.layers",
        )?;
        let kind = WorkloadKind::Transformer(TransformerWorkload {
            target,
            target_tokens,
            target_batch,
            slice,
            slice_batch,
            target_moe,
        });
        self.countable(name, description, kind, ms)
    }

    /// `[target] experts`, `top_k` and `shared_experts`: all absent (a dense model), or experts
    /// ≥ 2 with 1 ≤ top_k ≤ experts, and shared_experts ≥ 0.
    fn moe(
        &self,
        t: &RawTransformerTarget,
        ts: &Spanned<RawTransformerTarget>,
    ) -> Result<Option<MoeSpec>, InvalidFile> {
        let shared = match &t.shared_experts {
            None => 0,
            Some(v) => {
                let n = v.get_ref().0;
                if !(0..=MAX_DIMENSION as i128).contains(&n) {
                    return Err(self.at(
                        v,
                        "target.shared_experts",
                        format!("expected a count of shared experts from 0 up, found {n}"),
                    ));
                }
                n as usize
            }
        };
        match (&t.experts, &t.top_k) {
            (None, None) => match &t.shared_experts {
                Some(v) => Err(self.at(
                    v,
                    "target.shared_experts",
                    "shared experts need a mixture: also give target.experts and target.top_k"
                        .to_string(),
                )),
                None => Ok(None),
            },
            (Some(e), None) => Err(self.at(
                e,
                "target.experts",
                "a mixture of experts also needs target.top_k (how many experts each token is \
                 routed to)"
                    .to_string(),
            )),
            (None, Some(k)) => Err(self.at(
                k,
                "target.top_k",
                "target.top_k needs target.experts (the experts per layer)".to_string(),
            )),
            (Some(ev), Some(kv)) => {
                let experts = self.dim(ev, "target.experts")?;
                if experts < 2 {
                    return Err(self.at(
                        ev,
                        "target.experts",
                        format!(
                            "expected at least 2 experts per layer, found {experts} (a dense \
                             model has no experts field)"
                        ),
                    ));
                }
                let top_k = self.dim(kv, "target.top_k")?;
                if top_k > experts {
                    return Err(self.at(
                        kv,
                        "target.top_k",
                        format!(
                            "each token is routed to {top_k} experts but a layer has \
                             {experts}; expected top_k from 1 to {experts}"
                        ),
                    ));
                }
                let _ = ts;
                Ok(Some(MoeSpec {
                    experts,
                    top_k,
                    shared_experts: shared,
                }))
            }
        }
    }

    fn mlp(
        &self,
        Common {
            name,
            description,
            target: ts,
        }: Common<RawMlpTarget>,
        measure: &Field<RawMlpMeasure>,
    ) -> Result<Workload, InvalidFile> {
        let t = ts.get_ref();
        let target = MlpShape {
            d_in: self.required_dim(&t.d_in, ts, "target.d_in")?,
            d_hidden: self.required_dim(&t.d_hidden, ts, "target.d_hidden")?,
            hidden_layers: self.required_dim(&t.hidden_layers, ts, "target.hidden_layers")?,
            classes: self.required_dim(&t.classes, ts, "target.classes")?,
        };
        let samples_v = self.required(&t.samples, ts, "target.samples", COUNT_EXPECTED)?;
        let target_samples = self.count(samples_v, "target.samples")?;
        let batch_v = self.required(&t.batch, ts, "target.batch", "a positive integer")?;
        let target_batch = self.dim(batch_v, "target.batch")?;

        let ms = self.section(
            measure,
            "measure",
            "batch (samples per measured step) and optionally hidden_layers, d_in, d_hidden, \
             classes",
        )?;
        let m = ms.get_ref();
        self.required(
            &m.batch,
            ms,
            "measure.batch",
            "a positive integer (samples per measured step)",
        )?;
        let (slice_batch, _) = self.slice_dim(&m.batch, "measure.batch", target_batch)?;
        let slice = MlpShape {
            d_in: self.slice_dim(&m.d_in, "measure.d_in", target.d_in)?.0,
            d_hidden: self
                .slice_dim(&m.d_hidden, "measure.d_hidden", target.d_hidden)?
                .0,
            hidden_layers: self
                .slice_dim(
                    &m.hidden_layers,
                    "measure.hidden_layers",
                    target.hidden_layers,
                )?
                .0,
            classes: self
                .slice_dim(&m.classes, "measure.classes", target.classes)?
                .0,
        };

        self.check_step(
            plan::checked_mlp_step(&target, target_batch),
            &batch_v.span(),
            "target.batch",
            "one optimizer step of the target",
            "a smaller target.batch (or a smaller model)",
        )?;
        let kind = WorkloadKind::Mlp(MlpWorkload {
            target,
            target_samples,
            target_batch,
            slice,
            slice_batch,
        });
        self.countable(name, description, kind, ms)
    }

    fn dtypes(
        &self,
        list: &Spanned<Vec<Spanned<Pick<Dtype>>>>,
        path: &str,
    ) -> Result<Vec<Dtype>, InvalidFile> {
        if list.get_ref().is_empty() {
            return Err(self.at(
                list,
                path,
                format!(
                    "expected at least one of {}, found an empty array",
                    choice_names::<Dtype>()
                ),
            ));
        }
        let mut out = Vec::new();
        for d in list.get_ref() {
            let v = d.get_ref().0;
            if out.contains(&v) {
                return Err(self.at(
                    d,
                    path,
                    format!(
                        "{} is listed twice; expected each dtype at most once",
                        v.name()
                    ),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    fn gemm(
        &self,
        Common {
            name,
            description,
            target: ts,
        }: Common<RawGemmTarget>,
        measure: &Field<RawGemmMeasure>,
    ) -> Result<Workload, InvalidFile> {
        let t = ts.get_ref();
        let target_dtypes = match &t.dtypes {
            None => vec![Dtype::F32],
            Some(list) => self.dtypes(list, "target.dtypes")?,
        };

        // Each shape with the path and span its errors point at.
        let mut shapes: Vec<(GemmShape, String, Range<usize>)> = Vec::new();
        for (i, s) in t.square.iter().flat_map(|v| v.get_ref().iter()).enumerate() {
            let path = format!("target.square[{i}]");
            let n = self.dim(s, &path)?;
            let shape = GemmShape {
                m: n,
                n,
                k: n,
                batch: 1,
                label: None,
            };
            shapes.push((shape, path, s.span()));
        }
        for (i, s) in t.shapes.iter().flat_map(|v| v.get_ref().iter()).enumerate() {
            let path = format!("target.shapes[{i}]");
            let r = s.get_ref();
            let label = match &r.label {
                None => None,
                Some(l) => {
                    let text = l.get_ref().trim();
                    if text.is_empty() || text.contains(['\n', '\r']) {
                        return Err(self.at(
                            l,
                            &format!("{path}.label"),
                            format!(
                                "expected a non-empty one-line string, found {:?}",
                                l.get_ref()
                            ),
                        ));
                    }
                    Some(text.to_string())
                }
            };
            let shape = GemmShape {
                m: self.required_dim(&r.m, s, &format!("{path}.m"))?,
                n: self.required_dim(&r.n, s, &format!("{path}.n"))?,
                k: self.required_dim(&r.k, s, &format!("{path}.k"))?,
                batch: match &r.batch {
                    None => 1,
                    Some(b) => self.dim(b, &format!("{path}.batch"))?,
                },
                label,
            };
            shapes.push((shape, path, s.span()));
        }
        if shapes.is_empty() {
            return Err(self.error(
                Some(&ts.span()),
                Some("target"),
                "no product shapes; expected `square = [...]` and/or [[target.shapes]] tables \
                 with m, n and k",
            ));
        }

        let dtypes = match measure.as_ref().and_then(|m| m.get_ref().dtypes.as_ref()) {
            None => target_dtypes.clone(),
            Some(list) => {
                let chosen = self.dtypes(list, "measure.dtypes")?;
                for (d, v) in chosen.iter().zip(list.get_ref()) {
                    if !target_dtypes.contains(d) {
                        let allowed: Vec<&str> = target_dtypes.iter().map(|d| d.name()).collect();
                        return Err(self.at(
                            v,
                            "measure.dtypes",
                            format!(
                                "{} is not among target.dtypes; expected a subset of [{}]",
                                d.name(),
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
                chosen
            }
        };

        // Each product is run on its own, so each must be countable: check them one at a time
        // to name the one that is not.
        for (shape, path, span) in &shapes {
            for &d in &dtypes {
                let step = plan::checked_gemm_step(std::slice::from_ref(shape), d);
                self.check_step(
                    step,
                    span,
                    path,
                    &format!("the product {}", plan::gemm_label(shape)),
                    "smaller m, n, k or batch",
                )?;
            }
        }
        let shapes: Vec<GemmShape> = shapes.into_iter().map(|(s, _, _)| s).collect();
        for &d in &dtypes {
            if let Err(e) = plan::checked_gemm_step(&shapes, d) {
                return Err(self.error(
                    Some(&ts.span()),
                    Some("target"),
                    format!(
                        "the {} products in {} together {}; expected fewer or smaller products",
                        shapes.len(),
                        d.name(),
                        beyond_counters(e)
                    ),
                ));
            }
        }

        Ok(Workload {
            name,
            description,
            kind: WorkloadKind::Gemm(GemmSweep { shapes, dtypes }),
        })
    }

    // -----------------------------------------------------------------------------------------
    // What the plan can count.

    /// Refuses a step whose plan cannot be counted (more than [`MAX_STEP_FLOPS`] FLOPs, or a
    /// figure beyond the plan's `u64` counters), pointing at `span`, the value of `path`.
    fn check_step(
        &self,
        step: Result<StepPlan, TooLarge>,
        span: &Range<usize>,
        path: &str,
        what: &str,
        remedy: &str,
    ) -> Result<(), InvalidFile> {
        let flops = match &step {
            Ok(p) => Some(u128::from(p.total_flops())),
            Err(e) => e.flops,
        };
        let countable = flops.is_some_and(|f| f <= u128::from(MAX_STEP_FLOPS));
        let message = match step {
            Ok(_) if countable => return Ok(()),
            Err(e) if countable => format!("{what} {}; expected {remedy}", beyond_counters(e)),
            _ => format!(
                "{what} executes {} FLOPs, more than costbench's 64-bit counters hold ({:.1e} = \
                 2^62); expected {remedy}",
                about(flops),
                MAX_STEP_FLOPS as f64
            ),
        };
        Err(self.error(Some(span), Some(path), message))
    }

    /// The workload, once the memory of its measured slice ([`plan::slice_memory_bytes`]) is
    /// known to be countable in 64 bits; else an error pointing at its `[measure]` table.
    fn countable<S>(
        &self,
        name: String,
        description: String,
        kind: WorkloadKind,
        measure: &Spanned<S>,
    ) -> Result<Workload, InvalidFile> {
        let w = Workload {
            name,
            description,
            kind,
        };
        let bytes = plan::checked_slice_memory_bytes(&w);
        if bytes.to_u64().is_some() {
            return Ok(w);
        }
        Err(self.error(
            Some(&measure.span()),
            Some("measure"),
            format!(
                "the measured slice needs {} GiB of memory, more than costbench's 64-bit \
                 counters hold; {}",
                about_gib(bytes),
                fit::remedy(&w.kind)
            ),
        ))
    }
}

/// `about 4.4e19`, or `over 3.4e38` for a figure beyond `u128`.
fn about(n: Option<u128>) -> String {
    match n {
        Some(n) => format!("about {:.1e}", n as f64),
        None => format!("over {:.1e}", u128::MAX as f64),
    }
}

/// What a step too large for the plan's `u64` figures would do: `would execute about … FLOPs` or
/// `would move about … bytes`, beyond the counters.
fn beyond_counters(e: TooLarge) -> String {
    let (verb, n, unit) = match e.flops.and_then(|f| u64::try_from(f).ok()) {
        None => ("execute", e.flops, "FLOPs"),
        Some(_) => ("move", e.bytes, "bytes"),
    };
    format!(
        "would {verb} {} {unit}, more than costbench's 64-bit counters hold ({:.1e} = 2^64)",
        about(n),
        u64::MAX as f64
    )
}
