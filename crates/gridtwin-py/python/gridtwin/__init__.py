"""gridtwin: unit-grid city management and digital twin, from Python.

The work is done in Rust (the same code as the ``gridtwin`` command line); points and
results cross the boundary as Arrow, through the C stream interface, without a Python
object per row.

>>> import numpy as np, gridtwin
>>> grids = gridtwin.Grids.load("data/helsinki/city")          # doctest: +SKIP
>>> out = gridtwin.assign((np.array([24.94]), np.array([60.17])), grids)  # doctest: +SKIP
>>> gridtwin.report(out)["assigned"]                           # doctest: +SKIP
1

Main entry points
-----------------
City.load(path)             a city directory's layers as GeoDataFrames
Grids.load(path)            unit grids read, validated and indexed once
assign(points, grids)       every point to its grid, community, street and district
aggregate(points, by=...)   counts per grid, level or H3 cell
grids.validate(grids)       the problems of a grid layer, as a GeoDataFrame
simulate(scenario, ...)     seeded replications of a twin scenario
compare(a, b)               paired comparison of two simulate runs
vitals(timeline, city)      city vital signs from a case timeline
gridtwin.dask               the same assignment over a Dask cluster
"""

from ._gridtwin import GridtwinError, Grids, __version__
from .assign import assign, report
from . import grids
from .city import City
from .commands import (
    Simulation,
    aggregate,
    compare,
    grids_validate,
    run,
    simulate,
    vitals,
)

__all__ = [
    "City",
    "Grids",
    "GridtwinError",
    "Simulation",
    "__version__",
    "aggregate",
    "assign",
    "compare",
    "grids",
    "grids_validate",
    "report",
    "run",
    "simulate",
    "vitals",
]
