"""Database connection: one code path for the embedded SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
            return sa.create_engine(self.url, echo=echo, pool_pre_ping=True, pool_size=10)
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

    def dispose(self) -> None:
        self.engine.dispose()


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

    command.upgrade(alembic_config(db), "head")


def schema_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
