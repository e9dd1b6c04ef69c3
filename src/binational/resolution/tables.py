"""Resolution's own tables: candidate pairs and the append-only judgement log.

Both are owned by the dataset of their left record and also name the right record's dataset,
and a reader sees a row only when the policy scope covers *both* (``visible`` below): a link
between two agencies' records is as private as the more private of the two.
Created by migration ``resolution_0001``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, Float, Index, Integer, String, Text

from binational.core.store import Scope
from binational.core.tables import UTCDateTime, key_text, owned_table

# Pairs scored by a resolution run (one row per pair and run; the latest run counts).
resolution_candidate = owned_table(
    "resolution_candidate",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("left_id", key_text(255), nullable=False),
    Column("left_schema", String(64), nullable=False),
    Column("right_id", key_text(255), nullable=False),
    Column("right_dataset", String(64), nullable=False),
    Column("right_schema", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_resolution_candidate_pair", "left_id", "right_id"),
)

# Every decision an analyst made, never updated or deleted: undo appends a row that names the
# row it undoes. The current judgement of a pair is what the rows add up to, oldest first.
resolution_judgement = owned_table(
    "resolution_judgement",
    Column("id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("left_id", key_text(255), nullable=False),
    Column("left_schema", String(64), nullable=False),
    Column("right_id", key_text(255), nullable=False),
    Column("right_dataset", String(64), nullable=False),
    Column("right_schema", String(64), nullable=False),
    Column("judgement", String(16), nullable=False),  # positive, negative, unsure, undo
    Column("undoes", String(32), nullable=True),
    Column("reason", Text, nullable=True),
    Column("score", Float, nullable=True),
    Column("actor", String(64), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_resolution_judgement_pair", "left_id", "right_id"),
)


def visible(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    """Rows whose two records both lie in the reader's scope."""
    c: Any = table.c
    return sa.and_(scope.clause(c.dataset, c.left_schema),
                   scope.clause(c.right_dataset, c.right_schema))
