"""The result cards of the results panel, written in Python: the same HTML as the `result_card` macro of
`_selfcheck.html`, character for character (a test renders both and compares them).

A card shows every condition with its quoted clause: ~40 macro calls per card and a few hundred attribute
look-ups through Jinja's runtime, which made the cards most of the cost of the results fragment. Here the
interface texts are translated and escaped once per language, citations are rendered once per language and
summary (they are scheme data), and the rest is string joining. Nothing derived from a visitor's profile or
results is remembered.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Mapping

from markupsafe import Markup, escape

from ..money import format_cny, format_glance
from ..results import FLAGGED_NOTE_KINDS
from . import i18n, labels
from .display_values import condition_value, unit_caption
from .charts import award_chart, has_award_chart
from .labels import N_

_ICONS = {"met": "✓", "failed": "✗", "unknown": "?"}


class _Texts:
    """The interface texts of one language, translated and HTML-escaped once."""

    def __init__(self, lang: str):
        self.lang = lang
        self.is_zh = i18n.is_zh(lang)

        def text(message: str) -> str:
            return str(escape(i18n.gettext(lang, message)))

        self.text = text
        self.up_to = text("Up to")
        self.cap_reached = text("Cap reached")
        self.cap = text("Cap")
        self.headroom = text("Headroom")
        self.headroom_yearly = text("Headroom (tightest year)")
        self.most_favourable = text("Most favourable, highest, no double claiming: this unit gets")
        self.instead = text("instead, which pays more.")
        self.to_confirm_title = text("To confirm before you apply:")
        self.deadline = text("Deadline")
        self.overdue = text("Overdue")
        self.violations = text("Violations")
        self.chart_caption = text("The line is the award for each base; the dot is yours.")
        self.how = text("How it is computed")
        self.conditions = text("Conditions")
        self.met = text("met")
        self.not_met = text("not met")
        self.to_confirm = text("to confirm")
        self.notes = text("Notes and assumptions")
        self.please_check = text("Please check")
        self.other_track = text("Other track")
        self.assumption = text("Assumption")
        self.in_force = text("In force")
        self.open_ended = text("open-ended")
        self.source = i18n.gettext(lang, "Source")  # joined into a summary first, escaped with it
        self.clause = i18n.gettext(lang, "Clause")
        self.status = {key: text(message) for key, message in labels.STATUS.items()}
        self.outcome = {key: text(message) for key, message in labels.OUTCOME.items()}
        self.confidence = {key: text(message) for key, message in labels.CONFIDENCE.items()}
        # the award chart's own labels, as the template passes them
        chart_texts = {"title": N_("Award against base, with the cap"), "cap": N_("Cap"),
                       "headroom": N_("Headroom"), "you": N_("You")}
        self.chart_labels = {key: i18n.gettext(lang, message) for key, message in chart_texts.items()}
        # the opening of each outcome's condition item, up to the label
        self.condition_open = {
            outcome: (f'<li class="cond cond-{outcome}">\n'
                      f'  <span class="cond-icon" aria-hidden="true">{_ICONS[outcome]}</span>\n'
                      f'  <span class="visually-hidden">{self.outcome[outcome]}:</span>\n'
                      f'  <span class="cond-label">')
            for outcome in _ICONS
        }


@cache  # one per interface language
def texts(lang: str) -> _Texts:
    return _Texts(lang)


def _pick(item: Mapping[str, Any], key: str, is_zh: bool) -> Any:
    """The `pick` template helper: item[key_zh] in Chinese, item[key_en] in English, else the other one."""
    first, second = (f"{key}_zh", f"{key}_en") if is_zh else (f"{key}_en", f"{key}_zh")
    value = item.get(first)
    return value if value not in (None, "") else item.get(second)


try:  # markupsafe's own C escaping of a plain str, without wrapping the answer in Markup first
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - the pure-Python markupsafe
    def _escape_str(text: str) -> str:
        return str(escape(text))


def _e(value: Any) -> str:
    """`{{ value }}` in an autoescaping template (None prints as "None", as Jinja does)."""
    if type(value) is str:  # nearly always; a Markup or another type goes the general way
        return _escape_str(value)
    return str(escape(value))


def _cny(fen: int | None) -> str:
    return "—" if fen is None else format_cny(fen)




# (language, summary, the cite's items) -> its HTML; citations are scheme data, the same few hundred each time
_CITES: dict[Any, str] = {}
_CITES_LIMIT = 20_000


def cite_details(cite: Any, summary: str | None, t: _Texts) -> str:
    """The `cite_details` macro of `_macros.html`."""
    if not cite:
        return ""
    if type(cite) is not dict and not isinstance(cite, Mapping):
        return _cite_html(cite, summary, t)
    key = (t.lang, summary, tuple(cite.items()))
    try:
        found = _CITES.get(key)
    except TypeError:  # an unhashable value: render without remembering
        return _cite_html(cite, summary, t)
    if found is None:
        found = _cite_html(cite, summary, t)
        if len(_CITES) >= _CITES_LIMIT:
            _CITES.clear()
        _CITES[key] = found
    return found


def _cite_html(cite: Mapping[str, Any], summary: str | None, t: _Texts) -> str:
    get = cite.get
    shown = summary or f"{get('document')} {get('clause')}"
    wording = get("wording")
    restated = f'  <p class="cite-wording">{t.text(labels.WORDING[wording])}</p>\n' if wording else ""
    parts = [f'<details class="cite">\n  <summary>{_e(shown)}</summary>\n{restated}'
             f'  <blockquote lang="zh-CN">{_e(get("quote_zh"))}</blockquote>\n'
             f'  <p class="cite-meta">{_e(get("document"))} · {_e(get("clause"))} · '
             f'<span class="confidence confidence-{_e(get("confidence"))}">'
             f'{t.text(labels.CONFIDENCE[get("confidence")])}</span></p>\n']
    if get("note_zh") or get("note_en"):
        parts.append(f'<p class="cite-note">{_e(_pick(cite, "note", t.is_zh))}</p>')
    if get("source"):
        parts.append(f'<p class="cite-source">{t.text("Source")}: {_e(get("source"))}</p>')
    parts.append("</details>\n")
    return "".join(parts)


def _condition_item(condition: Mapping[str, Any], unit_kind: str | None, t: _Texts, out: list[str]) -> None:
    """The `condition_item` macro."""
    outcome = condition["outcome"]
    out.append(t.condition_open[outcome])
    out.append(_e(_pick(condition, "label", t.is_zh)))
    out.append("</span>\n")
    actual = condition.get("actual")
    if actual:
        out.append(f'<span class="cond-actual">（{_e(condition_value(actual, unit_kind, t.lang))}）</span>')
    if outcome == "unknown":
        out.append(f'<div class="cond-confirm">{_e(_pick(condition, "confirm", t.is_zh))}</div>')
    cite = condition.get("cite")
    out.append("  ")
    out.append(cite_details(cite, f"{t.clause} {cite['clause'] if cite else ''}", t))
    out.append("\n")
    children = condition.get("children")
    if children:
        out.append('<ul class="cond-children">')
        for child in children:
            _condition_item(child, unit_kind, t, out)
        out.append("</ul>")
    out.append("</li>\n")


def _steps(result: Mapping[str, Any], t: _Texts, out: list[str]) -> None:
    """The `steps` macro."""
    out.append('<ol class="steps">\n')
    for step in result["steps"]:
        out.append(f'  <li>\n    <span class="step-label">{_e(_pick(step, "label", t.is_zh))}</span>\n'
                   f'    <span class="step-value">')
        out.append(_e(_cny(step["amount_fen"])) if "amount_fen" in step else _e(step.get("value", "")))
        out.append("</span>\n")
        cite = step.get("cite")
        if cite:
            out.append(cite_details(cite, f"{t.source}: {cite['clause']}", t))
        out.append("  </li>\n")
    out.append("</ol>\n")


def result_card(result: Mapping[str, Any], titles: Mapping[str, Any], lang: str) -> Markup:
    """The `result_card` macro: one result of the document as a card."""
    t = texts(lang)
    is_zh = t.is_zh
    r = result
    status = r["status"]
    unit_id = r.get("unit_id")
    anchor_unit = _e(unit_id or "enterprise")
    out = [f'<article class="card status-{_e(status)}" id="r-{_e(r["scheme_id"].replace("/", "-"))}-{anchor_unit}">\n'
           f'  <header class="card-head">\n    <div>\n      <h3>{_e(_pick(r, "title", is_zh))}</h3>\n'
           f'      <p class="card-meta">']
    if unit_id:
        out.append(f'<span class="unit">{_e(unit_caption(unit_id, r.get("unit_name")))}</span> · ')
    out.append(f'{_e(r.get("document"))} {_e(r.get("clause"))}\n'
               f'        · <a href="/schemes/{_e(r["scheme_id"])}">{_e(r["scheme_id"])}</a></p>\n'
               f'    </div>\n    <span class="badge badge-{_e(status)}">{t.status[status]}</span>\n  </header>\n')
    amount = r.get("amount_fen")
    if amount is not None:
        out.append(f'  <div class="amount-row">\n    <p class="amount">{t.up_to} <strong>{_e(_cny(amount))}</strong> '
                   f'<span class="wan">{_e(format_glance(amount, t.is_zh))}</span></p>\n')
        cap = r.get("cap_fen")
        if cap is not None:
            out.append('    <p class="cap-line">')
            if r.get("binding_cap"):
                out.append(f'<span class="cap-binding">{t.cap_reached}: {_e(_cny(cap))}</span>\n')
            else:
                out.append(f"{t.cap} {_e(_cny(cap))}")
            headroom = r.get("headroom_fen")
            if headroom is not None:
                # a yearly cap: the room left in the tightest of the loan's years, not in every year
                label = t.headroom_yearly if r.get("kind") == "loan_interest_subsidy" else t.headroom
                out.append(f" · {label} {_e(_cny(headroom))}")
            out.append("</p>\n")
        out.append("  </div>\n")
    if status == "superseded":
        winner = r.get("superseded_by")
        shown = _pick(titles[winner], "title", is_zh) if winner in titles else winner
        out.append(f'  <p class="superseded-note">{t.most_favourable}\n'
                   f'    <a href="#r-{_e(str(winner).replace("/", "-"))}-{anchor_unit}">{_e(shown)}</a>\n'
                   f"    {t.instead}</p>\n")
    to_confirm = r.get("to_confirm")
    if to_confirm:
        items = "".join(f"<li>{_e(item['zh'] if is_zh else item['en'])}</li>" for item in to_confirm)
        out.append(f'  <div class="confirm-box">\n    <p><strong>{t.to_confirm_title}</strong></p>\n'
                   f"    <ul>{items}</ul>\n  </div>\n")
    details = r.get("details")
    if details and details.get("deadline"):
        out.append(f'  <p class="deadline-line">{t.deadline}: <strong>{_e(details["deadline"])}</strong>\n')
        if details.get("is_overdue"):
            out.append(f'<span class="badge badge-ineligible">{t.overdue}</span>')
        out.append("</p>\n")
    violations = r.get("violations")
    if violations:
        items = "".join(f"<li>{_e(_pick(v, 'label', is_zh))} {cite_details(v.get('cite'), None, t)}</li>"
                        for v in violations)
        out.append(f'  <div class="violations"><p><strong>{t.violations}:</strong></p>\n'
                   f"    <ul>{items}</ul></div>\n")
    out.append('  <div class="card-body">\n')
    if has_award_chart(r):
        chart_labels = dict(t.chart_labels)
        chart_labels["x"] = r["steps"][0]["label_zh" if is_zh else "label_en"] if r.get("steps") else ""
        picture = award_chart(r, chart_labels, zh=is_zh)
        if picture:
            out.append(f'<figure class="chart-box">{picture}<figcaption>{t.chart_caption}</figcaption></figure>')
    if r.get("steps"):
        out.append(f'    <div class="steps-box"><h4>{t.how}</h4>')
        _steps(r, t, out)
        out.append("</div>\n")
    conditions = r["conditions"]
    counts = {"met": 0, "failed": 0, "unknown": 0}
    for condition in conditions:
        outcome = condition["outcome"]
        if outcome in counts:
            counts[outcome] += 1
    out.append(f'  </div>\n  <details class="conditions">\n    <summary>{t.conditions}:\n'
               f'      <span class="count-met">{t.met} {counts["met"]}</span> ·\n'
               f'      <span class="count-failed">{t.not_met} {counts["failed"]}</span> ·\n'
               f'      <span class="count-unknown">{t.to_confirm} {counts["unknown"]}</span>\n'
               f'    </summary>\n    <ul class="cond-list">')
    for condition in conditions:
        _condition_item(condition, r.get("unit_kind"), t, out)
    out.append("</ul>\n  </details>\n")
    notes = r.get("notes")
    if notes:
        # a note asking to check an input, or saying a loan is to confirm on another track, is shown open: it
        # explains the amount above it
        opened = " open" if any(note.get("kind") in FLAGGED_NOTE_KINDS for note in notes) else ""
        out.append(f'  <details class="notes"{opened}><summary>{t.notes} ({len(notes)})</summary>\n    <ul>')
        for note in notes:
            kind = note.get("kind")
            out.append(f'<li class="note note-{_e(kind)}">')
            if kind == "assumption":
                out.append(f'<span class="tag">{t.assumption}</span>')
            elif kind == "check":
                out.append(f'<span class="tag tag-check">{t.please_check}</span>')
            elif kind == "other_track":
                out.append(f'<span class="tag tag-check">{t.other_track}</span>')
            out.append(f"      {_e(note.get('zh') if is_zh else note.get('en'))}")
            confidence = note.get("confidence")
            if confidence:
                out.append(f' <span class="confidence confidence-{_e(confidence)}">{t.confidence[confidence]}</span>')
            out.append("</li>")
        out.append("</ul>\n  </details>\n")
    in_force = r.get("in_force") or {}
    out.append(f'  <p class="in-force muted">{t.in_force}: {_e(in_force.get("from") or "—")} – '
               f'{_e(in_force.get("until")) if in_force.get("until") else t.open_ended}</p>\n</article>\n')
    return Markup("".join(out))
