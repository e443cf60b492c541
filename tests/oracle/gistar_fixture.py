#!/usr/bin/env python3
"""Reference Getis-Ord Gi* z-scores from PySAL's esda, for gridtwin's hotspot test.

Run with a Python that has esda and libpysal (`pip install esda libpysal`):
    python tests/oracle/gistar_fixture.py
Writes tests/oracle/gistar.csv: lon, lat, value, z (esda G_Local, star=True, binary
distance-band weights of 150 m on a 6x6 lattice of 100 m spacing near Helsinki).
Distances are taken on a local metric frame; no pair lies near the 150 m band edge
(pairs are 100, 141, 200 m, ... apart), so great-circle distances give the same
neighbours.
"""
import csv
import math
from pathlib import Path

import numpy as np
from esda.getisord import G_Local
from libpysal.weights import DistanceBand

HERE = Path(__file__).resolve().parent
LON0, LAT0 = 24.94, 60.17
R = 6371008.8
mx = math.radians(1) * R * math.cos(math.radians(LAT0))
my = math.radians(1) * R

xy, lonlat, values = [], [], []
rng = np.random.default_rng(3)
for i in range(6):
    for j in range(6):
        x, y = i * 100.0, j * 100.0
        xy.append((x, y))
        lonlat.append((LON0 + x / mx, LAT0 + y / my))
        # a hot corner plus noise
        values.append(float(round(20 * math.exp(-((i - 1) ** 2 + (j - 4) ** 2) / 3) + rng.integers(0, 5), 6)))
w = DistanceBand(np.array(xy), threshold=150.0, binary=True, silence_warnings=True)
g = G_Local(np.array(values), w, transform="B", star=True, permutations=0)
with open(HERE / "gistar.csv", "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["lon", "lat", "value", "z"])
    for (lon, lat), v, z in zip(lonlat, values, g.Zs):
        out.writerow([repr(lon), repr(lat), repr(v), repr(float(z))])
print("wrote", HERE / "gistar.csv")
