"""The homicide pages of the web application over HTTP (no browser): trends with the state map
and municipalities, the Mexico City hot-spot map, the registry in both languages, grants."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient

from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import Action, Country, Purpose
from binational.homicide import registry, web
from binational.homicide.registry import SEED
from binational.homicide.service import Homicide
from binational.web.app import build_router
from tests.web_fixtures import check_catalogue, keys_used, sign_in, web_world
from tests.world import World, in_days

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "homicide"
PURPOSE = "homicide-investigation"
TEMPLATES = Path(web.__file__).parent / "templates" / "homicide"


def homicide_world(platform: Platform, *, municipal: bool = False,
                   quadrants: bool = False) -> World:
    """UIF (Mexico) holds the homicide statistics, quadrants and registry; the US may read them
    for homicide investigations only. Only what a test needs is loaded (loading is slow)."""
    world = web_world(platform)
    for ds, title in (("uif_homicides", "Homicides (test)"), ("uif_quadrants", "Quadrants"),
                      ("uif_registry", "Buenas prácticas (test)")):
        platform.catalog.add(ds, "UIF", title)
    uif = Caller(operator("UIF", Country.MX),
                 QueryContext(Purpose.HOMICIDE_INVESTIGATION, "HTF-1"))
    service = Homicide(platform)
    service.load_series(uif, "uif_homicides", "inegi-state", DEMO / "inegi_state_2015_2022.csv")
    if municipal:
        service.load_series(uif, "uif_homicides", "inegi-municipal",
                            DEMO / "inegi_municipal_2019_2021_extract.csv.gz")
    if quadrants:
        service.load_series(uif, "uif_quadrants", "cdmx-quadrants",
                            DEMO / "cdmx_quadrants_homicidio_doloso_2015_2016.csv.gz",
                            DEMO / "cdmx_quadrants.geojson.gz")
    for programme in SEED:
        service.publish(uif, "uif_registry", programme)
    platform.policy.create_grant(operator("UIF", Country.MX), GrantRequest(
        owner_agency="UIF", datasets=["uif_homicides", "uif_quadrants", "uif_registry"],
        actions=[Action.READ, Action.SEARCH], purposes=[Purpose.HOMICIDE_INVESTIGATION],
        legal_basis="test", expires_at=in_days(30), recipient_country=Country.US))
    return world


def client_for(world: World, username: str, lang: str, purpose: str = PURPOSE) -> TestClient:
    client = TestClient(create_app(world.platform))
    client.cookies.set("binational_lang", lang)
    sign_in(client, world, username, purpose=purpose, case="HTF-2026-1")
    return client


def total(file: str, column: str, code: str, year: int) -> str:
    raw = pl.read_csv(DEMO / file, separator="|", schema_overrides={column: pl.Utf8},
                      null_values=["NA"], infer_schema_length=None)
    count = int(raw.filter((pl.col("year") == year) & (pl.col(column) == code))
                ["homicides"].sum())
    assert count > 100
    return f"{count:,}"


def test_every_message_has_english_and_spanish_and_every_used_key_exists() -> None:
    check_catalogue(web.MESSAGES)
    used = keys_used("homicide", [*TEMPLATES.glob("*.html"), Path(web.__file__)])
    # (keys built from a vocabulary: the templates add the value to a prefix)
    used |= {f"homicide.source.{s}" for s in web.SOURCES}
    used |= {f"homicide.hotspots.fill.{f}" for f in web.HOTSPOT_FILLS}
    used |= {"homicide.note.comment", "homicide.note.result"}
    used |= {f"homicide.outcome.{o}" for o in registry.OUTCOMES}
    assert len(used) > 40
    assert sorted(used - set(web.MESSAGES)) == []


def test_the_plugin_is_found_through_its_entry_point() -> None:
    from binational.core.plugins import load

    assert ("homicide", web.plugin) in list(load("binational.web"))
    assert build_router([web.plugin]).routes


def check_trends(world: World, lang: str) -> None:
    client = client_for(world, "analyst.cbp", lang)
    home = client.get("/app/")
    assert 'href="/app/homicide/"' in home.text  # the navigation entry
    r = client.get("/app/homicide/", params={"year": 2020, "state": "08"})
    assert r.status_code == 200, r.text
    html = r.text
    shown = total("inegi_state_2015_2022.csv", "cve_ent", "08", 2020)
    states = html[html.index('id="states"'):]
    row = states[states.index(">Chihuahua</a>"):]
    assert row[:row.index("</tr>")].count(shown) == 1
    # The tile map: 32 states, Chihuahua linked and marked as chosen.
    assert html.count("data-state=") == 32
    assert 'data-state="08" x="130" y="2" width="60" height="60" fill="#' in html
    assert re.search(r'<path d="M[\d.]+,[\d.]+(?: L[\d.]+,[\d.]+){90,}"', html)
    assert ">2022-12</td>" in html  # the table behind the chart
    muni = html[html.index('id="municipalities"'):]
    juarez = muni[muni.index(">08037</td>"):]
    shown = total("inegi_municipal_2019_2021_extract.csv.gz", "ent_mun", "08037", 2020)
    assert shown in juarez[:juarez.index("</tr>")]
    # A year without municipal figures says which years have them.
    r = client.get("/app/homicide/", params={"year": 2017, "state": "08"})
    assert 'id="no-municipalities"' in r.text and "2019, 2020, 2021" in r.text
    title = {"en": "Homicide trends in Mexico", "es": "Tendencias de homicidio en México"}
    assert f"<h1>{title[lang]}</h1>" in html
    assert f'<html lang="{lang}">' in html
    assert "HTF-2026-1" in html  # the purpose and case header
    audit = world.platform.audit.records(actor="analyst.cbp", limit=50)
    assert any(a["action"] == "homicide.series" and a["outcome"] == "ok" for a in audit)


def check_hotspots(world: World, lang: str, fill: str) -> None:
    client = client_for(world, "analyst.cbp", lang)
    data = Homicide(world.platform).quadrant_map(
        Caller(world.principal("analyst.uif"),
               QueryContext(Purpose.HOMICIDE_INVESTIGATION, "HTF-1")))
    ids = [f["id"] for f in data["features"]]
    assert len(ids) > 700
    r = client.get("/app/homicide/hotspots", params={"fill": fill})
    assert r.status_code == 200, r.text
    paths = re.findall(r'<path class="quadrant" data-quadrant="([^"]+)" d="M[\d.,LMZ-]+"',
                       r.text)
    assert sorted(paths) == sorted(ids)
    best = min(data["features"], key=lambda f: f["properties"]["forecast_rank"])
    top = r.text[r.text.index('id="top-quadrants"'):]
    body = top[top.index("<tbody>"):]
    first = body[:body.index("</tr>")]
    assert best["id"] in first
    assert f"{best['properties']['forecast_next_month']:.2f}" in first
    label = {"en": "Forecast next month", "es": "Pronóstico del mes siguiente"}[lang]
    assert label in r.text


# One world per test (loading it is the slow part): both languages in each.


def test_trends_page_shows_states_the_chart_and_municipalities(platform: Platform) -> None:
    world = homicide_world(platform, municipal=True)
    check_trends(world, "en")
    check_trends(world, "es")


def test_hotspot_map_draws_every_quadrant(platform: Platform) -> None:
    world = homicide_world(platform, quadrants=True)
    check_hotspots(world, "en", "forecast")
    check_hotspots(world, "es", "gi")


def test_registry_search_in_spanish_without_accents(platform: Platform) -> None:
    world = homicide_world(platform)
    client = client_for(world, "analyst.cbp", "es")
    r = client.get("/app/homicide/programmes", params={"q": "interrupcion violencia"})
    assert r.status_code == 200, r.text
    assert "Cure Violence (interrupción de la violencia)" in r.text
    assert "Cure Violence (violence interruption)" not in r.text
    link = re.search(r'href="/app/homicide/programmes/([^"]+)">Cure Violence', r.text)
    assert link
    # CBP reports a result in its own registry dataset; its analyst sees it on the page.
    platform.catalog.add("cbp_registry", "CBP", "Best practices (test)")
    Homicide(platform).add_note(
        Caller(operator("CBP", Country.US), QueryContext(Purpose.HOMICIDE_INVESTIGATION, "H")),
        "cbp_registry", link.group(1), kind="result", text="Shootings fell in the pilot.",
        lang="en", jurisdiction="Tucson, AZ", outcome="improved")
    page = client.get(f"/app/homicide/programmes/{link.group(1)}")
    assert page.status_code == 200
    assert "<h1 id=\"h-programme\">Cure Violence (interrupción de la violencia)</h1>" in page.text
    assert "Prometedor" in page.text and "Chicago, IL" in page.text
    assert "<strong>Resultado</strong> (mejoró) · CBP, Tucson, AZ" in page.text
    # The same programme found in English, shown in English.
    en = client_for(world, "analyst.cbp", "en")
    r = en.get("/app/homicide/programmes", params={"q": "shooting"})
    assert "Cure Violence (violence interruption)" in r.text
    assert en.get("/app/homicide/programmes/nonexistent").status_code == 404


def test_without_a_grant_for_the_purpose_no_foreign_data_is_shown(platform: Platform) -> None:
    world = homicide_world(platform, quadrants=True)
    client = client_for(world, "analyst.cbp", "en", purpose="sanctions-screening")
    trends = client.get("/app/homicide/", params={"state": "14"})
    assert trends.status_code == 200
    assert 'id="no-data"' in trends.text and "Jalisco</a>" not in trends.text
    hot = client.get("/app/homicide/hotspots")
    assert 'id="no-data"' in hot.text and 'class="quadrant"' not in hot.text
    reg = client.get("/app/homicide/programmes", params={"q": "violencia"})
    assert 'id="no-results"' in reg.text and "Cure Violence" not in reg.text
    # The owner's own analysts see their data under any purpose.
    own = client_for(world, "analyst.uif", "es", purpose="sanctions-screening")
    assert "Cure Violence" in own.get("/app/homicide/programmes").text


def test_pages_need_a_purpose_and_a_case(platform: Platform) -> None:
    world = web_world(platform)
    client = TestClient(create_app(world.platform))
    sign_in(client, world, "analyst.cbp", purpose=None)
    r = client.get("/app/homicide/hotspots", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/app/context")
