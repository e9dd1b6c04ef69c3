"""The early-warning part of ``binational demo``: CDC's provisional overdose death counts
(a VSRR extract) scanned for alerts, a CONASAMA analyst following Sonora and its neighbours,
the substance register in English and Spanish, and grants across the border for public
health. Counts are public CDC data (see data/SOURCES.md); the register entries are
illustrative demo records, not real detections.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.errors import BinationalError
from binational.core.identity import Principal, operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.tables import user as user_table
from binational.core.vocab import TLP, Action, Country, Purpose, Role
from binational.early_warning.series import read_vsrr
from binational.early_warning.service import EarlyWarning
from binational.early_warning.tables import ew_series, ew_subscription, ew_substance

AGENCIES = (("CDC", "Centers for Disease Control and Prevention", Country.US),
            ("CONASAMA", "Comisión Nacional de Salud Mental y Adicciones", Country.MX))
DATASETS = (("cdc_vsrr", "CDC", "CDC VSRR provisional drug overdose death counts (extract)"),
            ("conasama_nps", "CONASAMA", "Registro de nuevas sustancias psicoactivas"))
GRANTS = (("CDC", "cdc_vsrr", Country.MX), ("CONASAMA", "conasama_nps", Country.US))
SUBSTANCES = (
    dict(name="Xylazine (adulterant in illicit fentanyl)", substance_class="sedative",
         first_detected=date(2023, 3, 14), place="MX-BCN", source="toxicology",
         confidence="confirmed",
         risk_en="Xylazine, a veterinary sedative, was found with fentanyl in toxicology "
                 "samples. Naloxone does not reverse its sedation: call emergency services, "
                 "give naloxone for the opioid and keep the person breathing. Wounds that do "
                 "not heal need medical care.",
         risk_es="Se detectó xilacina, un sedante veterinario, junto con fentanilo en muestras "
                 "toxicológicas. La naloxona no revierte su efecto sedante: llame a "
                 "emergencias, aplique naloxona por el opioide y mantenga a la persona "
                 "respirando. Las heridas que no sanan requieren atención médica."),
    dict(name="Protonitazene", substance_class="nitazene opioid",
         first_detected=date(2024, 6, 2), place="MX-SON", source="seizure",
         confidence="suspected",
         risk_en="A nitazene opioid, stronger than fentanyl, is suspected in seized tablets "
                 "sold as oxycodone. Several doses of naloxone may be needed.",
         risk_es="Se sospecha la presencia de un opioide nitaceno, más potente que el "
                 "fentanilo, en tabletas decomisadas vendidas como oxicodona. Puede requerirse "
                 "más de una dosis de naloxona."),
)


def _caller(platform: Platform, code: str) -> Caller:
    ag = platform.identity.get_agency(code)
    return Caller(operator(ag.code, ag.country),
                  QueryContext(Purpose.PUBLIC_HEALTH, "demo-early-warning"), client="demo")


def _user(platform: Platform, username: str) -> Principal | None:
    with platform.db.read() as conn:
        row = conn.execute(sa.select(user_table.c.id, user_table.c.agency, user_table.c.role)
                           .where(user_table.c.username == username)).first()
    if row is None:
        return None
    ag = platform.identity.get_agency(row.agency)
    return Principal(username=username, agency=row.agency, country=ag.country,
                     role=Role(row.role), user_id=row.id)


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Idempotent: agencies and datasets only when missing; series reloaded; alerts keep
    their ids so a re-run adds no duplicate alerts or notifications."""
    from binational.core.cli.demo import demo_source_dir, ensure_agencies

    warnings: list[str] = []
    ensure_agencies(platform, AGENCIES)
    known = platform.catalog.all()
    for name, agency, title in DATASETS:
        if name not in known:
            platform.catalog.add(name, agency, title)
    now = datetime.now(UTC)
    for owner, dataset, country in GRANTS:
        principal = operator(owner, platform.identity.get_agency(owner).country)
        if any(g.recipient_country == country and dataset in g.datasets
               and g.status(now) == "live" for g in platform.policy.grants(principal)):
            continue
        platform.policy.create_grant(principal, GrantRequest(
            owner_agency=owner, datasets=[dataset], actions=[Action.READ, Action.SEARCH],
            purposes=[Purpose.PUBLIC_HEALTH],
            legal_basis="Binational early warning on drugs: public-health surveillance (demo)",
            expires_at=now + timedelta(days=365), recipient_country=country, tlp=TLP.GREEN))
    ew = EarlyWarning(platform, smtp=None)
    # The analyst who follows the border: Sonora and its neighbours (Arizona, New Mexico...).
    analyst = _user(platform, "ana.conasama")
    if analyst is not None:
        with platform.db.read() as conn:
            subscribed = conn.execute(sa.select(ew_subscription.c.id).where(
                ew_subscription.c.user_id == analyst.user_id)).first()
        if subscribed is None:
            ew.subscribe(analyst, "MX-SON", include_neighbours=True)
    folder = demo_source_dir()
    path = folder / "early_warning" / "vsrr_extract.csv" if folder else None
    if path is None or not path.exists():
        warnings.append("demo file early_warning/vsrr_extract.csv not found in data/demo; "
                        "cdc_vsrr stays empty")
    else:
        try:
            cdc = _caller(platform, "CDC")
            with platform.db.read() as conn:
                loaded = conn.execute(sa.select(sa.func.count()).select_from(ew_series).where(
                    ew_series.c.dataset == "cdc_vsrr")).scalar_one()
            if not loaded:   # a re-run records nothing: the series and alerts are there
                series, problems = read_vsrr(path)
                warnings += [f"VSRR {p.key.label()}: {p.message}" for p in problems]
                ew.load(cdc, "cdc_vsrr", series, "month", "cdc-vsrr")
                ew.scan(cdc, "cdc_vsrr")
        except BinationalError as exc:
            warnings.append(f"early warning demo: {exc.message}")
    conasama = _caller(platform, "CONASAMA")
    with platform.db.read() as conn:
        have_names = {r[0] for r in conn.execute(sa.select(ew_substance.c.name).where(
            ew_substance.c.dataset == "conasama_nps"))}
    for entry in SUBSTANCES:
        if entry["name"] not in have_names:
            ew.register_substance(conasama, "conasama_nps", **entry)  # type: ignore[arg-type]
    return warnings
