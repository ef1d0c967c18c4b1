"""PBoC relending / rediscount rates by tool × tenor × effective date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..scheme_files import RateEntry, RateTableFile, RateTool


class RateLookupError(LookupError):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def find_tool(table: RateTableFile, tool_id: str) -> RateTool:
    for tool in table.tools:
        if tool.id == tool_id:
            return tool
    known = ", ".join(t.id for t in table.tools)
    raise RateLookupError(f"未知的工具“{tool_id}”，可选：{known}", f"unknown tool '{tool_id}'; known tools: {known}")


def rate_entry_on(tool: RateTool, tenor: str, on: date) -> RateEntry:
    """The entry in effect on `on` (the latest one whose effective date is on or before it)."""
    if tenor not in tool.tenors:
        allowed = ", ".join(tool.tenors)
        raise RateLookupError(f"{tool.name_zh}没有期限“{tenor}”，可选：{allowed}",
                              f"{tool.id} has no tenor '{tenor}'; allowed: {allowed}")
    in_effect = [entry for entry in tool.rates if entry.from_ <= on]
    if not in_effect:
        first = tool.rates[0].from_
        raise RateLookupError(f"{on} 之前没有已知的{tool.name_zh}利率（最早数据自 {first} 起）",
                              f"no known {tool.id} rate on {on}; the earliest known rate starts {first}")
    return in_effect[-1]


def rate_on(tool: RateTool, tenor: str, on: date) -> Decimal:
    return Decimal(rate_entry_on(tool, tenor, on).values[tenor])
