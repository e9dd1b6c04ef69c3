"""Database connection: one code path for the embedded SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from binational.core.errors import InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """An engine plus the two kinds of transaction the platform uses.

    ``read()`` is a plain transaction; ``write()`` takes the write lock up front on SQLite
    (``BEGIN IMMEDIATE``) so that two writers queue instead of failing half-way with
    "database is locked" after reading.
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = sa.engine.make_url(url)
        if self.url.get_backend_name() not in ("sqlite", "postgresql"):
            raise InvalidInput(
                f"unsupported database {self.url.get_backend_name()!r}: use sqlite or postgresql"
            )
        if self.url.get_backend_name() == "postgresql" and self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.engine = self._make_engine(echo)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _make_engine(self, echo: bool) -> Engine:
        if self.url.get_backend_name() != "sqlite":
            # No pre-ping: it costs a round trip on every checkout; connections are recycled
            # instead, and a dropped one fails its request with a clear database error.
            return sa.create_engine(self.url, echo=echo, pool_size=10, pool_recycle=1800)
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so that BEGIN IMMEDIATE is possible
            # (SQLAlchemy's documented recipe for SQLite transactions).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A 64 MiB page cache keeps the statement indexes in memory during bulk ingest.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("binational_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(binational_write=True)
            with conn.begin():
                yield conn

    def insert_ignore(
        self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> int:
        """Insert rows, skipping those whose primary key exists; returns how many were new."""
        if not rows:
            return 0
        stmt: Any
        if self.is_sqlite:
            stmt = sqlite.insert(table).on_conflict_do_nothing()
        else:
            stmt = postgresql.insert(table).on_conflict_do_nothing()
        # Count the rows RETURNING gives back: rowcount after an executemany is not reliable
        # across drivers (psycopg's batched inserts report -1 or 0).
        key = next(iter(table.primary_key.columns))
        result = conn.execute(stmt.returning(key), list(rows))
        return len(result.all())

    def bulk_insert_ignore(
        self, conn: Connection, table: sa.Table, columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> int:
        """The fast path for large batches of plain values (tuples in ``columns`` order);
        returns how many rows were new. Datetimes must be naive UTC, or, on SQLite, already
        in ``db.bulk_value(dt)`` form (saves formatting each row).

        Written against the DBAPI because SQLAlchemy's per-row parameter processing costs
        most of the throughput at this volume (profiled: ~4x). SQLite: ``INSERT OR IGNORE``
        with ``executemany``, counting ``total_changes``. PostgreSQL: ``COPY`` into a temp
        table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. Table and column
        names come from our own metadata, never from input; values are always bound.
        """
        if not rows:
            return 0
        for name in columns:
            if name not in table.c:
                raise ValueError(f"{table.name} has no column {name}")
        cols = ", ".join(f'"{c}"' for c in columns)
        raw: Any = conn.connection.driver_connection
        if self.is_sqlite:
            marks = ", ".join("?" for _ in columns)
            before = raw.total_changes
            cur = raw.cursor()
            cur.executemany(
                f'INSERT OR IGNORE INTO "{table.name}" ({cols}) VALUES ({marks})',  # noqa: S608
                rows if not any(isinstance(v, datetime) for v in rows[0])
                else [tuple(_sqlite_value(v) for v in row) for row in rows])
            cur.close()
            return int(raw.total_changes - before)
        temp = f"_bn_bulk_{table.name}"
        with raw.cursor() as cur:
            cur.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" '
                f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP')
            with cur.copy(f'COPY "{temp}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{temp}" '  # noqa: S608
                "ON CONFLICT DO NOTHING")
            new = cur.rowcount
            cur.execute(f'TRUNCATE "{temp}"')
        return int(new)

    def bulk_value(self, value: datetime) -> Any:
        """A naive-UTC datetime as ``bulk_insert_ignore`` binds it on this database."""
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return _sqlite_value(naive) if self.is_sqlite else naive

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_value(value: Any) -> Any:
    # The text form SQLAlchemy's SQLite DateTime type writes and parses back.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def chunked(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def alembic_config(db: Database) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["binational_db"] = db
    return cfg


def migrate(db: Database) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    # "heads": each capability has its own branch of migrations off the core chain.
    command.upgrade(alembic_config(db), "heads")


def schema_revision(db: Database) -> tuple[str, ...]:
    """The applied migration heads (one per branch; empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
