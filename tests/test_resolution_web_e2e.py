"""The issue's "Done when" in a real browser (Playwright, Debian's Chromium, axe-core on every
page, as ``test_web_e2e``): a FinCEN analyst sees a person of a Mexican dataset and of a US
dataset resolved into one entity with the evidence, rejects the link (and takes it back), and
walks the network from a company to a designated person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from binational.core.platform import Platform
from binational.resolution import demo
from tests.test_web_e2e import User, browser, check_a11y
from tests.web_fixtures import live_server
from tests.world import World, build_world

__all__ = ["browser"]  # the module-scoped browser fixture of test_web_e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """A migrated SQLite platform with the test world and the resolution demo, served on a
    free local port."""
    folder = tmp_path_factory.mktemp("resolution-e2e")

    def populate(platform: Platform) -> World:
        world = build_world(platform, entities_per_dataset=1)
        assert demo.seed(platform, folder) == []  # what ``binational demo`` seeds
        return world

    with live_server(folder, populate) as served:
        yield served


def test_a_resolved_person_rejected_and_the_walk_to_a_designated_person(
        live: tuple[str, World], browser: Browser) -> None:
    base, world = live
    user = User(browser, base, world, "analyst.fincen")
    page = user.page
    user.sign_in("illicit-finance", "FIN/2026/44")
    page.get_by_role("link", name="Entity resolution").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    # The pair the model could not settle comes first; judging it "unsure" keeps it open.
    expect(page.locator("section.pair")).to_have_count(2)
    first = page.locator("#pair-1")
    expect(first).to_contain_text("Phone")
    expect(first.locator('tr[data-comparison="phone"]')).to_have_attribute("data-sign", "for")
    check_a11y(page, "resolution-queue")
    # The resolved person: one entity of a Mexican (UIF) and a US (FinCEN) record.
    page.get_by_role("link", name="Resolved entities").click()
    check_a11y(page, "resolution-resolved")
    page.locator("#resolved").get_by_role("link", name="Ramiro Téllez Avendaño").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Resolved entity: Ramiro Téllez Avendaño")
    members = page.locator("#members")
    expect(members).to_contain_text("Owner: UIF (MX)")
    expect(members).to_contain_text("Owner: FINCEN (US)")
    expect(members).to_contain_text("Ramiro Tellez")
    evidence = page.locator("#evidence-1")
    expect(evidence).to_contain_text("Date of birth")
    expect(evidence.locator('tr[data-sign="for"]').first).to_be_visible()
    check_a11y(page, "resolution-entity")
    # Reject the link, with a reason: the two records are apart, the log says who and why.
    page.get_by_label("Reason").last.fill("different address and mother's surname")
    page.get_by_role("button", name="Reject this link").click()
    expect(page.locator("#judged")).to_contain_text("Judgement recorded: different.")
    expect(page.locator("#single")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("analyst.fincen (FINCEN)")
    expect(page.locator("#history")).to_contain_text("different address")
    check_a11y(page, "resolution-rejected")
    # With the link rejected, the company no longer leads to the designated person...
    # (the page of the Mexican record, the one that owns the company)
    page.locator("#members").get_by_role("link").first.click()
    page.locator("#links").get_by_role("link", name=re.compile("Comercializadora")).click()
    page.locator("#resolution-panel").get_by_role(
        "link", name="Paths to designated entities and the network").click()
    expect(page.locator("#no-paths")).to_be_visible()
    # ...and taking the rejection back restores it (the log keeps both judgements).
    page.go_back()
    page.go_back()
    page.go_back()
    page.locator("#judged").get_by_role("button", name="Undo").click()
    expect(page.locator("#undone")).to_be_visible()
    expect(page.locator("#members li")).to_have_count(2)
    # The walk: company -> ownership -> the resolved person -> associate -> designated.
    page.goto(page.url.split("/app/")[0] + "/app/resolution/entities")
    page.locator("#resolved").get_by_role("link", name="Ramiro Téllez Avendaño").click()
    page.get_by_role("link", name="Walk the network").click()
    page.locator("#nodes").get_by_role("link", name=re.compile("Comercializadora")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Network: Comercializadora Avendaño del Norte S.A. de C.V.")
    paths = page.locator("#paths")
    expect(paths).to_contain_text("ownership")
    expect(paths).to_contain_text("Nicanor Zubieta Larrañaga")
    expect(paths).to_contain_text("[designated]")
    network = page.locator("#network")
    expect(network).to_have_attribute("data-ready", re.compile(r"^[3-9]"))
    nodes = page.evaluate("window.binationalGraph.nodes().filter(n => n.data('designated'))"
                          ".map(n => n.data('label'))")
    assert nodes == ["Nicanor Zubieta Larrañaga"]
    check_a11y(page, "resolution-walk")
    page.get_by_label("Neighbourhood depth").select_option("2")
    page.get_by_role("button", name="Expand").click()
    expect(page.get_by_role("heading", name="Neighbourhood, depth 2")).to_be_visible()
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#paths")).to_contain_text("propiedad")
    expect(page.locator("#paths")).to_contain_text("[designada]")
    check_a11y(page, "resolution-walk-es")
    user.close()
