"""Geocoded incidents from a CSV file: coordinates, dates, and every row that was not usable.

A row is never dropped silently: a bad date, a coordinate that is not a number, a point far
outside the area of the others, or a row whose coordinates are in another projection than the
rest (longitude/latitude among metres, or the reverse) becomes a ``RowIssue`` with its line
number, and the caller reports them. Coordinates end up in metres on a plane: projected input
is taken as it is; ``lonlat=True`` input is projected to a local plane (``LocalProjection``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from binational.core.errors import InvalidInput

EARTH_RADIUS = 6_371_008.8  # mean Earth radius (IUGG), metres
# Formats tried when none is given, in this order; day-first and month-first slash dates are
# told apart by the values (a field above 12), and refused when the file cannot tell.
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%d-%m-%Y", "%d.%m.%Y",
)
SNIFF_ROWS = 5_000
# A point this many times farther from the median point than the 95th percentile of the
# others (and at least OUTSIDE_MIN_M, more than a metropolitan area) is outside the study
# area: a geocoding failure such as (0, 0), a swapped pair or a typo, not a real incident.
OUTSIDE_FACTOR = 5.0
OUTSIDE_MIN_M = 50_000.0
DELIMITERS = (",", ";", "\t", "|")
MAX_ISSUES_LISTED = 10_000


@dataclass(frozen=True)
class RowIssue:
    """A row left out of the analysis, and why (``line`` is the 1-based line in the file)."""

    line: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class LocalProjection:
    """Longitude/latitude to metres on a plane tangent at (lon0, lat0): equirectangular.

    Why not pyproj: over a city (tens of kilometres) the scale error of an equirectangular
    plane is far below a grid cell, the inverse is exact, and its grid cells are exact
    longitude/latitude rectangles, so a cell's lower-left corner converts back without loss.
    """

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return EARTH_RADIUS * math.radians(1.0) * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return EARTH_RADIUS * math.radians(1.0)

    def forward(self, lon: NDArray[np.float64], lat: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def inverse(self, x: NDArray[np.float64], y: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return x / self.kx + self.lon0, y / self.ky + self.lat0


@dataclass
class Incidents:
    """Usable incidents: plane coordinates in metres, time in days (proleptic ordinal, with
    the time of day as a fraction), and the source line of each."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.float64]
    lines: NDArray[np.int64]
    issues: list[RowIssue] = field(default_factory=list)
    projection: LocalProjection | None = None
    date_format: str = ""
    rows: int = 0

    def __len__(self) -> int:
        return len(self.x)

    def select(self, mask: NDArray[np.bool_]) -> Incidents:
        return Incidents(self.x[mask], self.y[mask], self.t[mask], self.lines[mask],
                         self.issues, self.projection, self.date_format, self.rows)

    def issues_json(self) -> list[dict[str, object]]:
        return [i.to_json() for i in self.issues[:MAX_ISSUES_LISTED]]


def day_number(value: date) -> float:
    """A date (or datetime) as days on the same scale as ``Incidents.t``."""
    base = float(value.toordinal())
    if isinstance(value, datetime):
        base += (value.hour * 3600 + value.minute * 60 + value.second) / 86_400
    return base


def parse_day(value: str, what: str = "date") -> float:
    """A command-line date (ISO ``YYYY-MM-DD``) as a day number; a clear error otherwise."""
    try:
        return day_number(date.fromisoformat(value.strip()))
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not a date (expected YYYY-MM-DD)") from None


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def detect_date_format(values: Sequence[str], column: str) -> str:
    """The format that reads the most of ``values``; ambiguous day/month order is refused."""
    sample = [v for v in values[:SNIFF_ROWS] if v]
    if not sample:
        raise InvalidInput(f"column {column!r} holds no dates")
    scores = {fmt: sum(_parses(v, fmt) for v in sample) for fmt in DATE_FORMATS}
    best = max(scores.values())
    if best == 0:
        raise InvalidInput(f"column {column!r}: no known date format reads values such as "
                           f"{sample[0]!r}; give --date-format (e.g. %d/%m/%Y)")
    winners = [f for f in DATE_FORMATS if scores[f] == best]
    if len(winners) > 1 and any("%d/%m" in f for f in winners) and any(
            "%m/%d" in f for f in winners):
        raise InvalidInput(f"column {column!r}: dates such as {sample[0]!r} read both day-first "
                           "and month-first; give --date-format (%d/%m/%Y or %m/%d/%Y)")
    return winners[0]


def _float(value: str) -> float | None:
    text = value.strip()
    try:
        out = float(text)
    except ValueError:
        if text.count(",") != 1 or "." in text:
            return None
        try:  # a decimal comma ("19,43"), as Mexican spreadsheets write it
            out = float(text.replace(",", "."))
        except ValueError:
            return None
    return out if math.isfinite(out) else None


def read_incidents(path: Path, x_col: str, y_col: str, date_col: str, *,
                   date_format: str | None = None, lonlat: bool = False,
                   bbox: tuple[float, float, float, float] | None = None,
                   encoding: str = "utf-8-sig") -> Incidents:
    """Read a CSV of incidents; see the module docstring for what becomes a ``RowIssue``."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        with path.open(encoding=encoding, newline="") as fh:
            first = fh.readline()
            fh.seek(0)
            # Spreadsheets in Mexico often save with ";" (the comma is the decimal mark).
            delimiter = next((d for d in DELIMITERS if x_col in first.split(d)
                              or f'"{x_col}"' in first.split(d)), ",")
            reader = csv.DictReader(fh, delimiter=delimiter)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in (x_col, y_col, date_col) if c not in header]
            if missing:
                raise InvalidInput(f"{path}: no column {', '.join(map(repr, missing))} "
                                   f"(columns: {', '.join(header) or 'no header'})")
            reader.fieldnames = header
            raw = [(reader.line_num, r.get(x_col) or "", r.get(y_col) or "",
                    (r.get(date_col) or "").strip()) for r in reader]
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not {encoding} text ({exc.reason} at byte "
                           f"{exc.start})") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {exc}") from None
    fmt = date_format or detect_date_format([r[3] for r in raw], date_col)
    issues: list[RowIssue] = []
    xs: list[float] = []
    ys: list[float] = []
    ts: list[float] = []
    lines: list[int] = []
    for line, xv, yv, dv in raw:
        x, y = _float(xv), _float(yv)
        if x is None or y is None:
            issues.append(RowIssue(line, f"coordinates ({xv!r}, {yv!r}) are not numbers"))
            continue
        if x == 0 and y == 0:
            issues.append(RowIssue(line, "coordinates (0, 0): the row was not geocoded"))
            continue
        if lonlat and not (-180 <= x <= 180 and -90 <= y <= 90):
            hint = ("latitude and longitude swapped?" if -90 <= x <= 90 and -180 <= y <= 180
                    else "mixed projections?")
            issues.append(RowIssue(line, f"coordinates ({x:g}, {y:g}) are not longitude/"
                                         f"latitude: {hint}"))
            continue
        try:
            when = datetime.strptime(dv, fmt)
        except ValueError:
            issues.append(RowIssue(line, f"bad date {dv!r} (expected {fmt})"))
            continue
        xs.append(x)
        ys.append(y)
        ts.append(day_number(when))
        lines.append(line)
    x_arr, y_arr = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.ones(len(xs), dtype=bool)
    if not lonlat and len(xs):
        keep &= _mixed_projection(x_arr, y_arr, np.asarray(lines), issues)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        inside = (x_arr >= x0) & (x_arr <= x1) & (y_arr >= y0) & (y_arr <= y1)
        for i in np.flatnonzero(keep & ~inside):
            issues.append(RowIssue(int(lines[i]), f"coordinates ({xs[i]:g}, {ys[i]:g}) are "
                                                  "outside the area (--bbox)"))
        keep &= inside
    projection = None
    if lonlat and keep.any():
        projection = LocalProjection(float(np.median(x_arr[keep])),
                                     float(np.median(y_arr[keep])))
        x_arr, y_arr = projection.forward(x_arr, y_arr)
    if bbox is None and keep.sum() >= 3:
        keep &= _outside(x_arr, y_arr, keep, np.asarray(lines), issues, lonlat)
    issues.sort(key=lambda i: i.line)
    return Incidents(x_arr[keep], y_arr[keep], np.asarray(ts, dtype=float)[keep],
                     np.asarray(lines, dtype=np.int64)[keep], issues, projection, fmt, len(raw))


def _mixed_projection(x: NDArray[np.float64], y: NDArray[np.float64], lines: NDArray[np.int64],
                      issues: list[RowIssue]) -> NDArray[np.bool_]:
    """Rows in longitude/latitude in a file of projected metres (the majority decides)."""
    degrees = (np.abs(x) <= 180) & (np.abs(y) <= 90)
    if degrees.all() or degrees.sum() * 2 > len(x):
        if degrees.all():
            return np.ones(len(x), dtype=bool)
        for i in np.flatnonzero(~degrees):
            issues.append(RowIssue(int(lines[i]), f"coordinates ({x[i]:g}, {y[i]:g}) are "
                                                  "projected among longitude/latitude rows: "
                                                  "mixed projections"))
        return degrees
    for i in np.flatnonzero(degrees):
        issues.append(RowIssue(int(lines[i]), f"coordinates ({x[i]:g}, {y[i]:g}) look like "
                                              "longitude/latitude among projected rows: "
                                              "mixed projections"))
    return ~degrees


def _outside(x: NDArray[np.float64], y: NDArray[np.float64], keep: NDArray[np.bool_],
             lines: NDArray[np.int64], issues: list[RowIssue], lonlat: bool
             ) -> NDArray[np.bool_]:
    cx, cy = float(np.median(x[keep])), float(np.median(y[keep]))
    dist = np.hypot(x - cx, y - cy)
    limit = max(OUTSIDE_FACTOR * float(np.percentile(dist[keep], 95)), OUTSIDE_MIN_M)
    out = keep & (dist > limit)
    for i in np.flatnonzero(out):
        issues.append(RowIssue(int(lines[i]), f"coordinates are {dist[i] / 1000:,.1f} km from "
                                              "the other incidents: outside the area"
                                              + (" (swapped longitude/latitude?)"
                                                 if lonlat else "")))
    return ~out
