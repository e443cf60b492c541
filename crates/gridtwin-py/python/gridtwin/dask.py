"""gridtwin past one machine, on Dask.

``simulate(scenario, replications, seed, client)`` spreads a study's replications over
the workers (each runs ``gridtwin simulate --only-replications r..r+1``); the driver
gathers them (``--gather``) into the files one process would write, byte for byte.

``assign(ddf, grids)`` assigns a dask (or dask-geopandas) DataFrame partition by
partition. The grid layer travels to each worker once, as the bytes of one file
(no shared file system needed), is loaded there once per process and kept; each
partition then costs only its own assignment. Results are row for row those of
:func:`gridtwin.assign` on the whole frame: assignment of a point depends on the point
and the grids alone.

On a real cluster::

    from distributed import Client
    client = Client("tcp://scheduler-host:8786")   # workers: pip install gridtwin
    out = gridtwin.dask.assign(ddf, "grids.fgb", client=client)
    out.to_parquet("s3://bucket/assigned/")

    sim = gridtwin.dask.simulate("/shared/scenes/baseline.toml", 200, seed=1, client=client)

Every worker needs the ``gridtwin`` package (the same version). ``assign`` needs
nothing else; ``simulate`` needs the scenario and the files it names (city, calendar,
DEM) at the same path on every worker (a shared or copied folder). A replication's
files travel back to the driver through Dask: Parquet (the default ``format``) keeps
a megacity study's timelines a fifth of the CSV's size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from ._gridtwin import Grids

_LOADED: dict[str, Grids] = {}


@dataclass(frozen=True)
class GridPayload:
    """A grid layer as bytes (file name kept for its format), picklable and small."""

    name: str
    content: bytes
    digest: str
    data: str | None = None

    def grids(self) -> Grids:
        """The layer loaded and indexed, once per process."""
        key = self.digest + "|" + (self.data or "")
        g = _LOADED.get(key)
        if g is None:
            folder = tempfile.mkdtemp(prefix="gridtwin-grids-")
            path = os.path.join(folder, self.name)
            with open(path, "wb") as f:
                f.write(self.content)
            g = Grids.load(path, self.data)
            _LOADED[key] = g
        return g


def payload(grids: Any, data: str | None = None) -> GridPayload:
    """The grid layer of ``grids`` (a path to a layer file or a city directory, a City,
    a GeoDataFrame) as one file's bytes."""
    from .city import City

    if isinstance(grids, City):
        grids = grids.path
    if type(grids).__name__ == "GeoDataFrame":
        folder = tempfile.mkdtemp(prefix="gridtwin-grids-")
        path = os.path.join(folder, "grids.parquet")
        grids.to_parquet(path)
        grids = path
    if isinstance(grids, Grids):
        grids = grids.source
    path = os.fspath(grids)
    if os.path.isdir(path):
        for ext in ("geojson", "fgb", "parquet", "csv", "gpkg", "shp"):
            p = os.path.join(path, f"areas.{ext}")
            if os.path.exists(p):
                path = p
                break
        else:
            raise FileNotFoundError(f"{path}: no areas layer (areas.geojson, .fgb, .parquet or .csv)")
    if path.endswith(".shp"):
        raise ValueError(f"{path}: give the grids as one file (GeoParquet, FlatGeobuf, GeoJSON) for Dask")
    with open(path, "rb") as f:
        content = f.read()
    return GridPayload(os.path.basename(path), content, hashlib.sha256(content).hexdigest(), data)


def _assign_partition(part, grid_payload: GridPayload, nearest_m, lon, lat, coords):
    from .assign import assign

    out = assign(part, grid_payload.grids(), nearest_m, lon=lon, lat=lat, coords=coords)
    out.attrs = {}  # per-partition reports do not survive concatenation; see assign_report
    return out


def assign(
    ddf,
    grids: Any,
    nearest_m: float | None = None,
    *,
    lon: str | None = None,
    lat: str | None = None,
    coords: str = "wgs84",
    client=None,
    data: str | None = None,
):
    """:func:`gridtwin.assign` over a dask(-geopandas) DataFrame, lazily: returns a
    dask DataFrame with the added columns (codes as strings, so partitions agree on
    their type). With a ``client``, the grids are scattered to every worker once
    (broadcast); without, they go into the graph once."""
    import dask
    import pandas as pd

    grid_payload = payload(grids, data)
    if client is not None:
        shipped = client.scatter(grid_payload, broadcast=True, hash=True)
    else:
        shipped = dask.delayed(grid_payload, pure=True)
    meta = ddf._meta
    # the empty frame's assignment gives the output's columns and types
    meta_out = _assign_partition(meta, grid_payload, nearest_m, lon, lat, coords)
    meta_out = _plain(meta_out)

    def run(part, shipped_payload):
        return _plain(_assign_partition(part, shipped_payload, nearest_m, lon, lat, coords))

    return ddf.map_partitions(run, shipped, meta=meta_out)


def _plain(frame):
    """Categorical code columns as plain strings: each partition has its own
    categories, which Dask could not concatenate as one dtype."""
    import pandas as pd

    from .assign import ADDED

    for c in ADDED:
        if c in frame.columns and isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def assign_report(result) -> dict:
    """The counts of a computed Dask assignment (a pandas frame), as
    :func:`gridtwin.report` gives for one process."""
    counts = result["outcome"].value_counts()
    reasons = result.loc[result["outcome"] == "rejected", "reason"].value_counts()
    out = {k: int(counts.get(k, 0)) for k in ("assigned", "nearest", "unassigned", "rejected")}
    out["rows"] = int(len(result))
    out["rejected_by_reason"] = {str(k): int(v) for k, v in reasons.items()}
    return out


def _simulate_slice(scenario, first, end, replications, seed, format, data):
    """Runs replications first..end of the study on this worker, in a temporary folder,
    and returns its files (path relative to the folder, bytes)."""
    import shutil

    from .commands import run

    folder = tempfile.mkdtemp(prefix="gridtwin-slice-")
    try:
        run(
            "simulate", scenario, "--replications", replications, "--seed", seed,
            "--out", folder, "--only-replications", f"{first}..{end}",
            "--format", format, data=data,
        )
        files = {}
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    files[os.path.relpath(path, folder)] = f.read()
        return files
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def simulate(
    scenario,
    replications: int = 10,
    seed: int = 1,
    client=None,
    out=None,
    *,
    per_task: int = 1,
    format: str = "parquet",
    timeline_format: str | None = None,
    data: str | None = None,
):
    """:func:`gridtwin.simulate` with the replications spread over Dask workers,
    ``per_task`` replications to a task; returns the same :class:`Simulation`, its
    folder byte-identical to the one-process run's (same scenario path, replications
    and seed). Without a ``client`` the default Dask scheduler runs the tasks."""
    import dask

    from .commands import _out_dir, read_simulation, run

    replications, per_task = int(replications), max(1, int(per_task))
    scenario = os.fspath(scenario)
    tasks = [
        dask.delayed(_simulate_slice, pure=True)(
            scenario, first, min(first + per_task, replications), replications, seed,
            timeline_format or format, data,
        )
        for first in range(0, replications, per_task)
    ]
    results = client.compute(tasks, sync=True) if client is not None else dask.compute(*tasks)
    out = _out_dir(out, "sim")
    os.makedirs(out, exist_ok=True)
    for files in results:
        for rel, content in files.items():
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(content)
    run("simulate", scenario, "--replications", replications, "--seed", seed, "--out", out,
        "--gather", "--format", timeline_format or format, data=data)
    return read_simulation(out, replications)
