"""Every quote shown as a document's words is in the source texts; a restated one says so and names its sources.

The source texts (the policy briefing the schemes were written from, and the compiled facts with their
sources) are copied under tests/fixtures/policy_sources/ so the check runs on any clone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from incentives.citations import Cite
from incentives.resources import schemes_dir

SOURCES = Path(__file__).resolve().parents[1] / "fixtures" / "policy_sources"


def _plain(text: str) -> str:
    """Text compared without width, spacing or quote-mark differences (the briefing mixes ASCII and full-width)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))


SOURCE_TEXT = _plain("\n".join(p.read_text(encoding="utf-8") for p in sorted(SOURCES.iterdir())))


def _not_in_sources(quote: str) -> list[str]:
    """The pieces of a quote not found in the source texts ("……" marks an omission: each piece between omissions
    must be found as it stands)."""
    pieces = [piece for piece in re.split(r"…+", quote) if piece.strip("，。；、 ")]
    return [piece for piece in pieces if _plain(piece).strip("，。；、") not in SOURCE_TEXT]


def _citations(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "quote_zh" in node:
            yield path, node
        for key, value in node.items():
            yield from _citations(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _citations(value, f"{path}[{i}]")


CITATIONS = [(f"{file.relative_to(schemes_dir())}{path}", cite)
             for file in sorted(schemes_dir().rglob("*.yaml")) if not file.name.endswith(".cases.yaml")
             for path, cite in _citations(yaml.safe_load(file.read_text(encoding="utf-8")), "")]


def test_the_walk_finds_the_citations() -> None:
    assert len(CITATIONS) >= 60
    assert sum(cite.get("wording") == "secondary" for _, cite in CITATIONS) >= 20


@pytest.mark.parametrize("where, cite", [c for c in CITATIONS if c[1].get("wording") != "secondary"],
                         ids=[c[0] for c in CITATIONS if c[1].get("wording") != "secondary"])
def test_a_quote_shown_as_the_documents_words_is_in_the_source_text(where: str, cite: dict[str, Any]) -> None:
    missing = _not_in_sources(cite["quote_zh"])
    assert not missing, f"{where}: not in the source texts: {missing}"


@pytest.mark.parametrize("where, cite", [c for c in CITATIONS if c[1].get("wording") == "secondary"],
                         ids=[c[0] for c in CITATIONS if c[1].get("wording") == "secondary"])
def test_a_restated_quote_names_the_sources_it_restates(where: str, cite: dict[str, Any]) -> None:
    assert cite.get("source"), where


def test_a_restated_quote_without_its_sources_is_refused() -> None:
    with pytest.raises(ValidationError, match="must name them in `source`"):
        Cite(document="粤金管〔2025〕15号", clause="贴息标准", quote_zh="贴息比例不超过银行贷款利率的35%",
             confidence="high", wording="secondary")


def test_the_check_would_catch_a_quote_that_is_not_in_the_sources() -> None:
    # the first G60 measure's quote, with one figure changed, is no longer found
    quoted = next(cite["quote_zh"] for where, cite in CITATIONS if where.endswith(".citations.c1"))
    assert "30%" in quoted and _not_in_sources(quoted) == []
    assert _not_in_sources(quoted.replace("30%", "35%")) == [quoted.replace("30%", "35%").split("……")[1]]
