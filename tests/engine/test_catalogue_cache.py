"""The validated-catalogue cache: a hit equals a fresh load, a change in the data misses, nothing broken is cached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from incentives.schemes import SchemeFileError, cached_catalogue, load_catalogue
from incentives.resources import schemes_dir


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    root = tmp_path / "schemes"
    shutil.copytree(schemes_dir(), root)
    return root


def test_a_cache_hit_equals_a_fresh_validation(data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = cached_catalogue(data, cache)
    assert len(list(cache.glob("catalogue-*.pickle"))) == 1
    second = cached_catalogue(data, cache)
    fresh = load_catalogue(data)
    assert second is not first
    assert second.rules_version == fresh.rules_version
    assert second.schemes == fresh.schemes
    assert second.rates == fresh.rates and second.sme_sizes == fresh.sme_sizes
    assert second.documents == fresh.documents and second.stacking_groups == fresh.stacking_groups


def test_changed_data_is_validated_again_not_served_stale(data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = cached_catalogue(data, cache)
    target = data / "shanghai" / "g60-2025-15.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("cap: {yuan: 30_000_000, cite: c1}",
                                                                 "cap: {yuan: 31_000_000, cite: c1}", 1),
                      encoding="utf-8")
    after = cached_catalogue(data, cache)
    assert after.rules_version != before.rules_version
    assert after.scheme("sh-g60/applied-basic-research").versions[0].cap.yuan == 31_000_000
    assert len(list(cache.glob("catalogue-*.pickle"))) == 2


def test_a_broken_file_is_never_cached_and_always_fails(data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    target = data / "shanghai" / "g60-2025-15.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("cite: c1}", "cite: c99}", 1), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(SchemeFileError, match="c99"):
            cached_catalogue(data, cache)
    assert not list(cache.glob("catalogue-*.pickle"))


def test_a_corrupt_cache_file_is_ignored(data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_catalogue(data, cache)
    (entry,) = cache.glob("catalogue-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert cached_catalogue(data, cache).rules_version == load_catalogue(data).rules_version


def test_an_unwritable_cache_directory_only_costs_time(data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    assert cached_catalogue(data, blocker / "cache").schemes == load_catalogue(data).schemes
