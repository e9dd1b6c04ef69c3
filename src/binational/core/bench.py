"""`binational bench core`: the core's performance targets, measured on this machine.

Three measurements, each on a fresh database in a temporary directory (and, when a PostgreSQL
server is reachable, on a fresh PostgreSQL database that is dropped afterwards):

1. ingest: FtM entities (Person, Company) written as JSON lines and read back by the full
   ``ingest("ftm", ...)`` path, the same entities through a bare ``StoreWriter``, and, as the
   same-run baseline, a plain SQLAlchemy ``executemany`` INSERT of the same statement rows
   into an equivalent table (same columns, primary key and indexes; no name tokens, no
   conflict handling, no FtM cleaning);
2. fetch: twenty agencies (ten per country, one dataset each) with grants between them
   (agency and country grants, schema filters, a grant for another purpose) and ``Access.
   get_entity`` timed for random visible and invisible ids: plan, fetch, audit record and
   receipts, what an API request does; ``View.get_entity`` alone as its peer;
3. audit: single ``append``, ``append_many``, ``checkpoint`` and ``verify`` of the whole log,
   with plain SHA-256 over the same canonical bytes (and a bare read of the rows) as peers.

``run_core`` returns the results as JSON-ready data, prints them as a table and writes them
to ``out`` when given. ``quick=True`` cuts every size about a hundredfold (for tests).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import platform as pyplatform
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from followthemoney import EntityProxy, Statement, model
from followthemoney.namespace import Namespace
from followthemoney.statement.util import BASE_ID
from rich.console import Console
from rich.table import Table

from binational.core.access import Caller
from binational.core.audit import HASHED_FIELDS, AuditEvent, ObjectRef, canonical_bytes
from binational.core.errors import NotFound
from binational.core.identity import Principal, operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.settings import Settings
from binational.core.store import Scope
from binational.core.tables import access_receipt, audit_record
from binational.core.vocab import Action, Country, Purpose, Role

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

TARGETS = {
    "ingest_sqlite_per_s": 50_000,
    "ingest_postgresql_per_s": 20_000,
    "fetch_p95_ms": 20.0,
    "audit_append_many_per_s": 5_000,
    "audit_verify_1m_s": 30.0,
}
VERIFY_TARGET_RECORDS = 1_000_000
INSERT_BATCH = 5_000  # rows per executemany of the baseline (the StoreWriter's batch)
AUDIT_BATCH = 10_000  # events per append_many call
SEED = 20260214
PURPOSE = Purpose.COUNTER_NARCOTICS
CASE_REF = "BENCH/2026/0001"
PASSWORD = "bench password not secret"  # noqa: S105 - a throwaway user in a throwaway db

US_AGENCIES = ["FBI", "DEA", "ATF", "CBP", "ICE", "HSI", "FINCEN", "USMS", "IRSCI", "CDC"]
MX_AGENCIES = ["FGR", "UIF", "SSPC", "GN", "ANAM", "SEDENA", "SEMAR", "CNI", "INM", "COFEPRIS"]

FIRST = [
    "Juan",
    "María",
    "José",
    "Guadalupe",
    "Luis",
    "Ana",
    "Carlos",
    "Rosa",
    "Miguel",
    "Laura",
    "John",
    "Mary",
    "Robert",
    "Linda",
    "Michael",
    "Susan",
    "David",
    "Karen",
]
LAST = [
    "García",
    "Hernández",
    "López",
    "Martínez",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
]
ALIAS = ["El Flaco", "La Güera", "El Chapo", "Junior", "El Ingeniero", "Big Mike", "Doc"]
WORDS = [
    "Transportes",
    "Comercializadora",
    "Logística",
    "Importadora",
    "Servicios",
    "Frontera",
    "Norte",
    "Pacífico",
    "Golfo",
    "Global",
    "Holdings",
    "Trading",
    "Freight",
    "Imports",
    "Capital",
    "Group",
]
FORMS_MX = ["SA de CV", "S de RL de CV", "SAPI de CV"]
FORMS_US = ["LLC", "Inc", "Corp", "LP"]


@dataclass(frozen=True)
class Sizes:
    statements: int
    audit_records: int
    fetch_samples: int
    single_appends: int
    quick: bool

    @classmethod
    def make(cls, statements: int, audit_records: int, quick: bool) -> Sizes:
        if quick:
            statements = max(2_000, statements // 100)
            audit_records = max(1_000, audit_records // 100)
        return cls(
            statements=statements,
            audit_records=audit_records,
            fetch_samples=100 if quick else 2_000,
            single_appends=max(20, min(2_000, audit_records // 500)),
            quick=quick,
        )


# -- helpers -----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = pyplatform.processor() or pyplatform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": pyplatform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": pyplatform.python_version(),
        "implementation": pyplatform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else 0.0,
    }


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def bench_settings(data_dir: Path) -> Settings:
    """Cheap argon2 (the benchmark adds a few users; password hashing is not measured)."""
    return Settings(
        data_dir=data_dir, argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1
    )


class Backends:
    """Fresh databases: SQLite files in the temp dir, PostgreSQL databases (dropped after)."""

    def __init__(self, tmp: Path, postgres_url: str | None, console: Console) -> None:
        self.tmp = tmp
        self.admin_url = postgres_url
        self.console = console
        self.pg_problem: str | None = None
        self._admin: sa.Engine | None = None
        if postgres_url is None:
            self.pg_problem = "no PostgreSQL URL given"
        else:
            try:
                self._admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
                with self._admin.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except Exception as exc:
                self.pg_problem = f"PostgreSQL is not reachable at {_safe_url(postgres_url)}: " + (
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                )
                if self._admin is not None:
                    self._admin.dispose()
                self._admin = None

    @property
    def names(self) -> list[str]:
        return ["sqlite"] if self._admin is None else ["sqlite", "postgresql"]

    @contextmanager
    def fresh(self, backend: str, label: str) -> Iterator[Platform]:
        """A migrated, empty database of ``backend`` opened as a Platform."""
        key = uuid.uuid4().hex[:10]
        data_dir = self.tmp / f"{label}-{backend}-{key}"
        data_dir.mkdir(parents=True)
        settings = bench_settings(data_dir)
        if backend == "sqlite":
            url = f"sqlite:///{data_dir / 'binational.sqlite'}"
            plat = Platform.open(settings, url=url)
            try:
                yield plat
            finally:
                plat.close()
            return
        assert self._admin is not None and self.admin_url is not None
        name = f"bn_bench_{key}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            pg_url = sa.engine.make_url(self.admin_url).set(database=name)
            plat = Platform.open(settings, url=pg_url.render_as_string(hide_password=False))
            try:
                yield plat
            finally:
                plat.close()
        finally:
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


def _safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid URL>"


# -- synthetic entities ------------------------------------------------------------------------


def _date(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _ident(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(n))


def make_entity(rng: random.Random, prefix: str, index: int, home: str) -> dict[str, Any]:
    """One Person (two in three) or Company as an FtM dict; values are already clean, so
    ingest stores exactly one statement per value plus one for the id."""
    other = "us" if home == "mx" else "mx"
    if rng.random() < 2 / 3:
        props: dict[str, list[str]] = {
            "name": [f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"],
            "birthDate": [_date(rng, 1940, 2004)],
            "nationality": [home],
            "country": [rng.choice([home, home, other])],
            "idNumber": [_ident(rng, 18)],
        }
        if index % 3 == 0:
            props["alias"] = [rng.choice(ALIAS)]
        if index % 4 == 0:
            props["taxNumber"] = [_ident(rng, 13)]
        return {"id": f"{prefix}-p{index:07d}", "schema": "Person", "properties": props}
    forms = FORMS_MX if home == "mx" else FORMS_US
    props = {
        "name": [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(forms)}"],
        "jurisdiction": [home],
        "country": [rng.choice([home, other])],
        "registrationNumber": [f"RN-{rng.randint(10_000, 9_999_999)}"],
        "incorporationDate": [_date(rng, 1960, 2024)],
    }
    if index % 2 == 0:
        props["taxNumber"] = [_ident(rng, 12)]
    return {"id": f"{prefix}-c{index:07d}", "schema": "Company", "properties": props}


def statement_count(data: dict[str, Any]) -> int:
    return 1 + sum(len(v) for v in data["properties"].values())


def make_entities(
    statements: int, seed: int, prefix: str, home: str
) -> tuple[list[dict[str, Any]], int]:
    """Entities until ``statements`` statements are reached; returns them and the count."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    out: list[dict[str, Any]] = []
    total = 0
    while total < statements:
        data = make_entity(rng, prefix, len(out), home)
        total += statement_count(data)
        out.append(data)
    return out, total


def statement_rows(dataset: str, proxies: Sequence[EntityProxy]) -> list[dict[str, Any]]:
    """The rows a StoreWriter writes for these entities (naive UTC times, for a plain table)."""
    ns = Namespace(dataset)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    for proxy in proxies:
        assert proxy.id is not None
        entity_id = str(ns.sign(proxy.id))
        schema = proxy.schema.name
        values = [(BASE_ID, "id", entity_id)]
        values.extend((p.name, p.type.name, v) for p, v in proxy.itervalues())
        for prop, prop_type, value in values:
            rows.append(
                {
                    "id": Statement.make_key(dataset, entity_id, prop, value, False, lang=None),
                    "entity_id": entity_id,
                    "schema": schema,
                    "prop": prop,
                    "prop_type": prop_type,
                    "value": value,
                    "lang": None,
                    "original_value": None,
                    "dataset": dataset,
                    "origin": "bench",
                    "first_seen": now,
                    "last_seen": now,
                }
            )
    return rows


def plain_statement_table(metadata: sa.MetaData) -> sa.Table:
    """The statement table's columns, key and indexes, in plain types, without constraints."""
    return sa.Table(
        "bench_plain_statement",
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("schema", sa.String(64), nullable=False),
        sa.Column("prop", sa.String(64), nullable=False),
        sa.Column("prop_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("original_value", sa.Text, nullable=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(255), nullable=True),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.Index("ix_bench_plain_entity_dataset", "entity_id", "dataset"),
        sa.Index("ix_bench_plain_dataset_schema", "dataset", "schema", "entity_id"),
    )


# -- 1. ingest ---------------------------------------------------------------------------------


def bench_ingest(
    backends: Backends, backend: str, sizes: Sizes, tmp: Path, console: Console
) -> dict[str, Any]:
    from binational.core.ingest import ingest

    entities, total = make_entities(sizes.statements, SEED, "bench", "mx")
    path = tmp / f"entities-{backend}.ftm.json"
    with path.open("w", encoding="utf-8") as fh:
        for data in entities:
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
    proxies = [model.get_proxy(data, cleaned=False) for data in entities]
    target = TARGETS[f"ingest_{backend}_per_s"]
    result: dict[str, Any] = {
        "entities": len(entities),
        "statements": total,
        "file_bytes": path.stat().st_size,
        "target_per_s": target,
    }

    # (a) the full path: read, parse, clean, check, sign, write, record the run.
    with backends.fresh(backend, "ingest") as plat:
        _agency_dataset(plat, "UIF", Country.MX, "uif_persons")
        gc.collect()
        with timer() as elapsed:
            report = ingest(
                plat.db,
                plat.store,
                "ftm",
                path,
                "uif_persons",
                actor="bench",
                options={"max_bytes": path.stat().st_size + 1},
            )
        secs = elapsed()
        result["ftm_ingest"] = {
            "seconds": round(secs, 3),
            "statements_per_s": rate(report.statements_new, secs),
            "entities": report.entities,
            "statements_new": report.statements_new,
            "statements_seen": report.statements_seen,
            "errors": report.error_count,
            "status": report.status,
        }
    console.log(f"ingest/{backend}: ftm ingest {rate(total, secs):,.0f} statements/s")

    # (b) the store alone: in-memory entities through StoreWriter in one write transaction.
    with backends.fresh(backend, "writer") as plat:
        _agency_dataset(plat, "UIF", Country.MX, "uif_persons")
        gc.collect()
        with timer() as elapsed, plat.db.write() as conn:
            writer = plat.store.writer(conn, "uif_persons", origin="bench")
            for proxy in proxies:
                writer.add_entity(proxy)
            writer.flush()
        secs = elapsed()
        result["store_writer"] = {
            "seconds": round(secs, 3),
            "statements_per_s": rate(writer.stats.statements_new, secs),
            "entities": writer.stats.entities,
            "statements_new": writer.stats.statements_new,
        }
    console.log(f"ingest/{backend}: StoreWriter {rate(total, secs):,.0f} statements/s")

    # (c) the baseline: the same rows, prepared beforehand, as bare executemany INSERTs.
    rows = statement_rows("uif_persons", proxies)
    with backends.fresh(backend, "raw") as plat:
        md = sa.MetaData()
        table = plain_statement_table(md)
        md.create_all(plat.db.engine)
        gc.collect()
        with timer() as elapsed, plat.db.write() as conn:
            for start in range(0, len(rows), INSERT_BATCH):
                conn.execute(table.insert(), rows[start : start + INSERT_BATCH])
        secs = elapsed()
        with plat.db.read() as conn:
            stored = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        result["raw_executemany"] = {
            "seconds": round(secs, 3),
            "statements_per_s": rate(stored, secs),
            "statements": stored,
        }
    console.log(f"ingest/{backend}: raw executemany {rate(stored, secs):,.0f} rows/s")

    raw = result["raw_executemany"]["statements_per_s"]
    full = result["ftm_ingest"]["statements_per_s"]
    result["ftm_ingest"]["ratio_to_raw"] = ratio(full, raw)
    result["store_writer"]["ratio_to_raw"] = ratio(result["store_writer"]["statements_per_s"], raw)
    result["met"] = full >= target
    return result


def _agency_dataset(plat: Platform, agency: str, country: Country, dataset: str) -> None:
    plat.identity.add_agency(agency, agency, country)
    plat.catalog.add(dataset, agency, dataset)


# -- 2. policy-filtered fetch ------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    id: str
    dataset: str
    schema: str


def build_world(plat: Platform, statements: int) -> tuple[list[Stored], dict[str, Principal], int]:
    """20 agencies, one dataset each, ``statements`` statements in all, 23 grants."""
    agencies = [(a, Country.US) for a in US_AGENCIES] + [(a, Country.MX) for a in MX_AGENCIES]
    readers: dict[str, Principal] = {}
    for code, country in agencies:
        _agency_dataset(plat, code, country, f"{code.lower()}_records")
        username = f"analyst.{code.lower()}"
        plat.identity.add_user(username, code, Role.ANALYST, PASSWORD, totp=False)
        readers[code] = plat.identity.principal(username)
    expires = datetime.now(UTC) + timedelta(days=365)

    def grant(owner: str, country: Country, **kw: Any) -> None:
        req = GrantRequest(
            owner_agency=owner,
            datasets=[f"{owner.lower()}_records"],
            legal_basis="MLAT 1987 art. 1; bench",
            expires_at=expires,
            **kw,
        )
        plat.policy.create_grant(operator(owner, country), req)

    read_search = [Action.READ, Action.SEARCH]
    for i, (us, mx) in enumerate(zip(US_AGENCIES, MX_AGENCIES, strict=True)):
        # Every US agency opens its whole dataset to its MX counterpart.
        grant(
            us,
            Country.US,
            recipient_agency=mx,
            actions=read_search,
            purposes=[PURPOSE, Purpose.ILLICIT_FINANCE],
        )
        # Every MX agency opens people (or companies) only, to the next US agency.
        grant(
            mx,
            Country.MX,
            recipient_agency=US_AGENCIES[(i + 1) % 10],
            actions=[Action.READ],
            purposes=[PURPOSE],
            schemata=["Person"] if i % 2 == 0 else ["Company"],
        )
    # Country grants, one with a schema filter; and one for another purpose only.
    grant(
        "FBI", Country.US, recipient_country=Country.MX, actions=[Action.READ], purposes=[PURPOSE]
    )
    grant(
        "FGR",
        Country.MX,
        recipient_country=Country.US,
        actions=read_search,
        purposes=[PURPOSE],
        schemata=["LegalEntity"],
    )
    grant(
        "DEA",
        Country.US,
        recipient_agency="SSPC",
        actions=read_search,
        purposes=[Purpose.PUBLIC_HEALTH],
    )

    stored: list[Stored] = []
    per_dataset = statements // len(agencies)
    written = 0
    for n, (code, country) in enumerate(agencies):
        dataset = f"{code.lower()}_records"
        want = per_dataset if n < len(agencies) - 1 else statements - per_dataset * n
        entities, _ = make_entities(want, SEED + n, code.lower(), country.value.lower())
        with plat.db.write() as conn:
            writer = plat.store.writer(conn, dataset, origin="bench")
            for data in entities:
                proxy = model.get_proxy(data, cleaned=True)
                stored.append(Stored(writer.add_entity(proxy), dataset, proxy.schema.name))
            writer.flush()
        written += writer.stats.statements_new
    return stored, readers, written


def bench_fetch(backends: Backends, backend: str, sizes: Sizes, console: Console) -> dict[str, Any]:
    rng = random.Random(SEED)  # noqa: S311 - sampling, not security
    with backends.fresh(backend, "fetch") as plat:
        with timer() as elapsed:
            stored, readers, written = build_world(plat, sizes.statements)
        console.log(f"fetch/{backend}: world of {written:,} statements in {elapsed():.1f}s")
        scopes: dict[str, Scope] = {
            code: plat.policy.plan(p, Action.READ, PURPOSE).scope for code, p in readers.items()
        }
        # Half visible, half invisible ids, for random readers (rejection sampling).
        samples: list[tuple[str, Stored, bool]] = []
        codes = sorted(readers)
        want_visible = True
        while len(samples) < sizes.fetch_samples:
            code = rng.choice(codes)
            item = rng.choice(stored)
            visible = scopes[code].contains(item.dataset, item.schema)
            if visible == want_visible:
                samples.append((code, item, visible))
                want_visible = not want_visible
        callers = {
            code: Caller(p, QueryContext(PURPOSE, CASE_REF), request_id=None, client="bench")
            for code, p in readers.items()
        }
        wrong = 0

        def access_call(code: str, item: Stored, visible: bool) -> float:
            nonlocal wrong
            start = time.perf_counter()
            try:
                entity = plat.access.get_entity(callers[code], item.id)
                found = entity.id == item.id
            except NotFound:
                found = False
            secs = time.perf_counter() - start
            wrong += found != visible
            return secs

        views = {code: plat.store.view(scope) for code, scope in scopes.items()}

        def view_call(code: str, item: Stored, visible: bool) -> float:
            nonlocal wrong
            start = time.perf_counter()
            entity = views[code].get_entity(item.id)
            secs = time.perf_counter() - start
            wrong += (entity is not None) != visible
            return secs

        for code, item, visible in samples[:20]:  # warm caches and pools
            access_call(code, item, visible)
            view_call(code, item, visible)
        wrong = 0
        gc.collect()
        access = {True: [], False: []}  # type: dict[bool, list[float]]
        view = {True: [], False: []}  # type: dict[bool, list[float]]
        for code, item, visible in samples:
            access[visible].append(access_call(code, item, visible))
        for code, item, visible in samples:
            view[visible].append(view_call(code, item, visible))
        with plat.db.read() as conn:
            receipts = int(
                conn.execute(sa.select(sa.func.count()).select_from(access_receipt)).scalar_one()
            )
    everything = access[True] + access[False]
    result: dict[str, Any] = {
        "statements": written,
        "entities": len(stored),
        "agencies": len(readers),
        "grants": 23,
        "samples": len(samples),
        "wrong_visibility": wrong,
        "access_receipts_written": receipts,
        "access_get_entity": {
            "all": latency_summary(everything),
            "visible": latency_summary(access[True]),
            "invisible": latency_summary(access[False]),
        },
        "view_get_entity": {
            "all": latency_summary(view[True] + view[False]),
            "visible": latency_summary(view[True]),
            "invisible": latency_summary(view[False]),
        },
        "target_p95_ms": TARGETS["fetch_p95_ms"],
    }
    p95 = result["access_get_entity"]["all"]["p95_ms"]
    result["access_to_view_p50_ratio"] = ratio(
        result["access_get_entity"]["all"]["p50_ms"], result["view_get_entity"]["all"]["p50_ms"]
    )
    result["met"] = p95 <= TARGETS["fetch_p95_ms"]
    console.log(f"fetch/{backend}: Access.get_entity p95 {p95:.2f} ms")
    return result


# -- 3. audit ----------------------------------------------------------------------------------


def audit_event(i: int) -> AuditEvent:
    us = i % 2 == 0
    reader = US_AGENCIES[i % 10] if us else MX_AGENCIES[i % 10]
    owner = MX_AGENCIES[(i // 2) % 10] if us else US_AGENCIES[(i // 2) % 10]
    return AuditEvent(
        action="entity.read",
        outcome="ok" if i % 7 else "denied",
        actor=f"analyst.{reader.lower()}",
        agency=reader,
        country="US" if us else "MX",
        objects=(
            ObjectRef(
                f"{owner.lower()}-p{i:07d}.0123456789abcdef0123456789abcdef01234567",
                f"{owner.lower()}_records",
                owner,
                "MX" if us else "US",
            ),
        ),
        purpose=PURPOSE.value,
        case_ref=CASE_REF,
        request_id=f"{i:032x}",
        client="bench/1.0",
        detail={"route": "/entities/{id}", "n": i},
    )


def bench_audit(backends: Backends, backend: str, sizes: Sizes, console: Console) -> dict[str, Any]:
    single_n = sizes.single_appends
    many_n = sizes.audit_records - single_n
    with backends.fresh(backend, "audit") as plat:
        log = plat.audit
        log.append(audit_event(0))  # warm up (first connection, statement compile)
        gc.collect()
        with timer() as elapsed:
            for i in range(1, single_n):
                log.append(audit_event(i))
        single_secs = elapsed()
        console.log(f"audit/{backend}: append {rate(single_n - 1, single_secs):,.0f}/s")

        many_secs = 0.0
        done = single_n
        while done < sizes.audit_records:
            events = [
                audit_event(i) for i in range(done, min(done + AUDIT_BATCH, sizes.audit_records))
            ]
            start = time.perf_counter()
            log.append_many(events)
            many_secs += time.perf_counter() - start
            done += len(events)
        console.log(f"audit/{backend}: append_many {rate(many_n, many_secs):,.0f}/s")

        with timer() as elapsed:
            cp = log.checkpoint()
        checkpoint_secs = elapsed()
        gc.collect()
        with timer() as elapsed:
            report = log.verify()
        verify_secs = elapsed()
        console.log(f"audit/{backend}: verify {report.records:,} records in {verify_secs:.1f}s")

        # Peers: reading the same rows bare, and hashing the same canonical bytes bare.
        c = audit_record.c
        cols = [
            c.seq,
            c.ts,
            c.actor,
            c.agency,
            c.country,
            c.action,
            sa.cast(c.objects, sa.Text),
            c.purpose,
            c.case_ref,
            c.outcome,
            c.request_id,
            c.client,
            sa.cast(c.detail, sa.Text),
            c.prev_hash,
        ]
        gc.collect()
        with timer() as elapsed, plat.db.read() as conn:
            rows = conn.execute(sa.select(*cols).order_by(c.seq)).all()
        read_secs = elapsed()
        names = HASHED_FIELDS
        canon: list[tuple[bytes, bytes]] = []
        for row in rows:
            record = dict(zip(names, row[:13], strict=True))
            record["objects"] = json.loads(record["objects"])
            record["detail"] = json.loads(record["detail"])
            canon.append((row[13].encode(), canonical_bytes(record)))
        del rows
        sha256 = hashlib.sha256
        gc.collect()
        with timer() as elapsed:
            for _prev, data in canon:
                sha256(data).digest()
        sha_once_secs = elapsed()
        with timer() as elapsed:
            for prev, data in canon:
                sha256(prev + data).hexdigest()
                sha256(b"\x00" + data).digest()
        sha_twice_secs = elapsed()
        canon_bytes = sum(len(d) for _, d in canon)
        del canon

    records = report.records
    scaled = verify_secs * VERIFY_TARGET_RECORDS / records if records else 0.0
    result: dict[str, Any] = {
        "records": records,
        "append": {
            "records": single_n - 1,
            "seconds": round(single_secs, 3),
            "records_per_s": rate(single_n - 1, single_secs),
            "ms_per_record": round(single_secs * 1000 / max(1, single_n - 1), 3),
        },
        "append_many": {
            "records": many_n,
            "batch": AUDIT_BATCH,
            "seconds": round(many_secs, 3),
            "records_per_s": rate(many_n, many_secs),
            "target_per_s": TARGETS["audit_append_many_per_s"],
        },
        "checkpoint": {"seconds": round(checkpoint_secs, 3), "tree_size": cp.tree_size},
        "verify": {
            "ok": report.ok,
            "records": records,
            "problem": report.problem,
            "checkpoints_checked": report.checkpoints_checked,
            "seconds": round(verify_secs, 3),
            "records_per_s": rate(records, verify_secs),
            "seconds_per_1m": round(scaled, 3),
            "target_s_per_1m": TARGETS["audit_verify_1m_s"],
        },
        "peers": {
            "canonical_bytes": canon_bytes,
            "read_rows_seconds": round(read_secs, 3),
            "sha256_once_seconds": round(sha_once_secs, 3),
            "sha256_chain_and_leaf_seconds": round(sha_twice_secs, 3),
            "verify_to_sha256_once_ratio": ratio(verify_secs, sha_once_secs),
            "verify_to_sha256_chain_and_leaf_ratio": ratio(verify_secs, sha_twice_secs),
            "verify_to_read_plus_hash_ratio": ratio(verify_secs, read_secs + sha_twice_secs),
        },
    }
    result["append_many"]["met"] = (
        result["append_many"]["records_per_s"] >= TARGETS["audit_append_many_per_s"]
    )
    result["verify"]["met"] = report.ok and scaled <= TARGETS["audit_verify_1m_s"]
    return result


# -- report ------------------------------------------------------------------------------------


def _checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for backend, res in results["ingest"].items():
        if "skipped" in res:
            continue
        checks.append(
            {
                "name": f"ingest ({backend}), full ftm path",
                "unit": "statements/s",
                "measured": res["ftm_ingest"]["statements_per_s"],
                "target": res["target_per_s"],
                "op": ">=",
                "baseline": res["raw_executemany"]["statements_per_s"],
                "ratio_to_baseline": res["ftm_ingest"]["ratio_to_raw"],
                "met": res["met"],
            }
        )
        checks.append(
            {
                "name": f"ingest ({backend}), StoreWriter",
                "unit": "statements/s",
                "measured": res["store_writer"]["statements_per_s"],
                "target": res["target_per_s"],
                "op": ">=",
                "baseline": res["raw_executemany"]["statements_per_s"],
                "ratio_to_baseline": res["store_writer"]["ratio_to_raw"],
                "met": res["store_writer"]["statements_per_s"] >= res["target_per_s"],
            }
        )
    for backend, res in results["fetch"].items():
        if "skipped" in res:
            continue
        checks.append(
            {
                "name": f"fetch p95 ({backend}), Access.get_entity",
                "unit": "ms",
                "measured": res["access_get_entity"]["all"]["p95_ms"],
                "target": res["target_p95_ms"],
                "op": "<=",
                "baseline": res["view_get_entity"]["all"]["p95_ms"],
                "ratio_to_baseline": ratio(
                    res["access_get_entity"]["all"]["p95_ms"],
                    res["view_get_entity"]["all"]["p95_ms"],
                ),
                "met": res["met"],
            }
        )
    for backend, res in results["audit"].items():
        if "skipped" in res:
            continue
        checks.append(
            {
                "name": f"audit append_many ({backend})",
                "unit": "records/s",
                "measured": res["append_many"]["records_per_s"],
                "target": res["append_many"]["target_per_s"],
                "op": ">=",
                "baseline": None,
                "ratio_to_baseline": None,
                "met": res["append_many"]["met"],
            }
        )
        checks.append(
            {
                "name": f"audit verify per 1M ({backend})",
                "unit": "s",
                "measured": res["verify"]["seconds_per_1m"],
                "target": res["verify"]["target_s_per_1m"],
                "op": "<=",
                "baseline": round(
                    res["peers"]["read_rows_seconds"]
                    + res["peers"]["sha256_chain_and_leaf_seconds"],
                    3,
                ),
                "ratio_to_baseline": res["peers"]["verify_to_read_plus_hash_ratio"],
                "met": res["verify"]["met"],
            }
        )
    return checks


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_report(results: dict[str, Any], console: Console) -> None:
    m = results["machine"]
    table = Table(
        title=f"binational bench core ({'quick' if results['quick'] else 'full'}) - "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}"
    )
    for col in ("measure", "unit", "measured", "target", "same-run baseline", "ratio", "met"):
        table.add_column(col, justify="left" if col in ("measure", "unit") else "right")
    for c in results["checks"]:
        table.add_row(
            c["name"],
            c["unit"],
            _fmt(c["measured"]),
            f"{c['op']} {_fmt(c['target'])}",
            _fmt(c["baseline"]),
            _fmt(c["ratio_to_baseline"]),
            "[green]yes[/]" if c["met"] else "[red]no[/]",
        )
    console.print(table)
    extra = Table(title="details")
    extra.add_column("measure")
    extra.add_column("backend")
    extra.add_column("value", justify="right")
    for backend, res in results["fetch"].items():
        if "skipped" in res:
            continue
        for kind in ("access_get_entity", "view_get_entity"):
            for vis in ("visible", "invisible"):
                s = res[kind][vis]
                extra.add_row(
                    f"{kind} {vis} p50/p95/p99 ms",
                    backend,
                    f"{s['p50_ms']:.2f} / {s['p95_ms']:.2f} / {s['p99_ms']:.2f}",
                )
    for backend, res in results["audit"].items():
        if "skipped" in res:
            continue
        extra.add_row(
            "audit append (single) records/s", backend, _fmt(res["append"]["records_per_s"])
        )
        extra.add_row("audit checkpoint s", backend, _fmt(res["checkpoint"]["seconds"]))
        extra.add_row(
            "audit verify s / records",
            backend,
            f"{res['verify']['seconds']:.2f} / {res['verify']['records']:,}",
        )
        extra.add_row(
            "sha256 chain+leaf s (peer)",
            backend,
            _fmt(res["peers"]["sha256_chain_and_leaf_seconds"]),
        )
        extra.add_row("read rows s (peer)", backend, _fmt(res["peers"]["read_rows_seconds"]))
    for section in ("ingest", "fetch", "audit"):
        for backend, res in results[section].items():
            if "skipped" in res:
                extra.add_row(f"{section} skipped", backend, res["skipped"])
    console.print(extra)


def run_core(
    *,
    postgres_url: str | None = DEFAULT_PG_ADMIN_URL,
    statements: int = 1_000_000,
    audit_records: int = 1_000_000,
    out: Path | None = None,
    quick: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure the core's targets; returns (and writes to ``out``) the results as JSON data.

    ``postgres_url`` is an admin URL of a PostgreSQL server on which a fresh database is made
    (and dropped) per measurement; None, or an unreachable server, runs SQLite only.
    """
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)  # a log file: do not wrap the table at 80 columns
    sizes = Sizes.make(statements, audit_records, quick)
    results: dict[str, Any] = {
        "benchmark": "core",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine_info(),
        "sizes": {
            "statements": sizes.statements,
            "audit_records": sizes.audit_records,
            "fetch_samples": sizes.fetch_samples,
            "single_appends": sizes.single_appends,
        },
        "targets": dict(TARGETS),
        "ingest": {},
        "fetch": {},
        "audit": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bn-bench-") as tmp_name:
        tmp = Path(tmp_name)
        backends = Backends(tmp, postgres_url, console)
        try:
            if backends.pg_problem is not None:
                console.log(f"PostgreSQL skipped: {backends.pg_problem}")
                for section in ("ingest", "fetch", "audit"):
                    results[section]["postgresql"] = {"skipped": backends.pg_problem}
            for backend in backends.names:
                results["ingest"][backend] = bench_ingest(backends, backend, sizes, tmp, console)
            for backend in backends.names:
                results["fetch"][backend] = bench_fetch(backends, backend, sizes, console)
            for backend in backends.names:
                results["audit"][backend] = bench_audit(backends, backend, sizes, console)
        finally:
            backends.close()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["checks"] = _checks(results)
    print_report(results, console)
    if out is not None:
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results
