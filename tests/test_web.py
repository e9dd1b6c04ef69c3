"""The web application over HTTP (no browser): sign-in, purpose, pages, errors, grants, audit,
the message catalogue and the plug-in contract. The browser flows are in test_web_e2e.py."""

from __future__ import annotations

import csv
import io
import re
import string
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from binational.core import tables as t
from binational.core.api.app import create_app
from binational.core.identity import totp_now
from binational.core.platform import Platform
from binational.core.store import utcnow
from binational.core.vocab import Action, Country, Role
from binational.screening.matching import WEIGHTS
from binational.web import NavItem, WebPlugin, WorkingDep, page_router
from binational.web import batch as batches
from binational.web.app import build_router
from binational.web.i18n import LANGUAGES, Translator, negotiate
from binational.web.messages import DYNAMIC, EN, ES
from tests.web_fixtures import csrf_of, sign_in, web_world
from tests.world import PASSWORD, World

WEB = Path(__file__).parents[1] / "src" / "binational" / "web"


@pytest.fixture
def world(platform: Platform) -> World:
    return web_world(platform)


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.platform))


def audit_actions(platform: Platform, actor: str) -> list[str]:
    return [r["action"] for r in platform.audit.records(actor=actor, limit=500)]


# -- the catalogue -----------------------------------------------------------------------------


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert set(EN) == set(ES)
    fields = string.Formatter()
    for key in EN:
        assert EN[key].strip() and ES[key].strip(), key
        en = {f for _, f, _, _ in fields.parse(EN[key]) if f}
        es = {f for _, f, _, _ in fields.parse(ES[key]) if f}
        assert en == es, key
    # Not a copy of the English: most strings differ (names and codes may not).
    assert sum(EN[k] != ES[k] for k in EN) > 0.9 * len(EN)


def test_every_key_the_code_and_templates_use_is_in_the_catalogue() -> None:
    used: set[str] = set()
    pattern = re.compile(
        r"""(?:\bt|page\.t|WebError\(\d+,|BatchError\()\s*\(?\s*["']([a-z0-9_.]+)["']""")
    sources = [*WEB.glob("templates/*.html"),
               *(p for p in WEB.glob("*.py") if p.name != "__init__.py")]  # not its docs
    for path in sources:
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    used = {k for k in used if not k.endswith(".")}
    assert len(used) > 150
    missing = sorted(used - set(EN))
    assert not missing, missing
    for prefix, values in {
        "role.": [r.value for r in Role], "action.": [a.value for a in Action],
        "country.": [c.value for c in Country],
        "schema.": ["LegalEntity", "Person", "Company", "Organization"],
        "batch.status.": ["queued", "running", "done", "failed"],
        "grants.status.": ["live", "expired", "revoked"],
        "feature.": sorted(WEIGHTS),
        "outcome.": ["ok", "denied", "not_found", "invalid"],
    }.items():
        assert prefix in DYNAMIC
        for value in values:
            assert prefix + value in EN, prefix + value


def test_translator_formats_and_translates_followthemoney_labels() -> None:
    es = Translator("es")
    assert es("search.results", total=3) == "3 registros encontrados"
    assert es.label("Company") == "Empresa"
    assert Translator("en").label("Company") == "Company"
    assert Translator("fr").lang == "en"  # unknown languages fall back


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    ("es", "en-US,en;q=0.9", "es"),
    (None, "es-MX,es;q=0.9,en;q=0.5", "es"),
    (None, "fr-FR,en;q=0.4,es;q=0.8", "es"),
    ("de", "en", "en"),
    (None, None, "en"),
    (None, "es;q=abc, en", "en"),
])
def test_language_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate(cookie, header) == expected


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=80)))
def test_negotiation_always_answers_a_language_we_have(cookie: str | None,
                                                       header: str | None) -> None:
    assert negotiate(cookie, header) in LANGUAGES


# -- batch files -------------------------------------------------------------------------------


def test_batch_parse_reads_names_and_refuses_broken_files_with_line_numbers() -> None:
    rows, columns = batches.parse("\ufeffName,Country,notes\nAna García,mx,x\n\n,,\nJohn Doe,,\n"
                                  .encode())
    assert [r.values["name"] for r in rows] == ["Ana García", "John Doe"]
    assert [r.line for r in rows] == [2, 5]
    assert columns == ["name", "country"]
    cases = {
        b"": "batch.error.empty",
        b"id,country\n1,mx\n": "batch.error.header",
        b"name\nAna\n\xff\xfe\n": "batch.error.encoding",
        b"name,dob\nAna,1990\n,1980\n": "batch.error.name",
        b"name\nAna,extra\n": "batch.error.columns",
        b"name\n\x00\x01\n": "batch.error.binary",
    }
    for data, key in cases.items():
        with pytest.raises(batches.BatchError) as err:
            batches.parse(data)
        assert err.value.key == key, data
    with pytest.raises(batches.BatchError) as err:
        batches.parse(b"name,dob\nAna,1990\nBeto,not-a-date\n")
    assert err.value.key in ("batch.error.row",) or err.value.values.get("line") == 3
    with pytest.raises(batches.BatchError) as err:
        batches.parse(b"name\nAna\n\xff\n")
    assert err.value.values == {"line": 3}


@given(st.lists(st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs",
                                                                     "Po", "Pd")),
                        min_size=1, max_size=30).filter(lambda s: s.strip()),
                min_size=1, max_size=20))
def test_batch_parse_keeps_every_name_or_names_the_line_it_refuses(names: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name"])
    writer.writerows([n] for n in names)
    screenable = [any(ch.isalnum() for ch in n) for n in names]
    if all(screenable):
        rows, _ = batches.parse(buf.getvalue().encode())
        assert [r.values["name"] for r in rows] == [n.strip() for n in names]
        return
    with pytest.raises(batches.BatchError) as err:
        batches.parse(buf.getvalue().encode())
    assert err.value.key == "batch.error.row"
    # The line of the first refused name (the header is line 1; no value spans lines).
    assert err.value.values["line"] == screenable.index(False) + 2


# -- sign-in, sessions, CSRF -------------------------------------------------------------------


def test_sign_in_needs_the_one_time_code_and_sets_safe_cookies(client: TestClient,
                                                                world: World) -> None:
    r = client.get("/app/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/app/sign-in")
    page = client.get("/app/sign-in", headers={"Accept-Language": "es-MX"})
    assert '<html lang="es">' in page.text and "Código de un solo uso" in page.text
    csrf = csrf_of(client, page.text)
    bad = client.post("/app/sign-in", data={"csrf": csrf, "username": "analyst.fincen",
                                             "password": PASSWORD, "totp": "000000"},
                      headers={"Accept-Language": "es"})
    assert bad.status_code == 401
    assert "no son correctos" in bad.text
    assert "binational_session" not in client.cookies
    good = client.post("/app/sign-in", data={
        "csrf": csrf, "username": "analyst.fincen", "password": PASSWORD,
        "totp": totp_now(world.totp["analyst.fincen"]), "next": "/app/search?q=x"},
        follow_redirects=False)
    assert good.status_code == 303
    assert good.headers["location"].startswith("/app/context")
    cookie = next(h for h in good.headers.get_list("set-cookie")
              if h.startswith("binational_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    csrf = csrf_of(client)
    # Data pages ask for the purpose and case reference first, then go where the user was going.
    r = client.get("/app/search?q=garcia", follow_redirects=False)
    assert r.headers["location"].startswith("/app/context")
    r = client.post("/app/context", data={"csrf": csrf, "purpose": "counter-narcotics",
                                          "case": "FGR/2026/0142", "next": "/app/search?q=x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/app/search?q=x"
    home = client.get("/app/")
    assert "FGR/2026/0142" in home.text and "Counter-narcotics" in home.text
    # A page's script calls the JSON API with the same session and the stated purpose.
    purpose = re.search(r'name="binational-purpose" content="([^"]+)"', home.text)
    case = re.search(r'name="binational-case" content="([^"]+)"', home.text)
    assert purpose and case
    api = client.get("/entities/count", headers={"X-Purpose": purpose.group(1),
                                                 "X-Case-Reference": case.group(1)})
    # FINCEN's own records and the list granted for counter-narcotics.
    expected = len(world.ids["fincen_reports"]) + len(world.ids["ofac"])
    assert api.status_code == 200 and api.json()["count"] == expected
    assert "Content-Security-Policy" in home.headers
    # The home page offers the user's other recent cases to go back to.
    client.get("/app/search?q=garcia")
    client.post("/app/context", data={"csrf": csrf, "purpose": "illicit-finance",
                                      "case": "UIF-9", "next": "/app/"})
    home = client.get("/app/")
    cases = home.text[home.text.index('id="recent-cases"'):]
    assert "FGR/2026/0142" in cases and "UIF-9" not in cases.split("</ul>")[0]
    # An open redirect is not possible through "next".
    r = client.post("/app/context", data={"csrf": csrf, "purpose": "counter-narcotics",
                                          "case": "X1", "next": "https://evil.example/"},
                    follow_redirects=False)
    assert r.headers["location"] == "/app/"


def test_forms_without_the_csrf_token_or_from_another_origin_are_refused(
        client: TestClient, world: World) -> None:
    client.get("/app/sign-in")
    r = client.post("/app/sign-in", data={"username": "analyst.fincen", "password": PASSWORD,
                                           "totp": totp_now(world.totp["analyst.fincen"])})
    assert r.status_code == 403 and "formulario" not in r.text and "form has expired" in r.text
    r = client.post("/app/sign-in", data={"csrf": csrf_of(client), "username": "x",
                                           "password": "y", "totp": "1"},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "binational_session" not in client.cookies


def test_an_expired_session_sends_the_user_to_sign_in_with_a_message(
        client: TestClient, world: World) -> None:
    sign_in(client, world, "analyst.fincen")
    assert client.get("/app/").status_code == 200
    with world.platform.db.write() as conn:
        conn.execute(sa.update(t.auth_session).values(last_used_at=utcnow()
                                                      - timedelta(minutes=31)))
    client.cookies.set("binational_lang", "es")
    r = client.get("/app/screening?name=x")
    assert r.url.path == "/app/sign-in"
    assert "Su sesión ha expirado" in r.text
    assert "Traceback" not in r.text
    # The JSON endpoints answer a JSON error instead.
    r = client.get("/app/entities/x/network.json")
    assert r.status_code == 401 and "Inicie sesión" in r.json()["error"]["message"]


def test_cookies_are_secure_over_https(world: World) -> None:
    client = TestClient(create_app(world.platform), base_url="https://binational.example")
    page = client.get("/app/sign-in")
    cookie = page.headers["set-cookie"]
    assert "binational_csrf=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    r = client.post("/app/sign-in", data={
        "csrf": csrf_of(client), "username": "analyst.fincen", "password": PASSWORD,
        "totp": totp_now(world.totp["analyst.fincen"])}, follow_redirects=False)
    session = next(h for h in r.headers.get_list("set-cookie")
                   if h.startswith("binational_session="))
    assert "Secure" in session and "SameSite=strict" in session


def test_a_form_posted_after_the_session_expired_returns_to_its_page(
        client: TestClient, world: World) -> None:
    sign_in(client, world, "agency-admin.uif")
    with world.platform.db.write() as conn:
        conn.execute(sa.update(t.auth_session).values(ended_at=utcnow()))
    r = client.post("/app/grants", data={
        "csrf": csrf_of(client), "datasets": "uif_persons", "recipient": "CBP",
        "actions": "read", "purposes": "counter-narcotics", "legal_basis": "MOU",
        "expires": (utcnow() + timedelta(days=5)).date().isoformat()},
                    headers={"Referer": "http://testserver/app/grants"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/app/sign-in?next=%2Fapp%2Fgrants&reason=expired"
    given = world.platform.policy.grants(world.principal("agency-admin.uif"))
    assert not [g for g in given if g.owner_agency == "UIF"]  # nothing done without a session


def test_sign_out_ends_the_session(client: TestClient, world: World) -> None:
    sign_in(client, world, "analyst.fincen")
    token = client.cookies.get("binational_session")
    r = client.post("/app/sign-out", data={"csrf": csrf_of(client)})
    assert "Ha cerrado" in r.text or "signed out" in r.text
    client.cookies.set("binational_session", str(token))
    assert client.get("/app/", follow_redirects=False).status_code == 303


# -- pages --------------------------------------------------------------------------------------


def test_screening_a_name_and_opening_the_entity_and_its_network(client: TestClient,
                                                                 world: World) -> None:
    sign_in(client, world, "analyst.cbp")
    r = client.get("/app/screening", params={"name": "Nemesio Oseguera Cervantes",
                                            "schema": "Person"})
    assert r.status_code == 200
    person = world.ids["ofac"][0]
    assert f"/app/entities/{person}" in r.text and "SDNTK" in r.text
    assert "name similarity +" in r.text  # the explanation, in words
    page = client.get(f"/app/entities/{person}")
    assert page.status_code == 200
    text = page.text
    assert "OSEGUERA CERVANTES, Nemesio" in text
    assert "owned by OFAC (US)" in text and "TLP:AMBER" in text  # the grant's marking
    assert 'id="designations"' in text and "SDNTK" in text
    assert "FARMACIA VIDA SUPREMA" in text  # linked through the ownership
    graph = client.get(f"/app/entities/{person}/network.json").json()
    ids = {n["data"]["id"] for n in graph["nodes"]}
    assert {person, world.ids["ofac"][1], world.ids["ofac"][2]} <= ids
    edges = {(e["data"]["source"], e["data"]["target"]) for e in graph["edges"]}
    assert (person, world.ids["ofac"][1]) in edges  # the ownership, drawn as one edge
    actions = audit_actions(world.platform, "analyst.cbp")
    assert {"screening.match", "entity.read", "entity.neighbours"} <= set(actions)
    # The Spanish page translates FtM's labels too.
    client.get("/app/language/es?next=/app/")
    es = client.get(f"/app/entities/{person}").text
    assert '<html lang="es">' in es and "Designaciones" in es and "Nombre" in es


def test_a_record_the_reader_may_not_see_is_indistinguishable_from_absent(
        client: TestClient, world: World) -> None:
    sign_in(client, world, "analyst.fincen")
    hidden = client.get(f"/app/entities/{world.ids['uif_persons'][0]}")
    absent = client.get("/app/entities/no-such-entity")
    assert hidden.status_code == absent.status_code == 404
    def main(html: str) -> str:  # the page body, without its request id
        body = html[html.index("<main"):html.index("</main>")]
        return re.sub(r"[0-9a-f]{32}", "", body)

    assert main(hidden.text) == main(absent.text)
    assert "not exist, or you may not see it" in main(hidden.text)


def test_missing_permissions_are_explained_in_the_users_language(client: TestClient,
                                                                 world: World) -> None:
    sign_in(client, world, "analyst.fincen")
    client.cookies.set("binational_lang", "es")
    r = client.get("/app/grants")
    assert r.status_code == 403 and "Su función no permite" in r.text
    assert client.get("/app/audit").status_code == 403
    # Auditors audit: the purposes offered to them are only "audit", and they screen nothing.
    other = TestClient(client.app)
    sign_in(other, world, "auditor.us", purpose="audit", case="AUD-1")
    r = other.get("/app/screening?name=garcia")
    assert r.status_code == 403
    jobs = len(batches.JOBS._jobs)
    r = other.post("/app/screening/batch", data={"csrf": csrf_of(other)},
                   files={"file": ("x.csv", b"name\nAna Garcia\n", "text/csv")})
    assert r.status_code == 403 and len(batches.JOBS._jobs) == jobs  # no job slot taken
    r = other.post("/app/context", data={"csrf": csrf_of(other), "purpose": "illicit-finance",
                                         "case": "X1"})
    assert r.status_code == 400


def test_batch_screening_upload_progress_and_download(client: TestClient,
                                                      world: World) -> None:
    sign_in(client, world, "analyst.cbp")
    body = "name,country,secret_note\nFarmacia Vida Suprema,mx,do-not-echo\nPedro Páramo,,x\n"
    r = client.post("/app/screening/batch", data={"csrf": csrf_of(client)},
                    files={"file": ("clients.csv", body.encode(), "text/csv")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    job_url = r.headers["location"]
    for _ in range(100):
        status = client.get(f"{job_url}/status.json").json()
        if status["status"] == "done":
            break
        time.sleep(0.05)
    assert status["done"] == status["total"] == 2 and status["matches"] == 1
    result = client.get(f"{job_url}/results.csv")
    assert result.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert rows[0]["match"] == "true" and rows[0]["match_id"] == world.ids["ofac"][1]
    assert rows[1]["match"] == "false" and "secret_note" not in rows[0]
    # Another user (even of the same agency) cannot fetch them; the owner can discard them.
    other = TestClient(client.app)
    sign_in(other, world, "supervisor.cbp")
    assert other.get(f"{job_url}/results.csv").status_code == 404
    r = client.post(f"{job_url}/discard", data={"csrf": csrf_of(client)})
    assert client.get(f"{job_url}/results.csv").status_code == 404
    # The audit trail has counts, never the names.
    batch = [r for r in world.platform.audit.records(actor="analyst.cbp", limit=50)
             if r["action"] == "screening.batch"]
    assert batch and batch[0]["detail"]["queries"] == 2 and batch[0]["detail"]["complete"]
    assert "Pedro" not in str(batch[0])


def test_oversized_and_broken_uploads_get_a_clear_message(client: TestClient,
                                                          world: World) -> None:
    sign_in(client, world, "analyst.cbp")
    client.cookies.set("binational_lang", "es")
    big = b"name\n" + b"Ana Maria Garcia Lopez\n" * (batches.MAX_BYTES // 20)
    r = client.post("/app/screening/batch", data={"csrf": csrf_of(client)},
                    files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413 and "supera el límite" in r.text
    r = client.post("/app/screening/batch", data={"csrf": csrf_of(client)},
                    files={"file": ("x.csv", b"name\nAna\n\xff\xfe\n", "text/csv")})
    assert r.status_code == 400 and "línea 3" in r.text and "UTF-8" in r.text
    r = client.post("/app/screening/batch", data={"csrf": csrf_of(client)},
                    files={"file": ("x.xlsx", b"PK\x03\x04\x00\x00binary", "text/csv")})
    assert r.status_code == 400 and "Traceback" not in r.text


def test_an_agency_admin_grants_access_and_sees_the_receipt(world: World) -> None:
    app = create_app(world.platform)
    admin, reader = TestClient(app), TestClient(app)
    sign_in(admin, world, "agency-admin.uif", purpose=None)
    page = admin.get("/app/grants")
    assert page.status_code == 200 and "uif_persons" in page.text
    csrf = csrf_of(admin)
    refused = admin.post("/app/grants", data={"csrf": csrf, "datasets": "uif_persons",
                                              "recipient": "CBP", "actions": "read",
                                              "purposes": "counter-narcotics",
                                              "legal_basis": "", "expires": "2020-01-01"})
    assert refused.status_code == 400 and "refused" in refused.text
    expires = (utcnow() + timedelta(days=30)).date().isoformat()
    created = admin.post("/app/grants", data={
        "csrf": csrf, "datasets": "uif_persons", "recipient": "CBP",
        "actions": ["read", "search"], "purposes": "counter-narcotics",
        "legal_basis": "US-Mexico customs mutual assistance agreement", "expires": expires,
        "tlp": "AMBER"})
    assert created.status_code == 200 and created.url.path == "/app/grants"
    grant_id = re.search(r"Grant (g_[0-9a-f]+) was created", created.text)
    assert grant_id is not None
    entity = world.ids["uif_persons"][0]
    sign_in(reader, world, "analyst.cbp", purpose="counter-narcotics", case="CBP-77")
    r = reader.get(f"/app/entities/{entity}")
    assert r.status_code == 200 and "owned by UIF (MX)" in r.text and grant_id.group(1) in r.text
    receipts = admin.get("/app/grants").text
    assert 'id="receipts"' in receipts and "analyst.cbp" in receipts and "CBP-77" in receipts
    assert entity in receipts
    # Revoked, the record is gone at once.
    # Reloading the confirmation creates nothing more.
    admin.get(str(created.url))
    given = [g for g in world.platform.policy.grants(world.principal("agency-admin.uif"))
             if g.owner_agency == "UIF"]
    assert [g.id for g in given] == [grant_id.group(1)]
    revoked = admin.post(f"/app/grants/{grant_id.group(1)}/revoke",
                         data={"csrf": csrf, "reason": "case closed"})
    assert f"Grant {grant_id.group(1)} was revoked" in revoked.text
    assert reader.get(f"/app/entities/{entity}").status_code == 404


def test_auditors_read_verify_and_checkpoint_the_log(client: TestClient, world: World) -> None:
    sign_in(client, world, "auditor.us", purpose="audit", case="AUD-2026-1")
    page = client.get("/app/audit")
    assert page.status_code == 200 and "auth.login" in page.text
    client.get("/app/language/es")
    es = client.get("/app/audit", params={"action": "auth.login"}).text
    assert "correcto" in es and "Auditoría" in es  # outcome and purpose in Spanish
    client.get("/app/language/en")
    verified = client.post("/app/audit/verify", data={"csrf": csrf_of(client)})
    assert "The log verifies" in verified.text
    signed = client.post("/app/audit/checkpoints", data={"csrf": csrf_of(client)})
    assert "Checkpoint signed" in signed.text
    assert {"audit.read", "audit.verify", "audit.checkpoint"} <= set(
        audit_actions(world.platform, "auditor.us"))


def test_pages_use_only_the_applications_own_assets(client: TestClient, world: World) -> None:
    sign_in(client, world, "analyst.cbp")
    person = world.ids["ofac"][0]
    for url in ("/app/", "/app/screening?name=garcia", f"/app/entities/{person}",
                "/app/sign-in"):
        html = client.get(url).text
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert ref.startswith("/app/") or ref.startswith("#"), (url, ref)
            if "/static/" in ref:
                assert client.get(ref).status_code == 200, ref
    assert client.get("/app/static/../app.py").status_code == 404
    assert client.get("/app/no/such/page").status_code == 404
    wrong = client.post("/app/no/such/page", data={"x": "1"})
    assert wrong.status_code == 404 and "<main" in wrong.text


# -- plug-ins and the demo -----------------------------------------------------------------------


def test_a_capability_adds_navigation_and_pages_through_the_plugin_contract(
        tmp_path: Path, world: World) -> None:
    (tmp_path / "dash.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ t("ew.title") }}</h1>'
        "<p>{{ count }}</p>{% endblock %}", encoding="utf-8")
    router = page_router()

    @router.get("/", response_class=HTMLResponse)
    def dashboard(page: WorkingDep) -> HTMLResponse:
        count = world.platform.access.count(page.caller)
        return page.render("early-warning/dash.html", count=count)

    @router.get("/broken")
    def broken(page: WorkingDep) -> HTMLResponse:
        raise RuntimeError("a bug in the capability")

    plugin = WebPlugin(name="early-warning", router=router,
                       nav=(NavItem("ew.nav", "/early-warning/",
                                    visible=lambda p: p.role != Role.AUDITOR),),
                       templates=tmp_path,
                       messages={"ew.nav": ("Early warning", "Alerta temprana"),
                                 "ew.title": ("Signals", "Señales")})
    plain = APIRouter()
    plain.get("/")(lambda: {"not": "a page"})
    stray = WebPlugin(name="stray", router=plain,
                      nav=(NavItem("ew.nav", "/stray/"),))
    app = FastAPI()
    app.state.platform = world.platform
    app.include_router(build_router([plugin, stray]))
    client = TestClient(app, raise_server_exceptions=False)
    sign_in(client, world, "analyst.uif")
    client.cookies.set("binational_lang", "es")
    home = client.get("/app/")
    assert 'href="/app/early-warning/">Alerta temprana</a>' in home.text
    dash = client.get("/app/early-warning/")
    assert dash.status_code == 200 and "<h1>Señales</h1>" in dash.text
    assert "/app/stray/" not in home.text  # its routes are not pages: left out
    assert client.get("/app/stray/").status_code == 404
    broken_page = client.get("/app/early-warning/broken")
    assert broken_page.status_code == 500 and "Ocurrió un error" in broken_page.text
    assert "RuntimeError" not in broken_page.text


def test_the_demo_opens_the_web_application(monkeypatch: pytest.MonkeyPatch,
                                            platform: Platform) -> None:
    import threading

    import uvicorn

    from binational.core.cli import demo

    opened: list[str] = []

    class Timer:
        def __init__(self, _delay: float, fn: object, args: tuple[str]) -> None:
            opened.append(args[0])

        def start(self) -> None:
            pass

    monkeypatch.setattr(threading, "Timer", Timer)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    demo.serve_demo(platform, 8765, open_browser=True)
    assert opened == ["http://127.0.0.1:8765/app/"]
