#!/bin/bash
# Run every benchmark, one after the other (two at once would disturb each other), at each thread count.
# Text output: benchmarks/results/<bench>_t<threads>.txt; the JSON summary line of each run is appended to
# benchmarks/results/all.jsonl.
#
# Usage: [PY=.venv/bin/python] [THREADS="1 2"] [EXTRA="--quick"] bash benchmarks/run.sh [mlp] [tiny] [lenet] [lstm] [dqn]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PY=${PY:-"$here/../.venv/bin/python"}
[ -x "$PY" ] || PY=python3
THREADS=${THREADS:-"1 2"}
EXTRA=${EXTRA:-}
benches=${*:-"mlp tiny lenet lstm dqn"}
mkdir -p "$here/results"
for b in $benches; do
  for t in $THREADS; do
    out="$here/results/${b}_t$t.txt"
    echo "== $b threads=$t $EXTRA  $(date -u +%H:%M:%S)  (load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
    # shellcheck disable=SC2086  # EXTRA holds several options
    "$PY" "$here/bench_$b.py" --threads "$t" --json $EXTRA > "$out" 2>&1 || { echo "failed, see $out"; exit 1; }
    grep -E 'x  \(|clean rounds' "$out" | sed 's/^/   /'
    tail -n 1 "$out" >> "$here/results/all.jsonl"
  done
done
echo "== done $(date -u +%H:%M:%S)"
