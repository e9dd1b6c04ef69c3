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
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from numba import njit

from binational.screening.matching import WEIGHTS, CandidateView, QueryView, word_key
from binational.screening.names import Words, min_costs, similarity_matrix

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@njit(cache=True)
def _side(top: F64, costs: F64, n: int, free: F64, sims: F64) -> tuple[float, int]:
    """One side of a pair (its first ``n`` words): the cost of the words no word of the other
    side is like (returned), and of the others (``k`` of them, returned) their costs in
    increasing order into ``free`` and their best similarities in decreasing order into
    ``sims`` (insertion sorts: a name has a handful of words)."""
    forced = 0.0
    k = 0
    for i in range(n):
        v = top[i]
        if v <= 0.0:
            forced += costs[i]
            continue
        c = costs[i]
        x = k
        while x > 0 and free[x - 1] > c:
            free[x] = free[x - 1]
            x -= 1
        free[x] = c
        y = k
        while y > 0 and sims[y - 1] < v:
            sims[y] = sims[y - 1]
            y -= 1
        sims[y] = v
        k += 1
    return forced, k


@njit(cache=True)
def pair_bounds(sim: F64, q_costs: F64, flat: I64, costs: F64, starts: I64) -> F64:
    """``names.align_bound`` of one query name (``sim``: its words x the batch's words)
    against each candidate name ``n`` (words ``flat[starts[n]:starts[n + 1]]``)."""
    nq = sim.shape[0]
    names = starts.shape[0] - 1
    out = np.zeros(names)
    if nq == 0:
        return out
    longest = 0
    for n in range(names):
        longest = max(longest, starts[n + 1] - starts[n])
    r = np.empty(nq)
    cq = np.empty(nq)
    sq = np.empty(nq)
    s = np.empty(longest)
    cc = np.empty(longest)
    sc = np.empty(longest)
    for n in range(names):
        a = starts[n]
        m = starts[n + 1] - a
        if m == 0:
            continue
        r[:] = 0.0
        s[:m] = 0.0
        for i in range(nq):
            for j in range(m):
                v = sim[i, flat[a + j]]
                if v > r[i]:
                    r[i] = v
                if v > s[j]:
                    s[j] = v
        fq, kq = _side(r, q_costs, nq, cq, sq)
        fc, kc = _side(s, costs[a:a + m], m, cc, sc)
        best = 0.0
        tq = 0.0
        tc = 0.0
        for k in range(1, min(kq, kc) + 1):
            tq += sq[k - 1]
            tc += sc[k - 1]
            # the cheapest kq - k (kc - k) matchable words are left over on each side
            left = fq + fc
            for x in range(kq - k):
                left += cq[x]
            for x in range(kc - k):
                left += cc[x]
            value = min(tq, tc) / (k + left)
            if value > best:
                best = value
        out[n] = min(best, 1.0)
    return out


@dataclass(frozen=True)
class NameBatch:
    """Candidates' full names side by side, as ``pair_bounds`` reads them: ``words`` (each
    name word is an index into it), then per word of each name its index and the least it
    costs unmatched, names split at ``starts``, and the candidate each name belongs to."""

    words: Words
    flat: I64
    costs: F64
    starts: I64
    owner: I64
    size: int  # candidates

    @classmethod
    def of_views(cls, cvs: Sequence[CandidateView]) -> NameBatch:
        """From candidates' own arrays (their word indices shifted into one list of words:
        a word shared by candidates appears once per candidate)."""
        words = Words.join([cv.words for cv in cvs])
        word_offsets = np.cumsum([0, *(len(cv.words) for cv in cvs[:-1])])
        token_counts = [len(cv.flat) for cv in cvs]
        flat = np.concatenate([cv.flat for cv in cvs]) + np.repeat(word_offsets, token_counts)
        token_offsets = np.cumsum([0, *token_counts[:-1]])
        name_counts = [len(cv.starts) - 1 for cv in cvs]
        starts = np.concatenate([[0], *(cv.starts[1:] for cv in cvs)])
        starts[1:] += np.repeat(token_offsets, name_counts)
        return cls(words, flat, np.concatenate([cv.costs for cv in cvs]), starts,
                   np.repeat(np.arange(len(cvs)), name_counts), len(cvs))


@dataclass(frozen=True)
class ListNames:
    """Every profile's full names in one set of arrays, for a whole list (built when the list
    is loaded, from each profile's ``CandidateView`` of its own kind), so that a query's
    ``NameBatch`` is a few NumPy gathers instead of a loop over its candidates."""

    words: Words  # the list's distinct words
    flat: I64  # per token of every name of every profile: its index in ``words``
    costs: F64
    name_starts: I64  # token offset of each name (one more entry than names)
    profile_names: I64  # name offset of each profile (one more entry than profiles)
    keyed: npt.NDArray[np.bool_]  # per profile: has aliases or weak aliases (``equals_exactly``)

    @classmethod
    def of_views(cls, cvs: Sequence[CandidateView]) -> ListNames:
        index: dict[tuple[str, str], int] = {}
        flat: list[I64] = []
        name_starts = [np.zeros(1, dtype=np.int64)]
        profile_names = [0]
        tokens = names = 0
        for cv in cvs:
            ids = np.asarray([index.setdefault(w, len(index))
                              for w in zip(cv.words.text, cv.words.phonetic, strict=True)],
                             dtype=np.int64)
            flat.append(ids[cv.flat])
            name_starts.append(cv.starts[1:] + tokens)
            tokens += len(cv.flat)
            names += len(cv.starts) - 1
            profile_names.append(names)
        return cls(Words.of(list(index)), np.concatenate([np.zeros(0, np.int64), *flat]),
                   np.concatenate([np.zeros(0), *(cv.costs for cv in cvs)]),
                   np.concatenate(name_starts), np.asarray(profile_names, dtype=np.int64),
                   np.asarray([bool(cv.alias_keys or cv.weak_keys) for cv in cvs], dtype=bool))

    def batch(self, positions: I64) -> NameBatch:
        """The names of the profiles at these positions, with their words only."""
        local, costs, starts, owner, used = _gather(positions, self.profile_names,
                                                    self.name_starts, self.flat, self.costs,
                                                    len(self.words))
        return NameBatch(self.words.take(used, self.texts, self.phonetics), local, costs,
                         starts, owner, len(positions))

    @cached_property
    def texts(self) -> npt.NDArray[np.object_]:
        return np.asarray(self.words.text, dtype=object)

    @cached_property
    def phonetics(self) -> npt.NDArray[np.object_]:
        return np.asarray(self.words.phonetic, dtype=object)


@njit(cache=True)
def _gather(positions: I64, profile_names: I64, name_starts: I64, flat: I64, costs: F64,
            vocabulary: int) -> tuple[I64, F64, I64, I64, I64]:
    """``ListNames.batch``'s arrays: each token's index among the words used, its cost, the
    names' starts and owners, and the words used (as indices into the list's words)."""
    names = 0
    tokens = 0
    for p in positions:
        names += profile_names[p + 1] - profile_names[p]
        tokens += name_starts[profile_names[p + 1]] - name_starts[profile_names[p]]
    mark = np.full(vocabulary, -1, dtype=np.int64)
    used = np.empty(tokens, dtype=np.int64)
    local = np.empty(tokens, dtype=np.int64)
    out_costs = np.empty(tokens)
    starts = np.empty(names + 1, dtype=np.int64)
    owner = np.empty(names, dtype=np.int64)
    starts[0] = 0
    n_used = 0
    k = 0
    t = 0
    for c in range(positions.shape[0]):
        p = positions[c]
        for name in range(profile_names[p], profile_names[p + 1]):
            for x in range(name_starts[name], name_starts[name + 1]):
                w = flat[x]
                if mark[w] < 0:
                    mark[w] = n_used
                    used[n_used] = w
                    n_used += 1
                local[t] = mark[w]
                out_costs[t] = costs[x]
                t += 1
            owner[k] = c
            k += 1
            starts[k] = t
    return local, out_costs, starts, owner, used[:n_used]


def name_bounds(qv: QueryView, batch: NameBatch) -> F64:
    """The best ``names.align_bound`` of any query name with any name of each candidate."""
    return per_candidate(pair_matrix(qv, batch), batch)


def pair_matrix(qv: QueryView, batch: NameBatch) -> F64:
    """``names.align_bound`` of each query name (rows) with each name of the batch."""
    out = np.zeros((len(qv.full), len(batch.owner)))
    for i, q_name in enumerate(qv.full):
        matrix = similarity_matrix(q_name.tokens, batch.words)
        q_costs = np.asarray(min_costs(q_name.tokens, qv.person), dtype=np.float64)
        out[i] = pair_bounds(matrix, q_costs, batch.flat, batch.costs, batch.starts)
    return out


def per_candidate(pairs: F64, batch: NameBatch) -> F64:
    """The best of ``pair_matrix`` over each candidate's names."""
    sims = np.zeros(batch.size)
    if pairs.size:
        np.maximum.at(sims, batch.owner, pairs.max(axis=0))
    return sims


def equals_exactly(qv: QueryView, cv: CandidateView) -> bool:
    """Whether a query name or nickname equals one of the candidate's weak aliases, or a
    nickname one of its aliases: ``explain`` scores those 1 without alignment."""
    if not cv.weak_keys and not (qv.nicknames and cv.alias_keys):
        return False
    keys = {word_key(n) for n in qv.nicknames}
    if keys & cv.alias_keys or keys & cv.weak_keys:
        return True
    return any(word_key(n) in cv.weak_keys for n in qv.full)


def finish(qv: QueryView, sims: F64) -> F64:
    """Score bounds from name-similarity bounds: the name weight, the exact-name bonus where
    the bound is 1, and the most the other features can add."""
    exact = np.where(sims >= 1.0, WEIGHTS["name_exact"], 0.0)
    # (plus a margin for the rounding of similarities and scores to four places)
    return WEIGHTS["name_match"] * sims + exact + (qv.extra + 1e-3)


def score_bounds(qv: QueryView, cvs: Sequence[CandidateView]) -> F64:
    """An upper bound of ``matching.explain_views(qv, cv)``'s score for each candidate."""
    if not cvs:
        return np.zeros(0)
    sims = name_bounds(qv, NameBatch.of_views(cvs))
    for c, cv in enumerate(cvs):
        if equals_exactly(qv, cv):
            sims[c] = 1.0
    return finish(qv, sims)
