"""A small two-country world for tests: agencies, datasets, people, and a way to sign in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from followthemoney import model

from binational.core.identity import Principal, totp_now
from binational.core.platform import Platform
from binational.core.store import utcnow
from binational.core.vocab import Country, Role

PASSWORD = "correct horse battery staple"

AGENCIES = [
    ("FINCEN", "Financial Crimes Enforcement Network", Country.US),
    ("CBP", "Customs and Border Protection", Country.US),
    ("UIF", "Unidad de Inteligencia Financiera", Country.MX),
    ("ANAM", "Agencia Nacional de Aduanas de México", Country.MX),
]
DATASETS = [
    ("fincen_reports", "FINCEN"),
    ("cbp_shipments", "CBP"),
    ("uif_persons", "UIF"),
    ("anam_importers", "ANAM"),
]


@dataclass
class World:
    platform: Platform
    totp: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)

    def principal(self, username: str) -> Principal:
        return self.platform.identity.principal(username)

    def login(self, username: str) -> str:
        _, token = self.platform.identity.login(username, PASSWORD, totp_now(self.totp[username]))
        return token


def build_world(platform: Platform, entities_per_dataset: int = 3) -> World:
    world = World(platform)
    for code, name, country in AGENCIES:
        platform.identity.add_agency(code, name, country)
    for ds, agency in DATASETS:
        platform.catalog.add(ds, agency, ds.replace("_", " ").title())
    for code, _, _ in AGENCIES:
        low = code.lower()
        for role in (Role.ANALYST, Role.SUPERVISOR, Role.AGENCY_ADMIN):
            user = platform.identity.add_user(f"{role.value}.{low}", code, role, PASSWORD)
            assert user.totp_secret is not None
            world.totp[user.username] = user.totp_secret
    for country in Country:
        user = platform.identity.add_user(f"auditor.{country.value.lower()}",
                                          "FINCEN" if country == Country.US else "UIF",
                                          Role.AUDITOR, PASSWORD)
        assert user.totp_secret is not None
        world.totp[user.username] = user.totp_secret
    for ds, _ in DATASETS:
        world.ids[ds] = []
        with platform.db.write() as conn:
            writer = platform.store.writer(conn, ds)
            for i in range(entities_per_dataset):
                schema = "Person" if i % 2 == 0 else "Company"
                proxy = model.make_entity(schema)
                proxy.id = f"{ds.replace('_', '-')}-{i}"
                proxy.add("name", f"{ds.split('_')[0].title()} Sample {i} Garcia")
                proxy.add("country", "mx" if ds.startswith(("uif", "anam")) else "us")
                world.ids[ds].append(writer.add_entity(proxy))
            writer.flush()
    return world


def in_days(days: int) -> datetime:
    return utcnow() + timedelta(days=days)
