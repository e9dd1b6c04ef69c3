"""Each indexed list held in memory, per process: its postings and the values matching reads.

Why in memory: a query answered from the database spent most of its time there (a GROUP BY
over the postings of every key, then assembling fifty candidates from their statements).
yente keeps its index in a search engine's memory for the same reason. The persistent index
stays in the database (``screening_key``, rebuilt at every list load); this module is a cache
of it, loaded on first use (about half a second for the full SDN list), checked against the
list's ``generation`` at most every ``RECHECK_SECONDS`` (so another process's reload is seen
within that time) and dropped at once when this process rebuilds the list. Loading also
analyses every listed name for matching (``matching.CandidateView``): about 3 s for the full
SDN list, paid by the first query after a reload.

Retrieval (``CompiledList.search``) counts, per entity, the weighted keys it shares with the
query with NumPy, restricted to the schemata the reader's scope allows; the rarity weights
and caps are those of ``screening.index``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from followthemoney import model
from followthemoney.schema import Schema
from sqlalchemy.engine import Connection

from binational.core import tables as t
from binational.core.db import Database
from binational.core.store import expand_schemata
from binational.screening import index
from binational.screening.bounds import ListNames
from binational.screening.matching import (
    COUNTRY_PROPS,
    CandidateView,
    candidate_view,
    identifier_props,
)
from binational.screening.tables import screening_key, screening_list

RECHECK_SECONDS = 1.0
MAX_CACHED = 16  # lists (per database) kept in memory by one process
MATCH_PROPS = (*index.NAME_PROPS, *COUNTRY_PROPS, "birthDate", "gender")


@dataclass(frozen=True)
class Designation:
    """A Sanction entity of the list that points at a listed entity."""

    id: str
    dataset: str
    program: tuple[str, ...]
    authority: tuple[str, ...]
    listing_date: tuple[str, ...]

    @property
    def datasets(self) -> set[str]:  # (what the audit trail names, like an entity's)
        return {self.dataset}

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "program": list(self.program),
                "authority": list(self.authority), "listing_date": list(self.listing_date),
                "datasets": [self.dataset]}


class Profile:
    """A candidate as matching sees it: id, schema and the values of the properties that
    ``matching.explain`` reads (``get`` has the signature of ``EntityProxy.get``), and the
    designations of the list that point at it."""

    __slots__ = ("designations", "id", "schema", "values", "views")

    def __init__(self, entity_id: str, schema: Schema, values: dict[str, list[str]]) -> None:
        self.id = entity_id
        self.schema = schema
        self.values = values
        self.designations: list[Designation] = []
        # What matching works out of the values, kept from the first query on (per reading of
        # the names as a person's or not): see ``matching.candidate_view``.
        self.views: dict[bool, CandidateView] = {}

    def get(self, prop: str, quiet: bool = False) -> list[str]:
        return self.values.get(prop, [])


@dataclass
class CompiledList:
    dataset: str
    generation: int
    profiles: list[Profile]
    schema_codes: npt.NDArray[np.int16]  # per entity: index into ``schema_names``
    schema_names: list[str]
    postings: dict[str, npt.NDArray[np.int32]]
    id_rank: npt.NDArray[np.int64]  # per entity: its place in the order of ids (tie-breaks)
    # Every profile's names as arrays, each read as its own kind's (a person's names as a
    # person's): what the score bounds of a query's candidates gather from.
    names: ListNames

    def __len__(self) -> int:
        return len(self.profiles)

    def allowed(self, schemata: frozenset[str] | None, compatible: Iterable[str]
                ) -> npt.NDArray[np.bool_]:
        """Per entity: may a query see it (scope filter) and match it (compatible schema)?"""
        ok = set(compatible)
        by_code = np.zeros(len(self.schema_names), dtype=bool)
        for code, name in enumerate(self.schema_names):
            schema = model.get(name)
            in_scope = schemata is None or (schema is not None
                                            and any(schema.is_a(s) for s in schemata))
            by_code[code] = name in ok and in_scope
        return by_code[self.schema_codes]

    def search(self, keys: Iterable[str], allowed: npt.NDArray[np.bool_], limit: int
               ) -> list[tuple[int, int]]:
        """The best ``limit`` entities as ``(hits, position)``, most hits first (``allowed``:
        per entity, from ``allowed``)."""
        postings = self.postings
        counts = {k: len(postings[k]) for k in keys if k in postings}
        if not counts or limit <= 0:
            return []
        usable = {k: n for k, n in counts.items()
                  if n <= index.MAX_POSTINGS or k.startswith("i:")}
        if not usable:  # only very common keys: use the two rarest rather than nothing
            usable = dict(sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))[:2])
        hits = np.zeros(len(self.profiles), dtype=np.int32)
        for key, n in usable.items():
            # A key's posting list holds each entity once, so fancy-index addition is exact.
            hits[postings[key]] += index.weight(key, n)
        found = np.flatnonzero(hits)
        found = found[allowed[found]]
        if len(found) > limit:
            # Keep every entity tied with the last place, then break ties by id below.
            kth = np.partition(hits[found], len(found) - limit)[len(found) - limit]
            found = found[hits[found] >= kth]
        ranked = found[np.lexsort((self.id_rank[found], -hits[found]))][:limit]
        return list(zip(hits[ranked].tolist(), ranked.tolist(), strict=True))


def _identifier_prop_names() -> list[str]:
    return sorted({p for s in model.schemata.values() if index.indexed(s)
                   for p in identifier_props(s)})


def load(db: Database, dataset: str, generation: int) -> CompiledList:
    """Read one list's keys and matching values from the database."""
    st = t.statement
    positions: dict[str, int] = {}
    schema_names: list[str] = []
    schema_index: dict[str, int] = {}
    codes: list[int] = []
    profiles: list[Profile] = []
    by_key: dict[str, list[int]] = defaultdict(list)
    props = sorted({*MATCH_PROPS, *_identifier_prop_names()})
    with db.read() as conn:
        keys_q = (sa.select(screening_key.c.key, screening_key.c.entity_id,
                            screening_key.c.schema)
                  .where(screening_key.c.dataset == dataset))
        for key, entity_id, schema_name in conn.execute(keys_q):
            pos = positions.get(entity_id)
            if pos is None:
                schema = model.get(schema_name)
                if schema is None:
                    continue
                pos = positions[entity_id] = len(profiles)
                profiles.append(Profile(entity_id, schema, {}))
                if schema_name not in schema_index:
                    schema_index[schema_name] = len(schema_names)
                    schema_names.append(schema_name)
                codes.append(schema_index[schema_name])
            by_key[key].append(pos)
        values_q = (sa.select(st.c.entity_id, st.c.prop, st.c.value)
                    .where(st.c.dataset == dataset, st.c.prop.in_(props)))
        for entity_id, prop, value in conn.execute(values_q):
            pos = positions.get(entity_id)
            if pos is not None:
                profiles[pos].values.setdefault(prop, []).append(value)
        _attach_designations(conn, dataset, positions, profiles)
    # What matching reads of each profile, worked out now rather than at a profile's first
    # query (about 0.1 ms each): queries stay fast from the first, and batch workers forked
    # from this process share the work instead of each redoing it.
    views = [candidate_view(profile, natural_reading(profile.schema)) for profile in profiles]
    postings = {k: np.asarray(v, dtype=np.int32) for k, v in by_key.items()}
    id_rank = np.empty(len(profiles), dtype=np.int64)
    id_rank[sorted(range(len(profiles)), key=lambda i: profiles[i].id)] = np.arange(len(profiles))
    return CompiledList(dataset, generation, profiles, np.asarray(codes, dtype=np.int16),
                        schema_names, postings, id_rank, ListNames.of_views(views))


def natural_reading(schema: Schema) -> bool:
    """Whether a listed entity's names are read as a person's when it is loaded (a query of
    another kind reads them its own way: see ``matching.query_view``)."""
    return schema.is_a("Person")


def _attach_designations(conn: Connection, dataset: str, positions: dict[str, int],
                         profiles: list[Profile]) -> None:
    """The list's Sanction entities, on the profiles they point at. Entity ids are signed into
    their dataset's namespace, so a designation can only point within its own list."""
    st = t.statement
    q = (sa.select(st.c.entity_id, st.c.prop, st.c.value)
         .where(st.c.dataset == dataset,
                st.c.schema.in_(sorted(expand_schemata(["Sanction"]))),
                st.c.prop.in_(["entity", "program", "authority", "listingDate"]))
         .order_by(st.c.entity_id, st.c.prop, st.c.value))
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for sanction_id, prop, value in conn.execute(q):
        found[sanction_id][prop].append(value)
    for sanction_id, props in sorted(found.items()):
        designation = Designation(sanction_id, dataset, tuple(props["program"]),
                                  tuple(props["authority"]), tuple(props["listingDate"]))
        for target in props["entity"]:
            pos = positions.get(target)
            if pos is not None:
                profiles[pos].designations.append(designation)


class _Cache:
    """Compiled lists by (database, dataset), thread-safe, least recently used dropped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lists: OrderedDict[tuple[str, str], CompiledList | None] = OrderedDict()
        self.checked: dict[tuple[str, str], float] = {}

    def get(self, db: Database, dataset: str) -> CompiledList | None:
        key = (str(db.url), dataset)
        now = time.monotonic()
        with self.lock:
            if key in self.lists and now - self.checked.get(key, 0.0) < RECHECK_SECONDS:
                self.lists.move_to_end(key)
                return self.lists[key]
        generation = current_generation(db, dataset)
        with self.lock:  # one load at a time per process: loads are short and rare
            cached = self.lists.get(key)
            if generation is None:
                compiled = None
            elif cached is not None and cached.generation == generation:
                compiled = cached
            else:
                compiled = load(db, dataset, generation)
            self.lists[key] = compiled
            self.lists.move_to_end(key)
            self.checked[key] = time.monotonic()
            while len(self.lists) > MAX_CACHED:
                old, _ = self.lists.popitem(last=False)
                self.checked.pop(old, None)
            return compiled

    def forget(self, db: Database, dataset: str) -> None:
        with self.lock:
            self.lists.pop((str(db.url), dataset), None)
            self.checked.pop((str(db.url), dataset), None)


_cache = _Cache()


def current_generation(db: Database, dataset: str) -> int | None:
    """The list's generation; None when it has no index. A list indexed before generations
    were kept counts as generation 0."""
    with db.read() as conn:
        row = conn.execute(sa.select(screening_list.c.generation)
                           .where(screening_list.c.dataset == dataset)).first()
        if row is not None:
            return int(row[0])
        has_keys = conn.execute(sa.select(screening_key.c.key)
                                .where(screening_key.c.dataset == dataset).limit(1)).first()
    return 0 if has_keys is not None else None


def compiled(db: Database, dataset: str) -> CompiledList | None:
    """The in-memory list of an indexed dataset (None if it has no index)."""
    return _cache.get(db, dataset)


def forget(db: Database, dataset: str) -> None:
    """Drop this process's copy (after a rebuild)."""
    _cache.forget(db, dataset)


def lists_in(db: Database, datasets: Iterable[str]) -> Iterator[CompiledList]:
    for name in sorted(datasets):
        found = compiled(db, name)
        if found is not None and len(found):
            yield found
