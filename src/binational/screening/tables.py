"""Screening's own table: the candidate index (retrieval keys of every screenable entity).

Owned like statements (every row names its dataset), so ``Scope.clause`` filters it by the
same policy plan as the records themselves. Created by core migrations ``0002`` and ``0004``.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, PrimaryKeyConstraint, String

from binational.core.tables import UTCDateTime, key_text, owned_table

# key: a folded name token ("oseguera"), a Spanish phonetic key ("p:osegera"), a consonant
# skeleton ("s:sgr") or a normalised identifier ("i:OECA580820HMNSRN04").
screening_key = owned_table(
    "screening_key",
    Column("key", key_text(64), nullable=False),
    Column("entity_id", key_text(255), nullable=False),
    Column("schema", String(64), nullable=False),
    PrimaryKeyConstraint("dataset", "key", "entity_id"),
    sqlite_with_rowid=False,
)

# One row per indexed list: ``generation`` goes up at every rebuild, so every process can tell
# cheaply whether its in-memory copy of the list (``screening.compiled``) is still current.
screening_list = owned_table(
    "screening_list",
    Column("generation", Integer, nullable=False),
    Column("entities", Integer, nullable=False),
    Column("built_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("dataset"),
)
