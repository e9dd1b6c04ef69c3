"""``binational bench web``: how long the pages take to build, next to the JSON API that
answers the same question (the peer: what the page costs over the data it shows).

Runs in-process (Starlette's test client, no network) on a fresh temporary SQLite platform with
a synthetic designation list: every measured request goes through the whole stack (sign-in
cookie, policy plan, store, audit append with receipts, template rendering).
"""

from __future__ import annotations

import csv
import io
import json
import platform as machine
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from followthemoney import model
from rich.console import Console
from rich.table import Table

GIVEN = ["José", "María", "Juan", "Ana", "Luis", "Carmen", "Jorge", "Rosa", "Miguel", "Elena",
         "Joaquín", "Guadalupe", "Rafael", "Beatriz", "Ismael", "Dolores"]
SURNAMES = ["García", "Hernández", "Martínez", "López", "González", "Pérez", "Rodríguez",
            "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Zambada", "Guzmán", "Caro",
            "Quintero", "Carrillo", "Fuentes", "Arellano", "Félix", "Beltrán", "Leyva"]
PASSWORD = "bench-password-2026"  # noqa: S105 - a throw-away benchmark account


def _names(rng: random.Random, count: int) -> list[str]:
    return [f"{rng.choice(SURNAMES).upper()} {rng.choice(SURNAMES).upper()}, "
            f"{rng.choice(GIVEN)}" for _ in range(count)]


def _world(folder: Path, entities: int) -> tuple[Any, dict[str, str], list[str]]:
    from binational.core.identity import operator
    from binational.core.platform import Platform
    from binational.core.policy import GrantRequest
    from binational.core.settings import Settings
    from binational.core.vocab import TLP, Action, Country, Purpose, Role
    from binational.screening import Screener

    settings = Settings(data_dir=folder, checkpoint_minutes=0, log_level="WARNING",
                        argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1)
    plat = Platform.open(settings, url=f"sqlite:///{folder / 'bench.sqlite'}")
    identity = plat.identity
    identity.add_agency("OFAC", "Office of Foreign Assets Control", Country.US)
    identity.add_agency("CBP", "U.S. Customs and Border Protection", Country.US)
    plat.catalog.add("bench_list", "OFAC", "Synthetic designations")
    user = identity.add_user("analyst.cbp", "CBP", Role.ANALYST, PASSWORD)
    rng = random.Random(20261129)  # noqa: S311 - reproducible synthetic names
    names = _names(rng, entities)
    ids: list[str] = []
    with plat.db.write() as conn:
        writer = plat.store.writer(conn, "bench_list")
        for i, name in enumerate(names):
            person = model.make_entity("Person")
            person.id = f"p{i}"
            person.add("name", name)
            person.add("nationality", "mx")
            ids.append(writer.add_entity(person))
            sanction = model.make_entity("Sanction")
            sanction.id = f"p{i}-s"
            sanction.add("entity", f"p{i}")
            sanction.add("program", "SDNTK")
            writer.add_entity(sanction)
            if i % 3 == 0:
                company = model.make_entity("Company")
                company.id = f"c{i}"
                company.add("name", f"{name.split(',')[0]} S.A. DE C.V.")
                writer.add_entity(company)
                owns = model.make_entity("Ownership")
                owns.id = f"o{i}"
                owns.add("owner", f"p{i}")
                owns.add("asset", f"c{i}")
                writer.add_entity(owns)
        writer.flush()
    Screener(plat).index_dataset("bench_list")
    plat.policy.create_grant(operator("OFAC", Country.US), GrantRequest(
        owner_agency="OFAC", datasets=["bench_list"], actions=[Action.READ, Action.SEARCH],
        purposes=[Purpose.SANCTIONS_SCREENING], legal_basis="benchmark",
        expires_at=datetime.now(UTC) + timedelta(days=1), recipient_agency="CBP",
        tlp=TLP.GREEN))
    assert user.totp_secret is not None
    return plat, {"totp": user.totp_secret}, names


def _time(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm-up (template compilation, caches)
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2)}


def run_web(quick: bool = False, out: Path | None = None, console: Console | None = None,
            entities: int | None = None, repeat: int | None = None,
            batch_size: int | None = None) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from binational.core.api.app import create_app
    from binational.core.identity import totp_now

    console = console or Console()
    entities = entities or (300 if quick else 5_000)
    repeat = repeat or (10 if quick else 50)
    batch_size = min(batch_size or (100 if quick else 1_000), entities)
    with tempfile.TemporaryDirectory(prefix="binational-bench-web-",
                                     ignore_cleanup_errors=True) as tmp:
        started = time.perf_counter()
        plat, secrets, names = _world(Path(tmp), entities)
        setup_s = time.perf_counter() - started
        client = TestClient(create_app(plat))
        client.get("/app/sign-in")
        csrf = client.cookies["binational_csrf"]
        client.post("/app/sign-in", data={"csrf": csrf, "username": "analyst.cbp",
                                          "password": PASSWORD,
                                          "totp": totp_now(secrets["totp"])})
        csrf = client.cookies["binational_csrf"]
        client.post("/app/context", data={"csrf": csrf, "purpose": "sanctions-screening",
                                          "case": "BENCH-1"})
        headers = {"X-Purpose": "sanctions-screening", "X-Case-Reference": "BENCH-1"}
        probe = names[len(names) // 2]
        screened = client.get("/app/screening", params={"name": probe})
        assert screened.status_code == 200, screened.text[:200]
        entity_id = client.get("/search/default", params={"q": probe},
                               headers=headers).json()["results"][0]["id"]
        rows: list[dict[str, Any]] = []

        def pair(what: str, page: Callable[[], Any], api: Callable[[], Any] | None) -> None:
            page_s = _summary(_time(page, repeat))
            row: dict[str, Any] = {"what": what, "page": page_s}
            if api is not None:
                api_s = _summary(_time(api, repeat))
                row["api"] = api_s
                row["ratio_p50"] = round(page_s["p50_ms"] / max(api_s["p50_ms"], 1e-6), 2)
            rows.append(row)

        pair("home", lambda: client.get("/app/"), None)
        pair("screen one name", lambda: client.get("/app/screening", params={"name": probe}),
             lambda: client.get("/search/default", params={"q": probe}, headers=headers))
        pair("entity profile", lambda: client.get(f"/app/entities/{entity_id}"),
             lambda: client.get(f"/entities/{entity_id}", params={"statements": True},
                                headers=headers))
        pair("network (JSON)", lambda: client.get(f"/app/entities/{entity_id}/network.json"),
             None)
        pair("search records", lambda: client.get("/app/search", params={"q": "garcia"}),
             lambda: client.get("/entities", params={"q": "garcia"}, headers=headers))

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["name"])
        rng = random.Random(7)  # noqa: S311 - a reproducible sample
        writer.writerows([n] for n in rng.sample(names, batch_size))
        started = time.perf_counter()
        r = client.post("/app/screening/batch", data={"csrf": csrf},
                        files={"file": ("names.csv", buf.getvalue().encode(), "text/csv")},
                        follow_redirects=False)
        job = r.headers["location"]
        status: dict[str, Any] = {}
        while status.get("status") not in ("done", "failed"):
            time.sleep(0.05)
            status = client.get(f"{job}/status.json").json()
        batch_s = time.perf_counter() - started
        plat.close()
    result = {
        "benchmark": "web", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": machine.python_version(), "system": machine.platform()},
        "entities": entities, "repeat": repeat, "setup_s": round(setup_s, 1),
        "pages": rows,
        "batch": {"names": batch_size, "seconds": round(batch_s, 2),
                  "names_per_s": round(batch_size / batch_s, 1),
                  "matches": status.get("matches"), "status": status.get("status")},
    }
    table = Table("Request", "Page p50", "Page p95", "API p50", "API p95", "Page / API",
                  title=f"Web pages on {entities:,} designated persons (ms, in-process)")
    for row in rows:
        api = row.get("api") or {}
        table.add_row(row["what"], f"{row['page']['p50_ms']:.1f}", f"{row['page']['p95_ms']:.1f}",
                      f"{api['p50_ms']:.1f}" if api else "-", f"{api['p95_ms']:.1f}" if api
                      else "-", f"{row['ratio_p50']:.2f}x" if "ratio_p50" in row else "-")
    console.print(table)
    console.print(f"batch upload: {batch_size:,} names in {batch_s:.1f} s "
                  f"({batch_size / batch_s:.0f} names/s, {status.get('matches')} matches)")
    if out is not None:
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        console.print(f"results written to {out}")
    return result
