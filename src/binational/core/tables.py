"""The relational schema, in SQLAlchemy Core: one definition for SQLite and PostgreSQL.

Alembic migrations (``migrations/``) are generated from this metadata and checked in tests.
Core rather than the ORM because the hot paths (statement ingest, audit append and verify)
are bulk operations where ORM unit-of-work overhead would cost most of the throughput.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def key_text(length: int) -> String:
    """Text compared byte by byte on both databases (SQLite's default BINARY collation, and
    "C" on PostgreSQL): the same sort order everywhere, and the cheapest index comparisons."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite (no zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


def owned_table(name: str, *columns: Any, **kwargs: Any) -> Table:
    """A capability's own table of domain records (time series, genotypes, transactions...),
    owned like statements: every row names its dataset, hence its agency and country, so
    ``Scope.clause(table.c.dataset)`` filters it by the same policy plan."""
    return Table(
        name,
        metadata,
        Column("dataset", String(64), ForeignKey("dataset.name"), nullable=False, index=True),
        *columns,
        **kwargs,
    )


country = Table(
    "country",
    metadata,
    Column("code", String(2), primary_key=True),
    Column("name_en", String(100), nullable=False),
    Column("name_es", String(100), nullable=False),
)

agency = Table(
    "agency",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("country", String(2), ForeignKey("country.code"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

dataset = Table(
    "dataset",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("agency", String(32), ForeignKey("agency.code"), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

user = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(255), nullable=True),
    Column("agency", String(32), ForeignKey("agency.code"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("totp_secret", LargeBinary, nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

auth_session = Table(
    "auth_session",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("client", String(255), nullable=True),
)

# One row per property value: the statement model of followthemoney / nomenklatura. The id is
# the content hash of (dataset, entity id, property, value), so re-ingesting is idempotent.
statement = Table(
    "statement",
    metadata,
    Column("id", key_text(40), nullable=False),
    Column("entity_id", key_text(255), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("prop", String(64), nullable=False),
    Column("prop_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("lang", String(8), nullable=True),
    Column("original_value", Text, nullable=True),
    # No foreign key on the hot tables: a per-row referential check costs a third of the
    # ingest rate; the writer checks the dataset once per transaction instead.
    Column("dataset", key_text(64), nullable=False),
    Column("origin", String(255), nullable=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    # Keyed (and on SQLite clustered) by entity: fetching an entity reads one range, and no
    # separate id index is maintained on ingest. The content-hash id, last, makes re-ingest
    # idempotent through the same key.
    PrimaryKeyConstraint("entity_id", "dataset", "id"),
    # One row per entity (its 'id' statement): listing and counting entities by dataset and
    # schema reads this small partial index instead of every statement; and a sixth of the
    # index maintenance on ingest.
    Index("ix_statement_entities", "dataset", "schema", "entity_id",
          sqlite_where=text("prop = 'id'"), postgresql_where=text("prop = 'id'")),
    # Who points at an entity (a Sanction at its target, an Ownership at its owner): the
    # reverse look-up of references, over the entity-typed values only.
    Index("ix_statement_references", "value", "dataset",
          sqlite_where=text("prop_type = 'entity'"),
          postgresql_where=text("prop_type = 'entity'")),
    sqlite_with_rowid=False,
)

# The searchable names of an entity, folded to lower-case ASCII words (" jose maria garcia "),
# one row per entity and write. Search is a word-prefix LIKE over the rows in the reader's
# scope: accent-insensitive, one row per entity instead of one per word, and cheap to write.
# Capabilities that need ranked or fuzzy retrieval (screening) keep their own index.
entity_text = Table(
    "entity_text",
    metadata,
    Column("dataset", key_text(64), nullable=False),
    Column("entity_id", key_text(255), nullable=False),
    Column("text_hash", key_text(16), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("text", Text, nullable=False),
    PrimaryKeyConstraint("dataset", "entity_id", "text_hash"),
    sqlite_with_rowid=False,
)

share_grant = Table(
    "share_grant",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_agency", String(32), ForeignKey("agency.code"), nullable=False, index=True),
    Column("recipient_agency", String(32), ForeignKey("agency.code"), nullable=True, index=True),
    Column("recipient_country", String(2), ForeignKey("country.code"), nullable=True),
    Column("datasets", JSON, nullable=False),
    Column("schemata", JSON, nullable=True),
    Column("actions", JSON, nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("onward_sharing", Boolean, nullable=False, default=False),
    Column("parent_id", String(32), ForeignKey("share_grant.id"), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(64), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    CheckConstraint(
        "(recipient_agency IS NULL) <> (recipient_country IS NULL)", name="one_recipient"
    ),
)

# The audit log. ``seq`` is the leaf index in the Merkle tree; ``record_hash`` chains each
# record to the one before. Timestamps are kept as ISO text because they are hashed: the
# bytes must be the same whichever database returns them.
audit_record = Table(
    "audit_record",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("actor", String(64), nullable=True),
    Column("agency", String(32), nullable=True),
    Column("country", String(2), nullable=True),
    Column("action", String(64), nullable=False),
    Column("objects", JSON, nullable=False),
    Column("purpose", String(64), nullable=True),
    Column("case_ref", String(128), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("client", String(255), nullable=True),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Index("ix_audit_record_actor", "actor"),
    Index("ix_audit_record_agency", "agency"),
)

audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("tree_size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

# A cross-agency read, kept for the owning agency to see (written with its audit record).
access_receipt = Table(
    "access_receipt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("audit_seq", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("audit_record.seq"), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("owner_agency", String(32), nullable=False, index=True),
    Column("owner_country", String(2), nullable=False),
    Column("reader", String(64), nullable=False),
    Column("reader_agency", String(32), nullable=False),
    Column("reader_country", String(2), nullable=False),
    Column("grant_id", String(32), nullable=True),
    Column("action", String(32), nullable=False),
    Column("object_id", String(255), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("purpose", String(64), nullable=True),
    Column("case_ref", String(128), nullable=True),
)

ingest_run = Table(
    "ingest_run",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("dataset", String(64), ForeignKey("dataset.name"), nullable=False, index=True),
    Column("format", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("entities", Integer, nullable=False, default=0),
    Column("statements_new", Integer, nullable=False, default=0),
    Column("statements_seen", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
)
