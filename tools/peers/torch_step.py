#!/usr/bin/env python3
"""PyTorch side of the peer benchmark: costbench's transformer training step in eager PyTorch.

The model is costbench's, read from its source (not a stock GPT-2 module):

- ``src/train/transformer.rs``: pre-norm blocks ``x + Wo·attn(LN1(x))`` then
  ``x + Wdown·gelu(Wup·LN2(x))``; one fused QKV product (h × 3h); causal multi-head attention
  with scale 1/√d (``src/kernels/attention.rs``); learned positions (an s × h table, s the
  slice's sequence length); a final LayerNorm; the output head is the transposed token
  embedding (tied); **no biases in the linear layers** (only LayerNorm has gain and bias);
  initialisation N(0, 0.02²), residual output projections 0.02/√(2·layers), positions 0.01.
- ``src/kernels/activation.rs``: GELU, tanh approximation (√(2/π), 0.044715).
- ``src/kernels/norm.rs``: LayerNorm with ε = 1e-5.
- ``src/kernels/loss.rs``: mean cross-entropy over the batch × seq tokens.
- ``src/kernels/adamw.rs``: AdamW lr 3e-4, β = (0.9, 0.95), ε = 1e-8, decoupled weight decay
  0.1 on matrices and embeddings, none on norm gains and biases.
- ``src/train/data.rs``: synthetic tokens, each sequence a walk through a fixed random
  permutation of the vocabulary from a random start (drawn before the timer starts).

fp32, train mode, no dropout, eager (no torch.compile). Each timed step is
zero_grad + forward + loss + backward + optimizer.step, timed with time.perf_counter after
``--warmup`` untimed-for-statistics steps. Writes one JSON object (to ``--output`` or stdout).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--d-model", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--d-ff", type=int, default=3072)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--optimizer", choices=["fused", "default"], required=True,
                   help="fused: torch.optim.AdamW(fused=True); default: torch.optim.AdamW()")
    p.add_argument("--attention", choices=["sdpa", "manual"], default="sdpa",
                   help="sdpa: F.scaled_dot_product_attention(is_causal=True) (default); "
                        "manual: QKᵀ/√d, causal mask, softmax, ·V as separate ops")
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="warm-up steps before the timed ones")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="write the JSON here instead of stdout")
    p.add_argument("--params-only", action="store_true",
                   help="build the model, print its parameter count, run no step")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    h, a, f, v, s, L = args.d_model, args.heads, args.d_ff, args.vocab, args.seq, args.layers
    if h % a:
        raise SystemExit("heads must divide d_model")
    d = h // a

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(h, eps=1e-5)
            self.qkv = nn.Linear(h, 3 * h, bias=False)
            self.proj = nn.Linear(h, h, bias=False)
            self.ln2 = nn.LayerNorm(h, eps=1e-5)
            self.up = nn.Linear(h, f, bias=False)
            self.down = nn.Linear(f, h, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            B, T, _ = x.shape
            q, k, val = self.qkv(self.ln1(x)).split(h, dim=2)
            q = q.view(B, T, a, d).transpose(1, 2)
            k = k.view(B, T, a, d).transpose(1, 2)
            val = val.view(B, T, a, d).transpose(1, 2)
            if args.attention == "sdpa":
                y = F.scaled_dot_product_attention(q, k, val, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
                mask = torch.ones(T, T, dtype=torch.bool).triu(1)
                att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
                y = att @ val
            y = y.transpose(1, 2).contiguous().view(B, T, h)
            x = x + self.proj(y)
            return x + self.down(F.gelu(self.up(self.ln2(x)), approximate="tanh"))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(v, h)
            self.wpe = nn.Embedding(s, h)
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(h, eps=1e-5)
            std, std_out = 0.02, 0.02 / math.sqrt(2 * L)
            with torch.no_grad():
                self.wte.weight.normal_(0.0, std)
                self.wpe.weight.normal_(0.0, 0.01)
                for blk in self.blocks:
                    blk.qkv.weight.normal_(0.0, std)
                    blk.proj.weight.normal_(0.0, std_out)
                    blk.up.weight.normal_(0.0, std)
                    blk.down.weight.normal_(0.0, std_out)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            T = tokens.shape[1]
            x = self.wte(tokens) + self.wpe.weight[:T]
            for blk in self.blocks:
                x = blk(x)
            # Tied output head: logits = LN_f(x) · Eᵀ.
            return F.linear(self.ln_f(x), self.wte.weight)

    model = Model().float().train()
    params = sum(p.numel() for p in model.parameters())
    if args.params_only:
        print(json.dumps({"params": params}))
        return 0

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    hyper = dict(lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    if args.optimizer == "fused":
        opt = torch.optim.AdamW(groups, fused=True, **hyper)
    else:
        opt = torch.optim.AdamW(groups, **hyper)

    # Synthetic successor task (src/train/data.rs): a fixed permutation of the vocabulary.
    gen = torch.Generator().manual_seed(args.seed ^ 0x5EED)
    successor = torch.randperm(v, generator=gen)

    def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
        seqs = torch.empty(args.batch, s + 1, dtype=torch.long)
        seqs[:, 0] = torch.randint(0, v, (args.batch,), generator=gen)
        for t in range(s):
            seqs[:, t + 1] = successor[seqs[:, t]]
        return seqs[:, :s].contiguous(), seqs[:, 1:].contiguous()

    warmup_s: list[float] = []
    samples_s: list[float] = []
    losses: list[float] = []
    for i in range(args.warmup + args.steps):
        tokens, targets = next_batch()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(tokens)
        loss = F.cross_entropy(logits.view(-1, v), targets.view(-1))
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        (warmup_s if i < args.warmup else samples_s).append(t1 - t0)
        if i >= args.warmup:
            losses.append(loss.item())

    out = {
        "program": f"torch-{args.optimizer}",
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "optimizer": {
            "class": type(opt).__name__,
            "fused": bool(opt.defaults.get("fused")),
            "foreach": opt.defaults.get("foreach"),
            **hyper,
            "weight_decay": [0.1, 0.0],
        },
        "attention": args.attention,
        "shape": {"layers": L, "d_model": h, "heads": a, "d_ff": f, "vocab": v, "seq": s,
                  "batch": args.batch},
        "params": params,
        "warmup_s": warmup_s,
        "samples_s": samples_s,
        "losses": losses,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    text = json.dumps(out)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
