"""Bilingual problem documents for the API and the error pages: each problem names a path, zh and en."""

from __future__ import annotations

from typing import Any

from ..errors import Problem

PROBLEMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["problems"],
    "properties": {
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "zh", "en"],
                "properties": {
                    "path": {"type": "string", "description": "JSON path of the offending input, e.g. $.projects[0].id"},
                    "zh": {"type": "string"},
                    "en": {"type": "string"},
                },
            },
        }
    },
}


def problems_body(problems: list[Problem]) -> dict[str, Any]:
    return {"problems": [p.as_dict() for p in problems]}


def one_problem(path: str, zh: str, en: str) -> dict[str, Any]:
    return problems_body([Problem(path, zh, en)])
