"""``gridtwin.City``: a city directory's layers as GeoDataFrames."""

from __future__ import annotations

import json
import os
from functools import cached_property

import pyarrow as pa

from ._gridtwin import Grids, city_layers


def to_geodataframe(table: pa.Table):
    """An Arrow table with a WKB ``geometry`` column as a GeoDataFrame (WGS-84)."""
    import geopandas

    geometry = geopandas.GeoSeries.from_wkb(
        table.column("geometry").to_numpy(zero_copy_only=False), crs="EPSG:4326"
    )
    frame = table.drop_columns(["geometry"]).to_pandas()
    return geopandas.GeoDataFrame(frame, geometry=geometry.values, crs="EPSG:4326")


class City:
    """A city directory (``gridtwin import`` or ``gridtwin synth`` output), every record
    validated as ``gridtwin info`` does.

    Attributes
    ----------
    name : str
    path : str
    areas, grids, components, incidents, buildings, roads : GeoDataFrame
        ``grids`` is the unit-grid level of ``areas``.
    tables : dict of pyarrow.Table
        The same layers as Arrow (geometry as WKB), for work without GeoPandas.
    quality : dict
        Records read, loaded and rejected per file, with each rejection's record
        number and reason.

    Examples
    --------
    >>> city = gridtwin.City.load("data/helsinki/city")            # doctest: +SKIP
    >>> len(city.grids), city.quality["files"].keys()              # doctest: +SKIP
    """

    def __init__(self, name: str, path: str, tables: dict, quality: dict):
        self.name = name
        self.path = path
        self.tables = tables
        self.quality = quality
        self._grids: Grids | None = None

    @classmethod
    def load(cls, path: str | os.PathLike) -> "City":
        path = os.fspath(path)
        name, layers, quality = city_layers(path)
        tables = {layer: pa.table(stream) for layer, stream in layers}
        return cls(name, path, tables, json.loads(quality))

    def grid_index(self, data: str | None = None) -> Grids:
        """The city's unit grids, indexed for :func:`gridtwin.assign` (built once)."""
        if self._grids is None:
            self._grids = Grids.load(self.path, data)
        return self._grids

    @cached_property
    def areas(self):
        return to_geodataframe(self.tables["areas"])

    @cached_property
    def grids(self):
        areas = self.areas
        return areas[areas["level"] == "grid"].reset_index(drop=True)

    @cached_property
    def components(self):
        return to_geodataframe(self.tables["components"])

    @cached_property
    def incidents(self):
        return to_geodataframe(self.tables["incidents"])

    @cached_property
    def buildings(self):
        return to_geodataframe(self.tables["buildings"])

    @cached_property
    def roads(self):
        return to_geodataframe(self.tables["roads"])

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v.num_rows}" for k, v in self.tables.items())
        return f"City({self.name!r} at {self.path}; {counts})"
