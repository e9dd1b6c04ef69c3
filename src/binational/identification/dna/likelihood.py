"""Pedigree likelihood of STR genotypes by peeling (variable elimination).

Each person carries two allele variables, the allele from the father and the allele from the
mother. Given the parents these are independent, so the joint distribution factorises into
small pieces: the founders' allele frequencies (Hardy-Weinberg), one transmission factor per
allele of a non-founder, ``P(child allele c | parent alleles a, b) = (M[a, c] + M[b, c]) / 2``
with the parent's sex-specific mutation matrix ``M`` (the identity without mutation), and one
indicator per typed person that the unordered pair of its two alleles is its genotype. Summing
the variables out one by one in a greedy order (the smallest resulting table first) is the
Elston-Stewart peeling for pedigrees without loops and Lander-Green style elimination for
those with marriage loops; the tables are NumPy arrays contracted with ``einsum``.

Two exact reductions keep the tables small: untyped persons without typed descendants are
dropped (they sum to one), and alleles nobody in the pedigree carries are merged into a single
"rest" allele when the mutation model allows it (no mutation, equal, proportional). Nothing
here uses theta: founders are unrelated members of one population, as in pedprobr and
Familias with theta 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from binational.identification.dna.markers import FloatArray, Marker
from binational.identification.dna.pedigree import FEMALE, MALE, Genotype, Pedigree

Factor = tuple[tuple[int, ...], FloatArray]


def loglik(ped: Pedigree, markers: Sequence[Marker]) -> float:
    """Natural log of the probability of all typed genotypes of the pedigree."""
    total = 0.0
    for m in markers:
        total += marker_loglik(ped, m)
        if total == -math.inf:
            return total
    return total


def marker_likelihood(ped: Pedigree, marker: Marker) -> float:
    return math.exp(marker_loglik(ped, marker))


def singleton_loglik(genotypes: Mapping[str, Genotype], markers: Sequence[Marker]) -> float:
    """Hardy-Weinberg log probability of one unrelated person's genotypes."""
    total = 0.0
    for m in markers:
        g = genotypes.get(m.name)
        if g is None:
            continue
        pa, pb = m.freqs[m.index(g[0])], m.freqs[m.index(g[1])]
        p = pa * pa if g[0] == g[1] else 2 * pa * pb
        total += math.log(p) if p > 0 else -math.inf
    return total


def _relevant(ped: Pedigree, name: str, free: str | None = None) -> list[str]:
    """Persons typed at the marker or with a typed descendant (the others sum to one)."""
    keep: set[str] = set()
    for p in reversed(ped.persons):  # children before parents
        if name in p.genotypes or p.id == free or any(c in keep for c in ped.children(p.id)):
            keep.add(p.id)
    # Parents of kept non-founders are needed to transmit to them.
    for p in ped.persons:
        if p.id in keep and not p.is_founder:
            assert p.father is not None and p.mother is not None
            keep.add(p.father)
            keep.add(p.mother)
    return [p.id for p in ped.persons if p.id in keep]


def marker_loglik(ped: Pedigree, marker: Marker) -> float:
    built = _build(ped, marker, None, ())
    if built is None:
        return 0.0
    factors, domains, _, _ = built
    value, _ = _eliminate(factors, domains, ())
    return float(value)


def genotype_table(
    ped: Pedigree, marker: Marker, pid: str, alleles: Sequence[str]
) -> tuple[dict[str, int], FloatArray, float] | None:
    """``P(typed genotypes, person pid has ordered alleles (a, b))`` for an untyped person.

    Returned as ``(index of each allele of interest, table, log scale)``: the probability is
    ``table[i, j] * exp(scale)``. One elimination gives the likelihood of every genotype the
    person could have, so pairwise LRs of all victims against one missing person cost one
    pedigree computation per marker. ``None`` when nobody relevant is typed.
    """
    wanted = [marker.index(a) for a in alleles]
    built = _build(ped, marker, pid, wanted)
    if built is None:
        return None
    factors, domains, local, keep = built
    table, scale = _eliminate(factors, domains, keep)
    idx = {a: (local[marker.index(a)] if local is not None else marker.index(a)) for a in alleles}
    return idx, table, scale


def _build(
    ped: Pedigree, marker: Marker, free: str | None, extra: Sequence[int]
) -> tuple[list[Factor], dict[int, tuple[int, ...]], dict[int, int] | None, tuple[int, ...]] | None:
    name = marker.name
    ids = _relevant(ped, name, free)
    if not any(name in ped.by_id[i].genotypes for i in ids):
        return None
    observed: list[int] = sorted(
        {marker.index(a) for i in ids for a in ped.by_id[i].genotypes.get(name, ())} | set(extra)
    )
    freqs, mats = _reduced_model(marker, observed)
    # Index of each observed allele in the reduced allele set.
    local = {a: k for k, a in enumerate(observed)} if len(freqs) != len(marker.alleles) else None
    n = len(freqs)
    full = tuple(range(n))
    eye = np.eye(n)

    domains: dict[int, tuple[int, ...]] = {}
    factors: list[Factor] = []
    pos = {pid: k for k, pid in enumerate(ids)}
    for pid in ids:
        p = ped.by_id[pid]
        k = pos[pid]
        vp, vm = 2 * k, 2 * k + 1
        g = p.genotypes.get(name)
        if g is None:
            domains[vp] = domains[vm] = full
        else:
            a, b = (marker.index(x) for x in g)
            if local is not None:
                a, b = local[a], local[b]
            dom = (a,) if a == b else (a, b)
            domains[vp] = domains[vm] = dom
            ev = np.ones((1, 1)) if a == b else np.array([[0.0, 1.0], [1.0, 0.0]])
            factors.append(((vp, vm), ev))
    for pid in ids:
        p = ped.by_id[pid]
        k = pos[pid]
        if p.is_founder:
            for v in (2 * k, 2 * k + 1):
                factors.append(((v,), freqs[list(domains[v])]))
            continue
        assert p.father is not None and p.mother is not None
        for v, parent, sex in ((2 * k, p.father, MALE), (2 * k + 1, p.mother, FEMALE)):
            j = pos[parent]
            pa, pb = 2 * j, 2 * j + 1
            da, db, dc = (list(domains[x]) for x in (pa, pb, v))
            mat = mats[sex]
            if mat is None:
                mat = eye
            ma = mat[np.ix_(da, dc)]
            mb = mat[np.ix_(db, dc)]
            factors.append(((pa, pb, v), 0.5 * (ma[:, None, :] + mb[None, :, :])))
    keep = (2 * pos[free], 2 * pos[free] + 1) if free is not None else ()
    return factors, domains, local, keep


def _reduced_model(
    marker: Marker, observed: list[int]
) -> tuple[FloatArray, dict[int, FloatArray | None]]:
    """Frequencies and mutation matrices on the observed alleles plus one lumped rest allele."""
    mats = {MALE: marker.mutation_matrix(MALE), FEMALE: marker.mutation_matrix(FEMALE)}
    n = len(marker.alleles)
    if not marker.lumpable or len(observed) >= n - 1:
        return marker.freqs, mats
    rest = [i for i in range(n) if i not in set(observed)]
    freqs = np.append(marker.freqs[observed], marker.freqs[rest].sum())
    out: dict[int, FloatArray | None] = {}
    for sex, m in mats.items():
        if m is None:
            out[sex] = None
            continue
        k = len(observed)
        r = np.zeros((k + 1, k + 1))
        r[:k, :k] = m[np.ix_(observed, observed)]
        r[:k, k] = m[np.ix_(observed, rest)].sum(axis=1)
        # Rows of rest alleles into an observed allele are equal for lumpable models.
        r[k, :k] = m[rest[0], observed]
        r[k, k] = 1.0 - r[k, :k].sum()
        out[sex] = r
    return freqs, out


def _eliminate(
    factors: list[Factor], domains: dict[int, tuple[int, ...]], keep: tuple[int, ...]
) -> tuple[Any, float]:
    """Sum out every variable but ``keep``.

    Returns (log value, 0) without ``keep``, else (table over ``keep``, log scale).
    """
    remaining = set(domains) - set(keep)
    scale = 0.0  # log of factored-out constants, to avoid underflow on large pedigrees
    while remaining:
        # Greedy: eliminate the variable whose product table is smallest.
        best, best_size = -1, math.inf
        for v in remaining:
            scope: set[int] = set()
            for vars_, _ in factors:
                if v in vars_:
                    scope.update(vars_)
            size = math.prod(len(domains[u]) for u in scope)
            if size < best_size:
                best, best_size = v, size
        v = best
        involved = [f for f in factors if v in f[0]]
        factors = [f for f in factors if v not in f[0]]
        res, out_vars = _contract(involved, {v})
        mx = float(np.max(res)) if res.size else 0.0
        if mx == 0.0:
            return (
                (-math.inf, 0.0) if not keep else (np.zeros([len(domains[u]) for u in keep]), 0.0)
            )
        if mx < 1e-100 or mx > 1e100:
            res = res / mx
            scale += math.log(mx)
        factors.append((out_vars, res))
        remaining.discard(v)
    if keep:
        table, out_vars = _contract(factors, set())
        # Factors may not mention a kept variable (untyped founder): broadcast to full domain.
        full = np.ones([len(domains[u]) for u in keep])
        order = [out_vars.index(u) for u in keep if u in out_vars]
        t = np.transpose(table, order) if order else table
        shape = [len(domains[u]) if u in out_vars else 1 for u in keep]
        return full * t.reshape(shape), scale
    value = 1.0
    for _, arr in factors:
        value *= float(arr)
    return (math.log(value) + scale if value > 0 else -math.inf), 0.0


def _contract(involved: list[Factor], drop: set[int]) -> tuple[FloatArray, tuple[int, ...]]:
    all_vars = sorted({u for vars_, _ in involved for u in vars_})
    out_vars = tuple(u for u in all_vars if u not in drop)
    letters = {u: i for i, u in enumerate(all_vars)}
    operands: list[Any] = []
    for vars_, arr in involved:
        operands.append(arr)
        operands.append([letters[u] for u in vars_])
    operands.append([letters[u] for u in out_vars])
    res = np.einsum(*operands, optimize=len(involved) > 2)
    return np.asarray(res, dtype=np.float64), out_vars
