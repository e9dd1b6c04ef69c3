"""The screening service: index lists, retrieve candidates in the reader's scope, score, audit.

Every screening goes through the policy (``access.plan(caller, Action.SEARCH)``): a reader
only ever retrieves, scores and sees entities of datasets in their scope, and each screening
leaves one audit record (with access receipts for other agencies' records that were returned).
"""

from __future__ import annotations

import heapq
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

from binational.core.access import Caller, Disclosed
from binational.core.errors import BinationalError, InvalidInput
from binational.core.platform import Platform
from binational.core.policy import Plan
from binational.core.store import Scope
from binational.core.vocab import Action
from binational.screening import compiled, index
from binational.screening.bounds import (
    equals_exactly,
    finish,
    pair_matrix,
    per_candidate,
    score_bounds,
)
from binational.screening.matching import (
    DEFAULT_THRESHOLD,
    Match,
    Query,
    QueryView,
    Scored,
    candidate_view,
    explain_views,
    query_view,
    rank,
)
from binational.screening.names import TokenTable

CANDIDATES = 50
BATCH_CHUNK = 1000  # queries scored between two reads of the store
DEFAULT_CUTOFF = 0.5  # results scoring below this are not returned at all
MAX_LIMIT = 100


class Screener:
    """Designation screening on a platform. ``screen`` is what analysts call."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- the index ----------------------------------------------------------------------------

    def index_dataset(self, dataset: str) -> int:
        """Rebuild a dataset's candidate keys from its statements (after it was (re)loaded);
        idempotent. Returns the number of entities indexed."""
        self.platform.catalog.get(dataset)  # NotFound for an unknown dataset
        return index.rebuild(self.platform.db, dataset)

    def indexed_datasets(self) -> list[str]:
        """The datasets that have a candidate index (for operators; not scoped)."""
        return index.indexed_datasets(self.platform.db)

    def candidates(self, scope: Scope, query: Query, limit: int = CANDIDATES) -> list[str]:
        """Ids of the likeliest entities for a query, within a scope (no scoring)."""
        found = self.searchable(scope)
        return [found.profile(hit).id for hit in found.retrieve(query, limit)]

    def searchable(self, scope: Scope) -> Searchable:
        """The in-memory lists a scope covers, as they are now (a batch keeps this snapshot
        throughout, so it is screened against one version of each list)."""
        return Searchable(scope, list(compiled.lists_in(self.platform.db, scope.datasets)))

    # -- screening ----------------------------------------------------------------------------

    def screen(self, caller: Caller, query: Query, *, datasets: Sequence[str] | None = None,
               threshold: float = DEFAULT_THRESHOLD, limit: int = 10,
               cutoff: float = DEFAULT_CUTOFF) -> list[Match]:
        """Screen one query: the best ``limit`` results scoring at least ``min(cutoff,
        threshold)``, best first; ``Match.match`` says which reach ``threshold``."""
        detail: dict[str, Any] = {"query": query.summary(), "threshold": threshold,
                                  "datasets": list(datasets or [])}
        access = self.platform.access
        try:
            _check(threshold, limit, cutoff)
            plan = access.plan(caller, Action.SEARCH)
            results = self._screen(plan, query, datasets, threshold, limit, cutoff)
        except BinationalError as exc:
            access.record_failure(caller, "screening.match", exc, **detail)
            raise
        access.record_results(caller, plan, Action.SEARCH, "screening.match",
                              _disclosed(results), matches=sum(m.match for m in results),
                              results=len(results), **detail)
        return results

    def screen_many(self, caller: Caller, queries: Iterable[Query], *,
                    datasets: Sequence[str] | None = None,
                    threshold: float = DEFAULT_THRESHOLD, limit: int = 10,
                    cutoff: float = DEFAULT_CUTOFF, workers: int = 1
                    ) -> Iterator[list[Match]]:
        """Screen a batch, yielding one result list per query, in order. The batch is planned
        now (a refusal raises here) and audited once, with counts, when the iteration ends
        or is abandoned; the queries themselves are neither kept nor logged. ``workers`` > 1
        scores in that many forked processes (for command-line batches only)."""
        detail: dict[str, Any] = {"threshold": threshold, "datasets": list(datasets or [])}
        access = self.platform.access
        try:
            _check(threshold, limit, cutoff)
            plan = access.plan(caller, Action.SEARCH)
        except BinationalError as exc:
            access.record_failure(caller, "screening.batch", exc, **detail)
            raise
        return self._batch(caller, plan, queries, datasets, threshold, limit, cutoff, detail,
                           workers)

    def _batch(self, caller: Caller, plan: Plan, queries: Iterable[Query],
               datasets: Sequence[str] | None, threshold: float, limit: int, cutoff: float,
               detail: dict[str, Any], workers: int) -> Iterator[list[Match]]:
        seen: dict[str, Disclosed] = {}
        count = matches = results = 0
        complete = False
        scope = plan.scope.restrict(datasets)
        found = self.searchable(scope)
        floor = min(cutoff, threshold)
        pool = _fork_pool(found, workers)
        try:
            for scored in _scored_chunks(found, queries, limit, floor, pool, workers):
                for result in self._matches(scope, found, scored, threshold):
                    count += 1
                    matches += sum(m.match for m in result)
                    results += len(result)
                    for entity in _disclosed(result):
                        if entity.id is not None:
                            seen.setdefault(entity.id, entity)
                    yield result
            complete = True
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            self.platform.access.record_results(
                caller, plan, Action.SEARCH, "screening.batch", list(seen.values()),
                queries=count, matches=matches, results=results, complete=complete, **detail)

    def _screen(self, plan: Plan, query: Query, datasets: Sequence[str] | None,
                threshold: float, limit: int, cutoff: float) -> list[Match]:
        scope = plan.scope.restrict(datasets)
        found = self.searchable(scope)
        scored = found.score(query, limit, min(cutoff, threshold))
        return self._matches(scope, found, [scored], threshold)[0]

    def _matches(self, scope: Scope, found: Searchable, scored: Sequence[list[Hit]],
                 threshold: float) -> list[list[Match]]:
        """Matches from scored hits. Only what is returned is read from the store (for a
        batch, in one read per chunk), again through the reader's scope."""
        ids = sorted({found.profile(hit).id for hits in scored for hit in hits})
        view = self.platform.store.view(scope)
        entities = {e.id: e for e in view.get_entities(ids)} if ids else {}
        out: list[list[Match]] = []
        for hits in scored:
            kept: list[Match] = []
            for hit in hits:
                profile = found.profile(hit)
                entity = entities.get(profile.id)
                if entity is None or hit.result is None:
                    continue
                result = hit.result
                match = Match(entity, result.score, result.score >= threshold,
                              result.features, names=result.names)
                for designation in profile.designations:  # same list, hence same scope
                    match.sanctions.append(designation.as_dict())
                    match.sanction_entities.append(designation)
                kept.append(match)
            out.append(rank(kept))
        return out


@dataclass(frozen=True)
class Hit:
    """A candidate of one query: where it is (list, position), its retrieval weight and,
    once scored, its score. Small and picklable, so batch workers can return it."""

    hits: int
    list_index: int
    position: int
    result: Scored | None = None


class Searchable:
    """The lists a scope covers, with the schema filters of the scope applied."""

    def __init__(self, scope: Scope, lists: list[compiled.CompiledList]) -> None:
        self.scope = scope
        self.lists = lists
        self._allowed: dict[tuple[int, str], npt.NDArray[np.bool_]] = {}

    def profile(self, hit: Hit) -> compiled.Profile:
        return self.lists[hit.list_index].profiles[hit.position]

    def _allowed_for(self, index_: int, schema: str) -> npt.NDArray[np.bool_]:
        key = (index_, schema)
        if key not in self._allowed:
            lst = self.lists[index_]
            self._allowed[key] = lst.allowed(self.scope.datasets[lst.dataset],
                                             index.compatible_schemata(schema))
        return self._allowed[key]

    def retrieve(self, query: Query, limit: int) -> list[Hit]:
        """The entities sharing the most (weighted) keys with the query, best first (ties
        by id)."""
        if self.scope.empty or limit <= 0:
            return []
        keys = index.query_keys(query)
        if not keys:
            return []
        found: list[Hit] = []
        for i, lst in enumerate(self.lists):
            allowed = self._allowed_for(i, query.schema)
            found.extend(Hit(hits, i, pos) for hits, pos in lst.search(keys, allowed, limit))
        if len(self.lists) > 1:  # (one list's hits come in this order already)
            found.sort(key=lambda hit: (-hit.hits, self.profile(hit).id))
        return found[:limit]

    def score(self, query: Query, limit: int, floor: float) -> list[Hit]:
        """The best ``limit`` candidates scoring at least ``floor``, scored.

        Candidates are taken in the order of an upper bound of their score
        (``bounds``: from token similarities, no alignment), and scoring stops
        at the first whose bound is below ``floor`` or below the ``limit``-th best score found
        so far: those cannot be returned, so skipping them changes no result."""
        views: dict[str, QueryView] = {}
        table = TokenTable()
        # Candidates grouped by list and kind: one query reading per kind, one batch of
        # bounds per group.
        groups: dict[tuple[int, str], list[Hit]] = {}
        for hit in self.retrieve(query, max(CANDIDATES, limit * 3)):
            groups.setdefault((hit.list_index, self.profile(hit).schema.name), []).append(hit)
        # (bound, hit, query reading, the bounds of each pair of names when known)
        bounded: list[tuple[float, Hit, QueryView, npt.NDArray[np.float64] | None]] = []
        for (list_index, _), members in groups.items():
            lst = self.lists[list_index]
            schema = lst.profiles[members[0].position].schema
            qv = views.get(schema.name)
            if qv is None:
                qv = views[schema.name] = query_view(query, schema)
            pairs: npt.NDArray[np.float64] | None = None
            if qv.person == compiled.natural_reading(schema):  # (the list's arrays apply)
                positions = np.fromiter((h.position for h in members), dtype=np.int64,
                                        count=len(members))
                batch = lst.names.batch(positions)
                pairs = pair_matrix(qv, batch)
                sims = per_candidate(pairs, batch)
                # each candidate's names are a run of the batch's columns
                edges = np.searchsorted(batch.owner, np.arange(len(members) + 1))
                # (only profiles with aliases or weak aliases can equal a name exactly)
                for k in np.flatnonzero(lst.names.keyed[positions]).tolist():
                    if equals_exactly(qv, candidate_view(lst.profiles[members[k].position],
                                                         qv.person)):
                        sims[k] = 1.0
                bounds = finish(qv, sims)
            else:
                bounds = score_bounds(qv, [candidate_view(lst.profiles[h.position], qv.person)
                                           for h in members])
            bounded.extend((bounds[k], members[k], qv,
                            None if pairs is None else pairs[:, edges[k]:edges[k + 1]])
                           for k in np.flatnonzero(bounds >= floor).tolist())
        bounded.sort(key=lambda b: -b[0])
        scored: list[Hit] = []
        best: list[float] = []  # a min-heap of the ``limit`` best scores so far
        for bound, hit, qv, pair_bounds in bounded:
            if len(best) == limit and bound < best[0]:
                break
            result = explain_views(qv, candidate_view(self.profile(hit), qv.person), table,
                                   pair_bounds)
            if result.score >= floor:
                scored.append(Hit(hit.hits, hit.list_index, hit.position, result))
                if len(best) < limit:
                    heapq.heappush(best, result.score)
                elif result.score > best[0]:
                    heapq.heapreplace(best, result.score)
        scored.sort(key=lambda h: (-h.result.score if h.result else 0.0, self.profile(h).id))
        return scored[:limit]


# -- batch workers -----------------------------------------------------------------------------
# A batch can be scored by forked worker processes: they inherit the in-memory lists from the
# parent (copy-on-write), score, and send back small ``Hit`` records; the parent reads the
# returned records from the store and audits. Forking is only offered to callers that own
# their process (the CLI), never inside the server.

_forked: Searchable | None = None


def _score_forked(args: tuple[list[Query], int, float]) -> list[list[Hit]]:
    assert _forked is not None, "a batch worker started without its lists"
    queries, limit, floor = args
    return [_forked.score(query, limit, floor) for query in queries]


def _scored_chunks(found: Searchable, queries: Iterable[Query], limit: int, floor: float,
                   pool: ProcessPoolExecutor | None, workers: int) -> Iterator[list[list[Hit]]]:
    """The queries scored, chunk by chunk, in order. With workers, the next chunk is already
    being scored while the caller reads the store and audits for this one (so the workers
    are not idle during that serial part)."""
    if pool is None:
        for chunk in _chunks(queries, BATCH_CHUNK):
            yield [found.score(q, limit, floor) for q in chunk]
        return
    ahead: deque[list[Future[list[list[Hit]]]]] = deque()
    for chunk in _chunks(queries, BATCH_CHUNK):
        step = max(1, len(chunk) // (4 * workers))
        ahead.append([pool.submit(_score_forked, (chunk[i:i + step], limit, floor))
                      for i in range(0, len(chunk), step)])
        if len(ahead) > 1:
            yield [hits for future in ahead.popleft() for hits in future.result()]
    while ahead:
        yield [hits for future in ahead.popleft() for hits in future.result()]


def _fork_pool(found: Searchable, workers: int) -> ProcessPoolExecutor | None:
    global _forked
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    _forked = found
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork"))


def _chunks(items: Iterable[Query], size: int) -> Iterator[list[Query]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _disclosed(matches: Sequence[Match]) -> list[Disclosed]:
    """Every record a result discloses: the matched entities and their designations."""
    out: list[Disclosed] = []
    for match in matches:
        out.append(match.entity)
        out.extend(match.sanction_entities)
    return out


def _check(threshold: float, limit: int, cutoff: float) -> None:
    if not 0.0 <= threshold <= 1.0 or not 0.0 <= cutoff <= 1.0:
        raise InvalidInput("threshold and cutoff are scores between 0 and 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")

