"""The screening service: index lists, retrieve candidates in the reader's scope, score, audit.

Every screening goes through the policy (``access.plan(caller, Action.SEARCH)``): a reader
only ever retrieves, scores and sees entities of datasets in their scope, and each screening
leaves one audit record (with access receipts for other agencies' records that were returned).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from followthemoney import StatementEntity

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.errors import BinationalError, InvalidInput
from binational.core.platform import Platform
from binational.core.policy import Plan
from binational.core.store import IS_REFERENCE, Scope, expand_schemata
from binational.core.vocab import Action
from binational.screening import index
from binational.screening.matching import DEFAULT_THRESHOLD, Match, Query, make_match, rank

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
        return index.candidates(self.platform.db, scope, query, limit)

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
        seen: dict[str, StatementEntity] = {}
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
        ids = self.candidates(scope, query, max(CANDIDATES, limit * 3))
        view = self.platform.store.view(scope)
        scored = [make_match(query, entity, threshold) for entity in view.get_entities(ids)]
        floor = min(cutoff, threshold)
        kept = rank([m for m in scored if m.score >= floor])[:limit]
        self._attach_sanctions(scope, kept)
        return kept

    def _attach_sanctions(self, scope: Scope, matches: list[Match]) -> None:
        """The designations (Sanction entities pointing at each match) the reader may see."""
        if not matches:
            return
        st = t.statement
        sanction_schemata = sorted(expand_schemata(["Sanction"]))
        q = (sa.select(st.c.entity_id, st.c.value)
             .where(IS_REFERENCE, st.c.prop == "entity", st.c.schema.in_(sanction_schemata),
                    st.c.value.in_([m.id for m in matches]),
                    scope.clause(st.c.dataset, st.c.schema)))
        with self.platform.db.read() as conn:
            pointers = [(r[0], r[1]) for r in conn.execute(q)]
        if not pointers:
            return
        view = self.platform.store.view(scope)
        sanctions = {e.id: e for e in view.get_entities(sorted({p[0] for p in pointers}))}
        for match in matches:
            for sanction_id, target in sorted(pointers):
                entity = sanctions.get(sanction_id)
                if target != match.id or entity is None:
                    continue
                match.sanctions.append(_designation(entity))
                match.sanction_entities.append(entity)


def _designation(entity: StatementEntity) -> dict[str, Any]:
    """A Sanction entity as a match shows it: FtM-style lists of values."""
    return {"id": entity.id,
            "program": sorted(entity.get("program", quiet=True)),
            "authority": sorted(entity.get("authority", quiet=True)),
            "listing_date": sorted(entity.get("listingDate", quiet=True)),
            "datasets": sorted(entity.datasets)}


def _disclosed(matches: Sequence[Match]) -> list[StatementEntity]:
    """Every record a result discloses: the matched entities and their designations."""
    out: list[StatementEntity] = []
    for match in matches:
        out.append(match.entity)
        out.extend(match.sanction_entities)
    return out


def _check(threshold: float, limit: int, cutoff: float) -> None:
    if not 0.0 <= threshold <= 1.0 or not 0.0 <= cutoff <= 1.0:
        raise InvalidInput("threshold and cutoff are scores between 0 and 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")

