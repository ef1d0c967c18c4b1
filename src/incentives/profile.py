"""The input: an enterprise, its projects, loans, award history and (optionally) a government fund.

Amounts arrive in yuan (`*_yuan`, JSON numbers or decimal strings, parsed exactly) and are held as integer fen
(`*_fen`). Facts the user may not know are `None`, which the engine treats as "unknown", never as "no".
"""

# No `from __future__ import annotations` here: pydantic would have to evaluate every field's annotation
# string when the module is imported, a measurable part of a command-line run; the few forward references are
# quoted instead.

import json
import re
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    StrictBool,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from . import industry as industry_table
from . import regions as region_table
from . import uscc as uscc_code
from .dates import written_as_iso_day
from .errors import InputError, Problem
from .money import MoneyError, fen_to_yuan, parse_decimal, yuan_to_fen

MAX_YUAN = 10**13  # ten trillion yuan: far beyond any real firm; bounds arithmetic on hostile input
# Not from a policy: a plausibility bound on a loan's annual rate. Bank loans in China are priced near the LPR
# (3–4%); even private lending is protected by the courts only up to four times the LPR. A rate above this is
# far more likely 4.5% typed as 0.45 than a real loan, and it multiplies an interest subsidy: such a loan is
# evaluated as given, with a warning.
IMPLAUSIBLE_RATE = Decimal("0.24")


# An amount written as text, exactly as the JSON Schema states it, so that every string the schema allows is
# accepted and every other is refused: at most 13 integer digits (below MAX_YUAN) or MAX_YUAN, plain (underscores between
# digits allowed) or in thousands groups, at most two decimals. Digits are spelt [0-9]: \d matches other scripts'.
_YUAN_PATTERN = (r"^\s*(([0-9](_?[0-9]){0,12}|[0-9]{1,3}(,[0-9]{3}){0,3}|[0-9](,[0-9]{3}){4})(\.[0-9]{1,2})?"
                 r"|(10000000000000|10,000,000,000,000)(\.0{1,2})?)\s*$")  # ... or MAX_YUAN itself
_YUAN_TEXT = re.compile(_YUAN_PATTERN)


def _yuan_input(value: Any) -> int:
    fen = yuan_to_fen(value)  # first, for its precise messages (decimals, commas, negatives)
    if fen > MAX_YUAN * 100:
        raise MoneyError(f"金额超过上限 {MAX_YUAN} 元", f"amount exceeds the limit of {MAX_YUAN} yuan")
    if isinstance(value, str) and not _YUAN_TEXT.match(value):
        raise MoneyError(f"金额“{value.strip()}”的写法不对：请写数字，最多两位小数，逗号只用于千位分隔（如 1,234,567.89）",
                         f"'{value.strip()}' is not written as an amount: digits, at most two decimals, commas only "
                         "between thousands (1,234,567.89)")
    return fen


# A rate as people write it: "3.5%" (or "3.5 %", or with the full-width ％ a Chinese keyboard types), as the batch
# workbook reader already reads it
_PERCENT_SIGNS = ("%", "％")


def _rate_input(value: Any) -> Decimal:
    percent = _percent_body(value)
    if percent is None:
        rate = parse_decimal(value)
    else:
        rate = _hundredth(_percent_number(percent, value))
    if rate > 1:
        raise MoneyError("利率是小数（如 0.035 表示 3.5%）或百分数（如 3.5%），不能大于 1（100%）",
                         "a rate is a fraction (0.035 = 3.5%) or a percentage (3.5%), at most 1 (100%)")
    return rate


def _percent_body(value: Any) -> str | None:
    """The number before a trailing percent sign ("2.8 %" -> "2.8 "), or None when `value` is no such string."""
    if not isinstance(value, str):
        return None
    text = value.rstrip()
    if not text.endswith(_PERCENT_SIGNS):
        return None
    return text[:-1]


def _percent_number(body: str, value: str) -> Decimal:
    """The number of a percentage; a problem with it names the whole text the user wrote, sign included."""
    try:
        return parse_decimal(body)
    except MoneyError as error:
        raise MoneyError(f"百分数“{value.strip()}”：{error.zh}", f"percentage '{value.strip()}': {error.en}") from None


def _hundredth(number: Decimal) -> Decimal:
    """number / 100, exactly: the same digits, the exponent two lower. Built from the digits, not by arithmetic,
    which would round a long percentage to the context's 28 digits."""
    sign, digits, exponent = number.as_tuple()
    return Decimal((sign, digits, int(exponent) - 2))


def _strict_int(value: Any) -> Any:
    # JSON Schema calls 68.0 an integer but true and "68" are not: accept the first, reject the others.
    if isinstance(value, bool) or isinstance(value, str):
        raise ValueError("必须是整数（不能是文本、true 或 false） / must be an integer (not text, true or false)")
    if isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    return value


_YUAN_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_YUAN},
        {"type": "string", "pattern": _YUAN_PATTERN},
    ],
    "description": "Amount in yuan: a JSON number or a decimal string, at most two decimals (parsed exactly).",
}

Fen = Annotated[
    int,
    BeforeValidator(_yuan_input),
    PlainSerializer(lambda fen: str(fen_to_yuan(fen)), return_type=str),
    WithJsonSchema(_YUAN_SCHEMA),
]
# A fraction from 0 to 1, or a percentage from 0% to 100% (spaces allowed before the sign), so every string the
# schema allows is one the engine accepts. Digits are spelt [0-9]: \d also matches other scripts' digits.
_RATE_PATTERN = r"^0?\.[0-9]+$|^[01]$|^([0-9]{1,2}(\.[0-9]+)?|\.[0-9]+|100(\.0+)?) *[%％]$"
Rate = Annotated[
    Decimal,
    BeforeValidator(_rate_input),
    PlainSerializer(lambda rate: format(rate, "f"), return_type=str),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                      {"type": "string", "pattern": _RATE_PATTERN}],
            "description": "Annual interest rate as a fraction or as a percentage string: 0.035 and \"3.5%\" both "
                           "mean 3.5% (at most 1, i.e. 100%).",
        }
    ),
]
Count = Annotated[int, Field(ge=0, le=10_000_000), BeforeValidator(_strict_int)]
# any characters but spaces and control characters (ids such as 工行贷款1 or ICBC-2026/01 are as clients keep them);
# no space, so an id also names its result card in the page. The class is spelt out: \s differs between the
# regex engines that read it (pydantic's, polars', a client's JSON Schema validator).
Identifier = Annotated[str, Field(pattern=r"^[^\x00-\x20\x7f-\x9f\u3000]{1,64}$")]


def _empty_list() -> list[Any]:
    """The default of the list fields. A Python function rather than `list` because pydantic reads a default
    factory's signature, and a builtin's is parsed from its text form with tokenize, whose first use compiles a
    large regular expression: several milliseconds of every command-line run."""
    return []


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


def _in_english(name: str) -> str:
    """上海市 as Shanghai in an English message; a region without an English name as written."""
    return region_table.english_name(name) or name


class Region(Strict):
    province: str = Field(min_length=1, max_length=20, description="省级行政区, e.g. 上海市 / 广东省")
    city: str | None = Field(None, max_length=20, description="地级市; for 直辖市 repeat the province, e.g. 上海市")
    district: str | None = Field(None, max_length=20, description="区/县, e.g. 松江区")

    @model_validator(mode="after")
    def _known_names(self) -> "Region":
        if self.province not in region_table.regions():
            raise ValueError(f"unknown province / 未知的省级行政区: {self.province}")
        cities = region_table.cities(self.province)
        if self.city is not None and cities and self.city not in cities:
            raise ValueError(f"{_in_english(self.province)} has no city “{_in_english(self.city)}” / "
                             f"{self.province}没有“{self.city}”")
        if self.city is not None and self.district is not None:
            districts = region_table.districts(self.province, self.city)
            if districts and self.district not in districts:
                raise ValueError(f"{_in_english(self.city)} has no district “{_in_english(self.district)}” / "
                                 f"{self.city}没有“{self.district}”")
        return self


class Ownership(str, Enum):
    private = "private"  # 民营
    state_owned = "state_owned"  # 国有
    foreign = "foreign"  # 外资
    collective = "collective"  # 集体
    mixed = "mixed"  # 混合所有制
    other = "other"


class Certifications(Strict):
    """Certificates held and valid on the evaluation date; None = not stated."""

    hnte: StrictBool | None = Field(None, description="高新技术企业 (valid certificate)")
    tech_sme: StrictBool | None = Field(None, description="科技型中小企业")
    specialized_sme: StrictBool | None = Field(None, description="专精特新中小企业")
    little_giant: StrictBool | None = Field(None, description="专精特新“小巨人”")
    single_champion: StrictBool | None = Field(None, description="制造业单项冠军")
    chain_leader: StrictBool | None = Field(None, description="链主企业")
    tech_leader: StrictBool | None = Field(None, description="科技领军企业")


class Declarations(Strict):
    """Facts only the enterprise can declare; None = not stated (the result then asks to confirm)."""

    on_dishonesty_list: StrictBool | None = Field(None, description="列入严重失信主体名单")
    main_business_encouraged: StrictBool | None = Field(
        None, description="主营业务属于《产业结构调整指导目录(2024年本)》鼓励类"
    )
    on_tech_sme_list: StrictBool | None = Field(None, description="列入科技创新和技术改造再贷款科技型企业备选名单")
    has_high_rd_intensity: StrictBool | None = Field(None, description="研发投入水平较高 (threshold not published)")


class Enterprise(Strict):
    name: str = Field(min_length=1, max_length=200)
    uscc: str | None = Field(None, description="统一社会信用代码 (18 characters, check digit verified)")
    region: Region
    industry_code: str | None = Field(None, description="GB/T 4754-2017 code: section letter, or 2/3/4 digits")
    ownership: Ownership | None = None
    employees: Count | None = Field(None, description="从业人员 (persons)")
    revenue_fen: Fen | None = Field(None, alias="revenue_yuan", description="营业收入, yuan")
    total_assets_fen: Fen | None = Field(None, alias="total_assets_yuan", description="资产总额, yuan")
    rd_spend_fen: Fen | None = Field(None, alias="rd_spend_yuan", description="研发投入, yuan")
    certifications: Certifications = Certifications()
    declarations: Declarations = Declarations()

    @field_validator("uscc")
    @classmethod
    def _check_uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return uscc_code.validate(value)
        except uscc_code.InvalidUscc:
            raise ValueError(
                f"统一社会信用代码“{value}”无效（长度、字符或校验位错误） / "
                f"invalid unified social credit code '{value}' (length, characters or check digit)"
            ) from None

    @field_validator("industry_code")
    @classmethod
    def _check_industry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = industry_table.lookup(value)
        if found is None:
            raise ValueError(f"GB/T 4754-2017 中没有行业代码“{value}” / unknown GB/T 4754-2017 industry code '{value}'")
        return found.code


class Activity(str, Enum):
    applied_basic_research = "applied_basic_research"  # 应用性基础研究
    key_tech_challenge = "key_tech_challenge"  # 揭榜挂帅 关键共性技术攻关
    innovation_consortium = "innovation_consortium"  # 创新联合体
    industry_cluster = "industry_cluster"  # 现代化产业集群建设
    industrialisation = "industrialisation"  # 产业化 / 重点项目
    rd = "rd"  # 研发投入
    pilot_platform = "pilot_platform"  # 中试平台建设
    pilot_services = "pilot_services"  # 购买中试服务
    intl_org = "intl_org"  # 国际性科技组织
    overseas_incubator = "overseas_incubator"  # 海外孵化平台 / 概念验证中心
    satellite_services = "satellite_services"  # 卫星通信、导航、遥感增值服务
    satellite_licence = "satellite_licence"  # 取得卫星通信基础电信业务经营许可证


class TechField(str, Enum):
    six_g = "6g"
    satellite = "satellite"
    scientific_instruments = "scientific_instruments"
    smart_terminal = "smart_terminal"
    secure_software_hardware = "secure_software_hardware"  # 商用密码应用、自主软硬件
    ai = "ai"
    biopharma = "biopharma"  # 医药健康
    green_low_carbon = "green_low_carbon"
    robotics = "robotics"  # 机器人与智能制造
    new_materials = "new_materials"
    ic = "ic"  # 集成电路
    aerospace = "aerospace"  # 空天技术
    safety_emergency = "safety_emergency"  # 新型安全应急
    future_industry = "future_industry"  # 未来产业
    next_gen_it = "next_gen_it"  # 新一代信息技术
    icv_nev = "icv_nev"  # 智能网联(新能源)汽车
    other = "other"


class Project(Strict):
    id: Identifier
    name: str | None = Field(None, max_length=200)
    activities: list[Activity] = Field(default_factory=_empty_list, max_length=20)
    fields: list[TechField] = Field(default_factory=_empty_list, max_length=20)
    location: Region | None = Field(None, description="Where the project is carried out; None = not stated")
    total_input_fen: Fen | None = Field(None, alias="total_input_yuan", description="总投入 / 总投资, yuan")
    rd_input_fen: Fen | None = Field(None, alias="rd_input_yuan", description="研发总投入, yuan")
    challenge_amount_fen: Fen | None = Field(None, alias="challenge_amount_yuan", description="揭榜额, yuan")
    annual_operating_expenses_fen: Fen | None = Field(
        None, alias="annual_operating_expenses_yuan", description="年度总运营支出, yuan"
    )
    pilot_service_fees_fen: Fen | None = Field(
        None, alias="pilot_service_fees_yuan", description="当年购买中试服务费用, yuan"
    )
    is_independent_legal_entity: StrictBool | None = Field(None, description="独立法人")
    is_new: StrictBool | None = Field(None, description="新建 (e.g. a newly built pilot platform)")


class LoanType(str, Enum):
    fixed_asset = "fixed_asset"  # 固定资产贷款
    working_capital = "working_capital"  # 流动资金贷款
    other = "other"


class LoanPurpose(str, Enum):
    build_plant = "build_plant"  # 建设厂房
    buy_equipment = "buy_equipment"  # 购置设备
    tech_upgrade = "tech_upgrade"  # 技术改造
    rd = "rd"  # 研发 (incl. R&D staff pay)
    daily_operations = "daily_operations"  # 日常经营周转
    refinance = "refinance"  # 借新还旧
    repay_debt = "repay_debt"  # 偿还股东借款、他行贷款或其他债务
    land = "land"  # 购置土地
    financial_investment = "financial_investment"  # 理财、股票等金融投资
    real_estate = "real_estate"  # 房地产开发
    other = "other"


class Loan(Strict):
    id: Identifier
    principal_fen: Fen = Field(alias="principal_yuan")
    annual_rate: Rate
    issue_date: date
    maturity_date: date
    loan_type: LoanType | None = None
    purpose: LoanPurpose | None = None
    region_of_use: Region | None = None
    lender: str | None = Field(None, max_length=100)
    claimed_under_other_policy: StrictBool | None = Field(None, description="已按广东省其他贴息政策申领")
    for_tech_upgrade_project: StrictBool | None = Field(None, description="用于列入清单的技术改造/设备更新项目")

    @model_validator(mode="after")
    def _dates_in_order(self) -> "Loan":
        if self.maturity_date <= self.issue_date:
            raise ValueError("到期日必须晚于发放日 / the maturity date must be after the issue date")
        return self


class AwardRecord(Strict):
    """An award already received, so cumulative and yearly caps show the true headroom."""

    scheme_id: str = Field(min_length=1, max_length=100,
                           description="方案目录中的方案编号 / a scheme id of the catalogue (GET /api/v1/schemes)")
    amount_fen: Fen = Field(alias="amount_yuan")
    date: date
    unit_id: Identifier | None = None
    source: str | None = Field(None, max_length=200)


class IndustryCatalogue(str, Enum):
    encouraged = "encouraged"  # 鼓励类
    permitted = "permitted"  # 允许类
    restricted = "restricted"  # 限制类
    eliminated = "eliminated"  # 淘汰类


class PublicTradingKind(str, Enum):
    m_and_a = "m_and_a"  # 并购重组
    private_placement = "private_placement"  # 定向增发
    strategic_placement = "strategic_placement"  # 战略配售
    other = "other"


class FundInvestment(Strict):
    id: Identifier
    target: str | None = Field(None, max_length=200)
    industry_catalogue: IndustryCatalogue | None = None
    is_disguised_debt: StrictBool | None = Field(None, description="名股实债")
    is_public_stock_trading: StrictBool | None = Field(None, description="公开交易类股票投资")
    public_trading_kind: PublicTradingKind | None = None
    permitted_by_fund_plan: StrictBool | None = Field(None, description="设立方案明确可参与")
    is_derivatives_trading: StrictBool | None = Field(None, description="期货等衍生品类交易")
    provides_guarantee: StrictBool | None = Field(None, description="为企业或项目提供担保")
    bears_unlimited_liability: StrictBool | None = Field(None, description="承担无限责任的投资")


class Fund(Strict):
    """A government investment fund (政府投资基金), for the NDRC checks and deadlines."""

    name: str = Field(min_length=1, max_length=200)
    established_date: date | None = None
    first_paid_in_date: date | None = Field(None, description="第一笔实缴资金到位日")
    fiscal_year_end: date | None = Field(None, description="最近一个会计年度结束日")
    investments: list[FundInvestment] = Field(default_factory=_empty_list, max_length=500)


class Profile(Strict):
    schema_version: Literal[1] = 1
    enterprise: Enterprise
    projects: list[Project] = Field(default_factory=_empty_list, max_length=200)
    loans: list[Loan] = Field(default_factory=_empty_list, max_length=500)
    awards: list[AwardRecord] = Field(default_factory=_empty_list, max_length=1000)
    fund: Fund | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> "Profile":
        for name, items in (("projects", self.projects), ("loans", self.loans)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"{name} 中 id “{item.id}” 重复 / duplicate id '{item.id}' in {name}")
                seen.add(item.id)
        return self


# --- parsing with bilingual, path-named errors --------------------------------------------------------------

_REASONS_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（可能拼写错误）",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "date_type": "必须是 YYYY-MM-DD 格式的日期",
    "date_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "string_type": "必须是文本",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不对（不能含空格，最长 64 个字符）",
    "too_long": "条目太多",
    "list_type": "必须是列表",
    "model_type": "必须是对象",
    "dict_type": "必须是对象",
}


# the validation library's English where it reads as its internals (a regular expression, "Field required")
_REASONS_EN = {
    "missing": "required, but missing",
    "string_pattern_mismatch": "not a valid id (no spaces, at most 64 characters)",
}
# a number outside its bounds, the bound named in both languages: error type -> (its key in ctx, zh, en)
_BOUNDED = {
    "greater_than_equal": ("ge", "不能小于 {}", "must be at least {}"),
    "less_than_equal": ("le", "不能大于 {}", "must be at most {}"),
    "greater_than": ("gt", "必须大于 {}", "must be more than {}"),
    "less_than": ("lt", "必须小于 {}", "must be less than {}"),
}


def json_path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_DATE_ERRORS = frozenset({"date_type", "date_parsing", "date_from_datetime_parsing"})


def _date_problem(value: Any) -> tuple[str, str]:
    """A date that is written right but does not exist (2025-02-29) is told apart from one written wrong."""
    if isinstance(value, str) and written_as_iso_day(value.strip()):
        return (f"日期“{value.strip()}”不存在（格式正确，但没有这一天）",
                f"the date '{value.strip()}' does not exist (the form is right, but there is no such day)")
    return "必须是 YYYY-MM-DD 格式的日期", "must be a date written YYYY-MM-DD"


def problems_from(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, MoneyError):
            zh, en = ctx_error.zh, ctx_error.en
        elif item["type"] == "value_error" and " / " in str(ctx_error or item["msg"]):
            text = str(ctx_error) if ctx_error is not None else item["msg"]
            first, _, second = text.partition(" / ")
            # bilingual messages are written "zh / en" or "en / zh"; put the Chinese half first
            zh, en = (first, second) if any("\u4e00" <= ch <= "\u9fff" for ch in first) else (second, first)
        elif item["type"] in _DATE_ERRORS:
            zh, en = _date_problem(item.get("input"))
        elif item["type"] in _BOUNDED:
            key, zh, en = _BOUNDED[item["type"]]
            bound = (item.get("ctx") or {}).get(key, "?")
            zh, en = zh.format(bound), en.format(bound)
        else:
            en = _REASONS_EN.get(item["type"], item["msg"])
            zh = _REASONS_ZH.get(item["type"], "取值无效")
            if item["type"] == "enum":
                expected = (item.get("ctx") or {}).get("expected", "")
                zh = f"不是允许的取值，可选：{expected}"
        problems.append(Problem(json_path(tuple(item["loc"])), zh, en))
    return problems


def parse_profile(data: Any) -> Profile:
    """Validate a decoded profile; raises InputError listing every problem with its JSON path."""
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise InputError(problems_from(error)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def loads_exact(text: str | bytes) -> Any:
    """Decode JSON with numbers kept exact (Decimal), rejecting NaN and Infinity."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as error:
        raise InputError([Problem("$", f"不是有效的 JSON：{error}", f"not valid JSON: {error}")]) from None


def profile_from_json(text: str | bytes) -> Profile:
    return parse_profile(loads_exact(text))


def profile_json_schema() -> dict[str, Any]:
    return Profile.model_json_schema(by_alias=True, mode="validation")
