"""City.load's accounting, and the twin's commands equal to the command line's files
for the same seed."""

import filecmp
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import gridtwin
from conftest import run_bin


def test_city_load_gives_geodataframes_and_accounts_for_planted_bad_rows(root, tmp_path):
    city_dir = tmp_path / "city"
    shutil.copytree(root / "data/helsinki/city", city_dir)
    comps = city_dir / "components.csv"
    lines = comps.read_text().splitlines()
    n_good = len(lines) - 1
    lines += [
        "9901010202999998,0202,Traffic Police,in_service,bad1,abc,60.17",  # not a number
        "9901010202999999,0202,Traffic Police,in_service,bad2,24.94,",  # empty lat
        "12,0202,Traffic Police,in_service,bad3,24.94,60.17",  # malformed code
    ]
    comps.write_text("\n".join(lines) + "\n")

    city = gridtwin.City.load(city_dir)
    assert isinstance(city.components, gpd.GeoDataFrame)
    assert len(city.components) == n_good
    assert len(city.grids) == 192 and (city.grids["level"] == "grid").all()
    assert city.grids.crs == "EPSG:4326" and city.grids.geom_type.isin(["MultiPolygon"]).all()
    files = {k: v for k, v in city.quality["files"].items() if "components" in k}
    (q,) = files.values()
    assert (q["read"], q["loaded"], q["rejected"]) == (n_good + 3, n_good, 3)
    reasons = q["reasons"]
    assert set(reasons) == {"bad_coordinate", "missing_coordinate", "malformed_code"}
    assert reasons["bad_coordinate"]["examples"][0]["record"] == n_good + 1

    # assigning the city's own components puts each in the grid its code's area holds
    out = gridtwin.assign(city.components, city)
    assert gridtwin.report(out)["assigned"] == n_good


def test_city_load_errors_name_the_place(tmp_path):
    with pytest.raises(gridtwin.GridtwinError, match=str(tmp_path / "nothing")):
        gridtwin.City.load(tmp_path / "nothing")


def same_files(a: Path, b: Path, skip=("manifest.json",)):
    """Every file under a and b, byte for byte (the manifest names its folder)."""
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name not in skip)
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name not in skip)
    assert fa == fb
    for rel in fa:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    return fa


def test_simulate_compare_and_vitals_equal_the_command_line(root, tmp_path, gridtwin_bin, monkeypatch):
    # the scenario given as the command line is given it (the resolved copy names it)
    monkeypatch.chdir(root)
    runs = {}
    for scene in ("baseline", "whatif_double_patrol"):
        sim = gridtwin.simulate(f"scenes/{scene}.toml", replications=2, seed=7,
                                out=tmp_path / f"py_{scene}")
        done = run_bin(gridtwin_bin, "simulate", f"scenes/{scene}.toml", "--replications", 2,
                       "--seed", 7, "--out", tmp_path / f"cli_{scene}")
        assert done.returncode == 0, done.stderr
        files = same_files(Path(sim.path), tmp_path / f"cli_{scene}")
        assert Path("rep_001/timeline.parquet") in files
        runs[scene] = sim
    sim = runs["baseline"]
    assert len(sim.kpis) == 2 and len(sim.summary) > 0
    cli_kpis = pd.read_parquet(tmp_path / "cli_baseline/kpis.parquet")
    pd.testing.assert_frame_equal(sim.kpis, cli_kpis)
    timeline = sim.timeline(1)
    assert len(timeline) == len(pd.read_parquet(tmp_path / "cli_baseline/rep_001/timeline.parquet"))

    table = gridtwin.compare(runs["baseline"], runs["whatif_double_patrol"], out=tmp_path / "py_cmp")
    done = run_bin(gridtwin_bin, "compare", tmp_path / "cli_baseline", tmp_path / "cli_whatif_double_patrol",
                   "--out", tmp_path / "cli_cmp")
    assert done.returncode == 0, done.stderr
    same_files(tmp_path / "py_cmp", tmp_path / "cli_cmp")
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "cli_cmp/compare.csv"))

    tl = tmp_path / "cli_baseline/rep_000/timeline.parquet"
    v = gridtwin.vitals(tl, city="data/helsinki/city", out=tmp_path / "py_vitals")
    done = run_bin(gridtwin_bin, "vitals", tl, "--city", "data/helsinki/city", "--out", tmp_path / "cli_vitals")
    assert done.returncode == 0, done.stderr
    same_files(tmp_path / "py_vitals", tmp_path / "cli_vitals")
    assert len(v.indicators) > 0 and isinstance(v.hotspots, gpd.GeoDataFrame)


def test_a_parquet_timeline_reads_as_the_csv_one(root, tmp_path):
    a = gridtwin.simulate(root / "scenes/baseline.toml", replications=1, seed=3, out=tmp_path / "csv",
                          format="csv")
    b = gridtwin.simulate(root / "scenes/baseline.toml", replications=1, seed=3, out=tmp_path / "pq")
    assert (tmp_path / "csv/kpis.csv").exists() and (tmp_path / "pq/kpis.parquet").exists()
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.backlog, b.backlog)
    ta, tb = a.timeline(0), b.timeline(0)
    assert list(ta.columns) == list(tb.columns) and len(ta) == len(tb)


def test_aggregate_by_h3_and_by_grid(root):
    comps = root / "data/helsinki/city/components.csv"
    by_h3 = gridtwin.aggregate(comps, by="h3:8", grids=root / "data/helsinki/city")
    by_grid = gridtwin.aggregate(comps, by="grid", grids=root / "data/helsinki/city")
    count = [c for c in by_h3.columns if c == "count"][0]
    assert by_h3[count].sum() == by_grid["count"].sum() == 2145
    city = gridtwin.City.load(root / "data/helsinki/city")
    from_frame = gridtwin.aggregate(city.components, by="h3:8", grids=city)
    pd.testing.assert_frame_equal(
        from_frame.sort_values(list(from_frame.columns)).reset_index(drop=True),
        by_h3.sort_values(list(by_h3.columns)).reset_index(drop=True),
    )


def test_grids_validate_returns_the_problems(tmp_path):
    from shapely.geometry import box

    grids = gpd.GeoDataFrame(
        {"code": ["99010100100101", "99010100100102"]},
        geometry=[box(24.90, 60.10, 24.91, 60.11), box(24.905, 60.10, 24.915, 60.11)],  # overlap
        crs=4326,
    )
    problems = gridtwin.grids_validate(grids, min_area_m2=1, max_area_m2=1e9)
    assert isinstance(problems, gpd.GeoDataFrame) and len(problems) >= 1
    assert problems.attrs["gridtwin"]
    assert problems.astype(str).apply(lambda c: c.str.contains("overlap")).any().any()
