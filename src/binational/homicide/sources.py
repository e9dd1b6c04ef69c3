"""Readers for Mexico's homicide statistics, into one long table of monthly counts.

Every reader returns a ``Series``: a polars frame with the columns of ``COLUMNS`` (one row per
area, crime and month) and the ``RowIssue`` list of rows that were not taken (an unknown
municipality code, a bad number) or were taken with a caveat (a municipality that was split
off another, one whose name changed). Nothing is dropped without an issue naming its line.

Formats:

- ``inegi-municipal``: INEGI death records by municipality and month, as compiled by
  Gargiulo, Aburto & Floridi (``ent_mun|year|month|homicides|pop_est|homicide_rate``, gzip ok);
- ``inegi-state``: the same by state (``cve_ent|year|month|...``);
- ``sesnsp-victims-state``: SESNSP victims by state and month in long form (one row per crime
  subtype, modality, sex and age band; summed per crime subtype);
- ``sesnsp-municipal``: SESNSP's municipal incidence file (latin-1 CSV, ``Año, Clave_Ent,
  Entidad, Cve. Municipio, Municipio, Bien jurídico afectado, Tipo de delito, Subtipo de
  delito, Modalidad, Enero ... Diciembre``), summed per crime subtype;
- ``cdmx-quadrants``: Mexico City police quadrants, monthly counts per crime type (with the
  quadrant polygons read by ``read_quadrant_polygons``).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl

from binational.core.errors import InvalidInput
from binational.homicide.incidents import RowIssue

COLUMNS = ("source", "level", "area_code", "area_name", "crime", "year", "month", "count",
           "population")
HOMICIDE = "homicidio doloso"  # the crime name of intentional homicide in every source
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
FORMATS = ("inegi-municipal", "inegi-state", "sesnsp-victims-state", "sesnsp-municipal",
           "cdmx-quadrants")
STATES = {f"{i:02d}" for i in range(1, 33)}
STATE_NAMES = {
    "01": "Aguascalientes", "02": "Baja California", "03": "Baja California Sur",
    "04": "Campeche", "05": "Coahuila", "06": "Colima", "07": "Chiapas", "08": "Chihuahua",
    "09": "Ciudad de México", "10": "Durango", "11": "Guanajuato", "12": "Guerrero",
    "13": "Hidalgo", "14": "Jalisco", "15": "México", "16": "Michoacán", "17": "Morelos",
    "18": "Nayarit", "19": "Nuevo León", "20": "Oaxaca", "21": "Puebla", "22": "Querétaro",
    "23": "Quintana Roo", "24": "San Luis Potosí", "25": "Sinaloa", "26": "Sonora",
    "27": "Tabasco", "28": "Tamaulipas", "29": "Tlaxcala", "30": "Veracruz", "31": "Yucatán",
    "32": "Zacatecas",
}

# Municipalities created by splitting another, with the parent and the year (INEGI's
# Marco Geoestadístico): before that year their area was counted in the parent's.
SPLITS: dict[str, tuple[str, int, str]] = {
    "23010": ("23004", 2011, "Bacalar, from Othón P. Blanco"),
    "23011": ("23005", 2016, "Puerto Morelos, from Benito Juárez"),
    "02006": ("02001", 2020, "San Quintín, from Ensenada"),
    "02007": ("02001", 2021, "San Felipe, from Ensenada"),
}


@dataclass
class Series:
    frame: pl.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    """Known municipality codes (INEGI's 5-digit ``ent_mun``) and those created by splits."""

    codes: frozenset[str]
    new: frozenset[str] = frozenset()

    @classmethod
    def from_file(cls, path: Path) -> Catalogue:
        rows = list(csv.DictReader(_text(path)))
        return cls(frozenset(r["code"] for r in rows),
                   frozenset(r["code"] for r in rows if r.get("new") == "1"))

    @classmethod
    def from_series(cls, frame: pl.DataFrame) -> Catalogue:
        per = frame.group_by("area_code").agg(pl.col("population").is_null().all().alias("new"))
        return cls(frozenset(per["area_code"].to_list()),
                   frozenset(per.filter(pl.col("new"))["area_code"].to_list()))


def _text(path: Path, encoding: str = "utf-8") -> IO[str]:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    elif path.suffix == ".bz2":
        import bz2

        raw = bz2.decompress(raw)
    try:
        return io.StringIO(raw.decode(encoding).lstrip("\ufeff"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not {encoding} text (byte {exc.start}); "
                           "SESNSP municipal files are latin-1") from None


def _read(path: Path, separator: str, columns: Iterable[str], encoding: str = "utf-8",
          ) -> pl.DataFrame:
    text = _text(path, encoding).read()
    try:
        frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False,
                            null_values=["NA", ""])
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {exc}") from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path}: no column {', '.join(map(repr, missing))} (columns: "
                           f"{', '.join(frame.columns)})")
    return frame.with_row_index("line", offset=2)


def _numbers(frame: pl.DataFrame, cols: Iterable[str], issues: list[RowIssue],
             integer: tuple[str, ...] = ()) -> pl.DataFrame:
    """Cast text columns to numbers; rows with a value that is not one become issues."""
    bad = pl.lit(False)
    for c in cols:
        dtype = pl.Int64 if c in integer else pl.Float64
        bad = bad | (pl.col(c).is_not_null() & pl.col(c).str.strip_chars().str.replace_all(
            ",", "").cast(dtype, strict=False).is_null())
    flagged = frame.filter(bad)
    for row in flagged.iter_rows(named=True):
        values = ", ".join(f"{c}={row[c]!r}" for c in cols)
        issues.append(RowIssue(int(row["line"]), f"not a number: {values}"))
    frame = frame.filter(~bad)
    return frame.with_columns([
        pl.col(c).str.strip_chars().str.replace_all(",", "").cast(
            pl.Int64 if c in integer else pl.Float64) for c in cols])


def _check_codes(frame: pl.DataFrame, catalogue: Catalogue | None, issues: list[RowIssue],
                 warnings: list[RowIssue]) -> pl.DataFrame:
    """Unknown municipality codes are issues; split-off municipalities are warnings, once per
    code (the first line), so a series is not read across a change of boundaries unawares."""
    codes = pl.col("area_code")
    malformed = ~codes.str.contains(r"^\d{5}$") | ~codes.str.slice(0, 2).is_in(sorted(STATES))
    unknown = malformed | (pl.lit(False) if catalogue is None
                           else ~codes.is_in(sorted(catalogue.codes)))
    for row in frame.filter(unknown).select("line", "area_code").iter_rows():
        issues.append(RowIssue(int(row[0]), f"unknown municipality code {row[1]!r}"))
    frame = frame.filter(~unknown)
    new = set(SPLITS) | set(catalogue.new if catalogue else ())
    firsts = (frame.filter(codes.is_in(sorted(new))).group_by("area_code")
              .agg(pl.col("line").min(), pl.col("year").min()).sort("line"))
    for code, line, year in firsts.select("area_code", "line", "year").iter_rows():
        if code in SPLITS:
            parent, since, what = SPLITS[code]
            note = (f"municipality {code} ({what}) was split from {parent} in {since}"
                    + (f"; rows before {since} belong to {parent}'s area" if year < since
                       else ": compare with the parent's series only after it"))
        else:
            note = (f"municipality {code} is recent (no population estimate in the INEGI "
                    "series): a split or a new municipality; rates are not computed")
        warnings.append(RowIssue(int(line), note))
    return frame


def _renamed(frame: pl.DataFrame, warnings: list[RowIssue]) -> None:
    """A code seen under two names (after folding accents and case) was renamed, or the file
    mixes two catalogues: warned at the first line of the second name."""
    from normality import normalize

    seen: dict[str, tuple[str, str]] = {}
    names = frame.select("line", "area_code", "area_name").unique(
        subset=["area_code", "area_name"], keep="first").sort("line")
    for line, code, name in names.iter_rows():
        folded = normalize(name or "", ascii=True) or ""
        if code in seen and seen[code][0] != folded:
            warnings.append(RowIssue(int(line), f"municipality {code} is named {name!r} here "
                                                f"and {seen[code][1]!r} earlier: renamed?"))
        seen.setdefault(code, (folded, name or ""))


def _finish(frame: pl.DataFrame, source: str, level: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(source).alias("source"), pl.lit(level).alias("level")
                              ).select(
        pl.col("source"), pl.col("level"), pl.col("area_code"),
        pl.col("area_name").cast(pl.Utf8), pl.col("crime").cast(pl.Utf8),
        pl.col("year").cast(pl.Int32), pl.col("month").cast(pl.Int8),
        pl.col("count").cast(pl.Int64), pl.col("population").cast(pl.Float64))


def _check_dates(frame: pl.DataFrame, issues: list[RowIssue]) -> pl.DataFrame:
    bad = ~pl.col("month").is_between(1, 12) | ~pl.col("year").is_between(1990, 2100)
    for line, year, month in frame.filter(bad).select("line", "year", "month").iter_rows():
        issues.append(RowIssue(int(line), f"bad year/month {year}/{month}"))
    return frame.filter(~bad)


def read_inegi(path: Path, level: str = "municipality",
               catalogue: Catalogue | None = None) -> Series:
    code = "ent_mun" if level == "municipality" else "cve_ent"
    frame = _read(path, "|", (code, "year", "month", "homicides", "pop_est"))
    issues: list[RowIssue] = []
    warnings: list[RowIssue] = []
    frame = _numbers(frame, ("year", "month", "homicides"), issues,
                     integer=("year", "month", "homicides"))
    frame = _numbers(frame, ("pop_est",), issues)
    frame = _check_dates(frame, issues)
    frame = frame.rename({code: "area_code", "homicides": "count", "pop_est": "population"})
    frame = frame.with_columns(pl.col("area_code").str.zfill(5 if level == "municipality"
                                                             else 2))
    if level == "municipality":
        frame = _check_codes(frame, catalogue, issues, warnings)
    else:
        bad = ~pl.col("area_code").is_in(sorted(STATES))
        for line, c in frame.filter(bad).select("line", "area_code").iter_rows():
            issues.append(RowIssue(int(line), f"unknown state code {c!r}"))
        frame = frame.filter(~bad)
    frame = frame.with_columns(pl.lit(None, pl.Utf8).alias("area_name"),
                               pl.lit(HOMICIDE).alias("crime"))
    return Series(_finish(frame, "inegi", level), issues, warnings)


def read_sesnsp_victims(path: Path) -> Series:
    cols = ("n_year", "n_month", "cve_ent", "nombre_estado", "subtipo_de_delito", "n_victimas")
    frame = _read(path, ",", cols)
    issues: list[RowIssue] = []
    frame = _numbers(frame, ("n_year", "n_month", "n_victimas"), issues,
                     integer=("n_year", "n_month", "n_victimas"))
    frame = frame.rename({"n_year": "year", "n_month": "month"})
    frame = _check_dates(frame, issues)
    frame = frame.with_columns(pl.col("cve_ent").str.zfill(2))
    bad = ~pl.col("cve_ent").is_in(sorted(STATES))
    for line, c in frame.filter(bad).select("line", "cve_ent").iter_rows():
        issues.append(RowIssue(int(line), f"unknown state code {c!r}"))
    frame = frame.filter(~bad)
    frame = (frame.group_by("cve_ent", "year", "month", pl.col("subtipo_de_delito")
                            .str.to_lowercase().alias("crime"))
             .agg(pl.col("nombre_estado").first().alias("area_name"),
                  pl.col("n_victimas").sum().alias("count"))
             .rename({"cve_ent": "area_code"})
             .with_columns(pl.lit(None, pl.Float64).alias("population")))
    return Series(_finish(frame, "sesnsp-victims", "state").sort(
        "area_code", "crime", "year", "month"), issues)


def read_sesnsp_municipal(path: Path, catalogue: Catalogue | None = None,
                          encoding: str = "latin-1") -> Series:
    month_cols = [m.capitalize() for m in MONTHS_ES]
    cols = ("Año", "Clave_Ent", "Cve. Municipio", "Municipio", "Subtipo de delito",
            *month_cols)
    frame = _read(path, ",", cols, encoding=encoding)
    issues: list[RowIssue] = []
    warnings: list[RowIssue] = []
    # A month left blank has not been published yet: absent, not zero.
    frame = _numbers(frame, ("Año", "Clave_Ent", *month_cols), issues,
                     integer=("Año", "Clave_Ent", *month_cols))
    frame = frame.with_columns(pl.col("Cve. Municipio").str.strip_chars().str.zfill(5)
                               .alias("area_code"), pl.col("Municipio").alias("area_name"),
                               pl.col("Año").alias("year"))
    mismatch = pl.col("area_code").str.slice(0, 2) != pl.col("Clave_Ent").cast(pl.Utf8)\
        .str.zfill(2)
    for line, code, ent in frame.filter(mismatch).select("line", "area_code",
                                                          "Clave_Ent").iter_rows():
        issues.append(RowIssue(int(line), f"municipality code {code!r} is not in state "
                                          f"{ent:02d} (Clave_Ent)"))
    frame = frame.filter(~mismatch)
    frame = _check_codes(frame, catalogue, issues, warnings)
    _renamed(frame, warnings)
    long = (frame.unpivot(index=["line", "area_code", "area_name", "year",
                                 "Subtipo de delito"], on=month_cols,
                          variable_name="month_name", value_name="count")
            .filter(pl.col("count").is_not_null())
            .with_columns(pl.col("month_name").str.to_lowercase().replace_strict(
                {m: i + 1 for i, m in enumerate(MONTHS_ES)}, return_dtype=pl.Int8)
                .alias("month"), pl.col("Subtipo de delito").str.to_lowercase()
                .alias("crime")))
    long = (long.group_by("area_code", "year", "month", "crime")
            .agg(pl.col("area_name").first(), pl.col("count").sum())
            .with_columns(pl.lit(None, pl.Float64).alias("population")))
    return Series(_finish(long, "sesnsp", "municipality").sort(
        "area_code", "crime", "year", "month"), issues, warnings)


def read_cdmx_quadrants(path: Path) -> Series:
    frame = _read(path, ",", ("cuadrante", "crime", "date", "count", "population"))
    issues: list[RowIssue] = []
    frame = _numbers(frame, ("count", "population"), issues, integer=("count",))
    date = pl.col("date").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    frame = frame.with_columns(date.alias("day"))
    for line, value in frame.filter(pl.col("day").is_null()).select("line",
                                                                    "date").iter_rows():
        issues.append(RowIssue(int(line), f"bad date {value!r} (expected YYYY-MM-DD)"))
    frame = frame.filter(pl.col("day").is_not_null()).with_columns(
        pl.col("day").dt.year().alias("year"), pl.col("day").dt.month().alias("month"),
        pl.col("cuadrante").alias("area_code"), pl.col("cuadrante").alias("area_name"),
        pl.col("crime").str.to_lowercase())
    return Series(_finish(frame, "ssp-cdmx", "quadrant"), issues)


def read_quadrant_polygons(path: Path) -> dict[str, dict[str, Any]]:
    """Quadrant polygons (a WGS84 shapefile, or GeoJSON, gzip ok) as GeoJSON geometries and
    properties by quadrant id."""
    if path.name.endswith((".geojson", ".geojson.gz", ".json")):
        import json

        try:
            data = json.loads(_text(path).read())
            features = data["features"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}: not a GeoJSON feature collection: {exc}") from None
        out_json: dict[str, dict[str, Any]] = {}
        for n, feature in enumerate(features):
            props = feature.get("properties") or {}
            key = props.get("id") or props.get("cuadrante")
            if not key or not feature.get("geometry"):
                raise InvalidInput(f"{path}: feature {n} has no id or no geometry")
            out_json[str(key)] = {"geometry": feature["geometry"], "properties": props}
        return out_json
    import shapefile

    try:
        reader = shapefile.Reader(str(path))
    except (shapefile.ShapefileException, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable shapefile: {exc}") from None
    fields = [f[0] for f in reader.fields[1:]]
    key = next((f for f in fields if f.lower() in ("cuadrante", "id", "cve_cuad")), fields[0])
    out: dict[str, dict[str, Any]] = {}
    for rec in reader.iterShapeRecords():
        geometry = rec.shape.__geo_interface__
        out[str(rec.record[key])] = {"geometry": geometry,
                                     "properties": dict(zip(fields, rec.record, strict=False))}
    return out


def read_series(fmt: str, path: Path, catalogue: Catalogue | None = None) -> Series:
    if fmt == "inegi-municipal":
        return read_inegi(path, "municipality", catalogue)
    if fmt == "inegi-state":
        return read_inegi(path, "state")
    if fmt == "sesnsp-victims-state":
        return read_sesnsp_victims(path)
    if fmt == "sesnsp-municipal":
        return read_sesnsp_municipal(path, catalogue)
    if fmt == "cdmx-quadrants":
        return read_cdmx_quadrants(path)
    raise InvalidInput(f"unknown homicide format {fmt!r}; expected one of: "
                       f"{', '.join(FORMATS)}")
