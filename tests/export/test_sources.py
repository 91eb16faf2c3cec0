"""The source fetcher: a real Debian package into a private cache, provenance, offline reuse, clear errors."""
import json
import shutil
import subprocess

import pytest

from burstdeblur.export.data import sources
from burstdeblur.export.data.source_catalog import GROUPS
from burstdeblur.export.data.sources import SourceError, fetch, fetch_group, lookup


@pytest.fixture(scope="module")
def lomiri_cache():
    """lomiri-wallpapers (16 MB .deb), fetched with apt-get download + dpkg-deb -x into the user's cache
    (BURSTDEBLUR_CACHE, else ~/.cache/burstdeblur) the first time only: later runs find it there."""
    paths = fetch_group("lomiri")
    return sources.cache_dir().parent, paths


def test_debian_group_fetched_with_provenance(lomiri_cache, monkeypatch):
    root, paths = lomiri_cache
    monkeypatch.setenv("BURSTDEBLUR_CACHE", str(root))
    assert len(paths) == len(GROUPS["lomiri"]) and all(p.is_file() for p in paths)
    manifest = json.loads((root / "sources" / "manifest.json").read_text())
    entry = manifest["lomiri/seeding_by_Clements_Engelhardt.jpg"]
    assert entry["licence"] == "CC0-1.0"
    assert entry["provenance"].startswith("Debian lomiri-wallpapers-16.04_")
    assert entry["sha256"] == sources.sha256_file(root / "sources" / entry["path"])
    # nothing was written outside the cache folder
    assert all(root in p.parents for p in paths)


def test_cached_sources_need_no_network(lomiri_cache, monkeypatch):
    root, paths = lomiri_cache
    monkeypatch.setenv("BURSTDEBLUR_CACHE", str(root))

    def offline(*args, **kwargs):
        raise AssertionError(f"network tool called while cached: {args[0]}")

    monkeypatch.setattr(subprocess, "run", offline)
    assert fetch_group("lomiri") == paths
    assert fetch("Bridge_by_Sander_Klootwijk.jpg") == paths[0]


def test_corrupted_cache_file_is_fetched_again(tmp_path, monkeypatch):
    """In a private copy of the cache (the user's stays intact), a truncated scikit-image photo fails its
    pinned sha256 and is fetched again with pip (whose own cache keeps the wheel after the first run)."""
    real = fetch_group("skimage")
    user_cache = sources.cache_dir()
    private = tmp_path / "sources"
    shutil.copytree(user_cache, private, ignore=shutil.ignore_patterns("lomiri", "libjxl", "plasma", "opencv",
                                                                             "bikes", "tmp*"))
    monkeypatch.setenv("BURSTDEBLUR_CACHE", str(tmp_path))
    victim = private / real[1].relative_to(user_cache)
    good = victim.read_bytes()
    victim.write_bytes(good[: len(good) // 2])  # a truncated file fails the sha256 check
    assert fetch(lookup(victim.name).key) == victim and victim.read_bytes() == good
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(real, fetch_group("skimage")))


def test_missing_apt_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BURSTDEBLUR_CACHE", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(SourceError, match="apt-get is not available.*copy the file into"):
        fetch_group("libjxl")
    assert not list((tmp_path / "sources").glob("libjxl/*"))


def test_unknown_names():
    with pytest.raises(SourceError, match="unknown source group 'nope'"):
        fetch_group("nope")
    with pytest.raises(SourceError, match="unknown source 'nope.jpg'"):
        lookup("nope.jpg")
