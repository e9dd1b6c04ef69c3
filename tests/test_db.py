"""Schema and database plumbing on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from binational.core import tables as t
from binational.core.db import Database, schema_revision
from binational.core.plugins import load_tables
from binational.core.store import Scope


def test_migrations_match_the_tables(db: Database) -> None:
    """The checked-in migrations create exactly the schema that tables.py declares."""
    load_tables()  # capability tables are migrated too
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, t.metadata)
    assert diff == []
    assert schema_revision(db) != ()


def test_insert_ignore_counts_new_rows(db: Database) -> None:
    rows = [{"code": "US", "name_en": "United States", "name_es": "Estados Unidos"}]
    with db.write() as conn:
        assert db.insert_ignore(conn, t.country, rows) == 1
    with db.write() as conn:
        assert db.insert_ignore(conn, t.country, rows) == 0
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.country)).scalar() == 1


def test_write_rolls_back_on_error(db: Database) -> None:
    try:
        with db.write() as conn:
            conn.execute(sa.insert(t.country).values(code="MX", name_en="Mexico",
                                                      name_es="México"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.read() as conn:
        assert conn.execute(sa.select(t.country)).first() is None


def test_scope_clause_never_widens() -> None:
    assert Scope({}).empty
    scope = Scope({"a": None, "b": frozenset({"Person"})})
    assert scope.contains("a", "Company")
    assert scope.contains("b", "Person") and not scope.contains("b", "Company")
    assert not scope.contains("c", "Person")
    assert scope.restrict(["b", "c"]).datasets == {"b": frozenset({"Person"})}
    # An owned table without a schema column: the schema-filtered dataset is left out.
    owned = sa.table("owned", sa.column("dataset"))
    compiled = str(scope.clause(owned.c.dataset).compile(
        compile_kwargs={"literal_binds": True}))
    assert "'a'" in compiled and "'b'" not in compiled
    assert str(Scope({"b": frozenset({"Person"})}).clause(owned.c.dataset)) == "false"
