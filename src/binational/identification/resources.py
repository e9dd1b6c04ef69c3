"""Where the identification data files are: allele frequencies and the bundled DVI cases."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from binational.core.errors import InvalidInput, NotFound
from binational.identification.dna.kinship import (
    DEFAULT_DATABASES,
    FrequencyDatabase,
    load_frequencies,
)

FREQUENCY_FILE = "identification/frequencies/hispanic_str.csv"
CASE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def data_dir() -> Path | None:
    from binational.core.cli.demo import demo_source_dir

    return demo_source_dir()


@cache
def default_frequencies(which: int = 0) -> FrequencyDatabase:
    """NIST 1036 Hispanic (0) or FBI 2015 SW Hispanic (1), from data/demo."""
    base = data_dir()
    path = base / FREQUENCY_FILE if base else None
    if path is None or not path.exists():
        raise InvalidInput(f"the allele frequency file data/demo/{FREQUENCY_FILE} is missing")
    source, population = DEFAULT_DATABASES[which]
    return load_frequencies(path, source, population)


def database(name: str | None) -> FrequencyDatabase:
    """``nist-hispanic`` (default) or ``fbi-sw-hispanic``."""
    choices = {"nist-hispanic": 0, "fbi-sw-hispanic": 1}
    key = (name or "nist-hispanic").strip().lower()
    if key not in choices:
        raise InvalidInput(f"unknown frequency database {name!r}; one of: {', '.join(choices)}")
    return default_frequencies(choices[key])


def dvi_cases() -> dict[str, Path]:
    base = data_dir()
    folder = base / "identification" / "dvi" if base else None
    if folder is None or not folder.is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(folder.iterdir())
        if p.suffix in (".json", ".fam") and p.stem != "KNOWN_ANSWERS"
    }


def dvi_case(name: str) -> Path:
    if not CASE_NAME.match(name):
        raise InvalidInput("a case name is letters, digits, '.', '_' or '-'")
    found = dvi_cases().get(name)
    if found is None:
        raise NotFound(f"no bundled DVI case {name!r}")
    return found
