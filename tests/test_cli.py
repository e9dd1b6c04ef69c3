"""The operators' CLI, run in-process with typer's CliRunner on a temporary SQLite database."""

from __future__ import annotations

import json
import shutil
import sys
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from binational.core.cli import demo as demo_cli
from binational.core.cli.demo import DEMO_PASSWORD, USERS_FILE, demo_secret, seed_demo
from binational.core.cli.main import app
from binational.core.errors import NotAuthenticated
from binational.core.identity import totp_now
from binational.core.platform import Platform
from binational.core.settings import Settings, get_settings

PASSWORD = "a long enough password"

Run = Callable[..., Result]


def isolate(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Every setting read from the environment points inside data_dir."""
    monkeypatch.setenv("BINATIONAL_DATA_DIR", str(data_dir))
    for name in ("DATABASE_URL", "SIGNING_KEY_FILE", "SECRET_KEY"):
        # setenv first so that teardown restores the original even if the demo rewrites it.
        monkeypatch.setenv(f"BINATIONAL_{name}", "")
        monkeypatch.delenv(f"BINATIONAL_{name}")
    monkeypatch.delenv("CI", raising=False)
    # Cheap argon2: the demo alone creates 22 users. Hashes carry their own parameters.
    monkeypatch.setenv("BINATIONAL_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BINATIONAL_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("BINATIONAL_ARGON2_PARALLELISM", "1")
    get_settings.cache_clear()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    isolate(monkeypatch, data_dir)
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite"


def invoker(db_path: Path) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--database-url", f"sqlite:///{db_path}", *args], input=input)

    return invoke


@pytest.fixture
def run(env: Path, db_path: Path) -> Run:
    """The CLI on an empty database."""
    return invoker(db_path)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two agencies and a dataset, set up once through the CLI and copied for each test."""
    base = tmp_path_factory.mktemp("cli-world")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "data")
        setup_world(invoker(base / "cli.sqlite"))
    get_settings.cache_clear()
    return base


@pytest.fixture
def world(env: Path, db_path: Path, world_template: Path) -> Run:
    """The CLI on a copy of the template world (database and key files)."""
    shutil.copytree(world_template / "data", env)
    shutil.copy(world_template / "cli.sqlite", db_path)
    return invoker(db_path)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def platform_for(db_path: Path) -> Platform:
    return Platform.open(url=f"sqlite:///{db_path}")


def setup_world(run: Run) -> None:
    ok(run("init"))
    ok(
        run(
            "agency", "add", "UIF", "--name", "Unidad de Inteligencia Financiera", "--country", "MX"
        )
    )
    ok(
        run(
            "agency",
            "add",
            "fincen",
            "--name",
            "Financial Crimes Enforcement Network",
            "--country",
            "us",
        )
    )
    ok(run("dataset", "add", "uif_companies", "--agency", "UIF", "--title", "UIF companies"))


def test_help_of_every_command(run: Run) -> None:
    commands = [
        [],
        ["init"],
        ["agency", "add"],
        ["dataset", "list"],
        ["user", "add"],
        ["token", "create"],
        ["grant", "add"],
        ["grant", "revoke"],
        ["ingest"],
        ["serve"],
        ["audit", "verify"],
        ["audit", "log"],
        ["demo"],
        ["demo", "code"],
        ["bench", "core"],
    ]
    for command in commands:
        result = ok(run(*command, "--help"))
        assert "Usage" in result.output


def test_init_creates_database_and_signing_key(run: Run, env: Path, db_path: Path) -> None:
    result = ok(run("init"))
    assert str(db_path) in result.output
    assert str(env / "audit-signing.pem") in result.output
    assert db_path.exists()
    assert (env / "audit-signing.pem").exists()
    ok(run("init"))  # idempotent


def test_agencies_datasets_users_and_tokens(run: Run, db_path: Path) -> None:
    setup_world(run)  # through the CLI, on an empty database
    listing = ok(run("agency", "list")).output
    assert "FINCEN" in listing
    assert "Unidad de Inteligencia Financiera" in listing

    datasets = ok(run("dataset", "list")).output
    assert "uif_companies" in datasets
    assert "UIF" in datasets

    added = ok(
        run(
            "user",
            "add",
            "ana.fincen",
            "--agency",
            "FINCEN",
            "--role",
            "analyst",
            "--display-name",
            "Ana",
            "--password-stdin",
            input=PASSWORD + "\n",
        )
    )
    assert "otpauth://totp/Binational:ana.fincen" in added.output
    assert "TOTP secret:" in added.output
    secret = added.output.split("TOTP secret:")[1].split()[0]

    # Without --password-stdin the password is asked twice, hidden.
    prompted = ok(
        run(
            "user",
            "add",
            "admin.uif",
            "--agency",
            "uif",
            "--role",
            "agency-admin",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
    )
    assert "added agency-admin admin.uif of UIF" in prompted.output
    assert PASSWORD not in prompted.output

    machine = ok(run("user", "add", "sync.uif", "--agency", "UIF", "--role", "sync"))
    assert "otpauth" not in machine.output

    users = ok(run("user", "list")).output
    assert "ana.fincen" in users
    assert "sync.uif" in users
    only_uif = ok(run("user", "list", "--agency", "UIF")).output
    assert "ana.fincen" not in only_uif

    token_out = ok(run("token", "create", "sync.uif", "--label", "nightly sync", "--days", "30"))
    token = next(w for w in token_out.output.split() if w.startswith("bnt_"))

    platform = platform_for(db_path)
    try:
        assert platform.identity.authenticate(token).username == "sync.uif"
        principal, _ = platform.identity.login("ana.fincen", PASSWORD, totp_now(secret))
        assert principal.agency == "FINCEN"
        ok(run("user", "unlock", "ana.fincen"))
        ok(run("user", "deactivate", "sync.uif"))
        with pytest.raises(NotAuthenticated, match=r"revoked|inactive"):
            platform.identity.authenticate(token)
        actions = [r["action"] for r in platform.audit.records(actor="operator", limit=100)]
    finally:
        platform.close()
    for action in (
        "agency.create",
        "dataset.create",
        "user.create",
        "token.create",
        "user.unlock",
        "user.deactivate",
    ):
        assert action in actions
    # The token itself never reaches the audit log.
    assert token not in json.dumps(actions)


def test_grant_add_list_and_revoke(world: Run, db_path: Path) -> None:
    run = world
    added = ok(
        run(
            "grant",
            "add",
            "--owner",
            "UIF",
            "--to-agency",
            "FINCEN",
            "--dataset",
            "uif_companies",
            "--action",
            "read",
            "--action",
            "search",
            "--purpose",
            "illicit-finance",
            "--legal-basis",
            "MOU 2026",
            "--days",
            "180",
            "--tlp",
            "amber",
        )
    )
    grant_id = next(w.rstrip(":") for w in added.output.split() if w.startswith("g_"))

    listed = json.loads(ok(run("grant", "list", "--agency", "FINCEN", "--json")).stdout)
    assert [g["id"] for g in listed] == [grant_id]
    assert listed[0]["actions"] == ["read", "search"]
    assert listed[0]["status"] == "live"
    assert grant_id in ok(run("grant", "list", "--agency", "UIF")).output

    in_100_days = (datetime.now(UTC) + timedelta(days=100)).date().isoformat()
    by_date = ok(
        run(
            "grant",
            "add",
            "--owner",
            "UIF",
            "--to-country",
            "US",
            "--dataset",
            "uif_companies",
            "--action",
            "read,search",
            "--purpose",
            "sanctions-screening",
            "--legal-basis",
            "Treaty",
            "--expires",
            in_100_days,
            "--schema",
            "Company",
        )
    )
    assert f"expires {in_100_days} 23:59 UTC" in by_date.output
    # Beyond the policy's maximum duration: the policy's own message, exit 2.
    too_long = run(
        "grant",
        "add",
        "--owner",
        "UIF",
        "--to-country",
        "US",
        "--dataset",
        "uif_companies",
        "--action",
        "read",
        "--purpose",
        "cyber",
        "--legal-basis",
        "x",
        "--expires",
        "2999-01-01",
    )
    assert too_long.exit_code == 2
    assert "at most" in too_long.stderr

    ok(run("grant", "revoke", grant_id, "--agency", "UIF", "--reason", "case closed"))
    after = json.loads(ok(run("grant", "list", "--agency", "FINCEN", "--json")).stdout)
    assert {g["id"]: g["status"] for g in after}[grant_id] == "revoked"
    again = run("grant", "revoke", grant_id, "--agency", "UIF", "--reason", "twice")
    assert again.exit_code == 2
    assert "revoked already" in again.stderr

    platform = platform_for(db_path)
    try:
        actions = {r["action"] for r in platform.audit.records(limit=100)}
    finally:
        platform.close()
    assert {"grant.create", "grant.revoke"} <= actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agency", "add", "XX", "--name", "X", "--country", "CA"], "unknown country 'CA'"),
        (
            ["user", "add", "bob.x", "--agency", "UIF", "--role", "king", "--password-stdin"],
            "unknown role 'king'",
        ),
        (
            ["user", "add", "bob.x", "--agency", "NOPE", "--role", "analyst", "--password-stdin"],
            "no agency 'NOPE'",
        ),
        (
            [
                "grant",
                "add",
                "--owner",
                "UIF",
                "--to-agency",
                "FINCEN",
                "--dataset",
                "uif_companies",
                "--action",
                "read",
                "--purpose",
                "curiosity",
                "--legal-basis",
                "x",
                "--days",
                "5",
            ],
            "unknown purpose 'curiosity'",
        ),
        (
            [
                "grant",
                "add",
                "--owner",
                "UIF",
                "--to-agency",
                "FINCEN",
                "--dataset",
                "missing",
                "--action",
                "read",
                "--purpose",
                "cyber",
                "--legal-basis",
                "x",
                "--days",
                "5",
            ],
            "no dataset 'missing'",
        ),
        (
            [
                "grant",
                "add",
                "--owner",
                "UIF",
                "--to-agency",
                "FINCEN",
                "--dataset",
                "uif_companies",
                "--action",
                "read",
                "--purpose",
                "cyber",
                "--legal-basis",
                "x",
            ],
            "either as --expires",
        ),
        (
            [
                "grant",
                "add",
                "--owner",
                "UIF",
                "--to-agency",
                "FINCEN",
                "--dataset",
                "uif_companies",
                "--action",
                "read",
                "--purpose",
                "cyber",
                "--legal-basis",
                "x",
                "--expires",
                "next week",
            ],
            "is not a date",
        ),
        (["dataset", "add", "x_data", "--agency", "NOPE", "--title", "X"], "no agency 'NOPE'"),
        (
            ["ingest", "ftm", "/nonexistent/file.jsonl", "--dataset", "uif_companies"],
            "no such file",
        ),
        (
            ["ingest", "ftm", "/nonexistent/file.jsonl", "--dataset", "missing"],
            "dataset 'missing' does not exist",
        ),
        (
            ["grant", "revoke", "g_nothing", "--agency", "UIF", "--reason", "x"],
            "no grant 'g_nothing'",
        ),
        (["user", "unlock", "nobody"], "no user 'nobody'"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(world: Run, args: list[str], message: str) -> None:
    result = world(*args, input=PASSWORD + "\n")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_bad_database_url_is_an_error_not_a_traceback(env: Path) -> None:
    result = CliRunner().invoke(app, ["--database-url", "mysql://x/y", "agency", "list"])
    assert result.exit_code == 2
    assert "error: unsupported database 'mysql'" in result.stderr


def test_audit_verify_checkpoint_log_and_tamper(world: Run, db_path: Path) -> None:
    run = world
    # A refused grant is audited with outcome "invalid": the record the test will rewrite.
    refused = run(
        "grant",
        "add",
        "--owner",
        "UIF",
        "--to-agency",
        "UIF",
        "--dataset",
        "uif_companies",
        "--action",
        "read",
        "--purpose",
        "cyber",
        "--legal-basis",
        "x",
        "--days",
        "5",
    )
    assert refused.exit_code == 2

    intact = ok(run("audit", "verify"))
    assert "audit log intact:" in intact.output
    assert "0 checkpoints verified" in intact.output

    cp = ok(run("audit", "checkpoint")).output
    assert "tree size:" in cp
    assert "signature:" in cp
    assert "1 checkpoints verified" in ok(run("audit", "verify")).output

    records = json.loads(ok(run("audit", "log", "--limit", "100", "--json")).stdout)
    assert any(r["action"] == "grant.create" and r["outcome"] == "invalid" for r in records)
    assert "grant.create" in ok(run("audit", "log", "--agency", "uif")).output
    assert json.loads(ok(run("audit", "log", "--actor", "nobody", "--json")).stdout) == []

    platform = platform_for(db_path)
    try:
        reads = platform.audit.records(action="audit.read", limit=100)
        assert {r["detail"]["command"] for r in reads} == {"verify", "log"}
        bad = platform.audit.records(action="grant.create", limit=1)[0]
        assert bad["outcome"] == "invalid"
        with platform.db.write() as conn:
            conn.execute(
                sa.text("UPDATE audit_record SET outcome='ok' WHERE seq = :seq"),
                {"seq": bad["seq"]},
            )
    finally:
        platform.close()

    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert f"record {bad['seq']} was altered" in broken.stderr
    assert f"first bad record: {bad['seq']}" in broken.stderr
    assert "Traceback" not in broken.output


FTM_LINES = [
    {
        "id": "mx-co-1",
        "schema": "Company",
        "properties": {"name": ["Comercializadora Ficticia SA de CV"], "country": ["mx"]},
    },
    {"id": "mx-co-2", "schema": "Company", "properties": {"name": ["Servicios Inventados SA"]}},
]


def write_ftm(path: Path, bad_line: bool = False) -> Path:
    lines = [json.dumps(e) for e in FTM_LINES]
    if bad_line:
        lines.insert(1, "this is not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_summary_row_errors_strict_and_audit(
    world: Run, tmp_path: Path, db_path: Path
) -> None:
    run = world
    src = write_ftm(tmp_path / "companies.ftm.jsonl", bad_line=True)

    strict = run("ingest", "ftm", str(src), "--dataset", "uif_companies", "--strict")
    assert strict.exit_code == 1
    assert "aborted" in strict.stderr
    assert f"{src}:2:" in strict.stderr

    landed = ok(run("ingest", "ftm", str(src), "--dataset", "uif_companies"))
    assert "entities:             2" in landed.stdout
    assert "row errors:           1" in landed.stdout
    assert f"{src}:2: invalid JSON" in landed.stderr
    assert "1 bad rows were skipped" in landed.stderr

    again = ok(run("ingest", "ftm", str(src), "--dataset", "uif_companies", "--max-errors", "5"))
    assert "new statements:       0" in again.stdout

    too_many = run("ingest", "ftm", str(src), "--dataset", "uif_companies", "--max-errors", "0")
    assert too_many.exit_code == 1

    listing = ok(run("dataset", "list")).output
    row = next(line for line in listing.splitlines() if "uif_companies" in line)
    assert " 2 " in row  # entities

    platform = platform_for(db_path)
    try:
        events = platform.audit.records(action="dataset.ingest", limit=10)
    finally:
        platform.close()
    assert [e["outcome"] for e in events] == ["invalid", "ok", "ok", "invalid"]
    landed_event = events[2]
    assert landed_event["actor"] == "operator"
    assert (landed_event["agency"], landed_event["country"]) == ("UIF", "MX")
    assert landed_event["detail"]["entities"] == 2
    assert landed_event["detail"]["errors"] == 1
    assert events[0]["detail"]["status"] == "aborted"


# -- demo ---------------------------------------------------------------------------------------

CSV = "shipment,importer,chemical\nS1,Quimica Ficticia SA,ephedrine\nS2,Quimica Ficticia SA,P2P\n"
MAPPING = """\
anam_precursors:
  queries:
    - csv_url: precursors.csv
      entities:
        importer:
          schema: Company
          keys: [importer]
          properties:
            name: {column: importer}
"""


def demo_sources(tmp_path: Path) -> Path:
    src = tmp_path / "demo-src"
    src.mkdir()
    write_ftm(src / "mx_companies.ftm.jsonl")
    (src / "precursors.csv").write_text(CSV, encoding="utf-8")
    (src / "precursors.yml").write_text(MAPPING, encoding="utf-8")
    return src


def demo_platform(data_dir: Path) -> Platform:
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'demo.sqlite'}")
    return Platform.open(settings)


def test_seed_demo_and_reseed_is_idempotent(env: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    platform = demo_platform(data_dir)
    try:
        sources = demo_sources(tmp_path)
        info = seed_demo(platform, data_dir, sources)
        assert info.seeded_now
        assert info.warnings == []
        agencies = {a.code: a.country.value for a in platform.identity.agencies()}
        assert {"FINCEN", "CBP", "DEA", "ATF", "CDC"} <= {
            c for c, k in agencies.items() if k == "US"
        }
        assert {"UIF", "ANAM", "FGR", "CNB", "CONASAMA"} <= {
            c for c, k in agencies.items() if k == "MX"
        }
        usernames = {str(u["username"]) for u in platform.identity.users()}
        assert {"ana.fincen", "admin.uif", "auditor.us", "auditor.mx"} <= usernames
        assert platform.store.dataset_counts(["uif_designated_companies", "anam_precursors"]) == {
            "uif_designated_companies": 2,
            "anam_precursors": 1,
        }

        # Sign in as a demo user with the shared password and the stored seed.
        stored = json.loads((data_dir / USERS_FILE).read_text())
        seed = next(u["totp_secret"] for u in stored["users"] if u["username"] == "ana.fincen")
        assert seed == demo_secret("ana.fincen")
        fincen, _ = platform.identity.login("ana.fincen", DEMO_PASSWORD, totp_now(seed))
        assert platform.identity.authenticate(info.tokens["ana.fincen"]).username == "ana.fincen"

        # The grant UIF -> FINCEN is live for illicit finance, and only for it.
        # (Capabilities' demo parts add grants of their own datasets: finance's uif_transactions.)
        grants = [g for g in platform.policy.grants(fincen) if g.recipient_agency == "FINCEN"
                  and "uif_designated_companies" in g.datasets]
        assert [(g.owner_agency, g.datasets, g.tlp.value) for g in grants] == [
            ("UIF", ("uif_designated_companies",), "AMBER")
        ]
        assert {p.value for p in grants[0].purposes} == {"illicit-finance"}
        assert platform.audit.checkpoints()
        assert platform.audit.verify().ok
        records, n_grants = platform.audit.count(), len(platform.policy.grants(fincen))

        again = seed_demo(platform, data_dir, sources)
        assert not again.seeded_now
        assert again.tokens == info.tokens
        assert len(platform.policy.grants(fincen)) == n_grants
        # Nothing was missing, so re-seeding recorded nothing.
        assert platform.audit.count() == records
    finally:
        platform.close()


def test_seed_demo_without_data_files_warns(env: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    empty = tmp_path / "empty"
    empty.mkdir()
    platform = demo_platform(data_dir)
    try:
        info = seed_demo(platform, data_dir, empty)
    finally:
        platform.close()
    assert len(info.warnings) == 2
    assert "mx_companies.ftm.jsonl" in info.warnings[0]


def test_demo_command_seeds_prints_and_serves(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[int, bool]] = []
    monkeypatch.setattr(
        demo_cli,
        "serve_demo",
        lambda platform, port, open_browser: served.append((port, open_browser)),
    )
    sources = demo_sources(tmp_path)
    monkeypatch.setattr(demo_cli, "demo_source_dir", lambda: sources)
    data_dir = tmp_path / "demo-dir"
    runner = CliRunner()
    result = runner.invoke(
        app, ["demo", "--data-dir", str(data_dir), "--port", "8765", "--no-browser"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "http://127.0.0.1:8765" in result.stdout
    assert DEMO_PASSWORD in result.stdout
    assert "auditor.mx" in result.stdout
    assert "bnt_" in result.stdout
    assert served == [(8765, False)]
    assert (data_dir / "binational.sqlite").exists()

    code = runner.invoke(app, ["demo", "code", "ana.fincen", "--data-dir", str(data_dir)])
    assert code.exit_code == 0
    assert code.stdout.strip() == totp_now(demo_secret("ana.fincen"))
    # A user a capability's demo part added (same fixed seeds) is in the database only.
    from binational.core.cli.demo import open_demo_platform
    from binational.core.vocab import Role

    extra = open_demo_platform(data_dir)
    try:
        extra.identity.add_user("ana.extra", "FINCEN", Role.ANALYST, DEMO_PASSWORD,
                                "Extra analyst", totp_secret=demo_secret("ana.extra"))
    finally:
        extra.close()
    added = runner.invoke(app, ["demo", "code", "ana.extra", "--data-dir", str(data_dir)])
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == totp_now(demo_secret("ana.extra"))
    unknown = runner.invoke(app, ["demo", "code", "mallory", "--data-dir", str(data_dir)])
    assert unknown.exit_code == 2
    assert "not a demo user" in unknown.stderr

    reset = runner.invoke(app, ["demo", "--data-dir", str(data_dir), "--reset", "--no-browser"])
    assert reset.exit_code == 0, (reset.output, reset.exception)
    assert "reset the demo" in reset.stdout
    assert served[-1] == (8000, False)


# -- bench --------------------------------------------------------------------------------------


def test_bench_core_without_module_is_a_clear_error(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "binational.core.bench", None)
    result = run("bench", "core")
    assert result.exit_code == 2
    assert "error: the core benchmark" in result.stderr


def test_bench_core_calls_run_core(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, object]] = []
    module = types.ModuleType("binational.core.bench")

    def run_core(
        *, postgres_url: str | None = "pg", quick: bool = False, out: Path | None = None
    ) -> None:
        calls.append({"postgres_url": postgres_url, "quick": quick, "out": out})

    module.run_core = run_core  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "binational.core.bench", module)
    out = tmp_path / "bench.json"
    # --statements is not declared by this run_core: it is not passed.
    ok(run("bench", "core", "--quick", "--sqlite-only", "--statements", "10", "--out", str(out)))
    assert calls == [{"postgres_url": None, "quick": True, "out": out}]
