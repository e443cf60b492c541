"""``gridtwin.assign``: points to unit grids and every level above, nothing lost."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa

from ._gridtwin import Grids, assign_arrow

#: The columns ``assign`` adds, in order (as the command line's output).
ADDED = (
    "grid_code",
    "community_code",
    "street_code",
    "district_code",
    "outcome",
    "reason",
    "distance_m",
)

# The command line's usual coordinate column names, tried in this order.
_LON_NAMES = ("lon", "lng", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_REJECT = "__gridtwin_reject"


def _is_geodataframe(obj: Any) -> bool:
    return type(obj).__name__ == "GeoDataFrame" and hasattr(obj, "geometry")


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def as_grids(grids: Any, data: str | None = None) -> Grids:
    """``grids`` as loaded :class:`Grids`: a Grids, a :class:`City`, a path (a layer
    file or a city directory) or a GeoDataFrame with a ``code`` column."""
    from .city import City

    if isinstance(grids, Grids):
        return grids
    if isinstance(grids, City):
        return grids.grid_index(data)
    if isinstance(grids, (str, os.PathLike)):
        return Grids.load(os.fspath(grids), data)
    if _is_geodataframe(grids):
        # Through a GeoParquet file: the grid loader then validates every record as
        # it does for any file (codes under the code rule, rings, duplicates).
        gdf = grids if grids.crs is None or grids.crs.to_epsg() == 4326 else grids.to_crs(4326)
        with tempfile.TemporaryDirectory(prefix="gridtwin-") as tmp:
            path = os.path.join(tmp, "grids.parquet")
            gdf.to_parquet(path)
            return Grids.load(path, data)
    raise TypeError(
        "grids must be gridtwin.Grids, gridtwin.City, a path or a GeoDataFrame, "
        f"not {type(grids).__name__}"
    )


def _pick(names: list[str], given: str | None, usual: tuple[str, ...], what: str) -> str:
    if given is not None:
        return given
    lower = {n.lower(): n for n in names}
    for u in usual:
        if u in lower:
            return lower[u]
    raise ValueError(
        f"no {what} column among {names}: name it with {what}=... "
        f"(usual names: {', '.join(usual)})"
    )


def _geometry_columns(gdf) -> pa.Table:
    """lon/lat of a GeoDataFrame's points (vectorised, no per-row objects), and the
    reason a row is rejected: no geometry, or not a point."""
    import shapely

    geoms = gdf.geometry
    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326") and geoms.crs.to_epsg() != 4326:
        geoms = geoms.to_crs(4326)
    arr = np.asarray(geoms.values)  # the frame's own geometry objects, not copies
    type_id = shapely.get_type_id(arr)  # -1 for a missing geometry, 0 for a point
    missing = type_id == -1
    missing[type_id == 0] = shapely.is_empty(arr[type_id == 0])
    not_point = type_id > 0
    ok = ~(missing | not_point)
    x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
    x[ok], y[ok] = shapely.get_x(arr[ok]), shapely.get_y(arr[ok])
    reject = np.full(len(arr), None, dtype=object)
    reject[missing] = "missing_coordinate"
    reject[not_point] = "wrong_geometry_type"
    return pa.table(
        {
            "lon": pa.array(x, mask=missing | not_point),
            "lat": pa.array(y, mask=missing | not_point),
            _REJECT: pa.array(reject, type=pa.string()),
        }
    )


def _geoarrow_column(table: pa.Table) -> str | None:
    """The GeoArrow geometry column of a table without lon/lat columns: one tagged
    ``geoarrow.point`` or ``geoarrow.wkb``, else one named ``geometry``."""
    names = [n.lower() for n in table.column_names]
    if any(n in names for n in _LON_NAMES) and any(n in names for n in _LAT_NAMES):
        return None
    for field in table.schema:
        ext = (field.metadata or {}).get(b"ARROW:extension:name", b"").decode()
        ext = ext or getattr(field.type, "extension_name", "") or ""
        if ext in ("geoarrow.point", "geoarrow.wkb"):
            return field.name
    return "geometry" if "geometry" in table.column_names else None


def _geoarrow_points(column) -> pa.Table:
    """lon/lat of a GeoArrow column: separated points (struct x, y[, z]) and
    interleaved ones (fixed-size list) are read without a copy per row; WKB is decoded
    by shapely (vectorised). Null rows are ``missing_coordinate``; in WKB, a line or
    polygon is ``wrong_geometry_type``."""
    import pyarrow.compute as pc

    arr = column.combine_chunks()
    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    n = len(arr)
    none = np.full(n, None, dtype=object)
    if pa.types.is_struct(arr.type):
        x, y = pc.struct_field(arr, [0]), pc.struct_field(arr, [1])
        missing = np.asarray(arr.is_null())
        none[missing] = "missing_coordinate"
        return pa.table({"lon": x, "lat": y, _REJECT: pa.array(none, type=pa.string())})
    if pa.types.is_fixed_size_list(arr.type):
        width = arr.type.list_size
        flat = arr.flatten() if arr.null_count == 0 else pc.list_flatten(arr.fill_null([np.nan] * width))
        values = np.asarray(flat).reshape(n, width)
        missing = np.asarray(arr.is_null())
        none[missing] = "missing_coordinate"
        return pa.table({
            "lon": pa.array(values[:, 0], mask=missing),
            "lat": pa.array(values[:, 1], mask=missing),
            _REJECT: pa.array(none, type=pa.string()),
        })
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        import shapely

        geoms = shapely.from_wkb(arr.to_numpy(zero_copy_only=False), on_invalid="ignore")
        type_id = shapely.get_type_id(geoms)
        missing = type_id == -1
        missing[type_id == 0] = shapely.is_empty(geoms[type_id == 0])
        not_point = type_id > 0
        ok = ~(missing | not_point)
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        x[ok], y[ok] = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
        none[missing] = "missing_coordinate"
        none[not_point] = "wrong_geometry_type"
        return pa.table({
            "lon": pa.array(x, mask=~ok), "lat": pa.array(y, mask=~ok),
            _REJECT: pa.array(none, type=pa.string()),
        })
    raise TypeError(f"geometry column of type {arr.type}: expected GeoArrow points or WKB")


def _added_names(existing: list[str]) -> dict[str, str]:
    """Input columns an earlier assignment left are kept as ``prev_…`` (as the CLI)."""
    return {c: f"prev_{c}" for c in existing if c in ADDED}


def assign(
    points: Any,
    grids: Any,
    nearest_m: float | None = None,
    *,
    lon: str | None = None,
    lat: str | None = None,
    coords: str = "wgs84",
    data: str | None = None,
):
    """Assign every point to its unit grid and the community, street and district
    above it, with the command line's rules.

    Parameters
    ----------
    points : GeoDataFrame, pandas.DataFrame, pyarrow.Table (or any object with
        ``__arrow_c_stream__``), or a ``(lon, lat)`` pair of numpy arrays.
        A GeoDataFrame's point geometries are used (reprojected to WGS-84 when it has
        another CRS; a Z coordinate is ignored); a row with no geometry is rejected as
        ``missing_coordinate``, a line or polygon as ``wrong_geometry_type``. Tables
        give their ``lon``/``lat`` columns (or ``lng``, ``longitude``, ``x`` /
        ``latitude``, ``y``; or those named by ``lon=``/``lat=``), of any number
        type; a null is ``missing_coordinate``, NaN or infinity ``bad_coordinate``,
        outside ±180/±90 ``out_of_range``.
    grids : Grids, City, path (layer file or city directory) or GeoDataFrame with a
        ``code`` column. Load a Grids once to assign many tables.
    nearest_m : float, optional
        Give a point outside every grid the nearest grid within this many metres
        (``outcome`` ``nearest``, ``distance_m`` set).
    coords : {"wgs84", "gcj02", "bd09"}
        The coordinate system of the points' lon/lat.

    Returns
    -------
    The input's type (a GeoDataFrame, a DataFrame, or a pyarrow.Table for Arrow and
    numpy inputs), row for row in input order, with the input's columns plus
    ``grid_code, community_code, street_code, district_code`` (categorical /
    dictionary-encoded), ``outcome`` (assigned, nearest, unassigned or rejected),
    ``reason`` (why a row is rejected or unassigned) and ``distance_m``. The counts
    (rows = assigned + nearest + unassigned + rejected, by reason) are in
    ``gridtwin.report(result)``: ``result.attrs["gridtwin"]`` for pandas, the
    schema metadata for Arrow.

    A point on an edge shared by two grids goes to the grid east of a north-south
    edge and north of an east-west edge (half-open cells), so each point lands in
    exactly one grid.

    Examples
    --------
    >>> grids = gridtwin.Grids.load("data/helsinki/city")      # doctest: +SKIP
    >>> out = gridtwin.assign(components_gdf, grids)           # doctest: +SKIP
    >>> out[["id", "grid_code", "outcome"]].head()             # doctest: +SKIP
    """
    index = as_grids(grids, data)
    kind = "arrow"
    if isinstance(points, tuple) and len(points) == 2:
        xs, ys = (np.asarray(a) for a in points)
        if xs.shape != ys.shape or xs.ndim != 1:
            raise ValueError(f"lon and lat must be 1-D arrays of one length, not {xs.shape} and {ys.shape}")
        table = pa.table({"lon": xs, "lat": ys})
        coords_table, lon_name, lat_name, reject = table, "lon", "lat", None
        kind = "numpy"
    elif _is_geodataframe(points):
        coords_table = _geometry_columns(points)
        lon_name, lat_name, reject = "lon", "lat", _REJECT
        kind = "geopandas"
    elif _is_pandas(points):
        names = [str(c) for c in points.columns]
        lon_name = _pick(names, lon, _LON_NAMES, "lon")
        lat_name = _pick(names, lat, _LAT_NAMES, "lat")
        (xs, x_bad), (ys, y_bad) = _numbers(points[lon_name]), _numbers(points[lat_name])
        bad = np.where(x_bad == None, y_bad, x_bad)  # noqa: E711 (elementwise)
        coords_table = pa.table(
            {lon_name: xs, lat_name: ys, _REJECT: pa.array(bad, type=pa.string())}
        )
        reject = _REJECT
        kind = "pandas"
    elif hasattr(points, "__arrow_c_stream__"):
        table = points if isinstance(points, pa.Table) else pa.table(points)
        geometry = None if (lon or lat) else _geoarrow_column(table)
        if geometry is not None:
            coords_table = _geoarrow_points(table.column(geometry))
            lon_name, lat_name, reject = "lon", "lat", _REJECT
        else:
            lon_name = _pick(table.column_names, lon, _LON_NAMES, "lon")
            lat_name = _pick(table.column_names, lat, _LAT_NAMES, "lat")
            coords_table, reject = table.select([lon_name, lat_name]), None
    else:
        raise TypeError(
            "points must be a GeoDataFrame, a DataFrame, an Arrow table or a (lon, lat) "
            f"pair of arrays, not {type(points).__name__}"
        )
    stream, report_json = assign_arrow(
        index, coords_table, lon_name, lat_name, nearest_m, coords, reject
    )
    added = pa.table(stream)
    report = json.loads(report_json)
    if kind in ("pandas", "geopandas"):
        import pandas as pd

        frame = added.to_pandas()
        frame.index = points.index
        base = points.rename(columns=_added_names(list(points.columns)))
        out = pd.concat([base, frame], axis=1)
        if kind == "geopandas":
            import geopandas

            out = geopandas.GeoDataFrame(out, geometry=points.geometry.name, crs=points.crs)
        out.attrs["gridtwin"] = report
        return out
    base = table.rename_columns(
        [_added_names(table.column_names).get(c, c) for c in table.column_names]
    )
    for name in added.column_names:
        base = base.append_column(added.schema.field(name), added.column(name))
    meta = dict(base.schema.metadata or {})
    meta[b"gridtwin"] = json.dumps(report).encode()
    return base.replace_schema_metadata(meta)


def _numbers(series) -> tuple[pa.Array, np.ndarray]:
    """A pandas column as Arrow numbers, and per row the reason it cannot be one, as
    the CSV reader judges a field: missing (null, empty text) or not a number (other
    text). NaN and infinities stay numbers and are rejected by the assignment as
    ``bad_coordinate``, as in a file."""
    import pandas as pd

    n = len(series)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return pa.array(series, from_pandas=False), np.full(n, None, dtype=object)
    text = series.astype("string").str.strip()
    missing = (series.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    number = pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    not_number = (~missing) & number.isna().to_numpy()
    reason = np.full(n, None, dtype=object)
    reason[missing] = "missing_coordinate"
    reason[not_number] = "bad_coordinate"
    return pa.array(number.to_numpy(), mask=missing | not_number), reason


def report(result) -> dict:
    """The counts of an :func:`assign` result (rows, assigned, nearest, unassigned,
    rejected, by reason, the boundary rule)."""
    if hasattr(result, "attrs") and "gridtwin" in getattr(result, "attrs", {}):
        return result.attrs["gridtwin"]
    meta = getattr(getattr(result, "schema", None), "metadata", None) or {}
    if b"gridtwin" in meta:
        return json.loads(meta[b"gridtwin"])
    raise ValueError("not a gridtwin.assign result (no report attached)")
