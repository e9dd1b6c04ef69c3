"""Synthetic, fictional records for the demo, the tests and the benchmark (no real persons).

``world(n, seed)`` makes ``n`` missing-person reports and ``n`` sets of remains, the first
``planted`` of which are the same person (remains found after the disappearance, age carried
forward, stature and marks kept, descriptions lightly perturbed), and a family reference for
each missing person with an STR profile drawn from a frequency database so that the planted
remains are the reference's child, parent or sibling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from binational.identification.codes import EXCLUSIVE, MARKS
from binational.identification.dna.kinship import FrequencyDatabase

STATES = ("MX-JAL", "MX-SON", "MX-CHH", "MX-TAM", "MX-GRO", "MX-BCN", "US-AZ", "US-TX")
RELATIVES = ("mother", "father", "sister", "brother", "son", "daughter")

Genotypes = dict[str, tuple[str, str]]


@dataclass
class World:
    missing: list[dict[str, Any]] = field(default_factory=list)
    remains: list[dict[str, Any]] = field(default_factory=list)
    family: list[dict[str, Any]] = field(default_factory=list)
    remains_dna: dict[str, Genotypes] = field(default_factory=dict)
    family_dna: dict[str, Genotypes] = field(default_factory=dict)
    truth: dict[str, str] = field(default_factory=dict)  # remains id -> missing id


def _allele(rng: random.Random, freqs: dict[str, float]) -> str:
    x = rng.random() * sum(freqs.values())
    for a, f in freqs.items():
        x -= f
        if x <= 0:
            return a
    return next(reversed(freqs))


def random_profile(rng: random.Random, db: FrequencyDatabase, loci: list[str]) -> Genotypes:
    return {lc: (_allele(rng, db.loci[lc]), _allele(rng, db.loci[lc])) for lc in loci}


def child_of(
    rng: random.Random, parent: Genotypes, db: FrequencyDatabase, other: Genotypes | None = None
) -> Genotypes:
    out = {}
    for lc, g in parent.items():
        b = rng.choice(other[lc]) if other else _allele(rng, db.loci[lc])
        out[lc] = (rng.choice(g), b)
    return out


def relative_pair(
    rng: random.Random, relation: str, db: FrequencyDatabase, loci: list[str]
) -> tuple[Genotypes, Genotypes]:
    """(missing person's profile, the relative's profile)."""
    if relation in ("mother", "father"):
        rel = random_profile(rng, db, loci)
        return child_of(rng, rel, db), rel
    if relation in ("son", "daughter"):
        person = random_profile(rng, db, loci)
        return person, child_of(rng, person, db)
    fa, mo = random_profile(rng, db, loci), random_profile(rng, db, loci)
    return child_of(rng, fa, db, mo), child_of(rng, fa, db, mo)


def _codes(rng: random.Random) -> list[str]:
    codes = [f"{c}:{rng.choice(list(v))}" for c, v in EXCLUSIVE.items() if rng.random() < 0.7]
    marks = [f"{c}:{v}" for c, vals in MARKS.items() for v in vals]
    return codes + rng.sample(marks, rng.randint(0, 3))


def world(
    n: int,
    seed: int = 7,
    planted: int | None = None,
    db: FrequencyDatabase | None = None,
    loci: list[str] | None = None,
    prefix: str = "",
    states: tuple[str, ...] = STATES,
) -> World:
    rng = random.Random(seed)  # noqa: S311 - fictional data, not security
    planted = n // 5 if planted is None else planted
    w = World()
    loci = loci or (sorted(db.loci) if db else [])
    for i in range(n):
        sex = rng.choice("MF")
        age = rng.randint(14, 65)
        gone = date(2012, 1, 1) + timedelta(days=rng.randint(0, 4000))
        stature = round(rng.gauss(168 if sex == "M" else 156, 7), 0)
        mid = f"{prefix}MP-{i + 1:05d}"
        codes = _codes(rng)
        w.missing.append(
            {
                "id": mid,
                "folio": f"{prefix}F{rng.randint(10**7, 10**8 - 1)}",
                "sex": sex,
                "age": age,
                "disappeared_on": gone.isoformat(),
                "state": rng.choice(states),
                "municipality": None,
                "stature_cm": stature,
                "codes": codes,
                "description": "Synthetic report (fictional)",
            }
        )
        rid = f"{prefix}PM-{i + 1:05d}"
        if i < planted:
            found = gone + timedelta(days=rng.randint(30, 2500))
            est = age + (found - gone).days / 365.25
            lo = int(est - rng.randint(3, 7))
            rcodes = [c for c in codes if rng.random() < 0.8]
            w.remains.append(
                {
                    "id": rid,
                    "sex": sex if rng.random() < 0.9 else "U",
                    "age_min": max(lo, 0),
                    "age_max": lo + 10,
                    "stature_min_cm": stature - 5,
                    "stature_max_cm": stature + 5,
                    "found_on": found.isoformat(),
                    "state": w.missing[-1]["state"],
                    "grave_ref": f"{prefix}FOSA-{rng.randint(1, 400)}",
                    "codes": rcodes,
                    "description": "Synthetic remains (fictional)",
                }
            )
            w.truth[rid] = mid
        else:
            a = rng.randint(15, 70)
            s = rng.gauss(163, 9)
            w.remains.append(
                {
                    "id": rid,
                    "sex": rng.choice("MFU"),
                    "age_min": a - 5,
                    "age_max": a + 5,
                    "stature_min_cm": round(s - 5),
                    "stature_max_cm": round(s + 5),
                    "found_on": (
                        date(2013, 1, 1) + timedelta(days=rng.randint(0, 4000))
                    ).isoformat(),
                    "state": rng.choice(states),
                    "grave_ref": f"{prefix}FOSA-{rng.randint(1, 400)}",
                    "codes": _codes(rng),
                    "description": "Synthetic remains (fictional)",
                }
            )
        if db is not None:
            relation = rng.choice(RELATIVES)
            sid = f"{prefix}FR-{i + 1:05d}"
            person, rel = relative_pair(rng, relation, db, loci)
            w.family.append(
                {
                    "id": sid,
                    "missing_id": mid,
                    "relationship": relation,
                    "consent_on": "2024-03-01",
                    "consent_purposes": ["missing-persons"],
                    "consent_international": rng.random() < 0.8,
                }
            )
            w.family_dna[sid] = rel
            w.remains_dna[rid] = person if i < planted else random_profile(rng, db, loci)
    return w
