"""The flat 4-scheme subset as an openfisca-core model, fed numpy arrays (the comparison peer).

Schemes: sh-g60/scientific-instruments and sh-g60/6g (one stacking group), bj-pilot/platform-construction
(tiers, independent-entity rate lift) and gd/loan-interest-subsidy (two tracks, issue window, the 12-month
window split by calendar year, the per-enterprise yearly cap).

OpenFisca has one person entity, so the units (projects and loans) are its persons and the enterprise is a
group entity. It has no null, so three-valued facts are Enums (yes / no / unknown), and its numbers are
float32 / int32: amounts here are float yuan, not exact fen. Where the yearly cap binds, the enterprise's room is
shared pro rata instead of loan by loan in issue order (simpler, so never slower than the exact rule).
Only openfisca-core is needed (pip install openfisca-core; it is not a dependency of the project).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import YEAR
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Unit = build_entity(key="unit", plural="units", label="A project or a loan", is_person=True)
Enterprise = build_entity(key="enterprise", plural="enterprises", label="An enterprise",
                          roles=[{"key": "member", "plural": "members", "label": "Member"}])


class Tri(Enum):
    unknown = "unknown"
    yes = "yes"
    no = "no"


ELIGIBLE, NEEDS_CONFIRMATION, INELIGIBLE, SUPERSEDED = 0, 1, 2, 4


def _input(name: str, value_type: type, entity=Unit, default=None, possible=None) -> type:
    attributes = {"value_type": value_type, "entity": entity, "definition_period": YEAR, "label": name}
    if default is not None:
        attributes["default_value"] = default
    if possible is not None:
        attributes["possible_values"] = possible
    return type(name, (Variable,), attributes)


_TRI_INPUTS = ["in_shanghai", "in_songjiang", "in_beijing", "has_6g", "has_instruments", "pilot_platform",
               "is_new", "independent", "leading_field", "upgrading_field",
               # loans: enterprise facts copied to each loan, and the loan's own facts
               "ent_in_guangdong", "ent_not_shenzhen", "ent_not_dishonest", "ent_section_c", "ent_hnte",
               "ent_encouraged", "purpose_not_negative", "not_claimed", "fixed_asset", "fixed_or_working",
               "use_in_guangdong", "purpose_supported"]
INPUTS = [_input(name, Enum, possible=Tri, default=Tri.unknown) for name in _TRI_INPUTS] + [
    _input("is_project", bool), _input("is_loan", bool),
    _input("total_input_yuan", float), _input("principal_yuan", float), _input("annual_rate", float),
    _input("issue_day", int), _input("maturity_day", int),  # days since 1970-01-01
    _input("paid_this_year_yuan", float),  # the enterprise's awards this year, copied to each of its units
]


def _all(*tris) -> np.ndarray:
    """Kleene AND of Tri arrays -> status codes (eligible / needs confirmation / ineligible)."""
    failed = np.zeros(len(tris[0]), dtype=bool)
    unknown = np.zeros(len(tris[0]), dtype=bool)
    for tri in tris:
        failed |= tri == Tri.no
        unknown |= tri == Tri.unknown
    return np.where(failed, INELIGIBLE, np.where(unknown, NEEDS_CONFIRMATION, ELIGIBLE))


class instruments_status(Variable):
    value_type, entity, definition_period, label = int, Unit, YEAR, "G60 instruments status"

    def formula(unit, period):
        status = _all(unit("in_shanghai", period), unit("in_songjiang", period), unit("has_instruments", period))
        return np.where(unit("is_project", period), status, INELIGIBLE)


class sixg_status(Variable):
    value_type, entity, definition_period, label = int, Unit, YEAR, "G60 6G status"

    def formula(unit, period):
        status = _all(unit("in_shanghai", period), unit("in_songjiang", period), unit("has_6g", period))
        return np.where(unit("is_project", period), status, INELIGIBLE)


def _percent(base, rate, cap):
    return np.minimum(np.floor(base * rate * 100) / 100, cap)


class instruments_amount(Variable):
    value_type, entity, definition_period, label = float, Unit, YEAR, "G60 instruments amount (yuan)"

    def formula(unit, period):
        base = unit("total_input_yuan", period)
        return np.where((unit("instruments_status", period) <= NEEDS_CONFIRMATION) & (base > 0),
                        _percent(base, 0.30, 20_000_000), 0)


class sixg_amount(Variable):
    value_type, entity, definition_period, label = float, Unit, YEAR, "G60 6G amount (yuan)"

    def formula(unit, period):
        base = unit("total_input_yuan", period)
        return np.where((unit("sixg_status", period) <= NEEDS_CONFIRMATION) & (base > 0),
                        _percent(base, 0.30, 30_000_000), 0)


class g60_winner(Variable):
    value_type, entity, definition_period, label = int, Unit, YEAR, "从优、就高、不重复: 0 instruments, 1 6G"

    def formula(unit, period):
        first, second = unit("instruments_amount", period), unit("sixg_amount", period)
        first_ok = unit("instruments_status", period) == ELIGIBLE
        second_ok = unit("sixg_status", period) == ELIGIBLE
        return np.where((second > first) | ((second == first) & second_ok & ~first_ok), 1, 0)


class bj_status(Variable):
    value_type, entity, definition_period, label = int, Unit, YEAR, "Beijing pilot platform status"

    def formula(unit, period):
        leading, upgrading = unit("leading_field", period) == Tri.yes, unit("upgrading_field", period) == Tri.yes
        tier = np.where(leading | upgrading, Tri.yes, Tri.no)
        independent_unknown = np.where(unit("independent", period) == Tri.unknown, Tri.unknown, Tri.yes)
        status = _all(unit("pilot_platform", period), unit("is_new", period), unit("in_beijing", period), tier,
                      independent_unknown)
        return np.where(unit("is_project", period), status, INELIGIBLE)


class bj_amount(Variable):
    value_type, entity, definition_period, label = float, Unit, YEAR, "Beijing pilot platform amount (yuan)"

    def formula(unit, period):
        base = unit("total_input_yuan", period)
        leading = unit("leading_field", period) == Tri.yes
        independent = unit("independent", period) == Tri.yes
        rate = np.where(leading, np.where(independent, 0.45, 0.35), np.where(independent, 0.35, 0.25))
        cap = np.where(leading, 100_000_000, 50_000_000)
        return np.where((unit("bj_status", period) <= NEEDS_CONFIRMATION) & (base > 0), _percent(base, rate, cap), 0)


def _track_status(unit, period, track: str) -> np.ndarray:
    issue = unit("issue_day", period)
    window = np.where((issue >= WINDOW[0]) & (issue <= WINDOW[1]), Tri.yes, Tri.no)
    common = [unit("ent_in_guangdong", period), unit("ent_not_shenzhen", period), unit("ent_not_dishonest", period),
              window, unit("purpose_not_negative", period), unit("not_claimed", period)]
    if track == "manufacturing":
        extra = [unit("ent_section_c", period), unit("fixed_asset", period), unit("use_in_guangdong", period),
                 unit("purpose_supported", period)]
    else:
        extra = [unit("ent_hnte", period), unit("ent_encouraged", period), unit("fixed_or_working", period),
                 unit("purpose_supported", period)]
    return np.where(unit("is_loan", period), _all(*common, *extra), INELIGIBLE)


WINDOW = ((date(2025, 5, 1) - date(1970, 1, 1)).days, (date(2027, 12, 31) - date(1970, 1, 1)).days)
AS_OF_YEAR = 2026


class gd_subsidy_by_year(Variable):
    value_type, entity, definition_period, label = float, Unit, YEAR, "subsidy of the 12-month window in as-of year"

    def formula(unit, period):
        issue, maturity = unit("issue_day", period), unit("maturity_day", period)
        end = np.minimum(issue + 365, maturity)  # 12 months, as days: the flat model's simplification
        year_start = (date(AS_OF_YEAR, 1, 1) - date(1970, 1, 1)).days
        year_end = (date(AS_OF_YEAR + 1, 1, 1) - date(1970, 1, 1)).days
        days = np.clip(np.minimum(end, year_end) - np.maximum(issue, year_start), 0, None)
        return unit("principal_yuan", period) * unit("annual_rate", period) * days / 365 * 0.35


class gd_status(Variable):
    value_type, entity, definition_period, label = int, Unit, YEAR, "Guangdong subsidy status (better track)"

    def formula(unit, period):
        manufacturing = _track_status(unit, period, "manufacturing")
        high_tech = _track_status(unit, period, "high_tech")
        return np.minimum(manufacturing, high_tech)


class gd_amount(Variable):
    value_type, entity, definition_period, label = float, Unit, YEAR, "Guangdong subsidy this year (yuan)"

    def formula(unit, period):
        raw = np.where(unit("gd_status", period) <= NEEDS_CONFIRMATION, unit("gd_subsidy_by_year", period), 0)
        total = unit.enterprise.sum(raw)  # the enterprise's total, back on each of its units
        room = np.maximum(20_000_000 - unit("paid_this_year_yuan", period), 0)
        scale = np.where(total > room, room / np.where(total > 0, total, 1), 1)
        return np.floor(raw * scale * 100) / 100


OUTPUTS = ["instruments_status", "instruments_amount", "sixg_status", "sixg_amount", "g60_winner", "bj_status",
           "bj_amount", "gd_status", "gd_amount"]


def tax_benefit_system() -> TaxBenefitSystem:
    system = TaxBenefitSystem([Unit, Enterprise])
    for variable in INPUTS + [instruments_status, sixg_status, instruments_amount, sixg_amount, g60_winner,
                              bj_status, bj_amount, gd_subsidy_by_year, gd_status, gd_amount]:
        system.add_variable(variable)
    return system


def simulate(system: TaxBenefitSystem, arrays: dict[str, np.ndarray], enterprise_of_unit: np.ndarray,
             n_enterprises: int, period: str = "2026") -> dict[str, np.ndarray]:
    """Build a simulation from arrays (no dicts), compute every output for the period."""
    # only enterprises with a unit exist for OpenFisca, numbered densely
    _, enterprise_of_unit = np.unique(enterprise_of_unit, return_inverse=True)
    n_enterprises = int(enterprise_of_unit.max()) + 1 if len(enterprise_of_unit) else 0
    builder = SimulationBuilder()
    builder.create_entities(system)
    n_units = len(enterprise_of_unit)
    builder.declare_person_entity("unit", np.arange(n_units))
    enterprises = builder.declare_entity("enterprise", np.arange(n_enterprises))
    builder.join_with_persons(enterprises, enterprise_of_unit, np.array(["member"] * 1, dtype=object).repeat(n_units))
    simulation = builder.build(system)
    for name, values in arrays.items():
        simulation.set_input(name, period, values)
    return {name: simulation.calculate(name, period) for name in OUTPUTS}

