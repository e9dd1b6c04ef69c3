"""Illicit finance's own tables. Transactions, accounts, alerts and cases are owned rows (every
row names its dataset, hence its agency), so ``Scope.clause`` filters them by the same policy
plan as statements. Created by migration ``finance_0001``.

Transactions are a table, not one FtM ``Payment`` entity each: a monitoring feed has millions
of them, read in bulk into columns for features; the accounts are FtM ``BankAccount``
entities in the store (searchable, shareable like any record) and are listed here too, with
their known outcomes (labels), which are never features.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from binational.core.tables import UTCDateTime, key_text, metadata, owned_table

finance_account = owned_table(
    "finance_account",
    Column("account", key_text(128), nullable=False),
    Column("entity_id", String(255), nullable=False),
    Column("holder", String(255), nullable=True),
    # The known outcome (e.g. AMLSim's isFraud): a label for training and evaluation only.
    Column("is_fraud", Boolean, nullable=True),
    Column("line", Integer, nullable=False),
    PrimaryKeyConstraint("dataset", "account"),
)

finance_transaction = owned_table(
    "finance_transaction",
    Column("txn_id", key_text(128), nullable=False),
    Column("source", key_text(128), nullable=False),
    Column("target", key_text(128), nullable=False),
    Column("amount", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_usd", Float, nullable=False),
    Column("ts", BigInteger, nullable=False),  # epoch seconds, UTC
    Column("channel", String(32), nullable=True),  # transfer, cash-deposit, cash-withdrawal
    Column("location", String(64), nullable=True),  # branch or place, for the funnel rule
    Column("line", Integer, nullable=False),
    PrimaryKeyConstraint("dataset", "txn_id"),
    Index("ix_finance_transaction_source", "dataset", "source"),
    Index("ix_finance_transaction_target", "dataset", "target"),
)

# A trained model belongs to the agency that trained it (not to a dataset: it may have learned
# from several, each of which that agency could read for the purpose illicit-finance).
finance_model = Table(
    "finance_model",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("agency", String(32), ForeignKey("agency.code"), nullable=False, index=True),
    Column("datasets", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("booster", Text, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

finance_alert = owned_table(
    "finance_alert",
    Column("id", String(32), nullable=False),
    Column("account", key_text(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("rule_score", Float, nullable=False),
    Column("model_score", Float, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("model_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("id"),
)

finance_case = owned_table(
    "finance_case",
    Column("id", String(32), nullable=False),
    Column("agency", String(32), ForeignKey("agency.code"), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("alert_id", String(32), nullable=True),
    Column("accounts", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("assignee", String(64), nullable=True),
    Column("narrative", Text, nullable=False),
    Column("close_reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("id"),
)

finance_case_event = owned_table(
    "finance_case_event",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("finance_case.id"), nullable=False, index=True),
    Column("ts", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", JSON, nullable=False),
)

# A case handed to another agency: readable by it while the grant named here is live and
# covers the case's dataset for reading with the purpose illicit-finance.
finance_case_share = owned_table(
    "finance_case_share",
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), ForeignKey("finance_case.id"), nullable=False, index=True),
    Column("recipient_agency", String(32), ForeignKey("agency.code"), nullable=False,
           index=True),
    Column("grant_id", String(32), ForeignKey("share_grant.id"), nullable=False),
    Column("shared_by", String(64), nullable=False),
    Column("shared_at", UTCDateTime, nullable=False),
)
