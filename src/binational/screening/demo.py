"""The screening part of ``binational demo``: the OFAC SDN entries that mention Mexico and a
UN Security Council excerpt, loaded as lists, indexed, and shared across the border.

Public designation data only (see data/SOURCES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from binational.core.errors import BinationalError
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest
from binational.core.vocab import TLP, Action, Country, Purpose


@dataclass(frozen=True)
class DemoList:
    dataset: str
    agency: str
    title: str
    fmt: str
    file: str


LISTS = (
    DemoList("ofac_sdn", "OFAC", "OFAC Specially Designated Nationals (entries mentioning Mexico)",
             "ofac-csv", "sanctions/ofac_sdn_mx.csv"),
    DemoList("un_sc_consolidated", "UIF", "UN Security Council Consolidated List (excerpt)",
             "un-xml", "sanctions/un_consolidated_excerpt.xml"),
)
SCREENING_PURPOSES = [Purpose.SANCTIONS_SCREENING, Purpose.ILLICIT_FINANCE,
                      Purpose.COUNTER_NARCOTICS, Purpose.PRECURSOR_CONTROL]


def source_dir() -> Path | None:
    from binational.core.cli.demo import demo_source_dir

    return demo_source_dir()


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Load, index and share the demo lists; returns warnings (idempotent)."""
    from binational.core.cli.ingest import run_ingest
    from binational.screening import Screener

    warnings: list[str] = []
    identity = platform.identity
    if "OFAC" not in {a.code for a in identity.agencies()}:
        identity.add_agency("OFAC", "Office of Foreign Assets Control", Country.US)
    known = platform.catalog.all()
    screener = Screener(platform)
    folder = source_dir()
    now = datetime.now(UTC)
    for item in LISTS:
        if item.dataset not in known:
            platform.catalog.add(item.dataset, item.agency, item.title)
        if not platform.store.dataset_counts([item.dataset]).get(item.dataset):
            path = folder / item.file if folder else None
            if path is None or not path.exists():
                warnings.append(f"demo list {item.file} not found in data/demo; "
                                f"{item.dataset} stays empty")
                continue
            try:
                run_ingest(platform, item.fmt, path, item.dataset)
            except BinationalError as exc:
                warnings.append(f"demo list {item.dataset} could not be loaded: {exc.message}")
                continue
            screener.index_dataset(item.dataset)
        owner = identity.get_agency(item.agency)
        principal = operator(owner.code, owner.country)
        for country in Country:
            live = [g for g in platform.policy.grants(principal)
                    if g.owner_agency == owner.code and g.recipient_country == country
                    and item.dataset in g.datasets and g.status(now) == "live"]
            if live:
                continue
            platform.policy.create_grant(principal, GrantRequest(
                owner_agency=owner.code, datasets=[item.dataset],
                actions=[Action.READ, Action.SEARCH], purposes=SCREENING_PURPOSES,
                legal_basis="Public designation list, shared for screening (demo)",
                expires_at=now + timedelta(days=365), recipient_country=country,
                tlp=TLP.CLEAR))
    return warnings
