"""gridtwin.dask: the assignment over a Dask cluster of worker processes equals the
single-process one, row for row."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import gridtwin
import gridtwin.dask as gdask


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    with Client(cluster) as c:
        yield c
    cluster.close()


def points(n: int, seed: int, bounds) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    frame = pd.DataFrame({
        "id": np.arange(n),
        "lon": rng.uniform(minx - 0.005, maxx + 0.005, n),
        "lat": rng.uniform(miny - 0.005, maxy + 0.005, n),
    })
    frame.loc[::997, "lon"] = np.nan  # some rejected rows in every partition
    return frame


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    from gridtwin.assign import ADDED

    for c in ADDED:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def test_dask_assign_on_two_worker_processes_equals_one_process(client, synth_grids):
    grids = gridtwin.Grids.load(str(synth_grids))
    import geopandas as gpd

    bounds = gpd.read_file(synth_grids).total_bounds
    frame = points(60_000, 11, bounds)
    single = plain(gridtwin.assign(frame, grids))
    ddf = dd.from_pandas(frame, npartitions=6)
    result = gdask.assign(ddf, synth_grids, client=client).compute()
    assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(result.sort_index(), single, check_dtype=False)
    counts = gdask.assign_report(result)
    r = gridtwin.report(gridtwin.assign(frame, grids))
    for k in ("rows", "assigned", "nearest", "unassigned", "rejected", "rejected_by_reason"):
        assert counts[k] == r[k], k
    # the grids were loaded once per worker process, not once per partition
    loaded = client.run(lambda: len(gdask._LOADED))
    assert all(n <= 1 for n in loaded.values()) and sum(loaded.values()) >= 1


def test_dask_assign_without_a_client_and_from_a_geodataframe_grid_set(synth_grids):
    import geopandas as gpd

    areas = gpd.read_file(synth_grids)
    frame = points(5_000, 12, areas.total_bounds)
    ddf = dd.from_pandas(frame, npartitions=3)
    got = gdask.assign(ddf, areas, nearest_m=200).compute(scheduler="synchronous")
    want = plain(gridtwin.assign(frame, str(synth_grids), nearest_m=200))
    pd.testing.assert_frame_equal(got.sort_index(), want, check_dtype=False)


def test_dask_simulate_on_two_worker_processes_equals_one_process(client, root, tmp_path):
    from test_commands import same_files

    scene = str(root / "scenes/baseline.toml")
    one = gridtwin.simulate(scene, replications=3, seed=9, out=tmp_path / "one")
    spread = gdask.simulate(scene, replications=3, seed=9, client=client, out=tmp_path / "spread")
    files = same_files(tmp_path / "one", tmp_path / "spread", skip=())
    assert len(files) > 8 and not any(str(f).startswith("part_") for f in files)
    pd.testing.assert_frame_equal(one.kpis, spread.kpis)
