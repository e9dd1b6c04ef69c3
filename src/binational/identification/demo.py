"""The identification part of ``binational demo``: a Mexican state prosecutor's forensic
service (FGE-JAL) with synthetic remains and missing-person reports, and a US medical examiner
(PCOME) holding reports and family reference samples of families in the US, some of them
relatives of people whose remains FGE-JAL holds. Everything is fictional (``synthetic.py``);
the DVI cases are the public textbook examples bundled in ``data/demo/identification/dvi``.

Users: ``ana.fge-jal`` (analyst), ``admin.fge-jal``, ``ana.pcome``, ``admin.pcome``, with the
demo password and the demo's fixed TOTP seeds (``binational.core.cli.demo.demo_secret``).
FGE-JAL also shares its records (not its DNA) with the National Search Commission (CNB) for
the missing-persons purpose, so the core demo's ``ana.cnb`` sees the remains and their
candidates (each read leaves FGE-JAL a receipt).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from binational.core.errors import BinationalError
from binational.core.platform import Platform
from binational.core.vocab import Country, Role
from binational.identification import tables as it
from binational.identification.service import Identification, operator_caller
from binational.identification.synthetic import world

AGENCIES = (
    ("FGE-JAL", "Fiscalía del Estado de Jalisco - Servicio Médico Forense", Country.MX),
    ("PCOME", "Pima County Office of the Medical Examiner", Country.US),
)
DATASETS = (
    ("fge_jal_records", "FGE-JAL", "Unidentified remains and missing-person reports (FGE-JAL)"),
    ("fge_jal_dna", "FGE-JAL", "Genetic profiles of unidentified remains (FGE-JAL)"),
    ("pcome_records", "PCOME", "Missing-person reports and family reference samples (PCOME)"),
    ("pcome_dna", "PCOME", "Genetic profiles of family reference samples (PCOME)"),
)
LOCI = [
    "CSF1PO",
    "D13S317",
    "D16S539",
    "D18S51",
    "D21S11",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "FGA",
    "TH01",
    "TPOX",
    "vWA",
    "D2S1338",
    "D19S433",
    "D1S1656",
    "D2S441",
    "D10S1248",
    "D12S391",
    "D22S1045",
]
N_JALISCO = 40
N_ARIZONA = 15
SEED_CASE = "DEMO-SEED"


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Add the identification demo (idempotent); returns warnings."""
    from binational.core.cli.demo import DEMO_PASSWORD, demo_secret, ensure_agencies
    from binational.identification.resources import default_frequencies

    warnings: list[str] = []
    identity = platform.identity
    ensure_agencies(platform, AGENCIES)
    users = {str(u["username"]) for u in identity.users()}
    for code, _, _ in AGENCIES:
        low = code.lower()
        for username, role in ((f"ana.{low}", Role.ANALYST), (f"admin.{low}", Role.AGENCY_ADMIN)):
            if username not in users:
                identity.add_user(
                    username,
                    code,
                    role,
                    DEMO_PASSWORD,
                    f"{role.value} ({code})",
                    totp_secret=demo_secret(username),
                )
    datasets = platform.catalog.all()
    for name, agency, title in DATASETS:
        if name not in datasets:
            platform.catalog.add(name, agency, title)
    _share_with_search_commission(platform)
    with platform.db.read() as conn:
        have = conn.execute(
            sa.select(sa.func.count())
            .select_from(it.remains)
            .where(it.remains.c.dataset == "fge_jal_records")
        ).scalar_one()
    if have:
        return warnings
    try:
        db = default_frequencies(0)
    except BinationalError as exc:
        return [f"identification demo: {exc.message}"]
    loci = [lc for lc in LOCI if lc in db.loci]
    svc = Identification(platform)
    jal = operator_caller(platform, "FGE-JAL", SEED_CASE)
    pc = operator_caller(platform, "PCOME", SEED_CASE)
    mx = world(
        N_JALISCO,
        seed=2026,
        planted=N_JALISCO // 2,
        db=db,
        loci=loci,
        prefix="JAL-",
        states=("MX-JAL", "MX-JAL", "MX-JAL", "MX-ZAC", "MX-MIC", "MX-NAY", "MX-COL"),
    )
    us = world(N_ARIZONA, seed=2027, planted=0, db=db, loci=loci, prefix="AZ-", states=("US-AZ",))
    for r in mx.remains:
        svc.add_remains(jal, "fge_jal_records", r)
        svc.add_profile(
            jal, "fge_jal_dna", "remains", r["id"], mx.remains_dna[r["id"]], kit="GlobalFiler"
        )
    for m in mx.missing:
        svc.add_missing(jal, "fge_jal_records", m)
    # Three families of Jalisco's missing live in Arizona: their reports and reference
    # samples are with PCOME (consent includes international use for missing persons).
    for k in range(3):
        m = mx.missing[k]
        svc.add_missing(pc, "pcome_records", {**m, "id": f"AZ-{m['id']}", "state": "US-AZ"})
        fam = mx.family[k]
        svc.add_family_sample(pc, "pcome_records", {**fam, "consent_international": True})
        svc.add_profile(
            pc, "pcome_dna", "family", fam["id"], mx.family_dna[fam["id"]], kit="PowerPlex Fusion"
        )
    for m in us.missing:
        svc.add_missing(pc, "pcome_records", m)
    for f in us.family:
        svc.add_family_sample(pc, "pcome_records", f)
        svc.add_profile(
            pc, "pcome_dna", "family", f["id"], us.family_dna[f["id"]], kit="PowerPlex Fusion"
        )
    return warnings


def _share_with_search_commission(platform: Platform) -> None:
    """FGE-JAL shares its records (not its DNA) with Mexico's National Search Commission."""
    from datetime import UTC, datetime, timedelta

    from binational.core.identity import operator
    from binational.core.policy import GrantRequest
    from binational.core.vocab import TLP, Action, Purpose

    if "CNB" not in {a.code for a in platform.identity.agencies()}:
        return
    owner = operator("FGE-JAL", Country.MX)
    now = datetime.now(UTC)
    for g in platform.policy.grants(owner):
        if g.owner_agency == "FGE-JAL" and g.recipient_agency == "CNB" and g.status(now) == "live":
            return
    platform.policy.create_grant(
        owner,
        GrantRequest(
            owner_agency="FGE-JAL",
            datasets=["fge_jal_records"],
            actions=[Action.READ, Action.SEARCH],
            purposes=[Purpose.MISSING_PERSONS],
            legal_basis="Ley General en Materia de Desaparición, arts. 48 y 53: state forensic "
            "services share records with the National Search Commission (demo)",
            expires_at=now + timedelta(days=365),
            recipient_agency="CNB",
            tlp=TLP.AMBER,
        ),
    )
