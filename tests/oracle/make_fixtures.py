#!/usr/bin/env python3
"""Oracle fixtures for gridtwin's assignment: GeoPandas' answer, computed independently.

Run by `benches/peers/run.sh --oracle` (which installs GeoPandas in a venv), or by hand:
    python tests/oracle/make_fixtures.py
Writes, next to this script:
  points.csv              20,000 seeded random points over the Voronoi grids' box, plus
                          every grid vertex and edge midpoint (boundary cases)
  expected_voronoi.csv    id, grid_code by geopandas.sjoin(predicate="within")
  expected_helsinki.csv   the same for the demo city's components and unit grids
A point within no grid (outside, or on a boundary, which `within` excludes) gets an
empty grid_code; gridtwin's test then checks its own boundary rule for those.
"""
import csv
import random
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def sjoin_codes(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> dict:
    joined = gpd.sjoin(points, grids[["code", "geometry"]], how="left", predicate="within")
    out = {}
    for pid, code in zip(joined["id"], joined["code"]):
        if isinstance(code, str):
            if pid in out and out[pid]:
                raise SystemExit(f"point {pid} is within two grids: {out[pid]}, {code}")
            out[pid] = code
        else:
            out.setdefault(pid, "")
    return out


def write(path: Path, codes: dict, ids: list):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "grid_code"])
        for i in ids:
            w.writerow([i, codes[i]])


def voronoi():
    grids = gpd.read_file(HERE / "voronoi_grids.fgb")
    grids = grids[grids["level"] == "grid"]
    minx, miny, maxx, maxy = grids.total_bounds
    rng = random.Random(42)
    pts = []
    for i in range(20_000):
        pts.append((f"r{i}", minx + rng.random() * (maxx - minx), miny + rng.random() * (maxy - miny)))
    k = 0
    for geom in grids.geometry:
        for poly in getattr(geom, "geoms", [geom]):
            cs = list(poly.exterior.coords)
            for (x1, y1), (x2, y2) in zip(cs, cs[1:]):
                pts.append((f"v{k}", x1, y1))
                pts.append((f"m{k}", (x1 + x2) / 2, (y1 + y2) / 2))
                k += 1
    with open(HERE / "points.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "lon", "lat"])
        for pid, x, y in pts:
            w.writerow([pid, repr(float(x)), repr(float(y))])
    gdf = gpd.GeoDataFrame({"id": [p[0] for p in pts]}, geometry=[Point(p[1], p[2]) for p in pts], crs=grids.crs)
    write(HERE / "expected_voronoi.csv", sjoin_codes(gdf, grids), [p[0] for p in pts])


def helsinki():
    city = REPO / "data" / "helsinki" / "city"
    grids = gpd.read_file(city / "areas.geojson")
    grids = grids[grids["level"] == "grid"]
    rows = list(csv.DictReader(open(city / "components.csv")))
    gdf = gpd.GeoDataFrame(
        {"id": [r["code"] for r in rows]},
        geometry=[Point(float(r["lon"]), float(r["lat"])) for r in rows],
        crs="EPSG:4326",
    )
    write(HERE / "expected_helsinki.csv", sjoin_codes(gdf, grids), [r["code"] for r in rows])


if __name__ == "__main__":
    voronoi()
    helsinki()
    print("fixtures written to", HERE)
