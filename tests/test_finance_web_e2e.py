"""Issue 5's "Done when" in a real browser (Playwright driving Debian's Chromium): an analyst
at UIF sees the alert on the funnel account with its explanation, opens a case and shares it
with FinCEN under the grant; FinCEN sees it; UIF sees FinCEN's access receipt. Every page is
checked with axe-core like the web application's other browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from binational.core.platform import Platform
from binational.finance.demo import DATASET, seed
from tests.test_web_e2e import User, browser, check_a11y
from tests.web_fixtures import live_server
from tests.world import World, build_world

__all__ = ["browser"]  # the browser fixture, shared with the web application's tests
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def finance_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """A migrated SQLite platform with the test world and the finance demo, served locally."""
    folder = tmp_path_factory.mktemp("finance-e2e")

    def populate(platform: Platform) -> World:
        world = build_world(platform, entities_per_dataset=0)
        assert seed(platform, DATA) == []
        return world

    with live_server(folder, populate) as served:
        yield served


def test_uif_alert_case_share_fincen_reads_uif_sees_the_receipt(
        finance_live: tuple[str, World], browser: Browser) -> None:
    base, world = finance_live
    grant = next(g for g in world.platform.policy.grants(world.principal("analyst.uif"))
                 if DATASET in g.datasets)

    # UIF's analyst: the alert on the funnel account, its explanation, a case, the share.
    uif = User(browser, base, world, "analyst.uif")
    page = uif.page
    uif.sign_in("illicit-finance", "UIF/2026/42")
    page.get_by_role("link", name="Illicit finance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Transaction-monitoring alerts")
    first = page.locator("#alerts tbody tr").first
    expect(first).to_contain_text("MX7700")
    expect(first).to_contain_text("Funnel account")
    check_a11y(page, "finance-alerts")
    first.get_by_role("link", name="MX7700").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alert on account MX7700")
    expect(page.locator("#alert-reasons")).to_contain_text("withdrawn at another")
    expect(page.locator("#places-summary")).to_contain_text("Cash deposited at 5 places")
    expect(page.locator("#alert-transactions tbody tr")).to_have_count(17)
    check_a11y(page, "finance-alert")
    page.get_by_label("Case title (optional)").fill("Funnel account at the border")
    page.get_by_label("First note (optional)").fill(
        "US-dollar cash deposited at five branches, withdrawn at the border.")
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator("#finance-done")).to_have_text("Case opened.")
    found = re.search(r"/finance/cases/(fc_[0-9a-f]{16})", page.url)
    assert found is not None
    case_id = found.group(1)
    expect(page.locator("#receipts-privilege")).to_be_visible()
    check_a11y(page, "finance-case")
    page.get_by_label("Recipient and grant").select_option(f"FINCEN|{grant.id}")
    page.get_by_role("button", name="Share the case").click()
    expect(page.locator("#finance-done")).to_have_text(
        f"Case shared with FINCEN under grant {grant.id}.")
    expect(page.locator("#case-shares")).to_contain_text("FINCEN")
    uif.close()

    # FinCEN's analyst: the case in its list, read-only, with the package.
    fincen = User(browser, base, world, "analyst.fincen")
    fpage = fincen.page
    fincen.sign_in("illicit-finance", "FIN-2026-9")
    fpage.get_by_role("link", name="Illicit finance").click()
    fpage.locator("nav.filters").get_by_role("link", name="Cases").click()
    expect(fpage.locator("#shared-cases")).to_contain_text("Funnel account at the border")
    check_a11y(fpage, "finance-cases-fincen")
    fpage.locator("#shared-cases").get_by_role("link", name=case_id).click()
    expect(fpage.get_by_role("heading", level=1)).to_have_text(
        f"Shared case {case_id} from UIF")
    expect(fpage.locator("#case-narrative")).to_contain_text("withdrawn at the border")
    expect(fpage.locator("#case-transactions tbody tr")).to_have_count(17)
    expect(fpage.locator("#main form")).to_have_count(0)
    check_a11y(fpage, "finance-shared-fincen")
    fincen.close()

    # UIF: its supervisor (who reads receipts) sees FinCEN's access receipt, in Spanish.
    sup = User(browser, base, world, "supervisor.uif", lang="es-MX")
    spage = sup.page
    sup.sign_in("illicit-finance", "UIF/2026/42")
    spage.goto(f"/app/finance/cases/{case_id}")
    expect(spage.get_by_role("heading", name="Acuses de acceso de este caso")).to_be_visible()
    receipts = spage.locator("#case-receipts")
    expect(receipts).to_contain_text("analyst.fincen (FINCEN, US)")
    expect(receipts).to_contain_text("FIN-2026-9")
    expect(receipts).to_contain_text(grant.id)
    check_a11y(spage, "finance-case-receipt-es")
    sup.close()
