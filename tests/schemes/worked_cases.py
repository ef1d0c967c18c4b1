"""The worked-case format (schemes/**/*.cases.yaml): a strict model, the loader and the profile merge.

A cases file sits next to the scheme file it tests and reads like this:

    # header: the clauses being tested, quoted
    base_profile:                 # a complete, valid profile shared by every case in the file
      enterprise: {...}
      projects: [{id: p1, ...}]
    cases:
      - name: A project at exactly the cap's base gets the whole cap      # a sentence stating the outcome
        as_of: 2026-06-01         # the evaluation date (never today)
        profile:                  # deep-merged over base_profile (see merge_profile)
          projects: [{id: p1, total_input_yuan: 100_000_000}]
        expect:
          - scheme_id: sh-g60/applied-basic-research
            unit_id: p1           # project / loan / investment id; "fund" for fund-level; omit for enterprise
            status: eligible
            amount_yuan: "30000000.00"   # 100,000,000 × 30% = 30,000,000 (= cap)

An expectation checks only what it states: status (always), amount_yuan or `no_amount: true` (required for
eligible / superseded), binding_cap, headroom_yuan, superseded_by, violations (compliance rule ids, in order),
failed (label_en of every failed leaf condition) and details (a subset of the result's details, e.g. deadline,
track, tier, relending_rate). A case may also state total_yuan and potential_total_yuan.

Merge rules (merge_profile): mappings merge key by key; a list of mappings that all carry an `id` merges item by
item on `id` (new ids are appended); any other list, and any scalar, replaces; null sets the field to null
(an unknown fact). Nested mappings merge too, so a case that moves a region gives every key of it, with
null for the ones to clear: {province: 天津市, city: null, district: null}. Amounts and rates inside profiles are YAML ints or quoted decimal strings, never floats
(YAML 1.1 reads 0.035 as a float). Avoid the bare keys on / yes / no / off: YAML 1.1 reads them as booleans.

Every `amount_yuan` / `headroom_yuan` line must carry its arithmetic in a trailing comment; a test checks this.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from incentives.money import yuan_to_fen

REPO = Path(__file__).resolve().parents[2]
SCHEMES = REPO / "schemes"

Status = Literal["eligible", "needs_confirmation", "ineligible", "not_in_force", "superseded"]
Yuan = StrictInt | StrictStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fen_or_none(value: Yuan | None) -> int | None:
    return None if value is None else yuan_to_fen(value)


class Expectation(_Strict):
    """What one result (scheme × unit) must look like; fields left out are not checked."""

    scheme_id: StrictStr
    unit_id: StrictStr | None = None
    status: Status
    amount_yuan: Yuan | None = Field(None, description="required unless the status has no amount")
    no_amount: StrictBool = Field(False, description="assert amount_fen is null (non-monetary or no amount)")
    binding_cap: StrictBool | None = None
    headroom_yuan: Yuan | None = None
    superseded_by: StrictStr | None = None
    violations: list[StrictStr] | None = Field(None, description="ids of the compliance rules violated, in order")
    failed: list[StrictStr] | None = Field(None, description="label_en of every failed leaf condition")
    details: dict[StrictStr, Any] | None = Field(None, description="subset of the result's details")

    @property
    def amount_fen(self) -> int | None:
        return _fen_or_none(self.amount_yuan)

    @property
    def headroom_fen(self) -> int | None:
        return _fen_or_none(self.headroom_yuan)

    @field_validator("amount_yuan", "headroom_yuan")
    @classmethod
    def _exact_yuan(cls, value: Yuan | None) -> Yuan | None:
        _fen_or_none(value)  # raises on >2 decimals, negatives, junk
        return value

    @model_validator(mode="after")
    def _amount_is_stated(self) -> Expectation:
        if self.amount_yuan is not None and self.no_amount:
            raise ValueError("give amount_yuan or no_amount, not both")
        if self.status in ("eligible", "superseded") and self.amount_yuan is None and not self.no_amount:
            raise ValueError(f"{self.scheme_id}: an {self.status} expectation states amount_yuan or no_amount: true")
        if self.status in ("ineligible", "not_in_force") and self.amount_yuan is not None:
            raise ValueError(f"{self.scheme_id}: an {self.status} result never carries an amount")
        if self.superseded_by is not None and self.status != "superseded":
            raise ValueError("superseded_by only goes with status superseded")
        return self


class Case(_Strict):
    name: StrictStr
    as_of: date
    profile: dict[StrictStr, Any] = Field(default_factory=dict)
    expect: list[Expectation] = Field(min_length=1)
    total_yuan: Yuan | None = None
    potential_total_yuan: Yuan | None = None

    @field_validator("name")
    @classmethod
    def _sentence(cls, name: str) -> str:
        if not re.match(r"^[A-Z0-9¥]", name) or len(name.split()) < 4 or name.endswith("."):
            raise ValueError(f"a case name is a sentence stating the outcome (capitalised, no final stop): {name!r}")
        return name

    @field_validator("as_of", mode="before")
    @classmethod
    def _real_date(cls, value: Any) -> Any:
        if not isinstance(value, date):
            raise ValueError("as_of is a YYYY-MM-DD date (unquoted)")
        return value


class CasesFile(_Strict):
    base_profile: dict[StrictStr, Any]
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> CasesFile:
        names = [case.name for case in self.cases]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate case names: {duplicates}")
        return self


class CaseFormatError(Exception):
    pass


def _reject_floats_and_bool_keys(node: Any, where: str) -> None:
    if isinstance(node, float):
        raise CaseFormatError(f"{where}: {node!r} is a YAML float; write amounts and rates as quoted strings")
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise CaseFormatError(f"{where}: key {key!r} is not text (YAML 1.1 reads on/yes/no as booleans)")
            _reject_floats_and_bool_keys(value, f"{where}.{key}")
    if isinstance(node, list):
        for index, item in enumerate(node):
            _reject_floats_and_bool_keys(item, f"{where}[{index}]")


def parse_cases(text: str, source: str = "<text>") -> CasesFile:
    """Parse and validate one cases file; raises CaseFormatError or pydantic.ValidationError."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise CaseFormatError(f"{source}: a cases file is a mapping with base_profile and cases")
    _reject_floats_and_bool_keys(data, source)
    return CasesFile.model_validate(data)


def case_files(root: Path = SCHEMES) -> list[Path]:
    return sorted(root.rglob("*.cases.yaml"))


def load_cases(path: Path) -> CasesFile:
    return parse_cases(path.read_text(encoding="utf-8"), str(path))


def _all_have_ids(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "id" in item for item in items)


def merge_profile(base: Any, override: Any) -> Any:
    """Deep merge (see the module docstring); never mutates its arguments."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = merge_profile(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(override, list) and _all_have_ids(base) and _all_have_ids(override):
        merged_items = [copy.deepcopy(item) for item in base]
        index = {item["id"]: position for position, item in enumerate(merged_items)}
        for item in override:
            if item["id"] in index:
                merged_items[index[item["id"]]] = merge_profile(merged_items[index[item["id"]]], item)
            else:
                merged_items.append(copy.deepcopy(item))
        return merged_items
    return copy.deepcopy(override)


def case_profile(cases: CasesFile, case: Case) -> dict[str, Any]:
    return merge_profile(cases.base_profile, case.profile)


def all_cases(root: Path = SCHEMES) -> list[tuple[Path, CasesFile, Case]]:
    found = []
    for path in case_files(root):
        parsed = load_cases(path)
        found += [(path, parsed, case) for case in parsed.cases]
    return found
