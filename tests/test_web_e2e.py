"""The web application in a real browser: Playwright driving Debian's Chromium.

One live server (uvicorn in a thread, on SQLite) and one browser for the whole module; each
user gets their own browser context. Every page visited is checked with axe-core (vendored
from npm in tests/vendor) for serious or critical WCAG 2.1 A/AA violations, and screenshots
are kept under test-artifacts/web/ (git-ignored) as test artifacts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from binational.core.identity import totp_now
from tests.web_fixtures import live_server, web_world
from tests.world import PASSWORD, World

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "web"
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
TIMEOUT = 15_000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """A migrated SQLite platform with the web world, served on a free local port."""
    folder = tmp_path_factory.mktemp("web-e2e")
    populate = web_world
    with live_server(folder, populate) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's Chromium is missing: apt-get install -y chromium"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


class User:
    """One person's browser context, with console errors collected (CSP violations too)."""

    def __init__(self, browser: Browser, base: str, world: World, username: str,
                 lang: str = "en-US") -> None:
        self.context: BrowserContext = browser.new_context(
            base_url=base, locale=lang, accept_downloads=True,
            viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(TIMEOUT)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.world = world
        self.username = username

    def sign_in(self, purpose: str, case: str, check: bool = False) -> None:
        """Sign in through the pages (``check``: run axe on the sign-in and purpose pages)."""
        page = self.page
        page.goto("/app/")
        expect(page).to_have_url(re.compile(r"/app/sign-in"))
        if check:
            check_a11y(page, f"{self.username}-sign-in")
        page.get_by_label(re.compile("Username|Usuario")).fill(self.username)
        page.get_by_label(re.compile("Password|Contraseña")).fill(PASSWORD)
        page.get_by_label(re.compile("One-time code|Código")).fill(
            totp_now(self.world.totp[self.username]))
        page.get_by_role("button", name=re.compile("Sign in|Entrar")).click()
        expect(page).to_have_url(re.compile(r"/app/context"))
        if check:
            check_a11y(page, f"{self.username}-context")
        page.get_by_label(re.compile("^(Purpose|Propósito)$")).select_option(purpose)
        page.get_by_label(re.compile("Case reference|Referencia de caso")).fill(case)
        page.get_by_role("button", name=re.compile("Continue|Continuar")).click()
        expect(page.locator("#working-context")).to_contain_text(case)

    def close(self) -> None:
        assert not [e for e in self.errors if "Content Security Policy" in e], self.errors
        self.context.close()


def check_a11y(page: Page, name: str) -> None:
    """Run axe-core on the page; fail on serious or critical WCAG 2.1 A/AA violations."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (scripts from 'self' only)
        # stays on for everything the application itself does.
        page.evaluate(AXE)
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert not bad, f"{name}: {bad}"


def test_sign_in_screen_open_the_entity_and_its_network_then_switch_to_spanish(
        live: tuple[str, World], browser: Browser) -> None:
    base, world = live
    user = User(browser, base, world, "analyst.fincen")
    page = user.page
    user.sign_in("sanctions-screening", "KYC-2026-7", check=True)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_a11y(page, "home")
    page.get_by_label("Name", exact=True).first.fill("Nemesio Oseguera Cervantes")
    page.get_by_role("button", name="Screen", exact=True).click()
    results = page.locator("#screening-results")
    expect(results).to_contain_text("OSEGUERA CERVANTES, Nemesio")
    expect(results).to_contain_text("SDNTK")
    check_a11y(page, "screening-results")
    results.get_by_role("link", name="OSEGUERA CERVANTES, Nemesio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("OSEGUERA CERVANTES, Nemesio")
    expect(page.locator("#sources")).to_contain_text("owned by OFAC (US)")
    expect(page.locator("#designations")).to_contain_text("SDNTK")
    network = page.locator("#network")
    expect(network).to_have_attribute("data-ready", re.compile(r"^[3-9]|\d\d"))
    assert page.locator("#network canvas").count() > 0
    nodes = page.evaluate("window.binationalGraph.nodes().map(n => n.data('label'))")
    assert "FARMACIA VIDA SUPREMA, S.A. DE C.V." in nodes
    check_a11y(page, "entity")
    # The linked company opens from the table (the keyboard path to the same links).
    page.locator("#links").get_by_role("link", name=re.compile("FARMACIA")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("FARMACIA VIDA SUPREMA")
    page.go_back()
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Designaciones")).to_be_visible()
    expect(page.locator("#sources")).to_contain_text("de OFAC (US)")
    expect(page.locator("#working-context")).to_contain_text("Revisión de listas de sanciones")
    check_a11y(page, "entity-es")
    page.get_by_role("link", name="Inicio").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inicio")
    check_a11y(page, "home-es")
    user.close()


def test_batch_screening_shows_progress_and_downloads_results(
        live: tuple[str, World], browser: Browser) -> None:
    base, world = live
    user = User(browser, base, world, "analyst.cbp", lang="es-MX")
    page = user.page
    user.sign_in("sanctions-screening", "ANAM-CBP-12", check=True)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto("/app/screening")
    check_a11y(page, "screening-es")
    names = "name,country\nFarmacia Vida Suprema,mx\nPedro Páramo,\nOseguera Cervantes Nemesio,\n"
    page.get_by_label("Archivo CSV").set_input_files(
        {"name": "clientes.csv", "mimeType": "text/csv", "buffer": names.encode()})
    page.get_by_role("button", name="Subir y revisar").click()
    expect(page).to_have_url(re.compile(r"/app/screening/batch/"))
    expect(page.locator("#batch-message")).to_contain_text("Terminado: 3 nombres revisados")
    expect(page.locator("#batch-progress")).to_have_attribute("value", "3")
    check_a11y(page, "batch-es")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Descargar")).click()
    path = info.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert [r["match"] for r in rows] == ["true", "false", "true"]
    # An oversized file is refused in the browser, before it is sent, in Spanish.
    page.goto("/app/screening")
    page.get_by_label("Archivo CSV").set_input_files(
        {"name": "grande.csv", "mimeType": "text/csv",
         "buffer": b"name\n" + b"x" * 1_100_000})
    page.get_by_role("button", name="Subir y revisar").click()
    expect(page.locator("#file-too-large")).to_be_visible()
    expect(page.locator("#file-too-large")).to_contain_text("supera el límite")
    page.screenshot(path=str(ARTIFACTS / "batch-too-large-es.png"), full_page=True)
    user.close()


def test_a_mexican_admin_grants_a_us_agency_and_sees_the_receipt(
        live: tuple[str, World], browser: Browser) -> None:
    base, world = live
    admin = User(browser, base, world, "agency-admin.uif", lang="es-MX")
    page = admin.page
    admin.sign_in("counter-narcotics", "UIF/2026/31")
    page.get_by_role("link", name="Autorizaciones y acuses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Autorizaciones y acuses de acceso")
    expect(page.locator("#no-receipts")).to_be_visible()
    check_a11y(page, "grants-es")
    form = page.locator("#grant-form")
    form.get_by_label("uif_persons").check()
    form.get_by_label("Destinatario", exact=True).select_option("CBP")
    form.get_by_label("Combate al narcotráfico").check()
    form.get_by_label("Fundamento legal").fill("Acuerdo de asistencia mutua aduanera (prueba)")
    form.get_by_role("button", name="Crear la autorización").click()
    created = page.locator("#grant-created")
    expect(created).to_contain_text("Se creó la autorización")
    grant_id = re.search(r"g_[0-9a-f]+", created.inner_text())
    assert grant_id is not None
    expect(page.locator(f"#grant-{grant_id.group(0)}")).to_contain_text("CBP")

    reader = User(browser, base, world, "analyst.cbp")
    reader.sign_in("counter-narcotics", "CBP/2026/77")
    reader.page.get_by_role("link", name="Search records").first.click()
    reader.page.get_by_label("Name or words to look for").fill("Uif Sample 0")
    reader.page.get_by_role("button", name="Search").click()
    reader.page.get_by_role("link", name="Uif Sample 0 Garcia").click()
    expect(reader.page.locator("#sources")).to_contain_text("owned by UIF (MX)")
    expect(reader.page.locator("#sources")).to_contain_text(grant_id.group(0))
    check_a11y(reader.page, "entity-granted")
    reader.close()

    page.reload()
    receipts = page.locator("#receipts")
    expect(receipts).to_contain_text("analyst.cbp")
    expect(receipts).to_contain_text("CBP/2026/77")
    expect(receipts).to_contain_text(grant_id.group(0))
    check_a11y(page, "grants-receipt-es")
    admin.close()


def test_an_auditor_verifies_the_log_with_the_keyboard(
        live: tuple[str, World], browser: Browser) -> None:
    base, world = live
    auditor = User(browser, base, world, "auditor.us")
    page = auditor.page
    auditor.sign_in("audit", "AUD/2026/3")
    # The first Tab reaches the skip link, which moves the focus to the main content.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.locator("#audit-records")).to_contain_text("auth.login")
    check_a11y(page, "audit")
    verify = page.get_by_role("button", name="Verify the whole log")
    verify.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#verify-result")).to_contain_text("The log verifies")
    check_a11y(page, "audit-verified")
    auditor.close()
