"""Deadlines: N working days (法定节假日 and 调休 respected) or N calendar months after an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..dates import add_months, nth_working_day_after


@dataclass(frozen=True, slots=True)
class DeadlineAnswer:
    event: date  # the event actually counted from (after any legacy rule)
    deadline: date
    working_days: tuple[date, ...]  # the working days counted, day 1 first; empty for month periods
    from_legacy_event: bool = False  # counted from the legacy event (e.g. a fund set up before the rules)


def deadline_after(event: date, *, working_days: int | None = None, months: int | None = None,
                   legacy_before: date | None = None, legacy_event: date | None = None,
                   set_up_on: date | None = None) -> DeadlineAnswer:
    """Count from the event, or from legacy_event when the event (or the set-up date) falls before legacy_before."""
    legacy = legacy_before is not None and legacy_event is not None and (
        event < legacy_before or (set_up_on is not None and set_up_on < legacy_before))
    if legacy:
        event = legacy_event
    if working_days is not None:
        deadline, counted = nth_working_day_after(event, working_days)
        return DeadlineAnswer(event, deadline, tuple(counted), legacy)
    assert months is not None
    return DeadlineAnswer(event, add_months(event, months), (), legacy)


def deadline_for_version(version: Any, event: date, set_up_on: date | None = None) -> DeadlineAnswer:
    """The deadline one version of a deadline scheme sets for an event date."""
    return deadline_after(event, working_days=version.working_days.value if version.working_days else None,
                          months=version.months.value if version.months else None,
                          legacy_before=version.legacy_before, legacy_event=version.legacy_event,
                          set_up_on=set_up_on)


def deadline_rules(cat: Any) -> dict[str, Any]:
    """Every scheme of kind `deadline` in the catalogue, by id."""
    return {scheme.id: scheme for scheme in cat.schemes if scheme.kind == "deadline"}


def pick_deadline_version(rule: Any, event: date) -> Any:
    """The version in force on the event; an event before the first version uses the first (legacy events)."""
    versions = sorted(rule.versions, key=lambda v: v.from_)
    for version in versions:
        if version.from_ <= event and (version.until is None or event <= version.until):
            return version
    if event < versions[0].from_:
        return versions[0]
    return versions[-1]


def deadline_for_rule(rule: Any, event: date) -> DeadlineAnswer:
    """The deadline a deadline scheme sets for an event date, using the version that applies to that event."""
    return deadline_for_version(pick_deadline_version(rule, event), event)


def deadline_note(deadline: date, as_of: date) -> dict[str, str]:
    """A deadline result's note: the date itself, so that every output shows it (a batch row carries it in its
    notes, results.DETAIL_NOTE_KINDS), and whether it has passed on the evaluation date."""
    passed = deadline < as_of
    return {"kind": "deadline", "zh": f"截止日：{deadline.isoformat()}" + ("（已过）" if passed else ""),
            "en": f"Deadline: {deadline.isoformat()}" + (" (passed)" if passed else "")}
