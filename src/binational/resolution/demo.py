"""The resolution part of ``binational demo``: one person in a Mexican and a US dataset.

All names are fictional (invented for the demo; no personal details of anyone). UIF holds a
person and the company he owns; FinCEN holds the same person under a shorter name (the
maternal surname dropped, no accents), an associate of a designated person. Resolution joins
the two records, so the network walks from the company to the designated person, across the
border, for a reader both agencies share with. A second pair (a shared telephone, little else)
is left for the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followthemoney import EntityProxy, model

from binational.core.access import Caller
from binational.core.errors import BinationalError
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import TLP, Action, Country, Purpose

MX_DATASET = "uif_resolution_demo"
US_DATASET = "fincen_resolution_demo"
PURPOSES = [Purpose.ILLICIT_FINANCE, Purpose.COUNTER_NARCOTICS]


@dataclass(frozen=True)
class Side:
    agency: str
    agency_name: str
    country: Country
    dataset: str
    title: str


SIDES = (
    Side("UIF", "Unidad de Inteligencia Financiera", Country.MX, MX_DATASET,
         "UIF: reportes de operaciones (demo, ficticio)"),
    Side("FINCEN", "Financial Crimes Enforcement Network", Country.US, US_DATASET,
         "FinCEN: currency transaction reports (demo, fictional)"),
)


def _entity(schema: str, entity_id: str, **props: str | list[str]) -> EntityProxy:
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    for key, value in props.items():
        proxy.add(key, value)
    return proxy


def mx_entities() -> list[EntityProxy]:
    return [
        _entity("Person", "mx-p-ramiro", name="Ramiro Téllez Avendaño", firstName="Ramiro",
                fatherName="Téllez", motherName="Avendaño", birthDate="1975-04-12",
                nationality="mx", address="Av. Insurgentes 100, Hermosillo, Sonora"),
        _entity("Person", "mx-p-lucia", name="Lucía Téllez Avendaño", firstName="Lucía",
                fatherName="Téllez", motherName="Avendaño", birthDate="1979-10-02",
                nationality="mx"),
        _entity("Person", "mx-p-rosa", name="Rosa Elvira Quintanar Ibarra", birthDate="1981-06-30",
                nationality="mx", phone="+52 662 555 0142"),
        _entity("Company", "mx-c-comercializadora",
                name="Comercializadora Avendaño del Norte S.A. de C.V.", jurisdiction="mx"),
        _entity("Ownership", "mx-o-1", owner="mx-p-ramiro", asset="mx-c-comercializadora",
                percentage="60"),
        _entity("Family", "mx-f-1", person="mx-p-ramiro", relative="mx-p-lucia",
                relationship="hermana"),
    ]


def us_entities() -> list[EntityProxy]:
    return [
        _entity("Person", "us-p-ramiro", name="Ramiro Tellez", birthDate="1975-04-12",
                nationality="mx", address="1200 Montana Ave, El Paso, TX"),
        # The same telephone and first name, another surname and date of birth: a pair the
        # model cannot settle, for the review queue.
        _entity("Person", "us-p-rosa", name="Rosa Orozco", birthDate="1979-02-14",
                nationality="mx", phone="+52 662 555 0142"),
        _entity("Person", "us-p-nicanor", name="Nicanor Zubieta Larrañaga",
                birthDate="1962-01-15", nationality="mx"),
        _entity("Sanction", "us-s-nicanor", entity="us-p-nicanor", authority="Demo authority",
                program="DEMO-FICTIONAL", reason="Fictional designation for the demo"),
        _entity("Associate", "us-a-1", person="us-p-ramiro", associate="us-p-nicanor",
                relationship="business associate"),
        _entity("Payment", "us-pay-1", payer="us-p-ramiro", beneficiary="us-p-nicanor",
                amount="48000", currency="USD", date="2025-03-14"),
    ]


def load(platform: Platform, dataset: str, entities: list[EntityProxy]) -> dict[str, str]:
    """Load entities; returns their given ids -> stored (signed) ids."""
    out: dict[str, str] = {}
    with platform.db.write() as conn:
        writer = platform.store.writer(conn, dataset, origin="demo:resolution")
        for entity in entities:
            out[str(entity.id)] = writer.add_entity(entity)
        writer.flush()
    return out


def share(platform: Platform, side: Side, recipient: Country) -> None:
    """A live grant of ``side``'s dataset to the agencies of the other country, for the
    demo's purposes (idempotent)."""
    principal = operator(side.agency, side.country)
    now = datetime.now(UTC)
    live = [g for g in platform.policy.grants(principal)
            if g.owner_agency == side.agency and g.recipient_country == recipient
            and side.dataset in g.datasets and g.status(now) == "live"]
    if live:
        return
    platform.policy.create_grant(principal, GrantRequest(
        owner_agency=side.agency, datasets=[side.dataset], actions=[Action.READ, Action.SEARCH],
        purposes=PURPOSES, legal_basis="Demo memorandum of understanding (fictional)",
        expires_at=now + timedelta(days=365), recipient_country=recipient, tlp=TLP.AMBER))


def setup(platform: Platform, *, grants: bool = True) -> dict[str, str]:
    """Agencies, datasets, records and (optionally) grants both ways; returns the ids."""
    identity = platform.identity
    ids: dict[str, str] = {}
    known = platform.catalog.all()
    for side in SIDES:
        if side.agency not in {a.code for a in identity.agencies()}:
            identity.add_agency(side.agency, side.agency_name, side.country)
        if side.dataset not in known:
            platform.catalog.add(side.dataset, side.agency, side.title)
        entities = mx_entities() if side.country is Country.MX else us_entities()
        ids.update(load(platform, side.dataset, entities))
    if grants:
        share(platform, SIDES[0], SIDES[1].country)
        share(platform, SIDES[1], SIDES[0].country)
    return ids


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Entry point ``binational.demo``: the records, the grants and a resolution run."""
    import sqlalchemy as sa

    from binational.resolution.service import Resolver
    from binational.resolution.tables import resolution_candidate

    try:
        setup(platform)
        c = resolution_candidate.c
        with platform.db.read() as conn:
            done = conn.execute(sa.select(c.id).where(c.dataset.in_([MX_DATASET, US_DATASET]))
                                .limit(1)).first()
        if done is not None:
            return []  # seeded before: no second run (and no second audit record)
        ag = platform.identity.get_agency("UIF")
        caller = Caller(operator(ag.code, ag.country),
                        QueryContext(Purpose.ILLICIT_FINANCE, "DEMO-RESOLUTION"), client="demo")
        Resolver(platform).run(caller, [MX_DATASET, US_DATASET])
    except BinationalError as exc:
        return [f"resolution demo not seeded: {exc.message}"]
    return []
