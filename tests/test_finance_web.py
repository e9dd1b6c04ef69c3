"""The illicit-finance pages of the web application over HTTP (no browser): UIF's alerts with
their explanation, the case workflow, sharing with FinCEN under a grant, FinCEN's read-only
view of the package, and UIF's access receipt; CSRF, denial without a grant, bad input."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core.access import Caller
from binational.core.api.app import create_app
from binational.core.errors import Forbidden
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.store import utcnow
from binational.core.vocab import Action, Country, Purpose
from binational.finance import Finance, web
from binational.finance.demo import DATASET, seed
from binational.finance.model import score_graph
from binational.finance.rules import config_for
from binational.finance.service import CLOSE_REASONS
from binational.finance.tables import finance_transaction
from binational.web.app import build_router
from tests.test_finance import sqlite_platform
from tests.web_fixtures import check_catalogue, csrf_of, keys_used, sign_in
from tests.world import World, build_world

PURPOSE = "illicit-finance"
DATA = Path(__file__).resolve().parents[1] / "data"
TEMPLATES = Path(web.__file__).parent / "templates" / "finance"
FUNNEL = "MX7700"
__all__ = ["sqlite_platform"]  # the SQLite-only fixture of the finance tests


@pytest.fixture
def world(platform: Platform) -> World:
    """The test world with the finance demo: UIF's reports, the funnel alert, and UIF's grant
    to FinCEN for illicit finance."""
    w = build_world(platform, entities_per_dataset=0)
    assert seed(platform, DATA) == []
    return w


def client_for(world: World, username: str, lang: str = "en", purpose: str = PURPOSE,
               case: str = "UIF/2026/42") -> TestClient:
    client = TestClient(create_app(world.platform))
    client.cookies.set("binational_lang", lang)
    sign_in(client, world, username, purpose=purpose, case=case)
    return client


def post(client: TestClient, url: str, **data: str) -> httpx.Response:
    return client.post(url, data={"csrf": csrf_of(client), **data}, follow_redirects=False)


def table(html: str, table_id: str) -> str:
    """The HTML of one table of a page, by id."""
    part = html[html.index(f'id="{table_id}"'):]
    return part[:part.index("</table>")]


def funnel_alert(world: World) -> dict[str, Any]:
    uif = Caller(world.principal("analyst.uif"),
                 QueryContext(Purpose.ILLICIT_FINANCE, "test"))
    return next(a for a in Finance(world.platform).stored_alerts(uif, DATASET)
                if a["account"] == FUNNEL)


def open_case(client: TestClient, alert_id: str, **fields: str) -> str:
    r = client.post(f"/app/finance/alerts/{alert_id}/case",
                    data={"csrf": csrf_of(client), **fields}, follow_redirects=False)
    assert r.status_code == 303, r.text
    found = re.search(r"/app/finance/cases/(fc_[0-9a-f]{16})\?done=open", r.headers["location"])
    assert found
    return found.group(1)


def test_every_message_has_english_and_spanish_and_every_used_key_exists() -> None:
    check_catalogue(web.MESSAGES)
    used = keys_used("finance", [*TEMPLATES.glob("*.html"), Path(web.__file__)])
    used |= {f"finance.rule.{r}" for r in web.RULES}
    used |= {f"finance.close.{r}" for r in CLOSE_REASONS}
    used |= {f"finance.event.{e}" for e in web.EVENTS}
    used |= {f"finance.sort.{s}" for s in web.SORTS}
    used |= {f"finance.status.{s}" for s in ("new", "open", "escalated", "closed")}
    used |= {f"finance.channel.{c}" for c in ("transfer", "cash-deposit", "cash-withdrawal")}
    used |= {f"finance.case.done.{e}" for e in web.EVENTS}
    used |= {f"finance.detail.{d}" for d in web.DETAILS}
    assert len(used) > 100
    assert sorted(used - set(web.MESSAGES)) == []


def test_the_plugin_is_found_through_its_entry_point() -> None:
    from binational.core.plugins import load

    assert ("finance", web.plugin) in list(load("binational.web"))
    assert build_router([web.plugin]).routes


def rows_of(html: str) -> list[tuple[str, str, float, str]]:
    """(alert id, account, score, dataset) of each row of the alerts table."""
    return [(a, acct, float(score), ds) for a, acct, score, ds in re.findall(
        r'<tr data-alert="(al_[0-9a-f]+)"><td><a [^>]+>([^<]+)</a></td>'
        r'<td class="num">([\d.]+)</td><td>[^<]+</td>\s*<td>[^<]*</td><td>([^<]+)</td>', html)]


def test_alerts_list_filters_and_sorts(world: World, tmp_path: Path) -> None:
    """Two datasets of UIF's: the demo's and a synthetic AMLSim sample with many alerts."""
    from binational.core.ingest import ingest
    from binational.finance.generate import synthetic

    platform = world.platform
    synthetic(300, 2_000, patterns=14, seed=3).write_amlsim(tmp_path / "aml")
    platform.catalog.add("uif_aml", "UIF", "AMLSim sample (test)")
    ingest(platform.db, platform.store, "amlsim", tmp_path / "aml", "uif_aml", actor="t")
    uif = Caller(world.principal("analyst.uif"), QueryContext(Purpose.ILLICIT_FINANCE, "t"))
    flagged = [a for a in Finance(platform).alerts(uif, "uif_aml", use_model=False)
               if a.flagged]
    assert len(flagged) > 5
    for lang in ("en", "es"):
        client = client_for(world, "analyst.uif", lang)
        assert 'href="/app/finance/"' in client.get("/app/").text  # the navigation entry
        r = client.get("/app/finance/")
        assert r.status_code == 200, r.text
        assert {"en": "Transaction-monitoring alerts",
                "es": "Alertas de monitoreo"}[lang] in r.text
        rows = rows_of(r.text)
        assert len(rows) == len(flagged) + 1
        assert {d for *_, d in rows} == {DATASET, "uif_aml"}
        scores = [s for _, _, s, _ in rows]
        assert scores == sorted(scores, reverse=True)
        funnel_row = r.text[r.text.index(f'data-alert="{funnel_alert(world)["id"]}"'):]
        funnel_row = funnel_row[:funnel_row.index("</tr>")]
        funnel = {"en": "Funnel account", "es": "Cuenta embudo"}[lang]
        new = {"en": "new", "es": "nueva"}[lang]
        assert funnel in funnel_row and ">UIF<" in funnel_row and new in funnel_row
        # Filters: by dataset, typology, account text and score; sorting by account, dataset.
        demo = rows_of(client.get("/app/finance/", params={"dataset": DATASET}).text)
        assert [acct for _, acct, _, _ in demo] == [FUNNEL]
        aml = rows_of(client.get("/app/finance/", params={"dataset": "uif_aml"}).text)
        assert sorted(aml) == sorted(r for r in rows if r[3] == "uif_aml")
        fan_in = {a.account for a in flagged if any(x["rule"] == "fan-in" for x in a.reasons)}
        assert fan_in and len(fan_in) < len(flagged)
        only = rows_of(client.get("/app/finance/", params={"rule": "fan-in"}).text)
        assert {acct for _, acct, _, _ in only} == fan_in
        text = flagged[0].account[:2]
        by_text = rows_of(client.get("/app/finance/", params={"q": text}).text)
        assert {acct for _, acct, _, _ in by_text} == {acct for _, acct, _, _ in rows
                                                       if text.lower() in acct.lower()}
        cut = sorted(scores)[len(scores) // 2]
        high = rows_of(client.get("/app/finance/", params={"min_score": str(cut)}).text)
        assert len(high) == sum(s >= cut for s in scores) < len(rows)
        by_account = rows_of(client.get("/app/finance/", params={"sort": "account"}).text)
        assert [acct for _, acct, _, _ in by_account] == sorted(acct for _, acct, _, _ in rows)
        by_ds = rows_of(client.get("/app/finance/", params={"sort": "dataset"}).text)
        assert [d for *_, d in by_ds] == sorted(d for *_, d in rows)
        assert 'id="no-alerts"' in client.get("/app/finance/", params={"q": "zzz-none"}).text
        assert 'id="no-alerts"' in client.get("/app/finance/", params={"dataset": "nope"}).text
        # Bad input: a 4xx page with a message, not a stack trace.
        for params in ({"rule": "bogus"}, {"sort": "random"}, {"min_score": "2"},
                       {"q": "x" * 200}):
            bad = client.get("/app/finance/", params=params)
            assert bad.status_code == 400, params
            assert 'id="error-message"' in bad.text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_alert_detail_explains_the_funnel(world: World, lang: str) -> None:
    alert = funnel_alert(world)
    client = client_for(world, "analyst.uif", lang)
    r = client.get(f"/app/finance/alerts/{alert['id']}")
    assert r.status_code == 200, r.text
    reasons = r.text[r.text.index('id="alert-reasons"'):]
    reasons = reasons[:reasons.index("</ul>")]
    funnel = next(x for x in alert["reasons"] if x["rule"] == "funnel")
    text = funnel["text_es"] if lang == "es" else funnel["text"]
    assert text in reasons
    assert ("withdrawn at another" if lang == "en" else "retirado en otro") in reasons
    # The funnel's figures from the transactions: deposits in N places, withdrawn elsewhere.
    with world.platform.db.read() as conn:
        tx = finance_transaction.c
        rows = conn.execute(sa.select(tx.channel, tx.location).where(
            tx.dataset == DATASET, sa.or_(tx.source == FUNNEL, tx.target == FUNNEL))).all()
    deposits = sorted({loc for ch, loc in rows if ch == "cash-deposit"})
    withdrawn = sorted({loc for ch, loc in rows if ch == "cash-withdrawal"} - set(deposits))
    assert len(deposits) >= 3 and withdrawn
    summary = r.text[r.text.index('id="places-summary"'):]
    summary = summary[:summary.index("</p>")]
    assert f"{len(deposits)} " in summary and ", ".join(deposits) in summary
    assert ", ".join(withdrawn) in summary
    # Every transaction of the account is in the table.
    tx_table = table(r.text, "alert-transactions")
    assert tx_table.count("<tr><td>") == len(rows)
    assert f"<strong>{FUNNEL}</strong>" in tx_table
    assert 'id="open-case"' in r.text
    audit = world.platform.audit.records(actor="analyst.uif", limit=20)
    assert any(a["action"] == "finance.alert.read" and a["outcome"] == "ok" for a in audit)
    assert any(a["action"] == "finance.transactions" for a in audit)
    assert client.get("/app/finance/alerts/al_0000000000000000").status_code == 404
    assert client.get("/app/finance/alerts/not-an-id").status_code == 404


def test_case_workflow_through_the_pages(world: World) -> None:
    alert = funnel_alert(world)
    client = client_for(world, "analyst.uif")
    # CSRF: a form without the token (or with another) is refused, and nothing is opened.
    r = client.post(f"/app/finance/alerts/{alert['id']}/case", data={"title": "x"})
    assert r.status_code == 403 and 'id="error-message"' in r.text
    r = client.post(f"/app/finance/alerts/{alert['id']}/case",
                    data={"csrf": "0" * 32, "title": "x"})
    assert r.status_code == 403
    assert Finance(world.platform).cases(Caller(world.principal("analyst.uif"), QueryContext(
        Purpose.ILLICIT_FINANCE, "t"))) == []
    case_id = open_case(client, str(alert["id"]), title="Funnel at the border",
                        narrative="Five branches in one day.")
    page = client.get(f"/app/finance/cases/{case_id}?done=open")
    assert page.status_code == 200
    assert 'id="finance-done"' in page.text and "Case opened." in page.text
    assert "Funnel at the border" in page.text and "Five branches in one day." in page.text
    assert "withdrawn at another" in page.text  # the alert's reasons travel with the case
    # The alert now links to its case, in the list and on its page.
    assert f'href="/app/finance/cases/{case_id}"' in client.get("/app/finance/").text
    assert 'id="alert-case"' in client.get(f"/app/finance/alerts/{alert['id']}").text
    # A second case on the same alert is not offered.
    # Assign: to someone of another agency is refused with the reason.
    r = post(client, f"/app/finance/cases/{case_id}/assign", username="analyst.fincen")
    assert r.status_code == 400 and "not in UIF" in r.text
    r = post(client, f"/app/finance/cases/{case_id}/assign", username="nobody.uif")
    assert r.status_code == 404 and "no user &#39;nobody.uif&#39;" in r.text
    assert 'id="case-facts"' in r.text  # the case page again, with the reason
    r = post(client, f"/app/finance/cases/{case_id}/assign", username="")
    assert r.status_code == 400 and 'id="error-message"' in r.text
    r = post(client, f"/app/finance/cases/{case_id}/assign", username="supervisor.uif")
    assert r.status_code == 303
    r = post(client, f"/app/finance/cases/{case_id}/annotate", note="  ")
    assert r.status_code == 400 and "a note needs some text" in r.text
    r = post(client, f"/app/finance/cases/{case_id}/annotate", note="x" * 20_001)
    assert r.status_code == 400
    r = post(client, f"/app/finance/cases/{case_id}/annotate", note="Cash out in Nogales.")
    assert r.status_code == 303
    r = post(client, f"/app/finance/cases/{case_id}/escalate", note="for the supervisor")
    assert r.status_code == 303
    page = client.get(f"/app/finance/cases/{case_id}").text
    assert '<dd id="case-status">escalated' in page
    assert '<dd id="case-assignee">supervisor.uif</dd>' in page
    assert "Cash out in Nogales." in page[page.index('id="case-narrative"'):]
    history = table(page, "case-history")
    assert [k for k in ("opened", "assigned", "added a note", "escalated")
            if f"<td>{k}</td>" in history] == ["opened", "assigned", "added a note",
                                               "escalated"]
    r = post(client, f"/app/finance/cases/{case_id}/close", reason="bored")
    assert r.status_code == 400 and "unknown close reason" in r.text
    r = post(client, f"/app/finance/cases/{case_id}/close", reason="reported", note="STR")
    assert r.status_code == 303
    page = client.get(f"/app/finance/cases/{case_id}").text
    assert "closed (Closed as: reported to the authorities)" in page
    assert 'id="close-form"' not in page and 'id="annotate-form"' in page
    listed = client.get("/app/finance/cases", params={"status": "closed"}).text
    assert f'data-case="{case_id}"' in listed
    assert f'data-case="{case_id}"' not in client.get(
        "/app/finance/cases", params={"status": "open"}).text
    assert client.get("/app/finance/cases", params={"status": "lost"}).status_code == 400
    assert client.get("/app/finance/cases/fc_0000000000000000").status_code == 404


def test_share_with_fincen_under_the_grant_and_see_the_receipt(world: World) -> None:
    alert = funnel_alert(world)
    uif = client_for(world, "analyst.uif")
    case_id = open_case(uif, str(alert["id"]), narrative="Cash in five branches.")
    page = uif.get(f"/app/finance/cases/{case_id}").text
    grants = [g for g in world.platform.policy.grants(world.principal("analyst.uif"))
              if DATASET in g.datasets]
    assert len(grants) == 1
    assert f'<option value="FINCEN|{grants[0].id}">' in page
    assert 'id="not-shared"' in page
    assert 'id="receipts-privilege"' in page  # an analyst does not read receipts
    # A grant that is not one of the offered ones is refused, and nothing is shared.
    r = post(uif, f"/app/finance/cases/{case_id}/share", share="FINCEN|g_000000000000")
    assert r.status_code == 403 and "no live grant" in r.text
    r = post(uif, f"/app/finance/cases/{case_id}/share", share="garbage")
    assert r.status_code == 400
    assert uif.post(f"/app/finance/cases/{case_id}/share",
                    data={"share": f"FINCEN|{grants[0].id}"}).status_code == 403  # no CSRF
    fincen = client_for(world, "analyst.fincen", case="FIN-2026-9")
    assert 'id="no-shared-cases"' in fincen.get("/app/finance/cases").text
    r = post(uif, f"/app/finance/cases/{case_id}/share", share=f"FINCEN|{grants[0].id}")
    assert r.status_code == 303
    page = uif.get(r.headers["location"]).text
    assert f"Case shared with FINCEN under grant {grants[0].id}." in page
    shares = table(page, "case-shares")
    assert "<td>FINCEN</td>" in shares and grants[0].id in shares

    # FinCEN: the case is in its list, read-only, with the package.
    listed = fincen.get("/app/finance/cases").text
    assert f'href="/app/finance/shared/{case_id}"' in listed
    shared = fincen.get(f"/app/finance/shared/{case_id}")
    assert shared.status_code == 200, shared.text
    assert "Cash in five branches." in shared.text
    assert "<form" not in shared.text[shared.text.index('id="main"'):]  # nothing to change
    assert grants[0].id in shared.text[shared.text.index('id="shared-notice"'):]
    pkg_tx = table(shared.text, "case-transactions")
    assert pkg_tx.count("<tr><td>") == 17
    assert "Bank account" in shared.text[shared.text.index('id="package-entities"'):]
    assert fincen.get(f"/app/finance/cases/{case_id}").status_code == 404  # not FinCEN's
    r = post(fincen, f"/app/finance/cases/{case_id}/annotate", note="ours now?")
    assert r.status_code == 404

    # UIF: a supervisor sees FinCEN's access receipt on the case.
    sup = client_for(world, "supervisor.uif")
    page = sup.get(f"/app/finance/cases/{case_id}").text
    receipts = table(page, "case-receipts")
    assert "analyst.fincen (FINCEN, US)" in receipts
    assert "FIN-2026-9" in receipts and grants[0].id in receipts
    audit = world.platform.audit.records(limit=200)
    assert any(a["action"] == "finance.case.share" and a["actor"] == "analyst.uif"
               for a in audit)
    assert any(a["action"] == "finance.case.package" and a["actor"] == "analyst.fincen"
               for a in audit)
    assert any(a["action"] == "finance.case.receipts" and a["actor"] == "supervisor.uif"
               for a in audit)

    # Revoking the grant closes the case to FinCEN and takes the option away.
    world.platform.policy.revoke_grant(world.principal("agency-admin.uif"), grants[0].id,
                                       "ended")
    assert fincen.get(f"/app/finance/shared/{case_id}").status_code == 404
    assert 'id="no-shared-cases"' in fincen.get("/app/finance/cases").text
    page = uif.get(f"/app/finance/cases/{case_id}").text
    assert 'id="no-share-grant"' in page and "administrator can create one" in page
    admin = client_for(world, "agency-admin.uif")
    assert 'href="/app/grants"' in admin.get(f"/app/finance/cases/{case_id}").text


def test_without_a_grant_or_for_another_purpose_nothing_crosses(world: World) -> None:
    alert = funnel_alert(world)
    uif = client_for(world, "analyst.uif")
    case_id = open_case(uif, str(alert["id"]))
    grant = next(g for g in world.platform.policy.grants(world.principal("analyst.uif"))
                 if DATASET in g.datasets)
    post(uif, f"/app/finance/cases/{case_id}/share", share=f"FINCEN|{grant.id}")
    # CBP has no grant: no alerts, no alert page, no case, no package, no share.
    cbp = client_for(world, "analyst.cbp", case="CBP-1")
    assert 'id="no-alerts"' in cbp.get("/app/finance/").text
    assert cbp.get(f"/app/finance/alerts/{alert['id']}").status_code == 404
    assert cbp.get(f"/app/finance/cases/{case_id}").status_code == 404
    assert cbp.get(f"/app/finance/shared/{case_id}").status_code == 404
    r = post(cbp, f"/app/finance/cases/{case_id}/share", share=f"CBP|{grant.id}")
    assert r.status_code == 404
    assert 'id="no-shared-cases"' in cbp.get("/app/finance/cases").text
    denied = world.platform.audit.records(actor="analyst.cbp", limit=50)
    assert any(a["action"] == "finance.alert.read" and a["outcome"] != "ok" for a in denied)
    # FinCEN under another purpose sees nothing of UIF's, and is told why.
    other = client_for(world, "analyst.fincen", purpose="counter-narcotics", case="CN-1")
    listing = other.get("/app/finance/cases").text
    assert 'id="no-shared-cases"' in listing and 'id="purpose-hint"' in listing
    assert other.get(f"/app/finance/shared/{case_id}").status_code == 404
    assert 'id="no-alerts"' in other.get("/app/finance/").text
    # An auditor has no finance entry in the navigation (auditors read no records).
    auditor = client_for(world, "auditor.mx", purpose="audit", case="AUD-1")
    assert 'href="/app/finance/"' not in auditor.get("/app/").text


def test_spanish_case_page(world: World) -> None:
    alert = funnel_alert(world)
    client = client_for(world, "analyst.uif", "es")
    case_id = open_case(client, str(alert["id"]))
    page = client.get(f"/app/finance/cases/{case_id}?done=open").text
    assert "Caso abierto." in page and '<dd id="case-status">abierto' in page
    assert "Compartir con la UIF del otro país" in page
    assert "retirado en otro" in page
    assert "depósito en efectivo" in table(page, "case-transactions")
    assert '<html lang="es">' in page


def test_alert_page_shows_the_models_top_features(sqlite_platform: Platform, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With a trained model, an alert keeps the features that moved its score most (LightGBM's
    contributions of that account's row, which add up to its log-odds) and its page lists
    them."""
    from binational.core.ingest import ingest
    from binational.finance.generate import synthetic

    platform = sqlite_platform
    world = build_world(platform, entities_per_dataset=0)
    for name, seed_ in (("uif_aml_train", 1), ("uif_aml_test", 2)):
        synthetic(300, 2_000, patterns=14, seed=seed_).write_amlsim(tmp_path / name)
        platform.catalog.add(name, "UIF", name)
        ingest(platform.db, platform.store, "amlsim", tmp_path / name, name, actor="t")
    uif = Caller(world.principal("analyst.uif"), QueryContext(Purpose.ILLICIT_FINANCE, "t"))
    fin = Finance(platform)
    model_id = fin.train(uif, ["uif_aml_train"])["model"]
    fin.alerts(uif, "uif_aml_test")
    alert = next(a for a in fin.stored_alerts(uif, "uif_aml_test")
                 if a["model_id"] == model_id and any(r["rule"] == "model"
                                                      for r in a["reasons"]))
    # Independently: the account's row of features, and LightGBM's contributions for it
    # (with the bias, they add up to the log-odds of the stored model score).
    trained = fin.latest_model("UIF", model_id)
    assert trained is not None
    dg = fin.load("uif_aml_test")
    scored = score_graph(dg.graph, config_for("MX"))
    row = dg.graph.accounts.astype(str).tolist().index(alert["account"])
    contrib = np.asarray(trained.booster.predict(scored.features[row:row + 1],
                                                 pred_contrib=True))[0]
    p = float(alert["model_score"])
    assert float(contrib.sum()) == pytest.approx(math.log(p / (1 - p)), abs=1e-6)
    top = np.argsort(-np.abs(contrib[:-1]), kind="stable")[:5].tolist()
    kept = next(r for r in alert["reasons"] if r["rule"] == "model")["features"]
    assert [f["feature"] for f in kept] == [scored.names[j] for j in top]
    assert [f["contribution"] for f in kept] == pytest.approx([contrib[j] for j in top],
                                                              abs=1e-5)
    client = client_for(world, "analyst.uif")
    r = client.get(f"/app/finance/alerts/{alert['id']}")
    assert r.status_code == 200, r.text
    shown = re.findall(r"<tr><td><code>([^<]+)</code></td>", table(r.text, "model-features"))
    assert shown == [scored.names[j] for j in top]
    assert f"(rules {alert['rule_score']:.2f}; model {p:.2f})" in r.text
    # FinCEN, reading UIF's dataset under a grant, sees the alert with its explanation (it
    # opens no case on it); the read leaves UIF a receipt.
    platform.policy.create_grant(world.principal("agency-admin.uif"), GrantRequest(
        owner_agency="UIF", datasets=["uif_aml_test"], actions=[Action.READ],
        purposes=[Purpose.ILLICIT_FINANCE], legal_basis="test",
        expires_at=utcnow() + timedelta(days=5), recipient_agency="FINCEN"))
    fincen = client_for(world, "analyst.fincen", case="FIN-7")
    r = fincen.get(f"/app/finance/alerts/{alert['id']}")
    assert r.status_code == 200, r.text
    assert 'id="model-features"' in r.text and 'id="not-owner"' in r.text
    assert any(x["reader"] == "analyst.fincen" and x["case_ref"] == "FIN-7"
               for x in platform.audit.receipts("UIF"))
    # Explanations cost CPU: only the best-scored alerts of a run get one.
    from binational.finance import service

    monkeypatch.setattr(service, "MAX_EXPLAINED", 2)
    fin.alerts(uif, "uif_aml_test")
    by_model = [a for a in fin.stored_alerts(uif, "uif_aml_test", limit=10_000)
                if any(r["rule"] == "model" for r in a["reasons"])]
    assert len(by_model) > 2
    explained = [bool(next(r for r in a["reasons"] if r["rule"] == "model")["features"])
                 for a in by_model]  # best score first
    assert explained == [True, True] + [False] * (len(by_model) - 2)


# -- the service parts the pages use: which grants a case may be shared under -----------------

GRANT_SPEC = st.fixed_dictionaries({
    "recipient": st.sampled_from(["FINCEN", "CBP", "country:US", "country:MX"]),
    "purposes": st.sets(st.sampled_from([Purpose.ILLICIT_FINANCE, Purpose.COUNTER_NARCOTICS]),
                        min_size=1),
    "actions": st.sets(st.sampled_from([Action.READ, Action.SEARCH]), min_size=1),
    "covers": st.booleans(),
    "schemata": st.sampled_from([None, ("BankAccount",), ("Person",)]),
    "revoked": st.booleans(),
})


@settings(max_examples=80, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(GRANT_SPEC, min_size=1, max_size=3))
def test_a_case_is_offered_and_shared_only_under_a_fitting_live_grant(
        sqlite_platform: Platform, specs: list[dict[str, Any]]) -> None:
    """Whatever grants UIF has given, FinCEN is offered exactly the live ones that cover the
    case's whole dataset for reading with the purpose illicit-finance, addressed to FinCEN or
    to its country; sharing under any other grant is refused; FinCEN sees the case while the
    grant it was shared under lives. A grant limited to some schemata does not do:
    transactions are rows, not entities of a schema."""
    platform = sqlite_platform
    if "UIF" not in {a.code for a in platform.identity.agencies()}:
        build_world(platform, entities_per_dataset=0)
        seed(platform, DATA)
        platform.catalog.add("uif_other", "UIF", "another dataset")
    admin = platform.identity.principal("agency-admin.uif")
    for g in platform.policy.grants(admin):  # each example starts without a live grant
        if g.status(utcnow()) == "live":
            platform.policy.revoke_grant(admin, g.id, "next example")
    fin = Finance(platform)
    uif = Caller(platform.identity.principal("analyst.uif"),
                 QueryContext(Purpose.ILLICIT_FINANCE, "t"))
    fincen = Caller(platform.identity.principal("analyst.fincen"),
                    QueryContext(Purpose.ILLICIT_FINANCE, "t"))
    case = fin.open_case(uif, DATASET, account=FUNNEL)
    expected: set[str] = set()
    made: list[str] = []
    for spec in specs:
        recipient = spec["recipient"]
        country = recipient.removeprefix("country:") if ":" in recipient else None
        grant = platform.policy.create_grant(admin, GrantRequest(
            owner_agency="UIF", datasets=[DATASET if spec["covers"] else "uif_other"],
            actions=sorted(spec["actions"]), purposes=sorted(spec["purposes"]),
            legal_basis="test", expires_at=utcnow() + timedelta(days=5),
            recipient_agency=None if country else recipient,
            recipient_country=Country(country) if country else None,
            schemata=spec["schemata"]))
        made.append(grant.id)
        if spec["revoked"]:
            platform.policy.revoke_grant(admin, grant.id, "test")
        elif (recipient in ("FINCEN", "country:US") and spec["covers"]
              and Purpose.ILLICIT_FINANCE in spec["purposes"] and Action.READ in spec["actions"]
              and spec["schemata"] is None):
            expected.add(grant.id)
    offered = {g.id for code, g in fin.share_grants(uif, case["id"]) if code == "FINCEN"}
    assert offered == expected
    for gid in made:
        if gid in expected:
            assert fin.share(uif, case["id"], "FINCEN", gid)["grant"] == gid
        else:
            with pytest.raises(Forbidden):
                fin.share(uif, case["id"], "FINCEN", gid)
    assert ({c["id"] for c in fin.shared_with_me(fincen)} == {case["id"]}) == bool(expected)
    for gid in expected:  # revoking every grant it was shared under closes it to FinCEN
        platform.policy.revoke_grant(admin, gid, "ended")
    assert fin.shared_with_me(fincen) == []


def test_api_share_under_a_chosen_grant_and_read_the_case_receipts(world: World) -> None:
    """The same steps over the JSON API: the grants a case may go under, a share under one of
    them, and the case's receipts for whoever may read receipts."""
    client = TestClient(create_app(world.platform))
    ctx = {"X-Purpose": PURPOSE, "X-Case-Reference": "UIF/2026/43"}

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {world.login(user)}", **ctx}

    uif, sup, fincen = auth("analyst.uif"), auth("supervisor.uif"), auth("analyst.fincen")
    alert = funnel_alert(world)
    case = client.post("/finance/cases", json={"dataset": DATASET, "alert": alert["id"]},
                       headers=uif).json()
    options = client.get(f"/finance/cases/{case['id']}/grants", headers=uif).json()
    assert [(o["recipient"], o["status"]) for o in options["results"]] == [("FINCEN", "live")]
    gid = options["results"][0]["id"]
    bad = client.post(f"/finance/cases/{case['id']}/share",
                      json={"recipient": "FINCEN", "grant": "g_not_one_of_them"}, headers=uif)
    assert bad.status_code == 403 and "no live grant" in bad.text
    ok = client.post(f"/finance/cases/{case['id']}/share",
                     json={"recipient": "FINCEN", "grant": gid}, headers=uif)
    assert ok.status_code == 200 and ok.json()["grant"] == gid
    assert client.get(f"/finance/cases/{case['id']}/package", headers=fincen).status_code == 200
    assert client.get(f"/finance/cases/{case['id']}/receipts", headers=uif).status_code == 403
    assert client.get(f"/finance/cases/{case['id']}/grants", headers=fincen).status_code == 404
    receipts = client.get(f"/finance/cases/{case['id']}/receipts", headers=sup).json()
    assert receipts["total"] >= 1
    assert all(r["reader_agency"] == "FINCEN" and r["grant_id"] == gid
               and r["case_ref"] == "UIF/2026/43" for r in receipts["results"])


def test_cli_shares_under_a_named_grant(sqlite_platform: Platform, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``binational finance case share --grant``: the grant named, or a refusal naming why."""
    from typer.testing import CliRunner

    from binational.core.cli.main import app
    from binational.core.settings import get_settings

    platform = sqlite_platform
    world = build_world(platform, entities_per_dataset=0)
    seed(platform, DATA)
    uif = Caller(world.principal("analyst.uif"), QueryContext(Purpose.ILLICIT_FINANCE, "t"))
    case = Finance(platform).open_case(uif, DATASET, alert=funnel_alert(world)["id"])
    grant = next(g for g in platform.policy.grants(world.principal("analyst.uif"))
                 if DATASET in g.datasets)
    url = str(platform.db.engine.url)
    monkeypatch.setenv("BINATIONAL_DATA_DIR", str(platform.settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    base = ["--database-url", url, "finance", "case", "share", case["id"], "--agency", "UIF",
            "--to", "FINCEN"]
    refused = runner.invoke(app, [*base, "--grant", "g_000000000000"])
    assert refused.exit_code != 0 and "no live grant" in refused.stderr
    done = runner.invoke(app, [*base, "--grant", grant.id])
    assert done.exit_code == 0, done.output
    assert f"shared with FINCEN under grant {grant.id}" in done.stdout
    get_settings.cache_clear()
