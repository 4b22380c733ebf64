#!/usr/bin/env python3
"""Peer benchmark driver: costbench against PyTorch eager on the same training step.

Started by tools/peers/run.sh (which builds costbench and prepares PyTorch's virtual
environment); standard library only. For every configuration and thread count it runs, in
rounds, costbench (`costbench run FILE --threads N --no-probe -o out.json`, a fixed number of
samples read back from the report) and torch_step.py with fused and with default AdamW, rotating
their order from round to round, each behind an idle gate; then prints one Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = ["costbench", "torch-fused", "torch-default"]
# Configurations: a name, the workload costbench runs (a file or a bundled name) and the TOML
# file the slice's shape is read from (the same workload, so both programs get one shape).
CONFIGS = {
    "b4s64": ("gpt2-124m, 12 layers, batch 4 × seq 64", str(HERE / "gpt2-124m-b4s64.toml"),
              HERE / "gpt2-124m-b4s64.toml"),
    "default": ("gpt2-124m bundled slice: 2 layers, batch 4 × seq 256", "gpt2-124m",
                None),
}
# costbench always times its first two steps as warm-up (src/measure/execute.rs) and, with
# --warmup 0, no more; PyTorch gets the same two.
WARMUP_STEPS = 2
EXIT_BUSY = 3
EXIT_MISMATCH = 4


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="tools/peers/run.sh",
        description="costbench vs PyTorch eager (fused and default AdamW): median step times, "
                    "spreads and ratios from one invocation.")
    p.add_argument("--costbench", required=True, help=argparse.SUPPRESS)
    p.add_argument("--repo", required=True, help=argparse.SUPPRESS)
    p.add_argument("--python", default=sys.executable, help=argparse.SUPPRESS)
    p.add_argument("--command", default=None, help=argparse.SUPPRESS)
    p.add_argument("--validate-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true",
                   help="check the script: 3 timed steps, 1 round (unless given)")
    p.add_argument("--steps", type=int, help="timed steps per program per round (default 10)")
    p.add_argument("--rounds", type=int, help="rounds per configuration and thread count "
                                              "(default 3)")
    p.add_argument("--threads", default="2,1", help="comma-separated thread counts (default 2,1)")
    p.add_argument("--configs", default="b4s64,default",
                   help="comma-separated, from: " + ", ".join(CONFIGS) + " (default both)")
    p.add_argument("--attention", choices=["sdpa", "manual"], default="sdpa",
                   help="PyTorch attention: scaled_dot_product_attention (default) or manual ops")
    p.add_argument("--idle-threshold", type=float, default=10.0, metavar="PERCENT",
                   help="idle means CPU busy time (all processes, all cores, /proc/stat) over "
                        "2 s below PERCENT (default 10)")
    p.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="wait at most this long for an idle machine before each measurement, "
                        "then refuse (default 300)")
    p.add_argument("--no-idle-gate", action="store_true",
                   help="do not wait or refuse: check the load once before each measurement and "
                        "record it")
    p.add_argument("--json", metavar="FILE", help="also write every sample and setting as JSON")
    p.add_argument("--keep", metavar="DIR", help="keep costbench's reports, PyTorch's outputs and "
                                                 "both logs in DIR (default: a temporary "
                                                 "directory, removed after a successful run)")
    a = p.parse_args(argv)
    a.steps = a.steps or (3 if a.quick else 10)
    a.rounds = a.rounds or (1 if a.quick else 3)
    if a.steps < 2:
        p.error("--steps must be at least 2 (costbench needs two samples)")
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    try:
        a.thread_list = [int(t) for t in a.threads.split(",")]
    except ValueError:
        p.error(f"--threads: expected comma-separated integers, found {a.threads!r}")
    if any(t < 1 for t in a.thread_list):
        p.error("--threads: each count must be at least 1")
    a.config_list = a.configs.split(",")
    for c in a.config_list:
        if c not in CONFIGS:
            p.error(f"--configs: unknown {c!r}; expected some of {', '.join(CONFIGS)}")
    return a


def log(msg: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- the machine -------------------------------------------------------------------------

def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat's first line, nothing excluded."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal (guest time is inside user and nice).
    idle = fields[3] + fields[4]
    total = sum(fields)
    return total - idle, total


def busy_percent(seconds: float = 2.0) -> float:
    b0, t0 = cpu_times()
    time.sleep(seconds)
    b1, t1 = cpu_times()
    return 100.0 * (b1 - b0) / max(1, t1 - t0)


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as fh:
        return " ".join(fh.read().split()[:3])


def cpu_model() -> tuple[str, str]:
    model, isa = "unknown", []
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model == "unknown":
                model = value.strip()
            elif key == "flags" and not isa:
                flags = set(value.split())
                isa = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                       if f in flags]
    return model, "+".join(isa) or "none of avx2/avx512"


class Gate:
    """The idle gate: before each measurement, CPU busy time over 2 s must fall below the
    threshold within the timeout, or the run stops (unless --no-idle-gate)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.threshold = args.idle_threshold
        self.timeout = args.idle_timeout
        self.enforce = not args.no_idle_gate
        self.checks: list[dict] = []

    def wait(self, what: str) -> dict:
        start = time.monotonic()
        while True:
            busy = busy_percent()
            waited = time.monotonic() - start
            idle = busy < self.threshold
            if idle or not self.enforce or waited >= self.timeout:
                break
        check = {"what": what, "busy_percent": round(busy, 1), "waited_s": round(waited, 1),
                 "idle": idle, "loadavg": loadavg()}
        self.checks.append(check)
        if not idle:
            if self.enforce:
                log(f"{what}: the machine stayed busy ({busy:.0f}% CPU over 2 s, load "
                    f"{check['loadavg']}) for {waited:.0f} s, above --idle-threshold "
                    f"{self.threshold:g}%; refusing (rerun later, or with --no-idle-gate "
                    "to measure anyway and record the load)")
                sys.exit(EXIT_BUSY)
            log(f"{what}: busy {busy:.0f}% (--no-idle-gate: measuring anyway)")
        return check


# ---- the two programs --------------------------------------------------------------------

def slice_shape(toml_path: Path) -> dict:
    """The measured slice of a transformer workload: [measure] over [target] (workloads/README.md)."""
    with open(toml_path, "rb") as fh:
        w = tomllib.load(fh)
    t, m = w["target"], w["measure"]
    if w["kind"] != "transformer" or t["norm"] != "layernorm" or t["activation"] != "gelu" \
            or t.get("positions", "learned") != "learned" or not t["tied_embeddings"] \
            or t.get("kv_heads", t["heads"]) != t["heads"] or "experts" in t:
        raise SystemExit(f"{toml_path}: torch_step.py implements GPT-2-style workloads only")
    get = lambda k: m.get(k, t[k])  # noqa: E731
    return {"layers": get("layers"), "d_model": get("d_model"), "heads": get("heads"),
            "d_ff": get("d_ff"), "vocab": get("vocab"), "seq": get("seq_len"),
            "batch": m["batch"]}


def run_logged(cmd: list[str], log_path: Path, env: dict | None = None) -> None:
    with open(log_path, "w", encoding="utf-8") as fh:
        fh.write("$ " + shlex.join(cmd) + "\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise SystemExit(f"failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                         + "\n".join(tail))


def run_costbench(args, workload: str, threads: int, seed: int, out: Path) -> dict:
    cmd = [args.costbench, "run", workload, "--threads", str(threads), "--no-probe",
           "-o", str(out), "--warmup", "0", "--min-samples", str(args.steps),
           "--precision", "99", "--seed", str(seed), "--quiet"]
    run_logged(cmd, out.with_suffix(".log"))
    r = json.loads(out.read_text(encoding="utf-8"))
    m = r["measurement"]
    return {"program": "costbench", "command": shlex.join(cmd),
            "samples_s": m["samples_s"], "warmup_s": m["warmup_s"],
            "warmup_count": m.get("warmup_count", len(m["warmup_s"])), "losses": m["losses"],
            "params": m["flops"]["slice_params"], "flops": m["flops"]["executed_per_step"],
            "analytic_flops": m["flops"]["analytic_per_step"], "threads": r["machine"]["threads"],
            "costbench_commit": r["machine"].get("costbench_commit"),
            "costbench_dirty": r["machine"].get("costbench_dirty"),
            "features": r["machine"].get("features"), "report": str(out),
            "warnings": r.get("warnings", [])}


def run_torch(args, shape: dict, threads: int, optimizer: str, seed: int, out: Path) -> dict:
    cmd = [args.python, str(HERE / "torch_step.py"), "--threads", str(threads),
           "--optimizer", optimizer, "--attention", args.attention, "--steps", str(args.steps),
           "--warmup", str(WARMUP_STEPS), "--seed", str(seed), "--output", str(out),
           "--layers", str(shape["layers"]), "--d-model", str(shape["d_model"]),
           "--heads", str(shape["heads"]), "--d-ff", str(shape["d_ff"]),
           "--vocab", str(shape["vocab"]), "--seq", str(shape["seq"]),
           "--batch", str(shape["batch"])]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    run_logged(cmd, out.with_suffix(".log"), env)
    r = json.loads(out.read_text(encoding="utf-8"))
    r["command"] = shlex.join(cmd)
    r["warmup_count"] = len(r["warmup_s"])
    return r


# ---- statistics and output ---------------------------------------------------------------

def summarize(runs: list[dict]) -> dict:
    samples = [s for r in runs for s in r["samples_s"]]
    lo, hi = min(samples), max(samples)
    return {"n": len(samples), "median_ms": 1e3 * statistics.median(samples),
            "min_ms": 1e3 * lo, "max_ms": 1e3 * hi, "spread": hi / lo,
            "worst_run_spread": max(max(r["samples_s"]) / min(r["samples_s"]) for r in runs),
            "run_medians_ms": [1e3 * statistics.median(r["samples_s"]) for r in runs]}


def markdown(result: dict) -> str:
    h = result["header"]
    gate = result["idle_gate"]
    busy = [c["busy_percent"] for c in gate["checks"]]
    above = sum(not c["idle"] for c in gate["checks"])
    lines = [
        "## costbench vs PyTorch eager: one fp32 training step "
        "(forward, cross-entropy, backward, AdamW)",
        "",
        f"- date: {h['date']}",
        f"- CPU: {h['cpu_model']}, {h['logical_cores']} logical cores, ISA {h['isa']}",
        f"- PyTorch {h['torch_version']} (CPU capability {h['torch_cpu_capability']}), eager, "
        f"attention `{h['attention']}`; fused = `AdamW(fused=True)`, default = `AdamW()` "
        f"(foreach={h['default_foreach']})",
        f"- costbench commit {h['costbench_commit']}"
        f"{' (dirty)' if h['costbench_dirty'] else ''}, release build, features "
        f"{h['costbench_features']}",
        f"- each program: {h['rounds']} round(s) × {h['steps']} timed steps after "
        f"{WARMUP_STEPS} warm-up steps, one process per round; order rotated every round",
        f"- idle gate: CPU busy over 2 s < {gate['threshold_percent']:g}% "
        f"({'enforced' if gate['enforced'] else 'not enforced: --no-idle-gate'}); "
        f"seen before the {len(busy)} measurements: min {min(busy):.0f}%, "
        f"median {statistics.median(busy):.0f}%, max {max(busy):.0f}%; "
        f"{above} above the threshold",
        f"- load average (1, 5, 15 min): {h['loadavg_start']} at the start, "
        f"{h['loadavg_end']} at the end",
        f"- command: `{h['command']}`",
        "",
    ]
    for c in result["configs"]:
        lines.append(f"- {c['name']} ({c['description']}): parameters costbench "
                     f"{c['params_costbench']:,}, PyTorch {c['params_torch']:,} (equal); "
                     f"FLOPs per step counted by costbench {c['flops_costbench']:,} "
                     f"({c['flops_costbench'] / 1e9:.1f} GFLOP)")
    lines += [
        "",
        "| configuration | threads | program | median ms | min ms | max ms | spread max/min "
        "| worst run's max/min | steps | median ÷ costbench's |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for c in result["configs"]:
        for t in c["threads"]:
            s = t["summary"]
            base = s["costbench"]["median_ms"]
            for prog in PROGRAMS:
                x = s[prog]
                lines.append(
                    f"| {c['name']} | {t['threads']} | {prog} | {x['median_ms']:,.1f} | "
                    f"{x['min_ms']:,.1f} | {x['max_ms']:,.1f} | {x['spread']:.3f} | "
                    f"{x['worst_run_spread']:.3f} | {x['n']} | {x['median_ms'] / base:.2f} |")
            fused = s["torch-fused"]
            ok = fused["median_ms"] / base >= 1.6 and \
                s["costbench"]["worst_run_spread"] <= fused["worst_run_spread"]
            verdicts.append(
                f"{c['name']} at {t['threads']} thread(s): fused ÷ costbench "
                f"{fused['median_ms'] / base:.2f}, worst run spread costbench "
                f"{s['costbench']['worst_run_spread']:.3f} vs fused "
                f"{fused['worst_run_spread']:.3f}: {'met' if ok else 'not met'}")
    lines += ["", "Issue 17's target (PyTorch fused ÷ costbench ≥ 1.6 and costbench's spread "
                  "within a run no wider):", ""]
    lines += [f"- {v}" for v in verdicts]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.validate_only:
        return 0
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="costbench-peers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    gate = Gate(args)
    start_load = loadavg()
    model, isa = cpu_model()
    header = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "cpu_model": model, "isa": isa, "logical_cores": os.cpu_count(),
              "rounds": args.rounds, "steps": args.steps, "attention": args.attention,
              "command": args.command or shlex.join(sys.argv), "loadavg_start": start_load}
    configs = []
    for name in args.config_list:
        description, workload, toml_path = CONFIGS[name]
        toml_path = toml_path or Path(args.repo) / "workloads" / f"{workload}.toml"
        shape = slice_shape(toml_path)
        conf = {"name": name, "description": description, "workload": workload,
                "shape": shape, "threads": []}
        for threads in args.thread_list:
            runs: dict[str, list[dict]] = {p: [] for p in PROGRAMS}
            for rnd in range(args.rounds):
                order = PROGRAMS[rnd % 3:] + PROGRAMS[:rnd % 3]
                for prog in order:
                    what = f"{name} t{threads} round {rnd + 1} {prog}"
                    check = gate.wait(what)
                    log(f"{what} (busy {check['busy_percent']:.0f}%, load {check['loadavg']})")
                    out = workdir / f"{name}-t{threads}-r{rnd + 1}-{prog}.json"
                    if prog == "costbench":
                        r = run_costbench(args, workload, threads, rnd, out)
                    else:
                        r = run_torch(args, shape, threads, prog.split("-")[1], rnd, out)
                    r["round"], r["position"], r["idle_check"] = rnd + 1, order.index(prog), check
                    runs[prog].append(r)
                    log(f"{what}: median {1e3 * statistics.median(r['samples_s']):.1f} ms over "
                        f"{len(r['samples_s'])} steps")
                    if runs["costbench"] and runs[prog] and prog != "costbench":
                        pc, pt = runs["costbench"][0]["params"], r["params"]
                        if pc != pt:
                            log(f"{name}: parameter counts differ: costbench {pc:,}, PyTorch "
                                f"{pt:,}: the two programs do not run the same model")
                            return EXIT_MISMATCH
            conf["threads"].append({"threads": threads, "runs": runs,
                                    "summary": {p: summarize(runs[p]) for p in PROGRAMS}})
            cb = runs["costbench"][0]
            for p in ("torch-fused", "torch-default"):
                if runs[p][0]["params"] != cb["params"]:
                    log(f"{name}: parameter counts differ: costbench {cb['params']:,}, "
                        f"PyTorch {runs[p][0]['params']:,}")
                    return EXIT_MISMATCH
            conf.update(params_costbench=cb["params"], params_torch=runs["torch-fused"][0]["params"],
                        flops_costbench=cb["flops"])
            header.update(costbench_commit=cb["costbench_commit"],
                          costbench_dirty=cb["costbench_dirty"],
                          costbench_features=cb["features"],
                          torch_version=runs["torch-fused"][0]["torch_version"],
                          torch_cpu_capability=runs["torch-fused"][0]["cpu_capability"],
                          default_foreach=runs["torch-default"][0]["optimizer"]["foreach"])
        configs.append(conf)
    header["loadavg_end"] = loadavg()
    result = {"header": header, "configs": configs,
              "idle_gate": {"threshold_percent": args.idle_threshold,
                            "timeout_s": args.idle_timeout, "enforced": gate.enforce,
                            "checks": gate.checks},
              "workdir": str(workdir)}
    text = markdown(result)
    sys.stdout.write(text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if not args.keep:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
