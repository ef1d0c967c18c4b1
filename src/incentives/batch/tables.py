"""The batch table contract: sheet / file names, columns, their dtypes and their Chinese headers.

In memory (polars) amounts are integer fen (`*_fen`, Int64) and rates are Decimal strings parsed exactly;
files carry yuan (`*_yuan`) and readers convert at the edge. List columns (activities, fields) are
List(String) in memory and ";"-separated text in files. A null cell means "unknown", never "no".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # in-memory name
    dtype: pl.DataType
    header_zh: str  # header in workbooks and CSV files
    file_name: str | None = None  # English header in files when it differs (yuan instead of fen)
    enum: tuple[str, ...] | None = None  # allowed values, for validation and drop-down lists
    required: bool = False

    @property
    def header_en(self) -> str:
        return self.file_name or self.name


_BOOL = pl.Boolean()
_STR = pl.String()
_INT = pl.Int64()
_DATE = pl.Date()
_LIST = pl.List(pl.String())

OWNERSHIP = ("private", "state_owned", "foreign", "collective", "mixed", "other")
ACTIVITIES = ("applied_basic_research", "key_tech_challenge", "innovation_consortium", "industry_cluster",
              "industrialisation", "rd", "pilot_platform", "pilot_services", "intl_org", "overseas_incubator",
              "satellite_services", "satellite_licence")
FIELDS = ("6g", "satellite", "scientific_instruments", "smart_terminal", "secure_software_hardware", "ai",
          "biopharma", "green_low_carbon", "robotics", "new_materials", "ic", "aerospace", "safety_emergency",
          "future_industry", "next_gen_it", "icv_nev", "other")
LOAN_TYPES = ("fixed_asset", "working_capital", "other")
LOAN_PURPOSES = ("build_plant", "buy_equipment", "tech_upgrade", "rd", "daily_operations", "refinance",
                 "repay_debt", "land", "financial_investment", "real_estate", "other")

ENTERPRISES = (
    Column("enterprise_id", _STR, "企业编号", required=True),
    Column("name", _STR, "企业名称", required=True),
    Column("uscc", _STR, "统一社会信用代码"),
    Column("province", _STR, "省份", required=True),
    Column("city", _STR, "城市"),
    Column("district", _STR, "区县"),
    Column("industry_code", _STR, "行业代码"),
    Column("ownership", _STR, "所有制", enum=OWNERSHIP),
    Column("employees", _INT, "从业人员"),
    Column("revenue_fen", _INT, "营业收入(元)", "revenue_yuan"),
    Column("total_assets_fen", _INT, "资产总额(元)", "total_assets_yuan"),
    Column("rd_spend_fen", _INT, "研发投入(元)", "rd_spend_yuan"),
    Column("hnte", _BOOL, "高新技术企业"),
    Column("tech_sme", _BOOL, "科技型中小企业"),
    Column("specialized_sme", _BOOL, "专精特新"),
    Column("little_giant", _BOOL, "小巨人"),
    Column("single_champion", _BOOL, "单项冠军"),
    Column("chain_leader", _BOOL, "链主企业"),
    Column("tech_leader", _BOOL, "科技领军企业"),
    Column("on_dishonesty_list", _BOOL, "列入严重失信名单"),
    Column("main_business_encouraged", _BOOL, "主营业务属鼓励类"),
    Column("on_tech_sme_list", _BOOL, "科技型企业备选名单"),
    Column("has_high_rd_intensity", _BOOL, "研发投入水平较高"),
)

PROJECTS = (
    Column("enterprise_id", _STR, "企业编号", required=True),
    Column("project_id", _STR, "项目编号", required=True),
    Column("name", _STR, "项目名称"),
    Column("activities", _LIST, "项目类型", enum=ACTIVITIES),
    Column("fields", _LIST, "技术领域", enum=FIELDS),
    Column("province", _STR, "项目所在省份"),
    Column("city", _STR, "项目所在城市"),
    Column("district", _STR, "项目所在区县"),
    Column("total_input_fen", _INT, "总投入(元)", "total_input_yuan"),
    Column("rd_input_fen", _INT, "研发总投入(元)", "rd_input_yuan"),
    Column("challenge_amount_fen", _INT, "揭榜额(元)", "challenge_amount_yuan"),
    Column("annual_operating_expenses_fen", _INT, "年度运营支出(元)", "annual_operating_expenses_yuan"),
    Column("pilot_service_fees_fen", _INT, "中试服务费用(元)", "pilot_service_fees_yuan"),
    Column("is_independent_legal_entity", _BOOL, "独立法人"),
    Column("is_new", _BOOL, "新建"),
)

LOANS = (
    Column("enterprise_id", _STR, "企业编号", required=True),
    Column("loan_id", _STR, "贷款编号", required=True),
    Column("principal_fen", _INT, "本金(元)", "principal_yuan", required=True),
    Column("annual_rate", _STR, "年利率", required=True),  # exact decimal text, e.g. "0.035"
    Column("issue_date", _DATE, "发放日", required=True),
    Column("maturity_date", _DATE, "到期日", required=True),
    Column("loan_type", _STR, "贷款类型", enum=LOAN_TYPES),
    Column("purpose", _STR, "贷款用途", enum=LOAN_PURPOSES),
    Column("use_province", _STR, "资金使用省份"),
    Column("use_city", _STR, "资金使用城市"),
    Column("lender", _STR, "贷款银行"),
    Column("claimed_under_other_policy", _BOOL, "已享受其他贴息"),
    Column("for_tech_upgrade_project", _BOOL, "技改设备更新清单项目"),
)

# the enterprise on the template's example row: a run that still has it is warned (validate)
TEMPLATE_EXAMPLE_NAME = "示例科技有限公司"

AWARDS = (
    Column("enterprise_id", _STR, "企业编号", required=True),
    Column("scheme_id", _STR, "方案编号", required=True),
    Column("amount_fen", _INT, "金额(元)", "amount_yuan", required=True),
    Column("date", _DATE, "日期", required=True),
    Column("unit_id", _STR, "对象编号"),
    Column("source", _STR, "来源"),
)

# sheet name (zh) -> (english name, columns)
SHEETS = {
    "企业": ("enterprises", ENTERPRISES),
    "项目": ("projects", PROJECTS),
    "贷款": ("loans", LOANS),
    "已获资助": ("awards", AWARDS),
}


def schema(columns: tuple[Column, ...]) -> dict[str, pl.DataType]:
    return {c.name: c.dtype for c in columns}


def empty(columns: tuple[Column, ...]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema(columns))


@dataclass(frozen=True, slots=True)
class Tables:
    """The four batch tables in memory, keyed by enterprise_id (dtypes as in the column lists above)."""

    enterprises: pl.DataFrame
    projects: pl.DataFrame
    loans: pl.DataFrame
    awards: pl.DataFrame
    # each project's, loan's and award's enterprise row number, when the checks already found them (the
    # engine then does not look them up again); None: the engine finds them
    enterprise_rows: tuple[pl.Series, pl.Series, pl.Series] | None = None

    @classmethod
    def empty(cls) -> Tables:
        return cls(empty(ENTERPRISES), empty(PROJECTS), empty(LOANS), empty(AWARDS))
