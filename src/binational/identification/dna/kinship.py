"""Pairwise kinship LRs between many profiles at once, and allele frequency databases.

For two persons whose relationship has IBD coefficients ``(k0, k1, k2)`` (parent-child
``(0, 1, 0)``, full siblings ``(1/4, 1/2, 1/4)``, half siblings, grandparent and uncle
``(1/2, 1/2, 0)``, first cousins ``(3/4, 1/4, 0)``) the likelihood ratio against unrelated is,
per marker, ``(k0 P0 + k1 P1 + k2 P2) / P0`` with ``Pi`` the probability of the two genotypes
sharing ``i`` alleles identical by descent. Alleles are drawn with the Balding-Nichols
sampling formula ``P(a | n seen, m of them a) = (m theta + (1 - theta) p_a) / (1 + (n - 1)
theta)`` (NRC II 4.10), so ``theta = 0`` gives the Hardy-Weinberg formulas and ``theta > 0``
the population-structure correction. Markers multiply (no linkage); a marker untyped in
either person contributes 1. Mutation is not modelled here (a parent-child inconsistency
gives LR 0): use the pedigree engine (``likelihood.py``) for that.

The LRs of V victims against R references are computed marker by marker on V x R arrays.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from binational.core.errors import InvalidInput
from binational.identification.dna.markers import MIN_ALLELE_FREQUENCY

RELATIONSHIPS: dict[str, tuple[float, float, float]] = {
    "parent-child": (0.0, 1.0, 0.0),
    "full-siblings": (0.25, 0.5, 0.25),
    "half-siblings": (0.5, 0.5, 0.0),
    "grandparent": (0.5, 0.5, 0.0),
    "uncle": (0.5, 0.5, 0.0),
    "first-cousins": (0.75, 0.25, 0.0),
    "identical": (0.0, 0.0, 1.0),
    "unrelated": (1.0, 0.0, 0.0),
}

# Relationship of a reference relative to the missing person -> IBD coefficients.
RELATIVE_TO_RELATIONSHIP = {
    "mother": "parent-child",
    "father": "parent-child",
    "son": "parent-child",
    "daughter": "parent-child",
    "child": "parent-child",
    "parent": "parent-child",
    "brother": "full-siblings",
    "sister": "full-siblings",
    "sibling": "full-siblings",
    "half-sibling": "half-siblings",
    "grandparent": "grandparent",
    "grandchild": "grandparent",
    "uncle": "uncle",
    "aunt": "uncle",
    "nephew": "uncle",
    "niece": "uncle",
    "cousin": "first-cousins",
    "self": "identical",
}

DEFAULT_DATABASES = (("NIST1036_rev2017", "Hisp"), ("FBI2015_Moretti2016", "SW Hispanic"))

Profile = Mapping[str, tuple[str, str]]


@dataclass
class FrequencyDatabase:
    """Allele frequencies per locus of one population."""

    name: str
    loci: dict[str, dict[str, float]]
    min_frequency: float = MIN_ALLELE_FREQUENCY

    def frequency(self, locus: str, allele: str) -> float:
        """An allele the database lacks gets the minimum frequency (NRC II's 5/2N floor)."""
        return self.loci[locus].get(allele, self.min_frequency)


def load_frequencies(path: Path, source: str, population: str) -> FrequencyDatabase:
    """Read one population from a long CSV (``source,population,locus,allele,frequency``)."""
    loci: dict[str, dict[str, float]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            need = {"source", "population", "locus", "allele", "frequency"}
            if not reader.fieldnames or not need <= set(reader.fieldnames):
                raise InvalidInput(f"{path.name}: needs columns {', '.join(sorted(need))}")
            for row in reader:
                if row["source"] != source or row["population"] != population:
                    continue
                try:
                    f = float(row["frequency"])
                except ValueError:
                    raise InvalidInput(
                        f"{path.name} line {reader.line_num}: frequency {row['frequency']!r}"
                    ) from None
                if not 0 <= f <= 1:
                    raise InvalidInput(f"{path.name} line {reader.line_num}: frequency {f}")
                loci.setdefault(row["locus"], {})[row["allele"]] = f
    except FileNotFoundError:
        raise InvalidInput(f"file not found: {path}") from None
    if not loci:
        raise InvalidInput(f"{path.name}: no frequencies for {source} / {population}")
    return FrequencyDatabase(f"{source} {population}", loci)


def _encode(profiles: Sequence[Profile], locus: str, alleles: dict[str, int]) -> NDArray[np.intp]:
    out = np.full((len(profiles), 2), -1, dtype=np.intp)
    for i, p in enumerate(profiles):
        g = p.get(locus)
        if g is None:
            continue
        for k in (0, 1):
            a = g[k]
            if a not in alleles:
                alleles[a] = len(alleles)
            out[i, k] = alleles[a]
    return out


def pairwise_lr(
    victims: Sequence[Profile],
    references: Sequence[Profile],
    relationships: Sequence[str] | str,
    db: FrequencyDatabase,
    theta: float = 0.0,
    loci: Sequence[str] | None = None,
) -> NDArray[np.float64]:
    """``LR[i, j]``: victim ``i`` is the given relative of reference ``j`` vs unrelated.

    ``relationships`` is one name for all references or one per reference.
    """
    if not 0 <= theta < 1:
        raise InvalidInput(f"theta must be in [0, 1): {theta}")
    rels = (
        [relationships] * len(references) if isinstance(relationships, str) else list(relationships)
    )
    if len(rels) != len(references):
        raise InvalidInput("one relationship per reference profile")
    for r in rels:
        if r not in RELATIONSHIPS:
            raise InvalidInput(f"unknown relationship {r!r}; one of: {', '.join(RELATIONSHIPS)}")
    k = np.array([RELATIONSHIPS[r] for r in rels])  # (R, 3)
    k0, k1, k2 = (k[:, i][None, :] for i in range(3))
    use = loci if loci is not None else sorted(db.loci)
    log_lr = np.zeros((len(victims), len(references)))
    for locus in use:
        if locus not in db.loci:
            raise InvalidInput(f"locus {locus} is not in the frequency database {db.name}")
        index: dict[str, int] = {}
        v = _encode(victims, locus, index)
        ref = _encode(references, locus, index)
        if (v[:, 0] < 0).all() or (ref[:, 0] < 0).all():
            continue
        p = np.array([db.frequency(locus, a) for a in sorted(index, key=index.__getitem__)])
        lr = _locus_lr(v, ref, p, theta, k0, k1, k2)
        typed = (v[:, 0] >= 0)[:, None] & (ref[:, 0] >= 0)[None, :]
        with np.errstate(divide="ignore"):
            log_lr += np.where(typed, np.log(lr), 0.0)
    return np.exp(log_lr)


def _locus_lr(
    v: NDArray[np.intp],
    r: NDArray[np.intp],
    p: NDArray[np.float64],
    theta: float,
    k0: NDArray[np.float64],
    k1: NDArray[np.float64],
    k2: NDArray[np.float64],
) -> NDArray[np.float64]:
    t = theta
    v1, v2 = np.maximum(v[:, 0], 0)[:, None], np.maximum(v[:, 1], 0)[:, None]
    r1, r2 = np.maximum(r[:, 0], 0)[None, :], np.maximum(r[:, 1], 0)[None, :]
    pv1, pv2 = p[v1], p[v2]
    rhet = r1 != r2
    vhet = v1 != v2

    def draw(p_a: NDArray[np.float64], m: NDArray[np.float64], n: int) -> NDArray[np.float64]:
        return np.asarray((m * t + (1 - t) * p_a) / (1 + (n - 1) * t), dtype=np.float64)

    # P0 / P(r): the victim's two alleles drawn after the reference's two.
    c_v1 = (v1 == r1).astype(float) + (v1 == r2)
    c_v2 = (v2 == r1).astype(float) + (v2 == r2) + (v2 == v1)
    p0 = np.where(vhet, 2.0, 1.0) * draw(pv1, c_v1, 2) * draw(pv2, c_v2, 3)
    # P1 / P(r): one of r's alleles (1/2 each) is the victim's, the other victim allele drawn.
    c_for_v2 = (v2 == r1).astype(float) + (v2 == r2)
    c_for_v1 = c_v1
    t_v2 = draw(pv2, c_for_v2, 2)  # victim's v2 is the new draw (v1 shared)
    t_v1 = draw(pv1, c_for_v1, 2)

    def shared(s: NDArray[np.intp]) -> NDArray[np.float64]:
        het_term = (v1 == s) * t_v2 + (v2 == s) * t_v1
        hom_term = (v1 == s) * t_v1
        return np.asarray(np.where(vhet, het_term, hom_term), dtype=np.float64)

    p1 = np.where(rhet, 0.5 * (shared(r1) + shared(r2)), shared(r1))
    p2 = ((v1 == r1) & (v2 == r2) | (v1 == r2) & (v2 == r1)).astype(float)
    # P2 / P(r) = [v == r]; P(r) is common to the three and cancels in the ratio.
    return np.asarray((k0 * p0 + k1 * p1 + k2 * p2) / p0, dtype=np.float64)
