"""Count series: reading them (plain CSV with a column mapping, CDC VSRR), and checking them.

A series is the counts of one indicator (and substance) in one place, one row per period.
Problems are reported per series (gaps, negative counts, duplicated periods, a place whose
code changes): a bad series is set aside with a message naming the file line, and the others
are still monitored.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

import numpy as np

from binational.early_warning._glm import Array

FIELDS = ("period", "count", "place", "place_name", "indicator", "substance", "series",
          "completeness", "predicted")
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}


@dataclass(frozen=True, order=True)
class SeriesKey:
    place: str = ""
    indicator: str = ""
    substance: str = ""

    def label(self) -> str:
        parts = [p for p in (self.place, self.indicator, self.substance) if p]
        return " / ".join(parts) or "series"


@dataclass
class Series:
    key: SeriesKey
    periods: list[date]
    counts: Array
    place_name: str = ""
    # Share of the final count already reported (1.0 = complete), where the source says so.
    completeness: Array | None = None
    # The source's own delay-adjusted estimate (VSRR "Predicted Value"), where given.
    predicted: Array | None = None
    lines: list[int] = field(default_factory=list)

    def adjusted(self) -> Array:
        """Counts adjusted for reporting delay: the source's prediction where it gives one,
        else the count divided by its completeness; the raw count otherwise."""
        out = self.counts.astype(float).copy()
        if self.completeness is not None:
            c = self.completeness
            ok = np.isfinite(c) & (c > 0) & (c < 1)
            out[ok] = np.round(out[ok] / c[ok])
        if self.predicted is not None:
            p = self.predicted
            ok = np.isfinite(p)
            out[ok] = p[ok]
        return out


@dataclass(frozen=True)
class SeriesProblem:
    key: SeriesKey
    message: str


class BadFile(ValueError):
    """The file as a whole cannot be read (no header, missing columns)."""


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``period=Week start`` style items into {our field: their column}."""
    out: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise BadFile(f"mapping {part!r} is not FIELD=COLUMN")
            ours, theirs = (s.strip() for s in part.split("=", 1))
            if ours not in FIELDS:
                raise BadFile(f"unknown field {ours!r} in mapping; expected one of: "
                              f"{', '.join(FIELDS)}")
            out[ours] = theirs
    return out


def _step_ok(prev: date, cur: date, frequency: str) -> bool:
    if frequency == "day":
        return (cur - prev).days == 1
    if frequency == "week":
        return (cur - prev).days == 7
    nxt = (prev.year + prev.month // 12, prev.month % 12 + 1)
    return (cur.year, cur.month) == nxt


def _missing(prev: date, cur: date, frequency: str) -> int:
    if frequency == "day":
        return (cur - prev).days - 1
    if frequency == "week":
        return (cur - prev).days // 7 - 1
    return (cur.year - prev.year) * 12 + cur.month - prev.month - 1


@dataclass
class _Row:
    line: int
    period: date
    count: float | None
    place_name: str
    completeness: float | None
    predicted: float | None
    raw_place: str


def _number(text: str, line: int, what: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {line}: {what} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"line {line}: {what} {text!r} is not a finite number")
    return value


def parse_period(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ValueError(f"line {line}: period {text!r} is not an ISO date "
                         "(YYYY-MM-DD)") from None


def build_series(key: SeriesKey, rows: list[_Row], frequency: str) -> Series:
    """Check one series' rows and turn them into a Series; ValueError names the problem."""
    rows = sorted(rows, key=lambda r: (r.period, r.line))
    problems: list[str] = []
    for a, b in itertools.pairwise(rows):
        if a.period == b.period:
            problems.append(f"period {b.period} appears twice (lines {a.line} and {b.line})")
    if problems:
        raise ValueError("; ".join(problems))
    places = {r.raw_place for r in rows}
    if len(places) > 1:
        first = rows[0].raw_place
        change = next(r for r in rows if r.raw_place != first)
        raise ValueError(f"place code changes from {first!r} to {change.raw_place!r} at "
                         f"{change.period} (line {change.line}); map the old code to the "
                         "new one so the series is continuous")
    for r in rows:
        if r.count is not None and r.count < 0:
            raise ValueError(f"line {r.line}: negative count {r.count:g} for {r.period}")
        if r.count is not None and r.count != int(r.count):
            raise ValueError(f"line {r.line}: count {r.count:g} for {r.period} is not a "
                             "whole number")
    missing_counts = [r for r in rows if r.count is None]
    if missing_counts:
        r = missing_counts[0]
        more = f" and {len(missing_counts) - 1} more" if len(missing_counts) > 1 else ""
        raise ValueError(f"line {r.line}: no count for {r.period}{more} (a gap: fill in the "
                         "count, 0 if there were none)")
    if frequency == "week":
        weekdays = {r.period.weekday() for r in rows}
        if len(weekdays) > 1:
            raise ValueError("weekly periods do not all start on the same weekday")
    if frequency == "month" and len({r.period.day for r in rows}) > 1:
        raise ValueError("monthly periods do not all start on the same day of the month")
    for a, b in itertools.pairwise(rows):
        if not _step_ok(a.period, b.period, frequency):
            n = _missing(a.period, b.period, frequency)
            if n <= 0:
                raise ValueError(f"periods {a.period} (line {a.line}) and {b.period} "
                                 f"(line {b.line}) are not one {frequency} apart")
            raise ValueError(f"gap between {a.period} (line {a.line}) and {b.period} "
                             f"(line {b.line}): {n} missing {frequency}"
                             f"{'s' if n > 1 else ''}")
    comp = [r.completeness for r in rows]
    pred = [r.predicted for r in rows]
    return Series(
        key=key, periods=[r.period for r in rows],
        counts=np.array([r.count for r in rows], dtype=float),
        place_name=rows[-1].place_name,
        completeness=(np.array([np.nan if c is None else c for c in comp])
                      if any(c is not None for c in comp) else None),
        predicted=(np.array([np.nan if p is None else p for p in pred])
                   if any(p is not None for p in pred) else None),
        lines=[r.line for r in rows])


def _group(raw: Iterator[tuple[SeriesKey, _Row]], frequency: str,
           ) -> tuple[list[Series], list[SeriesProblem]]:
    groups: dict[SeriesKey, list[_Row]] = defaultdict(list)
    for key, row in raw:
        groups[key].append(row)
    out: list[Series] = []
    problems: list[SeriesProblem] = []
    # The same place name under two codes, in series that are otherwise alike: a recoding.
    by_name: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for key, rows in groups.items():
        for r in rows:
            if r.place_name:
                by_name[(r.place_name, key.indicator, key.substance)].add(key.place)
    recoded = {k: codes for k, codes in by_name.items() if len(codes) > 1}
    for key, rows in sorted(groups.items()):
        name = rows[0].place_name
        codes = recoded.get((name, key.indicator, key.substance))
        if codes:
            problems.append(SeriesProblem(key, f"place {name!r} appears under codes "
                                          f"{', '.join(sorted(codes))}: the place code "
                                          "changed; map the old code to the new one"))
            continue
        try:
            out.append(build_series(key, rows, frequency))
        except ValueError as exc:
            problems.append(SeriesProblem(key, str(exc)))
    return out, problems


def read_series(fh: TextIO, frequency: str, mapping: Mapping[str, str] | None = None,
                name: str = "input") -> tuple[list[Series], list[SeriesProblem]]:
    """Read a CSV of counts (columns ``period`` and ``count``, optionally ``place``,
    ``indicator``, ``substance``, ``series``, ``completeness``, ``predicted``; or other
    names through ``mapping``)."""
    reader = csv.DictReader(fh)
    if not reader.fieldnames:
        raise BadFile(f"{name}: empty file (expected a header with period and count)")
    header = {h.strip().lower(): h for h in reader.fieldnames if h}
    cols: dict[str, str] = {}
    for fld in FIELDS:
        theirs = (mapping or {}).get(fld)
        if theirs is not None:
            if theirs not in reader.fieldnames and theirs.lower() not in header:
                raise BadFile(f"{name}: mapped column {theirs!r} (for {fld}) is not in the "
                              f"header ({', '.join(reader.fieldnames)})")
            cols[fld] = theirs if theirs in reader.fieldnames else header[theirs.lower()]
        elif fld in header:
            cols[fld] = header[fld]
    missing = [f for f in ("period", "count") if f not in cols]
    if missing:
        raise BadFile(f"{name}: the CSV needs column(s) {', '.join(missing)} (found: "
                      f"{', '.join(reader.fieldnames)}); map others with --map "
                      "period=COLUMN,count=COLUMN")
    errors: list[SeriesProblem] = []

    def rows() -> Iterator[tuple[SeriesKey, _Row]]:
        for rec in reader:
            line = reader.line_num

            def get(f: str, rec: dict[str, str] = rec) -> str:
                return (rec.get(cols[f]) or "").strip() if f in cols else ""
            sid = get("series")
            key = SeriesKey(sid or get("place"), get("indicator"), get("substance"))
            try:
                period = parse_period(get("period"), line)
                count = _number(get("count"), line, "count")
                comp = _number(get("completeness"), line, "completeness")
                if comp is not None and comp > 1:
                    comp = comp / 100       # given in percent
                pred = _number(get("predicted"), line, "predicted")
            except ValueError as exc:
                errors.append(SeriesProblem(key, f"{name}: {exc}"))
                continue
            yield key, _Row(line, period, count, get("place_name"), comp, pred,
                            get("place") if sid else key.place)

    series, problems = _group(rows(), frequency)
    bad = {p.key for p in errors}
    series = [s for s in series if s.key not in bad]
    seen: set[SeriesKey] = set()
    first_errors = []
    for p in errors:
        if p.key not in seen:
            seen.add(p.key)
            first_errors.append(p)
    return series, first_errors + [p for p in problems if p.key not in bad]


# -- CDC VSRR provisional drug overdose death counts ---------------------------------------

VSRR_INDICATORS: dict[str, tuple[str, str]] = {
    "Number of Deaths": ("deaths-all-causes", ""),
    "Number of Drug Overdose Deaths": ("overdose-deaths", "all-drugs"),
    "Cocaine (T40.5)": ("overdose-deaths", "cocaine"),
    "Heroin (T40.1)": ("overdose-deaths", "heroin"),
    "Methadone (T40.3)": ("overdose-deaths", "methadone"),
    "Natural & semi-synthetic opioids (T40.2)":
        ("overdose-deaths", "natural-semisynthetic-opioids"),
    "Natural & semi-synthetic opioids, incl. methadone (T40.2, T40.3)":
        ("overdose-deaths", "natural-semisynthetic-opioids-methadone"),
    "Natural, semi-synthetic, & synthetic opioids, incl. methadone (T40.2-T40.4)":
        ("overdose-deaths", "opioids-excl-heroin"),
    "Opioids (T40.0-T40.4,T40.6)": ("overdose-deaths", "opioids"),
    "Psychostimulants with abuse potential (T43.6)": ("overdose-deaths", "psychostimulants"),
    "Synthetic opioids, excl. methadone (T40.4)": ("overdose-deaths", "synthetic-opioids"),
}
VSRR_COLUMNS = ("State", "Year", "Month", "Indicator", "Data Value", "Percent Complete",
                "State Name", "Predicted Value")


def read_vsrr(path: Path) -> tuple[list[Series], list[SeriesProblem]]:
    """The VSRR file: one monthly series (12-month-ending death counts) per state, indicator
    and drug; 'Percent with drugs specified' (a data-quality measure) is not a count."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in VSRR_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BadFile(f"{path}: not a VSRR file (missing columns: {', '.join(missing)})")
        errors: list[SeriesProblem] = []

        def rows() -> Iterator[tuple[SeriesKey, _Row]]:
            for rec in reader:
                line = reader.line_num
                ind = VSRR_INDICATORS.get(rec["Indicator"].strip())
                if ind is None:
                    continue
                place = f"US-{rec['State'].strip()}" if rec["State"].strip() != "US" else "US"
                key = SeriesKey(place, ind[0], ind[1])
                try:
                    month = MONTHS[rec["Month"].strip().lower()]
                    period = date(int(rec["Year"]), month, 1)
                    count = _number(rec["Data Value"], line, "Data Value")
                    # "99.5+" means at least 99.5 percent complete
                    comp = _number(rec["Percent Complete"].strip().rstrip("+"), line,
                                   "Percent Complete")
                    pred = _number(rec["Predicted Value"], line, "Predicted Value")
                except (KeyError, ValueError) as exc:
                    errors.append(SeriesProblem(key, f"{path.name}: {exc}"))
                    continue
                yield key, _Row(line, period, count, rec["State Name"].strip(),
                                None if comp is None else comp / 100, pred, place)

        series, problems = _group(rows(), "month")
    return series, errors + problems
