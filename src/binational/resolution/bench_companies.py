"""Company linkage measured on real lists: the organisations of two OFAC SDN versions.

The SDN list of 7 July 2021 (``sdn.csv`` with ``alt.csv`` and ``add.csv``) and the one of
3 May 2024 (``sdn.csv`` alone) are read with the ``ofac-csv`` ingest format;
the Company, Organization and LegalEntity entries are kept. OFAC's entry number (``ent_num``)
is stable across versions, so it gives the truth: two records are the same company when
they carry the same number. Entries listed in only one version are the non-matches.

- **versions**: 2021's primary names (with its identifiers and the country of its
  addresses) linked to 2024's (identifiers from the remarks; no addresses in that file).
- **aliases**: every alias of a 2021 entry (``alt.csv``: a.k.a., f.k.a., n.k.a.) whose
  words differ from its primary name's, as a record of its own, linked to 2024's primary
  names; once with the identifiers and once on the name alone. Many aliases are
  acronyms or former names no name comparison can recover: this is the hard case.

Next to ours, the simplest baseline: the same name once folded (rigour's normalisation,
legal form written one way).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from binational.resolution import companies
from binational.resolution.pipeline import DEFAULT_THRESHOLD, link

OLD, NEW = "ofac_sdn_2021-07-07", "ofac_sdn_2024-05-03.csv"


def load_organisations(path: Path) -> dict[str, Any]:
    """The organisations of one OFAC SDN version, by id, parsed as the platform ingests
    them (the ``ofac-csv`` format, found through the core's format registry)."""
    from binational.core.ingest import get_format

    out: dict[str, Any] = {}
    for item in get_format("ofac-csv")().records(path, {}):
        entity = getattr(item, "entity", None)
        if entity is None or not entity.schema.is_a("LegalEntity") or \
                entity.schema.is_a("Person"):
            continue
        out[str(entity.id)] = entity
    return out


def alias_rows(entities: dict[str, Any]) -> list[dict[str, str]]:
    """One record per alias whose words differ from the primary name's (id ``N#k``)."""
    from binational.resolution.service import company_row

    rows = []
    for eid, entity in entities.items():
        row = company_row(entity)
        core = companies.analyse_name(row["name"])[1]
        for k, alias in enumerate(sorted(entity.get("alias", quiet=True))):
            if companies.analyse_name(alias)[1] != core:
                rows.append({**row, "unique_id": f"{eid}#{k}", "name": alias})
    return rows


def _entity(uid: str) -> str:
    return uid.split("#")[0]


def score(pairs: set[tuple[str, str]], left: pd.DataFrame, right: pd.DataFrame
          ) -> dict[str, Any]:
    """Precision, recall, F1 against the entry numbers; and two diagnostics: the false
    pairs whose names are the same once folded (distinct entries OFAC lists under one
    name: no name comparison can tell them apart), and the recall on the true pairs whose
    names share a word (the rest are translations, acronyms, former names)."""
    left_ids = set(left["unique_id"])
    true = {(_entity(r), r) for r in right["unique_id"] if _entity(r) in left_ids}
    tp = len(pairs & true)
    p = tp / len(pairs) if pairs else 0.0
    r = tp / len(true) if true else 0.0
    core_l = dict(zip(left["unique_id"], left["name_core"], strict=True))
    core_r = dict(zip(right["unique_id"], right["name_core"], strict=True))
    same_name = sum(1 for a, b in pairs - true if core_l[a] and core_l[a] == core_r[b])

    def words(name: str | None) -> set[str]:
        return set((name or "").split())

    sharing = {(a, b) for a, b in true if words(core_l[a]) & words(core_r[b])}
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0, "pairs": len(pairs),
            "true_pairs": len(true), "false_pairs_same_name": same_name,
            "true_pairs_sharing_a_word": len(sharing),
            "recall_sharing_a_word": round(len(pairs & sharing) / len(sharing), 4)
            if sharing else 0.0}


def exact_baseline(left: pd.DataFrame, right: pd.DataFrame) -> set[tuple[str, str]]:
    """Pairs whose folded names (legal form written one way) are equal."""
    index: dict[str, list[str]] = {}
    for uid, name in zip(left["unique_id"], left["name"], strict=True):
        if name:
            index.setdefault(name, []).append(uid)
    return {(a, b) for b, name in zip(right["unique_id"], right["name"], strict=True)
            for a in index.get(name or "", [])}


def run_task(left: pd.DataFrame, right: pd.DataFrame, threshold: float) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = link([left, right], kind="company", threshold=threshold)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    left_ids = set(left["unique_id"])
    pairs = set()
    for a, b in zip(result.pairs["left_id"], result.pairs["right_id"], strict=True):
        a, b = str(a), str(b)
        pairs.add((a, b) if a in left_ids else (b, a))
    return {"binational": {**score(pairs, left, right), "seconds": round(seconds, 3),
                           "cpu_seconds": round(cpu, 3),
                           "candidates": sum(b.pairs for b in result.blocking),
                           "features": result.features},
            "exact-name": score(exact_baseline(left, right), left, right),
            "records": [len(left), len(right)]}


def bench_companies(data_dir: Path, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    from binational.resolution.service import company_row

    folder = data_dir / "sanctions"
    old, new = load_organisations(folder / OLD), load_organisations(folder / NEW)
    new_frame = companies.from_rows(company_row(e) for e in new.values())
    old_frame = companies.from_rows(company_row(e) for e in old.values())
    aliases = companies.from_rows(alias_rows(old))
    no_ids = aliases.copy()
    for frame in (no_ids,):
        for column in ("identifier", "id_key", "founded", "country", "street", "locality",
                       "phone", "postcode", "state"):
            frame[column] = None
    bare_new = new_frame.copy()
    for column in ("identifier", "id_key", "founded"):
        bare_new[column] = None
    return {
        "source": f"{OLD} ({len(old):,} organisations) and {NEW} ({len(new):,})",
        "threshold": threshold,
        "versions": run_task(new_frame, old_frame, threshold),
        "aliases": run_task(new_frame, aliases, threshold),
        "aliases_name_only": run_task(bare_new, no_ids, threshold),
    }
