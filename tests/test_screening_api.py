"""Screening through the yente-shaped API and the ``binational screen`` command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from followthemoney import model
from typer.testing import CliRunner

from binational.core.api.app import create_app
from binational.core.platform import Platform
from binational.core.policy import GrantRequest
from binational.core.vocab import Action, Country, Purpose
from binational.screening import Screener
from tests.world import World, build_world, in_days

SCREEN = {"X-Purpose": "sanctions-screening", "X-Case-Reference": "KYC-2026-7"}


def load_list(platform: Platform) -> dict[str, str]:
    platform.identity.add_agency("OFAC", "Office of Foreign Assets Control", Country.US)
    platform.catalog.add("ofac_list", "OFAC", "Designations (synthetic test list)")
    person = model.make_entity("Person")
    person.id = "ofac-1"
    person.add("name", "OSEGUERA CERVANTES, Nemesio")
    person.add("weakAlias", "EL MENCHO")
    person.add("birthDate", "1966-07-17")
    person.add("nationality", "mx")
    company = model.make_entity("Company")
    company.id = "ofac-2"
    company.add("name", "FARMACIA VIDA SUPREMA, S.A. DE C.V.")
    company.add("country", "mx")
    with platform.db.write() as conn:
        writer = platform.store.writer(conn, "ofac_list")
        ids = {"person": writer.add_entity(person), "company": writer.add_entity(company)}
        sanction = model.make_entity("Sanction")
        sanction.id = "ofac-1-sanction"
        sanction.add("entity", "ofac-1")
        sanction.add("program", "SDNTK")
        sanction.add("authority", "Office of Foreign Assets Control")
        writer.add_entity(sanction)
        writer.flush()
    Screener(platform).index_dataset("ofac_list")
    return ids


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform)
    world.ids["ofac"] = list(load_list(platform).values())
    return world


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.platform))


def share_with(world: World, country: Country) -> None:
    platform = world.platform
    from binational.core.identity import operator

    platform.policy.create_grant(operator("OFAC", Country.US), GrantRequest(
        owner_agency="OFAC", datasets=["ofac_list"], actions=[Action.READ, Action.SEARCH],
        purposes=[Purpose.SANCTIONS_SCREENING], legal_basis="public list",
        expires_at=in_days(30), recipient_country=country))


def headers(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.login(username)}", **SCREEN}


def test_match_is_yente_shaped_and_explained(client: TestClient, world: World) -> None:
    share_with(world, Country.MX)
    body = {"queries": {"q1": {"schema": "Person",
                               "properties": {"name": ["Nemesio Oseguera Cervantes"],
                                              "birthDate": ["1966-07-17"]}},
                        "q2": {"schema": "Person", "properties": {"name": "El Mencho"}}}}
    res = client.post("/match/default", json=body, headers=headers(world, "analyst.uif"))
    assert res.status_code == 200, res.text
    data = res.json()
    top = data["responses"]["q1"]["results"][0]
    assert top["id"] == world.ids["ofac"][0] and top["match"] is True
    assert top["schema"] == "Person" and top["datasets"] == ["ofac_list"]
    assert isinstance(top["features"], dict) and top["features"]
    assert "SDNTK" in json.dumps(top["explanation"])
    assert data["responses"]["q1"]["total"]["value"] >= 1
    assert data["responses"]["q2"]["results"][0]["id"] == world.ids["ofac"][0]


def test_lists_follow_the_grants(client: TestClient, world: World) -> None:
    body = {"queries": {"q": {"schema": "Person", "properties": {"name": ["El Mencho"]}}}}
    res = client.post("/match/default", json=body, headers=headers(world, "analyst.uif"))
    assert res.json()["responses"]["q"]["results"] == []
    res = client.post("/match/ofac_list", json=body, headers=headers(world, "analyst.uif"))
    assert res.json()["responses"]["q"]["results"] == []
    share_with(world, Country.MX)
    res = client.post("/match/ofac_list", json=body, headers=headers(world, "analyst.uif"))
    assert len(res.json()["responses"]["q"]["results"]) == 1
    # The screening is in the trail, with a receipt for the list's owner.
    rec = world.platform.audit.records(actor="analyst.uif", action="screening.match")[0]
    assert rec["outcome"] == "ok" and rec["objects"][0]["agency"] == "OFAC"
    assert world.platform.audit.receipts("OFAC")[0]["reader_agency"] == "UIF"


@pytest.mark.parametrize("name,message", [
    ("", "name"), ("   ", "name"), ("x" * 5000, "at most 300"), ("Ana\x00Garcia", "control")])
def test_bad_queries_are_4xx(client: TestClient, world: World, name: str, message: str) -> None:
    body = {"queries": {"q": {"schema": "Person", "properties": {"name": [name]}}}}
    res = client.post("/match/default", json=body, headers=headers(world, "analyst.uif"))
    assert 400 <= res.status_code < 500
    assert message in res.text.lower()


def test_purpose_and_sign_in_required(client: TestClient, world: World) -> None:
    body = {"queries": {"q": {"schema": "Person", "properties": {"name": ["El Mencho"]}}}}
    assert client.post("/match/default", json=body).status_code == 401
    token = {"Authorization": f"Bearer {world.login('analyst.uif')}"}
    assert client.post("/match/default", json=body, headers=token).status_code == 400


def test_search(client: TestClient, world: World) -> None:
    share_with(world, Country.US)
    res = client.get("/search/default", params={"q": "farmacia vida suprema"},
                     headers=headers(world, "analyst.fincen"))
    assert res.status_code == 200, res.text
    assert res.json()["results"][0]["id"] == world.ids["ofac"][1]


def test_cli_screen_and_batch(world: World, tmp_path: Path, db_url: str) -> None:
    from binational.core.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["--database-url", db_url, "screen", "Nemesio Oseguera",
                              "--dob", "1966", "--json"])
    assert res.exit_code == 0, res.output
    found = json.loads(res.stdout)
    assert found[0]["id"] == world.ids["ofac"][0] and found[0]["match"] is True
    names = tmp_path / "customers.csv"
    names.write_text("id,name,dob\nc1,Nemesio Oseguera Cervantes,1966-07-17\n"
                     "c2,Juana Inés de la Cruz,1651\n", encoding="utf-8")
    out = tmp_path / "results.csv"
    res = runner.invoke(app, ["--database-url", db_url, "screen", "--input", str(names),
                              "--output", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["c1", "c2"]
    assert rows[0]["match"] == "true" and rows[0]["match_id"] == world.ids["ofac"][0]
    assert rows[1]["match"] == "false"
    assert "SDNTK" in rows[0]["match_programs"]
    batch = world.platform.audit.records(action="screening.batch")
    assert batch and batch[0]["detail"]["queries"] == 2
    assert "Nemesio" not in json.dumps(batch[0]["detail"])  # no copy of the customer file
    res = runner.invoke(app, ["--database-url", db_url, "screen", "--input", str(names)])
    assert res.exit_code == 2 and "--output" in res.output


def test_cli_reindex_rebuilds_the_lists(world: World, db_url: str) -> None:
    from binational.core.cli.main import app
    from binational.screening.tables import screening_key

    platform = world.platform
    with platform.db.write() as conn:  # an index from an older key scheme: keys lost
        conn.execute(sa.delete(screening_key).where(screening_key.c.key.like("t:%")))
    runner = CliRunner()
    res = runner.invoke(app, ["--database-url", db_url, "screen", "--reindex"])
    assert res.exit_code == 0, res.output
    assert "ofac_list" in res.output and "entities indexed" in res.output
    with platform.db.read() as conn:
        keys = conn.execute(sa.select(sa.func.count()).select_from(screening_key)
                            .where(screening_key.c.key.like("t:%"))).scalar()
    assert keys
    res = runner.invoke(app, ["--database-url", db_url, "screen", "x", "--reindex"])
    assert res.exit_code == 2 and "--reindex" in res.output


def test_a_new_list_version_is_indexed_on_ingest(world: World, tmp_path: Path) -> None:
    from binational.core.ingest import ingest

    platform = world.platform
    share_with(world, Country.MX)
    path = tmp_path / "list.jsonl"
    path.write_text(json.dumps({"id": "x-1", "schema": "Person",
                                "properties": {"name": ["Ximena Villalobos Juárez"]}}) + "\n"
                    + json.dumps({"id": "x-1-s", "schema": "Sanction",
                                  "properties": {"entity": ["x-1"], "program": ["TEST"]}})
                    + "\n", encoding="utf-8")
    ingest(platform.db, platform.store, "ftm", path, "ofac_list", actor="test")
    caller = world.principal("analyst.uif")
    from binational.core.access import Caller
    from binational.core.policy import QueryContext
    from binational.screening import Query

    found = Screener(platform).screen(
        Caller(caller, QueryContext(Purpose.SANCTIONS_SCREENING, "T-1")),
        Query(name="Jimena Villalobos", schema="Person"))
    assert found and found[0].caption == "Ximena Villalobos Juárez"
