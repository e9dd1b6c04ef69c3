"""Time-respecting bounded cycle search, compiled with numba.

A laundering cycle is money that comes back: edges ``a -> b -> ... -> a`` whose times never go
backwards and all fall within ``window`` of the first, with at most ``max_len`` edges and no
account twice. For every edge as the start, a depth-first search follows only the edges that
leave the current account at or after the time of the edge that arrived (found by binary
search in a time-sorted adjacency), and no later than the window allows; so the search is
bounded by the window, not by the whole graph. networkx's ``simple_cycles`` ignores time and
enumerates every cycle of the static graph, which is both wrong for this question and
exponential on real transaction graphs.

Each start edge may take at most ``budget`` steps; starts that hit it are counted in
``CycleResult.truncated`` (never silently). A cycle whose edges all share one timestamp can be
found from each of its edges, so counts are per (start edge, cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from binational.finance.graph import DAY, FloatArray, Graph, IntArray

DEFAULT_WINDOW = DAY
DEFAULT_MAX_LEN = 6
DEFAULT_BUDGET = 20_000


@dataclass(frozen=True)
class CycleResult:
    per_account: IntArray
    """How many cycles each account lies on."""
    cycles: int
    truncated: int
    """Start edges whose search stopped at the step budget."""
    examples: list[list[int]]
    """Up to a few cycles as account indices, for explanations."""

    def as_feature(self) -> FloatArray:
        return self.per_account.astype(np.float64)


@njit(cache=True)
def _lower_bound(ts: IntArray, lo: int, hi: int, value: int) -> int:
    while lo < hi:
        mid = (lo + hi) // 2
        if ts[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _search(ptr: IntArray, adj_dst: IntArray, adj_ts: IntArray, src: IntArray, dst: IntArray,
            ts: IntArray, n: int, window: int, max_len: int, budget: int,
            keep: int) -> tuple[IntArray, int, int, IntArray]:
    counts = np.zeros(n, np.int64)
    on_path = np.zeros(n, np.bool_)
    path = np.empty(max_len + 1, np.int64)
    pos = np.empty(max_len + 1, np.int64)
    examples = np.full((keep, max_len + 1), -1, np.int64)
    found = 0
    truncated = 0
    for e in range(len(src)):
        u = src[e]
        v = dst[e]
        if u == v:
            continue
        limit = ts[e] + window
        path[0] = u
        path[1] = v
        on_path[u] = True
        on_path[v] = True
        pos[1] = _lower_bound(adj_ts, ptr[v], ptr[v + 1], ts[e])
        depth = 1
        steps = 0
        while depth >= 1:
            node = path[depth]
            p = pos[depth]
            if p >= ptr[node + 1] or adj_ts[p] > limit or steps >= budget:
                on_path[node] = False
                depth -= 1
                continue
            pos[depth] = p + 1
            steps += 1
            w = adj_dst[p]
            if w == u:
                if found < keep:
                    for k in range(depth + 1):
                        examples[found, k] = path[k]
                found += 1
                for k in range(depth + 1):
                    counts[path[k]] += 1
                continue
            if on_path[w] or depth + 1 >= max_len:
                continue
            depth += 1
            path[depth] = w
            on_path[w] = True
            pos[depth] = _lower_bound(adj_ts, ptr[w], ptr[w + 1], adj_ts[p])
        on_path[u] = False
        if steps >= budget:
            truncated += 1
    return counts, found, truncated, examples


def adjacency(g: Graph) -> tuple[IntArray, IntArray, IntArray]:
    """Out-edges in (source, time) order: CSR pointers, targets and times."""
    order = np.argsort(g.src, kind="stable")  # edges are time-ordered already
    ptr = np.zeros(g.n_accounts + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.src, minlength=g.n_accounts), out=ptr[1:])
    return ptr, np.ascontiguousarray(g.dst[order]), np.ascontiguousarray(g.ts[order])


def temporal_cycles(g: Graph, window: int = DEFAULT_WINDOW, max_len: int = DEFAULT_MAX_LEN,
                    budget: int = DEFAULT_BUDGET, keep: int = 20) -> CycleResult:
    if max_len < 2:
        raise ValueError("a cycle has at least 2 edges")
    ptr, adj_dst, adj_ts = adjacency(g)
    counts, found, truncated, examples = _search(
        ptr, adj_dst, adj_ts, g.src, g.dst, g.ts, g.n_accounts, int(window), int(max_len),
        int(budget), int(keep))
    kept = [[int(x) for x in row if x >= 0] for row in examples[: min(found, keep)]]
    return CycleResult(counts, int(found), int(truncated), kept)
