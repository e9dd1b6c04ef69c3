"""The candidate index: retrieval keys per entity, so screening never scans a whole list.

Keys (``names.index_keys`` and ``identifier_key``):

- folded name tokens (``oseguera``), weighted most among name keys;
- ``p:`` Spanish phonetic keys (``p:osegera`` for Oseguera and Ozeguera);
- ``s:`` consonant skeletons of longer tokens (``s:sgr``: Osegura, Oseguera);
- ``i:`` normalised identifiers (``i:OECA580820HMNSRN04``), which outrank any name evidence.

Retrieval counts, per entity in the reader's scope, the weighted keys it shares with the query,
and keeps the best ``limit``. A key's weight falls with the size of its posting list (a hit on
"oseguera" says more than one on "jose"), and keys held by more than ``MAX_POSTINGS`` entities
in scope are skipped altogether (unless nothing else is left), as are stopwords.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache, lru_cache

import sqlalchemy as sa
from followthemoney import model
from followthemoney.schema import Schema
from sqlalchemy.engine import Connection

from binational.core import tables as t
from binational.core.db import Database
from binational.core.store import IS_ENTITY_ROW
from binational.screening.matching import (
    FULL_NAME_PROPS,
    GIVEN_PROPS,
    NOT_IDENTITY,
    SURNAME_PROPS,
    WEAK_NAME_PROPS,
    Query,
    normalize_identifier,
)
from binational.screening.names import analyze, index_keys
from binational.screening.tables import screening_key, screening_list

INDEXED_SCHEMATA = ("LegalEntity", "Vessel", "Airplane")
NAME_PROPS = (*FULL_NAME_PROPS, *WEAK_NAME_PROPS, *GIVEN_PROPS, *SURNAME_PROPS)
# Measured on the OFAC SDN list of 2024-05-03 (14,965 entries, 122,472 keys): the commonest
# keys are "s:mmd" (Muhammad, Mohammed...: 592 entities), "trading" (280), "abu" (264) and
# "ali" (249). Rarity weighting already discounts those; the cap only bites on lists several
# times larger, where such a key would cost more to count than it tells.
MAX_POSTINGS = 2000
# Never identifying, in any list: Spanish particles and legal-form words (the analysis already
# drops most of them; these are the stragglers, e.g. from abbreviations).
STOPWORDS = frozenset({"de", "del", "la", "las", "los", "y", "el", "sa", "cv", "rl", "sapi",
                       "sab", "inc", "llc", "ltd", "co", "corp", "the", "and", "of"})
ID_WEIGHT = 1000
TOKEN_WEIGHT = 3  # per unit of rarity; phonetic and skeleton keys count less
MIN_ID = 5
MAX_KEY = 64


def identifier_key(value: str) -> str | None:
    norm = normalize_identifier(value)
    if len(norm) < MIN_ID:
        return None
    return f"i:{norm}"[:MAX_KEY]


def indexed(schema: Schema) -> bool:
    return any(schema.is_a(s) for s in INDEXED_SCHEMATA)


def _indexed_names() -> list[str]:
    return sorted({s.name for s in model.schemata.values() if indexed(s)})


def _identifier_props() -> list[str]:
    out: set[str] = set()
    for schema in model.schemata.values():
        if indexed(schema):
            out.update(name for name, prop in schema.properties.items()
                       if prop.type.name == "identifier" and name not in NOT_IDENTITY)
    return sorted(out)


def entity_keys(schema: Schema, props: dict[str, list[str]]) -> set[str]:
    """Every retrieval key of an entity, from its name and identifier values."""
    person = schema.is_a("Person")
    keys: set[str] = set()
    for prop in NAME_PROPS:
        for value in props.get(prop, ()):
            keys.update(index_keys(analyze(value, person)))
            for nick in analyze(value, person).nicknames:
                keys.update(index_keys(analyze(nick, person)))
    for prop, values in props.items():
        if prop in NAME_PROPS:
            continue
        for value in values:
            key = identifier_key(value)
            if key:
                keys.add(key)
    return {k[:MAX_KEY] for k in keys if k.split(":")[-1] not in STOPWORDS}


def query_keys(query: Query) -> set[str]:
    schema = model.get(query.schema)
    assert schema is not None
    person = schema.is_a("Person") or not schema.is_a("Organization")
    keys: set[str] = set()
    for value in (query.name, *query.aliases):
        for form in {person, not person} if schema.name == "LegalEntity" else {person}:
            name = analyze(value, form)
            keys.update(index_keys(name))
            for nick in name.nicknames:
                keys.update(index_keys(analyze(nick, form)))
    for ident in query.identifiers:
        key = identifier_key(ident)
        if key:
            keys.add(key)
    return {k[:MAX_KEY] for k in keys if k.split(":")[-1] not in STOPWORDS}


@cache
def compatible_schemata(schema_name: str) -> tuple[str, ...]:
    """Indexed schemata a query of this schema may match (ancestors and descendants)."""
    schema = model.get(schema_name)
    assert schema is not None
    return tuple(sorted(s.name for s in model.schemata.values()
                        if indexed(s) and (s.is_a(schema) or schema.is_a(s))))


def _statement_rows(conn: Connection, dataset: str) -> Iterator[tuple[str, str, str, str]]:
    st = t.statement
    props = sorted({*NAME_PROPS, *_identifier_props()})
    q = (sa.select(st.c.entity_id, st.c.schema, st.c.prop, st.c.value)
         .where(st.c.dataset == dataset, st.c.schema.in_(_indexed_names()),
                st.c.prop.in_(props))
         .order_by(st.c.entity_id))
    for row in conn.execute(q):
        yield row[0], row[1], row[2], row[3]


def _by_entity(rows: Iterable[tuple[str, str, str, str]]
               ) -> Iterator[tuple[str, str, dict[str, list[str]]]]:
    current: str | None = None
    schemata: set[str] = set()
    props: dict[str, list[str]] = defaultdict(list)
    for entity_id, schema, prop, value in rows:
        if entity_id != current:
            if current is not None:
                yield current, _one_schema(schemata), props
            current, schemata, props = entity_id, set(), defaultdict(list)
        schemata.add(schema)
        props[prop].append(value)
    if current is not None:
        yield current, _one_schema(schemata), props


def _one_schema(names: set[str]) -> str:
    if len(names) == 1:
        return next(iter(names))
    try:
        return str(model.common_schema(*sorted(names)).name)
    except Exception:  # incompatible schemata: index under the first one
        return sorted(names)[0]


def rebuild(db: Database, dataset: str) -> int:
    """Replace a dataset's keys with keys computed from its statements, in one write
    transaction; returns how many entities were indexed."""
    tbl = screening_key
    entities = 0
    with db.write() as conn:
        conn.execute(sa.delete(tbl).where(tbl.c.dataset == dataset))
        rows: list[tuple[str, str, str, str]] = []
        for entity_id, schema_name, props in _by_entity(_statement_rows(conn, dataset)):
            schema = model.get(schema_name)
            if schema is None or not indexed(schema):
                continue
            entities += 1
            for key in entity_keys(schema, props):
                rows.append((dataset, key, entity_id, schema.name))
            if len(rows) >= 50_000:
                db.bulk_insert_ignore(conn, tbl, ("dataset", "key", "entity_id", "schema"), rows)
                rows = []
        db.bulk_insert_ignore(conn, tbl, ("dataset", "key", "entity_id", "schema"), rows)
        _bump_generation(conn, dataset, entities)
    from binational.screening import compiled  # (compiled reads this module's constants)

    compiled.forget(db, dataset)
    return entities


def _bump_generation(conn: Connection, dataset: str, entities: int) -> None:
    """One more generation of the list: processes holding it in memory reload it."""
    tbl = screening_list
    now = datetime.now(UTC)
    done = conn.execute(sa.update(tbl).where(tbl.c.dataset == dataset).values(
        generation=tbl.c.generation + 1, entities=entities, built_at=now)).rowcount
    if not done:
        conn.execute(sa.insert(tbl).values(dataset=dataset, generation=1, entities=entities,
                                           built_at=now))


@lru_cache(maxsize=262144)
def weight(key: str, postings: int) -> int:
    """A key's retrieval weight: identifiers outrank names; rarer keys weigh more."""
    if key.startswith("i:"):
        return ID_WEIGHT
    rarity = 1.0 + math.log2(MAX_POSTINGS / max(1, postings))
    factor = 1.0 if ":" not in key else (0.6 if key.startswith("p:") else 0.3)
    return max(1, round(TOKEN_WEIGHT * rarity * factor))


def indexed_datasets(db: Database) -> list[str]:
    tbl = screening_list
    with db.read() as conn:
        listed = {r[0] for r in conn.execute(sa.select(tbl.c.dataset))}
        keyed = {r[0] for r in conn.execute(sa.select(screening_key.c.dataset).distinct())}
    return sorted(listed | keyed)


# Formats whose datasets are designation lists by construction.
LIST_FORMATS = frozenset({"ofac-csv", "ofac-cons", "un-xml"})


def holds_designations(db: Database, dataset: str) -> bool:
    """Whether a dataset carries Sanction entities (e.g. an OpenSanctions export)."""
    st = t.statement
    q = sa.select(st.c.entity_id).where(
        st.c.dataset == dataset, st.c.schema == "Sanction", IS_ENTITY_ROW).limit(1)
    with db.read() as conn:
        return conn.execute(q).first() is not None


def after_ingest(db: Database, dataset: str, fmt: str) -> None:
    """Entry point ``binational.ingested``: keep a list's candidate index in step with it,
    so a new list version is screened as soon as it has landed."""
    if fmt in LIST_FORMATS or dataset in indexed_datasets(db) or holds_designations(db, dataset):
        rebuild(db, dataset)
