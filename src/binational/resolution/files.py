"""Linking CSV files of people or of companies: what ``binational resolve link`` and
``dedupe`` run.

No platform involved: the files are read, linked on the columns they share and the accepted
pairs written as ``left_id,right_id,match_probability``. Nothing of the input is kept.
Files hold people unless ``schema`` says companies, or (``auto``) their headers do: a
company column (company_name, razon_social, legal_form, ein ...) and no person's name part.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from binational.core.errors import InvalidInput
from binational.resolution.pipeline import (
    DEFAULT_MAX_BLOCK,
    DEFAULT_THRESHOLD,
    LEFT,
    Result,
    link,
)
from binational.resolution.records import read_csv, read_header

OUTPUT_HEADER = ("left_id", "right_id", "match_probability")
SCHEMATA = {"person": "person", "company": "company", "organization": "company",
            "organisation": "company", "legalentity": "company"}
PERSON_FIELDS = ("dob", "identifier", "street_number", "street", "locality", "postcode",
                 "state", "phone")


def kind_of(schema: str, paths: list[Path]) -> str:
    """``person`` or ``company``: from ``schema`` (auto, Person, Company, Organization,
    LegalEntity, any case), or for ``auto`` from the files' headers."""
    key = schema.strip().lower().replace("_", "").replace("-", "")
    if key == "auto":
        from binational.resolution.companies import is_company_header

        return "company" if all(is_company_header(read_header(p)) for p in paths) \
            else "person"
    if key not in SCHEMATA:
        raise InvalidInput(f"unknown schema {schema!r} (auto, Person, Company, Organization "
                           "or LegalEntity)")
    return SCHEMATA[key]


def _read(path: Path, id_column: str, kind: str) -> tuple[pd.DataFrame, set[str], list[str]]:
    """A file as the standard frame of its kind, the fields it has, and the optional
    fields of that kind."""
    if kind == "company":
        from binational.resolution import companies

        frame, mapping = companies.read_csv(path, id_column)
        # The legal form comes from the name too; the date of incorporation from an RFC.
        fields = set(mapping.columns) | {"legal_form", "legal_kind"}
        if "identifier" in fields:
            fields.add("founded")
        return frame, fields, ["legal_form", "legal_kind", "identifier", "founded", "street",
                               "locality", "postcode", "state", "country", "phone"]
    frame, mapping = read_csv(path, id_column)
    return frame, mapping.features, list(PERSON_FIELDS)


def link_files(left: Path, right: Path, id_column: str, *, right_id_column: str | None = None,
               threshold: float = DEFAULT_THRESHOLD, max_block: int = DEFAULT_MAX_BLOCK,
               backend: Any = "duckdb", train: bool = False, schema: str = "auto") -> Result:
    """Link the people (or companies) of two files; ``left_id`` is always an id of the LEFT
    file."""
    kind = kind_of(schema, [left, right])
    a, fields_a, optional = _read(left, id_column, kind)
    b, fields_b, _ = _read(right, right_id_column or id_column, kind)
    shared = fields_a & fields_b
    if kind == "person" and "name" not in shared:
        raise InvalidInput(f"{left} and {right} share no name columns")
    # Only the columns both files have are compared.
    for column in optional:
        if column not in shared:
            a[column] = None
            b[column] = None
    if kind == "company" and "identifier" not in shared:
        a["id_key"] = None
        b["id_key"] = None
    result = link([a, b], threshold=threshold, max_block=max_block, backend=backend,
                  train=train, kind=kind)
    result.pairs = _orient(result.pairs, set(a["unique_id"]), set(b["unique_id"]))
    return result


def dedupe_file(path: Path, id_column: str, *, threshold: float = DEFAULT_THRESHOLD,
                max_block: int = DEFAULT_MAX_BLOCK, backend: Any = "duckdb",
                train: bool = False, schema: str = "auto") -> Result:
    kind = kind_of(schema, [path])
    frame, _, _ = _read(path, id_column, kind)
    return link([frame], threshold=threshold, max_block=max_block, backend=backend,
                train=train, kind=kind)


def _orient(pairs: pd.DataFrame, left_ids: set[str], right_ids: set[str]) -> pd.DataFrame:
    """Splink orders a linked pair by its inputs' names; make sure left is LEFT's id."""
    if pairs.empty or "source_dataset_l" not in pairs:
        return pairs
    swap = pairs["source_dataset_l"] != LEFT
    out = pairs.copy()
    out.loc[swap, ["left_id", "right_id"]] = pairs.loc[swap, ["right_id", "left_id"]].values
    return out


def write_pairs(result: Result, output: Path) -> int:
    try:
        with output.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(OUTPUT_HEADER)
            for row in result.pairs[["left_id", "right_id", "match_probability"]].itertuples(
                    index=False):
                writer.writerow((row[0], row[1], f"{float(row[2]):.6f}"))
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None
    return len(result.pairs)
