"""Small server-side SVG charts: award against base for percent-of-base results, PBoC rates over time, and a
batch's money per scheme.

Only geometry happens here (where a point sits on the picture); every amount shown is one the engine computed.
Coordinates use exact fractions, floored to whole pixels. Styling is by class (app.css), never inline styles,
so the Content-Security-Policy needs no 'unsafe-inline'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from decimal import Decimal
from typing import Any, NamedTuple, Sequence

from markupsafe import Markup, escape

from ..money import format_glance

PERCENT_KINDS = frozenset({"percent_of_base", "tiered_percent_of_base"})


@dataclass(frozen=True, slots=True)
class Frame:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_max: Fraction | _Ratio
    y_max: Fraction | _Ratio

    def x(self, value: Fraction | _Ratio | int) -> int:
        return self.left + _scaled(value, self.x_max, self.right - self.left)

    def y(self, value: Fraction | _Ratio | int) -> int:
        return self.bottom - _scaled(value, self.y_max, self.bottom - self.top)


def _scaled(value: Fraction | _Ratio | int, maximum: Fraction | _Ratio, span: int) -> int:
    """int(Fraction(value) / maximum * span), in integers: the same exact ratio, truncated towards zero, without
    building Fractions for every coordinate (ints have a numerator and a denominator too)."""
    top = value.numerator * maximum.denominator * span
    bottom = value.denominator * maximum.numerator
    if bottom < 0:
        top, bottom = -top, -bottom
    quotient = abs(top) // bottom
    return quotient if top >= 0 else -quotient


def has_award_chart(result: dict[str, Any]) -> bool:
    return (result.get("kind") in PERCENT_KINDS and result.get("base_fen") is not None
            and result.get("rate") is not None and result.get("amount_fen") is not None)


class _Ratio(NamedTuple):
    """An exact non-negative ratio of two ints (denominator > 0), not reduced: the chart only ever scales and
    compares these, and `_scaled` gives the same pixel for 6/8 as for 3/4. Fractions reduce by gcd at every
    operation, which made the award chart's few ratios most of its cost."""

    numerator: int
    denominator: int


def _times(value: _Ratio, top: int, bottom: int) -> _Ratio:
    return _Ratio(value.numerator * top, value.denominator * bottom)


def _is_zero(value: _Ratio) -> bool:
    return value.numerator == 0


def _larger(first: _Ratio, second: _Ratio) -> _Ratio:
    """max(first, second), the first one on a tie (as max() keeps it)."""
    if second.numerator * first.denominator > first.numerator * second.denominator:
        return second
    return first


try:  # markupsafe's own C escaping of a plain str, without wrapping each piece in Markup first
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - the pure-Python markupsafe
    def _escape_str(text: str) -> str:
        return str(escape(text))


def _esc(value: Any) -> str:
    """The text of `escape(value)`: labels and amounts are nearly always plain str, escaped in C."""
    if type(value) is str:
        return _escape_str(value)
    return str(escape(value))


def award_chart(result: dict[str, Any], labels: dict[str, str], *, zh: bool) -> Markup:
    """Award against base: the line rises at the rate, kinks flat at the cap; the user's point and headroom.
    `zh` picks how amounts are written, as the labels' language does (required, so no caller forgets it)."""
    base = int(result["base_fen"])
    amount = int(result["amount_fen"])
    # the exact value of the decimal text, as Fraction(str(rate)) reads it (Decimal parses in C)
    rate = _Ratio(*Decimal(str(result["rate"])).as_integer_ratio())
    cap = result.get("cap_fen")
    kink = _Ratio(cap * rate.denominator, rate.numerator) if cap is not None and rate.numerator > 0 else None
    x_max = _times(_larger(_Ratio(base, 1), kink if kink is not None and not _is_zero(kink) else _Ratio(0, 1)), 5, 4)
    if _is_zero(x_max):
        x_max = _Ratio(1, 1)
    y_top = _Ratio(cap, 1) if cap is not None else _Ratio(rate.numerator * x_max.numerator,
                                                           rate.denominator * x_max.denominator)
    y_max = _times(y_top, 6, 5)
    frame = Frame(360, 190, 14, 346, 22, 160, x_max, y_max if not _is_zero(y_max) else _Ratio(1, 1))
    if kink is not None:
        line = [(0, 0), (kink, cap), (x_max, cap)]
    else:
        line = [(0, 0), (x_max, _Ratio(rate.numerator * x_max.numerator, rate.denominator * x_max.denominator))]
    points = " ".join(f"{frame.x(px)},{frame.y(py)}" for px, py in line)
    title = _esc(labels["title"])
    parts = [
        f'<svg class="chart award-chart" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{title}</title>',
        _axes(frame),
        f'<polyline class="chart-line" points="{points}"/>',
    ]
    # each coordinate is worked out once (they are exact ratios, and several elements share them)
    base_x, amount_y = frame.x(base), frame.y(amount)
    cap_y = frame.y(cap) if cap is not None else None
    if cap is not None:
        parts.append(f'<line class="chart-cap" x1="{frame.left}" y1="{cap_y}" x2="{frame.right}" y2="{cap_y}"/>')
        parts.append(f'<text class="chart-label" x="{frame.left + 4}" y="{cap_y - 5}">'
                     f'{_esc(labels["cap"])} {_esc(format_glance(cap, zh))}</text>')
    if kink is not None:
        parts.append(f'<circle class="chart-kink" cx="{frame.x(kink)}" cy="{cap_y}" r="3"/>')
    headroom = result.get("headroom_fen")
    if cap is not None and headroom:
        parts.append(f'<line class="chart-headroom" x1="{base_x}" y1="{amount_y}" '
                     f'x2="{base_x}" y2="{cap_y}"/>')
        middle = (amount_y + cap_y) // 2
        anchor, dx = ("end", -6) if base_x > frame.width // 2 else ("start", 6)
        parts.append(f'<text class="chart-label chart-headroom-label" x="{base_x + dx}" y="{middle}" '
                     f'text-anchor="{anchor}">{_esc(labels["headroom"])} {_esc(format_glance(headroom, zh))}</text>')
    you_x, you_y = base_x, amount_y
    anchor = "end" if you_x > frame.width * 2 // 3 else "start"
    dx = -8 if anchor == "end" else 8
    parts.append(f'<circle class="chart-point" cx="{you_x}" cy="{you_y}" r="5"/>')
    parts.append(f'<text class="chart-label chart-point-label" x="{you_x + dx}" y="{min(you_y + 16, frame.bottom - 4)}" '
                 f'text-anchor="{anchor}">{_esc(labels["you"])} {_esc(format_glance(amount, zh))}</text>')
    parts.append(f'<text class="chart-axis-label" x="{frame.right}" y="{frame.height - 8}" text-anchor="end">'
                 f'{_esc(labels["x"])} → {_esc(format_glance(base, zh))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _axes(frame: Frame) -> str:
    return (f'<line class="chart-axis" x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}"/>'
            f'<line class="chart-axis" x1="{frame.left}" y1="{frame.top - 8}" x2="{frame.left}" y2="{frame.bottom}"/>')


def rate_chart(entries: Sequence[tuple[date, str]], until: date, title: str) -> Markup:
    """A step line of one rate over time, from its first effective date to `until`."""
    start = entries[0][0]
    end = max(until, entries[-1][0])
    span = Fraction(max((end - start).days, 1))
    top = max(Fraction(value) for _, value in entries) * Fraction(5, 4)
    frame = Frame(420, 170, 44, 404, 14, 140, span, top)
    path = []
    for index, (day, value) in enumerate(entries):
        x = frame.x((day - start).days)
        y = frame.y(Fraction(value))
        if index == 0:
            path.append(f"M{x},{y}")
        else:
            path.append(f"H{x} V{y}")
    path.append(f"H{frame.x(span)}")
    parts = [f'<svg class="chart rate-chart" viewBox="0 0 {frame.width} {frame.height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             _axes(frame), f'<path class="chart-line" d="{" ".join(path)}"/>']
    for day, value in entries:
        x, y = frame.x((day - start).days), frame.y(Fraction(value))
        parts.append(f'<circle class="chart-point small" cx="{x}" cy="{y}" r="3"/>')
        parts.append(f'<text class="chart-label" x="{x + 3}" y="{y - 6}">{escape(_percent(value))}</text>')
    parts.append(f'<text class="chart-axis-label" x="{frame.left}" y="{frame.height - 10}">{start.isoformat()}</text>')
    parts.append(f'<text class="chart-axis-label" x="{frame.right}" y="{frame.height - 10}" text-anchor="end">'
                 f'{end.isoformat()}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def scheme_bars(schemes: Sequence[dict[str, Any]], labels: dict[str, str], zh: bool) -> Markup:
    """A batch's money per scheme: one bar each, the confirmed amount solid and what is still to confirm after
    it, the largest total the full width; the title above each bar, the amounts at its end."""
    schemes = [s for s in schemes if s["eligible_fen"] + s["to_confirm_fen"] > 0]  # e.g. relending: no amount
    row, left, span = 38, 4, 440
    largest = max((s["eligible_fen"] + s["to_confirm_fen"] for s in schemes), default=0) or 1
    height = row * len(schemes) + 24
    title = _esc(labels["title"])
    parts = [f'<svg class="chart scheme-bars" viewBox="0 0 640 {height}" role="img" aria-label="{title}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>']
    for index, scheme in enumerate(schemes):
        top = index * row
        confirmed = span * scheme["eligible_fen"] // largest
        potential = span * (scheme["eligible_fen"] + scheme["to_confirm_fen"]) // largest
        name = scheme["title_zh"] if zh else scheme["title_en"]
        parts.append(f'<text class="chart-label" x="{left}" y="{top + 12}">{_esc(name)}</text>')
        parts.append(f'<rect class="chart-bar-confirmed" x="{left}" y="{top + 17}" width="{confirmed}" height="12"/>')
        if potential > confirmed:
            parts.append(f'<rect class="chart-bar-potential" x="{left + confirmed}" y="{top + 17}" '
                         f'width="{potential - confirmed}" height="12"/>')
        amounts = [format_glance(scheme["eligible_fen"], zh)] if scheme["eligible_fen"] else []
        if scheme["to_confirm_fen"]:
            amounts.append(f'{format_glance(scheme["to_confirm_fen"], zh)} {labels["to_confirm"]}')
        amounts = " + ".join(amounts)
        parts.append(f'<text class="chart-label" x="{left + potential + 6}" y="{top + 27}">{_esc(amounts)}</text>')
    legend = height - 8
    parts.append(f'<rect class="chart-bar-confirmed" x="{left}" y="{legend - 9}" width="10" height="10"/>'
                 f'<text class="chart-axis-label" x="{left + 14}" y="{legend}">{_esc(labels["confirmed"])}</text>'
                 f'<rect class="chart-bar-potential" x="{left + 150}" y="{legend - 9}" width="10" height="10"/>'
                 f'<text class="chart-axis-label" x="{left + 164}" y="{legend}">{_esc(labels["to_confirm"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _percent(value: str) -> str:
    from decimal import Decimal

    from ..money import format_rate

    return format_rate(Decimal(value))


__all__ = ["award_chart", "has_award_chart", "rate_chart", "scheme_bars"]
