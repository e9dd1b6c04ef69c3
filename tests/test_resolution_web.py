"""The resolution pages of the web application over HTTP (no browser): the review queue with
its evidence and judgements, a resolved entity with its members, evidence, history, reject and
split, the network walk from a company to a designated person, and the sovereignty rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Action, Country, Purpose
from binational.resolution import demo, web
from binational.resolution.judgements import Judgement
from binational.resolution.service import Resolver
from binational.web.app import build_router
from tests.web_fixtures import check_catalogue, csrf_of, keys_used, sign_in
from tests.world import World, build_world

TEMPLATES = Path(web.__file__).parent / "templates" / "resolution"
PURPOSE = "illicit-finance"
CASE = "RES-WEB-1"


@pytest.fixture
def world(platform: Platform, tmp_path: Path) -> World:
    """The test world plus the resolution demo: UIF (Mexico) and FinCEN (US) hold the same
    person; each shares its demo dataset with the other country only, so FinCEN and UIF
    analysts see both records, CBP (US) only UIF's and ANAM (Mexico) only FinCEN's."""
    world = build_world(platform, entities_per_dataset=1)
    assert demo.seed(platform, tmp_path) == []  # what ``binational demo`` seeds
    ids = demo.setup(platform)  # (idempotent: the ids of what the seed loaded)
    world.ids["res"] = [ids["mx-p-ramiro"], ids["us-p-ramiro"],
                        ids["mx-c-comercializadora"], ids["us-p-nicanor"]]
    return world


def client_for(world: World, username: str, lang: str = "en") -> TestClient:
    client = TestClient(create_app(world.platform))
    client.cookies.set("binational_lang", lang)
    sign_in(client, world, username, purpose=PURPOSE, case=CASE)
    return client


def section(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start:]


def test_every_message_has_english_and_spanish_and_every_used_key_exists() -> None:
    check_catalogue(web.MESSAGES)
    used = keys_used("res", [*TEMPLATES.glob("*.html"), Path(web.__file__)])
    used |= {f"res.cmp.{c}" for c in web.COMPARISONS}
    used |= {"res.for", "res.against", "res.neutral"}  # chosen in ``evidence``
    assert len(used) > 60
    assert sorted(used - set(web.MESSAGES)) == []


def test_the_plugin_is_found_through_its_entry_point() -> None:
    from binational.core.plugins import load

    assert ("resolution", web.plugin) in list(load("binational.web"))
    assert build_router([web.plugin]).routes


def test_the_resolved_person_with_evidence_then_reject_and_undo(world: World) -> None:
    mx, us, _company, _designated = world.ids["res"]
    client = client_for(world, "analyst.fincen")
    home = client.get("/app/")
    assert 'href="/app/resolution/"' in home.text  # the navigation entry
    listing = client.get("/app/resolution/entities")
    assert listing.status_code == 200, listing.text
    assert "Ramiro Téllez Avendaño" in listing.text
    link = re.search(r'href="(/app/resolution/entities/bn-[0-9a-f]{20})"', listing.text)
    assert link is not None
    r = client.get(link.group(1))
    assert r.status_code == 200, r.text
    html = r.text
    members = section(html, 'id="members"')
    members = members[:members.index("</ul>")]
    assert f'data-record="{mx}"' in members and f'data-record="{us}"' in members
    assert "Owner: UIF (MX)" in members and "Owner: FINCEN (US)" in members
    # The evidence: the comparisons that fired, with their weights and Bayes factors.
    entity = Resolver(world.platform).entity(
        Caller(world.principal("analyst.fincen"),
               QueryContext(Purpose.ILLICIT_FINANCE, "T")), us)
    weights = entity.links[0]["evidence"]
    assert weights and 'id="evidence-1"' in html
    for name, w in weights.items():
        row = re.search(rf'data-comparison="{name}" data-sign="(\w+)"><th scope="row">'
                        rf'[^<]+</th><td>([^<]+)</td><td>([^<]+)</td>', html)
        assert row is not None, name
        assert row.group(1) == ("for" if w > 0.05 else "against" if w < -0.05 else "neutral")
        assert float(row.group(2).replace(",", "")) == pytest.approx(w, abs=0.006)
        assert float(row.group(3).replace(",", "")) == pytest.approx(2 ** w, rel=0.01,
                                                                    abs=0.006)
    score = entity.links[0]["score"]
    assert f"Linked by the model (probability {100 * score:.2f} %)." in html
    assert 'id="history-empty"' in html
    # Reject the link: a negative judgement, with the reason, back on the record's page.
    r = client.post("/app/resolution/judgements", data={
        "csrf": csrf_of(client, html), "left_id": min(mx, us), "right_id": max(mx, us),
        "judgement": "different", "reason": "different mother's surname",
        "next": f"/app/resolution/entities/{min(mx, us)}"}, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert 'id="single"' in r.text and "Judgement recorded: different." in r.text
    history = section(r.text, 'id="history"')
    assert "analyst.fincen (FINCEN)" in history and "different mother&#39;s surname" in history
    assert "Ramiro Tellez</a> (FINCEN)" in history  # the record taken out, still visible
    assert [m.id for m in Resolver(world.platform).entity(
        Caller(world.principal("analyst.fincen"),
               QueryContext(Purpose.ILLICIT_FINANCE, "T")), us).members] == [us]
    # Undo it: the log keeps both rows, and the two records are one entity again.
    judgement_id = re.search(r'id="judgement-([0-9a-f]{32})"', history)
    assert judgement_id is not None
    r = client.post(f"/app/resolution/judgements/{judgement_id.group(1)}/undo", data={
        "csrf": csrf_of(client, r.text), "next": f"/app/resolution/entities/{mx}"},
        follow_redirects=True)
    assert r.status_code == 200, r.text
    assert 'id="undone"' in r.text and 'id="single"' not in r.text
    log = section(r.text, 'id="history"')
    assert log.count('id="judgement-') == 2 and "undone" in log
    # The audit trail has the reads and the judgements, with the session's case.
    rows = world.platform.audit.records(actor="analyst.fincen", limit=500)
    actions = {row["action"] for row in rows if row["case_ref"] == CASE}
    assert {"resolution.resolved", "resolution.entity", "resolution.history",
            "resolution.decide", "resolution.undo"} <= actions


def test_the_queue_judges_a_pair_and_a_conflict_is_explained(world: World) -> None:
    mx, us, _, _ = world.ids["res"]
    client = client_for(world, "analyst.uif", lang="es")
    r = client.get("/app/resolution/")
    assert r.status_code == 200, r.text
    assert '<html lang="es"' in r.text
    caller = Caller(world.principal("analyst.uif"), QueryContext(Purpose.ILLICIT_FINANCE, "T"))
    expected = [(c.left_id, c.right_id) for c in Resolver(world.platform).queue(caller)]
    shown = re.findall(r'id="pair-\d+"[^>]*data-left="([^"]+)" data-right="([^"]+)"', r.text)
    assert shown == expected and len(shown) >= 2  # most valuable first, as the service ranks
    assert (min(mx, us), max(mx, us)) in shown
    n = shown.index((min(mx, us), max(mx, us))) + 1
    card = section(r.text, f'id="pair-{n}"')
    card = card[:card.index("</section>")]
    assert "Probabilidad de coincidencia" in card and "Fecha de nacimiento" in card
    assert "Propietario: UIF (MX)" in card and "Propietario: FINCEN (US)" in card
    assert "Ramiro Tellez" in card and "Av. Insurgentes 100" in card
    # Same, with a reason: the pair leaves the queue and the judgement can be undone.
    r = client.post("/app/resolution/judgements", data={
        "csrf": csrf_of(client, r.text), "left_id": mx, "right_id": us, "judgement": "same",
        "reason": "misma CURP en el expediente", "next": "/app/resolution/"},
        follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "Juicio registrado: la misma." in r.text
    assert f'data-left="{min(mx, us)}"' not in r.text
    assert r.text.count('class="card pair"') == len(shown) - 1
    # A third record judged the same as one and different from the other contradicts the
    # log: refused with an explanation in Spanish, and nothing is lost.
    third = next(x for x in demo_ids(world) if x.startswith("mx-p-lucia"))
    resolver = Resolver(world.platform)
    resolver.decide(caller, third, us, Judgement.NEGATIVE, "sister")
    before = len(resolver.history(caller, third))
    r = client.post("/app/resolution/judgements", data={
        "csrf": csrf_of(client, r.text), "left_id": third, "right_id": mx,
        "judgement": "same", "next": "/app/resolution/"})
    assert r.status_code == 409
    assert "Juicio en conflicto" in r.text and "no se perdió nada" in r.text
    assert "judged different entities" in r.text  # the resolver's own explanation
    assert len(resolver.history(caller, third)) == before


def demo_ids(world: World) -> list[str]:
    return [e.id for e in world.platform.store.view(
        world.platform.access.plan(Caller(operator("UIF", Country.MX),
                                          QueryContext(Purpose.ILLICIT_FINANCE, "T")),
                                   Action.READ).scope.restrict([demo.MX_DATASET]))
            .entities("Person") if e.id]


def test_split_takes_a_record_out_of_its_entity(world: World) -> None:
    _, us, _, _ = world.ids["res"]
    client = client_for(world, "analyst.fincen", lang="es")
    page = client.get(f"/app/resolution/entities/{us}")
    assert "Separar este registro" in page.text
    r = client.post(f"/app/resolution/entities/{us}/split", data={
        "csrf": csrf_of(client, page.text), "reason": "otra persona"}, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "Registro separado; juicios registrados: 1." in r.text and 'id="single"' in r.text
    # Splitting a record that is linked to nothing is refused with a clear message.
    r = client.post(f"/app/resolution/entities/{us}/split", data={
        "csrf": csrf_of(client, r.text)})
    assert r.status_code == 400 and "not linked to any other record" in r.text


def test_the_network_walk_from_the_company_to_the_designated_person(world: World) -> None:
    _, _, company, _ = world.ids["res"]
    client = client_for(world, "analyst.fincen")
    r = client.get(f"/app/resolution/network/{company}")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Network: Comercializadora Avendaño del Norte S.A. de C.V." in html
    paths = section(html, 'id="paths"')
    paths = paths[:paths.index("</ol>")]
    # Company -> (ownership) -> the resolved person -> (associate, payment) -> designated.
    assert 'data-steps="2"' in paths
    assert paths.index("ownership") < paths.index("Ramiro Téllez Avendaño") \
        < paths.index("associate, payment") < paths.index("Nicanor Zubieta Larrañaga")
    assert "resolved from 2 records" in paths and "[designated]" in paths
    owners = section(html, 'id="nodes"')
    assert "FINCEN (US), UIF (MX)" in owners  # the resolved person's two owners
    graph = client.get(f"/app/resolution/network/{company}/graph.json")
    assert graph.status_code == 200
    nodes = {n["data"]["label"]: n["data"] for n in graph.json()["nodes"]}
    assert nodes["Nicanor Zubieta Larrañaga"]["designated"] is True
    assert nodes["Comercializadora Avendaño del Norte S.A. de C.V."]["center"] is True
    assert {e["data"]["label"] for e in graph.json()["edges"]} >= {"ownership", "associate"}
    # Expansion: depth 1 from the company reaches the person, not the designated one.
    near = client.get(f"/app/resolution/network/{company}/graph.json?depth=1").json()
    assert len(near["nodes"]) == 3  # company, person and, through the path, the designated
    r = client.get(f"/app/resolution/network/{company}?depth=2")
    assert r.status_code == 200 and '<option value="2" selected>' in r.text
    es = client_for(world, "analyst.fincen", lang="es")
    r = es.get(f"/app/resolution/network/{company}")
    assert "propiedad" in r.text and "[designada]" in r.text
    assert es.get(f"/app/resolution/network/{company}/graph.json").json()["edges"][0][
        "data"]["label"] in {"propiedad", "asociado", "pago"}
    # The walk goes on from any node (the node's page).
    node = re.search(r'href="(/app/resolution/network/bn-[0-9a-f]{20}\?depth=1)"', html)
    assert node is not None and client.get(node.group(1)).status_code == 200
    rows = world.platform.audit.records(actor="analyst.fincen", limit=500)
    assert any(row["action"] == "graph.walk" and row["case_ref"] == CASE for row in rows)


def test_a_reader_of_one_side_sees_no_link_and_no_hint(world: World) -> None:
    mx, us, company, designated = world.ids["res"]
    # A FinCEN analyst (who sees both) judges the pair: a judgement CBP must not see either.
    Resolver(world.platform).decide(
        Caller(world.principal("analyst.fincen"), QueryContext(Purpose.ILLICIT_FINANCE, "T")),
        mx, us, Judgement.UNSURE, "needs the CURP")
    cbp = client_for(world, "analyst.cbp")  # sees UIF's demo dataset, not FinCEN's
    r = cbp.get(f"/app/resolution/entities/{mx}")
    assert r.status_code == 200, r.text
    assert 'id="single"' in r.text and us not in r.text and "FINCEN" not in r.text
    assert 'id="history-empty"' in r.text and "needs the CURP" not in r.text
    assert "Ramiro Tellez" not in r.text and "El Paso" not in r.text
    hidden = cbp.get(f"/app/resolution/entities/{us}")
    missing = cbp.get("/app/resolution/entities/us-p-nobody.0000")
    assert hidden.status_code == missing.status_code == 404
    strip = [(re.compile(r"us-p-[a-z.0-9]+"), ""), (re.compile(r'value="[0-9a-f]{32}"'), ""),
             (re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32}"), "")]

    def bare(text: str) -> str:
        for rx, sub in strip:
            text = rx.sub(sub, text)
        return text

    assert bare(hidden.text) == bare(missing.text)
    queue = cbp.get("/app/resolution/")
    assert 'id="queue-empty"' in queue.text and us not in queue.text
    resolved = cbp.get("/app/resolution/entities")
    assert 'id="resolved-empty"' in resolved.text
    walk = cbp.get(f"/app/resolution/network/{company}?depth=4")
    assert walk.status_code == 200
    assert 'id="no-paths"' in walk.text and "Nicanor" not in walk.text
    assert "FINCEN" not in walk.text and "fincen_resolution_demo" not in walk.text
    assert cbp.get(f"/app/resolution/network/{designated}").status_code == 404
    graph = cbp.get(f"/app/resolution/network/{company}/graph.json?depth=4").json()
    assert all("Nicanor" not in n["data"]["label"] for n in graph["nodes"])
    # Judging a pair with a hidden record answers as if it did not exist.
    r = cbp.post("/app/resolution/judgements", data={
        "csrf": csrf_of(cbp, walk.text), "left_id": mx, "right_id": us, "judgement": "same"})
    assert r.status_code == 404
    # ANAM (Mexico) sees only FinCEN's side: the US record alone, no path from it to UIF's.
    anam = client_for(world, "analyst.anam")
    r = anam.get(f"/app/resolution/entities/{us}")
    assert 'id="single"' in r.text and mx not in r.text and "Téllez Avendaño" not in r.text


def test_csrf_and_bad_input(world: World) -> None:
    mx, us, company, _ = world.ids["res"]
    client = client_for(world, "analyst.fincen")
    resolver = Resolver(world.platform)
    caller = Caller(world.principal("analyst.fincen"), QueryContext(Purpose.ILLICIT_FINANCE, "T"))
    # No CSRF token: refused, nothing written.
    for url, data in (("/app/resolution/judgements",
                       {"left_id": mx, "right_id": us, "judgement": "different"}),
                      (f"/app/resolution/entities/{us}/split", {"reason": "x"}),
                      ("/app/resolution/judgements/" + "0" * 32 + "/undo", {})):
        r = client.post(url, data=data)
        assert r.status_code == 403, url
        r = client.post(url, data={**data, "csrf": "f" * 32})
        assert r.status_code == 403, url
    assert resolver.history(caller, mx) == []
    token = csrf_of(client)
    r = client.post("/app/resolution/judgements", data={
        "csrf": token, "left_id": mx, "right_id": us, "judgement": "maybe"})
    assert r.status_code == 400 and "Choose same, different or unsure." in r.text
    r = client.post("/app/resolution/judgements", data={
        "csrf": token, "left_id": mx, "right_id": mx, "judgement": "same"})
    assert r.status_code == 400 and "cannot be judged against itself" in r.text
    r = client.post("/app/resolution/judgements", data={
        "csrf": token, "left_id": "", "right_id": us, "judgement": "same"})
    assert r.status_code == 400 and "Malformed record id." in r.text
    r = client.post("/app/resolution/judgements", data={
        "csrf": token, "left_id": mx, "right_id": us, "judgement": "same",
        "reason": "x" * 2001})
    assert r.status_code == 400
    r = client.post("/app/resolution/judgements/" + "0" * 32 + "/undo",
                    data={"csrf": token})
    assert r.status_code == 404
    r = client.post("/app/resolution/judgements/not-an-id/undo", data={"csrf": token})
    assert r.status_code == 400
    assert resolver.history(caller, mx) == []
    assert client.get(f"/app/resolution/network/{company}?depth=9").status_code == 400
    assert client.get(f"/app/resolution/network/{company}/graph.json?depth=0").json()[
        "error"]["message"]
    assert client.get("/app/resolution/?limit=0").status_code == 400
    assert client.get("/app/resolution/entities/" + "x" * 300).status_code in (400, 404)
    assert client.get("/app/resolution/network/nobody").status_code == 404
    # Without a purpose the pages send the user to state one.
    fresh = TestClient(create_app(world.platform))
    sign_in(fresh, world, "analyst.fincen", purpose=None)
    r = fresh.get("/app/resolution/", follow_redirects=False)
    assert r.status_code == 303 and "/app/context" in r.headers["location"]


def test_the_entity_profile_links_to_resolution(world: World) -> None:
    _, _, company, _ = world.ids["res"]
    client = client_for(world, "analyst.fincen")
    r = client.get(f"/app/entities/{company}")
    assert r.status_code == 200, r.text
    panel = section(r.text, 'id="resolution-panel"')
    assert f'href="/app/resolution/network/{company}"' in panel
    assert f'href="/app/resolution/entities/{company}"' in panel
    # Only legal entities get the panel: a relationship record does not.
    ownership = next(e.id for e in world.platform.store.view(
        world.platform.access.plan(Caller(world.principal("analyst.fincen"),
                                          QueryContext(Purpose.ILLICIT_FINANCE, "T")),
                                   Action.READ).scope).entities("Ownership"))
    assert 'id="resolution-panel"' not in client.get(f"/app/entities/{ownership}").text


def test_rejecting_a_pair_judged_the_same_replaces_that_judgement() -> None:
    from binational.resolution.judgements import conflict

    # The pair itself judged the same: a new "different" replaces it (the log keeps both).
    assert conflict([("a", "b")], [], "a", "b", Judgement.NEGATIVE) is None
    # Held together through a third record: rejecting needs a split or an undo first.
    why = conflict([("a", "b"), ("b", "c")], [], "a", "c", Judgement.NEGATIVE)
    assert why is not None and "through other records" in why


def test_auditors_get_no_resolution_entry(world: World) -> None:
    client = TestClient(create_app(world.platform))
    sign_in(client, world, "auditor.us", purpose="audit", case="AUD-1")
    home = client.get("/app/")
    assert home.status_code == 200 and 'href="/app/resolution/"' not in home.text
    assert client.get("/app/resolution/").status_code == 403
