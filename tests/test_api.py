"""The HTTP API as a client sees it: sign-in, purpose, visibility, grants, receipts, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from binational.core import tables as t
from binational.core.api.app import create_app
from binational.core.identity import totp_now
from binational.core.platform import Platform
from binational.core.store import utcnow
from tests.world import PASSWORD, World, build_world, in_days

CTX = {"X-Purpose": "illicit-finance", "X-Case-Reference": "UIF/2026/17"}


@pytest.fixture
def world(platform: Platform) -> World:
    return build_world(platform)


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.platform))


def auth(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.login(username)}", **CTX}


def test_login_with_second_factor(client: TestClient, world: World) -> None:
    res = client.post("/auth/login", json={"username": "analyst.fincen", "password": PASSWORD,
                                           "totp": totp_now(world.totp["analyst.fincen"])})
    assert res.status_code == 200, res.text
    token = res.json()["token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "analyst.fincen", "agency": "FINCEN", "country": "US",
                         "role": "analyst", "via": "session"}
    # Password alone is not enough.
    res = client.post("/auth/login", json={"username": "analyst.fincen", "password": PASSWORD})
    assert res.status_code == 401
    assert "one-time code" in res.json()["error"]["message"]


def test_lockout_after_five_failures(client: TestClient, world: World) -> None:
    for _ in range(5):
        res = client.post("/auth/login", json={"username": "analyst.uif", "password": "wrong" * 3,
                                               "totp": "000000"})
        assert res.status_code == 401
    good = {"username": "analyst.uif", "password": PASSWORD,
            "totp": totp_now(world.totp["analyst.uif"])}
    res = client.post("/auth/login", json=good)
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "account_locked"
    with world.platform.db.write() as conn:
        conn.execute(sa.update(t.user).where(t.user.c.username == "analyst.uif")
                     .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert client.post("/auth/login", json=good).status_code == 200
    failed = world.platform.audit.records(actor="analyst.uif", action="auth.login", limit=20)
    assert sum(r["outcome"] == "denied" for r in failed) == 6


def test_idle_session_expires(client: TestClient, world: World) -> None:
    headers = auth(world, "analyst.fincen")
    assert client.get("/auth/me", headers=headers).status_code == 200
    with world.platform.db.write() as conn:
        conn.execute(sa.update(t.auth_session).values(
            last_used_at=utcnow() - timedelta(minutes=31)))
    res = client.get("/auth/me", headers=headers)
    assert res.status_code == 401
    assert "idle" in res.json()["error"]["message"]


@pytest.mark.parametrize("token", ["bns_nothing_here", "bnt_0011223344556677_forged",
                                   "garbage", "Bearer"])
def test_forged_tokens(client: TestClient, token: str) -> None:
    res = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 401
    assert res.json()["error"]["message"]


def test_api_token(client: TestClient, world: World) -> None:
    token = world.platform.identity.create_api_token("analyst.cbp", "nightly sync")
    res = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert res.json()["via"] == "token"
    tid = token.split("_")[1]
    world.platform.identity.revoke_api_token(tid)
    res = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 401 and "revoked" in res.json()["error"]["message"]


def test_purpose_required(client: TestClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.login('analyst.fincen')}"}
    res = client.get("/entities", headers=headers)
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "purpose_required"
    res = client.get("/entities", headers={**headers, "X-Purpose": "gossip",
                                           "X-Case-Reference": "A"})
    assert res.status_code == 400 and "unknown purpose" in res.json()["error"]["message"]


def test_invisible_is_404_and_absent(client: TestClient, world: World) -> None:
    headers = auth(world, "analyst.fincen")
    uif_id = world.ids["uif_persons"][0]
    assert client.get(f"/entities/{uif_id}", headers=headers).status_code == 404
    assert client.get("/entities/no-such-thing", headers=headers).status_code == 404
    own = client.get(f"/entities/{world.ids['fincen_reports'][0]}", headers=headers)
    assert own.status_code == 200 and own.json()["sources"][0]["agency"] == "FINCEN"
    listed = client.get("/entities", headers=headers, params={"limit": 100}).json()
    assert {r["id"] for r in listed["results"]} == set(world.ids["fincen_reports"])
    assert client.get("/entities/count", headers=headers).json() == {"count": 3}


def test_grant_flow_with_receipts(client: TestClient, world: World) -> None:
    admin = auth(world, "agency-admin.uif")
    body = {"datasets": ["uif_persons"], "actions": ["read", "search"],
            "purposes": ["illicit-finance"], "legal_basis": "MOU FinCEN-UIF 2021",
            "expires_at": in_days(90).isoformat(), "recipient_agency": "FINCEN", "tlp": "AMBER"}
    res = client.post("/grants", json=body, headers=admin)
    assert res.status_code == 201, res.text
    gid = res.json()["id"]
    analyst = auth(world, "analyst.fincen")
    uif_id = world.ids["uif_persons"][0]
    res = client.get(f"/entities/{uif_id}", headers=analyst, params={"statements": "true"})
    assert res.status_code == 200
    assert res.json()["sources"] == [{"dataset": "uif_persons", "agency": "UIF", "country": "MX"}]
    assert all(s["agency"] == "UIF" for s in res.json()["statements"])
    found = client.get("/entities", headers=analyst, params={"q": "uif sample"}).json()
    assert uif_id in {r["id"] for r in found["results"]}
    receipts = client.get("/receipts", headers=admin).json()["receipts"]
    assert {r["object_id"] for r in receipts} >= {uif_id}
    assert all(r["grant_id"] == gid for r in receipts)
    # Analysts cannot see receipts; revocation closes access at once.
    assert client.get("/receipts", headers=analyst).status_code == 403
    res = client.post(f"/grants/{gid}/revoke", json={"reason": "case closed"}, headers=admin)
    assert res.json()["status"] == "revoked"
    assert client.get(f"/entities/{uif_id}", headers=analyst).status_code == 404


def test_bad_grant_input(client: TestClient, world: World) -> None:
    admin = auth(world, "agency-admin.uif")
    res = client.post("/grants", headers=admin, json={
        "datasets": ["uif_persons"], "actions": ["read"], "purposes": ["sightseeing"],
        "legal_basis": "x", "expires_at": in_days(1).isoformat(), "recipient_agency": "FINCEN"})
    assert res.status_code == 422 and "purposes" in res.json()["error"]["message"]
    res = client.post("/grants", headers=admin, json={
        "datasets": ["fincen_reports"], "actions": ["read"], "purposes": ["cyber"],
        "legal_basis": "x", "expires_at": in_days(1).isoformat(), "recipient_agency": "CBP"})
    assert res.status_code == 400 and "belongs to FINCEN" in res.json()["error"]["message"]


def test_write_and_delete_own_only(client: TestClient, world: World) -> None:
    sup = auth(world, "supervisor.fincen")
    entity = {"id": "acme-1", "schema": "Company", "properties": {"name": ["Acme Freight"]}}
    res = client.put("/datasets/fincen_reports/entities", json=entity, headers=sup)
    assert res.status_code == 200, res.text
    eid = res.json()["id"]
    assert eid.startswith("acme-1.")
    res = client.put("/datasets/uif_persons/entities", json=entity, headers=sup)
    assert res.status_code == 404
    res = client.put("/datasets/fincen_reports/entities", headers=sup,
                     json={"id": "x-1", "schema": "Starship", "properties": {}})
    assert res.status_code == 400 and "Starship" in res.json()["error"]["message"]
    analyst = auth(world, "analyst.fincen")
    assert client.put("/datasets/fincen_reports/entities", json=entity,
                      headers=analyst).status_code == 403
    res = client.delete(f"/datasets/fincen_reports/entities/{eid}", headers=sup)
    assert res.status_code == 200 and res.json()["deleted_statements"] >= 2
    assert client.get(f"/entities/{eid}", headers=sup).status_code == 404


def test_export_is_streamed_and_audited(client: TestClient, world: World) -> None:
    sup = auth(world, "supervisor.uif")
    res = client.get("/export", headers=sup)
    assert res.status_code == 200
    lines = [ln for ln in res.text.splitlines() if ln]
    assert len(lines) == 3
    rec = world.platform.audit.records(actor="supervisor.uif", action="entity.export")[0]
    assert rec["outcome"] == "ok" and rec["detail"]["count"] == 3
    assert client.get("/export", headers=auth(world, "analyst.uif")).status_code == 403


def test_auditor_sees_own_country_trail(client: TestClient, world: World) -> None:
    client.get(f"/entities/{world.ids['uif_persons'][0]}", headers=auth(world, "analyst.uif"))
    client.get(f"/entities/{world.ids['fincen_reports'][0]}",
               headers=auth(world, "analyst.fincen"))
    auditor = {"Authorization": f"Bearer {world.login('auditor.mx')}"}
    rows = client.get("/audit/records", headers=auditor).json()["records"]
    assert rows and all(r["country"] == "MX" or any(o.get("country") == "MX"
                                                    for o in r["objects"]) for r in rows)
    assert any(r["action"] == "entity.read" and r["actor"] == "analyst.uif" for r in rows)
    assert not any(r["actor"] == "analyst.fincen" for r in rows)
    assert client.get("/audit/records", headers=auth(world, "analyst.uif")).status_code == 403
    verify = client.get("/audit/verify", headers=auditor).json()
    assert verify["ok"] is True
    cp = client.post("/audit/checkpoints", headers=auditor).json()
    proof = client.get("/audit/proofs/inclusion", headers=auditor,
                       params={"index": 0, "tree_size": cp["tree_size"]}).json()
    assert proof["root"] == cp["root_hash"]
    # Reading the trail is itself in the trail.
    assert world.platform.audit.records(actor="auditor.mx", action="audit.read")


def test_upload_limits_and_errors(client: TestClient, world: World) -> None:
    world.platform.settings.max_upload_bytes = 100
    sup = auth(world, "supervisor.fincen")
    res = client.post("/datasets/fincen_reports/ingest", headers=sup,
                      files={"file": ("big.jsonl", b"x" * 500)}, data={"format": "ftm"})
    assert res.status_code == 413 and "100" in res.json()["error"]["message"]


def test_errors_are_json_not_tracebacks(client: TestClient, world: World) -> None:
    res = client.get("/entities", headers=auth(world, "analyst.fincen"),
                     params={"limit": 100000})
    assert res.status_code == 400 and "limit" in res.json()["error"]["message"]
    res = client.get("/entities", headers=auth(world, "analyst.fincen"),
                     params={"q": "!!!"})
    assert res.status_code == 400
    res = client.get("/entities", headers=auth(world, "analyst.fincen"),
                     params={"schema": "Nope"})
    assert res.status_code == 400 and "Nope" in res.json()["error"]["message"]
    assert res.headers["x-request-id"]


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "/static-offline-docs/swagger-ui-bundle.js" in page
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_entity_shape(client: TestClient, world: World) -> None:
    res = client.get(f"/entities/{world.ids['fincen_reports'][0]}",
                     headers=auth(world, "analyst.fincen"))
    body = res.json()
    assert body["schema"] == "Person" and "schema_" not in body
    assert body["caption"].startswith("Fincen Sample 0")
