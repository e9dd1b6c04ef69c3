"""Resolution and the network through the API, and the platform commands of the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Country, Purpose
from binational.resolution import demo
from binational.resolution.service import Resolver
from tests.world import World, build_world

HEADERS = {"X-Purpose": "illicit-finance", "X-Case-Reference": "RES-API-1"}


@pytest.fixture
def world(platform: Platform) -> World:
    world = build_world(platform, entities_per_dataset=1)
    ids = demo.setup(platform)
    world.ids["resolution"] = [ids["mx-p-ramiro"], ids["us-p-ramiro"],
                               ids["mx-c-comercializadora"], ids["us-p-nicanor"]]
    Resolver(platform).run(Caller(operator("UIF", Country.MX),
                                  QueryContext(Purpose.ILLICIT_FINANCE, "RES-API-0")))
    return world


def test_resolution_and_network_endpoints(world: World) -> None:
    client = TestClient(create_app(world.platform))
    mx, us, company, designated = world.ids["resolution"]
    auth = {**HEADERS, "Authorization": f"Bearer {world.login('analyst.fincen')}"}
    entity = client.get(f"/resolution/entities/{us}", headers=auth)
    assert entity.status_code == 200, entity.text
    assert {m["id"] for m in entity.json()["members"]} == {mx, us}
    rejected = client.post("/resolution/judgements", headers=auth, json={
        "left_id": mx, "right_id": us, "judgement": "different", "reason": "other mother"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["label_es"] == "distintas"
    assert len(client.get(f"/resolution/entities/{us}", headers=auth).json()["members"]) == 1
    undone = client.post(f"/resolution/judgements/{rejected.json()['id']}/undo", headers=auth,
                         json={"reason": "checked"})
    assert undone.status_code == 200
    paths = client.get(f"/graph/entities/{company}/paths", headers=auth)
    assert paths.status_code == 200, paths.text
    assert paths.json()["paths"][0][-1] == designated
    edges = paths.json()["network"]["edges"]
    assert {e["label_es"] for e in edges} >= {"propiedad"}
    near = client.get(f"/graph/entities/{company}/neighbourhood?depth=2", headers=auth)
    assert designated in {n["id"] for n in near.json()["nodes"]}
    assert client.get("/resolution/queue", headers=auth).status_code == 200
    assert client.get("/graph/centrality", headers=auth).json()["results"]
    assert client.get("/graph/export/cypher", headers=auth).status_code == 403  # analysts
    bad = client.post("/resolution/judgements", headers=auth, json={
        "left_id": mx, "right_id": us, "judgement": "maybe"})
    assert bad.status_code == 400 and "same, different" in bad.text
    # Without a purpose nothing is answered; a reader of neither side learns nothing.
    assert client.get(f"/resolution/entities/{us}", headers={
        "Authorization": auth["Authorization"]}).status_code in (400, 428)
    cbp = {**HEADERS, "Authorization": f"Bearer {world.login('analyst.cbp')}"}
    assert client.get(f"/resolution/entities/{us}", headers=cbp).status_code == 404
    # CBP (US) sees UIF's records (shared with the US) but not FinCEN's: no link, no path.
    assert [m["id"] for m in client.get(f"/resolution/entities/{mx}", headers=cbp)
            .json()["members"]] == [mx]
    assert client.get(f"/graph/entities/{company}/paths", headers=cbp).json()["paths"] == []


def test_platform_commands(world: World, tmp_path: Path) -> None:
    from binational.core.cli.main import app

    url = str(world.platform.db.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    mx, us, company, _ = world.ids["resolution"]

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--database-url", url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "Tellez" in run("resolve", "show", us, "--agency", "UIF")
    assert "Nicanor" in run("graph", "paths", company, "--agency", "UIF")
    out = tmp_path / "network.graphml"
    assert "written" in run("graph", "export", "--agency", "UIF", "--format", "graphml",
                            "--output", str(out))
    assert out.read_text().startswith("<?xml")
    bad = runner.invoke(app, ["--database-url", url, "resolve", "decide", mx, us, "maybe",
                              "--agency", "UIF"])
    assert bad.exit_code == 2 and "unknown judgement" in bad.output
