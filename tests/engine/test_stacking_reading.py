"""A stacking group's reading of 从优、就高、不重复 travels with every scheme of the group, and only with those."""

from __future__ import annotations

from datetime import date

from incentives.evaluate import evaluate
from incentives.profile import profile_from_json
from incentives.resources import examples_dir
from incentives.schemes import catalogue

READING = "本市其他政策的重叠"  # the G60 group's assumption: the text is about overlap with other Shanghai policies


def test_every_scheme_of_the_g60_group_carries_the_groups_reading_and_no_other_scheme_does() -> None:
    cat = catalogue()
    group = cat.stacking_groups["sh-g60"]
    assert [a.confidence.value for a in group.assumptions] == ["medium"] and READING in group.assumptions[0].zh
    for scheme in cat.schemes:
        carries = any(READING in a.zh for a in scheme.assumptions)
        assert carries is (scheme.stacking_group == "sh-g60"), scheme.id


def test_a_superseded_result_shows_the_reading_it_was_superseded_under() -> None:
    profile = profile_from_json((examples_dir() / "songjiang-satellite.json").read_bytes())
    evaluation = evaluate(profile, date(2026, 6, 1), catalogue())
    superseded = [r for r in evaluation.results if r.status.value == "superseded"]
    assert superseded
    for result in superseded:
        assumptions = [n for n in result.notes if n["kind"] == "assumption" and READING in n["zh"]]
        assert [n["confidence"] for n in assumptions] == ["medium"], result.scheme_id
