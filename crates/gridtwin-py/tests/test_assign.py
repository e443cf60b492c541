"""gridtwin.assign against GeoPandas (an independent oracle), the documented boundary
rule, the command line's accounting, and round trips of the caller's data."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import gridtwin
from conftest import run_bin

CODES = ["99010100100101", "99010100100102", "99010100100103", "99010100100104"]
X0, Y0, D = 24.90, 60.10, 0.01


def quad_grids() -> gpd.GeoDataFrame:
    """Four square grids meeting at one vertex (SW, SE, NW, NE)."""
    return gpd.GeoDataFrame(
        {"code": CODES},
        geometry=[
            box(X0, Y0, X0 + D, Y0 + D),
            box(X0 + D, Y0, X0 + 2 * D, Y0 + D),
            box(X0, Y0 + D, X0 + D, Y0 + 2 * D),
            box(X0 + D, Y0 + D, X0 + 2 * D, Y0 + 2 * D),
        ],
        crs=4326,
    )


def grid_level(path) -> gpd.GeoDataFrame:
    areas = gpd.read_file(path)
    return areas[areas["code"].str.len() == 14].reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_assignment_equals_geopandas_sjoin_within_on_random_points(synth_grids, seed):
    grids = grid_level(synth_grids)
    minx, miny, maxx, maxy = grids.total_bounds
    rng = np.random.default_rng(seed)
    n = 20_000
    # a margin outside the grid set, so some points fall outside every grid
    lon = rng.uniform(minx - 0.01, maxx + 0.01, n)
    lat = rng.uniform(miny - 0.01, maxy + 0.01, n)
    points = gpd.GeoDataFrame({"id": np.arange(n)}, geometry=gpd.points_from_xy(lon, lat), crs=4326)

    ours = gridtwin.assign(points, synth_grids)
    joined = gpd.sjoin(points, grids[["code", "geometry"]], predicate="within", how="left")
    assert not joined.index.duplicated().any(), "random points on a shared edge"
    theirs = joined["code"].reindex(points.index)

    got = [None if pd.isna(v) else str(v) for v in ours["grid_code"]]
    want = [None if pd.isna(v) else str(v) for v in theirs]
    assert got == want
    inside = theirs.notna()
    assert (ours.loc[inside, "outcome"] == "assigned").all()
    assert (ours.loc[~inside, "outcome"] == "unassigned").all()
    assert (ours.loc[~inside, "reason"] == "outside every grid").all()
    assert 0 < (~inside).sum() < n
    # the levels above are the grid code's prefixes under the national code rule
    codes = ours.loc[inside, "grid_code"].astype(str)
    assert (ours.loc[inside, "community_code"].astype(str) == codes.str[:12]).all()
    assert (ours.loc[inside, "street_code"].astype(str) == codes.str[:9]).all()
    assert (ours.loc[inside, "district_code"].astype(str) == codes.str[:6]).all()
    r = gridtwin.report(ours)
    assert r["rows"] == n == r["assigned"] + r["nearest"] + r["unassigned"] + r["rejected"]
    assert r["assigned"] == inside.sum()


def test_points_on_shared_edges_and_vertices_follow_the_documented_rule():
    # east of a north-south edge, north of an east-west edge; the vertex shared by all
    # four goes north-east; points on the outer boundary go to the grid that holds them
    cases = [
        ((X0 + D, Y0 + 0.5 * D), CODES[1]),  # SW|SE edge -> SE
        ((X0 + D, Y0 + 1.5 * D), CODES[3]),  # NW|NE edge -> NE
        ((X0 + 0.5 * D, Y0 + D), CODES[2]),  # SW/NW edge -> NW
        ((X0 + 1.5 * D, Y0 + D), CODES[3]),  # SE/NE edge -> NE
        ((X0 + D, Y0 + D), CODES[3]),  # the shared vertex -> NE
        ((X0, Y0), CODES[0]),  # outer corners
        ((X0 + 2 * D, Y0 + 2 * D), CODES[3]),
        ((X0 + 2 * D, Y0 + 0.5 * D), CODES[1]),  # outer east edge
        ((X0 + D, Y0), CODES[1]),  # outer south edge at the SW|SE edge
    ]
    lon = np.array([c[0][0] for c in cases])
    lat = np.array([c[0][1] for c in cases])
    out = gridtwin.assign((lon, lat), quad_grids()).to_pandas()
    assert list(out["grid_code"].astype(str)) == [c[1] for c in cases]
    assert (out["outcome"] == "assigned").all()
    # every point lands in exactly one grid: GeoPandas' `intersects` sees two or four
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    hits = gpd.sjoin(pts, quad_grids(), predicate="intersects").groupby(level=0).size()
    assert hits.max() == 4


def test_the_same_boundary_points_through_the_command_line(tmp_path, gridtwin_bin):
    lon = np.array([X0 + D, X0 + 0.5 * D, X0 + D, 0.0])
    lat = np.array([Y0 + 0.5 * D, Y0 + D, Y0 + D, 0.0])
    grids = tmp_path / "grids.geojson"
    quad_grids().to_file(grids, driver="GeoJSON")
    pd.DataFrame({"id": range(4), "lon": lon, "lat": lat}).to_csv(tmp_path / "p.csv", index=False)
    done = run_bin(gridtwin_bin, "assign", "--grids", grids, "--points", tmp_path / "p.csv",
                   "--out", tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    cli = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    ours = gridtwin.assign((lon, lat), str(grids)).to_pandas()
    assert list(cli["grid_code"]) == [("" if pd.isna(g) else g) for g in ours["grid_code"]]
    assert list(cli["outcome"]) == list(ours["outcome"])
    cli_report = json.loads((tmp_path / "o.report.json").read_text())["assignment"]
    ours_report = gridtwin.report(gridtwin.assign((lon, lat), str(grids)))
    for k in ("rows", "assigned", "nearest", "unassigned", "rejected", "unassigned_by_reason", "boundary_rule"):
        assert cli_report[k] == ours_report[k], k


def test_a_messy_table_is_accounted_for_row_by_row(tmp_path, gridtwin_bin):
    inside = (X0 + 0.3 * D, Y0 + 0.3 * D)
    rows = [
        ("a", str(inside[0]), str(inside[1])),  # assigned
        ("b", "abc", "60.1"),  # text: bad_coordinate
        ("c", "", "60.1"),  # empty: missing_coordinate
        ("d", "nan", "60.1"),  # NaN: bad_coordinate
        ("e", "inf", "60.1"),  # infinite: bad_coordinate
        ("f", "200", "60.1"),  # out of range
        ("g", "24.0", "95"),  # out of range
        ("h", "24.0", "60.0"),  # outside every grid
        ("i", str(X0 + 2.0001 * D), str(Y0 + 0.5 * D)),  # just outside: nearest with 100 m
    ]
    frame = pd.DataFrame(rows, columns=["id", "lon", "lat"])
    frame.index = [10 * i for i in range(len(rows))]  # the caller's index is kept
    out = gridtwin.assign(frame, quad_grids(), nearest_m=100)
    assert list(out.index) == list(frame.index)
    assert list(out["id"]) == list(frame["id"])
    assert list(out["outcome"]) == [
        "assigned", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
        "unassigned", "nearest",
    ]
    assert list(out["reason"].fillna("")) == [
        "", "bad_coordinate", "missing_coordinate", "bad_coordinate", "bad_coordinate",
        "out_of_range", "out_of_range", "no grid within 100 m", "",
    ]
    d = out["distance_m"].iloc[-1]
    assert 0 < d < 100 and np.isnan(out["distance_m"].iloc[0])
    r = gridtwin.report(out)
    assert (r["rows"], r["assigned"], r["nearest"], r["unassigned"], r["rejected"]) == (9, 1, 1, 1, 6)
    assert r["rejected_by_reason"] == {"bad_coordinate": 3, "missing_coordinate": 1, "out_of_range": 2}

    # the command line reads the same rows as a CSV file and counts the same
    grids = tmp_path / "grids.geojson"
    quad_grids().to_file(grids, driver="GeoJSON")
    frame.to_csv(tmp_path / "messy.csv", index=False)
    done = run_bin(gridtwin_bin, "assign", "--grids", grids, "--points", tmp_path / "messy.csv",
                   "--nearest-m", "100", "--out", tmp_path / "o.csv")
    assert done.returncode == 0, done.stderr
    cli = json.loads((tmp_path / "o.report.json").read_text())["assignment"]
    for k in ("rows", "assigned", "nearest", "unassigned", "rejected", "rejected_by_reason", "unassigned_by_reason"):
        assert cli[k] == r[k], k


def test_geodataframe_round_trip_with_nulls_z_lines_and_mixed_dtypes():
    inside = Point(X0 + 0.5 * D, Y0 + 0.5 * D)
    frame = gpd.GeoDataFrame(
        {
            "n": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "name": ["p", "none", "z", "line", "empty"],
            "when": pd.to_datetime(["2025-01-01", None, "2025-01-03", "2025-01-04", "2025-01-05"]),
            "kind": pd.Categorical(["x", "y", "x", "y", "x"]),
            "grid_code": ["old"] * 5,  # an earlier assignment's column
        },
        geometry=[
            inside,
            None,
            Point(X0 + 1.5 * D, Y0 + 0.5 * D, 12.5),
            LineString([(X0, Y0), (X0 + D, Y0 + D)]),
            Point(),
        ],
        crs=4326,
    )
    out = gridtwin.assign(frame, quad_grids())
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == frame.crs
    assert out.geometry.name == "geometry"
    # the input's columns and values come back unchanged, the earlier codes as prev_
    pd.testing.assert_series_equal(out["n"], frame["n"])
    pd.testing.assert_series_equal(out["when"], frame["when"])
    pd.testing.assert_series_equal(out["kind"], frame["kind"])
    assert list(out["prev_grid_code"]) == ["old"] * 5
    same = shapely.equals_exact(out.geometry.values, frame.geometry.values)
    assert list(same) == [True, False, True, True, True]  # None equals nothing
    assert out.geometry.iloc[1] is None
    assert out.geometry.iloc[2].has_z
    assert list(out["outcome"]) == ["assigned", "rejected", "assigned", "rejected", "rejected"]
    assert list(out["reason"].fillna("")) == [
        "", "missing_coordinate", "", "wrong_geometry_type", "missing_coordinate"
    ]
    assert list(out["grid_code"].astype(object).fillna("")) == [CODES[0], "", CODES[1], "", ""]


def test_a_projected_geodataframe_is_reprojected_to_lon_lat():
    lon = np.array([X0 + 0.5 * D, X0 + 1.5 * D])
    lat = np.array([Y0 + 0.5 * D, Y0 + 1.5 * D])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(3067)
    out = gridtwin.assign(pts, quad_grids().to_crs(3067))
    assert list(out["grid_code"].astype(str)) == [CODES[0], CODES[3]]


def test_arrow_and_numpy_inputs_give_arrow_with_the_report():
    lon = np.array([X0 + 0.5 * D, 0.0])
    lat = np.array([Y0 + 0.5 * D, 0.0])
    table = pa.table({"x": lon, "y": lat, "tags": pa.array([["a"], []]),
                      "t": pa.array([1, 2], pa.timestamp("ms"))})
    out = gridtwin.assign(table, quad_grids())
    assert isinstance(out, pa.Table)
    from gridtwin.assign import ADDED

    assert out.column_names == ["x", "y", "tags", "t", *ADDED]
    assert out.column("tags").equals(table.column("tags"))
    assert pa.types.is_dictionary(out.schema.field("grid_code").type)
    assert out.column("grid_code").to_pylist() == [CODES[0], None]
    assert gridtwin.report(out)["unassigned"] == 1
    same = gridtwin.assign((lon, lat), quad_grids())
    assert same.column("outcome").to_pylist() == ["assigned", "unassigned"]
    # a record-batch reader (a stream, read once) is taken as well
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert gridtwin.assign(reader, quad_grids()).column("grid_code").to_pylist() == [CODES[0], None]


def test_one_grids_index_serves_many_tables_and_results_do_not_depend_on_batches():
    from gridtwin.assign import as_grids

    index = as_grids(quad_grids())
    rng = np.random.default_rng(5)
    lon = rng.uniform(X0 - 0.002, X0 + 2 * D + 0.002, 50_000)
    lat = rng.uniform(Y0 - 0.002, Y0 + 2 * D + 0.002, 50_000)
    whole = gridtwin.assign((lon, lat), index)
    table = pa.table({"lon": lon, "lat": lat})
    batched = gridtwin.assign(pa.Table.from_batches(table.to_batches(max_chunksize=777)), index)
    assert whole.column("grid_code").to_pylist() == batched.column("grid_code").to_pylist()
    assert gridtwin.report(whole) == gridtwin.report(batched)


def test_errors_name_the_file_as_the_command_line_does(tmp_path, gridtwin_bin):
    missing = tmp_path / "nowhere.geojson"
    with pytest.raises(gridtwin.GridtwinError) as e:
        gridtwin.Grids.load(str(missing))
    assert str(missing) in str(e.value)
    done = run_bin(gridtwin_bin, "assign", "--grids", missing, "--points", tmp_path / "p.csv",
                   "--out", tmp_path / "o.csv")
    assert done.returncode == 3
    assert str(e.value) in done.stderr
    with pytest.raises(ValueError, match="nearest_m"):
        gridtwin.assign((np.zeros(1), np.zeros(1)), quad_grids(), nearest_m=-1)
    with pytest.raises(ValueError, match="no lon column"):
        gridtwin.assign(pd.DataFrame({"a": [1.0]}), quad_grids())
    with pytest.raises(gridtwin.GridtwinError) as usage:
        gridtwin.run("assign", "--no-such-flag")
    assert usage.value.exit_code == 2


def test_any_number_type_and_nulls_in_arrow_columns():
    # a float64 column with nulls is read in place; float32 and integers are widened
    lon = pa.array([X0 + 0.5 * D, None, X0 + 1.5 * D, 500.0], pa.float64())
    lat = pa.array([Y0 + 0.5 * D, Y0, None, Y0], pa.float64())
    out = gridtwin.assign(pa.table({"lon": lon, "lat": lat}), quad_grids())
    assert out.column("outcome").to_pylist() == ["assigned", "rejected", "rejected", "rejected"]
    assert out.column("reason").to_pylist() == [None, "missing_coordinate", "missing_coordinate", "out_of_range"]
    f32 = pa.table({"lon": pa.array([X0 + 0.5 * D], pa.float32()), "lat": pa.array([Y0 + 0.5 * D], pa.float32())})
    assert gridtwin.assign(f32, quad_grids()).column("grid_code").to_pylist() == [CODES[0]]
    ints = pa.table({"lon": pa.array([25, None], pa.int64()), "lat": pa.array([60, 61], pa.int32())})
    got = gridtwin.assign(ints, quad_grids())
    assert got.column("outcome").to_pylist() == ["unassigned", "rejected"]
    with pytest.raises(gridtwin.GridtwinError, match="column `lon` holds"):
        gridtwin.assign(pa.table({"lon": ["a"], "lat": [1.0]}), quad_grids())


def test_geoarrow_points_separated_interleaved_and_wkb():
    lon = [X0 + 0.5 * D, None, X0 + 1.5 * D]
    lat = [Y0 + 0.5 * D, None, Y0 + 1.5 * D]
    want_codes = [CODES[0], None, CODES[3]]
    want_outcome = ["assigned", "rejected", "assigned"]
    # separated (struct<x, y>), as geoarrow.point tags it
    struct = pa.StructArray.from_arrays(
        [pa.array([v or 0.0 for v in lon]), pa.array([v or 0.0 for v in lat])], names=["x", "y"],
        mask=pa.array([False, True, False]),
    )
    field = pa.field("geom", struct.type, metadata={"ARROW:extension:name": "geoarrow.point"})
    t = pa.Table.from_arrays([pa.array([1, 2, 3]), struct], schema=pa.schema([("id", pa.int64()), field]))
    out = gridtwin.assign(t, quad_grids())
    assert out.column("grid_code").to_pylist() == want_codes
    assert out.column("outcome").to_pylist() == want_outcome
    assert out.column("reason").to_pylist()[1] == "missing_coordinate"
    # interleaved (fixed-size list of 2), in a column named geometry
    inter = pa.FixedSizeListArray.from_arrays(
        pa.array([lon[0], lat[0], 0.0, 0.0, lon[2], lat[2]]), 2, mask=pa.array([False, True, False])
    )
    out = gridtwin.assign(pa.table({"geometry": inter}), quad_grids())
    assert out.column("grid_code").to_pylist() == want_codes
    # WKB, with a line among the points
    wkb = shapely.to_wkb(np.array([Point(lon[0], lat[0]), None, LineString([(0, 0), (1, 1)])], dtype=object))
    out = gridtwin.assign(pa.table({"geometry": pa.array(list(wkb), pa.binary())}), quad_grids())
    assert out.column("reason").to_pylist() == [None, "missing_coordinate", "wrong_geometry_type"]
    assert out.column("grid_code").to_pylist()[0] == CODES[0]
    # a GeoDataFrame's own Arrow export (geopandas to_arrow, WKB) reads the same
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy([lon[0], lon[2]], [lat[0], lat[2]]), crs=4326)
    table = pa.table(gdf.to_arrow())
    assert gridtwin.assign(table, quad_grids()).column("grid_code").to_pylist() == [CODES[0], CODES[3]]
    # grids.validate lives under gridtwin.grids as well
    assert gridtwin.grids.validate is gridtwin.grids_validate
