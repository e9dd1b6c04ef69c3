"""Forensic identification: missing persons, unidentified remains, DNA kinship, DVI.

A capability on the core (the core never imports it). Public API::

    load_case(path) -> DviCase                       # DVI case JSON or Familias .fam
    DviSolver(case, mutations="on").solve() -> DviResult   # joint DVI, dvir's conventions
    result_json(result, top=10)                      # the `dvi solve --json` shape
    pairwise_lr(victims, references, relationships, db, theta=0.0)   # many pairs at once
    load_frequencies(path, source, population) -> FrequencyDatabase
    rank(remains, missing, top=10) -> {remains id: [Candidate]}      # attribute matching
    Identification(platform)                         # records, candidates, Prüm queries
        .add_missing / .add_remains / .add_family_sample / .add_profile
        .list_records / .candidates / .dna_candidates
        .query_dna / .query_attributes / .hits / .request_release / .decide / .hit_detail

Internals: ``dna/`` (markers and mutation models, pedigrees, peeling, DVI, Familias reader,
kinship), ``codes`` (controlled descriptions), ``matching``, ``service``, ``tables``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Lazy: the CLI and the migrations import submodules of this package at start-up, and should
# not pay for NumPy and the engine unless they use them.
_EXPORTS = {
    "DviCase": "dna.case",
    "load_case": "dna.case",
    "DviResult": "dna.dvi",
    "DviSolver": "dna.dvi",
    "FrequencyDatabase": "dna.kinship",
    "load_frequencies": "dna.kinship",
    "pairwise_lr": "dna.kinship",
    "result_json": "dna.report",
    "Candidate": "matching",
    "Description": "matching",
    "rank": "matching",
    "Identification": "service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'binational.identification' has no attribute {name!r}")
    return getattr(import_module(f"binational.identification.{module}"), name)
