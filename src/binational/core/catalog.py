"""Datasets and their owners: every dataset belongs to one agency of one country."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from binational.core import tables as t
from binational.core.db import Database
from binational.core.errors import Conflict, InvalidInput, NotFound
from binational.core.store import utcnow
from binational.core.vocab import Country

DATASET_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    agency: str
    country: Country
    title: str
    description: str | None = None


class Catalog:
    """Datasets and their owners. ``all()`` is read on every policy decision, so it is cached
    for a few seconds: datasets are only ever added (never moved to another owner), so a stale
    cache can only leave a brand-new dataset unseen for a moment, never show one wrongly."""

    TTL = 5.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, DatasetInfo] | None = None
        self._loaded = 0.0

    def add(self, name: str, agency: str, title: str,
            description: str | None = None) -> DatasetInfo:
        name = name.strip()
        if not DATASET_RE.match(name):
            raise InvalidInput(
                f"dataset name {name!r} must start with a letter and use 2-64 lower-case "
                "letters, digits or '_'"
            )
        with self.db.write() as conn:
            ag = conn.execute(sa.select(t.agency).where(t.agency.c.code == agency.upper()))
            agency_row = ag.mappings().first()
            if agency_row is None:
                raise NotFound(f"no agency {agency!r}")
            if conn.execute(sa.select(t.dataset.c.name).where(t.dataset.c.name == name)).first():
                raise Conflict(f"dataset {name} exists already")
            conn.execute(sa.insert(t.dataset).values(
                name=name, agency=agency_row["code"], title=title.strip() or name,
                description=description, created_at=utcnow()))
        self._cache = None
        return DatasetInfo(name, agency_row["code"], Country(agency_row["country"]),
                           title.strip() or name, description)

    def all(self) -> dict[str, DatasetInfo]:
        now = time.monotonic()
        if self._cache is None or now - self._loaded > self.TTL:
            self._cache = self._load()
            self._loaded = now
        return self._cache

    def _load(self) -> dict[str, DatasetInfo]:
        q = sa.select(t.dataset, t.agency.c.country).join(
            t.agency, t.agency.c.code == t.dataset.c.agency)
        with self.db.read() as conn:
            return {
                r["name"]: DatasetInfo(r["name"], r["agency"], Country(r["country"]),
                                       r["title"], r["description"])
                for r in conn.execute(q).mappings()
            }

    def get(self, name: str) -> DatasetInfo:
        info = self.all().get(name)
        if info is None:
            raise NotFound(f"no dataset {name!r}")
        return info
