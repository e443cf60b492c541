#!/usr/bin/env bash
# benches/py_assign.py with its peers: a venv with GeoPandas, shapely and SedonaDB
# (PyPI), the gridtwin package built in release mode, and the 40,000 synth grids.
#   benches/py_assign.sh                  # N=10000000 RUNS=3
#   N=1000000 RUNS=5 TOOLS=gridtwin,shapely benches/py_assign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PY_VENV:-target/py-bench-venv}"; WORK="${WORK:-target/peers}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "geopandas==1.2.0" "shapely==2.2.0" pyogrio pyarrow \
  "apache-sedona[db]==1.9.1"
"$VENV/bin/python" -m pip install -q --force-reinstall ./crates/gridtwin-py
cargo build --release -q -p gridtwin-cli
GT="${CARGO_TARGET_DIR:-target}/release/gridtwin"
[ -f "$WORK/city/areas.fgb" ] || "$GT" synth --grids 40000 --components 0 --incidents 0 \
  --grids-only --seed 1 --out "$WORK/city"
exec "$VENV/bin/python" benches/py_assign.py --grids "$WORK/city/areas.fgb" --work "$WORK" \
  --n "${N:-10000000}" --runs "${RUNS:-3}" --tools "${TOOLS:-gridtwin,sedonadb,geopandas,shapely}"
