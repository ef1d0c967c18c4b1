"""Flip one input: from an eligible profile, change only the input behind one condition; only that one fails.

The flips are generated from the scheme data (every leaf condition of every scheme, on every track), starting
from the scheme's first eligible worked case, so a new scheme file with worked cases is covered with no new
code. Named tests below pin the key clauses in words.
"""

from __future__ import annotations

import pytest

from flip_inputs import (
    FlipTarget,
    Isolation,
    World,
    all_leaves,
    eligibility_roots,
    failed_labels,
    flip_targets,
    isolate,
    make_pass,
    result_of,
    steer,
    witness,
)
from incentives.conditions import Outcome, leaves
from incentives.scheme_files import Compliance
from incentives.schemes import catalogue

TARGETS = flip_targets()


def _flip(target: FlipTarget) -> tuple[World, World, set[str]]:
    """(the isolated eligible world, the flipped world, the facts it may blame) for one leaf."""
    scheme = catalogue().scheme(target.scheme_id)
    roots, rivals = eligibility_roots(scheme, target.track_id)
    leaf = [l for root in roots for l in leaves(root)][target.leaf_index]
    others = all_leaves(scheme)
    iso = isolate(witness(target.scheme_id, target.track_id), roots, rivals, leaf, others)
    flipped = steer(iso.world, leaf, Outcome.failed, others)
    # when a condition common to every track fails, no track is viable and the engine shows the first track,
    # whose own (rival) conditions may fail as well
    rival_fields = {l.field for rival in rivals for l in leaves(rival)}
    rival_fields |= {l.field for t in getattr(scheme, "tracks", []) if t.id != target.track_id
                     for c in t.loan_conditions for l in leaves(c)}
    return iso.world, flipped, {leaf.field} | iso.touched | rival_fields


def _labels_of(scheme_id: str, fields: set[str]) -> set[str]:
    return {leaf.label_en for leaf in all_leaves(catalogue().scheme(scheme_id)) if leaf.field in fields}


def test_every_scheme_with_conditions_has_flips() -> None:
    flipped = {t.scheme_id for t in TARGETS}
    for scheme in catalogue().schemes:
        if scheme.conditions and not isinstance(scheme, Compliance):
            assert scheme.id in flipped


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.test_id)
def test_flipping_one_input_fails_exactly_that_condition(target: FlipTarget) -> None:
    before, after, blamed = _flip(target)
    start = result_of(before)
    assert start["status"] == "eligible", f"could not isolate the condition: {failed_labels(start)}"
    if target.track_id:
        assert start["details"]["track"] == target.track_id
    end = result_of(after)
    assert end["status"] == "ineligible"
    assert end["amount_fen"] is None
    failed = failed_labels(end)
    assert target.label_en in failed
    assert failed <= _labels_of(target.scheme_id, blamed), f"other conditions failed too: {failed}"


def test_flipping_back_restores_eligibility() -> None:
    """The flip is the only change: steering the same leaf back to met makes the unit eligible again."""
    for target in TARGETS[:: max(1, len(TARGETS) // 8)]:
        _, after, _ = _flip(target)
        scheme = catalogue().scheme(target.scheme_id)
        roots, _ = eligibility_roots(scheme, target.track_id)
        leaf = [l for root in roots for l in leaves(root)][target.leaf_index]
        restored = steer(after, leaf, Outcome.met, all_leaves(scheme))
        assert result_of(restored)["status"] == "eligible", target.test_id


# --- compliance rules: flipping one prohibited act makes exactly that rule a violation ------------------------

RULES = [(scheme.id, rule.id) for scheme in catalogue().schemes if isinstance(scheme, Compliance)
         for version in scheme.versions for rule in version.rules]


@pytest.mark.parametrize("scheme_id, rule_id", RULES, ids=[f"{s}::{r}" for s, r in RULES])
def test_committing_one_prohibited_act_is_exactly_one_violation(scheme_id: str, rule_id: str) -> None:
    scheme = catalogue().scheme(scheme_id)
    start = witness(scheme_id)
    assert result_of(start)["violations"] == []
    version = next(v for v in scheme.versions if v.from_ <= start.as_of and (v.until is None or start.as_of <= v.until))
    rule = next(r for r in version.rules if r.id == rule_id)
    others = [leaf for r in version.rules for leaf in leaves(r.violation_when)]
    iso = Isolation(start, set())
    make_pass(rule.violation_when, iso, others)
    result = result_of(iso.world)
    assert result["status"] == "ineligible"
    assert [v["rule"] for v in result["violations"]] == [rule_id]


# --- named flips for the key clauses --------------------------------------------------------------------------


def _named(scheme_id: str, label_en: str, track_id: str | None = None) -> FlipTarget:
    return next(t for t in TARGETS if t.scheme_id == scheme_id and t.label_en == label_en and t.track_id == track_id)


def test_moving_a_project_out_of_songjiang_loses_g60_applied_research_support() -> None:
    before, after, _ = _flip(_named("sh-g60/applied-basic-research", "Project located in Songjiang District"))
    assert result_of(before)["amount_fen"] == 300_000_000
    assert failed_labels(result_of(after)) == {"Project located in Songjiang District"}


def test_a_one_off_award_already_received_blocks_the_licence_award() -> None:
    _, after, _ = _flip(_named("sh-g60/satellite-licence-award", "Has not already received this one-off award"))
    assert result_of(after)["status"] == "ineligible"


def test_a_platform_that_is_not_new_gets_no_beijing_construction_subsidy() -> None:
    _, after, _ = _flip(_named("bj-pilot/platform-construction", "Newly built pilot platform"))
    assert failed_labels(result_of(after)) == {"Newly built pilot platform"}


def test_a_shenzhen_enterprise_is_not_subsidised_in_guangdong() -> None:
    _, after, _ = _flip(_named("gd/loan-interest-subsidy", "Not in Shenzhen (Shenzhen has its own policy)",
                               "manufacturing"))
    result = result_of(after)
    assert result["status"] == "ineligible"
    assert "Not in Shenzhen (Shenzhen has its own policy)" in failed_labels(result)


def test_a_manufacturer_that_loses_section_c_loses_the_manufacturing_track() -> None:
    _, after, _ = _flip(_named("gd/loan-interest-subsidy", "Industry in GB/T 4754-2017 section C (manufacturing track)",
                               "manufacturing"))
    assert failed_labels(result_of(after)) == {"Industry in GB/T 4754-2017 section C (manufacturing track)"}


def test_a_high_tech_enterprise_without_a_valid_certificate_loses_the_high_tech_track() -> None:
    _, after, _ = _flip(_named("gd/loan-interest-subsidy", "Holds a valid HNTE certificate (high-tech track)", "high_tech"))
    assert "Holds a valid HNTE certificate (high-tech track)" in failed_labels(result_of(after))


def test_the_2026_widening_of_tech_relending_needs_high_rd_spending() -> None:
    before, after, _ = _flip(_named("pboc/tech-relending", "Relatively high R&D spending"))
    assert result_of(before)["status"] == "eligible"
    assert "Relatively high R&D spending" in failed_labels(result_of(after))


def test_a_state_owned_firm_loses_private_enterprise_relending() -> None:
    _, after, _ = _flip(_named("pboc/private-enterprise-relending", "Private enterprise"))
    assert failed_labels(result_of(after)) == {"Private enterprise"}


def test_an_unknown_fact_instead_of_a_flip_asks_for_confirmation() -> None:
    """Blanking a declared fact is not a flip: it must give needs_confirmation, never eligible or ineligible."""
    start = witness("gd/loan-interest-subsidy", "manufacturing")
    blank = start.edited(lambda p: p["enterprise"]["declarations"].update(on_dishonesty_list=None))
    assert result_of(blank)["status"] == "needs_confirmation"
