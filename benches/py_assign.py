"""gridtwin.assign from Python against the Python peers, on one workload: N uniform
lon/lat points as numpy arrays (121.2-121.7E, 31.0-31.4N) x the 40,000 Voronoi
grids of `gridtwin synth --grids 40000 --seed 1`.

Each tool runs in its own Python process (so each one's peak memory is its own),
starting from the same numpy arrays in memory, and is timed from those arrays to an
in-memory result holding each point's grid:
  gridtwin   gridtwin.assign((lon, lat), grids)  (grids loaded before: Grids.load)
  sedonadb   its SQL join, ST_Contains(grid, ST_Point(lon, lat)), on an Arrow table
  geopandas  geopandas.sjoin(points, grids, predicate="within"), points made from the arrays
  shapely    STRtree.query of the points, then shapely.contains_xy on the candidates
Every tool's grid for every point is compared with gridtwin's.

    python benches/py_assign.py --grids target/peers/city/areas.fgb --n 10000000 --runs 3
(benches/py_assign.sh installs the peers and the package and runs it.)
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BOX = (121.2, 31.0, 121.7, 31.4)


def points(work: Path, n: int):
    path = work / f"lonlat_{n}.npy"
    if not path.exists():
        rng = np.random.default_rng(1 + n)
        arr = np.stack([rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)])
        np.save(path, arr)
    arr = np.load(path)
    return np.ascontiguousarray(arr[0]), np.ascontiguousarray(arr[1])


def grid_parquet(work: Path, fgb: Path) -> Path:
    """The grid level of the layer as GeoParquet (code, geometry) for the peers."""
    path = work / "grids.parquet"
    if not path.exists():
        import geopandas as gpd

        g = gpd.read_file(fgb)
        g = g[g["code"].str.len() == 14][["code", "geometry"]].reset_index(drop=True)
        g.to_parquet(path)
    return path


def codes_to_int(values, valid) -> np.ndarray:
    out = np.full(len(valid), -1, dtype=np.int64)
    out[valid] = np.asarray(values, dtype=np.int64)
    return out


def run_tool(tool: str, work: Path, fgb: Path, n: int) -> dict:
    lon, lat = points(work, n)
    t0 = time.perf_counter()
    if tool == "gridtwin":
        import pyarrow.compute as pc

        import gridtwin

        grids = gridtwin.Grids.load(str(fgb))
        t1 = time.perf_counter()
        out = gridtwin.assign((lon, lat), grids)
        t2 = time.perf_counter()
        col = out.column("grid_code").combine_chunks()
        idx = col.indices.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(pc.is_null(col))
        dict_codes = np.asarray(col.dictionary.to_pylist(), dtype=np.int64)
        result = np.full(n, -1, dtype=np.int64)
        result[valid] = dict_codes[idx[valid].astype(np.int64)]
    elif tool == "geopandas":
        import geopandas as gpd

        grids = gpd.read_parquet(grid_parquet(work, fgb))
        grids.sindex  # built before timing, as gridtwin's index is
        t1 = time.perf_counter()
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=grids.crs)
        j = gpd.sjoin(pts, grids, predicate="within", how="left")
        t2 = time.perf_counter()
        j = j[~j.index.duplicated()]
        valid = j["code"].notna().to_numpy()
        result = codes_to_int(j["code"].to_numpy()[valid], valid)
    elif tool == "shapely":
        import geopandas as gpd
        import shapely

        g = gpd.read_parquet(grid_parquet(work, fgb))
        polys = g.geometry.values
        codes = g["code"].to_numpy()
        tree = shapely.STRtree(polys)
        shapely.prepare(np.asarray(polys))
        t1 = time.perf_counter()
        pts = shapely.points(lon, lat)
        ip, ig = tree.query(pts)
        keep = shapely.contains_xy(np.asarray(polys)[ig], lon[ip], lat[ip])
        ip, ig = ip[keep], ig[keep]
        t2 = time.perf_counter()
        order = np.argsort(ip, kind="stable")
        ip, ig = ip[order], ig[order]
        first = np.ones(len(ip), dtype=bool)
        first[1:] = ip[1:] != ip[:-1]
        result = np.full(n, -1, dtype=np.int64)
        result[ip[first]] = codes[ig[first]].astype(np.int64)
    elif tool == "sedonadb":
        import pyarrow as pa
        import sedona.db as sd

        con = sd.connect()
        con.read_parquet(str(grid_parquet(work, fgb))).to_view("g")
        t1 = time.perf_counter()
        table = pa.table({"id": np.arange(n, dtype=np.int64), "lon": lon, "lat": lat})
        con.create_data_frame(table).to_view("p")
        j = con.sql(
            "SELECT p.id, g.code FROM p JOIN g "
            "ON ST_Contains(g.geometry, ST_SetSRID(ST_Point(p.lon, p.lat), 4326))"
        ).to_arrow_table()
        t2 = time.perf_counter()
        ids = j.column("id").to_numpy()
        result = np.full(n, -1, dtype=np.int64)
        result[ids] = np.asarray(j.column("code").to_pylist(), dtype=np.int64)
    else:
        raise SystemExit(f"unknown tool {tool}")
    np.save(work / f"codes_{tool}_{n}.npy", result)
    return {"setup_s": t1 - t0, "assign_s": t2 - t1}


def measure(cmd):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{r.stdout}\n{r.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) * 1024
    return json.loads(r.stdout.strip().splitlines()[-1]), rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", required=True, help="the synth grid layer (areas.fgb)")
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="gridtwin,sedonadb,geopandas,shapely")
    ap.add_argument("--work", default="target/peers")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    a = ap.parse_args()
    work, fgb = Path(a.work), Path(a.grids)
    work.mkdir(parents=True, exist_ok=True)
    if a.run:
        print(json.dumps(run_tool(a.run, work, fgb, a.n)))
        return
    points(work, a.n)
    grid_parquet(work, fgb)
    rows = []
    for tool in a.tools.split(","):
        runs = [measure([sys.executable, __file__, "--run", tool, "--grids", str(fgb), "--n", str(a.n),
                         "--work", str(work)]) for _ in range(a.runs)]
        times = [r[0]["assign_s"] for r in runs]
        rss = statistics.median(r[1] for r in runs)
        codes = np.load(work / f"codes_{tool}_{a.n}.npy")
        ours = np.load(work / f"codes_gridtwin_{a.n}.npy") if tool != "gridtwin" else codes
        differ = int((codes != ours).sum())
        rows.append((tool, times, rss, int((codes >= 0).sum()), differ))
        print(f"{tool}: assign {', '.join(f'{t:.2f}' for t in times)} s (median {statistics.median(times):.2f}), "
              f"peak RSS {rss / 2**30:.2f} GiB, assigned {rows[-1][3]}, differ from gridtwin {differ}", flush=True)
    print("\n| tool | assign runs (s) | median (s) | peak RSS (GiB) | assigned | differ from gridtwin |")
    print("|---|---|---:|---:|---:|---:|")
    for tool, times, rss, assigned, differ in rows:
        print(f"| {tool} | {', '.join(f'{t:.2f}' for t in times)} | {statistics.median(times):.2f} | "
              f"{rss / 2**30:.2f} | {assigned:,} | {differ} |")


if __name__ == "__main__":
    main()
