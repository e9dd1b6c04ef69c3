"""Joint disaster-victim identification (DVI), after dvir's ``jointDVI`` (Vigeland & Egeland).

An assignment maps each victim to a missing person of a compatible sex or to ``*`` (not among
the missing), each missing person used at most once. Its log-likelihood is the log probability
of every typed genotype with each assigned victim placed at the missing person's position in
that person's reference family and each unassigned victim an unrelated person
(Hardy-Weinberg). The likelihood splits into one term per family and one per unassigned
victim, so each family is computed once per distinct set of victims placed in it.

Conventions (those of dvir, checked against its published example tables):

* ``lr`` of a row is ``L(row) / L(null)``, null being everyone ``*``; rows of likelihood zero
  are dropped; rows are sorted by decreasing likelihood, ties by the assignment (missing
  persons alphabetically, ``*`` last).
* posterior probabilities use a flat prior over the rows; the pairing probability of
  ``V = M`` is the posterior mass of the rows containing it.
* pairwise ``LR(V, M) = L(family with V at M) / (L(family) L(V))``; a pairing of pairwise LR 0
  is an exclusion (every joint row containing it has likelihood zero, so removing it is exact).
* ``V = M`` is undisputed at threshold ``T`` when ``LR(V, M) >= T`` and every other pairwise
  LR in the row of ``V`` and the column of ``M`` is below ``LR(V, M) / T`` (``strict``: at most
  1); undisputed victims are moved into their families and the search repeats.
* the generalised LR of ``V = M`` is the best likelihood with ``V = M`` over the best without.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from binational.core.errors import InvalidInput
from binational.identification.dna.case import NOT_AMONG_MISSING, DviCase
from binational.identification.dna.likelihood import genotype_table, loglik, singleton_loglik
from binational.identification.dna.markers import Marker
from binational.identification.dna.pedigree import UNKNOWN_SEX, Pedigree

# Above this many assignments the joint search first fixes undisputed identifications.
MAX_ASSIGNMENTS = 500_000
UNDISPUTED_THRESHOLD = 1e4
# dvir's findExcluded: a pairing with more Mendelian-incompatible markers than this is excluded
# (used only when the full search is too large; with a mutation model no LR is exactly 0).
MAX_INCOMPATIBLE = 2
REL_TOL = 1e-9
# Log-likelihoods closer than this are ties (sums in another order differ in the last bits).
TIE_TOLERANCE = 1e-9


@dataclass
class Undisputed:
    victim: str
    missing: str
    lr: float
    step: int
    family: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sample": self.victim,
            "missing": self.missing,
            "family": self.family,
            "LR": self.lr,
            "step": self.step,
        }


@dataclass
class DviResult:
    case: str
    victims: list[str]
    missing: list[str]
    rows: list[dict[str, str]]
    logliks: list[float]
    loglik_null: float
    pairwise: dict[str, dict[str, float | None]]
    posterior: dict[str, dict[str, float]]
    glr: dict[str, dict[str, float | None]]
    excluded: list[tuple[str, str]]
    undisputed: list[Undisputed]
    n_assignments: int  # rows of the table (likelihood > 0)
    reduced_by_undisputed: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)
    # Assignments the pairings allow, impossible ones included (dvir's count); None if too
    # many to count quickly.
    n_total: int | None = None

    @property
    def best(self) -> dict[str, str]:
        return self.rows[0]

    @property
    def best_loglik(self) -> float:
        return self.logliks[0]

    def lr(self, k: int) -> float:
        return math.exp(self.logliks[k] - self.loglik_null)

    def posteriors(self) -> list[float]:
        ll = np.array(self.logliks)
        w = np.exp(ll - ll.max())
        return list(w / w.sum())

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        from binational.identification.dna.report import result_json

        return result_json(self, top)


MUTATION_MODES = ("on", "off", "auto")


class DviSolver:
    """``mutations``: ``on`` (the case's models), ``off``, or ``auto`` as dvir's ``jointDVI``
    default (``disableMutations = NA``): off in every family whose references are consistent
    without mutation, on in the others."""

    def __init__(
        self, case: DviCase, *, disable_mutations: bool = False, mutations: str = "on"
    ) -> None:
        if mutations not in MUTATION_MODES:
            raise InvalidInput(f"mutations must be one of {', '.join(MUTATION_MODES)}")
        if disable_mutations:
            mutations = "off"
        self.case = case
        plain = [m.without_mutation() for m in case.markers]
        self.markers: list[Marker] = plain if mutations == "off" else case.markers
        # The markers each family is computed with (auto: per family).
        self.fam_markers = [self.markers for _ in case.families]
        if mutations == "auto":
            self.fam_markers = [
                plain if loglik(f, plain) > -math.inf else case.markers for f in case.families
            ]
        self.victims = {v.id: v for v in case.victims}
        self.vids = [v.id for v in case.victims]
        self.missing = list(case.missing)
        self.fam_of = {m: case.family_of(m) for m in self.missing}
        self.fam_ll = [loglik(f, self.fam_markers[k]) for k, f in enumerate(case.families)]
        for k, ll in enumerate(self.fam_ll):
            if ll == -math.inf:
                raise InvalidInput(
                    f"reference family {case.families[k].name} is impossible as recorded "
                    "(genotypes inconsistent with the pedigree"
                    + (
                        " and no mutation model"
                        if not any(m.has_mutation for m in self.markers)
                        else ""
                    )
                    + ")"
                )
        self.vic_ll = {
            v: singleton_loglik(self.victims[v].genotypes, self.markers) for v in self.vids
        }
        self._cache: dict[tuple[int, tuple[tuple[str, str], ...]], float] = {}
        self._pairwise: dict[str, dict[str, float | None]] | None = None

    # -- likelihood pieces -------------------------------------------------------------

    def family_loglik(
        self, k: int, placed: tuple[tuple[str, str], ...], families: list[Pedigree] | None = None
    ) -> float:
        """Log-likelihood of family ``k`` with victims placed at missing persons."""
        fams = families or self.case.families
        if not placed:
            return self.fam_ll[k] if families is None else loglik(fams[k], self.fam_markers[k])
        key = (k, placed)
        if families is None and key in self._cache:
            return self._cache[key]
        extra = {m: self.victims[v].genotypes for m, v in placed}
        value = loglik(fams[k].with_genotypes(extra), self.fam_markers[k])
        if families is None:
            self._cache[key] = value
        return value

    def sex_ok(self, victim: str, missing: str) -> bool:
        vs = self.victims[victim].sex
        ms = self.case.families[self.fam_of[missing]].by_id[missing].sex
        return UNKNOWN_SEX in (vs, ms) or vs == ms

    def pairings(self) -> dict[str, list[str]]:
        """The case's pairings as given (without ``*`` a victim must be one of the missing),
        else every sex-compatible missing person and ``*``, as dvir's generatePairings."""
        given = self.case.pairings
        out = {}
        for v in self.vids:
            cands = given.get(v) if given is not None else None
            if cands is None:
                cands = [NOT_AMONG_MISSING] + [m for m in self.missing if self.sex_ok(v, m)]
            out[v] = list(dict.fromkeys(cands))
        return out

    def pairwise_lr(
        self,
        pairings: Mapping[str, list[str]],
        families: list[Pedigree] | None = None,
        markers: list[Marker] | None = None,
        skip_impossible: bool = False,
    ) -> dict[str, dict[str, float | None]]:
        """Pairwise LRs; one elimination per missing person and marker serves every victim."""
        fams = families or self.case.families
        vics = list(pairings)
        out: dict[str, dict[str, float | None]] = {v: {} for v in vics}
        for m in self.missing:
            cands = [v for v in vics if m in pairings[v]]
            for v in vics:
                out[v][m] = None
            if not cands:
                continue
            ped = fams[self.fam_of[m]]
            log_lr = dict.fromkeys(cands, 0.0)
            for mk in markers or self.fam_markers[self.fam_of[m]]:
                typed = [v for v in cands if mk.name in self.victims[v].genotypes]
                if not typed:
                    continue
                alleles = sorted({a for v in typed for a in self.victims[v].genotypes[mk.name]})
                got = genotype_table(ped, mk, m, alleles)
                if got is None:
                    continue  # no relative typed here: the marker says nothing
                idx, table, _scale = got
                total = float(table.sum())
                if total <= 0:
                    if skip_impossible:  # the family alone contradicts Mendel here
                        continue
                    raise InvalidInput(f"family {ped.name} is impossible at marker {mk.name}")
                for v in typed:
                    a, b = self.victims[v].genotypes[mk.name]
                    i, j = idx[a], idx[b]
                    p = table[i, j] if i == j else table[i, j] + table[j, i]
                    pa, pb = mk.freqs[mk.index(a)], mk.freqs[mk.index(b)]
                    hwe = pa * pa if a == b else 2 * pa * pb
                    lr = (p / total) / hwe
                    log_lr[v] += math.log(lr) if lr > 0 else -math.inf
            for v in cands:
                out[v][m] = math.exp(log_lr[v]) if log_lr[v] > -math.inf else 0.0
        return out

    def incompatible_markers(self, pairings: Mapping[str, list[str]]) -> dict[tuple[str, str], int]:
        """Markers at which a victim placed at a missing person contradicts Mendel (no mutation)."""
        out: dict[tuple[str, str], int] = {}
        for mk in self.markers:
            lrm = self.pairwise_lr(pairings, markers=[mk.without_mutation()], skip_impossible=True)
            for v, row in lrm.items():
                for m, x in row.items():
                    if x is not None:
                        out[(v, m)] = out.get((v, m), 0) + (x == 0.0)
        return out

    # -- undisputed ----------------------------------------------------------------------

    def find_undisputed(
        self,
        pairings: Mapping[str, list[str]],
        threshold: float = UNDISPUTED_THRESHOLD,
        strict: bool = False,
    ) -> list[Undisputed]:
        fams = list(self.case.families)
        pair = {v: list(c) for v, c in pairings.items()}
        found: list[Undisputed] = []
        step = 0
        while pair:
            step += 1
            lrm = self.pairwise_lr(pair, fams if step > 1 else None)
            vics = list(pair)
            miss = [m for m in self.missing if any(m in pair[v] for v in vics)]
            if not miss:
                break
            b = np.array(
                [[lrm[v][m] if lrm[v][m] is not None else np.nan for m in miss] for v in vics]
            )
            hits = []
            # Column-major like R's which(arr.ind = TRUE): by missing person, then victim.
            for j, m in enumerate(miss):
                for i, v in enumerate(vics):
                    x = b[i, j]
                    # Ratios equal on paper differ in the last bits: compare with REL_TOL.
                    if not (x >= threshold * (1 - REL_TOL)):
                        continue
                    others = np.concatenate([np.delete(b[i, :], j), np.delete(b[:, j], i)])
                    others = others[~np.isnan(others)]
                    limit = 1.0 if strict else x / threshold
                    if strict:
                        ok = bool(np.all(others <= limit * (1 + REL_TOL)))
                    else:
                        ok = bool(np.all(others < limit * (1 - REL_TOL)))
                    if ok:
                        hits.append((v, m, float(x)))
            if not hits:
                break
            for v, m, x in hits:
                k = self.fam_of[m]
                found.append(Undisputed(v, m, x, step, self.case.families[k].name))
                fams[k] = fams[k].with_genotypes({m: self.victims[v].genotypes})
                del pair[v]
            done = {m for _, m, _ in hits}
            pair = {v: [c for c in cs if c not in done] for v, cs in pair.items()}
        return found

    # -- joint ----------------------------------------------------------------------------

    def solve(
        self, *, max_assignments: int = MAX_ASSIGNMENTS, threshold: float = UNDISPUTED_THRESHOLD
    ) -> DviResult:
        t0 = time.perf_counter()
        pairings = self.pairings()
        n_total = count_all(pairings, self.missing)
        pairwise = self.pairwise_lr(pairings)
        self._pairwise = pairwise
        excluded = [(v, m) for v in self.vids for m in self.missing if pairwise[v][m] == 0.0]
        live = {
            v: [c for c in pairings[v] if c == NOT_AMONG_MISSING or (pairwise[v][c] or 0) > 0]
            for v in self.vids
        }
        undisputed = self.find_undisputed(live, threshold)
        reduced = False
        if count_assignments(live, max_assignments) > max_assignments:
            reduced = True
            incompatible = self.incompatible_markers(live)
            for v in self.vids:
                kept = [NOT_AMONG_MISSING] if NOT_AMONG_MISSING in live[v] else []
                for c in live[v]:
                    if c == NOT_AMONG_MISSING:
                        continue
                    if incompatible[(v, c)] > MAX_INCOMPATIBLE:
                        excluded.append((v, c))
                    else:
                        kept.append(c)
                live[v] = kept
            undisputed = self.find_undisputed(live, threshold)
            fixed = {u.victim: u.missing for u in undisputed}
            taken = set(fixed.values())
            live = {
                v: [fixed[v]] if v in fixed else [c for c in cs if c not in taken]
                for v, cs in live.items()
            }
            n = count_assignments(live, max_assignments)
            if n > max_assignments:
                raise InvalidInput(
                    f"case {self.case.name}: more than {max_assignments:,} joint assignments "
                    "remain after exclusions and undisputed identifications; give pairings "
                    "to narrow the search"
                )
        table = np.array(list(_assignments(self.vids, live, self.missing)), dtype=np.int32)
        ll = self._table_loglik(table)
        keep = ll > -math.inf
        table, ll = table[keep], ll[keep]
        if len(ll) == 0:
            raise InvalidInput(f"case {self.case.name}: no assignment is possible")
        order = self._order(table, ll)
        table, ll = table[order], ll[order]
        null_ll = sum(self.fam_ll) + sum(self.vic_ll.values())
        rows = [
            {
                v: (self.missing[j] if j >= 0 else NOT_AMONG_MISSING)
                for v, j in zip(self.vids, r, strict=True)
            }
            for r in table.tolist()
        ]
        post = np.exp(ll - ll.max())
        post /= post.sum()
        marg: dict[str, dict[str, float]] = {}
        glr: dict[str, dict[str, float | None]] = {}
        for i, v in enumerate(self.vids):
            marg[v] = {}
            glr[v] = {}
            for j, m in enumerate([*self.missing, NOT_AMONG_MISSING]):
                code = j if m != NOT_AMONG_MISSING else -1
                hit = table[:, i] == code
                marg[v][m] = float(post[hit].sum())
                if m == NOT_AMONG_MISSING:
                    continue
                if not hit.any():
                    glr[v][m] = None if pairwise[v][m] is None else 0.0
                elif not (~hit).any():
                    glr[v][m] = math.inf
                else:
                    glr[v][m] = math.exp(float(ll[hit].max() - ll[~hit].max()))
        return DviResult(
            self.case.name,
            self.vids,
            self.missing,
            rows,
            [float(x) for x in ll],
            float(null_ll),
            pairwise,
            marg,
            glr,
            excluded,
            undisputed,
            len(rows),
            reduced,
            time.perf_counter() - t0,
            list(self.case.warnings),
            n_total,
        )

    def _table_loglik(self, table: np.ndarray) -> np.ndarray:
        n = table.shape[0]
        total = np.zeros(n)
        vic_ll = np.array([self.vic_ll[v] for v in self.vids])
        total += ((table < 0) * vic_ll[None, :]).sum(axis=1)
        # AM-centric view: which victim sits at each missing person (-1: none).
        am = np.full((n, len(self.missing)), -1, dtype=np.int32)
        rows = np.arange(n)
        for i in range(len(self.vids)):
            sel = table[:, i] >= 0
            am[rows[sel], table[sel, i]] = i
        for k in range(len(self.case.families)):
            cols = [j for j, m in enumerate(self.missing) if self.fam_of[m] == k]
            if not cols:
                total += self.fam_ll[k]
                continue
            uniq, inverse = np.unique(am[:, cols], axis=0, return_inverse=True)
            vals = np.empty(len(uniq))
            for u, key in enumerate(uniq.tolist()):
                placed = tuple(
                    (self.missing[cols[c]], self.vids[vi]) for c, vi in enumerate(key) if vi >= 0
                )
                if len(placed) == 1 and self._pairwise is not None:
                    # One victim in the family: L = L(family) * LR * L(victim).
                    m, v = placed[0]
                    x = self._pairwise[v][m]
                    if x is not None:
                        vals[u] = (
                            self.fam_ll[k] + self.vic_ll[v] + (math.log(x) if x > 0 else -math.inf)
                        )
                        continue
                vals[u] = self.family_loglik(k, placed)
            total += vals[np.asarray(inverse).reshape(-1)]
        return total

    def _order(self, table: np.ndarray, ll: np.ndarray) -> np.ndarray:
        # Rank of each missing person by name, '*' after all of them.
        names = sorted(range(len(self.missing)), key=lambda j: self.missing[j])
        rank = np.empty(len(self.missing) + 1, dtype=np.int64)
        for r, j in enumerate(names):
            rank[j] = r
        rank[-1] = len(self.missing)  # index -1 -> '*'
        keys = [rank[table[:, i]] for i in reversed(range(table.shape[1]))]
        rounded = np.round(-(ll - ll.max()) / TIE_TOLERANCE)
        return np.lexsort([*keys, rounded])


def count_assignments(pairings: Mapping[str, list[str]], cap: int) -> int:
    """Number of assignments (stops counting past ``cap``)."""
    vics = list(pairings)
    count = 0

    def rec(i: int, used: frozenset[str]) -> None:
        nonlocal count
        if count > cap:
            return
        if i == len(vics):
            count += 1
            return
        for c in pairings[vics[i]]:
            if c == NOT_AMONG_MISSING:
                rec(i + 1, used)
            elif c not in used:
                rec(i + 1, used | {c})

    rec(0, frozenset())
    return count


COUNT_STATES = 20_000


def count_all(pairings: Mapping[str, list[str]], missing: list[str]) -> int | None:
    """Exact number of assignments (memoised on the set of missing persons used); None when
    that would take more than COUNT_STATES states."""
    idx = {m: j for j, m in enumerate(missing)}
    opts = [[-1 if c == NOT_AMONG_MISSING else idx[c] for c in cs] for cs in pairings.values()]
    memo: dict[tuple[int, int], int] = {}

    def count(i: int, used: int) -> int:
        if i == len(opts):
            return 1
        key = (i, used)
        if key in memo:
            return memo[key]
        if len(memo) > COUNT_STATES:
            raise OverflowError
        total = 0
        for c in opts[i]:
            if c < 0:
                total += count(i + 1, used)
            elif not (used >> c) & 1:
                total += count(i + 1, used | (1 << c))
        memo[key] = total
        return total

    try:
        return count(0, 0)
    except OverflowError:
        return None


def _assignments(
    vids: list[str], pairings: Mapping[str, list[str]], missing: list[str]
) -> Iterator[tuple[int, ...]]:
    idx = {m: j for j, m in enumerate(missing)}
    choices = [[-1 if c == NOT_AMONG_MISSING else idx[c] for c in pairings[v]] for v in vids]
    cur: list[int] = []
    used: set[int] = set()

    def rec(i: int) -> Iterator[tuple[int, ...]]:
        if i == len(vids):
            yield tuple(cur)
            return
        for c in choices[i]:
            if c >= 0 and c in used:
                continue
            cur.append(c)
            if c >= 0:
                used.add(c)
            yield from rec(i + 1)
            cur.pop()
            if c >= 0:
                used.discard(c)

    yield from rec(0)


def solve(case: DviCase, **kwargs: Any) -> DviResult:
    disable = bool(kwargs.pop("disable_mutations", False))
    mode = str(kwargs.pop("mutations", "on"))
    return DviSolver(case, disable_mutations=disable, mutations=mode).solve(**kwargs)
