#!/usr/bin/env bash
# Measures what `costbench ab` catches on this machine (docs/ci.md, "Same-runner A/B"):
#   - the A/A false-alarm rate: N comparisons of a build against itself, nothing changed;
#   - the detection rate of planted slowdowns of 3%, 5% and 10% (COSTBENCH_TEST_PLANTED_SLOWDOWN,
#     the test-only knob that lengthens every timed step by that fraction, spinning).
# Each comparison is one `costbench ab` invocation with the settings below; the time each took is
# recorded, so the budget behind each rate is stated with it.
#
# Usage: tools/ab-power/run.sh [TRIALS] [ROUNDS] [WORKLOAD] [MAX_TIME_S] > results/ab-power.md
# Defaults: 20 trials, 6 rounds, the bundled default workload, runs bounded to 2 s of sampling.
# PLANTED="0 3 5 10" (the default) chooses the rows; TRIALS_TSV=FILE appends one line per
# comparison (planted, rounds, workload, verdict, exit code, change, lower, upper, p, seconds).
# Not part of cargo test or .ci/run: it takes about TRIALS × 4 × ROUNDS × 2 runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${1:-20}
rounds=${2:-6}
workload=${3:-gpt2-124m}
max_time=${4:-2}
cargo build --release --quiet
bin=$PWD/target/release/costbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# costbench ab: false alarms and detection power"
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores;"
echo "\`costbench ab\` with --rounds $rounds, each run \`run $workload --quick --max-time $max_time\`, gate --fail-on-regression 2 (noise band 2%),"
echo "$trials comparisons per row. Command: \`tools/ab-power/run.sh $trials $rounds $workload $max_time\`."
echo
echo "| planted slowdown | comparisons | said regressed | gate fired | median measured change | seconds per comparison (median) |"
echo "|---|---|---|---|---|---|"
for planted in ${PLANTED:-0 3 5 10}; do
  head="$work/head-$planted"
  if [ "$planted" = 0 ]; then
    head=$bin
  else
    printf '#!/bin/sh\nCOSTBENCH_TEST_PLANTED_SLOWDOWN=%s exec %s "$@"\n' "$planted" "$bin" > "$head"
    chmod +x "$head"
  fi
  regressed=0; fired=0; changes=(); secs=()
  for t in $(seq 1 "$trials"); do
    start=$(date +%s.%N)
    set +e
    "$bin" ab "$bin" "$head" "$workload" --rounds "$rounds" --quiet --format json \
      --fail-on-regression 2 --results-dir "$work/r" --seed "$t" \
      --run-arg=--max-time --run-arg="$max_time" > "$work/ab.json"
    code=$?
    set -e
    end=$(date +%s.%N)
    [ "$code" = 3 ] && fired=$((fired + 1))
    if [ "$code" != 0 ] && [ "$code" != 3 ]; then echo "ab failed with $code" >&2; exit 1; fi
    read -r verdict change lower upper p < <(python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
m=[m for m in d["metrics"] if m["gated"]][0]
c=m["change"]
print(m["verdict"], c["point"], c["lower"], c["upper"], m["p_value"])' "$work/ab.json")
    if [ -n "${TRIALS_TSV:-}" ]; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$planted" "$rounds" "$workload" \
        "$verdict" "$code" "$change" "$lower" "$upper" "$p" "$(echo "$end - $start" | bc)" >> "$TRIALS_TSV"
    fi
    [ "$verdict" = regressed ] && regressed=$((regressed + 1))
    changes+=("$change"); secs+=("$(echo "$end - $start" | bc)")
    rm -rf "$work/r"
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  printf '| %s%% | %s | %s | %s | %+.2f%% | %.0f |\n' "$planted" "$trials" "$regressed" "$fired" \
    "$(echo "$(median "${changes[@]}") * 100" | bc -l)" "$(median "${secs[@]}")"
done
