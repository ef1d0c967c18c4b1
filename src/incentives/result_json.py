"""The result document written straight to bytes: the same text as `json.dumps(evaluation_dict(...), indent=2,
ensure_ascii=False)`, without building the ~200 KB document as dicts first.

Most of the document is scheme data (labels, quoted clauses): each citation, and the labels and confirmations of
each compiled condition, are serialised once, already indented for the depth they appear at. A result is written
piece by piece in `result_dict`'s key order; values of free shape (notes, details, violations) go through orjson
and are moved to their depth, so they keep exactly orjson's formatting. All pieces are joined once at the end.
`report.evaluation_dict` stays the definition; tests keep the two byte-identical.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from .citations import Cite
from .conditions import ConditionResult, NodeText, Outcome
from .results import Result, Status, Step

_INDENT = orjson.OPT_INDENT_2
_dumps = orjson.dumps

# Depths in the document: {"results": [ {result keys at 6}, ... ]}; a result's lists hold items at 8 with
# their keys at 10, and each level of condition children goes 4 deeper.
_RESULT_KEYS = 6
_ITEM_KEYS = 10

# id(cite) -> (cite, {indent: serialised bytes}); the cite is kept so its id cannot be reused while cached.
# Cites come from the catalogue (scheme data only), which lives as long as the process.
_CITES: dict[int, tuple[Cite, dict[int, bytes]]] = {}
_CITES_LIMIT = 100_000


def cite_bytes(cite: Cite, indent: int) -> bytes:
    """The cite's JSON object as it appears with its keys at `indent` spaces (the braces one level out)."""
    entry = _CITES.get(id(cite))
    if entry is None or entry[0] is not cite:
        if len(_CITES) >= _CITES_LIMIT:  # many catalogues built in one process (tests): start again
            _CITES.clear()
        entry = _CITES[id(cite)] = (cite, {})
    by_indent = entry[1]
    found = by_indent.get(indent)
    if found is None:
        # orjson escapes newlines inside strings, so every raw newline is a line break of the layout
        found = by_indent[indent] = _dumps(cite.as_dict(), option=_INDENT).replace(
            b"\n", b"\n" + b" " * (indent - 2))
    return found


class _Layout:
    """The fixed byte pieces of a condition whose keys sit at `indent` spaces."""

    __slots__ = ("open", "label_en", "outcome_actual", "cite", "confirm_zh", "confirm_en", "children",
                 "close", "between", "list_close", "indent", "deeper")

    def __init__(self, indent: int):
        pad = b" " * indent
        self.indent = indent
        self.open = b"{\n" + pad + b'"label_zh": '
        self.label_en = b",\n" + pad + b'"label_en": '
        # `"outcome": "met", "actual": ` in one piece per outcome
        self.outcome_actual = {outcome: b",\n" + pad + b'"outcome": ' + _dumps(outcome.value) + b",\n" + pad
                               + b'"actual": ' for outcome in Outcome}
        self.cite = b",\n" + pad + b'"cite": '
        self.confirm_zh = b",\n" + pad + b'"confirm_zh": '
        self.confirm_en = b",\n" + pad + b'"confirm_en": '
        self.children = b",\n" + pad + b'"children": [\n' + pad + b"  "
        self.between = b",\n" + pad + b"  "  # between two children
        self.list_close = b"\n" + pad + b"]"
        self.close = b"\n" + b" " * (indent - 2) + b"}"
        self.deeper: _Layout | None = None


@cache  # one per nesting depth of the document
def _layout(indent: int) -> _Layout:
    return _Layout(indent)


_NULL = b"null"
_EMPTY_LIST = b"[]"
_UNKNOWN = Outcome.unknown


def _write_condition(condition: ConditionResult, layout: _Layout, out: list[bytes]) -> None:
    text = condition.text
    actual = condition.actual
    outcome = condition.outcome
    if text is not None:
        # a compiled condition: its labels, citation and confirmations are fixed, written once per layout
        fixed = text.rendered.get(layout.indent)
        if fixed is None:
            fixed = text.rendered[layout.indent] = _fixed_pieces(text, layout)
        head, tails = fixed
        out += (head, layout.outcome_actual[outcome], _NULL if actual is None else _dumps(actual), tails[outcome])
    else:
        cite = condition.cite
        out += (layout.open, _dumps(condition.label_zh), layout.label_en, _dumps(condition.label_en),
                layout.outcome_actual[outcome], _NULL if actual is None else _dumps(actual), layout.cite,
                _NULL if cite is None else cite_bytes(cite, layout.indent + 2))
        if outcome is _UNKNOWN:
            out += (layout.confirm_zh, _dumps(condition.confirm_zh or f"请确认：{condition.label_zh}"),
                    layout.confirm_en, _dumps(condition.confirm_en or f"Please confirm: {condition.label_en}"))
    children = condition.children
    if children:
        deeper = layout.deeper
        if deeper is None:
            deeper = layout.deeper = _layout(layout.indent + 4)
        out.append(layout.children)
        first = True
        for child in children:
            if not first:
                out.append(layout.between)
            first = False
            _write_condition(child, deeper, out)
        out.append(layout.list_close)
    out.append(layout.close)


def _fixed_pieces(text: NodeText, layout: _Layout) -> tuple[bytes, dict[Outcome, bytes]]:
    """What comes before the outcome (the labels) and, per outcome, what follows the actual value."""
    head = layout.open + _dumps(text.label_zh) + layout.label_en + _dumps(text.label_en)
    cite = layout.cite + (_NULL if text.cite is None else cite_bytes(text.cite, layout.indent + 2))
    confirm = (layout.confirm_zh + _dumps(text.confirm_zh or f"请确认：{text.label_zh}")
               + layout.confirm_en + _dumps(text.confirm_en or f"Please confirm: {text.label_en}"))
    return head, {outcome: cite + confirm if outcome is _UNKNOWN else cite for outcome in Outcome}


_ITEM_START = b"[\n" + b" " * (_ITEM_KEYS - 2)
_ITEM_BETWEEN = b",\n" + b" " * (_ITEM_KEYS - 2)
_ITEM_END = b"\n" + b" " * _RESULT_KEYS + b"]"


_TOP = _layout(_ITEM_KEYS)
_TOP_INDENT = _TOP.indent
_TOP_OUTCOME_ACTUAL = _TOP.outcome_actual


def _write_conditions(conditions: list[ConditionResult], out: list[bytes]) -> None:
    """A result's "conditions" list, as it appears after its key."""
    if not conditions:
        out.append(_EMPTY_LIST)
        return
    append = out.append
    append(_ITEM_START)
    first = True
    for condition in conditions:
        if not first:
            append(_ITEM_BETWEEN)
        first = False
        text = condition.text
        if text is None or condition.children:
            _write_condition(condition, _TOP, out)
            continue
        # the common case, a compiled leaf at the top level, written inline: per outcome, what comes before
        # the actual value and what comes after it are one piece each (and the whole leaf is one piece when
        # there is no actual value)
        leaf = text.rendered.get(_TOP_LEAF)
        if leaf is None:
            leaf = text.rendered[_TOP_LEAF] = _top_leaf_pieces(text)
        actual = condition.actual
        before, after, whole = leaf[condition.outcome]
        if actual is None:
            append(whole)
        else:
            out += (before, _dumps(actual), after)
    append(_ITEM_END)


_TOP_LEAF = ("top-level leaf", _TOP_INDENT)  # the key of `_top_leaf_pieces` in a NodeText's rendered pieces


def _top_leaf_pieces(text: NodeText) -> dict[Outcome, tuple[bytes, bytes, bytes]]:
    """Per outcome: (up to the actual value, after it to the closing brace, the whole leaf with a null actual),
    the same bytes `_write_condition` writes for a top-level leaf without children."""
    fixed = text.rendered.get(_TOP_INDENT)
    if fixed is None:
        fixed = text.rendered[_TOP_INDENT] = _fixed_pieces(text, _TOP)
    head, tails = fixed
    pieces = {}
    for outcome in Outcome:
        before = head + _TOP_OUTCOME_ACTUAL[outcome]
        after = tails[outcome] + _TOP.close
        pieces[outcome] = (before, after, before + _NULL + after)
    return pieces


_STATUS_BYTES = {status: _dumps(status.value) for status in Status}
_NEEDS_CONFIRMATION = Status.needs_confirmation
_PAD = b" " * _RESULT_KEYS


def _key(name: str) -> bytes:
    """`,\n      "name": ` — what precedes a result's value."""
    return b",\n" + _PAD + _dumps(name) + b": "


_UNIT_NAME, _STATUS, _AMOUNT, _CAP, _BINDING, _HEADROOM, _RATE, _BASE, _SUPERSEDED, _GROUP, _IN_FORCE, \
    _CONDITIONS, _STEPS, _TO_CONFIRM, _NOTES, _VIOLATIONS, _DETAILS = map(_key, (
        "unit_name", "status", "amount_fen", "cap_fen", "binding_cap", "headroom_fen", "rate", "base_fen",
        "superseded_by", "stacking_group", "in_force", "conditions", "steps", "to_confirm", "notes", "violations",
        "details"))
_IN_FORCE_FROM = b"{\n" + _PAD + b'  "from": '
_IN_FORCE_UNTIL = b",\n" + _PAD + b'  "until": '
_IN_FORCE_END = b"\n" + _PAD + b"}"
_RESULT_END = b"\n" + b" " * (_RESULT_KEYS - 2) + b"}"
_TRUE, _FALSE = b"true", b"false"
_NEWLINE, _NEWLINE_AT_RESULT_KEYS = b"\n", b"\n" + _PAD


def _nested(value: Any) -> bytes:
    """Any JSON value as it appears after a result's key: orjson's layout moved to the result's depth (orjson
    escapes newlines inside strings, so every raw newline is a line break of the layout)."""
    return _dumps(value, option=_INDENT).replace(_NEWLINE, _NEWLINE_AT_RESULT_KEYS)


# A step's pieces: steps sit in the result's "steps" list, their keys at 10 spaces.
_STEP_PAD = b" " * _ITEM_KEYS
_STEP_OPEN = b"{\n" + _STEP_PAD + b'"label_zh": '
_STEP_LABEL_EN = b",\n" + _STEP_PAD + b'"label_en": '
_STEP_AMOUNT = b",\n" + _STEP_PAD + b'"amount_fen": '
_STEP_VALUE = b",\n" + _STEP_PAD + b'"value": '
_STEP_CITE = b",\n" + _STEP_PAD + b'"cite": '
_STEP_CLOSE = b"\n" + b" " * (_ITEM_KEYS - 2) + b"}"


def _steps_bytes(steps: list[Step]) -> bytes:
    out = [_ITEM_START]
    first = True
    for step in steps:
        if not first:
            out.append(_ITEM_BETWEEN)
        first = False
        out += (_STEP_OPEN, _dumps(step.label_zh), _STEP_LABEL_EN, _dumps(step.label_en))
        if step.amount_fen is not None:
            out += (_STEP_AMOUNT, _dumps(step.amount_fen))
        if step.value is not None:
            out += (_STEP_VALUE, _dumps(step.value))
        if step.cite is not None:
            out += (_STEP_CITE, cite_bytes(step.cite, _ITEM_KEYS + 2))
        out.append(_STEP_CLOSE)
    out.append(_ITEM_END)
    return b"".join(out)


# (id(scheme), id(catalogue documents), unit kind) -> (scheme, documents, the result's opening): its fixed
# first fields (scheme id, titles, document number, clause, kind, unit kind) written once per scheme
_HEADS: dict[tuple[int, int, str], tuple[Any, Any, bytes]] = {}


def _head(catalogue: Any, result: Result) -> bytes:
    schemes = catalogue.schemes
    # a result's order is its scheme's position in the catalogue: no search through every scheme per result
    scheme = schemes[result.order] if result.order < len(schemes) else None
    if scheme is None or scheme.id != result.scheme_id:
        scheme = catalogue.scheme(result.scheme_id)
    documents = catalogue.documents  # the scheme's document is the catalogue's: both are part of the key
    key = (id(scheme), id(documents), result.unit_kind)
    entry = _HEADS.get(key)
    if entry is None or entry[0] is not scheme or entry[1] is not documents:
        if len(_HEADS) >= _CITES_LIMIT:  # many catalogues built in one process (tests): start again
            _HEADS.clear()
        document = catalogue.document_of(result.scheme_id)
        fields = {"scheme_id": result.scheme_id, "title_zh": scheme.title_zh, "title_en": scheme.title_en,
                  "document": document.number_zh, "clause": scheme.clause_zh, "kind": scheme.kind,
                  "unit_kind": result.unit_kind}
        head = b"{\n" + _PAD + (b",\n" + _PAD).join(_dumps(k) + b": " + _dumps(v) for k, v in fields.items())
        entry = _HEADS[key] = (scheme, documents, head + _key("unit_id"))
    return entry[2]


# fixed runs of the result's layout, each one piece: between unit_id and unit_name, the in-force dates, and the
# lists after the conditions in their most common shape (no steps, nothing to confirm)
_IN_FORCE_OPEN = _IN_FORCE + _IN_FORCE_FROM
_IN_FORCE_CLOSE = _IN_FORCE_END + _CONDITIONS
_NO_STEPS_NOTHING_TO_CONFIRM = _STEPS + _EMPTY_LIST + _TO_CONFIRM + _EMPTY_LIST + _NOTES
_BINDING_TRUE, _BINDING_FALSE = _BINDING + _TRUE + _HEADROOM, _BINDING + _FALSE + _HEADROOM


def _write_result(evaluation: Any, result: Result, out: list[bytes]) -> None:
    """One result of `report.result_dict` as it appears in the document's "results" list, keys in the same
    order, written piece by piece (conditions, steps and citations with their fixed texts prepared once).
    A None is written inline, not through a helper: this runs for every result."""
    status = result.status
    unit_id, unit_name, amount, cap = result.unit_id, result.unit_name, result.amount_fen, result.cap_fen
    headroom, rate, base, superseded = result.headroom_fen, result.rate, result.base_fen, result.superseded_by
    group, version_from, version_until = result.stacking_group, result.version_from, result.version_until
    out += (_head(evaluation.catalogue, result), _NULL if unit_id is None else _dumps(unit_id), _UNIT_NAME,
            _NULL if unit_name is None else _dumps(unit_name), _STATUS, _STATUS_BYTES[status], _AMOUNT,
            _NULL if amount is None else _dumps(amount), _CAP, _NULL if cap is None else _dumps(cap),
            _BINDING_TRUE if result.binding_cap else _BINDING_FALSE, _NULL if headroom is None else _dumps(headroom),
            _RATE, _NULL if rate is None else _dumps(rate), _BASE, _NULL if base is None else _dumps(base),
            _SUPERSEDED, _NULL if superseded is None else _dumps(superseded),
            _GROUP, _NULL if group is None else _dumps(group),
            _IN_FORCE_OPEN, _NULL if version_from is None else _dumps(version_from), _IN_FORCE_UNTIL,
            _NULL if version_until is None else _dumps(version_until), _IN_FORCE_CLOSE)
    _write_conditions(result.conditions, out)
    steps = result.steps
    if not steps and status is not _NEEDS_CONFIRMATION:
        out.append(_NO_STEPS_NOTHING_TO_CONFIRM)
    else:
        out += (_STEPS, _steps_bytes(steps) if steps else _EMPTY_LIST,
                _TO_CONFIRM, _nested(result.to_confirm()) if status is _NEEDS_CONFIRMATION else _EMPTY_LIST, _NOTES)
    out.append(_nested(result.notes))
    if result.violations is not None:
        out += (_VIOLATIONS, _nested(result.violations))
    if result.extra:
        out += (_DETAILS, _nested(result.extra))
    out.append(_RESULT_END)


def _top(name: str) -> bytes:
    return b",\n  " + _dumps(name) + b": "


_DOCUMENT_START = b'{\n  "as_of": '
_RULES_VERSION, _ENTERPRISE, _TOTAL, _POTENTIAL, _RESULTS = map(_top, (
    "rules_version", "enterprise", "total_fen", "potential_total_fen", "results"))
_RESULTS_START = b"[\n" + b" " * (_RESULT_KEYS - 2)
_RESULTS_BETWEEN = b",\n" + b" " * (_RESULT_KEYS - 2)
_DOCUMENT_END = b"\n}\n"


def evaluation_bytes(evaluation: Any) -> bytes:
    """The result document as UTF-8 bytes with a final newline: exactly `report.evaluation_json(...)`.

    Every piece goes into one list joined once at the end: the document is ~200 KB, and each extra copy of a
    buffer that size costs more here than writing a few dozen results."""
    enterprise = evaluation.profile.enterprise
    out = [_DOCUMENT_START, _dumps(evaluation.as_of.isoformat()), _RULES_VERSION, _dumps(evaluation.rules_version),
           _ENTERPRISE,
           _dumps({"name": enterprise.name, "size": evaluation.size.as_dict()}, option=_INDENT).replace(
               _NEWLINE, b"\n  "),
           _TOTAL, _dumps(evaluation.total_fen), _POTENTIAL, _dumps(evaluation.potential_total_fen), _RESULTS]
    results = evaluation.results
    if results:
        out.append(_RESULTS_START)
        first = True
        for result in results:
            if not first:
                out.append(_RESULTS_BETWEEN)
            first = False
            _write_result(evaluation, result, out)
        out.append(b"\n  ]")
    else:
        out.append(_EMPTY_LIST)
    out.append(_DOCUMENT_END)
    return b"".join(out)
