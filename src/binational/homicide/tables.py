"""The homicide capability's own tables, each owned row by row (a ``dataset`` column), so
``Scope.clause(table.c.dataset)`` filters them by the same policy plan as the statements.

Created by migration ``homicide_0001`` (a branch off the core chain).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)

from binational.core.tables import UTCDateTime, key_text, owned_table

# Monthly counts per area (state, municipality, police quadrant), crime and source: the
# long table every indicator is computed from.
homicide_series = owned_table(
    "homicide_series",
    Column("source", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    Column("area_code", key_text(32), nullable=False),
    Column("area_name", String(255), nullable=True),
    Column("crime", String(128), nullable=False),
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("population", Float, nullable=True),
    PrimaryKeyConstraint("dataset", "source", "level", "area_code", "crime", "year", "month"),
)

# Area outlines (police quadrants) as GeoJSON geometries, for maps.
homicide_area = owned_table(
    "homicide_area",
    Column("level", String(16), nullable=False),
    Column("area_code", key_text(32), nullable=False),
    Column("name", String(255), nullable=True),
    Column("population", Float, nullable=True),
    Column("geometry", JSON, nullable=False),
    PrimaryKeyConstraint("dataset", "level", "area_code"),
)

# Homicide Task Force case records: high-impact crimes linked to criminal organisations,
# with links to entities (statement entity ids), firearms and forensic-laboratory requests.
homicide_case = owned_table(
    "homicide_case",
    Column("id", key_text(40), primary_key=True),
    Column("title", String(255), nullable=False),
    Column("summary", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("crime", String(64), nullable=False),
    Column("occurred_on", String(10), nullable=True),
    Column("place", String(255), nullable=True),
    Column("area_code", String(16), nullable=True),
    Column("entities", JSON, nullable=False),
    Column("firearms", JSON, nullable=False),
    Column("lab_requests", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The best-practice registry: prevention programmes, in English and Spanish, with an
# evidence rating in the style of CrimeSolutions. ``search_text`` holds the folded and
# stemmed words of both languages (see registry.py).
homicide_programme = owned_table(
    "homicide_programme",
    Column("id", key_text(40), primary_key=True),
    Column("name_en", String(255), nullable=False),
    Column("name_es", String(255), nullable=False),
    Column("summary_en", Text, nullable=False),
    Column("summary_es", Text, nullable=False),
    Column("rating", String(16), nullable=False),
    Column("target", String(16), nullable=False),
    Column("jurisdictions", JSON, nullable=False),
    Column("costs_en", Text, nullable=True),
    Column("costs_es", Text, nullable=True),
    Column("contact", String(255), nullable=True),
    Column("links", JSON, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Members' comments on a programme and results they report from using it. A note belongs
# to the dataset (agency) of its author, whoever owns the programme.
homicide_programme_note = owned_table(
    "homicide_programme_note",
    Column("id", key_text(40), primary_key=True),
    Column("programme_id", key_text(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("lang", String(2), nullable=False),
    Column("jurisdiction", String(255), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("author", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_homicide_programme_note_programme", "programme_id"),
)

# Geocoded incidents (points and dates only: no victims, no suspects), for hot spots and
# near-repeat analysis of what the reader may see. ``lonlat`` rows are WGS84 longitude and
# latitude; the others are metres of the projection named in ``crs``.
homicide_incident = owned_table(
    "homicide_incident",
    Column("id", key_text(40), nullable=False),
    Column("crime", String(64), nullable=False),
    Column("day", Float, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("crs", String(32), nullable=False),
    PrimaryKeyConstraint("dataset", "id"),
    Index("ix_homicide_incident_crime", "crime", "day"),
)
