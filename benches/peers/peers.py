#!/usr/bin/env python3
"""gridtwin vs GeoPandas, DuckDB spatial and SedonaDB: the same points-in-grids job.

Each tool runs in its own process under /usr/bin/time -v (wall time, peak RSS). Each
reads the same points CSV (id, lon, lat) and the same 40,000 Voronoi grids, assigns
every point to the grid it lies within, and writes id + grid code as CSV. 'join' is
the tool's own timing of the join step alone (gridtwin: its assignment stage, which
includes CSV parsing; see benches/RESULTS.md for the in-memory join core). Every
tool's assignment is compared point by point with gridtwin's.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# the binary run.sh built (where CARGO_TARGET_DIR puts it, if set)
GRIDTWIN = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target") / "release" / "gridtwin"
if not GRIDTWIN.is_absolute():
    GRIDTWIN = REPO / GRIDTWIN
BOX = (121.2, 31.0, 121.7, 31.4)


def setup(work: Path, sizes, grids: int, seed: int):
    import geopandas as gpd
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    work.mkdir(parents=True, exist_ok=True)
    city = work / "city"
    if not (city / "areas.fgb").exists():
        subprocess.run([str(GRIDTWIN), "synth", "--grids", str(grids), "--components", "0", "--incidents", "0",
                        "--grids-only", "--seed", str(seed), "--out", str(city)], check=True, cwd=REPO)
    if not (work / "grids.parquet").exists():
        g = gpd.read_file(city / "areas.fgb")
        g[g["level"] == "grid"][["code", "geometry"]].to_parquet(work / "grids.parquet")
    for n in sizes:
        p = work / f"points_{n}.csv"
        if not p.exists():
            rng = np.random.default_rng(seed + n)
            lon = BOX[0] + rng.random(n) * (BOX[2] - BOX[0])
            lat = BOX[1] + rng.random(n) * (BOX[3] - BOX[1])
            t = pa.table({"id": np.arange(n, dtype=np.int64), "lon": lon, "lat": lat})
            pacsv.write_csv(t, p, pacsv.WriteOptions(quoting_style="none"))


def run_tool(tool: str, work: Path, n: int, out: Path) -> dict:
    pts = work / f"points_{n}.csv"
    grids = work / "grids.parquet"
    t0 = time.perf_counter()
    if tool == "geopandas":
        import geopandas as gpd
        import pandas as pd
        df = pd.read_csv(pts)
        g = gpd.read_parquet(grids)
        p = gpd.GeoDataFrame(df[["id"]], geometry=gpd.points_from_xy(df.lon, df.lat), crs=g.crs)
        t1 = time.perf_counter()
        j = gpd.sjoin(p, g, predicate="within", how="inner")
        t2 = time.perf_counter()
        j[["id", "code"]].to_csv(out, index=False)
    elif tool == "duckdb":
        import duckdb
        import duckdb_extension_spatial as ext
        con = duckdb.connect()
        path = next(Path(ext.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
        con.execute(f"LOAD '{path}'")
        con.execute(f"CREATE TABLE p AS SELECT id, ST_Point(lon, lat) AS geom FROM read_csv('{pts}')")
        con.execute(f"CREATE TABLE g AS SELECT code, geometry FROM read_parquet('{grids}')")
        t1 = time.perf_counter()
        con.execute("CREATE TABLE j AS SELECT p.id, g.code FROM p JOIN g ON ST_Contains(g.geometry, p.geom)")
        t2 = time.perf_counter()
        con.execute(f"COPY j TO '{out}' (HEADER)")
    elif tool == "sedonadb":
        import sedona.db as sd
        con = sd.connect()
        con.read_parquet(str(grids)).to_view("g")
        con.read(str(pts)).to_view("p")
        t1 = time.perf_counter()
        j = con.sql("SELECT p.id, g.code FROM p JOIN g ON ST_Contains(g.geometry, ST_SetSRID(ST_Point(p.lon, p.lat), 4326))").to_memtable()
        t2 = time.perf_counter()
        j.to_csv(str(out))
    else:
        raise SystemExit(f"unknown tool {tool}")
    t3 = time.perf_counter()
    return {"join_s": t2 - t1, "total_s": t3 - t0}


def measure(cmd, env=None):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, cwd=REPO, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{r.stdout}\n{r.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = wall.groups()
    secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) * 1024
    return secs, rss, r.stdout, r.stderr


def codes_of(path: Path, id_col="id", code_col="code") -> dict:
    import pandas as pd
    df = pd.read_csv(path, usecols=[id_col, code_col], dtype={code_col: str})
    return dict(zip(df[id_col], df[code_col]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--tools", default="gridtwin,sedonadb,duckdb,geopandas")
    ap.add_argument("--grids", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default=str(REPO / "target" / "peers"))
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = Path(a.work)
    if a.run:
        print(json.dumps(run_tool(a.run, work, a.n, Path(a.out))))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    setup(work, sizes, a.grids, a.seed)
    rows = []
    for n in sizes:
        ours = None
        for tool in a.tools.split(","):
            out = work / f"out_{tool}_{n}.csv"
            if tool == "gridtwin":
                secs, rss, so, se = measure([str(GRIDTWIN), "assign", "--grids", str(work / "city" / "areas.fgb"),
                                             "--points", str(work / f"points_{n}.csv"), "--out", str(out)])
                m = re.search(r"assigned in ([\d.]+) s", se)
                join = float(m.group(1)) if m else float("nan")
                got = codes_of(out, "id", "grid_code")
                ours = got
            else:
                secs, rss, so, se = measure([sys.executable, __file__, "--work", str(work), "--run", tool,
                                             "--n", str(n), "--out", str(out)])
                join = json.loads(so.strip().splitlines()[-1])["join_s"]
                got = codes_of(out)
            assigned = sum(1 for v in got.values() if isinstance(v, str) and v)
            differ = None
            if ours is not None:
                differ = sum(1 for k, v in ours.items() if isinstance(v, str) and v and got.get(k) != v)
                differ += sum(1 for k in got if k not in ours or not isinstance(ours[k], str))
            rows.append((n, tool, secs, join, rss, assigned, differ))
            print(f"{n:>10} {tool:<10} total {secs:7.2f} s  join {join:7.2f} s  peak {rss / 2**30:5.2f} GiB  "
                  f"assigned {assigned}  differ from gridtwin {differ}", flush=True)
    print("\n| points | tool | end-to-end (s) | join (s) | peak RSS (GiB) | assigned | differ from gridtwin |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n, tool, secs, join, rss, assigned, differ in rows:
        print(f"| {n:,} | {tool} | {secs:.2f} | {join:.2f} | {rss / 2**30:.2f} | {assigned:,} | {differ} |")


if __name__ == "__main__":
    main()
