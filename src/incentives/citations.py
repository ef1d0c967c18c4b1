"""Citations: every number and condition taken from a policy names its document, clause and quoted text."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Confidence(str, Enum):
    high = "high"  # in the source text, or two independent sources agree
    medium = "medium"  # one secondary source, or derived from sourced values
    low = "low"  # inferred: an assumption, flagged as such


class Cite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=1, description="Document number, e.g. 沪府办规〔2025〕15号")
    clause: str = Field(min_length=1, description="Clause, e.g. （九） or 第十二条")
    quote_zh: str = Field(min_length=1, description="The source text, quoted verbatim")
    confidence: Confidence
    source: str | None = Field(None, description="Where a fact not in the document itself was found")
    note_zh: str | None = None
    note_en: str | None = None

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
