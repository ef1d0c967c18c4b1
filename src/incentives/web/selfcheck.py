"""The self-check flow without HTTP: form state -> profile -> engine -> results panel, and example profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from ..errors import InputError, Problem
from ..evaluate import evaluate, parse_for_evaluation
from ..profile import loads_exact
from ..resources import examples_dir
from .forms import FormState, field_errors, profile_document, state_from_document
from .results_view import Panel, arrange_evaluation


@dataclass
class Outcome:
    panel: Panel | None = None
    problems: list[Problem] = field(default_factory=list)
    errors: dict[str, list[Problem]] = field(default_factory=dict)


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError([Problem("$.as_of", f"评估日“{text}”不是 YYYY-MM-DD 日期",
                                  f"evaluation date '{text}' is not a YYYY-MM-DD date")]) from None


def run(state: FormState) -> Outcome:
    """Evaluate what the form describes; problems come back per field instead of results."""
    try:
        as_of = parse_as_of(state.as_of)
        profile = parse_for_evaluation(profile_document(state))
    except InputError as error:
        return Outcome(problems=error.problems, errors=field_errors(error.problems, state))
    return Outcome(panel=arrange_evaluation(evaluate(profile, as_of)))


@cache
def example_names() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in examples_dir().glob("*.json")))


def example_state(name: str, as_of: str) -> FormState | None:
    if name not in example_names():
        return None
    return state_from_document(loads_exact((examples_dir() / f"{name}.json").read_bytes()), as_of)


def blank_state(as_of: str) -> FormState:
    state = FormState(as_of=as_of)
    state.values["enterprise-region-province"] = ""
    return state
