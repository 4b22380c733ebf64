#!/usr/bin/env bash
# Same-run, interleaved A/B of the attention kernel between a base revision and the working tree:
# builds tools/kernel-ab/attention_calls.rs against both, then for ROUNDS rounds runs base and
# head one after the other (CALLS calls each of forward and backward). On a shared host whose
# speed drifts by 5-10% within minutes, one criterion run after another can report a change that
# is only drift; alternating the two builds round by round and comparing each round's pair
# cancels it. Prints per case the medians over rounds of each round's fastest call, and the
# median, smallest and largest of the per-round time ratios head/base (< 1: head faster).
#
# Usage: tools/kernel-ab/run.sh BASE_REV [ROUNDS] [CALLS] [SEQ] [HEADS] [KV_HEADS] [HEAD_DIM]
# Threads: RAYON_NUM_THREADS. Defaults: 10 rounds, 20 calls, the bench's shape (s = 1,024,
# 4 heads, head width 64). Not part of cargo test or .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
base_rev=${1:?usage: tools/kernel-ab/run.sh BASE_REV [ROUNDS] [CALLS] [SEQ] [HEADS] [KV_HEADS] [HEAD_DIM]}
rounds=${2:-10}
shift $(( $# < 2 ? $# : 2 ))
args=("${@:-}")
[ -n "${args[0]:-}" ] || args=(20 1024 4 4 64)
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base-tree" "$base_rev" >/dev/null

# A throwaway crate per side (its own copy of the harness, so a base revision from before the
# tool existed works too): the harness against that side's costbench (internals feature).
build() { # build SIDE COSTBENCH_DIR
  local dir=$work/$1
  mkdir -p "$dir/src" "$dir/.cargo"
  cp tools/kernel-ab/attention_calls.rs "$dir/src/main.rs"
  cp .cargo/config.toml "$dir/.cargo/config.toml"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "attention_calls"
version = "0.0.0"
edition = "2021"
[workspace]
[dependencies]
costbench = { path = "$2", features = ["internals"] }
TOML
  cp Cargo.lock "$dir/Cargo.lock"
  # One target directory for both sides: the dependencies are built once.
  (cd "$dir" && CARGO_TARGET_DIR=$work/target cargo build --release --quiet)
  cp "$work/target/release/attention_calls" "$work/$1-bin"
  echo "$work/$1-bin"
}
base_bin=$(build base "$work/base-tree")
head_bin=$(build head "$PWD")

echo "attention A/B: base $(git rev-parse --short "$base_rev"), head $(git rev-parse --short HEAD)$(git diff --quiet || echo ' + uncommitted changes');" \
  "RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-all}; calls/seq/heads/kv_heads/head_dim: ${args[*]}; $rounds rounds"
for r in $(seq "$rounds"); do
  "$base_bin" "${args[@]}" > "$work/b"
  "$head_bin" "${args[@]}" > "$work/h"
  paste -d' ' "$work/b" "$work/h"
done | python3 -c '
import sys, statistics as st
rows = {}
for line in sys.stdin:
    f = line.split()
    # name bmin bmed bgf name hmin hmed hgf
    rows.setdefault(f[0], []).append((float(f[1]), float(f[5]), float(f[3]), float(f[7])))
print("| call | base ms (median of fastest) | head ms | base GFLOP/s | head GFLOP/s | head/base median [min, max] |")
print("|---|---:|---:|---:|---:|---|")
for name, v in rows.items():
    ratio = [h / b for b, h, _, _ in v]
    print("| %s | %.3f | %.3f | %.1f | %.1f | %.3f [%.3f, %.3f] |" % (name,
        st.median(b for b, _, _, _ in v), st.median(h for _, h, _, _ in v),
        st.median(g for _, _, g, _ in v), st.median(g for _, _, _, g in v),
        st.median(ratio), min(ratio), max(ratio)))
'
