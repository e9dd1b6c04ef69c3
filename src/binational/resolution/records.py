"""Person records as the linkage pipeline reads them: one frame of standardised columns.

Any CSV of people (FEBRL, an agency's export, the platform's own FtM entities) is mapped onto
the same columns, so one Splink model definition serves every source:

- names: ``given`` (first given name), ``given2`` (the rest), ``surname1`` (paternal) and
  ``surname2`` (maternal), folded (accents off, particles dropped) with the screening
  capability's Hispanic name analysis, plus Spanish phonetic keys; a full name in one column
  is split the Hispanic way (the last two words are the surnames);
- ``dob`` as ``YYYY-MM-DD`` where it parses (otherwise the digits as given, which still
  compare by edit distance); ``identifier`` as a compact CURP / RFC / national number;
- address parts, ``postcode`` and ``phone`` (the last ten digits).

Values are standardised once per distinct value (a million records carry far fewer distinct
names), which is what keeps a million-record run inside its budget.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from stdnum.mx import curp as mx_curp

from binational.core.errors import InvalidInput
from binational.screening.names import (
    IN_WORD_APOSTROPHE,
    PARTICLES,
    analyze,
    phonetic_key,
    words,
)

# The standard columns, in the order the pipeline writes them.
NAME_COLUMNS = ("given", "given2", "surname1", "surname2")
COLUMNS = ("unique_id", *NAME_COLUMNS, "given_ph", "surname1_ph", "surname2_ph", "surname_last",
           "dob", "identifier", "street_number", "street", "locality", "postcode", "state", "phone")

# Header synonyms (folded, spaces as underscores) for each source column we understand.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "given": ("given_name", "first_name", "firstname", "given", "forename", "nombre",
              "nombres", "first"),
    "surname": ("surname", "last_name", "lastname", "family_name", "apellidos", "last"),
    "surname1": ("apellido_paterno", "paternal_surname", "father_name", "fathername",
                 "primer_apellido", "surname1"),
    "surname2": ("apellido_materno", "maternal_surname", "mother_name", "mothername",
                 "segundo_apellido", "surname2"),
    "name": ("name", "full_name", "fullname", "nombre_completo", "person_name"),
    "dob": ("date_of_birth", "dob", "birth_date", "birthdate", "fecha_nacimiento",
            "fecha_de_nacimiento"),
    "identifier": ("curp", "rfc", "soc_sec_id", "ssn", "national_id", "id_number",
                   "identifier", "idnumber", "tax_number", "passport", "passport_number"),
    "street_number": ("street_number", "house_number", "numero", "num_ext"),
    "street": ("address_1", "street", "address", "street_address", "calle", "domicilio"),
    "locality": ("address_2", "suburb", "city", "town", "locality", "colonia", "municipio",
                 "ciudad"),
    "postcode": ("postcode", "postal_code", "zip", "zipcode", "zip_code", "codigo_postal", "cp"),
    "state": ("state", "estado", "province", "region"),
    "phone": ("phone", "telephone", "phone_number", "telefono", "mobile", "celular"),
}
# At least one of these must be present: without a name a person record cannot be linked.
NAME_SOURCES = ("given", "surname", "surname1", "surname2", "name")
DIGITS = re.compile(r"\d+")
CURP_SHAPE = re.compile(r"^[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d$")


@dataclass(frozen=True)
class Mapping:
    """Which source header feeds which standard column (``None``: absent)."""

    id_column: str
    columns: dict[str, str]

    @property
    def features(self) -> set[str]:
        """The standard fields this source has (names count as one 'name' feature)."""
        out = {k for k in self.columns if k not in NAME_SOURCES}
        if any(k in self.columns for k in NAME_SOURCES):
            out.add("name")
        return out


def header_key(header: str) -> str:
    return "_".join(words(header))


def map_columns(headers: Sequence[str], id_column: str, source: str = "input",
                synonyms: dict[str, tuple[str, ...]] | None = None,
                name_sources: Sequence[str] = NAME_SOURCES,
                no_name: str = "no name column (expected one of: given_name, surname, "
                "first_name, last_name, name, nombre, apellido_paterno ...)") -> Mapping:
    """Map a CSV header onto the standard columns; a clear error when it cannot be used."""
    keys = {header_key(h): h for h in headers if h is not None}
    id_key = header_key(id_column)
    if id_key not in keys:
        raise InvalidInput(f"{source}: no id column {id_column!r} (columns: "
                           f"{', '.join(h.strip() for h in headers) or 'none'})")
    columns: dict[str, str] = {}
    for field, names in (synonyms or SYNONYMS).items():
        for name in names:
            if name in keys and keys[name] != keys[id_key]:
                columns[field] = keys[name]
                break
    if not any(k in columns for k in name_sources):
        raise InvalidInput(f"{source}: {no_name}")
    return Mapping(keys[id_key], columns)


def read_header(path: Path) -> list[str]:
    """The header line of a CSV file (a clear error when there is none)."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh, skipinitialspace=True), None)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: malformed CSV: {exc}") from None
    if not header:
        raise InvalidInput(f"{path}: empty file (no header line)")
    return header


def read_raw(path: Path, id_column: str,
             mapper: Callable[[Sequence[str], str, str], Mapping]
             ) -> tuple[pd.DataFrame, Mapping]:
    """A CSV file's records as raw standard columns (``mapper`` maps the header). Duplicate
    or empty ids are an error naming the line."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = next(reader, None)
            if not header:
                raise InvalidInput(f"{path}: empty file (no header line)")
            mapping = mapper(header, id_column, str(path))
            index = {h: i for i, h in enumerate(header)}
            raw: dict[str, list[str]] = {k: [] for k in ("unique_id", *mapping.columns)}
            seen: set[str] = set()
            width = len(header)
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != width:
                    raise InvalidInput(f"{path}:{line}: {len(row)} fields where the header "
                                       f"has {width}")
                uid = row[index[mapping.id_column]].strip()
                if not uid:
                    raise InvalidInput(f"{path}:{line}: empty id in column "
                                       f"{mapping.id_column.strip()!r}")
                if uid in seen:
                    raise InvalidInput(f"{path}:{line}: id {uid!r} appears twice")
                seen.add(uid)
                raw["unique_id"].append(uid)
                for field, col in mapping.columns.items():
                    raw[field].append(row[index[col]].strip())
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: malformed CSV: {exc}") from None
    if not raw["unique_id"]:
        raise InvalidInput(f"{path}: no records")
    return pd.DataFrame(raw), mapping


def read_csv(path: Path, id_column: str) -> tuple[pd.DataFrame, Mapping]:
    """Read a person CSV (any encoding-safe UTF-8, headers and cells trimmed) into the
    standard frame. Duplicate or empty ids are an error naming the line."""
    raw, mapping = read_raw(path, id_column, map_columns)
    return standardise(raw), mapping


# -- standardisation ----------------------------------------------------------------------------


ASCII_WORD = re.compile(r"[a-z0-9]+")
# What normality's category replacement deletes (rather than makes a space) among ASCII
# characters: currency symbols and modifier symbols.
ASCII_DELETED = str.maketrans("", "", "$^`")


def fast_words(value: str) -> list[str]:
    """``screening.names.words`` (folded words), with a fast path for ASCII text (most
    values of most files), which normality would hand back folded the same way."""
    if value.isascii():
        value = IN_WORD_APOSTROPHE.sub("", value)  # (O'Brien is one word, as in screening)
        return ASCII_WORD.findall(value.lower().translate(ASCII_DELETED))
    return words(value)


def _per_value(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct value (records share most of their values)."""
    uniques = series.dropna().unique()
    table = {v: fn(v) for v in uniques}
    return series.map(table)


@lru_cache(maxsize=262144)
def name_words(value: str) -> tuple[str, ...]:
    """Folded words of a name part, particles and punctuation out (``de la Cruz`` -> cruz)."""
    return tuple(w for w in fast_words(value) if w not in PARTICLES)


@lru_cache(maxsize=262144)
def split_full_name(value: str) -> tuple[str | None, str | None, str | None, str | None]:
    """A whole name into (given, given2, surname1, surname2), the Hispanic way."""
    analysed = analyze(value)
    given = [t.text for t in analysed.tokens if not t.surname]
    surnames = [t.text for t in analysed.tokens if t.surname]
    return (given[0] if given else None, " ".join(given[1:]) or None,
            surnames[0] if surnames else None, surnames[1] if len(surnames) > 1 else None)


def parse_dob(value: str) -> str | None:
    """``YYYY-MM-DD`` from the usual layouts (ISO, YYYYMMDD, DD/MM/YYYY); otherwise the digits
    as written (a typo'd date still compares by edit distance); ``None`` when empty."""
    digits = "".join(DIGITS.findall(value))
    if not digits:
        return None
    parts = DIGITS.findall(value)
    if len(parts) == 3:
        a, b, c = parts
        if len(a) == 4:
            y, m, d = a, b, c
        elif len(c) == 4:  # DD/MM/YYYY, the Mexican and the European order
            y, m, d = c, b, a
        else:
            return digits
        if 1 <= int(m) <= 12 and 1 <= int(d) <= 31:
            return f"{y}-{int(m):02d}-{int(d):02d}"
        return digits
    if len(digits) == 8 and 1 <= int(digits[4:6]) <= 12 and 1 <= int(digits[6:]) <= 31:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return digits


def clean_identifier(value: str) -> str | None:
    """An identifier's letters and digits, upper-cased (the compact form python-stdnum gives
    a CURP or RFC): a typo'd number still compares by edit distance."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper() or None


def curp_birth_date(identifier: str | None) -> str | None:
    """The date of birth a valid CURP encodes (python-stdnum checks it), else ``None``."""
    if not identifier or len(identifier) != 18 or not CURP_SHAPE.match(identifier):
        return None
    try:
        return str(mx_curp.get_birth_date(mx_curp.validate(identifier)).isoformat())
    except ValueError:  # stdnum's ValidationError is a ValueError
        return None


def clean_phone(value: str) -> str | None:
    digits = "".join(DIGITS.findall(value))
    return digits[-10:] if len(digits) >= 7 else None


def clean_text(value: str) -> str | None:
    return " ".join(fast_words(value)) or None


def _first(value: str) -> str | None:
    return value.split(" ")[0] or None


def _rest(value: str) -> str | None:
    return " ".join(value.split(" ")[1:]) or None


def source_columns(raw: pd.DataFrame) -> Callable[[str], pd.Series]:
    """A raw column by its standard name, blank values as None (all None when the file has
    no such column)."""
    empty = pd.Series([None] * len(raw), index=raw.index, dtype=object)

    def col(name: str) -> pd.Series:
        if name not in raw:
            return empty
        return raw[name].where(raw[name].astype(str).str.strip() != "", None)

    return col


def _phonetic(value: str) -> str | None:
    return phonetic_key(value.split(" ")[0]) if value else None


def standardise(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw source columns (standard names, raw strings) to the standard frame."""
    out = pd.DataFrame({"unique_id": raw["unique_id"].astype(str)})
    col = source_columns(raw)
    given = _per_value(col("given"), lambda v: " ".join(name_words(v)) or None)
    surname = _per_value(col("surname"), lambda v: " ".join(name_words(v)) or None)
    s1 = _per_value(col("surname1"), lambda v: " ".join(name_words(v)) or None)
    s2 = _per_value(col("surname2"), lambda v: " ".join(name_words(v)) or None)
    # "Surname" alone may hold both surnames (García López): the first is the paternal one.
    s1 = s1.fillna(_per_value(surname, _first))
    s2 = s2.fillna(_per_value(surname, _rest))
    out["given"] = _per_value(given, _first)
    out["given2"] = _per_value(given, _rest)
    out["surname1"], out["surname2"] = s1, s2
    if "name" in raw:
        parts = _per_value(col("name"), split_full_name)
        for i, field in enumerate(NAME_COLUMNS):
            split = _per_value(parts, lambda p, i=i: p[i])  # type: ignore[misc]
            out[field] = out[field].fillna(split)
    # The last surname a record has: the maternal one, or the only one. Blocking on it finds
    # the records whose paternal surname was dropped (Cervantes for Oseguera Cervantes).
    out["surname_last"] = out["surname2"].fillna(out["surname1"])
    out["given_ph"] = _per_value(out["given"], _phonetic)
    out["surname1_ph"] = _per_value(out["surname1"], _phonetic)
    out["surname2_ph"] = _per_value(out["surname2"], _phonetic)
    out["dob"] = _per_value(col("dob"), parse_dob)
    out["identifier"] = _per_value(col("identifier"), clean_identifier)
    # A CURP carries the date of birth: fill it in where the record has none.
    out["dob"] = out["dob"].fillna(_per_value(out["identifier"], curp_birth_date))
    out["street_number"] = _per_value(col("street_number"), clean_text)
    out["street"] = _per_value(col("street"), clean_text)
    out["locality"] = _per_value(col("locality"), clean_text)
    out["postcode"] = _per_value(col("postcode"), lambda v: clean_text(v.replace(" ", "")))
    out["state"] = _per_value(col("state"), clean_text)
    out["phone"] = _per_value(col("phone"), clean_phone)
    return out[list(COLUMNS)].astype(object).where(out[list(COLUMNS)].notna(), None)


def from_rows(rows: Iterable[dict[str, str]]) -> pd.DataFrame:
    """The standard frame from dicts keyed by standard source fields (``unique_id``, ``given``,
    ``surname``, ``name``, ``dob`` ...), e.g. built from FtM entities."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    return standardise(frame)
