"""Early warning's tables (migration ``early_warning_0001``).

Series, counts, alerts and substance-register entries are owned like statements: every row
names its dataset (hence its agency and country), so ``Scope.clause`` filters reads by the
policy plan. Subscriptions and in-app notifications belong to a user, not to a dataset.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
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

# One row per count series: place x indicator x substance x frequency within a dataset.
ew_series = owned_table(
    "ew_series",
    Column("id", key_text(40), primary_key=True),
    Column("place", String(64), nullable=False),
    Column("place_name", String(255), nullable=True),
    Column("indicator", String(64), nullable=False),
    Column("substance", String(64), nullable=False),
    Column("frequency", String(8), nullable=False),
    Column("source", String(64), nullable=False),
    Index("ix_ew_series_place", "place", "indicator"),
)

ew_count = owned_table(
    "ew_count",
    Column("series_id", key_text(40), ForeignKey("ew_series.id"), nullable=False),
    Column("period", Date, nullable=False),
    Column("count", Float, nullable=False),
    # Share of the final count already reported (VSRR "Percent Complete" / 100).
    Column("completeness", Float, nullable=True),
    # The source's own delay-adjusted estimate (VSRR "Predicted Value").
    Column("predicted", Float, nullable=True),
    PrimaryKeyConstraint("series_id", "period"),
)

# An alert: a run of consecutive alarming periods of one series under one algorithm.
ew_alert = owned_table(
    "ew_alert",
    Column("id", key_text(40), primary_key=True),
    Column("series_id", key_text(40), ForeignKey("ew_series.id"), nullable=False, index=True),
    Column("algorithm", String(32), nullable=False),
    Column("level", String(8), nullable=False),
    Column("start", Date, nullable=False),
    Column("peak", Date, nullable=False),
    Column("end", Date, nullable=True),
    Column("peak_count", Float, nullable=False),
    Column("peak_expected", Float, nullable=True),
    Column("peak_upperbound", Float, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# The register of new psychoactive substances.
ew_substance = owned_table(
    "ew_substance",
    Column("id", key_text(40), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("substance_class", String(64), nullable=False),
    Column("first_detected", Date, nullable=False),
    Column("place", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("confidence", String(16), nullable=False),
    Column("risk_en", Text, nullable=False),
    Column("risk_es", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retracted_at", UTCDateTime, nullable=True),
    Column("retraction_reason", Text, nullable=True),
)

ew_subscription = Table(
    "ew_subscription",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("place", String(64), nullable=False),
    Column("indicator", String(64), nullable=True),
    Column("include_neighbours", Integer, nullable=False, default=0),
    Column("email", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

ew_notification = Table(
    "ew_notification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("alert_id", key_text(40), ForeignKey("ew_alert.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Column("emailed_at", UTCDateTime, nullable=True),
)
