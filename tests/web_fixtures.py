"""A small world for the web application's tests: the two-country test world plus a synthetic
designation list (a designated person owning a pharmacy), shared with both countries."""

from __future__ import annotations

import re
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi.testclient import TestClient
from followthemoney import model

from binational.core.api.app import create_app
from binational.core.db import Database, migrate
from binational.core.identity import operator, totp_now
from binational.core.platform import Platform
from binational.core.policy import GrantRequest
from binational.core.settings import Settings
from binational.core.vocab import Action, Country, Purpose
from binational.screening import Screener
from tests.world import PASSWORD, World, build_world, in_days

CSRF_RE = re.compile(r'name="csrf" value="([0-9a-f]{32})"')


def check_catalogue(messages: dict[str, tuple[str, str]], translated: float = 0.9) -> None:
    """Every message of a plug-in's catalogue has an English and a Spanish text with the same
    placeholders, and (nearly) all are really translated."""
    fields = string.Formatter()
    for key, (en, es) in messages.items():
        assert en.strip() and es.strip(), key
        assert ({f for _, f, _, _ in fields.parse(en) if f}
                == {f for _, f, _, _ in fields.parse(es) if f}), key
    assert sum(en != es for en, es in messages.values()) > translated * len(messages)


def keys_used(prefix: str, paths: Iterable[Path]) -> set[str]:
    """The message keys under ``prefix`` that templates and code pass to ``t()``, without the
    prefixes that a template completes from a vocabulary (``t("x.level." ~ level)``)."""
    used: set[str] = set()
    pattern = re.compile(rf"""\bt\(\s*["']({re.escape(prefix)}\.[a-z0-9_.-]+)["']""")
    for path in paths:
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    return {k for k in used if not k.endswith(".")}


@contextmanager
def live_server(folder: Path, populate: Callable[[Platform], World]
                ) -> Iterator[tuple[str, World]]:
    """A migrated SQLite platform in ``folder``, populated, served on a free local port (for
    the browser tests); yields the base URL and the world."""
    settings = Settings(data_dir=folder, argon2_time_cost=1, argon2_memory_kib=64,
                        argon2_parallelism=1, checkpoint_minutes=0, log_level="WARNING")
    url = f"sqlite:///{folder / 'web.sqlite'}"
    db = Database(url)
    migrate(db)
    db.dispose()
    platform = Platform.open(settings, url=url, migrate_schema=False)
    world = populate(platform)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    try:
        yield f"http://127.0.0.1:{port}", world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()


def load_designations(platform: Platform) -> dict[str, str]:
    """A synthetic list owned by OFAC: person, sanction, company and an ownership."""
    platform.identity.add_agency("OFAC", "Office of Foreign Assets Control", Country.US)
    platform.catalog.add("ofac_list", "OFAC", "Designations (synthetic test list)")
    person = model.make_entity("Person")
    person.id = "ofac-1"
    person.add("name", "OSEGUERA CERVANTES, Nemesio")
    person.add("weakAlias", "EL MENCHO")
    person.add("birthDate", "1966-07-17")
    person.add("nationality", "mx")
    company = model.make_entity("Company")
    company.id = "ofac-2"
    company.add("name", "FARMACIA VIDA SUPREMA, S.A. DE C.V.")
    company.add("country", "mx")
    sanction = model.make_entity("Sanction")
    sanction.id = "ofac-1-sanction"
    sanction.add("entity", "ofac-1")
    sanction.add("program", "SDNTK")
    sanction.add("authority", "Office of Foreign Assets Control")
    owns = model.make_entity("Ownership")
    owns.id = "ofac-1-owns-2"
    owns.add("owner", "ofac-1")
    owns.add("asset", "ofac-2")
    with platform.db.write() as conn:
        writer = platform.store.writer(conn, "ofac_list")
        ids = {"person": writer.add_entity(person), "company": writer.add_entity(company),
               "sanction": writer.add_entity(sanction), "ownership": writer.add_entity(owns)}
        writer.flush()
    Screener(platform).index_dataset("ofac_list")
    for country in Country:
        platform.policy.create_grant(operator("OFAC", Country.US), GrantRequest(
            owner_agency="OFAC", datasets=["ofac_list"], actions=[Action.READ, Action.SEARCH],
            purposes=[Purpose.SANCTIONS_SCREENING, Purpose.COUNTER_NARCOTICS],
            legal_basis="public list", expires_at=in_days(30), recipient_country=country))
    return ids


def web_world(platform: Platform) -> World:
    world = build_world(platform)
    ids = load_designations(platform)
    world.ids["ofac"] = [ids["person"], ids["company"], ids["sanction"], ids["ownership"]]
    return world


def csrf_of(client: TestClient | httpx.Client, html: str | None = None) -> str:
    if html is not None:
        found = CSRF_RE.search(html)
        if found:
            return found.group(1)
    token = client.cookies.get("binational_csrf")
    if not token:
        client.get("/app/sign-in")
        token = client.cookies.get("binational_csrf")
    assert token
    return str(token)


def sign_in(client: TestClient, world: World, username: str,
            purpose: str | None = "sanctions-screening", case: str = "KYC-2026-7") -> None:
    """Sign in through the pages (and state the purpose unless ``purpose`` is None)."""
    client.get("/app/sign-in")
    csrf = csrf_of(client)
    r = client.post("/app/sign-in", data={
        "csrf": csrf, "username": username, "password": PASSWORD,
        "totp": totp_now(world.totp[username]), "next": "/app/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert csrf_of(client) != csrf  # a new CSRF token with the new session
    if purpose is not None:
        r = client.post("/app/context", data={"csrf": csrf_of(client), "purpose": purpose,
                                              "case": case,
                                              "next": "/app/"}, follow_redirects=False)
        assert r.status_code == 303, r.text
