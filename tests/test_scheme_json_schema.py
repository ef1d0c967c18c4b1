"""The published JSON Schema for scheme files accepts every bundled file and rejects a misspelt key."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from incentives.resources import schemes_dir
from incentives.schemes import scheme_file_paths

SCHEME_FILES = [p for p in scheme_file_paths(schemes_dir()) if "tables" not in p.parts]


def _plain(node):
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, datetime.date):
        return node.isoformat()
    return node


@pytest.fixture(scope="module")
def published_schema() -> dict:
    output = subprocess.run([sys.executable, "-m", "incentives.cli", "schemes", "schema"], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)


@pytest.mark.parametrize("path", SCHEME_FILES, ids=lambda p: p.name)
def test_every_bundled_scheme_file_matches_the_published_schema(published_schema: dict, path: Path) -> None:
    data = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    errors = list(jsonschema.Draft202012Validator(published_schema).iter_errors(data))
    assert errors == []


def test_the_schema_rejects_a_misspelt_key(published_schema: dict) -> None:
    data = _plain(yaml.safe_load(SCHEME_FILES[0].read_text(encoding="utf-8")))
    data["schemes"][0]["titel_zh"] = data["schemes"][0]["title_zh"]
    errors = list(jsonschema.Draft202012Validator(published_schema).iter_errors(data))
    assert any("titel_zh" in error.message for error in errors)
