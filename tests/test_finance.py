"""Finance on the platform: ingest, train, alerts, cases and sharing, on SQLite and PostgreSQL;
and the acceptance interface through the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from binational.core.access import Caller
from binational.core.cli.main import app
from binational.core.errors import Forbidden, InvalidInput, NotFound
from binational.core.ingest import ingest
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.settings import get_settings
from binational.core.vocab import Action, Purpose
from binational.finance import Finance
from binational.finance.generate import synthetic
from binational.finance.tables import finance_account, finance_transaction
from tests.world import World, build_world

FIN = Purpose.ILLICIT_FINANCE


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("amlsim")
    train, test = base / "train", base / "test"
    synthetic(400, 3_000, patterns=18, seed=1).write_amlsim(train)
    synthetic(400, 3_000, patterns=18, seed=2).write_amlsim(test)
    return train, test


def caller(world: World, username: str, purpose: Purpose = FIN) -> Caller:
    return Caller(world.principal(username), QueryContext(purpose, "case-fin-1"))


@pytest.fixture
def world(platform: Platform, samples: tuple[Path, Path]) -> World:
    w = build_world(platform, entities_per_dataset=1)
    platform.catalog.add("uif_aml_train", "UIF", "AMLSim train")
    platform.catalog.add("uif_aml_test", "UIF", "AMLSim test")
    ingest(platform.db, platform.store, "amlsim", samples[0], "uif_aml_train", actor="t")
    ingest(platform.db, platform.store, "amlsim", samples[1], "uif_aml_test", actor="t")
    return w


def test_ingest_writes_accounts_and_transactions(world: World, samples: tuple[Path, Path]
                                                 ) -> None:
    db = world.platform.db
    with db.read() as conn:
        n_tx = conn.execute(sa.select(sa.func.count()).select_from(finance_transaction)
                            .where(finance_transaction.c.dataset == "uif_aml_train")).scalar()
        fraud = conn.execute(sa.select(sa.func.count()).select_from(finance_account).where(
            finance_account.c.dataset == "uif_aml_train", finance_account.c.is_fraud)).scalar()
    lines = (samples[0] / "transactions.csv").read_text().count("\n") - 1
    assert n_tx == lines
    assert fraud == (samples[0] / "nodes.csv").read_text().count(",1,100.00")
    counts = world.platform.store.dataset_counts(["uif_aml_train"])
    assert counts["uif_aml_train"] == 400  # one BankAccount entity per account
    # labels are outcomes, not entity properties
    view = world.platform.store.view(world.platform.policy.plan(
        world.principal("analyst.uif"), Action.READ, FIN).scope)
    entity = view.entities("BankAccount").__next__()
    assert "isFraud" not in json.dumps(entity.to_dict())


def test_train_then_alert_on_unseen_dataset(world: World) -> None:
    fin = Finance(world.platform)
    uif = caller(world, "analyst.uif")
    model = fin.train(uif, ["uif_aml_train"])
    assert model["agency"] == "UIF" and model["positives"] > 0
    found = fin.alerts(uif, "uif_aml_test")
    assert len(found) == 400
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)
    flagged = [a for a in found if a.flagged]
    assert flagged and all(a.reasons for a in flagged)
    stored = fin.stored_alerts(uif, "uif_aml_test")
    assert len(stored) == min(len(flagged), 100)
    # Another agency without a grant sees no such dataset, and it is audited.
    with pytest.raises(NotFound):
        fin.alerts(caller(world, "analyst.fincen"), "uif_aml_test")
    assert fin.stored_alerts(caller(world, "analyst.fincen")) == []
    last = world.platform.audit.records(limit=3)
    assert any(r["action"] == "finance.alerts.list" for r in last)


def grant(world: World, purposes: list[Purpose], datasets: list[str] | None = None) -> str:
    req = GrantRequest(owner_agency="UIF", datasets=datasets or ["uif_aml_test"],
                       actions=[Action.READ, Action.SEARCH], purposes=purposes,
                       legal_basis="MOU FinCEN-UIF (test)",
                       expires_at=datetime.now(UTC) + timedelta(days=30),
                       recipient_agency="FINCEN")
    return world.platform.policy.create_grant(world.principal("agency-admin.uif"), req).id


def test_case_workflow_and_sharing_with_receipts(world: World) -> None:
    fin = Finance(world.platform)
    uif = caller(world, "analyst.uif")
    found = fin.alerts(uif, "uif_aml_test", use_model=False)
    top = next(a for a in found if a.flagged)
    alert = fin.stored_alerts(uif, "uif_aml_test")[0]
    case = fin.open_case(uif, "uif_aml_test", alert=alert["id"], title="Funnel?")
    assert case["accounts"] == [top.account] and case["reasons"]
    case = fin.assign(uif, case["id"], "supervisor.uif")
    case = fin.annotate(uif, case["id"], "Deposits from many senders, sent on the same day.")
    case = fin.escalate(uif, case["id"], "to the supervisor")
    assert case["status"] == "escalated" and case["assignee"] == "supervisor.uif"
    assert [e["kind"] for e in case["events"]] == ["open", "assign", "annotate", "escalate"]
    with pytest.raises(InvalidInput, match="not in UIF"):
        fin.assign(uif, case["id"], "analyst.fincen")

    fincen = caller(world, "analyst.fincen")
    with pytest.raises(Forbidden, match="no live grant"):
        fin.share(uif, case["id"], "FINCEN")
    grant(world, [Purpose.COUNTER_NARCOTICS])  # the wrong purpose does not do
    with pytest.raises(Forbidden):
        fin.share(uif, case["id"], "FINCEN")
    gid = grant(world, [FIN])
    shared = fin.share(uif, case["id"], "FINCEN")
    assert shared["grant"] == gid
    # FinCEN: the case is in its list, and it reads the package (with the right purpose).
    assert [c["id"] for c in fin.shared_with_me(fincen)] == [case["id"]]
    with pytest.raises(NotFound):
        fin.case(fincen, case["id"])  # working the case stays with UIF
    with pytest.raises(NotFound):
        fin.package(caller(world, "analyst.fincen", Purpose.COUNTER_NARCOTICS), case["id"])
    pkg = fin.package(fincen, case["id"])
    assert pkg["owner"] == "UIF" and "many senders" in pkg["narrative"]
    assert [e["schema"] for e in pkg["entities"]] == ["BankAccount"]
    assert pkg["transactions"] and all(top.account in (t["source"], t["target"])
                                       for t in pkg["transactions"])
    # UIF sees the access receipt; the share is in UIF's audit trail.
    receipts = world.platform.audit.receipts("UIF")
    assert any(r["reader_agency"] == "FINCEN" and r["grant_id"] == gid
               and r["case_ref"] == "case-fin-1" for r in receipts)
    actions = [r["action"] for r in world.platform.audit.records(limit=50)]
    assert "finance.case.share" in actions and "finance.case.package" in actions
    # Revoking the grant closes the case to FinCEN at once.
    world.platform.policy.revoke_grant(world.principal("agency-admin.uif"), gid, "ended")
    assert fin.shared_with_me(fincen) == []
    with pytest.raises(NotFound):
        fin.package(fincen, case["id"])
    case = fin.close(uif, case["id"], "reported", "STR filed")
    assert case["status"] == "closed" and case["close_reason"] == "reported"
    with pytest.raises(InvalidInput, match="close reason"):
        fin.close(uif, case["id"], "bored")


# -- the acceptance interface, through the CLI ---------------------------------------------


def test_cli_ingest_train_alerts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 samples: tuple[Path, Path]) -> None:
    monkeypatch.setenv("BINATIONAL_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--database-url", url, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("agency", "add", "FINCEN", "--name", "FinCEN", "--country", "US")
    for name in ("aml_a", "aml_b"):
        run("dataset", "add", name, "--agency", "FINCEN", "--title", name)
    run("ingest", "amlsim", str(samples[0]), "--dataset", "aml_a")
    run("ingest", "amlsim", str(samples[1]), "--dataset", "aml_b")
    trained = json.loads(run("finance", "train", "--dataset", "aml_a", "--json"))
    assert trained["datasets"] == ["aml_a"]
    rows = json.loads(run("finance", "alerts", "--dataset", "aml_b", "--json"))
    assert len(rows) == 400
    assert all(set(r) == {"account", "score", "flagged", "reasons"} for r in rows)
    labels = {line.split(",")[0]: line.split(",")[1] == "1" for line in
              (samples[1] / "nodes.csv").read_text().splitlines()[1:]}
    flagged = {r["account"] for r in rows if r["flagged"]}
    tp = sum(labels[a] for a in flagged)
    assert tp / len(flagged) > 0.7 and tp / sum(labels.values()) > 0.6
    # bad input: the error names the problem, no traceback
    bad = runner.invoke(app, ["--database-url", url, "finance", "alerts", "--dataset", "nope"])
    assert bad.exit_code == 2 and "no dataset 'nope'" in bad.stderr
    get_settings.cache_clear()


def test_cli_reports_bad_rows_with_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setenv("BINATIONAL_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "nodes.csv").write_text("nodeid,isFraud\n1,0\n2,1\n", encoding="utf-8")
    (folder / "transactions.csv").write_text(
        "sourceNodeId,targetNodeId,value,time\n1,2,5,1\n2,2,5,1\n1,2,-3,2\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    for args in (["agency", "add", "UIF", "--name", "UIF", "--country", "MX"],
                 ["dataset", "add", "bad_aml", "--agency", "UIF", "--title", "bad"]):
        assert runner.invoke(app, ["--database-url", url, *args]).exit_code == 0
    result = runner.invoke(app, ["--database-url", url, "ingest", "amlsim", str(folder),
                                 "--dataset", "bad_aml"])
    assert result.exit_code == 0
    assert f"{folder}:3: transactions.csv: self-loop: account 2 pays itself" in result.stderr
    assert f"{folder}:4: transactions.csv: negative amount -3" in result.stderr
    strict = runner.invoke(app, ["--database-url", url, "ingest", "amlsim", str(folder),
                                 "--dataset", "bad_aml", "--strict"])
    assert strict.exit_code == 1
    get_settings.cache_clear()


@pytest.fixture
def sqlite_platform(tmp_path: Path, sqlite_template: Path) -> Iterator[Platform]:
    """SQLite only, for the heavier end-to-end checks (the store itself is tested on both)."""
    from tests.conftest import test_settings

    path = tmp_path / "finance.sqlite"
    shutil.copy(sqlite_template, path)
    plat = Platform.open(test_settings(tmp_path / "data"), url=f"sqlite:///{path}",
                         migrate_schema=False)
    yield plat
    plat.close()


def test_demo_seed_alerts_on_the_funnel_account(sqlite_platform: Platform) -> None:
    from binational.finance.demo import DATASET, seed

    platform = sqlite_platform
    build_world(platform, entities_per_dataset=0)
    data_dir = Path(__file__).resolve().parents[1] / "data"
    assert seed(platform, data_dir) == []
    assert seed(platform, data_dir) == []  # idempotent
    uif = Caller(platform.identity.principal("analyst.uif"), QueryContext(FIN, "demo"))
    fin = Finance(platform)
    alerts = fin.stored_alerts(uif, DATASET)
    assert alerts[0]["account"] == "MX7700"
    assert any(r["rule"] == "funnel" and "withdrawn at another" in r["text"]
               for r in alerts[0]["reasons"])
    case = fin.open_case(uif, DATASET, alert=alerts[0]["id"])
    assert fin.share(uif, case["id"], "FINCEN")["recipient"] == "FINCEN"
    fincen = Caller(platform.identity.principal("analyst.fincen"), QueryContext(FIN, "x"))
    assert fin.package(fincen, case["id"])["owner"] == "UIF"
    grants = platform.policy.grants(platform.identity.principal("agency-admin.uif"))
    assert sum(DATASET in g.datasets for g in grants) == 1


def test_api_alert_case_share_and_receipt(sqlite_platform: Platform) -> None:
    """The demo flow over HTTP: UIF sees the funnel alert, opens a case and shares it;
    FinCEN reads the package; UIF sees FinCEN's access receipt."""
    from fastapi.testclient import TestClient

    from binational.core.api.app import create_app
    from binational.finance.demo import DATASET, seed

    world = build_world(sqlite_platform, entities_per_dataset=0)
    seed(sqlite_platform, Path(__file__).resolve().parents[1] / "data")
    client = TestClient(create_app(sqlite_platform))
    ctx = {"X-Purpose": "illicit-finance", "X-Case-Reference": "UIF/2026/42"}

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {world.login(user)}", **ctx}

    uif, fincen = auth("supervisor.uif"), auth("analyst.fincen")
    alerts = client.get("/finance/alerts", params={"dataset": DATASET}, headers=uif).json()
    top = alerts["results"][0]
    assert top["account"] == "MX7700"
    assert any("withdrawn at another" in r["text"] for r in top["reasons"])
    assert all(r["text_es"] for r in top["reasons"])
    case = client.post("/finance/cases", json={"dataset": DATASET, "alert": top["id"]},
                       headers=uif).json()
    assert case["status"] == "open" and case["status_es"] == "abierto"
    assert client.get(f"/finance/cases/{case['id']}", headers=fincen).status_code == 404
    res = client.post(f"/finance/cases/{case['id']}/share", json={"recipient": "FINCEN"},
                      headers=uif)
    assert res.status_code == 200, res.text
    shared = client.get("/finance/cases/shared", headers=fincen).json()["results"]
    assert [c["id"] for c in shared] == [case["id"]]
    pkg = client.get(f"/finance/cases/{case['id']}/package", headers=fincen).json()
    assert pkg["owner"] == "UIF" and len(pkg["transactions"]) == 17
    rows = client.get("/receipts", headers=uif).json()["receipts"]
    assert any(r["reader_agency"] == "FINCEN" and r["case_ref"] == "UIF/2026/42" for r in rows)


def test_counterparties_on_designation_lists(sqlite_platform: Platform, tmp_path: Path) -> None:
    """An account paying a company on a designation list is flagged, through screening."""
    from followthemoney import model

    from binational.screening import Screener

    platform = sqlite_platform
    build_world(platform, entities_per_dataset=0)
    platform.catalog.add("uif_list", "UIF", "designations")
    listed = model.make_entity("Company")
    listed.id = "listed-1"
    listed.add("name", "Transportes Ejemplo del Norte SA de CV")
    listed.add("country", "mx")
    (tmp_path / "list.jsonl").write_text(json.dumps(listed.to_dict()) + "\n", encoding="utf-8")
    ingest(platform.db, platform.store, "ftm", tmp_path / "list.jsonl", "uif_list", actor="t")
    Screener(platform).index_dataset("uif_list")
    (tmp_path / "tx.csv").write_text(
        "txn_id,source,target,amount,currency,timestamp,source_holder,target_holder\n"
        "t1,A1,B1,900,USD,2026-01-05,Ana Demo,Transportes Ejemplo del Norte SA de CV\n"
        "t2,C1,A1,50,USD,2026-01-06,Otra Demo,Ana Demo\n", encoding="utf-8")
    platform.catalog.add("uif_tx", "UIF", "reports")
    ingest(platform.db, platform.store, "transactions", tmp_path / "tx.csv", "uif_tx",
           actor="t")
    uif = Caller(platform.identity.principal("analyst.uif"), QueryContext(FIN, "c"))
    found = {a.account: a for a in Finance(platform).alerts(uif, "uif_tx", use_model=False)}
    why = [r["text"] for r in found["A1"].reasons if r["rule"] == "designated"]
    assert why and "account B1" in why[0] and "Transportes Ejemplo" in why[0]
    assert found["A1"].flagged and found["B1"].flagged
    assert not any(r["rule"] == "designated" for r in found["C1"].reasons)


def test_transaction_feeds_add_up_and_amlsim_replaces(sqlite_platform: Platform,
                                                      tmp_path: Path) -> None:
    platform = sqlite_platform
    build_world(platform, entities_per_dataset=0)
    platform.catalog.add("uif_feed", "UIF", "feed")
    head = "txn_id,source,target,amount,timestamp\n"
    (tmp_path / "jan.csv").write_text(head + "t1,A1,B1,5,2026-01-05\n", encoding="utf-8")
    (tmp_path / "feb.csv").write_text(head + "t1,A1,B1,9,2026-02-05\nt2,B1,A1,3,2026-02-06\n",
                                      encoding="utf-8")
    for name in ("jan.csv", "feb.csv"):
        ingest(platform.db, platform.store, "transactions", tmp_path / name, "uif_feed",
               actor="t")
    tx = finance_transaction
    with platform.db.read() as conn:
        rows = conn.execute(sa.select(tx.c.txn_id, tx.c.amount).where(
            tx.c.dataset == "uif_feed").order_by(tx.c.txn_id)).all()
    assert [tuple(r) for r in rows] == [("t1", 5.0), ("t2", 3.0)]  # t1 kept as first stored
