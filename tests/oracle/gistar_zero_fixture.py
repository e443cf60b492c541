#!/usr/bin/env python3
"""Reference Gi* z-scores over a study area with zero-count cells, from PySAL's esda,
for gridtwin's hotspot test.

Run with a Python that has esda, libpysal and h3 (`pip install esda libpysal h3`):
    python tests/oracle/gistar_zero_fixture.py
Writes tests/oracle/gistar_zero.csv: cell (H3 res 9), value, z_kring1, z_band
- every res-9 cell within 6 grid steps of a centre cell in Helsinki (127 cells);
  a cluster of counts around one cell, sparse noise elsewhere, most cells zero;
- z_kring1: esda G_Local(star=True, transform="B") with weights = H3 k-ring 1
  (h3-py's grid_disk: an implementation independent of gridtwin's h3o);
- z_band: the same with a binary distance band of 549 m between cell centres, on a
  local metric frame (no pair lies within 2 % of 549 m, checked below, so
  great-circle distances give the same neighbours).
"""
import csv
import math
import random
from pathlib import Path

import h3
import numpy as np
from esda.getisord import G_Local
from libpysal.weights import W

HERE = Path(__file__).resolve().parent
centre = h3.latlng_to_cell(60.17, 24.94, 9)
cells = sorted(h3.grid_disk(centre, 6))
index = {c: i for i, c in enumerate(cells)}
rng = random.Random(7)
source = sorted(h3.grid_ring(centre, 3))[4]
values = []
for c in cells:
    d = h3.grid_distance(source, c)
    v = 0
    if d <= 1:
        v = 6 - 2 * d + rng.randint(0, 2)
    elif rng.random() < 0.12:
        v = 1
    values.append(float(v))
assert sum(v == 0 for v in values) > len(values) // 2, "most cells have no case"


def gistar(neighbours):
    w = W({i: [j for j in n if j != i] for i, n in enumerate(neighbours)},
          silence_warnings=True)
    g = G_Local(np.array(values), w, transform="B", star=True, permutations=0)
    return [float(z) for z in g.Zs]


kring = [[index[d] for d in h3.grid_disk(c, 1) if d in index] for c in cells]
R = 6371008.8
lat0, lon0 = 60.17, 24.94
mx, my = math.radians(1) * R * math.cos(math.radians(lat0)), math.radians(1) * R
xy = []
for c in cells:
    lat, lon = h3.cell_to_latlng(c)
    xy.append(((lon - lon0) * mx, (lat - lat0) * my))
band = []
for i, (x, y) in enumerate(xy):
    near = []
    for j, (u, v) in enumerate(xy):
        d = math.hypot(x - u, y - v)
        assert abs(d - 549.0) > 11.0, "a pair lies at the band's edge"
        if d <= 549.0:
            near.append(j)
    band.append(near)
zk, zb = gistar(kring), gistar(band)
with open(HERE / "gistar_zero.csv", "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["cell", "value", "z_kring1", "z_band549"])
    for c, v, a, b in zip(cells, values, zk, zb):
        out.writerow([c, repr(v), repr(a), repr(b)])
print("wrote", HERE / "gistar_zero.csv", len(cells), "cells")
