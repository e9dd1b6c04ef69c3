"""Upper bounds of the scores of one query's candidates, all at once.

A screening retrieves about fifty candidates and returns the few best. Aligning every
candidate's names costs most of a query, so each candidate first gets a cheap upper bound of
its score (``names.align_bound``'s arithmetic, here for every candidate name in one compiled
loop), and only candidates whose bound can still reach the results are aligned (see
``service.Searchable.score``). The bound is exact arithmetic on token similarities, never a
guess: skipping a candidate whose bound is below the cut changes no result.

Why numba and not Python: the bound reads a query-word x candidate-word similarity matrix for
every candidate name (about a thousand cells a query); in Python that loop cost more than the
alignments it saved. The similarities themselves are computed once per distinct pair of words
(``names.similarity_matrix``: rapidfuzz's ``cdist``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

from binational.screening.matching import WEIGHTS, CandidateView, QueryView, word_key
from binational.screening.names import min_costs, similarity_matrix

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@njit(cache=True)
def _side(top: F64, costs: F64) -> tuple[float, F64, F64]:
    """One side of a pair: the cost of the words no word of the other side is like
    (``forced``), the costs of the others in increasing order, and their best similarities
    in decreasing order."""
    n = top.shape[0]
    forced = 0.0
    free = np.empty(n)
    sims = np.empty(n)
    k = 0
    for i in range(n):
        if top[i] > 0.0:
            free[k] = costs[i]
            sims[k] = top[i]
            k += 1
        else:
            forced += costs[i]
    return forced, np.sort(free[:k]), -np.sort(-sims[:k])


@njit(cache=True)
def pair_bounds(sim: F64, q_costs: F64, flat: I64, costs: F64, starts: I64) -> F64:
    """``names.align_bound`` of one query name (``sim``: its words x the local vocabulary)
    against each candidate name ``n`` (words ``flat[starts[n]:starts[n + 1]]``)."""
    nq = sim.shape[0]
    names = starts.shape[0] - 1
    out = np.zeros(names)
    for n in range(names):
        a = starts[n]
        m = starts[n + 1] - a
        if m == 0 or nq == 0:
            continue
        r = np.zeros(nq)
        s = np.zeros(m)
        for i in range(nq):
            for j in range(m):
                v = sim[i, flat[a + j]]
                if v > r[i]:
                    r[i] = v
                if v > s[j]:
                    s[j] = v
        fq, cq, sq = _side(r, q_costs)
        fc, cc, sc = _side(s, costs[a:a + m])
        most = min(sq.shape[0], sc.shape[0])
        best = 0.0
        tq = 0.0
        tc = 0.0
        for k in range(1, most + 1):
            tq += sq[k - 1]
            tc += sc[k - 1]
            left = fq + fc
            for x in range(cq.shape[0] - k):
                left += cq[x]
            for x in range(cc.shape[0] - k):
                left += cc[x]
            value = min(tq, tc) / (k + left)
            if value > best:
                best = value
        out[n] = min(best, 1.0)
    return out


def score_bounds(qv: QueryView, cvs: Sequence[CandidateView]) -> list[float]:
    """An upper bound of ``matching.explain_views(qv, cv)``'s score for each candidate."""
    if not cvs:
        return []
    # The candidates' name arrays side by side, their word indices shifted into one list of
    # words (a word shared by candidates appears once per candidate: cheaper than merging).
    words = [w for cv in cvs for w in cv.words]
    word_offsets = np.cumsum([0, *(len(cv.words) for cv in cvs[:-1])])
    token_counts = [len(cv.flat) for cv in cvs]
    flat = np.concatenate([cv.flat for cv in cvs]) + np.repeat(word_offsets, token_counts)
    costs = np.concatenate([cv.costs for cv in cvs])
    token_offsets = np.cumsum([0, *token_counts[:-1]])
    name_counts = [len(cv.starts) - 1 for cv in cvs]
    starts = np.concatenate([[0], *(cv.starts[1:] + off
                                    for cv, off in zip(cvs, token_offsets, strict=True))])
    owner = np.repeat(np.arange(len(cvs)), name_counts)
    sims = np.zeros(len(cvs))
    if len(owner):
        for q_name in qv.full:
            matrix = similarity_matrix(q_name.tokens, words)
            q_costs = np.asarray(min_costs(q_name.tokens, qv.person), dtype=np.float64)
            bounds = pair_bounds(matrix, q_costs, flat.astype(np.int64), costs,
                                 starts.astype(np.int64))
            np.maximum.at(sims, owner, bounds)
    out: list[float] = []
    nick_keys = [word_key(n) for n in qv.nicknames]
    full_keys = [word_key(n) for n in qv.full]
    for c, cv in enumerate(cvs):
        sim = float(sims[c])
        # Exact equality with a nickname or a weak alias scores 1 without alignment.
        if any(k in cv.alias_keys or k in cv.weak_keys for k in nick_keys) or (
                cv.weak_keys and any(k in cv.weak_keys for k in full_keys)):
            sim = 1.0
        exact = WEIGHTS["name_exact"] if sim >= 1.0 else 0.0
        # (plus a margin for the rounding of similarities and scores to four places)
        out.append(WEIGHTS["name_match"] * sim + exact + qv.extra + 1e-3)
    return out
