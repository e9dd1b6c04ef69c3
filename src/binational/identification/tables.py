"""Identification's tables: missing-person reports, unidentified remains, family reference
samples with their consent, DNA profiles (encrypted at rest) and cross-border hits.

Every row is owned (``dataset``), so ``Scope.clause(table.c.dataset)`` filters it by the policy
plan like the records of the core. DNA profiles live in their own datasets (an agency keeps a
``*_dna`` dataset beside its records), so a grant on the records does not open the genetic
data: it needs a grant of its own. Created by migration ``identification_0001``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
)

from binational.core.tables import UTCDateTime, key_text, owned_table

# A report of Mexico's national registry of missing persons (RNPDNO fields; no names kept
# here: the registry folio links to the owner's own case file).
missing_person = owned_table(
    "ident_missing_person",
    Column("id", key_text(64), nullable=False),
    Column("folio", String(64), nullable=True),
    Column("sex", String(1), nullable=False),  # M, F, U
    Column("birth_year", Integer, nullable=True),
    Column("age", Integer, nullable=True),  # at disappearance
    Column("disappeared_on", Date, nullable=True),
    Column("state", String(8), nullable=True),  # MX-JAL, US-AZ (ISO 3166-2)
    Column("municipality", String(128), nullable=True),
    Column("stature_cm", Float, nullable=True),
    Column("codes", JSON, nullable=False),  # controlled description codes (codes.py)
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Ids are the owner's: two agencies may use the same one without colliding.
    PrimaryKeyConstraint("dataset", "id"),
)

remains = owned_table(
    "ident_remains",
    Column("id", key_text(64), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("age_min", Integer, nullable=True),
    Column("age_max", Integer, nullable=True),
    Column("stature_min_cm", Float, nullable=True),
    Column("stature_max_cm", Float, nullable=True),
    Column("found_on", Date, nullable=True),
    Column("state", String(8), nullable=True),
    Column("municipality", String(128), nullable=True),
    Column("place", Text, nullable=True),
    Column("grave_ref", String(128), nullable=True),
    Column("codes", JSON, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Ids are the owner's: two agencies may use the same one without colliding.
    PrimaryKeyConstraint("dataset", "id"),
)

# A relative who gave a reference sample for a missing person, and what they consented to.
family_sample = owned_table(
    "ident_family_sample",
    Column("id", key_text(64), nullable=False),
    Column("missing_id", key_text(64), nullable=False, index=True),
    Column("relationship", String(32), nullable=False),  # relative's relation to the missing
    Column("consent_on", Date, nullable=False),
    Column("consent_purposes", JSON, nullable=False),
    Column("consent_international", Boolean, nullable=False),
    Column("consent_withdrawn_on", Date, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Ids are the owner's: two agencies may use the same one without colliding.
    PrimaryKeyConstraint("dataset", "id"),
)

# An STR profile: the genotypes are sealed (Fernet) with the platform key; only the kit and
# the number of loci are in clear, for listing.
dna_profile = owned_table(
    "ident_dna_profile",
    Column("id", key_text(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),  # remains, family, missing
    Column("subject_id", key_text(64), nullable=False),
    Column("kit", String(64), nullable=False),
    Column("n_loci", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_ident_dna_profile_subject", "subject_kind", "subject_id"),
    PrimaryKeyConstraint("dataset", "id"),
)

# A hit of a cross-border (Prüm-style) query: the requester sees only ``ref``; the owner sees
# the record, and may release it (a grant) on request.
hit = owned_table(
    "ident_hit",
    Column("ref", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),  # dna, attributes
    Column("record_kind", String(16), nullable=False),  # missing, remains, family
    Column("record_id", key_text(64), nullable=False),
    Column("owner_agency", String(32), nullable=False, index=True),
    Column("requester_agency", String(32), nullable=False, index=True),
    Column("requester", String(64), nullable=False),
    Column("query_id", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("case_ref", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("status", String(16), nullable=False),  # hit, requested, released, refused
    Column("justification", Text, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("grant_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
