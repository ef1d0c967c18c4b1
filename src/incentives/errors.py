"""Input errors that name the field and the reason in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with the input: where (a JSON path such as $.projects[0].total_input_yuan) and why."""

    path: str
    zh: str
    en: str

    def line(self) -> str:
        return f"{self.path}: {self.zh} / {self.en}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "zh": self.zh, "en": self.en}


class InputError(Exception):
    """Bad input: one or more problems, each with its path."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.line() for p in problems))
        self.problems = problems


class CalendarNotPublished(Exception):
    """The official holiday calendar for a year is not yet published (or not yet known to chinese-calendar)."""

    def __init__(self, year: int):
        self.year = year
        self.zh = f"{year}年的法定节假日安排尚未发布（或尚未收录），无法计算工作日；不会按周一至周五推测"
        self.en = (f"The official holiday calendar for {year} is not yet published (or not yet known), so working "
                   "days cannot be counted; no Monday-to-Friday guess is made")
        super().__init__(self.en)
