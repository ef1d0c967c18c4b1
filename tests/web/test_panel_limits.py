"""The panel lists the first two failed conditions of an ineligible scheme; the walk that stops after two must
find the same two as the full walk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from incentives.evaluate import evaluate
from incentives.profile import loads_exact, parse_profile
from incentives.results import Status
from incentives.web.results_view import _failed_conditions

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("on", ["2026-01-10", "2026-06-01", "2027-03-01"])
def test_the_first_failed_conditions_are_the_full_walks_first(path: Path, on: str):
    evaluation = evaluate(parse_profile(loads_exact(path.read_bytes())), date.fromisoformat(on))
    checked = 0
    for result in evaluation.results:
        full = _failed_conditions(result.conditions)
        for limit in (0, 1, 2, 3):
            assert _failed_conditions(result.conditions, limit=limit) == full[:limit]
        if result.status is Status.ineligible:
            assert full, result.scheme_id
            checked += 1
    assert checked > 0
