"""The screening service: index lists, retrieve candidates in the reader's scope, score, audit.

Every screening goes through the policy (``access.plan(caller, Action.SEARCH)``): a reader
only ever retrieves, scores and sees entities of datasets in their scope, and each screening
leaves one audit record (with access receipts for other agencies' records that were returned).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from binational.core.access import Caller, Disclosed
from binational.core.errors import BinationalError, InvalidInput
from binational.core.platform import Platform
from binational.core.policy import Plan
from binational.core.store import Scope
from binational.core.vocab import Action
from binational.screening import compiled, index
from binational.screening.matching import (
    DEFAULT_THRESHOLD,
    Match,
    Query,
    Scored,
    explain,
    rank,
)

CANDIDATES = 50
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
        return [profile.id for _, profile in self._retrieve(scope, query, limit)]

    def _retrieve(self, scope: Scope, query: Query, limit: int
                  ) -> list[tuple[int, compiled.Profile]]:
        """The entities in scope sharing the most (weighted) keys with the query, from the
        in-memory lists, as ``(hits, profile)``, best first (ties by id)."""
        if scope.empty or limit <= 0:
            return []
        keys = index.query_keys(query)
        if not keys:
            return []
        compatible = index.compatible_schemata(query.schema)
        found: list[tuple[int, compiled.Profile]] = []
        for lst in compiled.lists_in(self.platform.db, scope.datasets):
            allowed = lst.allowed(scope.datasets[lst.dataset], compatible)
            found.extend((hits, lst.profiles[pos]) for hits, pos in
                         lst.search(keys, allowed, limit))
        found.sort(key=lambda hit: (-hit[0], hit[1].id))
        return found[:limit]

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
                    cutoff: float = DEFAULT_CUTOFF) -> Iterator[list[Match]]:
        """Screen a batch, yielding one result list per query, in order. The batch is planned
        now (a refusal raises here) and audited once, with counts, when the iteration ends
        or is abandoned; the queries themselves are neither kept nor logged."""
        detail: dict[str, Any] = {"threshold": threshold, "datasets": list(datasets or [])}
        access = self.platform.access
        try:
            _check(threshold, limit, cutoff)
            plan = access.plan(caller, Action.SEARCH)
        except BinationalError as exc:
            access.record_failure(caller, "screening.batch", exc, **detail)
            raise
        return self._batch(caller, plan, queries, datasets, threshold, limit, cutoff, detail)

    def _batch(self, caller: Caller, plan: Plan, queries: Iterable[Query],
               datasets: Sequence[str] | None, threshold: float, limit: int, cutoff: float,
               detail: dict[str, Any]) -> Iterator[list[Match]]:
        seen: dict[str, Disclosed] = {}
        count = matches = results = 0
        complete = False
        try:
            for query in queries:
                found = self._screen(plan, query, datasets, threshold, limit, cutoff)
                count += 1
                matches += sum(m.match for m in found)
                results += len(found)
                for entity in _disclosed(found):
                    if entity.id is not None:
                        seen.setdefault(entity.id, entity)
                yield found
            complete = True
        finally:
            self.platform.access.record_results(
                caller, plan, Action.SEARCH, "screening.batch", list(seen.values()),
                queries=count, matches=matches, results=results, complete=complete, **detail)

    def _screen(self, plan: Plan, query: Query, datasets: Sequence[str] | None,
                threshold: float, limit: int, cutoff: float) -> list[Match]:
        scope = plan.scope.restrict(datasets)
        floor = min(cutoff, threshold)
        scored: list[tuple[Scored, compiled.Profile]] = []
        for _, profile in self._retrieve(scope, query, max(CANDIDATES, limit * 3)):
            result = explain(query, profile)
            if result.score >= floor:
                scored.append((result, profile))
        scored.sort(key=lambda item: (-item[0].score, item[1].id))
        top = scored[:limit]
        if not top:
            return []
        # Only what is returned is read from the store, again through the reader's scope.
        view = self.platform.store.view(scope)
        entities = {e.id: e for e in view.get_entities([p.id for _, p in top])}
        kept: list[Match] = []
        for result, profile in top:
            entity = entities.get(profile.id)
            if entity is None:
                continue
            match = Match(entity, result.score, result.score >= threshold, result.features,
                          names=result.names)
            for designation in profile.designations:  # same list, hence same scope
                match.sanctions.append(designation.as_dict())
                match.sanction_entities.append(designation)
            kept.append(match)
        return rank(kept)


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

