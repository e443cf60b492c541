"""An independent case history for `gridtwin calibrate` tests: not made by gridtwin.

    python3 tests/history/make_history.py > tests/history/held_out.csv

Six weeks (from Monday 2025-03-03, +08:00) of two categories, arrivals a
non-homogeneous Poisson process (thinning of a peak rate by an hourly profile),
places uniform over the Helsinki demo city's extent, and step times with known
laws: verification gamma(shape 3, mean 12 min), handling lognormal(mu 3.5,
sigma 0.6) of minutes, check exponential(mean 30 min). Three crews of one
department, numbered. Python's own `random` (Mersenne Twister), seed 2026.
"""
import datetime as dt
import math
import random

rng = random.Random(2026)
TZ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2025, 3, 3, tzinfo=TZ)
DAYS = 42
# per-day rates and hourly profiles (relative; mean 1 over the day)
CATEGORIES = {
    "0101": (30.0, [0.2] * 6 + [1.0, 1.8, 2.0, 1.8, 1.5, 1.4, 1.4, 1.5, 1.5, 1.6, 1.6, 1.5, 1.2, 1.0, 0.8, 0.5, 0.3, 0.2]),
    "0502": (18.0, [0.5] * 7 + [1.5] * 12 + [0.5] * 5),
}
LON = (24.925, 24.966)
LAT = (60.160, 60.182)


def fmt(t):
    return t.isoformat(timespec="seconds")


rows = []
for cat, (per_day, profile) in CATEGORIES.items():
    mean = sum(profile) / 24
    w = [p / mean for p in profile]
    peak = per_day / 24 * max(w)  # per hour
    t = 0.0
    while True:
        t += rng.expovariate(peak)  # hours
        if t >= DAYS * 24:
            break
        if rng.random() < w[int(t) % 24] / max(w):
            rows.append((t, cat))
rows.sort()
print("id,category,reported_at,lon,lat,department,crew,verified_at,dispatched_at,arrived_at,handled_at,checked_at,closed_at")
for i, (t, cat) in enumerate(rows):
    at = START + dt.timedelta(hours=t)
    verified = at + dt.timedelta(minutes=rng.gammavariate(3.0, 12.0 / 3.0))
    dispatched = verified + dt.timedelta(minutes=rng.expovariate(1 / 15.0))
    arrived = dispatched + dt.timedelta(minutes=5 + rng.random() * 20)
    handled = arrived + dt.timedelta(minutes=rng.lognormvariate(3.5, 0.6))
    checked = handled + dt.timedelta(minutes=rng.expovariate(1 / 30.0))
    lon = rng.uniform(*LON)
    lat = rng.uniform(*LAT)
    crew = f"C{rng.randrange(3) + 1}"
    print(
        f"H{i:05d},{cat},{fmt(at)},{lon:.6f},{lat:.6f},Sanitation Department,{crew},"
        f"{fmt(verified)},{fmt(dispatched)},{fmt(arrived)},{fmt(handled)},{fmt(checked)},{fmt(checked)}"
    )
