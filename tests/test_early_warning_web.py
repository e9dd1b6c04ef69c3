"""The early-warning pages of the web application over HTTP (no browser): the alert map with
levels as text, a series drawn as SVG with its table, subscribing and unsubscribing with the
CSRF token, the substance register in both languages, and the sharing policy (no grant, no
foreign series)."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
from fastapi.testclient import TestClient

from binational.core.api.app import create_app
from binational.core.platform import Platform
from binational.core.vocab import Country, Purpose
from binational.early_warning.service import EarlyWarning
from binational.early_warning.web import MESSAGES, US_TILES, chart, plugin
from binational.web.messages import EN
from tests.test_early_warning_service import load_and_scan, op, share
from tests.web_fixtures import csrf_of, sign_in
from tests.world import World, build_world

PH = "public-health"


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform)
    platform.catalog.add("cbp_ed_visits", "CBP", "ED visits (test)")
    platform.catalog.add("anam_nps", "ANAM", "NPS register (test)")
    ew = EarlyWarning(platform, smtp=None)
    load_and_scan(world, ew)
    ew.register_substance(
        op("ANAM", Country.MX), "anam_nps", name="Xylazine", substance_class="sedative",
        first_detected=date(2023, 3, 1), place="MX-BCN", source="toxicology",
        confidence="confirmed", risk_en="Naloxone does not reverse xylazine.",
        risk_es="La naloxona no revierte la xilacina.")
    return world


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.platform))


def lang(client: TestClient, code: str) -> None:
    client.cookies.set("binational_lang", code)


def test_every_message_has_english_and_spanish() -> None:
    fields = string.Formatter()
    for key, (en, es) in MESSAGES.items():
        assert en.strip() and es.strip(), key
        assert key not in EN, key   # no clash with the web's own catalogue
        assert ({f for _, f, _, _ in fields.parse(en) if f}
                == {f for _, f, _, _ in fields.parse(es) if f}), key
    used: set[str] = set()
    folder = plugin.templates
    assert folder is not None
    for path in folder.glob("*.html"):
        used.update(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text()))
    used = {k for k in used if not k.endswith(".")}
    assert used and not used - set(MESSAGES) - set(EN), used - set(MESSAGES) - set(EN)
    for level in ("red", "yellow", "blue", "grey"):
        assert f"ew.level.{level}" in MESSAGES


def test_dashboard_map_series_and_subscription(client: TestClient, world: World) -> None:
    sign_in(client, world, "analyst.cbp", purpose=PH, case="EW-2026-1")
    for code, label in (("en", "Alert"), ("es", "Alerta")):
        lang(client, code)
        r = client.get("/app/early-warning/")
        assert r.status_code == 200, r.text
        html = r.text
        # Arizona's spike is red on the tile map (colour, symbol and a text label)
        assert re.search(r'<a href="/app/early-warning/place/US-AZ" aria-label="Arizona '
                         rf'\(US-AZ\): {label}">', html)
        assert 'class="ew-tile ew-tile-red" data-place="US-AZ"' in html
        assert 'data-place="MX-SON"' in html   # Mexico's states are drawn (no data here)
        assert f'<span aria-hidden="true">▲</span> {label}</span>' in html
        assert "Texas" in html
    # Sonora has no series here, but its page shows the alerts next door (Arizona)
    r = client.get("/app/early-warning/place/MX-SON")
    assert r.status_code == 200
    near = r.text.split('id="h-near"')[1]
    assert "Arizona" in near and "Texas" not in near
    r = client.get("/app/early-warning/place/US-AZ")
    assert r.status_code == 200
    sid = re.search(r'href="/app/early-warning/series/([0-9a-f]{40})">[^<]*: Arizona</a>',
                    r.text.split('id="ew-series"')[1])
    assert sid
    r = client.get(f"/app/early-warning/series/{sid.group(1)}")
    assert r.status_code == 200
    count_path = re.search(r'class="ew-count" d="(M[0-9.,LM ]+)"', r.text)
    assert count_path and count_path.group(1).count("L") == 59   # 60 weekly counts
    assert 'class="ew-alarm ew-alarm-red"' in r.text
    assert "<td>90</td>" in r.text   # the table alternative has the spike's count
    # follow Arizona and its neighbours, then stop
    r = client.post("/app/early-warning/subscriptions", data={
        "csrf": csrf_of(client, r.text), "place": "US-AZ", "neighbours": "1",
        "next": f"/app/early-warning/series/{sid.group(1)}"}, follow_redirects=True)
    assert r.status_code == 200 and "Suscripción registrada" in r.text
    ew = EarlyWarning(world.platform, smtp=None)
    subs = ew.subscriptions(world.principal("analyst.cbp"))
    assert [(s["place"], s["include_neighbours"]) for s in subs] == [("US-AZ", True)]
    assert 'id="ew-unsubscribe"' in r.text
    r = client.post(f"/app/early-warning/subscriptions/{subs[0]['id']}/delete", data={
        "csrf": csrf_of(client, r.text), "next": "/app/early-warning/"},
        follow_redirects=True)
    assert r.status_code == 200
    assert ew.subscriptions(world.principal("analyst.cbp")) == []
    # without the CSRF token nothing is recorded
    r = client.post("/app/early-warning/subscriptions", data={"place": "US-TX"})
    assert r.status_code == 403
    assert ew.subscriptions(world.principal("analyst.cbp")) == []
    # the reads were audited with the session's purpose and case
    rows = world.platform.audit.records(actor="analyst.cbp", limit=500)
    assert any(r["action"] == "early_warning.series" and r["case_ref"] == "EW-2026-1"
               for r in rows)


def test_no_grant_no_foreign_series(client: TestClient, world: World) -> None:
    cbp = EarlyWarning(world.platform, smtp=None)
    from binational.core.access import Caller
    from binational.core.policy import QueryContext

    sid = cbp.series_list(Caller(world.principal("analyst.cbp"),
                                 QueryContext(Purpose.PUBLIC_HEALTH, "c")))[0]["id"]
    sign_in(client, world, "analyst.uif", purpose=PH, case="EW-MX-1")
    r = client.get("/app/early-warning/")
    assert r.status_code == 200
    assert "US-AZ" not in re.sub(r'data-place="US-AZ"|aria-label="US-AZ: [^"]*"|'
                                 r"<title>US-AZ \(US-AZ\)[^<]*</title>", "", r.text)
    assert "/app/early-warning/place/US-AZ" not in r.text
    assert client.get(f"/app/early-warning/series/{sid}").status_code == 404
    r = client.get("/app/early-warning/place/US-AZ")
    assert r.status_code == 200 and "/app/early-warning/series/" not in r.text
    assert "No series you may see" in r.text
    assert "Arizona" not in client.get("/app/early-warning/place/MX-SON").text
    # with a public-health grant the same analyst sees it, small counts suppressed
    share(world.platform, "CBP", Country.MX, "cbp_ed_visits", [Purpose.PUBLIC_HEALTH])
    r = client.get("/app/early-warning/")
    assert "/app/early-warning/place/US-AZ" in r.text


def test_register_in_both_languages(client: TestClient, world: World) -> None:
    share(world.platform, "ANAM", Country.US, "anam_nps", [Purpose.PUBLIC_HEALTH])
    sign_in(client, world, "analyst.cbp", purpose=PH)
    lang(client, "es")
    r = client.get("/app/early-warning/substances")
    assert r.status_code == 200 and "Registro de sustancias" in r.text
    assert "Toxicología" in r.text and "Confirmada" in r.text
    link = re.search(r'href="(/app/early-warning/substances/[0-9a-f]{40})"', r.text)
    assert link
    r = client.get(link.group(1))
    assert "La naloxona no revierte la xilacina." in r.text
    assert "Naloxone does not reverse" not in r.text
    lang(client, "en")
    r = client.get(link.group(1))
    assert "Naloxone does not reverse xylazine." in r.text and "Toxicology" in r.text
    assert client.get("/app/early-warning/substances/" + "0" * 40).status_code == 404


def test_tile_grid_and_chart_geometry() -> None:
    assert len(US_TILES) == 51 and len(set(US_TILES.values())) == 51
    periods = [{"period": f"2024-01-{i + 1:02d}", "count": c, "expected": 5.0,
                "upperbound": 9.0, "alarm": c is not None and c > 9,
                "level": "red" if c is not None and c > 9 else "blue"}
               for i, c in enumerate([4.0, None, 6.0, 12.0])]
    drawn = chart(periods)
    assert drawn is not None
    assert drawn.count.count("M") == 2   # the suppressed count breaks the line
    assert len(drawn.alarms) == 1 and drawn.alarms[0][2] == "red"
    assert chart([]) is None
