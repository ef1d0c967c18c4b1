"""The award chart works its geometry out in unreduced integer ratios; it must draw exactly what the Fraction
formula draws (the reference below is that formula, as the chart was first written)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings, strategies as st
from markupsafe import Markup, escape

from incentives.money import format_cny_compact, format_wan
from incentives.web.charts import Frame, award_chart, scheme_bars


def reference_award_chart(result: dict[str, Any], labels: dict[str, str], zh: bool = True) -> Markup:
    amount_text = format_wan if zh else format_cny_compact
    base = int(result["base_fen"])
    amount = int(result["amount_fen"])
    rate = Fraction(str(result["rate"]))
    cap = result.get("cap_fen")
    kink = Fraction(cap) / rate if cap is not None and rate > 0 else None
    x_max = max(Fraction(base), kink or Fraction(0)) * Fraction(5, 4) or Fraction(1)
    y_top = Fraction(cap) if cap is not None else rate * x_max
    frame = Frame(360, 190, 14, 346, 22, 160, x_max, (y_top * Fraction(6, 5)) or Fraction(1))
    if kink is not None:
        line = [(0, 0), (kink, cap), (x_max, cap)]
    else:
        line = [(0, 0), (x_max, rate * x_max)]
    points = " ".join(f"{frame.x(px)},{frame.y(py)}" for px, py in line)
    parts = [
        f'<svg class="chart award-chart" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(labels["title"])}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{escape(labels["title"])}</title>',
        f'<line class="chart-axis" x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}"/>'
        f'<line class="chart-axis" x1="{frame.left}" y1="{frame.top - 8}" x2="{frame.left}" y2="{frame.bottom}"/>',
        f'<polyline class="chart-line" points="{points}"/>',
    ]
    base_x, amount_y = frame.x(base), frame.y(amount)
    cap_y = frame.y(cap) if cap is not None else None
    if cap is not None:
        parts.append(f'<line class="chart-cap" x1="{frame.left}" y1="{cap_y}" x2="{frame.right}" y2="{cap_y}"/>')
        parts.append(f'<text class="chart-label" x="{frame.left + 4}" y="{cap_y - 5}">'
                     f'{escape(labels["cap"])} {escape(amount_text(cap))}</text>')
    if kink is not None:
        parts.append(f'<circle class="chart-kink" cx="{frame.x(kink)}" cy="{cap_y}" r="3"/>')
    headroom = result.get("headroom_fen")
    if cap is not None and headroom:
        parts.append(f'<line class="chart-headroom" x1="{base_x}" y1="{amount_y}" '
                     f'x2="{base_x}" y2="{cap_y}"/>')
        middle = (amount_y + cap_y) // 2
        anchor, dx = ("end", -6) if base_x > frame.width // 2 else ("start", 6)
        parts.append(f'<text class="chart-label chart-headroom-label" x="{base_x + dx}" y="{middle}" '
                     f'text-anchor="{anchor}">{escape(labels["headroom"])} {escape(amount_text(headroom))}</text>')
    you_x, you_y = base_x, amount_y
    anchor = "end" if you_x > frame.width * 2 // 3 else "start"
    dx = -8 if anchor == "end" else 8
    parts.append(f'<circle class="chart-point" cx="{you_x}" cy="{you_y}" r="5"/>')
    parts.append(f'<text class="chart-label chart-point-label" x="{you_x + dx}" y="{min(you_y + 16, frame.bottom - 4)}" '
                 f'text-anchor="{anchor}">{escape(labels["you"])} {escape(amount_text(amount))}</text>')
    parts.append(f'<text class="chart-axis-label" x="{frame.right}" y="{frame.height - 8}" text-anchor="end">'
                 f'{escape(labels["x"])} → {escape(amount_text(base))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


_RATES = st.sampled_from(["0", "0.0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.30", "0.35", "0.4", "0.5",
                          "0.035", "0.333", "0.6", "1", "1.0"])
_FEN = st.integers(min_value=0, max_value=10**13)
_LABEL = st.sampled_from(["补助", "Award <against> base & cap", "总投入", 'a "quoted" \'x\''])


@settings(max_examples=400, deadline=None)
@given(base=_FEN, amount=_FEN, rate=_RATES, cap=st.none() | _FEN, headroom=st.none() | _FEN,
       title=_LABEL, x=_LABEL, zh=st.booleans())
def test_the_integer_award_chart_draws_what_the_fraction_formula_draws(base, amount, rate, cap, headroom, title, x,
                                                                       zh):
    result = {"kind": "percent_of_base", "base_fen": base, "amount_fen": amount, "rate": rate, "cap_fen": cap,
              "headroom_fen": headroom}
    labels = {"title": title, "cap": "上限", "headroom": "Headroom & room", "you": "您", "x": x}
    drawn = award_chart(result, labels, zh=zh)
    assert isinstance(drawn, Markup)
    assert str(drawn) == str(reference_award_chart(result, labels, zh))
    assert drawn.startswith('<svg class="chart award-chart"')


def test_the_award_chart_of_a_capped_result_marks_the_kink_and_the_headroom():
    result = {"kind": "percent_of_base", "base_fen": 100_000_000, "amount_fen": 30_000_000, "rate": "0.3",
              "cap_fen": 50_000_000, "headroom_fen": 20_000_000}
    labels = {"title": "t", "cap": "Cap", "headroom": "Headroom", "you": "You", "x": "base"}
    drawn = str(award_chart(result, labels, zh=True))
    assert drawn == str(reference_award_chart(result, labels))
    assert 'class="chart-kink"' in drawn and "Headroom 20.00万元" in drawn


def test_the_english_award_chart_writes_amounts_in_thousands_and_millions_not_in_wan():
    result = {"kind": "percent_of_base", "base_fen": 5_000_000_000, "amount_fen": 1_500_000_000, "rate": "0.3",
              "cap_fen": 2_000_000_000, "headroom_fen": 500_000_000}
    labels = {"title": "t", "cap": "Cap", "headroom": "Headroom", "you": "You", "x": "Total input"}
    english = str(award_chart(result, labels, zh=False))
    assert "万" not in english
    for text in ("Cap ¥20.00M", "Headroom ¥5.00M", "You ¥15.00M", "Total input → ¥50.00M"):
        assert text in english
    chinese = str(award_chart(result, {**labels, "cap": "上限"}, zh=True))
    assert "上限 2,000.00万元" in chinese and "¥" not in chinese  # Chinese pages keep 万元, as before


def _bars_scheme(eligible_fen: int, to_confirm_fen: int) -> dict[str, Any]:
    return {"title_zh": "方案", "title_en": "Scheme", "eligible_fen": eligible_fen, "to_confirm_fen": to_confirm_fen}


def test_the_english_scheme_bars_write_amounts_an_english_reader_reads():
    labels = {"title": "Amounts per scheme", "confirmed": "confirmed", "to_confirm": "to confirm"}
    # 263.12万元 confirmed and 5,400.00万元 to confirm, as the user test saw them on the English page
    drawn = str(scheme_bars([_bars_scheme(263_120_000, 5_400_000_000)], labels, False))
    assert "万" not in drawn
    assert "¥2.63M + ¥54.00M to confirm" in drawn


def test_the_chinese_scheme_bars_keep_wan_yuan():
    labels = {"title": "各方案金额", "confirmed": "确定可获", "to_confirm": "待确认"}
    drawn = str(scheme_bars([_bars_scheme(263_120_000, 5_400_000_000)], labels, True))
    assert "263.12万元 + 5,400.00万元 待确认" in drawn
