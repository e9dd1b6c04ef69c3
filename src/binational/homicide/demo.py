"""The homicide part of ``binational demo``: Mexico's homicide series (INEGI by state and for
four states' municipalities, SESNSP victims by state), Mexico City's police quadrants with
their outlines, the best-practice registry in both languages, and one Homicide Task Force
case per side shared across the border. Public statistics only (see data/SOURCES.md); the
demo case is invented and names nobody.

Idempotent: series are replaced, programmes upserted by id, and agencies, datasets, grants
and the case created only when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.errors import BinationalError
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import TLP, Action, Country, Purpose
from binational.homicide.registry import SEED
from binational.homicide.tables import homicide_case, homicide_programme, homicide_series

FOLDER = "homicide"
AGENCIES = (
    ("INEGI", "Instituto Nacional de Estadística y Geografía", Country.MX),
    ("SESNSP", "Secretariado Ejecutivo del Sistema Nacional de Seguridad Pública", Country.MX),
    ("SSC_CDMX", "Secretaría de Seguridad Ciudadana de la Ciudad de México", Country.MX),
    ("NIJ", "National Institute of Justice", Country.US),
)
PUBLIC_PURPOSES = [Purpose.HOMICIDE_INVESTIGATION, Purpose.PUBLIC_HEALTH,
                   Purpose.ARMS_TRAFFICKING, Purpose.COUNTER_NARCOTICS]
CASE_PURPOSES = [Purpose.HOMICIDE_INVESTIGATION, Purpose.ARMS_TRAFFICKING]


@dataclass(frozen=True)
class Load:
    dataset: str
    agency: str
    title: str
    fmt: str
    file: str
    polygons: str | None = None


LOADS = (
    Load("inegi_homicides", "INEGI", "INEGI homicides by state and month, 2015-2022",
         "inegi-state", "inegi_state_2015_2022.csv"),
    Load("inegi_homicides", "INEGI", "", "inegi-municipal",
         "inegi_municipal_2019_2021_extract.csv.gz"),
    Load("sesnsp_victims", "SESNSP", "SESNSP victims of intentional homicide by state",
         "sesnsp-victims-state", "sesnsp_victims_state_homicidio_doloso_2015_2022.csv.gz"),
    Load("ssc_cdmx_quadrants", "SSC_CDMX", "Mexico City police quadrants: homicides 2015-2016",
         "cdmx-quadrants", "cdmx_quadrants_homicidio_doloso_2015_2016.csv.gz",
         "cdmx_quadrants.geojson.gz"),
)
REGISTRIES = (("nij_best_practices", "NIJ", "Best practices in violence prevention (US)"),
              ("sesnsp_buenas_practicas", "SESNSP",
               "Buenas prácticas de prevención de la violencia (MX)"))
# Which publisher seeds which programme of registry.SEED (by English name prefix).
MX_PROGRAMMES = ("Cure Violence", "Urban upgrading")
CASES = (("fgr_htf_cases", "FGR", "Homicide Task Force cases (FGR)", "ATF"),
         ("atf_htf_cases", "ATF", "Homicide Task Force cases (ATF)", "FGR"))


def source_dir() -> Path | None:
    from binational.core.cli.demo import demo_source_dir

    base = demo_source_dir()
    return base / FOLDER if base is not None and (base / FOLDER).is_dir() else None


def catalogue_file() -> Path | None:
    folder = source_dir()
    path = folder / "municipalities.csv" if folder else None
    return path if path is not None and path.is_file() else None


def demo_incidents() -> Path | None:
    folder = source_dir()
    path = folder / "chicago_burglary_2016h2_2017q1_extract.csv" if folder else None
    return path if path is not None and path.is_file() else None


def _caller(platform: Platform, agency: str) -> Caller:
    ag = platform.identity.get_agency(agency)
    return Caller(operator(ag.code, ag.country),
                  QueryContext(Purpose.HOMICIDE_INVESTIGATION, "demo-seed"), client="demo")


def _share(platform: Platform, dataset: str, agency: str, purposes: list[Purpose],
           basis: str, *, country: Country | None = None, to_agency: str | None = None,
           tlp: TLP = TLP.CLEAR) -> None:
    owner = platform.identity.get_agency(agency)
    principal = operator(owner.code, owner.country)
    now = datetime.now(UTC)
    for g in platform.policy.grants(principal):
        if (g.owner_agency == owner.code and dataset in g.datasets and g.status(now) == "live"
                and g.recipient_country == country and g.recipient_agency == to_agency):
            return
    platform.policy.create_grant(principal, GrantRequest(
        owner_agency=owner.code, datasets=[dataset], actions=[Action.READ, Action.SEARCH],
        purposes=purposes, legal_basis=basis, expires_at=now + timedelta(days=365),
        recipient_country=country, recipient_agency=to_agency, tlp=tlp))


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Add the homicide demo; returns warnings."""
    from binational.core.cli.demo import ensure_agencies
    from binational.homicide.service import Homicide, programme_id

    warnings: list[str] = []
    identity = platform.identity
    ensure_agencies(platform, AGENCIES)
    known = {a.code for a in identity.agencies()}
    datasets = platform.catalog.all()
    service = Homicide(platform)
    folder = source_dir()
    for load in LOADS:
        if load.dataset not in datasets:
            platform.catalog.add(load.dataset, load.agency, load.title)
            datasets = platform.catalog.all()
        if _loaded(platform, load):
            continue
        path = folder / load.file if folder else None
        if path is None or not path.is_file():
            warnings.append(f"demo file homicide/{load.file} not found; {load.dataset} "
                            "stays incomplete")
            continue
        try:
            polygons = folder / load.polygons if folder and load.polygons else None
            report = service.load_series(_caller(platform, load.agency), load.dataset,
                                         load.fmt, path, polygons)
        except BinationalError as exc:
            warnings.append(f"homicide demo {load.file}: {exc.message}")
            continue
        if report.issues:
            warnings.append(f"homicide demo {load.file}: {len(report.issues)} rows rejected, "
                            f"e.g. {report.issues[0]}")
    for load in LOADS:
        for country in Country:
            _share(platform, load.dataset, load.agency, PUBLIC_PURPOSES,
                   "Public statistics, shared for the Network for Homicide Prevention (demo)",
                   country=country)
    for name, agency, title in REGISTRIES:
        if name not in datasets:
            platform.catalog.add(name, agency, title)
        caller = _caller(platform, agency)
        mx = agency == "SESNSP"
        with platform.db.read() as conn:
            present = {r[0] for r in conn.execute(sa.select(homicide_programme.c.id).where(
                homicide_programme.c.dataset == name))}
        for programme in SEED:
            mine = programme.name_en.startswith(MX_PROGRAMMES) == mx
            if mine and programme_id(name, programme.name_en) not in present:
                service.publish(caller, name, programme)
        for country in Country:
            _share(platform, name, agency, PUBLIC_PURPOSES,
                   "Best-practice registry of the Network for Homicide Prevention (demo)",
                   country=country)
    datasets = platform.catalog.all()
    for name, agency, title, partner in CASES:
        if agency not in known or partner not in known:
            warnings.append(f"homicide demo: agency {agency} or {partner} missing; no case")
            continue
        if name not in datasets:
            platform.catalog.add(name, agency, title)
        _seed_case(platform, service, name, agency)
        _share(platform, name, agency, CASE_PURPOSES,
               "Bicentennial Framework: Homicide Task Force information exchange (demo)",
               to_agency=partner, tlp=TLP.AMBER)
    return warnings


def _loaded(platform: Platform, load: Load) -> bool:
    """Whether a demo file's rows are in already (a second seed then writes nothing)."""
    level = {"inegi-state": "state", "inegi-municipal": "municipality",
             "sesnsp-victims-state": "state", "cdmx-quadrants": "quadrant"}[load.fmt]
    s = homicide_series.c
    with platform.db.read() as conn:
        return conn.execute(sa.select(s.dataset).where(
            s.dataset == load.dataset, s.level == level).limit(1)).first() is not None


def _seed_case(platform: Platform, service: object, dataset: str, agency: str) -> None:
    from binational.homicide.service import Homicide

    assert isinstance(service, Homicide)
    with platform.db.read() as conn:
        exists = conn.execute(sa.select(homicide_case.c.id).where(
            homicide_case.c.dataset == dataset)).first()
    if exists:
        return
    mx = agency == "FGR"
    service.create_case(_caller(platform, agency), dataset, {
        "title": "Ataque armado en vía pública (caso de demostración)" if mx
        else "Firearms trafficking linked to a multiple homicide (demo case)",
        "summary": "Invented demo record: a case linked to a criminal organisation, with a "
                   "traced firearm and forensic requests. Names nobody.",
        "status": "open", "crime": "armed-attack" if mx else "homicide",
        "occurred_on": "2021-03-14", "place": "Guanajuato" if mx else "Tucson, AZ",
        "area_code": "11" if mx else None,
        "firearms": [{"make": "Colt", "model": "AR-15 pattern rifle", "calibre": "5.56 mm",
                      "country_of_origin": "US", "trace": "eTrace requested"}],
        "lab_requests": [{"lab": "FGR Coordinación General de Servicios Periciales" if mx
                          else "ATF National Laboratory Center", "kind": "ballistics",
                          "status": "in-progress", "requested_on": "2021-03-16"}]})
