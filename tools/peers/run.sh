#!/usr/bin/env bash
# Peer benchmark: costbench against PyTorch eager (fused and default AdamW) on the same GPT-2
# training step, from one invocation (tools/peers/README.md).
#
# usage: tools/peers/run.sh [--quick] [--steps N] [--rounds R] [--threads 2,1]
#                           [--configs b4s64,default] [--no-idle-gate] [--json FILE] ...
#        tools/peers/run.sh --help        every option
#        tools/peers/run.sh --setup-only  build costbench and prepare PyTorch, measure nothing
#
# 1. Prepares, once, a Python virtual environment with the pinned CPU PyTorch of
#    tools/peers/requirements.txt under ${XDG_CACHE_HOME:-$HOME/.cache}/costbench-peers/
#    (keyed by the requirements file's hash, so a new pin makes a new environment).
# 2. Builds costbench in release mode from the repository this script sits in (cargo's target
#    directory, CARGO_TARGET_DIR if set).
# 3. Runs tools/peers/peers.py, which measures and prints the Markdown table.
#
# It installs nothing system-wide: when `python3 -m venv` cannot work (Debian's python3 without
# the python3-venv package) it says what to install and stops. Not part of `cargo test` or
# `.ci/run`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
requirements="$here/requirements.txt"

die() {
    echo "tools/peers/run.sh: $*" >&2
    exit 2
}
say() { echo "[peers] $*" >&2; }

setup_only=0
args=()
for a in "$@"; do
    case "$a" in
        --setup-only) setup_only=1 ;;
        -h | --help)
            sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
            echo
            exec "$python" "$here/peers.py" --costbench x --repo x --help
            ;;
        *) args+=("$a") ;;
    esac
done

# ---- Python and its virtual environment -------------------------------------------------
command -v "$python" >/dev/null 2>&1 || die "needs Python 3.11 or later ('$python' not found; set PYTHON=...)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "needs Python 3.11 or later (for tomllib); '$python' is $("$python" --version 2>&1)"
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    die "'$python -m venv' cannot create an environment with pip: on Debian or Ubuntu install the
python3-venv package (as root: apt-get install python3-venv), or set PYTHON to another Python 3.11+"
fi

# Options are checked before anything is built or installed.
"$python" "$here/peers.py" --costbench x --repo x --validate-only ${args[@]+"${args[@]}"}

key="$(sha256sum "$requirements" | cut -c1-12)"
pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/costbench-peers"
venv="$cache/venv-py$pyver-$key"
if [ ! -e "$venv/.complete" ]; then
    say "creating $venv (PyTorch from tools/peers/requirements.txt; once)"
    mkdir -p "$cache"
    rm -rf "$venv.partial"
    "$python" -m venv "$venv.partial"
    # PyPI's Linux torch wheel needs its CUDA libraries even to import on a CPU (about 5.3 GB
    # in all); requirements.txt says why --no-deps does not work.
    "$venv.partial/bin/python" -m pip install --quiet --no-cache-dir -r "$requirements"
    "$venv.partial/bin/python" -c 'import torch; torch.ones(2).sum()' ||
        die "PyTorch was installed in $venv.partial but does not import (see above)"
    rm -rf "$venv"
    mv "$venv.partial" "$venv"
    # A venv's scripts hold its path; the interpreter is used directly (bin/python), which
    # finds its site-packages relative to itself, so the rename is safe.
    touch "$venv/.complete"
fi
vpython="$venv/bin/python"

# ---- costbench ---------------------------------------------------------------------------
say "building costbench (cargo build --release --locked) in $repo"
(cd "$repo" && cargo build --release --locked --quiet --bin costbench)
target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps --locked |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
costbench="$target_dir/release/costbench"
[ -x "$costbench" ] || die "no costbench binary at $costbench"

if [ "$setup_only" = 1 ]; then
    say "ready: $vpython ($("$vpython" -c 'import torch; print("torch", torch.__version__)')), $costbench"
    exit 0
fi

exec "$vpython" "$here/peers.py" --costbench "$costbench" --repo "$repo" --python "$vpython" \
    --command "tools/peers/run.sh${args[*]:+ ${args[*]}}" ${args[@]+"${args[@]}"}
