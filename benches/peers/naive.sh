#!/usr/bin/env bash
# gridtwin assign against the naive end-to-end loop (benches/naive_assign.rs: csv in and
# out, rstar envelopes, geo::Contains, rayon) on the same files: N uniform points in the
# peers' box (121.2-121.7E, 31.0-31.4N) x the 40,000 Voronoi grids of
# `gridtwin synth --grids 40000 --seed 1`. Runs the two alternately RUNS times each
# under /usr/bin/time and prints every run's wall time and peak RSS, then the medians;
# checks both assigned every point to the same grid.
#   benches/peers/naive.sh                    # N=10000000 RUNS=3
#   N=1000000 RUNS=5 benches/peers/naive.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-10000000}"; RUNS="${RUNS:-3}"; WORK="${WORK:-target/peers}"
mkdir -p "$WORK"
cargo build --release -q -p gridtwin-cli
NAIVE=$(cargo bench -p gridtwin-io --bench naive_assign --no-run 2>&1 \
  | grep -o '[^ (]*/naive_assign-[0-9a-f]*' | tail -1)
[ -x "$NAIVE" ] || { echo "naive_assign binary not found" >&2; exit 1; }
GT="${CARGO_TARGET_DIR:-target}/release/gridtwin"
[ -f "$WORK/city/areas.fgb" ] || "$GT" synth --grids 40000 --components 0 --incidents 0 \
  --grids-only --seed 1 --out "$WORK/city"
POINTS="$WORK/points_$N.csv"
# (the peers script writes the same columns with numpy; any uniform sample will do)
[ -f "$POINTS" ] || python3 - "$N" "$POINTS" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
r = random.Random(1 + n)
with open(path, "w") as f:
    f.write("id,lon,lat\n")
    for i in range(n):
        f.write(f"{i},{121.2 + r.random() * 0.5!r},{31.0 + r.random() * 0.4!r}\n")
PY
measure() { # name, command...: appends "name secs rss_kb"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > /dev/null 2>&1
  echo "$name $(cat "$WORK/time.txt")" | tee -a "$WORK/naive_runs.txt"
}
: > "$WORK/naive_runs.txt"
for _ in $(seq "$RUNS"); do
  measure gridtwin "$GT" assign --grids "$WORK/city/areas.fgb" --points "$POINTS" --out "$WORK/out_gridtwin_$N.csv"
  measure naive "$NAIVE" "$WORK/city/areas.fgb" "$POINTS" "$WORK/out_naive_$N.csv"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for tool in gridtwin naive; do
  secs=$(awk -v t="$tool" '$1 == t { print $2 }' "$WORK/naive_runs.txt" | median)
  kb=$(awk -v t="$tool" '$1 == t { print $3 }' "$WORK/naive_runs.txt" | median)
  echo "$tool: median $secs s, median peak RSS $((kb / 1024)) MB ($RUNS runs)"
done
# same grid for every point (column 4 of both outputs: grid_code)
if cmp -s <(cut -d, -f1,4 "$WORK/out_gridtwin_$N.csv") <(cut -d, -f1,4 "$WORK/out_naive_$N.csv"); then
  echo "outputs agree: every point in the same grid"
else
  echo "outputs DIFFER (id, grid_code)" >&2; exit 1
fi
