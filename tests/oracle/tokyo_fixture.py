"""Oracle for the Tokyo wards test: random points in the layer's own system, and the
ward (GEOCODE) GeoPandas puts each in after repairing the invalid wards.

    python tests/oracle/tokyo_fixture.py   # needs geopandas, shapely, pyogrio, numpy

Writes tests/tokyo/points.csv and tests/tokyo/expected_sjoin.csv.
"""
import pathlib

import geopandas as gpd
import numpy as np

here = pathlib.Path(__file__).resolve().parent.parent / "tokyo"
wards = gpd.read_file(here / "tokyomet262.shp")
invalid = ~wards.geometry.is_valid
print(f"{invalid.sum()} invalid wards: {', '.join(wards.GEOCODE[invalid])}")
wards["geometry"] = wards.geometry.make_valid()

rng = np.random.default_rng(16)
x0, y0, x1, y1 = wards.total_bounds
n = 6000
xs = rng.uniform(x0, x1, n)
ys = rng.uniform(y0, y1, n)
# and 1000 more inside the repaired wards, where a reject-only import loses points
rep = wards[invalid]
bx0, by0, bx1, by1 = rep.total_bounds
xs = np.concatenate([xs, rng.uniform(bx0, bx1, 1000)])
ys = np.concatenate([ys, rng.uniform(by0, by1, 1000)])
pts = gpd.GeoDataFrame(
    {"id": np.arange(len(xs))}, geometry=gpd.points_from_xy(xs, ys), crs=wards.crs
)
j = gpd.sjoin(pts, wards[["GEOCODE", "geometry"]], predicate="within", how="left")
codes = j.groupby("id")["GEOCODE"].apply(lambda s: "|".join(sorted(s.dropna())))
with open(here / "points.csv", "w") as f:
    f.write("id,x,y\n")
    for i, x, y in zip(pts.id, xs, ys):
        f.write(f"{i},{float(x)!r},{float(y)!r}\n")
with open(here / "expected_sjoin.csv", "w") as f:
    f.write("id,geocode\n")
    for i in pts.id:
        f.write(f"{i},{codes.get(i, '')}\n")
inside = (codes != "").sum()
print(f"{len(pts)} points, {inside} in a ward, {(codes.str.contains('[|]')).sum()} in two")
