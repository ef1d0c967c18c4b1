"""The self-check form <-> a profile document.

Form field names are the profile's JSON paths with "-" between the parts (`projects-0-total_input_yuan` is
`$.projects[0].total_input_yuan`), so every problem the engine reports lands on the field it names. Values stay
the text the user typed until the engine parses them: amounts are passed on as decimal strings (exact), and
unknown tri-state answers are left out, which the engine reads as "unknown", never as "no".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .. import regions
from ..errors import InputError, Problem
from ..profile import loads_exact
from . import labels

LIST_FIELDS = frozenset({"activities", "fields"})
INT_FIELDS = frozenset({"employees"})
TRI_STATE = {"true": True, "false": False}
CARRIED = ("awards", "fund")  # kept through the form unchanged (shown read-only), so nothing is lost on export
_INDEXED = re.compile(r"^(projects|loans)-(\d+)-")
_WHOLE_NUMBER = re.compile(r"-?\d{1,4000}")  # int() refuses more than 4300 digits


@dataclass
class FormState:
    """What the form shows: field values as typed, which project / loan rows exist, and the evaluation date."""

    values: dict[str, Any] = field(default_factory=dict)
    projects: list[int] = field(default_factory=list)
    loans: list[int] = field(default_factory=list)
    as_of: str = ""
    carry: str = ""  # JSON of the carried sections

    def get(self, name: str) -> Any:
        return self.values.get(name, "")

    def chosen(self, name: str) -> list[str]:
        value = self.values.get(name, [])
        return value if isinstance(value, list) else [value]

    def carried(self) -> dict[str, Any]:
        if not self.carry:
            return {}
        try:
            data = loads_exact(self.carry)
        except InputError:
            return {}
        return {key: data[key] for key in CARRIED if isinstance(data, dict) and data.get(key)}

    def next_index(self, kind: str) -> int:
        rows = self.projects if kind == "projects" else self.loans
        return max(rows, default=-1) + 1

    def rows(self, kind: str) -> list[int]:
        """The form indices of the rows of `kind` ("projects", "loans"), in the order the form shows them."""
        return self.projects if kind == "projects" else self.loans if kind == "loans" else []

    def row_name(self, kind: str, index: int) -> str:
        """What a project / loan / investment row is called on the form (its legend): its id and its name, lender
        or target (two loans from one bank differ by their ids, as the result cards show them), else its place
        among the rows."""
        prefix = f"{_ROW_PREFIXES[kind]}-{index}-"
        unit_id = self.get(prefix + "id")
        name = self.get(prefix + _ROW_NAME_FIELDS[kind])
        named = " · ".join(str(part) for part in dict.fromkeys(p for p in (unit_id, name) if p))
        if named:
            return named
        rows = self.rows(kind)
        return str(rows.index(index) + 1 if index in rows else index + 1)


_ROW_PREFIXES = {"projects": "projects", "loans": "loans", "investments": "fund-investments"}
_ROW_NAME_FIELDS = {"projects": "name", "loans": "lender", "investments": "target"}


# --- from a submitted form ----------------------------------------------------------------------------------


def state_from_form(items: Iterable[tuple[str, str]]) -> FormState:
    state = FormState()
    for name, raw in items:
        value = raw.strip() if isinstance(raw, str) else ""
        if name == "as_of":
            state.as_of = value
        elif name == "carry":
            state.carry = value
        elif name.rsplit("-", 1)[-1] in LIST_FIELDS:
            if value:
                state.values.setdefault(name, []).append(value)
        elif name.startswith(("enterprise-", "projects-", "loans-")):
            state.values[name] = value
        match = _INDEXED.match(name)
        if match:
            rows = state.projects if match.group(1) == "projects" else state.loans
            index = int(match.group(2))
            if index not in rows and index < 500:
                rows.append(index)
    state.projects.sort()
    state.loans.sort()
    return state


def profile_document(state: FormState) -> dict[str, Any]:
    """The nested profile document the form describes (types as the engine expects; blanks left out)."""
    document: dict[str, Any] = {"schema_version": 1}
    for name, value in state.values.items():
        if value in ("", []):
            continue
        parts = name.split("-")
        leaf = parts[-1]
        if leaf in LIST_FIELDS:
            converted: Any = list(value)
        elif value in TRI_STATE and _is_tri_state(parts):
            converted = TRI_STATE[value]
        elif leaf in INT_FIELDS and _WHOLE_NUMBER.fullmatch(value):
            # a signed whole number goes on as a number, so "-5" is refused for its sign, not as "not an integer"
            converted = int(value)
        else:
            converted = value
        _put(document, parts, converted)
    for kind, indices in (("projects", state.projects), ("loans", state.loans)):
        # every row the form shows is a list item, even a blank one, so positions match the rows' indices
        rows = document.pop(kind, {})
        if indices:
            document[kind] = [rows.get(index, {}) for index in indices]
    # a blank enterprise section is still a section, so the engine names each missing field in it
    document.setdefault("enterprise", {})
    _regions_in_chinese(document)
    document.update(state.carried())
    return document


def _regions_in_chinese(document: dict[str, Any]) -> None:
    """Regions typed in English (the English page suggests English names) as the Chinese names the rules use."""
    places = [document.get("enterprise", {}).get("region")]
    places += [row.get("location") for row in document.get("projects", [])]
    places += [row.get("region_of_use") for row in document.get("loans", [])]
    for place in places:
        if isinstance(place, dict) and isinstance(place.get("province"), str):
            names = regions.from_english(place.get("province"), place.get("city"), place.get("district"))
            for key, name in zip(("province", "city", "district"), names):
                if name is not None:
                    place[key] = name


def _is_tri_state(parts: list[str]) -> bool:
    return parts[-1] in _TRI_STATE_FIELDS or (len(parts) >= 2 and parts[-2] in ("certifications", "declarations"))


_TRI_STATE_FIELDS = frozenset({"is_independent_legal_entity", "is_new", "claimed_under_other_policy",
                               "for_tech_upgrade_project"})


def _put(document: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = document
    for part in parts[:-1]:
        node = node.setdefault(int(part) if part.isdigit() else part, {})
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value


# --- from a profile document (an example or an imported file) -----------------------------------------------


def state_from_document(document: Any, as_of: str) -> FormState:
    state = FormState(as_of=as_of)
    if not isinstance(document, dict):
        return state
    _flatten(state.values, "", {k: v for k, v in document.items() if k not in CARRIED and k != "schema_version"})
    state.projects = list(range(len(document.get("projects") or [])))
    state.loans = list(range(len(document.get("loans") or [])))
    carried = {key: document[key] for key in CARRIED if document.get(key)}
    state.carry = json.dumps(carried, ensure_ascii=False, default=str) if carried else ""
    return state


def _flatten(out: dict[str, Any], prefix: str, node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(out, f"{prefix}-{key}" if prefix else str(key), value)
    elif isinstance(node, list) and prefix.rsplit("-", 1)[-1] in LIST_FIELDS:
        out[prefix] = [str(item) for item in node]
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(out, f"{prefix}-{index}", value)
    elif isinstance(node, bool):
        out[prefix] = "true" if node else "false"
    elif node is not None:
        out[prefix] = str(node)


# --- problems -> fields -------------------------------------------------------------------------------------


def field_name(path: str) -> str:
    """$.projects[0].total_input_yuan -> projects-0-total_input_yuan"""
    name = re.sub(r"\[(\d+)\]", r".\1", path.removeprefix("$"))
    return name.strip(".").replace(".", "-")


def field_errors(problems: list[Problem], state: FormState) -> dict[str, list[Problem]]:
    """Problems by form field; list positions in the document are mapped back to the rows' form indices."""
    rows = {"projects": state.rows("projects"), "loans": state.rows("loans"),
            "fund-investments": state.rows("investments")}

    def form_index(match: re.Match[str]) -> str:
        kind, position = match.group(1), int(match.group(2))
        indices = rows[kind]
        return f"{kind}-{indices[position] if position < len(indices) else position}"

    errors: dict[str, list[Problem]] = {}
    for problem in problems:
        name = re.sub(r"^(projects|loans|fund-investments)-(\d+)", form_index, field_name(problem.path))
        errors.setdefault(name, []).append(problem)
    return errors


def field_caption(name: str, state: FormState, text: Callable[[str], str]) -> str | None:
    """The self-check form's own words for the field `name` (a key of field_errors), in the language of `text`
    (which translates a message id): "Revenue (last year)", "Loan loan1 · Annual rate". None when the form has no
    such field (a carried section, a hand-made post): the page then shows the problem's JSON path instead."""
    parts = name.split("-")
    if parts == ["as_of"]:
        return text(labels.AS_OF_FIELD)
    if parts[0] == "enterprise":
        found = _caption_parts(parts[1:], labels.ENTERPRISE_FIELDS)
        if found == []:
            found = [labels.ENTERPRISE_FIELDS[""]]
        return " · ".join(text(part) for part in found) if found else None
    if parts[0] in labels.ROW_FIELDS and len(parts) >= 2 and parts[1].isdigit():
        kind, index = parts[0], int(parts[1])
        found = _caption_parts(parts[2:], labels.ROW_FIELDS[kind])
        if found is None or index not in state.rows(kind):
            return None
        row = f"{text(labels.ROWS[kind])} {state.row_name(kind, index)}"
        return " · ".join([row, *(text(part) for part in found)])
    return None


_REGION_FIELDS = frozenset({"region", "location", "region_of_use"})
_CHOICE_FIELDS = {"certifications": labels.CERTIFICATIONS, "declarations": labels.DECLARATIONS}


def _caption_parts(parts: list[str], fields: dict[str, str]) -> list[str] | None:
    """The labels (message ids) naming field `parts` within a section or row; [] for the section or row itself."""
    if not parts:
        return []
    first, rest = parts[0], parts[1:]
    if first not in fields or not first:
        return None
    if not rest:
        return [fields[first]]
    if len(rest) == 1 and first in _REGION_FIELDS and rest[0] in labels.REGION_PARTS:
        return [fields[first], labels.REGION_PARTS[rest[0]]]
    if len(rest) == 1 and first in LIST_FIELDS and rest[0].isdigit():  # one chosen item of a list of choices
        return [fields[first]]
    if len(rest) == 1 and rest[0] in _CHOICE_FIELDS.get(first, {}):  # a certification / declaration is its label
        return [_CHOICE_FIELDS[first][rest[0]]]
    return None


# --- the government-fund check form (fund-... fields, fund-investments-N-... rows) -----------------------------

_INVESTMENT = re.compile(r"^fund-investments-(\d+)-")


@dataclass
class FundState(FormState):
    investments: list[int] = field(default_factory=list)

    def rows(self, kind: str) -> list[int]:
        return self.investments if kind == "investments" else super().rows(kind)


def fund_state_from_form(items: Iterable[tuple[str, str]]) -> FundState:
    state = FundState()
    for name, raw in items:
        value = raw.strip() if isinstance(raw, str) else ""
        if name == "as_of":
            state.as_of = value
        elif name.startswith("fund-"):
            state.values[name] = value
            match = _INVESTMENT.match(name)
            if match and int(match.group(1)) not in state.investments and int(match.group(1)) < 500:
                state.investments.append(int(match.group(1)))
    state.investments.sort()
    return state


def fund_document(state: FundState) -> dict[str, Any]:
    """The `fund` part of a profile from the fund form (blanks left out, tri-state answers as booleans)."""
    document: dict[str, Any] = {}
    for name, value in state.values.items():
        if value == "":
            continue
        parts = name.split("-")[1:]
        _put(document, parts, TRI_STATE[value] if value in TRI_STATE else value)
    rows = document.pop("investments", {})
    document["investments"] = [rows.get(index, {}) for index in state.investments]
    return document


def fund_field_caption(name: str, state: FundState, text: Callable[[str], str]) -> str | None:
    """The fund check form's own words for the field `name` (a key of field_errors), in the language of `text`:
    "Fund name", "Investment inv1 · Target". None when the form has no such field: the page then shows the
    problem's JSON path instead."""
    parts = name.split("-")
    if parts == ["as_of"]:
        return text(labels.AS_OF_FIELD)
    if parts[0] != "fund":
        return None
    if len(parts) >= 3 and parts[1] == "investments" and parts[2].isdigit():
        index = int(parts[2])
        found = _caption_parts(parts[3:], labels.INVESTMENT_FIELDS)
        if found is None or index not in state.investments:
            return None
        row = f"{text(labels.ROWS['investments'])} {state.row_name('investments', index)}"
        return " · ".join([row, *(text(part) for part in found)])
    found = _caption_parts(parts[1:], labels.FUND_FIELDS)
    if found == []:
        found = [labels.FUND_FIELDS[""]]
    return " · ".join(text(part) for part in found) if found else None
