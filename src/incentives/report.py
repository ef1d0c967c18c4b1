"""The result document (JSON, the CLI / API contract) and the readable text table, zh or en."""

from __future__ import annotations

import json
from typing import Any

from .evaluate import Evaluation
from .money import format_cny
from .results import FLAGGED_NOTE_KINDS, STATUS_LABELS, Result, Status


_STATUS_VALUES = {status: status.value for status in Status}


def result_dict(evaluation: Evaluation, result: Result) -> dict[str, Any]:
    schemes = evaluation.catalogue.schemes
    # a result's order is its scheme's position in the catalogue: no search through every scheme per result
    scheme = schemes[result.order] if result.order < len(schemes) else None
    if scheme is None or scheme.id != result.scheme_id:
        scheme = evaluation.catalogue.scheme(result.scheme_id)
    document = evaluation.catalogue.document_of(result.scheme_id)
    out: dict[str, Any] = {
        "scheme_id": result.scheme_id,
        "title_zh": scheme.title_zh,
        "title_en": scheme.title_en,
        "document": document.number_zh,
        "clause": scheme.clause_zh,
        "kind": scheme.kind,
        "unit_kind": result.unit_kind,
        "unit_id": result.unit_id,
        "unit_name": result.unit_name,
        "status": _STATUS_VALUES[result.status],
        "amount_fen": result.amount_fen,
        "cap_fen": result.cap_fen,
        "binding_cap": result.binding_cap,
        "headroom_fen": result.headroom_fen,
        "rate": result.rate,
        "base_fen": result.base_fen,
        "superseded_by": result.superseded_by,
        "stacking_group": result.stacking_group,
        "in_force": {"from": result.version_from, "until": result.version_until},
        "conditions": [c.as_dict() for c in result.conditions],
        "steps": [s.as_dict() for s in result.steps],
        "to_confirm": result.to_confirm() if result.status is Status.needs_confirmation else [],
        "notes": result.notes,
    }
    if result.violations is not None:
        out["violations"] = result.violations
    if result.extra:
        out["details"] = result.extra
    return out


def evaluation_dict(evaluation: Evaluation) -> dict[str, Any]:
    enterprise = evaluation.profile.enterprise
    return {
        "as_of": evaluation.as_of.isoformat(),
        "rules_version": evaluation.rules_version,
        "enterprise": {"name": enterprise.name, "size": evaluation.size.as_dict()},
        "total_fen": evaluation.total_fen,
        "potential_total_fen": evaluation.potential_total_fen,
        "results": [result_dict(evaluation, r) for r in evaluation.results],
    }


def evaluation_json(evaluation: Evaluation) -> str:
    """Byte-for-byte stable: same inputs, date and rules version give the same text.

    Written by result_json (citations serialised once, no intermediate dicts); it is the same text as
    `reference_evaluation_json`, which a test keeps true."""
    from .result_json import evaluation_bytes

    return evaluation_bytes(evaluation).decode()


def reference_evaluation_json(evaluation: Evaluation) -> str:
    """The document's definition: `evaluation_dict` through json.dumps, two-space indent, UTF-8 text."""
    return json.dumps(evaluation_dict(evaluation), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


_HEAD = {
    "zh": ("方案", "对象", "状态", "金额", "说明"),
    "en": ("Scheme", "Unit", "Status", "Amount", "Why"),
}


def _why(result: Result, lang: str) -> str:
    key = "zh" if lang == "zh" else "en"
    flagged = [note[key] for note in result.notes if note.get("kind") in FLAGGED_NOTE_KINDS]
    return "; ".join(part for part in (_reason(result, lang), *flagged) if part)


def _reason(result: Result, lang: str) -> str:
    key = "zh" if lang == "zh" else "en"
    if result.status is Status.superseded:
        return ("从优不重复，由 " if lang == "zh" else "superseded by ") + (result.superseded_by or "")
    if result.status is Status.needs_confirmation:
        return "; ".join(i[key] for i in result.to_confirm())
    if result.status is Status.ineligible:
        failed = result.failed()[:2]
        return ("未满足：" if lang == "zh" else "failed: ") + "; ".join(f[key] for f in failed)
    if result.status is Status.not_in_force:
        return "评估日不在有效期内" if lang == "zh" else "not in force on the evaluation date"
    if result.extra.get("deadline"):
        return ("截止日 " if lang == "zh" else "deadline ") + result.extra["deadline"]
    if result.binding_cap and result.cap_fen is not None:
        return ("达到上限 " if lang == "zh" else "cap reached ") + format_cny(result.cap_fen)
    return ""


def evaluation_text(evaluation: Evaluation, lang: str = "zh") -> str:
    """A readable table: what pays (largest first), then what does not and why, then the totals."""
    zh = lang == "zh"
    head = _HEAD["zh" if zh else "en"]
    shown = [r for r in evaluation.results if r.status not in (Status.ineligible,)]
    shown.sort(key=lambda r: (_STATUS_ORDER[r.status], -(r.amount_fen or 0), r.order))
    rows = [_row(evaluation, r, lang) for r in shown]
    lines = []
    if zh:
        lines.append(f"企业：{evaluation.profile.enterprise.name}    评估日：{evaluation.as_of}    规则版本：{evaluation.rules_version}")
        size = evaluation.size
        lines.append(f"企业规模：{_SIZE_ZH.get(size.size_class, '无法判定')}（{'；'.join(size.reasons_zh)}）")
    else:
        lines.append(f"Enterprise: {evaluation.profile.enterprise.name}    as of: {evaluation.as_of}    "
                     f"rules: {evaluation.rules_version}")
        lines.append(f"Size class: {evaluation.size.size_class or 'undetermined'} ({'; '.join(evaluation.size.reasons_en)})")
    lines.append("")
    if rows:
        widths = [max(_width(row[i]) for row in rows + [head]) for i in range(4)]
        for row in [head] + rows:
            lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    ineligible = [r for r in evaluation.results if r.status is Status.ineligible]
    if ineligible:
        lines.append("")
        lines.append(f"不符合条件（{len(ineligible)} 项）：" if zh else f"Ineligible ({len(ineligible)}):")
        by_scheme: dict[str, list[Result]] = {}
        for result in ineligible:
            by_scheme.setdefault(result.scheme_id, []).append(result)
        for scheme_id, results in by_scheme.items():
            units = ", ".join(r.unit_id for r in results if r.unit_id) or "—"
            lines.append(f"  {scheme_id} [{units}]  {_why(results[0], lang)}")
    lines.append("")
    if zh:
        lines.append(f"确定可获合计：{format_cny(evaluation.total_fen)}    含待确认合计：{format_cny(evaluation.potential_total_fen)}")
    else:
        lines.append(f"Total (eligible): {format_cny(evaluation.total_fen)}    "
                     f"including items to confirm: {format_cny(evaluation.potential_total_fen)}")
    return "\n".join(lines) + "\n"


_STATUS_ORDER = {Status.eligible: 0, Status.needs_confirmation: 1, Status.superseded: 2, Status.not_in_force: 3,
                 Status.ineligible: 4}
_SIZE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


def _row(evaluation: Evaluation, result: Result, lang: str) -> tuple[str, str, str, str, str]:
    scheme = evaluation.catalogue.scheme(result.scheme_id)
    title = scheme.title_zh if lang == "zh" else scheme.title_en
    status = STATUS_LABELS[result.status][0 if lang == "zh" else 1]
    amount = format_cny(result.amount_fen) if result.amount_fen is not None else "—"
    return (f"{result.scheme_id} {title}", result.unit_id or "—", status, amount, _why(result, lang))


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
