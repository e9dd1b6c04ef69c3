"""The core assembled: one object the API, the CLI and capability packages are handed."""

from __future__ import annotations

from dataclasses import dataclass

from binational.core.access import Access
from binational.core.audit import AuditLog
from binational.core.catalog import Catalog
from binational.core.db import Database, migrate
from binational.core.identity import Identity
from binational.core.policy import Policy
from binational.core.settings import Settings, get_settings
from binational.core.store import Store


@dataclass
class Platform:
    settings: Settings
    db: Database
    store: Store
    catalog: Catalog
    audit: AuditLog
    identity: Identity
    policy: Policy
    access: Access

    @classmethod
    def open(cls, settings: Settings | None = None, *, url: str | None = None,
             migrate_schema: bool = True) -> Platform:
        settings = settings or get_settings()
        db = Database(url or settings.resolved_database_url())
        if migrate_schema:
            migrate(db)
        store = Store(db)
        catalog = Catalog(db)
        audit = AuditLog(db, settings.resolved_signing_key_file())
        identity = Identity(db, settings, audit)
        policy = Policy(db, catalog, audit)
        access = Access(store, policy, audit)
        return cls(settings, db, store, catalog, audit, identity, policy, access)

    def close(self) -> None:
        self.db.dispose()
