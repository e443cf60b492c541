#!/usr/bin/env bash
# Times gridtwin against GeoPandas, DuckDB spatial and SedonaDB on one workload:
# N points x 40,000 Voronoi grids over 121.2-121.7E, 31.0-31.4N, CSV in, CSV out.
# Installs the peers in a venv (PyPI only) and builds gridtwin in release mode.
#   benches/peers/run.sh                 # 1M and 10M points, all tools
#   benches/peers/run.sh --sizes 1000000 --tools gridtwin,duckdb
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${PEERS_VENV:-target/peers-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "geopandas==1.2.0" "shapely==2.2.0" pyogrio pyarrow \
    "duckdb==1.5.5" "duckdb-extension-spatial==1.5.5" "apache-sedona[db]==1.9.1"
cargo build --release -q -p gridtwin-cli
exec "$VENV/bin/python" benches/peers/peers.py "$@"
