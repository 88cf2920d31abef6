"""Chunked screening of files against the whole-file screening (the oracle)."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
from shapely.affinity import translate

import redline
import redline.run.parts
from redline import datasets
from redline.batch import screen_file
from redline.errors import ArgumentError, CRSError, LayerError
from redline.io import iter_layer_chunks, read_layer, write_layer
from redline.report import OUTPUT_FILES, write_screening


@pytest.fixture(scope="module")
def planning():
    return redline.load_planning()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory, planning):
    out = tmp_path_factory.mktemp("whole")
    return write_screening(redline.screen(read_layer(datasets.get_path("sites")), planning), out)


def read_back(path):
    if path.suffix == ".gpkg":
        return {layer: pyogrio.read_dataframe(path, layer=layer) for layer in ("sites", "findings")}
    return path.read_bytes()


def assert_same_outputs(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want) == sorted(OUTPUT_FILES)
    for role in OUTPUT_FILES:
        if role == "geopackage":
            for layer, frame in read_back(got[role]).items():
                pd.testing.assert_frame_equal(
                    frame, read_back(want[role])[layer], check_exact=False, rtol=1e-9, atol=0
                )
        elif role == "findings":  # land-cover shares vary with the chunk at ~1e-12 relative
            pd.testing.assert_frame_equal(
                pd.read_csv(got[role], encoding="utf-8-sig"),
                pd.read_csv(want[role], encoding="utf-8-sig"),
                check_exact=False,
                rtol=1e-9,
            )
        elif role == "record":  # the same inputs and verdicts; times and options differ
            a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (got[role], want[role]))
            for key in ("ruleset", "verdicts", "working_crs", "versions"):
                assert a[key] == b[key], key
            assert a["inputs"]["planning"] == b["inputs"]["planning"]
        else:
            assert read_back(got[role]) == read_back(want[role]), role


def test_chunked_outputs_equal_the_whole_screening(tmp_path, planning, oracle):
    out = screen_file(datasets.get_path("sites"), tmp_path, planning=planning, chunk_size=50)
    assert (out.n_sites, out.n_chunks) == (247, 5)
    assert_same_outputs(out.paths, oracle)
    assert out.n_findings == len(pd.read_csv(oracle["findings"], encoding="utf-8-sig"))
    want = pd.read_csv(oracle["summary"], encoding="utf-8-sig")
    # the file also names the one map and the ruleset screened against (one value each)
    about = want[["planning", "illustrative", "ruleset"]].drop_duplicates()
    assert about.values.tolist() == [[planning.name, "yes", "jilin 2.0"]]
    pd.testing.assert_frame_equal(out.summary.reset_index(drop=True),
                                  want.drop(columns=about.columns), check_dtype=False)
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob(".redline-*"))


def test_one_chunk_gathered(tmp_path, planning, oracle):
    path = datasets.get_path("sites")
    out = screen_file(path, tmp_path, planning=planning, chunk_size=10_000, gather_up_to=247)
    assert out.n_chunks == 1
    assert_same_outputs(out.paths, oracle)
    whole = redline.screen(read_layer(path), planning)
    pd.testing.assert_frame_equal(out.screening.sites, whole.sites)
    assert len(out.screening.findings) == len(whole.findings) == out.n_findings


def test_gathers_only_up_to_the_limit(tmp_path, planning):
    path = datasets.get_path("sites")
    assert screen_file(path, tmp_path, planning=planning, chunk_size=200).screening is None
    assert (
        screen_file(path, tmp_path, planning=planning, chunk_size=200, gather_up_to=246).screening
        is None
    )


def test_chunks_wholly_outside_jilin_screen_like_the_whole(tmp_path, planning):
    sites = read_layer(datasets.get_path("sites")).iloc[:30]
    away = sites.iloc[:12].copy()
    away["site_id"] = [f"FAR-{i}" for i in range(12)]
    away["geometry"] = away.geometry.apply(lambda g: translate(g, xoff=-30))
    both = pd.concat([sites, away], ignore_index=True)
    path = write_layer(both, tmp_path / "both.gpkg")
    want = write_screening(redline.screen(both, planning), tmp_path / "whole")
    got = screen_file(path, tmp_path / "chunked", planning=planning, chunk_size=15)
    assert got.n_chunks == 3  # the last one wholly outside Jilin
    assert_same_outputs(got.paths, want)
    far = write_layer(away, tmp_path / "far.gpkg")
    with pytest.raises(CRSError, match="fall outside the planning region"):
        screen_file(far, tmp_path / "far", planning=planning, chunk_size=12)
    assert not (tmp_path / "far" / "sites.csv").exists()


def test_duplicate_site_id_across_chunks(tmp_path, planning):
    sites = read_layer(datasets.get_path("sites")).iloc[:20]
    twice = pd.concat([sites, sites.iloc[[3]]], ignore_index=True)
    path = write_layer(twice, tmp_path / "twice.gpkg")
    with pytest.raises(
        LayerError,
        match=r"not unique: \['JL-0004'\] \(used again in rows "
        r"\[20\], across chunks\)",
    ):
        screen_file(path, tmp_path / "out", planning=planning, chunk_size=8)
    assert not (tmp_path / "out").exists()  # the run made the folder, the failure removed it


def test_a_failure_leaves_the_previous_outputs_intact(tmp_path, planning, monkeypatch):
    path = datasets.get_path("sites")
    first = screen_file(path, tmp_path, planning=planning, chunk_size=1000)
    before = {role: p.read_bytes() for role, p in first.paths.items()}
    calls = []
    real = redline.run.parts.screen_frame

    def third_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(redline.run.parts, "screen_frame", third_fails)
    with pytest.raises(RuntimeError, match="disk on fire"):
        screen_file(path, tmp_path, planning=planning, chunk_size=50)
    assert {role: p.read_bytes() for role, p in first.paths.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUT_FILES.values())


def test_chunks_are_what_a_whole_read_gives(tmp_path):
    sites = read_layer(datasets.get_path("sites")).iloc[:9].copy()
    sites["count"] = pd.array([1, 2, 3, 4, 5, 6, None, 8, 9], dtype="Int64")
    sites["flag"] = pd.array([True] * 8 + [None], dtype="boolean")
    sites["text"] = [None, None, None, None, "x", None, None, None, None]
    for name in ("s.gpkg", "s.shp"):
        path = write_layer(sites, tmp_path / name, rename={"project_type": "type"})
        whole = read_layer(path)
        chunks = list(iter_layer_chunks(path, chunk_size=4))
        assert [len(c) for c in chunks] == [4, 4, 1]
        assert [c.index[0] for c in chunks] == [0, 4, 8]
        joined = pd.concat(chunks)
        assert joined.attrs["redline"]["features"] == 9
        joined.attrs = whole.attrs = {}
        pd.testing.assert_frame_equal(joined, whole, check_exact=True)


def test_chunk_size_must_be_positive(tmp_path):
    with pytest.raises(
        ArgumentError, match=r"chunk_size must be a positive whole number.*received 0"
    ):
        next(iter_layer_chunks(datasets.get_path("sites"), chunk_size=0))
    with pytest.raises(LayerError, match="no such file"):
        next(iter_layer_chunks(tmp_path / "missing.gpkg", chunk_size=5))
