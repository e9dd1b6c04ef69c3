"""Alembic environment: runs migrations on the Database handed over in the config."""

from __future__ import annotations

from alembic import context

from binational.core.plugins import load_tables
from binational.core.tables import metadata

load_tables()  # capability tables, for autogenerate

config = context.config
db = config.attributes.get("binational_db")


def run() -> None:
    if db is None:
        raise RuntimeError("run migrations through binational.core.db.migrate()")
    with db.engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=db.is_sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


run()
