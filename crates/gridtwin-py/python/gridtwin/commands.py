"""The twin and the other whole commands, run in this process by the command line's
own code (``gridtwin._gridtwin.run_cli``): the outputs are the files the command line
writes, byte for byte, read back as pandas / GeoPandas."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._gridtwin import run_cli


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def run(*args: Any, data: str | None = None) -> int:
    """Run ``gridtwin ARGS...`` in this process, exactly as the command line.

    Returns the exit code (0 done, 1 data rejected under ``--strict`` or a check that
    found problems); a usage or input/output error raises :class:`GridtwinError`
    with the command line's message (its ``exit_code`` is 2 or 3).

    >>> gridtwin.run("info", "data/helsinki/city", "--out", "out/info.json")  # doctest: +SKIP
    0
    """
    argv = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args]
    if data is not None:
        argv = ["--data", os.fspath(data)] + argv
    return run_cli(argv)


def _out_dir(out: str | os.PathLike | None, prefix: str) -> str:
    return os.fspath(out) if out is not None else tempfile.mkdtemp(prefix=f"gridtwin-{prefix}-")


def read_timeline(path: str | os.PathLike) -> pd.DataFrame:
    """A case timeline (``timeline.csv`` or ``timeline.parquet``) as a DataFrame."""
    path = os.fspath(path)
    if path.endswith(".parquet"):
        return pq.read_table(path).to_pandas()
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass
class Simulation:
    """The outputs of :func:`simulate`: its folder and its tables.

    Attributes
    ----------
    path : str
        The output folder (kpis, backlog and rep_NNN/timeline as .parquet or .csv;
        summary.csv, welch.csv).
    kpis : DataFrame
        One row per replication.
    summary : DataFrame
        Mean, spread and confidence interval per indicator.
    backlog : DataFrame
    """

    path: str
    kpis: pd.DataFrame
    summary: pd.DataFrame
    backlog: pd.DataFrame
    replications: int
    _timelines: dict = field(default_factory=dict, repr=False)

    def timeline(self, replication: int = 0) -> pd.DataFrame:
        """Replication ``replication``'s case timeline (read on first use)."""
        if replication not in self._timelines:
            folder = os.path.join(self.path, f"rep_{replication:03}")
            for name in ("timeline.parquet", "timeline.csv"):
                p = os.path.join(folder, name)
                if os.path.exists(p):
                    self._timelines[replication] = read_timeline(p)
                    break
            else:
                raise FileNotFoundError(f"{folder}: no timeline (replications: {self.replications})")
        return self._timelines[replication]

    @property
    def timelines(self) -> list[pd.DataFrame]:
        """Every replication's timeline, in replication order."""
        return [self.timeline(r) for r in range(self.replications)]


def _read_csv(path: str) -> pd.DataFrame:
    return pd.read_csv(path) if os.path.exists(path) else pd.DataFrame()


def _read_table(out: str, name: str) -> pd.DataFrame:
    """Table ``name`` of a ``simulate`` folder, ``NAME.parquet`` or ``NAME.csv``
    (Parquet when both are there, as the command line reads them)."""
    path = os.path.join(out, f"{name}.parquet")
    if os.path.exists(path):
        return pq.read_table(path).to_pandas()
    return _read_csv(os.path.join(out, f"{name}.csv"))


def simulate(
    scenario: str | os.PathLike,
    replications: int = 10,
    seed: int = 1,
    out: str | os.PathLike | None = None,
    *,
    format: str = "parquet",
    timeline_format: str | None = None,
    data: str | None = None,
    **options: Any,
) -> Simulation:
    """Run seeded replications of a scenario (``scenes/*.toml``), as
    ``gridtwin simulate SCENARIO --replications N --seed S --out OUT``.

    The same scenario, replications and seed give byte-identical files to the command
    line's. Further command-line options go as keywords (``start_from=...``,
    ``max_days=...``). ``out`` defaults to a new temporary folder. ``format`` is the
    timelines', kpis' and backlog's: ``"parquet"`` (the default) or ``"csv"``
    (``timeline_format`` is its older name).

    >>> sim = gridtwin.simulate("scenes/baseline.toml", replications=4, seed=1)  # doctest: +SKIP
    >>> sim.summary                                                              # doctest: +SKIP
    """
    out = _out_dir(out, "sim")
    args = [
        "simulate",
        os.fspath(scenario),
        "--replications",
        str(int(replications)),
        "--seed",
        str(int(seed)),
        "--out",
        out,
        "--format",
        timeline_format or format,
    ]
    for k, v in options.items():
        if v is True:
            args.append(_flag(k))
        elif v not in (None, False):
            args += [_flag(k), os.fspath(v) if isinstance(v, os.PathLike) else str(v)]
    run(*args, data=data)
    return read_simulation(out, int(replications))


def read_simulation(out: str, replications: int) -> Simulation:
    """A finished ``simulate`` folder's tables."""
    return Simulation(
        path=out,
        kpis=_read_table(out, "kpis"),
        summary=_read_csv(os.path.join(out, "summary.csv")),
        backlog=_read_table(out, "backlog"),
        replications=replications,
    )


def _path_of(run_or_path: Any) -> str:
    return run_or_path.path if isinstance(run_or_path, Simulation) else os.fspath(run_or_path)


def compare(a: Any, b: Any, out: str | os.PathLike | None = None, *, data: str | None = None) -> pd.DataFrame:
    """Paired comparison of two :func:`simulate` runs (Simulation objects or their
    folders), as ``gridtwin compare A B``: per indicator, the mean difference B − A
    with its paired confidence interval. Charts and ``compare.csv`` go to ``out``
    (default: a new temporary folder)."""
    out = _out_dir(out, "compare")
    run("compare", _path_of(a), _path_of(b), "--out", out, data=data)
    return pd.read_csv(os.path.join(out, "compare.csv"))


@dataclass
class Vitals:
    """The outputs of :func:`vitals`: indicators per area and bucket, warnings, and the
    Gi* hotspots (a GeoDataFrame when a city is given)."""

    path: str
    indicators: pd.DataFrame
    warnings: pd.DataFrame
    hotspots: Any = None


def vitals(
    timeline: str | os.PathLike,
    city: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    level: str = "grid",
    bucket: str = "1h",
    data: str | None = None,
    **options: Any,
) -> Vitals:
    """City vital signs from a case timeline (CSV or Parquet), as ``gridtwin vitals``."""
    out = _out_dir(out, "vitals")
    args = ["vitals", os.fspath(timeline), "--out", out, "--level", level, "--bucket", bucket]
    if city is not None:
        args += ["--city", os.fspath(city)]
    for k, v in options.items():
        if v not in (None, False):
            args += [_flag(k)] + ([] if v is True else [str(v)])
    run(*args, data=data)
    hotspots = None
    geo = os.path.join(out, "hotspots.geojson")
    if os.path.exists(geo):
        import geopandas

        hotspots = geopandas.read_file(geo)
    return Vitals(
        path=out,
        indicators=_read_csv(os.path.join(out, "vitals.csv")),
        warnings=_read_csv(os.path.join(out, "warnings.csv")),
        hotspots=hotspots,
    )


def _points_file(points: Any, folder: str) -> str:
    """``points`` as a file the command line reads: a path as is; a (Geo)DataFrame or
    Arrow table written as GeoParquet / Parquet."""
    if isinstance(points, (str, os.PathLike)):
        return os.fspath(points)
    path = os.path.join(folder, "points.parquet")
    if type(points).__name__ == "GeoDataFrame":
        points.to_parquet(path)
    elif hasattr(points, "columns") and hasattr(points, "to_parquet"):
        # a plain DataFrame with lon/lat: CSV keeps the command line's column finding
        path = os.path.join(folder, "points.csv")
        points.to_csv(path, index=False)
    else:
        table = points if isinstance(points, pa.Table) else pa.table(points)
        path = os.path.join(folder, "points.csv")
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def aggregate(
    points: Any,
    by: str | list[str] = "grid",
    grids: Any = None,
    *,
    category: bool = False,
    window: str | None = None,
    geometry: bool = False,
    data: str | None = None,
) -> pd.DataFrame:
    """Count points per grid, community, street, district, city or H3 cell
    (``by="h3:9"``, any resolution 0–15), optionally per category and time window, as
    ``gridtwin aggregate``. ``points`` is a path, a (Geo)DataFrame or an Arrow table;
    with ``grids`` raw points are assigned first (by level), else an assigned
    table's codes are read. With ``geometry=True`` the counts come back as a
    GeoDataFrame with each group's polygon (the H3 cell or the area), ready to plot.

    >>> gridtwin.aggregate(components, by="h3:9", geometry=True).plot(column="count")  # doctest: +SKIP
    """
    with tempfile.TemporaryDirectory(prefix="gridtwin-agg-") as tmp:
        args = ["aggregate", "--points", _points_file(points, tmp)]
        for b in [by] if isinstance(by, str) else by:
            args += ["--by", b]
        if grids is not None:
            args += ["--grids", _grids_path(grids, tmp)]
        if category:
            args.append("--category")
        if window:
            args += ["--window", window]
        out = os.path.join(tmp, "counts.geojson" if geometry else "counts.csv")
        run(*args, "--out", out, data=data)
        if geometry:
            import geopandas

            return geopandas.read_file(out)
        return pd.read_csv(out, dtype={"code": str, "grid_code": str, "h3": str})


def _grids_path(grids: Any, folder: str) -> str:
    from .city import City

    if isinstance(grids, City):
        return grids.path
    if isinstance(grids, (str, os.PathLike)):
        return os.fspath(grids)
    if type(grids).__name__ == "GeoDataFrame":
        path = os.path.join(folder, "grids.parquet")
        grids.to_parquet(path)
        return path
    source = getattr(grids, "source", None)
    if source:
        return source
    raise TypeError(f"grids must be a path, a City or a GeoDataFrame, not {type(grids).__name__}")


def grids_validate(
    grids: Any,
    *,
    min_area_m2: float = 2000.0,
    max_area_m2: float = 40000.0,
    tolerance_m2: float = 0.01,
    parents: str | None = None,
    data: str | None = None,
):
    """Check a grid layer (gaps, overlaps, sizes, codes, nesting) as
    ``gridtwin grids validate``; returns the problems as a GeoDataFrame (one row per
    problem: kind, codes, area, where) with the summary in ``.attrs["gridtwin"]``."""
    import geopandas

    with tempfile.TemporaryDirectory(prefix="gridtwin-validate-") as tmp:
        out = os.path.join(tmp, "validation")
        args = [
            "grids", "validate", "--grids", _grids_path(grids, tmp),
            "--min-area-m2", str(min_area_m2), "--max-area-m2", str(max_area_m2),
            "--tolerance-m2", str(tolerance_m2), "--out", out,
        ]
        if parents is not None:
            args += ["--parents", os.fspath(parents)]
        run(*args, data=data)
        problems = geopandas.read_file(os.path.join(out, "problems.geojson"))
        with open(os.path.join(out, "validation.json")) as f:
            problems.attrs["gridtwin"] = json.load(f)
        return problems
