"""A Mexican state prosecutor's forensic service and a US medical examiner, with synthetic
(fictional) remains, reports, family references and DNA profiles, for the service tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from binational.core.access import Caller
from binational.core.identity import Principal, operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Country, Purpose, Role
from binational.identification.dna.kinship import FrequencyDatabase, load_frequencies
from binational.identification.service import Identification
from binational.identification.synthetic import World, world

ROOT = Path(__file__).resolve().parents[1]
FREQS = ROOT / "data" / "demo" / "identification" / "frequencies" / "hispanic_str.csv"
LOCI = ["CSF1PO", "D13S317", "D16S539", "D18S51", "D21S11", "D3S1358", "D5S818", "D7S820",
        "D8S1179", "FGA", "TH01", "TPOX", "vWA", "D2S1338", "D19S433"]


def hispanic() -> FrequencyDatabase:
    return load_frequencies(FREQS, "NIST1036_rev2017", "Hisp")


@dataclass
class Scene:
    platform: Platform
    service: Identification
    db: FrequencyDatabase
    mx: World  # FGE-JAL: remains and local reports
    us: World  # PCOME: reports and family references from families in the US

    def caller(self, agency: str, role: Role = Role.AGENCY_ADMIN,
               purpose: Purpose = Purpose.MISSING_PERSONS) -> Caller:
        country = Country.MX if agency == "FGE-JAL" else Country.US
        p = operator(agency, country) if role == Role.AGENCY_ADMIN else Principal(
            f"{role.value}.{agency.lower()}", agency, country, role)
        return Caller(p, QueryContext(purpose, "FGE-JAL/2026/0042"), client="test")


def build_scene(platform: Platform, n: int = 6) -> Scene:
    ident = platform.identity
    ident.add_agency("FGE-JAL", "Fiscalía del Estado de Jalisco, servicio forense", Country.MX)
    ident.add_agency("PCOME", "Pima County Office of the Medical Examiner", Country.US)
    for name, agency in (("fge_jal_records", "FGE-JAL"), ("fge_jal_dna", "FGE-JAL"),
                         ("pcome_records", "PCOME"), ("pcome_dna", "PCOME")):
        platform.catalog.add(name, agency, name.replace("_", " "))
    db = hispanic()
    svc = Identification(platform)
    mx = world(n, seed=11, planted=n // 2, db=db, loci=LOCI, prefix="JAL-")
    us = world(3, seed=12, planted=0, db=db, loci=LOCI, prefix="AZ-")
    scene = Scene(platform, svc, db, mx, us)
    jal, pc = scene.caller("FGE-JAL"), scene.caller("PCOME")
    for r in mx.remains:
        svc.add_remains(jal, "fge_jal_records", r)
        svc.add_profile(jal, "fge_jal_dna", "remains", r["id"], mx.remains_dna[r["id"]],
                        kit="GlobalFiler")
    for m in mx.missing:
        svc.add_missing(jal, "fge_jal_records", m)
    # The families of the first planted missing persons reported in the US: their reports
    # and reference samples are PCOME's.
    for k in range(2):
        svc.add_missing(pc, "pcome_records", {**mx.missing[k], "id": f"AZ-{mx.missing[k]['id']}"})
        fam = mx.family[k]
        svc.add_family_sample(pc, "pcome_records", {**fam, "consent_international": True})
        svc.add_profile(pc, "pcome_dna", "family", fam["id"], mx.family_dna[fam["id"]],
                        kit="PowerPlex Fusion")
    for f in us.family:
        svc.add_family_sample(pc, "pcome_records", f)
        svc.add_profile(pc, "pcome_dna", "family", f["id"], us.family_dna[f["id"]])
    return scene
