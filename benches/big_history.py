"""A large case history for timing `gridtwin calibrate` (not a test fixture).

    python3 benches/big_history.py N OUT.csv [CITY_AREAS.geojson]

N cases over a year from 2025-01-01 (+08:00), categories and grids drawn at random
(grid codes from the city's areas file, default the demo city), with the step times
of tests/history/make_history.py. Deterministic (seed 19).
"""
import datetime as dt
import json
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
areas = sys.argv[3] if len(sys.argv) > 3 else "data/helsinki/city/areas.geojson"
grids = [f["properties"]["code"] for f in json.load(open(areas))["features"]
         if f["properties"].get("level") == "grid"]
rng = random.Random(19)
TZ = dt.timezone(dt.timedelta(hours=8))
t0 = dt.datetime(2025, 1, 1, tzinfo=TZ).timestamp()
year = 365 * 86400.0
cats = ["0101", "0103", "0104", "0201", "0501", "0502"]
times = sorted(rng.random() * year for _ in range(n))


def iso(t):
    return dt.datetime.fromtimestamp(int(t), TZ).isoformat()


with open(out, "w") as f:
    f.write("id,category,reported_at,grid_code,department,crew,verified_at,dispatched_at,arrived_at,handled_at,checked_at,closed_at\n")
    for i, t in enumerate(times):
        v = t + rng.gammavariate(3.0, 4.0) * 60
        d = v + rng.expovariate(1 / 15.0) * 60
        a = d + (5 + rng.random() * 20) * 60
        h = a + rng.lognormvariate(3.5, 0.6) * 60
        c = h + rng.expovariate(1 / 30.0) * 60
        f.write(f"H{i},{rng.choice(cats)},{iso(t)},{rng.choice(grids)},,C{rng.randrange(40)},"
                f"{iso(v)},{iso(d)},{iso(a)},{iso(h)},{iso(c)},{iso(c)}\n")
