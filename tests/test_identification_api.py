"""Identification over HTTP and the ``binational dvi`` / ``identify`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from binational.core.api.app import create_app
from binational.core.cli.main import app
from binational.core.platform import Platform
from binational.core.vocab import Role
from tests.identification_fixtures import ROOT, Scene, build_scene

DVI = ROOT / "data" / "demo" / "identification" / "dvi"
MP = {"X-Purpose": "missing-persons", "X-Case-Reference": "FGE-JAL/2026/0042"}


@pytest.fixture
def scene(platform: Platform) -> Scene:
    s = build_scene(platform)
    for username, agency, role in (("ana.jal", "FGE-JAL", Role.ANALYST),
                                   ("admin.pcome", "PCOME", Role.AGENCY_ADMIN)):
        platform.identity.add_user(username, agency, role, "a long enough password", totp=False)
    return s


def auth(platform: Platform, username: str) -> dict[str, str]:
    token = platform.identity.create_api_token(username, "tests")
    return {"Authorization": f"Bearer {token}", **MP}


def test_candidates_dvi_and_prum_over_http(scene: Scene) -> None:
    client = TestClient(create_app(scene.platform))
    jal = auth(scene.platform, "ana.jal")
    pc = auth(scene.platform, "admin.pcome")
    rid, mid = next(iter(scene.mx.truth.items()))
    res = client.get(f"/identification/remains/{rid}/candidates?top=3", headers=jal)
    assert res.status_code == 200, res.text
    top = res.json()["candidates"][0]
    assert top["id"] == mid and top["reasons"] and {"en", "es"} <= set(top["reasons"][0])
    assert client.get("/identification/remains/NOPE/candidates", headers=jal).status_code == 404
    listed = client.get("/identification/remains", headers=jal).json()
    assert listed["total"] == len(scene.mx.remains)
    # A bundled DVI case and a posted one give dvir's answer.
    res = client.post("/identification/dvi/cases/example2/solve", headers=jal)
    assert res.status_code == 200, res.text
    assert res.json()["best_assignment"] == {"V1": "M1", "V2": "M2", "V3": "M3"}
    posted = json.loads((DVI / "example1.json").read_text())
    res = client.post("/identification/dvi/solve", json=posted, headers=jal)
    assert res.json()["lr_vs_null"] == pytest.approx(2000)
    posted["missing"] = ["M1", "NOBODY"]
    res = client.post("/identification/dvi/solve", json=posted, headers=jal)
    assert res.status_code == 400 and "NOBODY" in res.text
    # Prüm: hit, request, release, detail.
    res = client.post("/identification/queries", headers=jal,
                      json={"remains_id": rid, "target_agency": "PCOME", "kind": "dna"})
    assert res.status_code == 200, res.text
    ref = res.json()["references"][0]
    assert client.get(f"/identification/hits/{ref}", headers=jal).status_code == 404
    res = client.post(f"/identification/hits/{ref}/request", headers=jal,
                      json={"justification": "identification of remains, fosa 3"})
    assert res.json()["status"] == "requested"
    res = client.post(f"/identification/hits/{ref}/decision", headers=pc, json={"approve": True})
    assert res.json()["status"] == "released"
    detail = client.get(f"/identification/hits/{ref}", headers=jal).json()
    assert detail["record"]["subject_kind"] == "family"
    assert client.get("/identification/codes").json()["categories"][0]["es"] == "cabello"
    no_purpose = {"Authorization": jal["Authorization"]}
    assert client.get("/identification/remains", headers=no_purpose).status_code == 400


def test_dvi_cli_json_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["dvi", "solve", str(DVI / "example2.json"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["best_assignment"] == {"V1": "M1", "V2": "M2", "V3": "M3"}
    assert data["loglik"] == pytest.approx(-16.1181, abs=1e-4)
    assert data["lr_vs_null"] == 250
    assert data["assignments"][1]["LR_vs_null"] == 50
    res = runner.invoke(app, ["dvi", "solve", str(DVI / "dvi-example.fam"), "--json"])
    assert res.exit_code == 0, res.output
    # The Familias drawing of example1: the same answer under Familias' labels.
    assert json.loads(res.output)["best_assignment"] == {
        "V1": "Missing male 3", "V2": "Missing person", "V3": "Missing male 2"}
    res = runner.invoke(app, ["dvi", "solve", str(DVI / "dvi-example.fam")])
    assert res.exit_code == 0 and "20 possible assignments" in res.output
    bad = tmp_path / "bad.fam"
    bad.write_text('"Output from Familias"\n"DO NOT EDIT"\n3.3\n""\nx\n')
    res = runner.invoke(app, ["dvi", "solve", str(bad)])
    assert res.exit_code == 2 and "line 5" in res.output
    res = runner.invoke(app, ["dvi", "solve", str(tmp_path / "none.json")])
    assert res.exit_code == 2 and "not found" in res.output
    res = runner.invoke(app, ["dvi", "pairwise", str(DVI / "example2.json"), "--json"])
    assert json.loads(res.output)["V2"]["M2"] == pytest.approx(5)


def test_familias_kinship_hypotheses() -> None:
    # Ch4-table-4-4.fam holds the persons of KETPchap481 under seven pedigree hypotheses;
    # its first (both victims at their true places) is the DVI case's best assignment.
    runner = CliRunner()
    res = runner.invoke(app, ["dvi", "pedigrees", str(DVI / "Ch4-table-4-4.fam"), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["hypotheses"]
    assert [r["pedigree"] for r in rows] == [f"H{i}" for i in range(1, 8)]
    res = runner.invoke(app, ["dvi", "solve", str(DVI / "KETPchap481.json"), "--json"])
    assert rows[0]["loglik"] == pytest.approx(json.loads(res.output)["loglik"], abs=1e-9)
    assert rows[0]["posterior"] > 0.99 and rows[-1]["LR_vs_first"] == 0
    res = runner.invoke(app, ["dvi", "solve", str(DVI / "Ch4-table-4-4.fam")])
    assert res.exit_code == 2 and "dvi pedigrees" in res.output


def test_demo_seed_is_idempotent_and_tells_a_story(platform: Platform, tmp_path: Path) -> None:
    from binational.core.access import Caller
    from binational.core.identity import Principal
    from binational.core.policy import QueryContext
    from binational.core.vocab import Country, Purpose
    from binational.identification import demo
    from binational.identification.resources import default_frequencies
    from binational.identification.service import Identification, operator_caller

    platform.identity.add_agency("CNB", "Comisión Nacional de Búsqueda", Country.MX)
    assert demo.seed(platform, tmp_path) == []
    assert demo.seed(platform, tmp_path) == []  # a second run adds nothing
    svc = Identification(platform)
    jal = operator_caller(platform, "FGE-JAL", "FGE-JAL/2026/0001")
    assert len(svc.list_records(jal, "remains", 1000)) == demo.N_JALISCO
    _, cands = svc.candidates(jal, "JAL-PM-00001", top=3)
    assert cands[0]["id"] == "JAL-MP-00001"
    answer = svc.query_dna(jal, "JAL-PM-00001", "PCOME", default_frequencies(0))
    assert answer.hit
    users = {str(u["username"]) for u in platform.identity.users()}
    assert {"ana.fge-jal", "admin.pcome"} <= users
    # The National Search Commission sees FGE-JAL's remains through the demo's grant.
    cnb = Caller(Principal("ana.cnb", "CNB", Country.MX, Role.ANALYST),
                 QueryContext(Purpose.MISSING_PERSONS, "CNB/2026/0007"))
    _, seen = svc.candidates(cnb, "JAL-PM-00001", top=1)
    assert seen[0]["id"] == "JAL-MP-00001"
    assert any(r["reader_agency"] == "CNB" for r in platform.audit.receipts("FGE-JAL"))


def test_identify_cli_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from binational.core.settings import get_settings
    from tests.test_cli import isolate

    isolate(monkeypatch, tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    plat = Platform.open(get_settings(), url=url)
    try:
        scene = build_scene(plat)
        rid, mid = next(iter(scene.mx.truth.items()))
    finally:
        plat.close()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--database-url", url, *args])

    res = run("identify", "candidates", rid, "--agency", "FGE-JAL", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["candidates"][0]["id"] == mid
    res = run("identify", "query", rid, "--to", "PCOME", "--agency", "FGE-JAL", "--json")
    ref = json.loads(res.output)["references"][0]
    assert run("identify", "detail", ref, "--agency", "FGE-JAL").exit_code == 2
    assert run("identify", "request", ref, "--why", "fosa 3", "--agency", "FGE-JAL").exit_code == 0
    res = run("identify", "decide", ref, "--approve", "--agency", "PCOME")
    assert res.exit_code == 0 and "released" in res.output
    res = run("identify", "detail", ref, "--agency", "FGE-JAL")
    assert json.loads(res.output)["record_kind"] == "family"
    bad = tmp_path / "remains.csv"
    bad.write_text("id,sex,codes\nX-1,M,hair:black\nX-2,Q,\n")
    res = run("identify", "load", "remains", str(bad), "--dataset", "fge_jal_records",
              "--agency", "FGE-JAL")
    assert res.exit_code == 2 and ":3:" in res.output and "sex" in res.output
