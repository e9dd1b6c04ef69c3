"""The homicide capability on a platform: sovereignty of series, cases and the registry (grants,
purposes, receipts), the API, and the demo seed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.errors import InvalidInput, NotFound
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.vocab import Action, Country, Purpose
from binational.homicide.registry import SEED
from binational.homicide.service import Homicide
from tests.world import World, build_world, in_days

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "homicide"
HOMICIDE = QueryContext(Purpose.HOMICIDE_INVESTIGATION, "HTF-2026-1")
HEADERS = {"X-Purpose": "homicide-investigation", "X-Case-Reference": "HTF-2026-1"}


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform, entities_per_dataset=2)
    platform.catalog.add("uif_stats", "UIF", "Homicide statistics (test)")
    platform.catalog.add("uif_cases", "UIF", "Task-force cases (test)")
    platform.catalog.add("uif_registry", "UIF", "Buenas prácticas (test)")
    platform.catalog.add("cbp_registry", "CBP", "Best practices (test)")
    return world


def caller(world: World, username: str, context: QueryContext = HOMICIDE) -> Caller:
    return Caller(world.principal(username), context)


def admin(world: World, agency: str) -> Caller:
    country = Country.MX if agency in ("UIF", "ANAM") else Country.US
    return Caller(operator(agency, country), HOMICIDE)


def grant(world: World, owner: str, dataset: str, purposes: list[Purpose],
          *, country: Country | None = None, agency: str | None = None) -> str:
    own = Country.MX if owner in ("UIF", "ANAM") else Country.US
    return world.platform.policy.create_grant(operator(owner, own), GrantRequest(
        owner_agency=owner, datasets=[dataset], actions=[Action.READ, Action.SEARCH],
        purposes=purposes, legal_basis="test", expires_at=in_days(30),
        recipient_country=country, recipient_agency=agency)).id


def receipts(world: World, dataset: str) -> list[tuple[str, str]]:
    with world.platform.db.read() as conn:
        return [(r.reader_agency, r.object_id) for r in conn.execute(
            sa.select(t.access_receipt).where(t.access_receipt.c.dataset == dataset))]


def test_series_are_seen_only_under_a_grant_for_the_purpose(world: World) -> None:
    service = Homicide(world.platform)
    report = service.load_series(admin(world, "UIF"), "uif_stats", "inegi-state",
                                 DEMO / "inegi_state_2015_2022.csv")
    assert report.rows == 32 * 96 and not report.issues
    us = caller(world, "analyst.cbp")
    assert service.trends(us, level="state")["areas"] == []
    assert receipts(world, "uif_stats") == []
    grant(world, "UIF", "uif_stats", [Purpose.HOMICIDE_INVESTIGATION], country=Country.US)
    seen = service.trends(us, level="state", year=2018)
    assert len(seen["areas"]) == 32
    jalisco = next(a for a in seen["areas"] if a["area_code"] == "14")
    assert jalisco["area_name"] == "Jalisco" and jalisco["rate"] > 0
    raw = pl.read_csv(DEMO / "inegi_state_2015_2022.csv", separator="|")
    assert [n["count"] for n in seen["national"] if n["year"] == 2018] == [
        raw.filter(pl.col("year") == 2018)["homicides"].sum()]
    assert ("CBP", "series:uif_stats") in receipts(world, "uif_stats")
    other = caller(world, "analyst.cbp", QueryContext(Purpose.CYBER, "C-1"))
    assert service.trends(other, level="state")["areas"] == []
    with pytest.raises(NotFound):
        service.load_series(admin(world, "CBP"), "uif_stats", "inegi-state",
                            DEMO / "inegi_state_2015_2022.csv")


def test_cases_link_entities_firearms_and_lab_requests_under_grants(world: World) -> None:
    service = Homicide(world.platform)
    person = world.ids["uif_persons"][0]
    case = service.create_case(admin(world, "UIF"), "uif_cases", {
        "title": "Ataque armado", "crime": "armed-attack", "occurred_on": "2021-03-14",
        "entities": [person],
        "firearms": [{"make": "Colt", "calibre": "5.56 mm", "trace": "eTrace requested"}],
        "lab_requests": [{"lab": "Servicios Periciales", "kind": "ballistics"}]})
    assert case["entities"] == [person] and case["agency"] == "UIF"
    assert case["lab_requests"][0]["status"] == "requested"
    us = caller(world, "analyst.cbp")
    with pytest.raises(NotFound):
        service.get_case(us, case["id"])
    assert service.list_cases(us) == []
    grant(world, "UIF", "uif_cases", [Purpose.HOMICIDE_INVESTIGATION], agency="CBP")
    seen = service.get_case(us, case["id"])
    # The linked person is in a dataset CBP may not see: the link is not shown.
    assert seen["entities"] == [] and seen["firearms"][0]["make"] == "Colt"
    assert ("CBP", case["id"]) in receipts(world, "uif_cases")
    with pytest.raises(NotFound):
        service.get_case(caller(world, "analyst.fincen"), case["id"])
    with pytest.raises(InvalidInput, match="no entity"):
        service.create_case(admin(world, "UIF"), "uif_cases",
                            {"title": "x", "entities": [world.ids["cbp_shipments"][0]]})
    with pytest.raises(InvalidInput, match="lab request kind"):
        service.create_case(admin(world, "UIF"), "uif_cases",
                            {"title": "x", "lab_requests": [{"lab": "L", "kind": "magic"}]})
    with pytest.raises(NotFound):
        service.create_case(admin(world, "CBP"), "uif_cases", {"title": "x"})
    # The owner updates the lab request; the reader with a grant sees it, but cannot write.
    updated = service.update_case(admin(world, "UIF"), case["id"], {
        "status": "closed", "lab_requests": [{"lab": "Servicios Periciales",
                                              "kind": "ballistics", "status": "completed"}]})
    assert updated["status"] == "closed" and updated["entities"] == [person]
    assert service.get_case(us, case["id"])["lab_requests"][0]["status"] == "completed"
    with pytest.raises(NotFound):
        service.update_case(admin(world, "CBP"), case["id"], {"status": "open"})
    with pytest.raises(InvalidInput, match="cannot change"):
        service.update_case(admin(world, "UIF"), case["id"], {"dataset": "cbp_shipments"})


def test_registry_search_in_both_languages(world: World) -> None:
    service = Homicide(world.platform)
    for programme in SEED:
        service.publish(admin(world, "UIF"), "uif_registry", programme)
    mx = caller(world, "analyst.uif")

    def names(q: str, **kw: str) -> set[str]:
        return {r["name"]["en"].split(" (")[0] for r in service.search_programmes(mx, q, **kw)}

    assert names("violencia armada") == {"Cure Violence"}
    assert "Cure Violence" in names("tiroteo")  # singular finds "tiroteos"
    assert "Cure Violence" in names("shooting")  # English stem of "shootings"
    assert "Hot-spots policing" in names("criticos")  # no accent: finds "críticos"
    assert "Hot-spots policing" in names("PUNTOS CRÍTICOS")
    assert names("hospital", target="person") == {"Hospital-based violence intervention"}
    assert names("", rating="no-effects") == {"Scared Straight"}
    assert names("homicidios") >= {"Focused deterrence"}
    ranked = [r["rating"] for r in service.search_programmes(mx, None)]
    assert ranked == sorted(ranked, key=["effective", "promising", "no-effects"].index)
    first = service.search_programmes(mx, "disuasión focalizada")[0]
    assert first["rating_label"] == {"en": "Effective", "es": "Efectivo"}
    # Not shared yet: the US sees nothing; shared: it comments, in its own dataset.
    us = caller(world, "analyst.cbp")
    assert service.search_programmes(us, "violence") == []
    grant(world, "UIF", "uif_registry", [Purpose.HOMICIDE_INVESTIGATION], country=Country.US)
    assert service.search_programmes(us, "violence")
    note = service.add_note(admin(world, "CBP"), "cbp_registry", first["id"],
                            kind="result", text="Shootings fell in the pilot area.",
                            lang="en", jurisdiction="Tucson, AZ", outcome="improved")
    with pytest.raises(InvalidInput, match="outcome"):
        service.add_note(admin(world, "CBP"), "cbp_registry", first["id"], kind="result",
                         text="?", lang="en")
    # UIF does not see CBP's note until CBP shares its registry dataset.
    assert service.get_programme(mx, first["id"])["notes"] == []
    grant(world, "CBP", "cbp_registry", [Purpose.HOMICIDE_INVESTIGATION], country=Country.MX)
    notes = service.get_programme(mx, first["id"])["notes"]
    assert [n["id"] for n in notes] == [note["id"]] and notes[0]["agency"] == "CBP"
    # Publishing the same programme again updates it instead of adding a copy.
    service.publish(admin(world, "UIF"), "uif_registry", SEED[0])
    assert len(service.search_programmes(mx, None)) == len(SEED)


def test_api(world: World) -> None:
    platform = world.platform
    service = Homicide(platform)
    for programme in SEED:
        service.publish(admin(world, "UIF"), "uif_registry", programme)
    service.load_series(admin(world, "UIF"), "uif_stats", "inegi-state",
                        DEMO / "inegi_state_2015_2022.csv")
    client = TestClient(create_app(platform))
    auth = {"Authorization": f"Bearer {world.login('analyst.uif')}", **HEADERS}
    found = client.get("/homicide/programmes", params={"q": "prevención"}, headers=auth)
    assert found.status_code == 200, found.text
    assert found.json()["total"] >= 2
    pid = found.json()["results"][0]["id"]
    one = client.get(f"/homicide/programmes/{pid}", headers=auth).json()
    assert one["name"]["es"] and one["summary"]["en"] and one["notes"] == []
    trends = client.get("/homicide/trends", params={"year": 2020}, headers=auth).json()
    assert len(trends["areas"]) == 32 and trends["year"] == 2020
    assert client.get("/homicide/trends", params={"level": "country"},
                      headers=auth).status_code == 422
    assert client.get("/homicide/programmes", params={"rating": "great"},
                      headers=auth).status_code == 400
    assert client.get("/homicide/programmes").status_code == 401
    assert client.get("/homicide/cases/htf-nope", headers=auth).status_code == 404
    created = client.post("/homicide/cases", params={"dataset": "uif_cases"}, headers=auth,
                          json={"title": "x"})
    assert created.status_code == 403  # analysts do not write
    demo = client.get("/homicide/hotspots/demo", params={"model": "kde"}, headers=auth)
    assert demo.status_code == 200, demo.text
    body = demo.json()
    assert body["geojson"]["type"] == "FeatureCollection" and body["cells"][0]["rank"] == 1
    csv_text = "x,y,d\n" + "".join(f"{100 + i % 7},{200 + i % 5},2020-01-{1 + i % 28:02d}\n"
                                   for i in range(60))
    knox = client.post("/homicide/hotspots/knox", headers=auth,
                       files={"file": ("i.csv", csv_text)},
                       data={"x": "x", "y": "y", "date": "d", "spatial_band": "2",
                             "spatial_bands": "2", "temporal_band": "3",
                             "temporal_bands": "2", "iterations": "9"})
    assert knox.status_code == 200, knox.text
    assert len(knox.json()["ratios"]) == 4


def test_demo_seed_is_idempotent(platform: Platform, tmp_path: Path) -> None:
    from binational.core.cli.demo import DEMO_AGENCIES
    from binational.homicide.demo import seed
    from binational.homicide.tables import homicide_programme, homicide_series

    for code, name, country in DEMO_AGENCIES:
        platform.identity.add_agency(code, name, country)
    assert seed(platform, tmp_path) == []

    def counts() -> tuple[int, int, int]:
        with platform.db.read() as conn:
            return (conn.execute(sa.select(sa.func.count()).select_from(homicide_series))
                    .scalar_one(),
                    conn.execute(sa.select(sa.func.count()).select_from(homicide_programme))
                    .scalar_one(),
                    len(platform.policy.live_grants(operator("ATF", Country.US))))

    before, records = counts(), platform.audit.count()
    assert seed(platform, tmp_path) == []
    assert counts() == before
    assert platform.audit.count() == records  # a second seed writes (and audits) nothing
    atf = Caller(operator("ATF", Country.US), HOMICIDE)
    service = Homicide(platform)
    assert {c["agency"] for c in service.list_cases(atf)} == {"ATF", "FGR"}
    hot = service.quadrant_map(atf)
    assert hot["period"] == {"to": "2016-01", "months": 12}
    props = [f["properties"] for f in hot["features"]]
    assert any(p["hot_spot"] for p in props)
    assert {p["forecast_rank"] for p in props} == set(range(1, len(props) + 1))
    spanish = service.search_programmes(atf, "interrupción de la violencia")
    assert [p["agency"] for p in spanish] == ["SESNSP"]


def test_cli_load_trends_and_registry(world: World, db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from binational.core.cli.main import app

    runner = CliRunner()
    base = ["--database-url", db_url, "homicide"]
    bad = tmp_path / "m.csv"
    bad.write_text("ent_mun|year|month|homicides|pop_est|homicide_rate\n"
                   "11020|2020|1|5|1000|6\n99999|2020|1|1|1|1\n")
    loaded = runner.invoke(app, [*base, "load", "inegi-municipal", str(bad),
                                 "--dataset", "uif_stats", "--json"])
    assert loaded.exit_code == 0, loaded.output
    report = json.loads(loaded.stdout)
    assert report["rows"] == 1 and report["issues"] == [
        {"line": 3, "message": "unknown municipality code '99999'"}]
    shown = runner.invoke(app, [*base, "trends", "--agency", "UIF", "--level", "municipality",
                                "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["areas"][0]["state_name"] == "Guanajuato"
    assert runner.invoke(app, [*base, "publish-seed", "--dataset", "uif_registry"]
                         ).exit_code == 0
    found = runner.invoke(app, [*base, "programmes", "--agency", "UIF", "disuasion", "--json"])
    # "disuasión" and "disuasivo" share the Spanish stem: deterrence, effective or not.
    assert [(p["name"]["en"].split(" ")[0], p["rating"]) for p in json.loads(found.stdout)] \
        == [("Focused", "effective"), ("Scared", "no-effects")]
    nothing = runner.invoke(app, [*base, "programmes", "--agency", "CBP", "disuasion",
                                  "--json"])
    assert json.loads(nothing.stdout) == []
    unknown = runner.invoke(app, [*base, "load", "inegi-municipal", str(bad), "--dataset",
                                  "nope"])
    assert unknown.exit_code == 2 and "no dataset 'nope'" in unknown.output


def test_stored_incidents_feed_hot_spots_under_grants(world: World, tmp_path: Path) -> None:
    service = Homicide(world.platform)
    rows = ["lon,lat,fecha"]
    for i in range(80):  # a hot block near the Zócalo in March, and scattered ones
        rows.append(f"{-99.1332 + (i % 4) * 0.0002:.6f},{19.4326 + (i % 3) * 0.0002:.6f},"
                    f"2021-03-{1 + i % 28:02d}")
        rows.append(f"{-99.20 + (i * 7 % 40) * 0.004:.6f},{19.30 + (i * 11 % 40) * 0.006:.6f},"
                    f"2021-02-{1 + i % 28:02d}")
    rows.append("-99.1,19.4,not a date")
    path = tmp_path / "cdmx.csv"
    path.write_text("\n".join(rows) + "\n")
    report = service.load_incidents(admin(world, "UIF"), "uif_stats", path, x="lon", y="lat",
                                    date="fecha", lonlat=True)
    assert report.rows == 160 and [i.line for i in report.issues] == [162]
    us = caller(world, "analyst.cbp")
    assert len(service.incidents(us)) == 0
    grant(world, "UIF", "uif_stats", [Purpose.HOMICIDE_INVESTIGATION], country=Country.US)
    seen = service.incidents(us)
    assert len(seen) == 160 and seen.projection is not None
    assert ("CBP", "incidents:uif_stats") in receipts(world, "uif_stats")
    client = TestClient(create_app(world.platform))
    auth = {"Authorization": f"Bearer {world.login('analyst.cbp')}", **HEADERS}
    grid = client.get("/homicide/hotspots/forecast", headers=auth, params={
        "train_until": "2021-03-20", "horizon": "7", "cell_size": "100", "model": "kde"})
    assert grid.status_code == 200, grid.text
    top = grid.json()["cells"][0]
    assert top["cell_x"] <= -99.1332 < top["cell_x"] + grid.json()["cell_width"]
    assert grid.json()["geojson"]["features"][0]["properties"]["rank"] == 1
    assert client.get("/homicide/hotspots/forecast", headers=auth, params={
        "train_until": "2021-03-20", "crime": "arson"}).status_code == 404
    # A projected dataset next to a lon/lat one cannot be mixed on one grid.
    projected = tmp_path / "p.csv"
    projected.write_text("x,y,d\n350000,560000,2021-01-01\n350100,560050,2021-01-02\n")
    service.load_incidents(admin(world, "CBP"), "cbp_shipments", projected, x="x", y="y",
                           date="d", crs="EPSG:26971")
    with pytest.raises(InvalidInput, match="several projections"):
        service.incidents(us)
    assert len(service.incidents(us, datasets=["cbp_shipments"])) == 2
