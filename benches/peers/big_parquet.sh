#!/usr/bin/env bash
# Peak memory of `gridtwin assign` on a GeoParquet point layer far larger than memory
# would allow whole (issue 19: 100 M points in <= 0.5 GB). Writes N uniform points
# (id, WKB point; GeoParquet 1.1 metadata; row groups of 1 M) in the peers' box
# (121.2-121.7E, 31.0-31.4N), then assigns them to the 40,000 Voronoi grids of
# `gridtwin synth --grids 40000 --seed 1`, CSV out (or GeoParquet with OUT=parquet;
# both the columnar path), under /usr/bin/time, and checks that every input row is
# accounted for.
#   benches/peers/big_parquet.sh                 # N=100000000 (2.1 GB in, 9 GB out)
#   N=1000000 benches/peers/big_parquet.sh
#   N=10000000 OUT=parquet benches/peers/big_parquet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-100000000}"; WORK="${WORK:-target/peers}"; OUT="${OUT:-csv}"
PY="${PYTHON:-target/peers-venv/bin/python}"
mkdir -p "$WORK"
cargo build --release -q -p gridtwin-cli
GT="${CARGO_TARGET_DIR:-target}/release/gridtwin"
[ -f "$WORK/city/areas.fgb" ] || "$GT" synth --grids 40000 --components 0 --incidents 0 \
  --grids-only --seed 1 --out "$WORK/city"
POINTS="$WORK/points_$N.parquet"
[ -f "$POINTS" ] || "$PY" - "$N" "$POINTS" <<'PY'
import json, os, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1 + n)
geo = {"version": "1.1.0", "primary_column": "geometry",
       "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}
schema = pa.schema([("id", pa.int64()), ("geometry", pa.binary())],
                   metadata={b"geo": json.dumps(geo).encode()})
chunk = 1_000_000
# a WKB point: byte order (1: little endian), type 1, x, y
wkb = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
with pq.ParquetWriter(path + ".part", schema) as w:
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        rec = np.empty(m, dtype=wkb)
        rec["order"], rec["kind"] = 1, 1
        rec["x"] = 121.2 + rng.random(m) * 0.5
        rec["y"] = 31.0 + rng.random(m) * 0.4
        offsets = np.arange(0, (m + 1) * wkb.itemsize, wkb.itemsize, dtype=np.int32)
        geom = pa.BinaryArray.from_buffers(
            pa.binary(), m, [None, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())])
        ids = pa.array(np.arange(start, start + m, dtype=np.int64))
        w.write_table(pa.table([ids, geom], schema=schema), row_group_size=chunk)
os.replace(path + ".part", path)
PY
ls -l "$POINTS"
/usr/bin/time -f "%e s %M KB" -o "$WORK/time.txt" "$GT" assign --grids "$WORK/city/areas.fgb" \
  --points "$POINTS" --out "$WORK/big_out.$OUT"
echo "assign: $(cat "$WORK/time.txt")"
# every input row accounted for: the report's counts, and one output line per point
"$PY" - "$N" "$WORK/big_out.report.json" <<'PY'
import json, sys
n, a = int(sys.argv[1]), json.load(open(sys.argv[2]))["assignment"]
print({k: a[k] for k in ("rows", "assigned", "nearest", "unassigned", "rejected")})
assert a["rows"] == n and a["assigned"] + a["nearest"] + a["unassigned"] + a["rejected"] == n
PY
if [ "$OUT" = parquet ]; then
  lines=$(( $("$PY" -c 'import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)' "$WORK/big_out.parquet") + 1 ))
else
  lines=$(wc -l < "$WORK/big_out.csv")
fi
[ "$lines" -eq $((N + 1)) ] || { echo "$((lines - 1)) rows out for $N points" >&2; exit 1; }
echo "$N points in, $N rows out"
