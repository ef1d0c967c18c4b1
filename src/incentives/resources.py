"""Where the bundled data lives: inside the wheel (installed) or at the top of the repository (development)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_DIR = _PACKAGE_DIR.parent.parent


def _locate(packaged_name: str, repo_name: str) -> Path:
    packaged = _PACKAGE_DIR / packaged_name
    if packaged.is_dir():
        return packaged
    return _REPO_DIR / repo_name


@cache
def schemes_dir() -> Path:
    """The scheme data directory; INCENTIVES_SCHEMES_DIR overrides it (used to test broken files)."""
    override = os.environ.get("INCENTIVES_SCHEMES_DIR")
    return Path(override) if override else _locate("_schemes", "schemes")


@cache
def examples_dir() -> Path:
    return _locate("_examples", "examples")


@cache
def web_assets_dir() -> Path:
    return _locate("_web", "web")


def package_data_dir() -> Path:
    return _PACKAGE_DIR / "data"
