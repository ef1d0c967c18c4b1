"""Citations: every number and condition taken from a policy names its document, clause and quoted text."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Confidence(str, Enum):
    high = "high"  # in the source text, or two independent sources agree
    medium = "medium"  # one secondary source, or derived from sourced values
    low = "low"  # inferred: an assumption, flagged as such


class Cite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=1, description="Document number, e.g. 沪府办规〔2025〕15号")
    clause: str = Field(min_length=1, description="Clause, e.g. （九） or 第十二条")
    quote_zh: str = Field(min_length=1, description="The source text, quoted verbatim (unless `wording` says otherwise)")
    wording: Literal["secondary"] | None = Field(
        None, description="'secondary' when the document's own text is not at hand: quote_zh then restates what the "
        "secondary sources in `source` report, and is shown as such, never as the document's words")
    confidence: Confidence
    source: str | None = Field(None, description="Where a fact not in the document itself was found")
    note_zh: str | None = None
    note_en: str | None = None

    @model_validator(mode="after")
    def _restated_text_names_its_source(self) -> "Cite":
        if self.wording == "secondary" and not self.source:
            raise ValueError("a citation restated from secondary sources (wording: secondary) must name them in `source`")
        return self

    def as_dict(self) -> dict[str, Any]:
        # model_dump is slow and citations live in the catalogue for the whole process: dump each one once,
        # hand out copies (all values are strings, so a shallow copy cannot be changed through the cache)
        entry = _DUMPED.get(id(self))
        if entry is None or entry[0] is not self:
            entry = (self, self.model_dump(mode="json", exclude_none=True))
            if len(_DUMPED) >= _DUMPED_LIMIT:  # many catalogues built in one process (tests): start again
                _DUMPED.clear()
            _DUMPED[id(self)] = entry
        return dict(entry[1])


# id(cite) -> (cite, dump); the cite is kept in the entry so its id cannot be reused while cached
_DUMPED: dict[int, tuple[Cite, dict[str, Any]]] = {}
_DUMPED_LIMIT = 100_000
