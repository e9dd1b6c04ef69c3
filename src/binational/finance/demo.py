"""The finance part of ``binational demo``: UIF's transaction reports with a funnel account
(US-dollar cash deposited at five branches, withdrawn at the border), its alert, and a grant
to FinCEN (purpose illicit-finance) so that a case opened on it can be shared.

Synthetic data made for the demo (see data/SOURCES.md); no real person or account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.errors import BinationalError
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import TLP, Action, Country, Purpose
from binational.finance.tables import finance_alert, finance_transaction

DATASET = "uif_transactions"
FILE = "finance/uif_transactions.csv"
AGENCIES = (("UIF", "Unidad de Inteligencia Financiera", Country.MX),
            ("FINCEN", "Financial Crimes Enforcement Network", Country.US))


def seed(platform: Platform, data_dir: Path) -> list[str]:
    """Load, alert and share (idempotent); returns warnings."""
    from binational.core.cli.demo import demo_source_dir, ensure_agencies
    from binational.core.cli.ingest import run_ingest
    from binational.finance.service import Finance

    warnings: list[str] = []
    identity = platform.identity
    ensure_agencies(platform, AGENCIES)
    if DATASET not in platform.catalog.all():
        platform.catalog.add(DATASET, "UIF", "Reportes de operaciones (UIF, demo)",
                             "Synthetic transaction reports with a funnel account (demo).")
    with platform.db.read() as conn:
        loaded = conn.execute(sa.select(sa.func.count()).select_from(finance_transaction)
                              .where(finance_transaction.c.dataset == DATASET)).scalar()
        alerted = conn.execute(sa.select(sa.func.count()).select_from(finance_alert)
                               .where(finance_alert.c.dataset == DATASET)).scalar()
    if not loaded:
        folder = demo_source_dir()
        path = folder / FILE if folder else None
        if path is None or not path.exists():
            return [f"demo file {FILE} not found in data/demo; {DATASET} stays empty"]
        try:
            run_ingest(platform, "transactions", path, DATASET)
        except BinationalError as exc:
            return [f"demo transactions could not be loaded: {exc.message}"]
    uif = identity.get_agency("UIF")
    if not alerted:
        caller = Caller(operator(uif.code, uif.country),
                        QueryContext(Purpose.ILLICIT_FINANCE, "demo-seed"), client="demo")
        flagged = [a for a in Finance(platform).alerts(caller, DATASET) if a.flagged]
        if not flagged:
            warnings.append(f"the demo transactions of {DATASET} raised no alert")
    principal = operator(uif.code, uif.country)
    now = datetime.now(UTC)
    live = [g for g in platform.policy.grants(principal)
            if g.owner_agency == "UIF" and g.recipient_agency == "FINCEN"
            and DATASET in g.datasets and Purpose.ILLICIT_FINANCE in g.purposes
            and g.status(now) == "live"]
    if not live:
        platform.policy.create_grant(principal, GrantRequest(
            owner_agency="UIF", datasets=[DATASET], actions=[Action.READ, Action.SEARCH],
            purposes=[Purpose.ILLICIT_FINANCE],
            legal_basis="US-Mexico financial intelligence exchange MOU (demo)",
            expires_at=now + timedelta(days=180), recipient_agency="FINCEN", tlp=TLP.AMBER))
    return warnings
