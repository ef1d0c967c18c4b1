"""Money over a whole batch: the confirmed and potential totals, and per scheme how many results are eligible or
to confirm and what they add up to. Few rows per chunk, summed chunk by chunk, so a run of any size keeps them.

A superseded result (从优不重复: another scheme paid instead) is neither eligible nor to confirm, so it is not
counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..results import Status
from ..schemes import Catalogue

SCHEME_TOTALS_SCHEMA = {"scheme_id": pl.String, "n_eligible": pl.Int64, "eligible_fen": pl.Int64,
                        "n_to_confirm": pl.Int64, "to_confirm_fen": pl.Int64}


def scheme_totals(rows: pl.DataFrame, key: str = "scheme_id", eligible: Any = Status.eligible.value,
                  to_confirm: Any = Status.needs_confirmation.value) -> pl.DataFrame:
    """Per value of `key`, from rows with a status and an amount (the details, or the columnar engine's hits,
    whose status and scheme are codes: hence the parameters)."""
    status, amount = pl.col("status"), pl.col("amount_fen").fill_null(0)
    is_eligible, is_to_confirm = status == eligible, status == to_confirm
    return (rows.lazy().filter(is_eligible | is_to_confirm).group_by(key)
            .agg(is_eligible.sum().cast(pl.Int64).alias("n_eligible"),
                 amount.filter(is_eligible).sum().cast(pl.Int64).alias("eligible_fen"),
                 is_to_confirm.sum().cast(pl.Int64).alias("n_to_confirm"),
                 amount.filter(is_to_confirm).sum().cast(pl.Int64).alias("to_confirm_fen"))
            .collect())


@dataclass(slots=True)
class Totals:
    confirmed_fen: int = 0
    potential_fen: int = 0  # confirmed plus the amounts still to confirm
    by_scheme: dict[str, list[int]] = field(default_factory=dict)  # id -> SCHEME_TOTALS_SCHEMA's four numbers

    def add(self, summary: pl.DataFrame, per_scheme: pl.DataFrame) -> None:
        self.confirmed_fen += int(summary.get_column("total_fen").sum() or 0)
        self.potential_fen += int(summary.get_column("potential_total_fen").sum() or 0)
        for scheme_id, *numbers in per_scheme.select(list(SCHEME_TOTALS_SCHEMA)).iter_rows():
            kept = self.by_scheme.setdefault(scheme_id, [0, 0, 0, 0])
            for i, number in enumerate(numbers):
                kept[i] += number

    def as_dict(self, cat: Catalogue) -> dict[str, Any]:
        """In catalogue order, schemes without an eligible or potential result left out."""
        schemes = [{"scheme_id": s.id, "title_zh": s.title_zh, "title_en": s.title_en,
                    **dict(zip(list(SCHEME_TOTALS_SCHEMA)[1:], self.by_scheme[s.id]))}
                   for s in cat.schemes if s.id in self.by_scheme]
        return {"confirmed_fen": self.confirmed_fen, "potential_fen": self.potential_fen, "by_scheme": schemes}
