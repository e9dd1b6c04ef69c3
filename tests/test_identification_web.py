"""The identification pages of the web application over HTTP (no browser): remains and their
candidates, DVI (bundled and uploaded cases), and hit/no-hit queries with release by grant,
in English and Spanish, with the sharing policy deciding what each agency sees."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from binational.core.api.app import create_app
from binational.core.cli.main import app as cli
from binational.core.identity import totp_now
from binational.core.platform import Platform
from binational.core.vocab import Role
from binational.identification.web import MESSAGES
from tests.identification_fixtures import ROOT, Scene, build_scene
from tests.web_fixtures import check_catalogue, csrf_of, keys_used
from tests.world import PASSWORD

DVI = ROOT / "data" / "demo" / "identification" / "dvi"
CASE = "FGE-JAL/2026/0042"


@pytest.fixture
def scene(platform: Platform) -> tuple[Scene, dict[str, str]]:
    s = build_scene(platform)
    totp: dict[str, str] = {}
    for username, agency, role in (("ana.jal", "FGE-JAL", Role.ANALYST),
                                   ("ana.pcome", "PCOME", Role.ANALYST),
                                   ("admin.pcome", "PCOME", Role.AGENCY_ADMIN)):
        user = platform.identity.add_user(username, agency, role, PASSWORD)
        assert user.totp_secret is not None
        totp[username] = user.totp_secret
    return s, totp


def client_for(platform: Platform, totp: dict[str, str], username: str,
               lang: str = "en") -> TestClient:
    client = TestClient(create_app(platform))
    client.cookies.set("binational_lang", lang)
    client.get("/app/sign-in")
    r = client.post("/app/sign-in", data={
        "csrf": csrf_of(client), "username": username, "password": PASSWORD,
        "totp": totp_now(totp[username]), "next": "/app/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post("/app/context", data={"csrf": csrf_of(client), "purpose": "missing-persons",
                                          "case": CASE, "next": "/app/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_every_message_has_english_and_spanish_with_the_same_placeholders() -> None:
    check_catalogue(MESSAGES)


def test_every_key_the_templates_use_is_a_message() -> None:
    folder = ROOT / "src" / "binational" / "identification"
    used = keys_used("ident", [*folder.glob("templates/identification/*.html"),
                               folder / "web.py"])
    assert len(used) > 40
    assert not sorted(used - set(MESSAGES))


def test_remains_and_ranked_candidates_with_reasons(
        scene: tuple[Scene, dict[str, str]]) -> None:
    s, totp = scene
    client = client_for(s.platform, totp, "ana.jal")
    for lang in ("en", "es"):
        client.cookies.set("binational_lang", lang)
        home = client.get("/app/")
        assert "/app/identification/" in home.text  # the navigation entry
        r = client.get("/app/identification/")
        assert r.status_code == 200, r.text
        assert r.headers["content-security-policy"]
        for rem in s.mx.remains:
            assert rem["id"] in r.text
        assert MESSAGES["ident.remains.title"][lang == "es"] in r.text
        rid, mid = next(iter(s.mx.truth.items()))
        r = client.get(f"/app/identification/remains/{rid}")
        assert r.status_code == 200, r.text
        table = r.text.split('id="candidates"')[1]
        first_row = table.split("<tbody>")[1].split("</tr>")[0]
        assert mid in first_row  # the planted missing person ranks first
        # Its reasons, in the page's language, as the service gives them.
        _, cands = s.service.candidates(s.caller("FGE-JAL"), rid, 10)
        reason = cands[0]["reasons"][0][lang]
        assert reason in unescape(first_row)
        assert 'id="query-form"' in r.text  # its own remains: a hit/no-hit query from here
        missing = client.get("/app/identification/remains/NOPE")
        assert missing.status_code == 404
        assert "<html" in missing.text and "Traceback" not in missing.text


def test_without_a_grant_another_agencys_remains_are_invisible(
        scene: tuple[Scene, dict[str, str]]) -> None:
    s, totp = scene
    client = client_for(s.platform, totp, "ana.pcome")
    r = client.get("/app/identification/")
    assert r.status_code == 200
    page = text(r.text)
    assert not any(rem["id"] in page for rem in s.mx.remains)
    rid = s.mx.remains[0]["id"]
    r = client.get(f"/app/identification/remains/{rid}")
    # The same answer as for remains that do not exist at all.
    nope = client.get("/app/identification/remains/JAL-NO-SUCH")
    assert r.status_code == nope.status_code == 404

    def main(html: str) -> str:  # the page body, without the request id
        return re.sub(r"[0-9a-f]{32}", "", html.split("<main")[1].split("</main>")[0])

    assert rid not in main(r.text)
    assert main(r.text).replace(rid, "X") == main(nope.text).replace("JAL-NO-SUCH", "X")


def cli_numbers(name: str) -> dict[str, object]:
    res = CliRunner().invoke(cli, ["dvi", "solve", str(DVI / name), "--json"])
    assert res.exit_code == 0, res.output
    data: dict[str, object] = json.loads(res.output)
    return data


def test_dvi_bundled_case_matches_the_cli(
        scene: tuple[Scene, dict[str, str]]) -> None:
    s, totp = scene
    client = client_for(s.platform, totp, "ana.jal")
    for lang in ("en", "es"):
        client.cookies.set("binational_lang", lang)
        r = client.get("/app/identification/dvi")
        assert r.status_code == 200 and "example2" in r.text
        r = client.get("/app/identification/dvi?case=example2")
        assert r.status_code == 200, r.text
        want = cli_numbers("example2.json")
        best = r.text.split('id="dvi-best"')[1].split("</table>")[0]
        assert isinstance(want["best_assignment"], dict)
        for v, m in want["best_assignment"].items():
            assert re.search(rf"<th scope=\"row\">{v}</th><td>{m}</td>", best)
        assert isinstance(want["loglik"], float) and isinstance(want["lr_vs_null"], int | float)
        figures = r.text.split('id="dvi-figures"')[1].split("</dl>")[0]
        assert f"{want['loglik']:.4f}" in figures
        assert f">{float(want['lr_vs_null']):.6g}<" in figures
        assert 'id="dvi-assignments"' in r.text and 'id="dvi-pairwise"' in r.text
        assert MESSAGES["ident.dvi.best"][lang == "es"] in r.text
        actions = [e["action"] for e in s.platform.audit.records(actor="ana.jal", limit=50)]
        assert "identification.dvi.solve" in actions
        assert client.get("/app/identification/dvi?case=nope").status_code == 404


def test_dvi_upload_solves_or_says_what_is_wrong(
        scene: tuple[Scene, dict[str, str]]) -> None:
    s, totp = scene
    client = client_for(s.platform, totp, "ana.jal")
    for lang in ("en", "es"):
        client.cookies.set("binational_lang", lang)
        csrf = csrf_of(client)
        data = (DVI / "example1.json").read_bytes()
        r = client.post("/app/identification/dvi", data={"csrf": csrf},
                        files={"file": ("example1.json", data, "application/json")})
        assert r.status_code == 200, r.text
        want = cli_numbers("example1.json")
        figures = r.text.split('id="dvi-figures"')[1].split("</dl>")[0]
        assert isinstance(want["lr_vs_null"], int | float)
        assert f">{float(want['lr_vs_null']):.6g}<" in figures
        fam = (DVI / "dvi-example.fam").read_bytes()
        r = client.post("/app/identification/dvi", data={"csrf": csrf},
                        files={"file": ("dvi-example.fam", fam, "application/octet-stream")})
        assert r.status_code == 200 and "Missing male 3" in r.text
        bad = b'"Output from Familias"\n"DO NOT EDIT"\n3.3\n""\nx\n'
        r = client.post("/app/identification/dvi", data={"csrf": csrf},
                        files={"file": ("bad.fam", bad, "application/octet-stream")})
        assert r.status_code == 400
        error = text(r.text.split('id="dvi-error"')[1].split("</div>")[0])
        assert MESSAGES["ident.dvi.bad_file"][lang == "es"].format(file="bad.fam") in error
        assert "line 5" in error
        r = client.post("/app/identification/dvi", data={"csrf": csrf},
                        files={"file": ("case.json", b"{not json", "application/json")})
        assert r.status_code == 400 and 'id="dvi-error"' in r.text
        big = b" " * (600 * 1024)
        r = client.post("/app/identification/dvi", data={"csrf": csrf},
                        files={"file": ("big.json", big, "application/json")})
        assert r.status_code == 413 and "Traceback" not in r.text


def test_hit_no_hit_query_request_and_release(scene: tuple[Scene, dict[str, str]]) -> None:
    s, totp = scene
    lang = "es"
    jal = client_for(s.platform, totp, "ana.jal", lang)
    rid = next(iter(s.mx.truth))
    r = jal.get("/app/identification/hits")
    assert r.status_code == 200 and 'id="no-hits"' in r.text
    r = jal.post("/app/identification/queries", data={
        "csrf": csrf_of(jal), "remains_id": rid, "target_agency": "PCOME", "kind": "dna"})
    assert r.status_code == 200, r.text
    answer = r.text.split('id="query-answer"')[1].split("</section>")[0]
    hit_text = MESSAGES["ident.answer.hit"][lang == "es"].format(agency="PCOME", remains=rid)
    assert hit_text in unescape(answer)
    ref = re.findall(r'<code class="ref">([^<]+)</code>', answer)[0]
    # A remains with no relative among PCOME's references: no hit.
    other = next(r["id"] for r in s.mx.remains if r["id"] not in s.mx.truth)
    lang = "en"
    jal.cookies.set("binational_lang", lang)
    r = jal.post("/app/identification/queries", data={
        "csrf": csrf_of(jal), "remains_id": other, "target_agency": "PCOME", "kind": "dna"})
    no_hit = MESSAGES["ident.answer.no_hit"][lang == "es"].format(agency="PCOME", remains=other)
    assert no_hit in unescape(r.text)
    # Before release the requester cannot read the record.
    assert jal.get(f"/app/identification/hits/{ref}").status_code == 404
    r = jal.post(f"/app/identification/hits/{ref}/request",
                 data={"csrf": csrf_of(jal), "justification": "identification, fosa 3"},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    # The owner's analyst sees the request but may not decide; the admin may.
    ana = client_for(s.platform, totp, "ana.pcome", lang)
    assert "/decision" not in ana.get("/app/identification/hits").text
    admin = client_for(s.platform, totp, "admin.pcome", lang)
    page = admin.get("/app/identification/hits").text
    assert f"/identification/hits/{ref}/decision" in page
    r = admin.post(f"/app/identification/hits/{ref}/decision",
                   data={"csrf": csrf_of(admin), "approve": "yes", "reason": "ok"},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    r = jal.get(f"/app/identification/hits/{ref}")
    assert r.status_code == 200 and "family" in r.text
    actions = {e["action"] for e in s.platform.audit.records(actor="ana.jal", limit=100)}
    assert {"identification.prum.dna", "identification.prum.request",
            "identification.prum.detail"} <= actions
