"""What an evaluation returns: per scheme and unit, a status, an amount, the conditions and the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from .citations import Cite
from .conditions import ConditionResult, Outcome


class Status(str, Enum):
    eligible = "eligible"
    needs_confirmation = "needs_confirmation"
    ineligible = "ineligible"
    not_in_force = "not_in_force"
    superseded = "superseded"


# note kinds that change how a result's amount should be read (a value to check, a loan on the other track):
# shown beside the reason in the text report, and open on the web page's card
FLAGGED_NOTE_KINDS = ("check", "other_track")
# note kinds a batch row carries in its 请核对 / To check cells: what to check, and a deadline's date (a row has
# no column for a result's details)
DETAIL_NOTE_KINDS = ("check", "deadline")


def worse(conditions: list[ConditionResult], failed: bool, unknown: bool) -> tuple[bool, bool]:
    """(failed, unknown) once these conditions are taken into account too."""
    for condition in conditions:
        outcome = condition.outcome
        if outcome is _FAILED:
            failed = True
        elif outcome is _UNKNOWN:
            unknown = True
    return failed, unknown


def status_from(version: Any, failed: bool, unknown: bool) -> Status:
    """A unit's status: out of force without a version, else ineligible on a failed condition, else to
    confirm on an unknown one."""
    if version is None:
        return _NOT_IN_FORCE
    if failed:
        return _INELIGIBLE
    return _NEEDS_CONFIRMATION if unknown else _ELIGIBLE


# module-level names: reading a member off an Enum class costs several times a global's lookup, and these are
# read for every unit of every scheme
_FAILED, _UNKNOWN = Outcome.failed, Outcome.unknown
_ELIGIBLE, _NEEDS_CONFIRMATION = Status.eligible, Status.needs_confirmation
_INELIGIBLE, _NOT_IN_FORCE = Status.ineligible, Status.not_in_force


STATUS_LABELS = {
    Status.eligible: ("符合条件", "Eligible"),
    Status.needs_confirmation: ("待确认", "Needs confirmation"),
    Status.ineligible: ("不符合", "Ineligible"),
    Status.not_in_force: ("不在有效期内", "Not in force"),
    Status.superseded: ("从优不重复（被替代）", "Superseded"),
}


class Step(NamedTuple):
    """One line of arithmetic: a label and either an amount in fen or another value (a rate, a date, days).

    Immutable; a named tuple because it is built several times per result and a frozen dataclass is several
    times slower to construct."""

    label_zh: str
    label_en: str
    amount_fen: int | None = None
    value: str | None = None
    cite: Cite | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label_zh": self.label_zh, "label_en": self.label_en}
        if self.amount_fen is not None:
            out["amount_fen"] = self.amount_fen
        if self.value is not None:
            out["value"] = self.value
        if self.cite is not None:
            out["cite"] = self.cite.as_dict()
        return out


class Computation(NamedTuple):
    """A calculator's answer: the amount, the steps that led to it, and the cap with its headroom."""

    amount_fen: int
    steps: tuple[Step, ...]
    cap_fen: int | None = None
    binding_cap: bool = False
    headroom_fen: int | None = None  # cap left after this award (and earlier awards, for cumulative caps)
    rate: str | None = None  # the rate applied, for charts
    base_fen: int | None = None


@dataclass(slots=True)
class Result:
    scheme_id: str
    unit_kind: str
    unit_id: str | None
    unit_name: str | None
    status: Status
    amount_fen: int | None
    conditions: list[ConditionResult]
    steps: list[Step] = field(default_factory=list)
    cap_fen: int | None = None
    binding_cap: bool = False
    headroom_fen: int | None = None
    rate: str | None = None
    base_fen: int | None = None
    superseded_by: str | None = None
    stacking_group: str | None = None
    version_from: str | None = None
    version_until: str | None = None
    notes: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    violations: list[dict[str, Any]] | None = None
    order: int = 0  # position of the scheme in the catalogue, for stable output

    def to_confirm(self) -> list[dict[str, str]]:
        items = []
        for condition in self.conditions:
            for leaf in condition.unknown_leaves():
                items.append({
                    "zh": leaf.confirm_zh or f"请确认：{leaf.label_zh}",
                    "en": leaf.confirm_en or f"Please confirm: {leaf.label_en}",
                })
        return items

    def failed(self) -> list[dict[str, str]]:
        return [{"zh": leaf.label_zh, "en": leaf.label_en, "actual": leaf.actual or ""}
                for condition in self.conditions for leaf in condition.failed_leaves()]
