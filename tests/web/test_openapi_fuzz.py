"""schemathesis over the OpenAPI document, in process, with every check: no 5xx, no undocumented status, content
type or schema violation, invalid input rejected and schema-valid input accepted.

A few rules relate fields to each other or use check digits, which JSON Schema cannot state: the USCC check digit,
maturity after issue, unique project / loan ids, an award's scheme being in the catalogue. Schema-valid input may
break one of them, so the built-in "valid data is accepted" check is replaced by a stricter one: a 400 for
schema-valid input must name only those rules.
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from incentives.web.app import create_app

APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/api/v1/evaluate")
# The whole-profile body has thousands of enumerated boundary values (every region and industry code): the
# coverage phase would take minutes on it, so /evaluate is fuzzed with more random examples instead.
profile_schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path="/api/v1/evaluate")
profile_schema.config.phases.coverage.enabled = False

# paths of the rules JSON Schema cannot express (see the module docstring)
CROSS_FIELD_PATHS = re.compile(
    r"^\$\.(profile|fund)"
    r"(\.enterprise\.uscc|\.loans\[\d+\]|\.investments|\.projects|\.loans|\.awards\[\d+\]\.scheme_id)?$"
)


@schemathesis.check
def schema_valid_input_rejected_only_for_cross_field_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    problems = response.json()["problems"]
    unexpected = [p for p in problems if not CROSS_FIELD_PATHS.match(p["path"])]
    assert not unexpected, f"schema-valid input rejected for {unexpected}"
    return None


FUZZ_SETTINGS = dict(deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])


def _call_and_validate(case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance],
                           additional_checks=[schema_valid_input_rejected_only_for_cross_field_rules])


@schema.parametrize()
@settings(max_examples=25, **FUZZ_SETTINGS)
def test_api_conforms_to_its_openapi_document(case):
    _call_and_validate(case)


@profile_schema.parametrize()
@settings(max_examples=40, **FUZZ_SETTINGS)
def test_evaluate_conforms_to_its_openapi_document(case):
    _call_and_validate(case)
