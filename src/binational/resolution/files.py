"""Linking person CSV files: what ``binational resolve link`` and ``dedupe`` run.

No platform involved: the files are read, linked on the columns they share and the accepted
pairs written as ``left_id,right_id,match_probability``. Nothing of the input is kept.
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
from binational.resolution.records import read_csv

OUTPUT_HEADER = ("left_id", "right_id", "match_probability")


def link_files(left: Path, right: Path, id_column: str, *, right_id_column: str | None = None,
               threshold: float = DEFAULT_THRESHOLD, max_block: int = DEFAULT_MAX_BLOCK,
               backend: Any = "duckdb", train: bool = False) -> Result:
    """Link the people of two files; ``left_id`` is always an id of the LEFT file."""
    a, map_a = read_csv(left, id_column)
    b, map_b = read_csv(right, right_id_column or id_column)
    shared = map_a.features & map_b.features
    if "name" not in shared:
        raise InvalidInput(f"{left} and {right} share no name columns")
    # Only the columns both files have are compared.
    for column in ("dob", "identifier", "street_number", "street", "locality", "postcode",
                   "state", "phone"):
        if column not in shared:
            a[column] = None
            b[column] = None
    result = link([a, b], threshold=threshold, max_block=max_block, backend=backend,
                  train=train)
    result.pairs = _orient(result.pairs, set(a["unique_id"]), set(b["unique_id"]))
    return result


def dedupe_file(path: Path, id_column: str, *, threshold: float = DEFAULT_THRESHOLD,
                max_block: int = DEFAULT_MAX_BLOCK, backend: Any = "duckdb",
                train: bool = False) -> Result:
    frame, _ = read_csv(path, id_column)
    return link([frame], threshold=threshold, max_block=max_block, backend=backend,
                train=train)


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
