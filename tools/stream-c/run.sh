#!/usr/bin/env bash
# Reference figures for `costbench probe` on this machine:
#   - STREAM triad in C with OpenMP (stream_triad.c), 1 and 2 threads, same array size as the
#     probe (4x the last-level cache per array);
#   - the core clock and FMA throughput behind the theoretical peak (peak_clock.c, x86-64 with
#     AVX-512 only).
# usage: tools/stream-c/run.sh [passes (default 20)]
# Needs gcc with OpenMP. Run on a quiet machine: check `uptime` and `ps` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${TMPDIR:-/tmp}/costbench-stream-c"
mkdir -p "$out"
passes="${1:-20}"

gcc -O3 -march=native -fopenmp -o "$out/stream_triad" "$here/stream_triad.c"

# Same sizing rule as the probe: 4x the total last-level cache per array, at least 16 MiB.
llc_kib=0
for d in /sys/devices/system/cpu/cpu0/cache/index*; do
    [ -r "$d/size" ] || continue
    [ "$(cat "$d/type")" = Instruction ] && continue
    size="$(cat "$d/size")"
    case "$size" in
        *K) kib="${size%K}" ;;
        *M) kib=$(( ${size%M} * 1024 )) ;;
        *) kib=$(( size / 1024 )) ;;
    esac
    shared="$(cat "$d/shared_cpu_list" 2>/dev/null || echo 0)"
    # number of CPUs in a list like "0-1,4"
    ncpu=0
    IFS=, read -ra parts <<< "$shared"
    for p in "${parts[@]}"; do
        if [[ "$p" == *-* ]]; then ncpu=$(( ncpu + ${p#*-} - ${p%-*} + 1 )); else ncpu=$(( ncpu + 1 )); fi
    done
    instances=$(( ($(nproc) + ncpu - 1) / ncpu ))
    total=$(( kib * instances ))
    [ "$total" -gt "$llc_kib" ] && llc_kib="$total"
done
[ "$llc_kib" -gt 0 ] || llc_kib=$(( 32 * 1024 ))
mib=$(( 4 * llc_kib / 1024 ))
[ "$mib" -ge 16 ] || mib=16

echo "== STREAM triad (C, OpenMP): $mib MiB per array, $passes passes, 24 bytes per element"
for t in 1 2; do
    OMP_NUM_THREADS=$t "$out/stream_triad" "$mib" "$passes"
done

if grep -qw avx512f /proc/cpuinfo; then
    gcc -O3 -march=native -fopenmp -o "$out/peak_clock" "$here/peak_clock.c"
    echo "== clock and AVX-512 FMA throughput"
    for t in 1 2; do
        OMP_NUM_THREADS=$t "$out/peak_clock"
    done
fi
