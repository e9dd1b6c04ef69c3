"""Shared fixtures: every store-touching test runs on SQLite and on the machine's real PostgreSQL.

A migrated template is built once per session and copied for each test (a file copy on SQLite,
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests are isolated and still fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from binational.core.db import Database, migrate


def _spark_jars() -> None:
    """Capabilities' Spark local-mode tests share one JVM per test process, and the first
    session fixes its classpath: name at JVM start every jar any of them needs (Splink's
    string-similarity functions), whichever test starts Spark first."""
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        return
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                          f"--jars {similarity_jar_location()} pyspark-shell")


_spark_jars()

if TYPE_CHECKING:
    from binational.core.platform import Platform
    from binational.core.settings import Settings


PG_ADMIN_URL = os.environ.get(
    "BINATIONAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def test_settings(data_dir: Path) -> Settings:
    """argon2id at its cheapest: tests exercise the logic, not the cost (which settings carry)."""
    from binational.core.settings import Settings

    return Settings(data_dir=data_dir, argon2_time_cost=1, argon2_memory_kib=64,
                    argon2_parallelism=1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    admin = _pg_admin()
    name = f"bn_tpl_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    db = Database(url.render_as_string(hide_password=False))
    migrate(db)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _fresh_pg(template: str) -> tuple[str, str]:
    name = f"bn_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    admin.dispose()
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    return name, url.render_as_string(hide_password=False)


def _drop_pg(name: str) -> None:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a freshly migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "binational.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        name, url = _fresh_pg(request.getfixturevalue("pg_template"))
        yield url
        _drop_pg(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:

    return test_settings(tmp_path / "data")


@pytest.fixture
def platform(db_url: str, settings: Settings) -> Iterator[Platform]:
    from binational.core.platform import Platform

    plat = Platform.open(settings, url=db_url, migrate_schema=False)
    yield plat
    plat.close()
