"""Statement store: a small interface (``writer`` and ``view``) over SQL, as in nomenklatura.

A ``View`` is bound to a ``Scope``: the datasets (and, per dataset, optionally the schemata) its
reader may see for one action and purpose. Scopes are made only by the policy decision point
(``policy.plan``); the store compiles them into a WHERE clause, so every fetch, list, count and
export of a view is filtered by the same rule that ``policy.check`` applies to a single record.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from followthemoney import Dataset, EntityProxy, Statement, StatementEntity, model
from followthemoney.exc import InvalidData
from followthemoney.namespace import Namespace
from followthemoney.statement.util import BASE_ID
from normality import normalize
from sqlalchemy.engine import Connection

from binational.core import tables as t
from binational.core.db import Database, chunked
from binational.core.errors import InvalidInput, NotFound

MAX_TOKEN = 64
# FtM's entity id rule (followthemoney.types.entity), compiled here to avoid its cleaning
# wrapper on the hot path.
ENTITY_ID = re.compile(r"^[0-9a-zA-Z]([0-9a-zA-Z\.\-]*[0-9a-zA-Z])?$")
MAX_ID = 255 - 41  # room for the namespace signature ('.' + 40 hex digits)
BATCH = 50_000
# Key columns first, so that sorting a batch of rows sorts it in primary-key order.
STATEMENT_COLUMNS = ("entity_id", "dataset", "id", "schema", "prop", "prop_type", "value",
                     "lang", "origin", "first_seen", "last_seen")
TEXT_COLUMNS = ("dataset", "entity_id", "text_hash", "schema", "text")
# A literal, not a bound parameter, so that planners can use the partial index on it.
IS_ENTITY_ROW = sa.text("statement.prop = 'id'")
IS_REFERENCE = sa.text("statement.prop_type = 'entity'")


@dataclass(frozen=True)
class Scope:
    """Datasets a reader may see; ``None`` for a dataset means every schema in it."""

    datasets: Mapping[str, frozenset[str] | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.datasets

    def contains(self, dataset: str, schema: str | None = None) -> bool:
        if dataset not in self.datasets:
            return False
        schemata = self.datasets[dataset]
        if schemata is None:
            return True
        return schema is not None and schema_in(schema, schemata)

    def restrict(self, datasets: Iterable[str] | None) -> Scope:
        """Narrow to the datasets a query names (never widens)."""
        if datasets is None:
            return self
        wanted = set(datasets)
        return Scope({d: s for d, s in self.datasets.items() if d in wanted})

    def clause(self, dataset_col: Any, schema_col: Any = None) -> sa.ColumnElement[bool]:
        """The WHERE clause for rows of any owned table (statements, or a capability's own
        table with a ``dataset`` column). Without a schema column, schema-filtered datasets
        are left out: a filter that cannot be applied must not widen what is seen."""
        if self.empty:
            return sa.false()
        whole = sorted(d for d, s in self.datasets.items() if s is None)
        parts: list[sa.ColumnElement[bool]] = []
        if whole:
            parts.append(dataset_col.in_(whole))
        for ds, schemata in sorted(self.datasets.items()):
            if schemata is not None and schema_col is not None:
                names = sorted(expand_schemata(schemata))
                parts.append(sa.and_(dataset_col == ds, schema_col.in_(names)))
        return sa.or_(*parts) if parts else sa.false()


def expand_schemata(names: Iterable[str]) -> set[str]:
    """A grant on ``LegalEntity`` covers ``Person`` and ``Company``: expand to descendants."""
    out: set[str] = set()
    for name in names:
        schema = model.get(name)
        if schema is None:
            continue
        out.add(schema.name)
        out.update(s.name for s in schema.descendants)
    return out


def schema_in(schema: str, schemata: frozenset[str]) -> bool:
    obj = model.get(schema)
    return obj is not None and any(obj.is_a(s) for s in schemata)


def name_tokens(value: str) -> set[str]:
    # Lower-case again after transliteration: a script capital becomes "A" only in ASCII.
    text = (normalize(value, lowercase=True, ascii=True) or "").lower()
    if not text:
        return set()
    return {tok[:MAX_TOKEN] for tok in text.split() if len(tok) > 1 or tok.isdigit()}


def escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WriteStats:
    entities: int = 0
    statements_new: int = 0
    statements_seen: int = 0
    deleted: int = 0


class StoreWriter:
    """Writes statements into one dataset within one transaction (all or nothing).

    Entity ids are signed with the dataset's namespace (followthemoney's ``Namespace``), so an
    owner can neither collide with nor inject statements into another owner's entities.
    """

    def __init__(self, store: Store, conn: Connection, dataset: str, origin: str | None) -> None:
        self.store = store
        self._conn = conn
        self._pending: Future[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.dataset = dataset
        self.origin = origin
        found = conn.execute(sa.select(t.dataset.c.name).where(t.dataset.c.name == dataset))
        if found.first() is None:  # the statement table has no foreign key to check this
            raise NotFound(f"no dataset {dataset!r}")
        self.namespace = Namespace(dataset)
        self.now = utcnow()
        self._now = store.db.bulk_value(self.now)
        self.stats = WriteStats()
        self._rows: list[tuple[Any, ...]] = []
        self._texts: list[tuple[str, str, str, str, str]] = []
        self._signature = self.namespace.signature
        # (entity_id, key) of every statement and name-text row written, when a caller that
        # replaces the dataset's contents needs to know what this writer did not write.
        self.written: set[tuple[str, str]] | None = None
        self.written_texts: set[tuple[str, str]] | None = None

    def track(self) -> None:
        """Remember the keys of everything written from now on (see ``written``)."""
        self.written = set()
        self.written_texts = set()

    def sign(self, entity_id: str) -> str:
        """Sign an id into this dataset's namespace (kept as is when already signed by it).

        Unlike ``Namespace.sign`` this never strips a trailing ``.part`` of a foreign id as
        if it were an old signature: ``acme.1`` and ``acme.2`` must stay two entities.
        """
        if len(entity_id) > MAX_ID or not ENTITY_ID.match(entity_id):
            raise InvalidInput(
                f"invalid entity id {entity_id[:80]!r}: ids start and end with a letter or "
                f"digit, use only letters, digits, '.' and '-', and have at most {MAX_ID} "
                "characters")
        plain, _, mark = entity_id.rpartition(".")
        if plain and hmac.compare_digest(mark, str(self._signature(plain))):
            return entity_id
        return f"{entity_id}.{self._signature(entity_id)}"

    def add_entity(self, entity: EntityProxy) -> str:
        """Add an entity's values; returns its (signed) id. Entity references are signed too."""
        if entity.id is None:
            raise InvalidInput(f"{entity.schema.name} entity has no id")
        entity_id = self.sign(entity.id)
        schema = entity.schema.name
        self._add(entity_id, schema, BASE_ID, "id", entity_id, None)
        words: set[str] = set()
        for prop, value in entity.itervalues():
            type_name = prop.type.name
            if type_name == "entity":
                value = self.sign(value)
            elif type_name == "name":
                words.update(name_tokens(value))
            self._add(entity_id, schema, prop.name, type_name, value, None)
        if words:
            text = f" {' '.join(sorted(words))} "
            digest = hashlib.sha1(text.encode()).hexdigest()[:16]  # noqa: S324 - a key, not security
            self._texts.append((self.dataset, entity_id, digest, schema, text))
            if self.written_texts is not None:
                self.written_texts.add((entity_id, digest))
        self.stats.entities += 1
        if len(self._rows) >= BATCH:
            self._flush_behind()
        return entity_id

    def _add(self, entity_id: str, schema: str, prop: str, prop_type: str, value: str,
             lang: str | None) -> None:
        key = Statement.make_key(self.dataset, entity_id, prop, value, False, lang=lang)
        if self.written is not None and key is not None:
            self.written.add((entity_id, key))
        self._rows.append((entity_id, self.dataset, key, schema, prop, prop_type, value, lang,
                           self.origin, self._now, self._now))

    @property
    def conn(self) -> Connection:
        """The transaction's connection, once no batch is being written on it."""
        self._wait()
        return self._conn

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a failed batch here, in the caller's thread

    def _write(self, rows: list[tuple[Any, ...]], texts: list[tuple[str, str, str, str, str]]
               ) -> None:
        db = self.store.db
        # Sorted by primary key, inserts walk the index pages in order instead of at random.
        rows.sort()
        texts.sort()
        new = db.bulk_insert_ignore(self._conn, t.statement, STATEMENT_COLUMNS, rows)
        self.stats.statements_new += new
        self.stats.statements_seen += len(rows) - new
        db.bulk_insert_ignore(self._conn, t.entity_text, TEXT_COLUMNS, texts)

    def _flush_behind(self) -> None:
        """Write the batch on a worker thread while the caller prepares the next one: the
        database driver releases the GIL, so cleaning and inserting overlap on two cores.
        At most one batch is in flight, and only the worker touches the connection then."""
        self._wait()
        rows, texts = self._rows, self._texts
        self._rows, self._texts = [], []
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bn-writer")
        self._pending = self._executor.submit(self._write, rows, texts)

    def flush(self) -> None:
        """Write everything buffered and wait for it (call before the transaction ends)."""
        self._wait()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        rows, texts = self._rows, self._texts
        self._rows, self._texts = [], []
        if rows or texts:
            self._write(rows, texts)

    def abandon(self) -> None:
        """Stop after a failure: wait for a batch in flight (ignoring its outcome) so that the
        caller's rollback never races a write on the same connection; drop the buffers."""
        pending, self._pending = self._pending, None
        if pending is not None:
            with contextlib.suppress(Exception):  # the failure being handled matters more
                pending.result()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._rows, self._texts = [], []

    def delete_entity(self, entity_id: str) -> int:
        """Delete every statement of an entity in this dataset; returns how many."""
        self.flush()
        st = t.statement
        res = self.conn.execute(
            sa.delete(st).where(st.c.dataset == self.dataset, st.c.entity_id == entity_id)
        )
        et = t.entity_text
        self.conn.execute(
            sa.delete(et).where(et.c.dataset == self.dataset, et.c.entity_id == entity_id))
        self.stats.deleted += int(res.rowcount or 0)
        return int(res.rowcount or 0)


class View:
    """What one reader may see for one action: every method filters by the scope."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        st = t.statement
        self._where = scope.clause(st.c.dataset, st.c.schema)

    def statements(self, entity_id: str) -> list[Statement]:
        st = t.statement
        q = sa.select(st).where(st.c.entity_id == entity_id, self._where)
        with self.store.db.read() as conn:
            return [row_to_statement(r) for r in conn.execute(q).mappings()]

    def get_entity(self, entity_id: str) -> StatementEntity | None:
        return assemble(entity_id, self.statements(entity_id))

    def _entity_query(self, q: str | None, schema: str | None) -> sa.Select[Any]:
        """Distinct entity ids (with their dataset) matching a query, within the scope."""
        st = t.statement
        if q:
            words = sorted(name_tokens(q))
            if not words:
                raise InvalidInput(f"search text {q!r} has no searchable words")
            et = t.entity_text
            # Every word must start a word of the entity's names ("garc" finds "García").
            matches = [et.c.text.like(f"% {escape_like(w)}%", escape="\\") for w in words]
            sel = (sa.select(et.c.entity_id)
                   .where(self.scope.clause(et.c.dataset, et.c.schema), *matches)
                   .distinct())
            if schema:
                sel = sel.where(et.c.schema.in_(sorted(expand_schemata([schema]))))
            return sel
        sel = sa.select(st.c.entity_id).where(IS_ENTITY_ROW, self._where).distinct()
        if schema:
            sel = sel.where(st.c.schema.in_(sorted(expand_schemata([schema]))))
        return sel

    def search(self, q: str | None = None, schema: str | None = None, limit: int = 20,
               offset: int = 0) -> list[StatementEntity]:
        ids_q = self._entity_query(q, schema).order_by("entity_id").limit(limit).offset(offset)
        with self.store.db.read() as conn:
            ids = [r[0] for r in conn.execute(ids_q)]
        return self.get_entities(ids)

    def count(self, q: str | None = None, schema: str | None = None) -> int:
        sub = self._entity_query(q, schema).subquery()
        with self.store.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(sub)).scalar_one())

    def get_entities(self, ids: Sequence[str]) -> list[StatementEntity]:
        if not ids:
            return []
        st = t.statement
        grouped: dict[str, list[Statement]] = defaultdict(list)
        with self.store.db.read() as conn:
            for batch in chunked(ids, 500):
                q = sa.select(st).where(st.c.entity_id.in_(batch), self._where)
                for row in conn.execute(q).mappings():
                    grouped[row["entity_id"]].append(row_to_statement(row))
        out = [assemble(i, grouped.get(i, [])) for i in ids]
        return [e for e in out if e is not None]

    def entities(self, schema: str | None = None, batch: int = 1000) -> Iterator[StatementEntity]:
        """Stream every visible entity (for export), in id order, with keyset pagination."""
        last = ""
        st = t.statement
        while True:
            sel = self._entity_query(None, schema).where(st.c.entity_id > last)
            sel = sel.order_by(st.c.entity_id).limit(batch)
            with self.store.db.read() as conn:
                ids = [r[0] for r in conn.execute(sel)]
            if not ids:
                return
            yield from self.get_entities(ids)
            last = ids[-1]

    def datasets(self, entity_id: str) -> list[str]:
        st = t.statement
        q = sa.select(st.c.dataset).where(st.c.entity_id == entity_id, self._where).distinct()
        with self.store.db.read() as conn:
            return sorted(r[0] for r in conn.execute(q))


def row_to_statement(row: Any) -> Statement:
    return Statement(
        id=row["id"], entity_id=row["entity_id"], prop=row["prop"], schema=row["schema"],
        value=row["value"], dataset=row["dataset"], lang=row["lang"],
        original_value=row["original_value"], origin=row["origin"],
        first_seen=_iso(row["first_seen"]), last_seen=_iso(row["last_seen"]),
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).isoformat(timespec="seconds"))


_UNDEFINED = Dataset({"name": "binational", "title": "Binational"})


def assemble(entity_id: str, statements: list[Statement]) -> StatementEntity | None:
    """Build an entity from the statements a reader may see (None when there are none)."""
    if not statements:
        return None
    try:
        entity = StatementEntity.from_statements(_UNDEFINED, statements)
    except InvalidData as exc:
        raise InvalidInput(f"entity {entity_id} has incompatible schemata: {exc}") from exc
    entity.id = entity_id
    return entity


class Store:
    """Statements of every dataset, behind ``writer(dataset)`` and ``view(scope)``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def view(self, scope: Scope) -> View:
        return View(self, scope)

    def writer(self, conn: Connection, dataset: str, origin: str | None = None) -> StoreWriter:
        """A writer inside the caller's write transaction (``with db.write() as conn``)."""
        return StoreWriter(self, conn, dataset, origin)

    def dataset_counts(self, datasets: Iterable[str]) -> dict[str, int]:
        st = t.statement
        names = sorted(set(datasets))
        if not names:
            return {}
        q = (
            sa.select(st.c.dataset, sa.func.count())
            .where(st.c.dataset.in_(names), IS_ENTITY_ROW)
            .group_by(st.c.dataset)
        )
        with self.db.read() as conn:
            counts = {r[0]: int(r[1]) for r in conn.execute(q)}
        return {n: counts.get(n, 0) for n in names}
