"""`binational demo`: a seeded demo deployment of both countries on an embedded SQLite file.

Everything here is for trying the platform out: one shared password, TOTP seeds derived from
the usernames and kept in ``demo-users.json``, and a ``demo code`` helper that prints one-time
codes. None of it belongs in a real deployment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import webbrowser
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from binational.core.cli.common import configure_logging, console, fail, say, warn
from binational.core.vocab import TLP, Action, Country, Purpose, Role

if TYPE_CHECKING:
    from binational.core.platform import Platform

DEMO_PASSWORD = "binational-demo-2026"  # noqa: S105 - the demo prints it on purpose
USERS_FILE = "demo-users.json"
# Files the demo creates in its data dir; --reset removes exactly these, nothing else.
DEMO_FILES = (
    "binational.sqlite",
    "binational.sqlite-wal",
    "binational.sqlite-shm",
    "audit-signing.pem",
    "secret.key",
    USERS_FILE,
)

DEMO_AGENCIES: tuple[tuple[str, str, Country], ...] = (
    ("FINCEN", "Financial Crimes Enforcement Network", Country.US),
    ("CBP", "U.S. Customs and Border Protection", Country.US),
    ("DEA", "Drug Enforcement Administration", Country.US),
    ("ATF", "Bureau of Alcohol, Tobacco, Firearms and Explosives", Country.US),
    ("CDC", "Centers for Disease Control and Prevention", Country.US),
    ("UIF", "Unidad de Inteligencia Financiera", Country.MX),
    ("ANAM", "Agencia Nacional de Aduanas de México", Country.MX),
    ("FGR", "Fiscalía General de la República", Country.MX),
    ("CNB", "Comisión Nacional de Búsqueda de Personas", Country.MX),
    ("CONASAMA", "Comisión Nacional de Salud Mental y Adicciones", Country.MX),
)
# Auditors belong to an agency; they see their whole country's trail whichever it is.
AUDITOR_AGENCY = {Country.US: "FINCEN", Country.MX: "UIF"}


@dataclass(frozen=True)
class DemoDataset:
    name: str
    agency: str
    title: str
    description: str
    fmt: str
    file: str
    mapping: str | None = None


DEMO_DATASETS = (
    DemoDataset(
        "uif_designated_companies",
        "UIF",
        "Designated companies with Mexican ties",
        "Companies on OFAC's public SDN list whose entries mention Mexico, as kept by UIF "
        "(public data, for the demo).",
        "ftm",
        "mx_companies.ftm.jsonl",
    ),
    DemoDataset(
        "anam_precursors",
        "ANAM",
        "Controlled precursor chemicals",
        "Chemicals of the UN 1988 Convention Tables I and II with CAS numbers and HS 2022 "
        "codes, as kept by customs (public data, for the demo).",
        "csv",
        "precursors.csv",
        "precursors.yml",
    ),
)


@dataclass(frozen=True)
class DemoGrant:
    owner: str
    recipient: str
    dataset: str
    purpose: Purpose
    legal_basis: str
    days: int = 180


DEMO_GRANTS = (
    DemoGrant(
        "UIF",
        "FINCEN",
        "uif_designated_companies",
        Purpose.ILLICIT_FINANCE,
        "US-Mexico financial intelligence exchange MOU (demo)",
    ),
    DemoGrant(
        "ANAM",
        "CBP",
        "anam_precursors",
        Purpose.PRECURSOR_CONTROL,
        "US-Mexico customs mutual assistance agreement (demo)",
    ),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    agency: str
    role: Role
    display_name: str
    totp_secret: str


@dataclass
class DemoInfo:
    data_dir: Path
    password: str
    users: list[DemoUser]
    tokens: dict[str, str]
    seeded_now: bool
    """False when everything was there already (a re-run)."""
    warnings: list[str] = field(default_factory=list)


def demo_secret(username: str) -> str:
    """A fixed TOTP seed per demo user, so authenticators keep working across --reset."""
    digest = hashlib.sha256(f"binational-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def ensure_agencies(platform: Platform,
                    agencies: Iterable[tuple[str, str, Country]]) -> None:
    """Add the agencies (code, name, country) a demo part needs that are not there yet (the
    demo is seeded again on every start, by the core and by each capability)."""
    known = {a.code for a in platform.identity.agencies()}
    for code, name, country in agencies:
        if code not in known:
            platform.identity.add_agency(code, name, country)
            known.add(code)


def demo_users() -> list[DemoUser]:
    users: list[DemoUser] = []
    for code, name, _country in DEMO_AGENCIES:
        low = code.lower()
        users.append(
            DemoUser(
                f"ana.{low}", code, Role.ANALYST, f"Analyst, {name}", demo_secret(f"ana.{low}")
            )
        )
        users.append(
            DemoUser(
                f"admin.{low}",
                code,
                Role.AGENCY_ADMIN,
                f"Admin, {name}",
                demo_secret(f"admin.{low}"),
            )
        )
    for country, agency in AUDITOR_AGENCY.items():
        username = f"auditor.{country.value.lower()}"
        users.append(
            DemoUser(
                username, agency, Role.AUDITOR, f"Auditor ({country.value})", demo_secret(username)
            )
        )
    return users


def demo_source_dir() -> Path | None:
    """Where data/demo is: the working directory or the source checkout."""
    here = Path(__file__).resolve()
    for candidate in (Path.cwd() / "data" / "demo", here.parents[4] / "data" / "demo"):
        if candidate.is_dir():
            return candidate
    return None


def _load_users_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / USERS_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_users_file(data_dir: Path, data: dict[str, Any]) -> None:
    path = data_dir / USERS_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # It holds demo tokens and TOTP seeds: readable by the owner only, like the key files.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
    tmp.replace(path)


def seed_demo(platform: Platform, data_dir: Path, source_dir: Path | None = None) -> DemoInfo:
    """Create (or complete) the demo: agencies, datasets, users, tokens, data, grants, and a
    signed checkpoint. Idempotent: a second run adds nothing and changes nothing."""
    from binational.core.cli.ingest import run_ingest
    from binational.core.errors import BinationalError
    from binational.core.identity import operator
    from binational.core.policy import GrantRequest

    source_dir = source_dir if source_dir is not None else demo_source_dir()
    identity, catalog = platform.identity, platform.catalog
    warnings: list[str] = []
    changed = False

    identity.ensure_countries()
    existing_agencies = {a.code for a in identity.agencies()}
    for code, name, country in DEMO_AGENCIES:
        if code not in existing_agencies:
            identity.add_agency(code, name, country)
            changed = True

    datasets = catalog.all()
    for ds in DEMO_DATASETS:
        if ds.name not in datasets:
            catalog.add(ds.name, ds.agency, ds.title, ds.description)
            changed = True

    users = demo_users()
    existing_users = {str(u["username"]) for u in identity.users()}
    for u in users:
        if u.username not in existing_users:
            identity.add_user(
                u.username,
                u.agency,
                u.role,
                DEMO_PASSWORD,
                u.display_name,
                totp_secret=u.totp_secret,
            )
            changed = True

    stored = _load_users_file(data_dir)
    tokens: dict[str, str] = dict(stored.get("tokens") or {})
    for u in users:
        if u.role == Role.ANALYST and u.username not in tokens:
            tokens[u.username] = identity.create_api_token(u.username, "demo analyst token")
            changed = True

    counts = platform.store.dataset_counts([ds.name for ds in DEMO_DATASETS])
    for ds in DEMO_DATASETS:
        if counts.get(ds.name):
            continue  # loaded already
        path = source_dir / ds.file if source_dir else None
        mapping = source_dir / ds.mapping if source_dir and ds.mapping else None
        if path is None or not path.exists() or (ds.mapping and not (mapping and mapping.exists())):
            missing = ", ".join(f for f in (ds.file, ds.mapping) if f)
            warnings.append(
                f"demo data for {ds.name} not found ({missing} in data/demo); "
                "the dataset stays empty"
            )
            continue
        options = {"mapping": str(mapping)} if mapping else {}
        try:
            report = run_ingest(platform, ds.fmt, path, ds.name, options=options)
        except BinationalError as exc:
            warnings.append(f"demo data for {ds.name} could not be loaded: {exc.message}")
            continue
        changed = True
        if report.error_count:
            warnings.append(f"{ds.name}: {report.error_count} bad rows in {ds.file} skipped")

    now = datetime.now(UTC)
    for g in DEMO_GRANTS:
        owner = identity.get_agency(g.owner)
        principal = operator(owner.code, owner.country)
        live = [
            x
            for x in platform.policy.grants(principal)
            if x.owner_agency == g.owner
            and x.recipient_agency == g.recipient
            and g.dataset in x.datasets
            and x.status(now) == "live"
        ]
        if live:
            continue
        platform.policy.create_grant(
            principal,
            GrantRequest(
                owner_agency=g.owner,
                datasets=[g.dataset],
                actions=[Action.READ, Action.SEARCH],
                purposes=[g.purpose],
                legal_basis=g.legal_basis,
                expires_at=now + timedelta(days=g.days),
                recipient_agency=g.recipient,
                tlp=TLP.AMBER,
            ),
        )
        changed = True

    from binational.core.plugins import load

    for name, seed in load("binational.demo"):  # capabilities add their part of the demo
        try:
            extra = seed(platform, data_dir)
        except BinationalError as exc:
            warnings.append(f"demo part {name} could not be seeded: {exc.message}")
            continue
        if extra:
            changed = True
            warnings.extend(str(w) for w in extra)

    if changed:
        platform.audit.checkpoint()
    _write_users_file(
        data_dir,
        {
            "note": "DEMO ONLY: shared password, fixed TOTP seeds and tokens kept in clear text",
            "password": DEMO_PASSWORD,
            "users": [
                {
                    "username": u.username,
                    "agency": u.agency,
                    "role": u.role.value,
                    "totp_secret": u.totp_secret,
                }
                for u in users
            ],
            "tokens": tokens,
        },
    )
    return DemoInfo(data_dir, DEMO_PASSWORD, users, tokens, changed, warnings)


def reset_demo(data_dir: Path) -> None:
    for name in DEMO_FILES:
        (data_dir / name).unlink(missing_ok=True)


def default_demo_dir() -> Path:
    from binational.core.settings import get_settings

    return get_settings().data_dir / "demo"


def open_demo_platform(data_dir: Path) -> Platform:
    """Point the settings (and so the API app) at the demo dir and open the platform there."""
    from binational.core.platform import Platform
    from binational.core.settings import get_settings

    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["BINATIONAL_DATA_DIR"] = str(data_dir)
    os.environ["BINATIONAL_DATABASE_URL"] = f"sqlite:///{data_dir / 'binational.sqlite'}"
    os.environ.pop("BINATIONAL_SIGNING_KEY_FILE", None)
    os.environ.pop("BINATIONAL_SECRET_KEY", None)
    get_settings.cache_clear()
    return Platform.open(get_settings())


def print_demo(info: DemoInfo, url: str) -> None:
    users = Table("Username", "Agency", "Role", box=None, pad_edge=False)
    for u in info.users:
        users.add_row(u.username, u.agency, u.role.value)
    tokens = Table("Analyst", "API token", box=None, pad_edge=False)
    for username, token in sorted(info.tokens.items()):
        tokens.add_row(username, token)
    body = Table.grid(padding=(0, 1))
    body.add_row(Text("Web app", style="bold"), Text(f"{url}/app/"))
    body.add_row(Text("URL", style="bold"), Text(url))
    body.add_row(Text("API docs", style="bold"), Text(f"{url}/docs"))
    body.add_row(Text("Password", style="bold"), Text(f"{info.password} (every demo user)"))
    body.add_row(
        Text("One-time code", style="bold"),
        Text(
            "binational demo code USERNAME   (demo-only helper; or scan the seeds "
            f"in {info.data_dir / USERS_FILE} into an authenticator)"
        ),
    )
    body.add_row(Text("Data dir", style="bold"), Text(str(info.data_dir)))
    console.print(
        Panel(body, title="Binational demo", subtitle="not for real data", border_style="green")
    )
    console.print(users)
    console.print(tokens)
    for w in info.warnings:
        warn(w)


demo_app = typer.Typer(
    help="A demo deployment with agencies, users, data and grants of both countries.",
    invoke_without_command=True,
)


@demo_app.callback()
def demo(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a web browser.")
    ] = False,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Delete the demo database and keys first and seed again."),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the demo keeps its files (default: DATA_DIR/demo)."),
    ] = None,
) -> None:
    """Seed a demo deployment (once) and serve it on http://127.0.0.1:PORT.

    The demo has its own SQLite database and keys in its data dir; --database-url is ignored.
    """
    if ctx.invoked_subcommand is not None:
        return
    target = (data_dir or default_demo_dir()).expanduser().resolve()
    if reset:
        reset_demo(target)
        say(f"reset the demo in {target}", "yellow")
    platform = open_demo_platform(target)
    ctx.call_on_close(platform.close)
    with console.status("seeding the demo..."):
        info = seed_demo(platform, target)
    url = f"http://127.0.0.1:{port}"
    print_demo(info, url)
    # Seeding stays quiet; the server logs its requests at the configured level.
    configure_logging(platform.settings.log_level, platform.settings.log_json)
    serve_demo(platform, port, open_browser=not no_browser and not os.environ.get("CI"))


def serve_demo(platform: Platform, port: int, open_browser: bool) -> None:
    import uvicorn

    from binational.core.api.app import create_app

    url = f"http://127.0.0.1:{port}"
    if open_browser:
        # Give uvicorn a moment to bind before the browser asks for the page.
        threading.Timer(1.5, webbrowser.open, args=(f"{url}/app/",)).start()
    uvicorn.run(create_app(platform), host="127.0.0.1", port=port)


@demo_app.command("code")
def code(
    username: Annotated[str, typer.Argument(help="A demo user, e.g. ana.fincen.")],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="The demo's data dir (default: DATA_DIR/demo)."),
    ] = None,
) -> None:
    """DEMO ONLY: print the current one-time sign-in code of a demo user.

    It reads the seeds the demo keeps in demo-users.json; a real deployment has no such file
    and no such command works against it.
    """
    from binational.core.identity import totp_now

    target = (data_dir or default_demo_dir()).expanduser().resolve()
    stored = _load_users_file(target)
    if not stored:
        fail(f"no demo in {target}; run `binational demo` first")
    wanted = username.strip().lower()
    for u in stored.get("users") or []:
        if u.get("username") == wanted:
            typer.echo(totp_now(str(u["totp_secret"])))
            return
    # Capabilities' demo parts add users of their own (e.g. a state forensic service) with the
    # same fixed seeds; they are in the demo's database, not in the file written before them.
    platform = open_demo_platform(target)
    try:
        known = {str(u["username"]) for u in platform.identity.users()}
    finally:
        platform.close()
    if wanted in known:
        typer.echo(totp_now(demo_secret(wanted)))
        return
    fail(f"{username!r} is not a demo user; see {target / USERS_FILE}")
