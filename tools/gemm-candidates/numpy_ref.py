#!/usr/bin/env python3
"""Reference figures for f32 C = A·B from numpy (OpenBLAS), same method as gemm-candidates.

Usage:
    python3 tools/gemm-candidates/numpy_ref.py [--sizes 256,1024,2048] [--threads 1,2] [--json]
        [--coretype SkylakeX]

`--coretype` sets OPENBLAS_CORETYPE in the children, forcing the OpenBLAS kernel instead of
the one OpenBLAS detects (the kernel used is printed either way).

Needs numpy (`pip install numpy`; the PyPI wheel bundles OpenBLAS).

OpenBLAS fixes its thread count when numpy is imported, from OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS. So this script runs one child process of itself per thread count with those
variables set before numpy is imported, and merges the children's JSON.

Method (as in the Rust tool): A, B, C allocated once (float32, C order); warm up >= 0.5 s;
check 8 entries against a naive float64 dot product (relative tolerance 1e-3); then
`--rounds` rounds x `--samples-per-round` samples, each sample repeating the product until it
has lasted >= 0.3 s; rate = 2·n³·reps / elapsed; report the median over all samples and the
min-max range. The product is `np.matmul(a, b, out=c)`, i.e. `a @ b` written into a
preallocated C (same sgemm call, without allocating a new result each time).
"""

import argparse
import ctypes
import glob
import json
import os
import statistics
import subprocess
import sys
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_list(s):
    return [int(x) for x in s.split(",") if x.strip()]


def openblas_info(np):
    """Best-effort: OpenBLAS version/config and the kernel ('core') it picked at run time."""
    info = {}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = cfg.get("name")
        info["blas_version"] = cfg.get("version")
    except Exception:
        pass
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                         "openblas_get_corename"):
                f = getattr(lib, name, None)
                if f is not None:
                    f.restype = ctypes.c_char_p
                    info["openblas_core"] = f().decode()
                    break
            for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                         "openblas_get_num_threads"):
                f = getattr(lib, name, None)
                if f is not None:
                    f.restype = ctypes.c_int
                    info["openblas_threads"] = f()
                    break
        except OSError:
            pass
    return info


def worker(args, threads):
    import numpy as np  # imported only here, after the parent set the thread variables

    rng = np.random.default_rng(12345)
    cells = []
    for n in args.sizes:
        # positive inputs: no cancellation, so each entry's relative error is well defined
        a = (0.25 + rng.random((n, n))).astype(np.float32)
        b = (0.25 + rng.random((n, n))).astype(np.float32)
        c = np.full((n, n), np.nan, dtype=np.float32)
        flop = 2.0 * n ** 3

        t0 = time.perf_counter()
        while True:
            np.matmul(a, b, out=c)
            if time.perf_counter() - t0 >= args.warmup:
                break

        picks = [(0, 0), (0, n - 1), (n - 1, 0), (n - 1, n - 1), (n // 2, n // 3),
                 (n // 3, n // 2), (n // 7, 5 * n // 7), (3 * n // 5, n // 11)]
        err = 0.0
        for i, j in picks:
            ref = float(np.dot(a[i, :].astype(np.float64), b[:, j].astype(np.float64)))
            got = float(c[i, j])
            rel = abs(got - ref) / abs(ref) if got == got else float("inf")
            err = max(err, rel)
        if err > args.tol:
            print(f"WARNING: numpy n={n} threads={threads}: max relative error {err:.3e}",
                  file=sys.stderr)

        samples = []
        reps = 0
        for _round in range(args.rounds):
            for _ in range(args.samples_per_round):
                reps = 0
                t0 = time.perf_counter()
                while True:
                    np.matmul(a, b, out=c)
                    reps += 1
                    el = time.perf_counter() - t0
                    if el >= args.min_sample:
                        break
                samples.append(flop * reps / el / 1e9)

        med = statistics.median(samples)
        print(f"  threads={threads} n={n:5} numpy/OpenBLAS   median {med:7.1f} GFLOP/s "
              f"(min {min(samples):.1f}, max {max(samples):.1f}, {len(samples)} samples x "
              f"{reps} reps, check rel err {err:.1e})", file=sys.stderr)
        cells.append({
            "library": "numpy (OpenBLAS)", "threads": threads, "n": n,
            "median_gflops": med, "min_gflops": min(samples), "max_gflops": max(samples),
            "samples": len(samples), "reps_per_sample": reps,
            "check_max_rel_err": err, "check_ok": err <= args.tol,
        })
    return {"cells": cells, "numpy": np.__version__, "blas": openblas_info(np)}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=parse_list, default=[256, 1024, 2048])
    p.add_argument("--threads", type=parse_list, default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--samples-per-round", type=int, default=3)
    p.add_argument("--min-sample", type=float, default=0.3)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--coretype", default=None,
                   help="force the OpenBLAS kernel via OPENBLAS_CORETYPE (e.g. SkylakeX)")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rounds * args.samples_per_round < 7:
        p.error("need at least 7 samples: rounds x samples-per-round must be >= 7")

    if args.worker is not None:
        if "numpy" in sys.modules:
            sys.exit("numpy was imported before the thread variables were set")
        print(json.dumps(worker(args, args.worker)))
        return

    cells, meta = [], {}
    for t in args.threads:
        env = dict(os.environ)
        for v in THREAD_VARS:
            env[v] = str(t)
        if args.coretype:
            env["OPENBLAS_CORETYPE"] = args.coretype
        print(f"threads = {t}: child process with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS={t}",
              file=sys.stderr)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(t),
               "--sizes", ",".join(map(str, args.sizes)),
               "--rounds", str(args.rounds), "--samples-per-round", str(args.samples_per_round),
               "--min-sample", str(args.min_sample), "--warmup", str(args.warmup),
               "--tol", str(args.tol)]
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True)
        res = json.loads(out.stdout)
        cells.extend(res["cells"])
        meta = {"numpy": res["numpy"], **res["blas"]}
        if res["blas"].get("openblas_threads") not in (None, t):
            print(f"WARNING: OpenBLAS reports {res['blas']['openblas_threads']} threads, "
                  f"expected {t}", file=sys.stderr)

    report = {"tool": "numpy_ref.py", "cpu": cpu_model(), **meta,
              "openblas_coretype_forced": args.coretype,
              "rounds": args.rounds, "samples_per_round": args.samples_per_round,
              "min_sample_s": args.min_sample, "warmup_s": args.warmup, "results": cells}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"CPU: {report['cpu']}; numpy {meta.get('numpy')}, "
              f"{meta.get('blas')} {meta.get('blas_version')}, "
              f"OpenBLAS kernel: {meta.get('openblas_core', 'unknown')}")
        print(f"f32 C = A·B, square n, median GFLOP/s over {args.rounds} rounds × "
              f"{args.samples_per_round} samples (each sample ≥ {args.min_sample} s, "
              f"warm-up ≥ {args.warmup} s)\n")
        head = "| library | threads |" + "".join(f" {n} |" for n in args.sizes)
        rule = "|---|---|" + "---|" * len(args.sizes)
        find = {(c["threads"], c["n"]): c for c in cells}
        print(head)
        print(rule)
        for t in args.threads:
            row = "".join(
                f" {find[(t, n)]['median_gflops']:.0f}"
                f"{'' if find[(t, n)]['check_ok'] else ' (WRONG)'} |" for n in args.sizes)
            print(f"| numpy (OpenBLAS) | {t} |{row}")
        print("\nMin–max range over all samples, GFLOP/s:\n")
        print(head)
        print(rule)
        for t in args.threads:
            row = "".join(f" {find[(t, n)]['min_gflops']:.0f}–{find[(t, n)]['max_gflops']:.0f} |"
                          for n in args.sizes)
            print(f"| numpy (OpenBLAS) | {t} |{row}")
        bad = [c for c in cells if not c["check_ok"]]
        if bad:
            print("\nCorrectness FAILED for: " +
                  ", ".join(f"threads={c['threads']} n={c['n']}" for c in bad))
        else:
            worst = max(c["check_max_rel_err"] for c in cells)
            print("\nCorrectness: matched a naive float64 dot product on 8 entries "
                  f"(max rel err {worst:.1e}).")
    if any(not c["check_ok"] for c in cells):
        sys.exit(1)


if __name__ == "__main__":
    main()
