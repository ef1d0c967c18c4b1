"""Strict models of the files under schemes/: a policy document and its schemes, or a reference table.

Unknown keys are errors, every number carries a citation, every scheme has dated versions that do not overlap.
The JSON Schema of these models (`incentives schemes schema`) lets an analyst write a file in an editor.
"""

# No `from __future__ import annotations` here: pydantic would have to evaluate every field's annotation
# string when the module is imported, a measurable part of a command-line run; the few forward references are
# quoted instead.

from datetime import date
from functools import cached_property
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

from .citations import Cite, Confidence
from .conditions import Condition, leaves
from .facts import FACTS, MONEY_FACTS, Unit
from .money import Rounding, parse_decimal, yuan_to_fen


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class CitedRate(Strict):
    """A rate as a fraction written as a string ("0.30" = 30%), with its citation."""

    value: StrictStr = Field(pattern=r"^(0(\.\d+)?|1(\.0+)?)$")
    cite: Cite

    # parsed once per object: the catalogue lives for the process and its rates are read for every unit
    @cached_property
    def rate(self) -> Decimal:
        return parse_decimal(self.value)


class CitedYuan(Strict):
    yuan: StrictInt = Field(ge=0)
    cite: Cite

    @cached_property
    def fen(self) -> int:
        return yuan_to_fen(self.yuan)


class CitedCount(Strict):
    value: StrictInt = Field(ge=1)
    cite: Cite


class Text(Strict):
    zh: str
    en: str


class Assumption(Strict):
    """A reading of an unclear clause, or a fact the sources do not give; shown with every result."""

    zh: str
    en: str
    confidence: Confidence
    source: str | None = None


class Version(Strict):
    from_: date = Field(alias="from")
    until: date | None = Field(None, description="last day in force; null = open-ended")
    cite: Cite = Field(description="The source text that puts this version in force")


# --- one version model per calculator kind ------------------------------------------------------------------


class PercentOfBaseVersion(Version):
    rate: CitedRate
    cap: CitedYuan | None = None
    rounding: Rounding = Rounding.down_to_fen


class Tier(Strict):
    id: str
    label_zh: str
    label_en: str
    categories: list[StrictStr] = Field(min_length=1)
    open_list: bool = Field(False, description="the text lists its industries with 等 (and similar): a unit in none "
                            "of the tiers' industries may still be in this tier, so it needs confirmation here")
    rate: CitedRate
    cap: CitedYuan | None = None
    rate_if_independent_legal_entity: CitedRate | None = None

    def unlisted_confirm(self) -> tuple[str, str]:
        """What to confirm for a unit in none of the listed industries, assessed on this tier (its list ends in 等)."""
        return (f"原文所列产业以“等”结尾，请向主管部门确认本项目的产业是否属于“{self.label_zh}”",
                f"The text's list of industries ends in 等 (and similar): confirm with the authority whether the "
                f"project's industry counts as \"{self.label_en}\"")


class TieredVersion(Version):
    tiers: list[Tier] = Field(min_length=1, description="in order of preference: the first matching tier applies")
    rounding: Rounding = Rounding.down_to_fen

    @model_validator(mode="after")
    def _one_open_tier(self) -> "TieredVersion":
        if sum(tier.open_list for tier in self.tiers) > 1:
            raise ValueError("at most one tier may have an open list (open_list): an unlisted industry could not "
                             "tell which one to confirm")
        return self


class FixedAwardVersion(Version):
    amount: CitedYuan


class AwardUpToCapVersion(Version):
    cap: CitedYuan


class AnnualPercentVersion(Version):
    rate: CitedRate
    annual_cap: CitedYuan
    rounding: Rounding = Rounding.down_to_fen


class CumulativeCapVersion(Version):
    cap: CitedYuan


class InterestSubsidyVersion(Version):
    share: CitedRate = Field(description="share of the interest paid that is subsidised")
    subsidy_months: CitedCount
    day_count: Literal["actual/365"]
    day_count_cite: Cite
    annual_cap_per_enterprise: CitedYuan
    issued_from: date
    issued_until: date
    issue_window_cite: Cite
    rounding: Rounding = Rounding.down_to_fen


class RelendingVersion(Version):
    tool: str
    tenor: Literal["3m", "6m", "1y"] = "1y"
    share_of_principal: CitedRate | None = None
    rounding: Rounding = Rounding.down_to_fen


class DeadlineVersion(Version):
    working_days: CitedCount | None = None
    months: CitedCount | None = None
    legacy_before: date | None = Field(
        None, description="events before this date are treated as happening on legacy_event instead"
    )
    legacy_event: date | None = None

    @model_validator(mode="after")
    def _one_period(self) -> "DeadlineVersion":
        if (self.working_days is None) == (self.months is None):
            raise ValueError("give exactly one of working_days and months")
        if (self.legacy_before is None) != (self.legacy_event is None):
            raise ValueError("legacy_before and legacy_event go together")
        return self


class ComplianceRule(Strict):
    id: str
    label_zh: str
    label_en: str
    violation_when: Condition
    cite: Cite


class ComplianceVersion(Version):
    rules: list[ComplianceRule] = Field(min_length=1)


# --- schemes ------------------------------------------------------------------------------------------------

SchemeId = Annotated[str, Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")]
FactName = str


class SchemeBase(Strict):
    id: SchemeId
    title_zh: str
    title_en: str
    clause_zh: str
    unit: Unit
    conditions: list[Condition] = Field(default_factory=list)
    stacking_group: str | None = None
    notes: list[Text] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)

    def fact_names(self) -> list[str]:
        return [leaf.field for condition in self.conditions for leaf in leaves(condition)]

    @model_validator(mode="after")
    def _versions_do_not_overlap(self) -> "SchemeBase":
        versions = getattr(self, "versions")
        if not versions:
            raise ValueError("a scheme needs at least one version")
        for version in versions:
            if version.until is not None and version.until < version.from_:
                raise ValueError(f"version from {version.from_} ends before it starts ({version.until})")
        ordered = sorted(versions, key=lambda v: v.from_)
        for earlier, later in zip(ordered, ordered[1:]):
            if earlier.until is None or earlier.until >= later.from_:
                raise ValueError(f"versions overlap: {earlier.from_}..{earlier.until} and {later.from_}..")
        return self

    @model_validator(mode="after")
    def _facts_exist_for_unit(self) -> "SchemeBase":
        for name in self.fact_names():
            scope = FACTS.get(name)
            if scope is None:
                raise ValueError(f"unknown fact '{name}'")
            if self.unit not in scope:
                raise ValueError(f"fact '{name}' is not available for unit '{self.unit}'")
        base = getattr(self, "base", None)
        if base is not None and base not in MONEY_FACTS:
            raise ValueError(f"base '{base}' is not an amount of money")
        if base is not None and self.unit not in FACTS[base]:
            raise ValueError(f"base '{base}' is not available for unit '{self.unit}'")
        return self


class PercentOfBase(SchemeBase):
    kind: Literal["percent_of_base"]
    base: FactName
    base_label_zh: str
    base_label_en: str
    versions: list[PercentOfBaseVersion]


class TieredPercentOfBase(SchemeBase):
    kind: Literal["tiered_percent_of_base"]
    base: FactName
    base_label_zh: str
    base_label_en: str
    category_field: FactName
    independence_field: FactName
    versions: list[TieredVersion]


class FixedAward(SchemeBase):
    kind: Literal["fixed_award"]
    one_off: bool = True
    versions: list[FixedAwardVersion]


class AwardUpToCap(SchemeBase):
    kind: Literal["award_up_to_cap"]
    one_off: bool = Field(True, description="false: the cap is yearly, less what the scheme paid this year")
    cap_in_total: bool = Field(False, description="a one-off cap that is each unit's in all: what the scheme already "
                               "paid for the same unit (or with no unit named) is no longer available")
    base: FactName | None = Field(None, description="if given, the award is min(base, cap)")
    base_label_zh: str | None = None
    base_label_en: str | None = None
    versions: list[AwardUpToCapVersion]

    @model_validator(mode="after")
    def _total_cap_is_one_off(self) -> "AwardUpToCap":
        if self.cap_in_total and not self.one_off:
            raise ValueError("cap_in_total is for a one-off cap; a yearly cap (one_off: false) already counts "
                             "this year's awards")
        return self


class AnnualPercentWithCap(SchemeBase):
    kind: Literal["annual_percent_with_cap"]
    base: FactName
    base_label_zh: str
    base_label_en: str
    versions: list[AnnualPercentVersion]


class CumulativeCap(SchemeBase):
    kind: Literal["cumulative_cap"]
    versions: list[CumulativeCapVersion]


class Track(Strict):
    id: str
    label_zh: str
    label_en: str
    enterprise_conditions: list[Condition] = Field(default_factory=list)
    loan_conditions: list[Condition] = Field(default_factory=list)


class LoanInterestSubsidy(SchemeBase):
    """conditions = enterprise conditions common to every track; loan_conditions apply to every loan."""

    kind: Literal["loan_interest_subsidy"]
    loan_conditions: list[Condition] = Field(default_factory=list)
    tracks: list[Track] = Field(min_length=1, description="the enterprise joins one track; the better one is chosen")
    versions: list[InterestSubsidyVersion]

    def fact_names(self) -> list[str]:
        groups = [self.conditions, self.loan_conditions]
        for track in self.tracks:
            groups += [track.enterprise_conditions, track.loan_conditions]
        return [leaf.field for group in groups for condition in group for leaf in leaves(condition)]


class Relending(SchemeBase):
    kind: Literal["relending"]
    versions: list[RelendingVersion]


class Deadline(SchemeBase):
    kind: Literal["deadline"]
    event: Literal["fund.first_paid_in_date", "fund.fiscal_year_end", "quarter_end"]
    event_label_zh: str
    event_label_en: str
    versions: list[DeadlineVersion]


class Compliance(SchemeBase):
    kind: Literal["compliance"]
    versions: list[ComplianceVersion]

    def fact_names(self) -> list[str]:
        names = super().fact_names()
        for version in self.versions:
            names += [leaf.field for rule in version.rules for leaf in leaves(rule.violation_when)]
        return names


Scheme = Annotated[
    Union[
        PercentOfBase,
        TieredPercentOfBase,
        FixedAward,
        AwardUpToCap,
        AnnualPercentWithCap,
        CumulativeCap,
        LoanInterestSubsidy,
        Relending,
        Deadline,
        Compliance,
    ],
    Field(discriminator="kind"),
]


class StackingGroup(Strict):
    id: str
    rule: Literal["best_single"] = Field(description="从优、就高、不重复: only the highest award per unit pays")
    label_zh: str
    label_en: str
    cite: Cite
    assumptions: list[Assumption] = Field(default_factory=list,
                                          description="readings of the rule; every scheme of the group carries them")


class Document(Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    number_zh: str = Field(description="Document number(s), e.g. 沪府办规〔2025〕15号")
    title_zh: str
    title_en: str
    issuer_zh: str
    published: date
    source_zh: str | None = Field(None, description="Where the text was taken from")


class SchemeFile(Strict):
    """One source document and the schemes it sets up."""

    document: Document
    citations: dict[str, Cite] = Field(
        default_factory=dict, description="named citations; a `cite:` given as a string refers to one of these"
    )
    stacking_groups: list[StackingGroup] = Field(default_factory=list)
    schemes: list[Scheme] = Field(min_length=1)

    @model_validator(mode="after")
    def _stacking_groups_exist(self) -> "SchemeFile":
        known = {group.id for group in self.stacking_groups}
        for scheme in self.schemes:
            if scheme.stacking_group is not None and scheme.stacking_group not in known:
                raise ValueError(f"scheme {scheme.id}: unknown stacking_group '{scheme.stacking_group}'")
        return self


# --- reference tables ---------------------------------------------------------------------------------------


class RateEntry(Strict):
    from_: date = Field(alias="from")
    values: dict[Literal["3m", "6m", "1y"], Annotated[str, Field(pattern=r"^0\.\d+$")]]
    cite: Cite


class RateTool(Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name_zh: str
    name_en: str
    tenors: list[Literal["3m", "6m", "1y"]] = Field(min_length=1)
    rates: list[RateEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _entries_cover_tenors(self) -> "RateTool":
        previous = None
        for entry in self.rates:
            if set(entry.values) != set(self.tenors):
                raise ValueError(f"rate entry {entry.from_} must give exactly the tenors {self.tenors}")
            if previous is not None and entry.from_ <= previous:
                raise ValueError("rate entries must be in increasing date order")
            previous = entry.from_
        return self


class TableHeader(Strict):
    id: str
    kind: Literal["rate_table", "sme_size"]
    title_zh: str
    title_en: str


class RateTableFile(Strict):
    table: TableHeader
    citations: dict[str, Cite] = Field(default_factory=dict)
    tools: list[RateTool] = Field(min_length=1)


class SizeBounds(Strict):
    employees: StrictInt | None = None
    revenue_wan: StrictInt | None = None
    assets_wan: StrictInt | None = None


class SizeCategory(Strict):
    id: str
    label_zh: str
    codes: list[str] = Field(description="GB/T 4754 section letters or division / group / class codes")
    sme_if_below_any: SizeBounds
    medium_if_all_at_least: SizeBounds
    small_if_all_at_least: SizeBounds


class SmeSizeFile(Strict):
    table: TableHeader
    citations: dict[str, Cite] = Field(default_factory=dict)
    cite: Cite
    mapping_assumption: Assumption
    default_category: str
    categories: list[SizeCategory] = Field(min_length=1)

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[SizeCategory]) -> list[SizeCategory]:
        ids = [c.id for c in value]
        if len(ids) != len(set(ids)):
            raise ValueError("category ids must be unique")
        return value


def json_schema() -> dict[str, Any]:
    """JSON Schema for scheme files (the document-with-schemes form).

    Wherever a citation is expected, the name of an entry under `citations` may be given instead; the loader
    resolves it, so the schema allows both.
    """
    schema = SchemeFile.model_json_schema(by_alias=True)
    schema["title"] = "incentives scheme file"
    definitions = schema.get("$defs", {})
    if "Cite" in definitions:
        _point_cites_at(schema, skip=definitions["Cite"])
        definitions["CiteOrName"] = {
            "anyOf": [{"$ref": "#/$defs/Cite"}, {"type": "string", "description": "name of an entry in `citations`"}]
        }
    return schema


def _point_cites_at(node: Any, skip: Any) -> None:
    """Replace every $ref to Cite (outside the Cite definition and the citations map) with CiteOrName."""
    if node is skip:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citations":
                continue
            if isinstance(value, dict) and value.get("$ref") == "#/$defs/Cite":
                node[key] = {**value, "$ref": "#/$defs/CiteOrName"}
            else:
                _point_cites_at(value, skip)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict) and value.get("$ref") == "#/$defs/Cite":
                node[index] = {**value, "$ref": "#/$defs/CiteOrName"}
            else:
                _point_cites_at(value, skip)
