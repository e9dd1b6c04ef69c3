"""Homicide indicators over a long table of monthly counts (``sources.COLUMNS``), in polars.

All are whole-table expressions (group-bys and window functions), never Python loops over
areas: 2,467 municipalities x 264 months is ~650,000 rows and takes well under a second.

- ``annual``: counts and rates per 100,000 per area and year, with the year-on-year change;
- ``trend``: the least-squares slope of monthly counts over the last ``months`` months, per
  area, in incidents per month and as a share of the area's mean;
- ``to_states``: municipal counts summed to states (the code's first two digits);
- ``reconcile``: INEGI (death certificates) against SESNSP (prosecutors' victims) by state and
  year: the difference and the ratio, as the two sources never agree exactly.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from binational.core.errors import InvalidInput
from binational.homicide.sources import HOMICIDE

PER = 100_000


def _check(frame: pl.DataFrame) -> None:
    missing = {"area_code", "year", "month", "count"} - set(frame.columns)
    if missing:
        raise InvalidInput(f"the series lacks columns: {', '.join(sorted(missing))}")


def to_states(frame: pl.DataFrame) -> pl.DataFrame:
    _check(frame)
    pop = pl.col("population") if "population" in frame.columns else pl.lit(None, pl.Float64)
    return (frame.with_columns(pl.col("area_code").str.slice(0, 2).alias("area_code"),
                               pop.alias("population"))
            .group_by("area_code", "year", "month")
            .agg(pl.col("count").sum(),
                 # Municipalities split off recently have no estimate of their own: their
                 # people are still in the parent's, so the known ones add up to the state.
                 pl.col("population").sum().alias("population"))
            .sort("area_code", "year", "month"))


def annual(frame: pl.DataFrame) -> pl.DataFrame:
    """Per area and year: count, population (mean of months), rate per 100,000 and the change
    from the year before (absolute and relative; null where the year before is missing or 0)."""
    _check(frame)
    pop = pl.col("population") if "population" in frame.columns else pl.lit(None, pl.Float64)
    out = (frame.with_columns(pop.alias("population"))
           .group_by("area_code", "year")
           .agg(pl.col("count").sum(), pl.col("population").mean(), pl.len().alias("months"))
           .sort("area_code", "year"))
    prev = pl.col("count").shift(1).over("area_code")
    prev_year = pl.col("year").shift(1).over("area_code")
    consecutive = prev_year == pl.col("year") - 1
    return out.with_columns(
        (pl.col("count") / pl.col("population") * PER).alias("rate"),
        pl.when(consecutive).then(pl.col("count") - prev).alias("change"),
        pl.when(consecutive & (prev > 0)).then((pl.col("count") - prev) / prev)
        .alias("change_pct"),
    )


def trend(frame: pl.DataFrame, months: int = 36) -> pl.DataFrame:
    """OLS slope of the monthly counts over each area's last ``months`` months."""
    _check(frame)
    if months < 3:
        raise InvalidInput("a trend needs at least 3 months")
    idx = (pl.col("year") * 12 + pl.col("month")).alias("t")
    last = frame.select(idx.max()).item()
    recent = frame.with_columns(idx).filter(pl.col("t") > last - months)
    tc = pl.col("t") - pl.col("t").mean()
    stats = recent.group_by("area_code").agg(
        ((tc * (pl.col("count") - pl.col("count").mean())).sum() / (tc * tc).sum())
        .alias("slope"),
        pl.col("count").mean().alias("mean"),
        pl.len().alias("months"),
    )
    return stats.with_columns(
        pl.when(pl.col("mean") > 0).then(pl.col("slope") / pl.col("mean"))
        .alias("slope_share")).sort("area_code")


def reconcile(inegi: pl.DataFrame, sesnsp: pl.DataFrame) -> pl.DataFrame:
    """INEGI homicides against SESNSP intentional-homicide victims, by state and year, for the
    years both cover in full (12 months each)."""
    def yearly(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        if "crime" in frame.columns:
            frame = frame.filter(pl.col("crime") == HOMICIDE)
        if frame.height and frame["area_code"].str.len_chars().max() == 5:
            frame = to_states(frame)
        return (frame.group_by("area_code", "year")
                .agg(pl.col("count").sum().alias(name), pl.len().alias(f"{name}_months"))
                .filter(pl.col(f"{name}_months") == 12).drop(f"{name}_months"))

    both = yearly(inegi, "inegi").join(yearly(sesnsp, "sesnsp"), on=["area_code", "year"])
    return both.with_columns(
        (pl.col("sesnsp") - pl.col("inegi")).alias("difference"),
        pl.when(pl.col("inegi") > 0).then(pl.col("sesnsp") / pl.col("inegi")).alias("ratio"),
    ).sort("area_code", "year")


def compute_all(municipal: pl.DataFrame, trend_months: int = 36) -> dict[str, pl.DataFrame]:
    """Every indicator of a municipal series at both levels (what the benchmark times)."""
    states = to_states(municipal)
    return {"municipal_annual": annual(municipal), "municipal_trend": trend(municipal,
                                                                            trend_months),
            "state_monthly": states, "state_annual": annual(states),
            "state_trend": trend(states, trend_months)}


def records(frame: pl.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (floats rounded)."""
    rows = frame.head(limit).to_dicts() if limit else frame.to_dicts()
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
            for r in rows]
