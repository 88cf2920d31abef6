"""The dask path against the single-process path (the oracle), on the bundled sample."""

from __future__ import annotations

import os
import pickle
import warnings

import cloudpickle
import dask
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.affinity import translate

import redline
from redline import datasets
from redline.errors import ArgumentError, CRSError, LayerError, RedlineWarning
from redline.parallel import classify_dask, concat_screenings, is_dask_frame, screen_dask
from redline.run import api, executors

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def planning():
    return redline.load_planning()


@pytest.fixture(scope="module")
def sites():
    return gpd.read_file(datasets.get_path("sites"))


@pytest.fixture(scope="module")
def oracle(sites, planning):
    return redline.screen(sites, planning)


def to_dask(gdf: gpd.GeoDataFrame, npartitions: int) -> dask_geopandas.GeoDataFrame:
    # dask would turn text columns into pyarrow strings; keep pandas' dtypes for exact equality
    with dask.config.set({"dataframe.convert-string": False}):
        return dask_geopandas.from_geopandas(gdf, npartitions=npartitions)


def assert_same_screening(got: redline.Screening, want: redline.Screening) -> None:
    pd.testing.assert_frame_equal(got.sites, want.sites, check_exact=True)
    pd.testing.assert_frame_equal(got.layer_overlaps, want.layer_overlaps, check_exact=True)
    # Land-cover shares depend on the raster window read for the batch (~1e-12 relative).
    pd.testing.assert_frame_equal(
        got.findings.drop(columns="geometry"),
        want.findings.drop(columns="geometry"),
        check_exact=False,
        rtol=1e-9,
        atol=0,
    )
    assert got.findings.crs == want.findings.crs
    assert got.findings.geometry.geom_equals_exact(want.findings.geometry, 1e-6).all()


def test_screen_on_two_worker_processes_equals_single_process(client, sites, planning, oracle):
    got = screen_dask(to_dask(sites, 4), planning, client=client)
    assert_same_screening(got, oracle)
    assert got.planning is planning and got.rules == oracle.rules


def test_screen_dispatches_to_the_active_client(client, sites, planning, oracle):
    with client.as_current():
        got = screen_dask(to_dask(sites, 3), planning)
    assert_same_screening(got, oracle)


def test_screen_on_local_threads_equals_single_process(sites, planning, oracle):
    assert_same_screening(screen_dask(to_dask(sites, 4), planning), oracle)


def test_classify_on_two_worker_processes_equals_single_process(client, planning):
    parcels = gpd.read_file(datasets.get_path("parcels"))
    want = redline.classify(parcels, planning)
    got = classify_dask(to_dask(parcels, 4), planning, client=client)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(
        classify_dask(to_dask(parcels, 3), planning), want, check_exact=True
    )


def test_duplicate_site_id_across_partitions(client, sites, planning):
    twice = pd.concat([sites.iloc[:5], sites.iloc[3:8]], ignore_index=True)
    with pytest.raises(LayerError, match=r"not unique: \['JL-0004', 'JL-0005'\].*partitions"):
        screen_dask(to_dask(twice, 2), planning, client=client)


def test_duplicate_site_id_within_a_partition_is_raised_from_the_worker(client, sites, planning):
    twice = pd.concat([sites.iloc[:2], sites.iloc[:2]], ignore_index=True)
    with pytest.raises(LayerError, match=r"not unique: \['JL-0001', 'JL-0002'\]"):
        screen_dask(to_dask(twice, 1), planning, client=client)


def test_partition_wholly_outside_jilin_is_screened_like_the_whole(client, sites, planning):
    # 20 sites moved 30° west: outside Jilin. Alone, a part holding only those is refused (a
    # wrong CRS, most likely); as part of a larger input they are simply not assessed.
    away = sites.iloc[:20].copy()
    away["site_id"] = [f"FAR-{i}" for i in range(20)]
    away["geometry"] = away.geometry.apply(lambda g: translate(g, xoff=-30))
    both = pd.concat([sites.iloc[:40], away], ignore_index=True)
    want = redline.screen(both, planning)
    assert (want.sites["verdict"].iloc[40:] == "not_assessed").all()
    got = screen_dask(to_dask(both, 3), planning, client=client)
    assert got.sites.index.equals(both.index)
    assert_same_screening(got, want)
    with pytest.raises(CRSError, match="fall outside the planning region"):
        redline.screen(away, planning)
    with pytest.raises(CRSError, match="fall outside the planning region"):
        screen_dask(to_dask(away, 2), planning, client=client)


def test_worker_warnings_reach_the_caller_once(client, sites, planning):
    odd = sites.iloc[:30].copy()
    odd["project_type"] = "spaceport"
    with pytest.warns(RedlineWarning, match="unknown project_type values") as caught:
        got = screen_dask(to_dask(odd, 2), planning, client=client)
    assert len([w for w in caught if "spaceport" in str(w.message)]) == 1
    assert (got.sites["project_type_used"] == redline.schema.GENERAL_CONSTRUCTION).all()


def test_planning_pickles_without_prepared_layers_and_rebuilds_them(planning, sites):
    planning.prepared("redlines")
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)):
        copy = loads(dumps(planning))
        assert copy._prepared == {}
        assert copy.kinds == planning.kinds
        pd.testing.assert_frame_equal(copy["redlines"], planning["redlines"])
        prepared = copy.prepared("redlines")
        assert copy.prepared("redlines") is prepared  # rebuilt once, then kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy = pickle.loads(pickle.dumps(planning))
    assert_same_screening(
        redline.screen(sites.iloc[:25], copy), redline.screen(sites.iloc[:25], planning)
    )


def test_the_planning_is_scattered_once_per_client_and_kept(client, sites, planning, oracle):
    first = screen_dask(to_dask(sites, 2), planning, client=client)
    kept = executors._SCATTERED[planning][client.id]
    again = screen_dask(to_dask(sites, 3), planning, client=client)
    assert executors._SCATTERED[planning][client.id] is kept  # not scattered again
    assert_same_screening(first, oracle)
    assert_same_screening(again, oracle)
    other = pickle.loads(pickle.dumps(planning))  # another planning: scattered on its own
    screen_dask(to_dask(sites.head(10), 2), other, client=client)
    assert executors._SCATTERED[other][client.id] is not kept


def test_concat_screenings_is_the_whole_screening(sites, planning, oracle):
    parts = [redline.screen(sites.iloc[i : i + 100], planning) for i in range(0, len(sites), 100)]
    assert_same_screening(concat_screenings(parts), oracle)
    assert_same_screening(concat_screenings([oracle]), oracle)


def test_concat_screenings_refuses_what_cannot_be_combined(sites, planning):
    a = redline.screen(sites.iloc[:3], planning)
    with pytest.raises(ValueError, match="at least one Screening"):
        concat_screenings([])
    other = pickle.loads(pickle.dumps(planning))
    with pytest.raises(ValueError, match="another planning or ruleset"):
        concat_screenings([a, redline.screen(sites.iloc[3:6], other)])
    with pytest.raises(LayerError, match=r"not unique: \['JL-0001', 'JL-0002', 'JL-0003'\]"):
        concat_screenings([a, a])


def test_is_dask_frame(sites):
    assert is_dask_frame(to_dask(sites, 2))
    assert not is_dask_frame(sites)
    assert not is_dask_frame(to_dask(sites, 2).geometry)


def test_wrong_input_type(planning, sites):
    with pytest.raises(TypeError, match=r"dask_geopandas\.GeoDataFrame, not GeoDataFrame"):
        screen_dask(sites, planning)
    with pytest.raises(TypeError, match=r"dask_geopandas\.GeoDataFrame, not GeoDataFrame"):
        classify_dask(sites, planning)


def test_empty_partitions_are_harmless(client, sites, planning, oracle):
    frame = to_dask(sites, 4)
    some_empty = frame[frame["site_id"] < "JL-0060"]  # later partitions become empty
    got = screen_dask(some_empty, planning, client=client)
    want = redline.screen(sites[sites["site_id"] < "JL-0060"], planning)
    assert_same_screening(got, want)
    assert np.array_equal(got.sites.index, np.arange(59))
    assert shapely.equals_exact(got.sites.geometry.values, sites.geometry.values[:59]).all()


def test_chunked_file_on_the_cluster_equals_the_whole(client, planning, oracle, tmp_path):
    from redline.batch import screen_file

    out = screen_file(
        datasets.get_path("sites"),
        tmp_path,
        planning=planning,
        chunk_size=124,
        client=client,
        gather_up_to=1000,
    )
    assert (out.n_chunks, out.n_sites) == (2, 247)
    assert_same_screening(out.screening, oracle)


def test_classify_on_local_threads_after_screening_the_same_planning(sites):
    """Threads classifying against a planning the screening already prepared: the zoning
    layer's self-overlap check once ran on the layer's shared prepared parts from several
    threads and crashed the interpreter (GEOS prepares geometries lazily)."""
    parcels = gpd.read_file(datasets.get_path("parcels")).head(300)
    for _ in range(3):
        planning = redline.load_planning()
        screen_dask(dask_geopandas.from_geopandas(sites.head(8), npartitions=2), planning)
        with dask.config.set(scheduler="threads"):
            out = classify_dask(dask_geopandas.from_geopandas(parcels, npartitions=3), planning)
        expected = redline.classify(parcels, planning, n_jobs=1)
        pd.testing.assert_series_equal(out["zone"], expected["zone"])


# -- forked worker processes (the default for large batches) --------------------------------------


@pytest.fixture
def fork_small(monkeypatch):
    """Fork for batches of 10 or more; records the number of chunks of each forked run."""
    monkeypatch.setattr(api, "FORK_MIN_SITES", 10)
    monkeypatch.setattr(api, "FORK_MIN_PARCELS", 10)
    calls = []
    real = api.fork_map

    def counted(func, frame, **kwargs):
        results = real(func, frame, **kwargs)
        calls.append(len(results))
        return results

    monkeypatch.setattr(api, "fork_map", counted)
    return calls


def test_fork_workers_only_for_large_batches_and_several_cores():
    cores = len(os.sched_getaffinity(0))
    assert executors.fork_workers(19_999, None, minimum=20_000) == 1
    assert executors.fork_workers(10**6, 1, minimum=20_000) == 1
    assert executors.fork_workers(10**6, None, minimum=20_000) == cores
    assert executors.fork_workers(10**6, cores + 5, minimum=20_000) == cores  # no oversubscribing
    assert executors.fork_workers(25_000, 8, minimum=20_000) == min(2, cores)  # ≥ minimum/2 each
    with pytest.raises(ArgumentError, match="n_jobs must be at least 1; received 0"):
        executors.fork_workers(10**6, 0, minimum=20_000)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="forks only with 2 or more cores")
def test_screen_on_forked_workers_equals_single_process(fork_small, sites, planning, oracle):
    got = redline.screen(sites, planning, n_jobs=2)
    assert fork_small == [8]  # 247 sites in 8 chunks (4 per worker) on worker processes
    assert_same_screening(got, oracle)
    assert got.planning is planning and got.rules == oracle.rules
    assert got.sites.index.equals(sites.index)
    assert got.summary()["sites"].tolist() == [2, 71, 94, 25, 55]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="forks only with 2 or more cores")
def test_classify_on_forked_workers_equals_single_process(fork_small, planning):
    parcels = gpd.read_file(datasets.get_path("parcels")).head(200)
    got = redline.classify(parcels, planning, n_jobs=2)
    assert fork_small == [8]
    pd.testing.assert_frame_equal(got, redline.classify(parcels.head(200), planning, n_jobs=1))
    assert got["zone"].value_counts().sum() == 200


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="forks only with 2 or more cores")
def test_forked_workers_fail_and_warn_like_the_single_process(fork_small, sites, planning):
    odd = sites.iloc[:60].copy()
    odd["project_type"] = "spaceport"
    with pytest.warns(RedlineWarning, match="unknown project_type values") as caught:
        got = redline.screen(odd, planning, n_jobs=2)
    assert len([w for w in caught if "spaceport" in str(w.message)]) == 1
    assert (got.sites["project_type_used"] == redline.schema.GENERAL_CONSTRUCTION).all()
    # refused before any worker starts: duplicate ids in different chunks
    twice = pd.concat([sites.iloc[:50], sites.iloc[45:60]], ignore_index=True)
    with pytest.raises(LayerError, match=r"not unique: \['JL-0046'"):
        redline.screen(twice, planning, n_jobs=2)
    # raised in a worker, re-raised here
    with pytest.raises(CRSError, match="no coordinate reference system"):
        redline.screen(sites.iloc[:60].set_crs(None, allow_override=True), planning, n_jobs=2)
    # a chunk wholly outside Jilin is not assessed; the whole input outside is refused
    away = sites.iloc[:50].copy()
    away["site_id"] = [f"FAR-{i}" for i in range(50)]
    away["geometry"] = away.geometry.apply(lambda g: translate(g, xoff=-30))
    both = pd.concat([sites.iloc[:40], away], ignore_index=True)
    got = redline.screen(both, planning, n_jobs=2)
    assert_same_screening(got, redline.screen(both, planning, n_jobs=1))
    assert (got.sites["verdict"].iloc[40:] == "not_assessed").all()
    with pytest.raises(CRSError, match="fall outside the planning region"):
        redline.screen(away, planning, n_jobs=2)
    assert fork_small == [8, 8, 8]  # the batches the workers ran to the end (not the 2 refused)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="forks only with 2 or more cores")
def test_a_worker_that_dies_is_an_error_not_a_result(sites, tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    def dies(chunk):
        os._exit(3)  # as a worker killed by a crash or the OOM killer

    monkeypatch.setattr(executors, "_spill_dir", lambda: str(tmp_path))
    with pytest.raises(BrokenProcessPool):
        executors.fork_map(dies, sites, n_jobs=2, progress=False, desc="test")
    assert executors._FORKED == {}  # nothing left registered
    assert list(tmp_path.iterdir()) == []  # nor any result file


def test_results_go_to_the_temporary_folder_when_dev_shm_is_small(monkeypatch):
    """A container's /dev/shm is often 64 MB: too small for a few chunks' results."""
    import types

    free = {"bytes": 64 << 20}

    def statvfs(path):
        return types.SimpleNamespace(f_bavail=free["bytes"] // 4096, f_frsize=4096)

    monkeypatch.setattr(executors.os, "statvfs", statvfs)
    monkeypatch.setattr(executors.os, "access", lambda path, mode: True)
    assert executors._spill_dir() is None  # tempfile's default folder
    free["bytes"] = 4 << 30
    assert executors._spill_dir() == "/dev/shm"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="forks only with 2 or more cores")
def test_forked_results_come_back_through_files_that_are_removed(sites, tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "_spill_dir", lambda: str(tmp_path))
    chunks = executors.fork_map(lambda chunk: chunk.index.tolist(), sites, n_jobs=2,
                                progress=False, desc="test")
    assert len(chunks) == 8  # 2 workers x 4 chunks, in order
    assert [label for chunk in chunks for label in chunk] == sites.index.tolist()
    assert list(tmp_path.iterdir()) == []
