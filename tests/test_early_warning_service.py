"""Early warning on the platform (SQLite and PostgreSQL): alerts and the map under the sharing
policy, small-cell suppression, subscriptions with e-mail to a local SMTP sink, the substance
register in both languages, the audit trail, and the HTTP routes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.errors import InvalidInput, NotFound
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import Action, Country, Purpose
from binational.early_warning.series import Series, SeriesKey
from binational.early_warning.service import EarlyWarning, SmtpConfig, episodes
from tests.world import World, build_world, in_days

PH = QueryContext(Purpose.PUBLIC_HEALTH, "case-ew-1")


class Sink:
    """aiosmtpd handler keeping the messages it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpConfig, Sink]]:
    import socket

    with socket.socket() as probe:     # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpConfig(host="127.0.0.1", port=port, sender="ew@test.invalid"), sink
    finally:
        controller.stop()


def weekly_series(place: str, spike: bool, n: int = 60, base: int = 30,
                  name: str = "") -> Series:
    rng = np.random.default_rng(abs(hash(place)) % 1000)
    counts = rng.poisson(base, size=n).astype(float)
    if spike:
        counts[-2:] = base * 3
    periods = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(n)]
    return Series(SeriesKey(place, "overdose-ed-visits", "fentanyl"), periods, counts,
                  place_name=name or place)


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform)
    platform.catalog.add("cbp_ed_visits", "CBP", "ED visits (test)")
    platform.catalog.add("anam_nps", "ANAM", "NPS register (test)")
    return world


def who(world: World, username: str, context: QueryContext = PH) -> Caller:
    return Caller(world.principal(username), context)


def op(code: str, country: Country) -> Caller:
    return Caller(operator(code, country), PH)


def share(platform: Platform, owner: str, country: Country, dataset: str,
          purposes: list[Purpose]) -> None:
    platform.policy.create_grant(operator(owner, Country.US if owner == "CBP" else Country.MX),
                                 GrantRequest(owner_agency=owner, datasets=[dataset],
                                              actions=[Action.READ, Action.SEARCH],
                                              purposes=purposes, legal_basis="test",
                                              expires_at=in_days(30),
                                              recipient_country=country))


def load_and_scan(world: World, ew: EarlyWarning) -> dict[str, Any]:
    cbp = op("CBP", Country.US)
    ew.load(cbp, "cbp_ed_visits", [
        weekly_series("US-AZ", True, name="Arizona"),
        weekly_series("US-TX", False, name="Texas"),
        weekly_series("US-NM", False, base=4, name="New Mexico"),
        Series(SeriesKey("US-CA", "overdose-ed-visits", "fentanyl"),
               [date(2024, 1, 1) + timedelta(weeks=i) for i in range(60)],
               np.zeros(60), place_name="California"),
    ], "week", "test")
    return ew.scan(cbp, "cbp_ed_visits", "ears-c2")


def test_scan_raises_alerts_and_the_map_rolls_up(world: World) -> None:
    ew = EarlyWarning(world.platform, smtp=None)
    result = load_and_scan(world, ew)
    assert result["series"] == 4 and result["sparse"] == 1   # California: all zeros
    owner = who(world, "analyst.cbp")
    alerts = ew.alerts(owner, open_only=True)
    az = [a for a in alerts if a["place"] == "US-AZ"]
    assert az and az[0]["level"] == "red" and az[0]["open"]
    assert az[0]["peak_count"] == 90 and az[0]["label_es"] == "Alerta"
    levels = {m["place"]: m["level"] for m in ew.alert_map(owner)}
    assert levels["US-AZ"] == "red" and levels["US"] == "red"   # the country rolls up
    assert levels["US-CA"] == "blue"
    # neighbours: following Sonora with its neighbours covers Arizona
    near = ew.alerts(owner, place="MX-SON", neighbours=True)
    assert {a["place"] for a in near} >= {"US-AZ"}
    assert ew.alerts(owner, place="MX-SON") == []
    # a re-scan keeps the history: no duplicate alerts
    again = ew.scan(op("CBP", Country.US), "cbp_ed_visits", "ears-c2")
    assert again["new_alerts"] == 0


def test_other_country_sees_nothing_without_a_public_health_grant(world: World) -> None:
    ew = EarlyWarning(world.platform, smtp=None)
    load_and_scan(world, ew)
    mx = who(world, "analyst.uif")
    assert ew.alerts(mx) == [] and ew.alert_map(mx) == [] and ew.series_list(mx) == []
    sid = ew.series_list(who(world, "analyst.cbp"))[0]["id"]
    with pytest.raises(NotFound):
        ew.series_detail(mx, sid)
    share(world.platform, "CBP", Country.MX, "cbp_ed_visits", [Purpose.PUBLIC_HEALTH])
    assert ew.alerts(mx)
    # the grant is for public health only
    narcotics = who(world, "analyst.uif", QueryContext(Purpose.COUNTER_NARCOTICS, "c-1"))
    assert ew.alerts(narcotics) == []
    # reads are audited, with access receipts for the owner
    receipts = world.platform.audit.receipts("CBP", limit=500)
    assert any(r["reader_agency"] == "UIF" and r["dataset"] == "cbp_ed_visits"
               and r["purpose"] == "public-health" for r in receipts)


def test_small_cells_are_suppressed_outside_the_owner(world: World) -> None:
    ew = EarlyWarning(world.platform, smtp=None, min_cell=10)
    load_and_scan(world, ew)
    share(world.platform, "CBP", Country.MX, "cbp_ed_visits", [Purpose.PUBLIC_HEALTH])
    nm = next(s for s in ew.series_list(who(world, "analyst.cbp")) if s["place"] == "US-NM")
    mine = ew.series_detail(who(world, "analyst.cbp"), nm["id"])
    theirs = ew.series_detail(who(world, "analyst.uif"), nm["id"])
    assert not mine["aggregate_only"] and mine["suppressed"] == 0
    assert theirs["aggregate_only"] and theirs["suppressed"] > 0
    for a, b in zip(mine["periods"], theirs["periods"], strict=True):
        if 0 < a["count"] < 10:
            assert b["count"] is None and b["suppressed"]
        else:
            assert b["count"] == a["count"]


def test_subscribers_get_in_app_and_email_alerts(world: World, smtp: tuple[SmtpConfig, Sink],
                                                 ) -> None:
    config, sink = smtp
    ew = EarlyWarning(world.platform, smtp=config)
    share(world.platform, "CBP", Country.MX, "cbp_ed_visits", [Purpose.PUBLIC_HEALTH])
    ana_mx = world.principal("analyst.uif")
    ew.subscribe(ana_mx, "MX-SON", include_neighbours=True, email="ana@salud.test")
    ew.subscribe(world.principal("analyst.anam"), "US-TX")
    # FINCEN (US) has no grant on CBP's series: following Arizona tells it nothing
    ew.subscribe(world.principal("analyst.fincen"), "US-AZ", email="fincen@test.invalid")
    load_and_scan(world, ew)
    got = ew.notifications(who(world, "analyst.uif"))
    # Sonora's neighbours on the US side are Arizona and New Mexico; Texas is not one
    assert "US-AZ" in {n["alert"]["place"] for n in got}
    assert {n["alert"]["place"] for n in got} <= {"US-AZ", "US-NM"}
    assert {n["alert"]["place"] for n in ew.notifications(who(world, "analyst.anam"))} <= {
        "US-TX"}
    assert ew.notifications(who(world, "analyst.fincen")) == []
    for _ in range(50):
        if sink.messages:
            break
        time.sleep(0.05)
    assert len(sink.messages) == len(got)
    assert all(m.rcpt_tos == ["ana@salud.test"] for m in sink.messages)   # none to FinCEN
    bodies = [m.content.decode() for m in sink.messages]
    assert any("Arizona" in b and "Alerta" in b and "desde" in b for b in bodies)
    ew.mark_read(ana_mx, got[0]["id"])
    assert len(ew.notifications(who(world, "analyst.uif"), unread_only=True)) == len(got) - 1
    with pytest.raises(InvalidInput):
        ew.subscribe(ana_mx, "not a place!")


def test_substance_register_is_bilingual_and_retractable(world: World) -> None:
    ew = EarlyWarning(world.platform, smtp=None)
    anam = op("ANAM", Country.MX)
    entry = ew.register_substance(
        anam, "anam_nps", name="Xylazine", substance_class="sedative",
        first_detected=date(2023, 3, 1), place="MX-BCN", source="toxicology",
        confidence="confirmed", risk_en="Naloxone does not reverse xylazine.",
        risk_es="La naloxona no revierte la xilacina.")
    assert entry["source_es"] == "Toxicología" and entry["confidence_es"] == "Confirmada"
    with pytest.raises(InvalidInput):
        ew.register_substance(anam, "anam_nps", name="X", substance_class="?",
                              first_detected=date(2024, 1, 1), place="MX", source="rumour",
                              confidence="confirmed", risk_en="a", risk_es="b")
    # CBP may not write into ANAM's register
    with pytest.raises(NotFound):
        ew.register_substance(op("CBP", Country.US), "anam_nps", name="Y",
                              substance_class="?", first_detected=date(2024, 1, 1),
                              place="US", source="lab", confidence="suspected",
                              risk_en="a", risk_es="b")
    us = who(world, "analyst.cbp")
    assert ew.substances(us) == []
    share(world.platform, "ANAM", Country.US, "anam_nps", [Purpose.PUBLIC_HEALTH])
    seen = ew.substances(us)
    assert [s["risk_es"] for s in seen] == ["La naloxona no revierte la xilacina."]
    ew.retract_substance(anam, entry["id"], "laboratory re-test negative")
    assert ew.substances(us, include_retracted=False) == []
    assert ew.substances(us)[0]["retracted"]


def test_episodes_have_start_peak_and_end() -> None:
    from binational.early_warning.algorithms import ears

    counts = np.array([10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 40, 60, 45, 10, 11, 10, 9, 10.0])
    s = Series(SeriesKey("US-AZ", "x", ""), [date(2024, 1, 1) + timedelta(weeks=i)
                                             for i in range(len(counts))], counts)
    eps = [e for e in episodes(s, ears(counts, "C1")) if e["level"] == "red"]
    assert eps[0]["start"] == s.periods[10]
    assert eps[0]["peak"] in (s.periods[10], s.periods[11])
    assert eps[0]["end"] is not None


def test_http_routes(world: World) -> None:
    ew = EarlyWarning(world.platform, smtp=None)
    load_and_scan(world, ew)
    client = TestClient(create_app(world.platform))
    h = {"Authorization": f"Bearer {world.login('analyst.cbp')}",
         "X-Purpose": "public-health", "X-Case-Reference": "case-ew-2"}
    places = client.get("/early-warning/map", headers=h).json()["places"]
    assert {p["place"]: p["level"] for p in places}["US-AZ"] == "red"
    alerts = client.get("/early-warning/alerts", params={"place": "US-AZ"}, headers=h).json()
    assert alerts["total"] >= 1
    sid = alerts["results"][0]["series_id"]
    detail = client.get(f"/early-warning/series/{sid}", headers=h).json()
    assert detail["periods"][-1]["alarm"] is True
    res = client.post("/early-warning/subscriptions", headers=h,
                      json={"place": "US-AZ", "include_neighbours": True})
    assert res.status_code == 201
    assert client.get("/early-warning/subscriptions", headers=h).json()["results"]
    bad = client.post("/early-warning/detect", headers=h,
                      json={"periods": ["2024-01-01"], "counts": [1], "algorithm": "ears-c1"})
    assert bad.status_code == 400 and "EARS C1 needs more than" in bad.text
    periods = [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(30)]
    ok = client.post("/early-warning/detect", headers=h, json={
        "periods": periods, "counts": [5] * 29 + [40], "algorithm": "ears-c1",
        "frequency": "day"})
    assert ok.status_code == 200 and ok.json()["results"][-1]["alarm"] is True
    assert client.get("/early-warning/map").status_code == 401
