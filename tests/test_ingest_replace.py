"""``ingest(..., replace=True)``: a file as the complete new version of a dataset.

What the new version no longer lists is deleted in the same transaction, the report says what
was added, changed and removed, and a broken new version leaves the previous one in service.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from followthemoney import model
from followthemoney.namespace import Namespace
from typer.testing import CliRunner

from binational.core import tables as t
from binational.core.cli.main import app
from binational.core.db import Database
from binational.core.errors import InvalidInput
from binational.core.ingest import (
    FORMATS,
    Format,
    IngestAborted,
    IngestReport,
    Item,
    Parsed,
    ingest,
    register_format,
)
from binational.core.platform import Platform
from binational.core.store import Scope, Store
from tests.test_ingest import DS, make_dataset, runs, statement_count

NS = Namespace(DS)


@pytest.fixture
def store(db: Database) -> Store:
    make_dataset(db)
    return Store(db)


def sid(raw: str) -> str:
    signed = NS.sign(raw)
    assert signed is not None
    return signed


def jsonl(path: Path, *entities: Mapping[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    return path


def org(eid: str, name: str, schema: str = "Organization", **props: list[str]) -> dict[str, Any]:
    return {"id": eid, "schema": schema, "properties": {"name": [name], **props}}


V1 = (
    org("a", "Alfa Uno"),
    org("b", "Bravo Dos", country=["mx"]),
    org("c", "Charlie Tres"),
    org("e", "Echo Cinco"),
)
V2 = (
    org("a", "Alfa Uno"),  # unchanged
    org("b", "Bravo Nuevo", country=["mx"]),  # renamed
    org("d", "Delta Cuatro"),  # new; c is gone
    org("e", "Echo Cinco", schema="Company"),  # now a Company: same statements, new schema
)


def run(db: Database, store: Store, path: Path, **kw: Any) -> IngestReport:
    return ingest(db, store, "ftm", path, DS, actor="tester", **kw)


def view(store: Store) -> Any:
    return store.view(Scope({DS: None}))


def texts(db: Database) -> set[str]:
    with db.read() as conn:
        return {r[0] for r in conn.execute(sa.select(t.entity_text.c.entity_id))}


def test_replace_adds_changes_and_removes(db: Database, store: Store, tmp_path: Path) -> None:
    first = run(db, store, jsonl(tmp_path / "v1.jsonl", *V1), replace=True)
    assert first.replace and (first.added, first.changed, first.removed) == (4, 0, 0)

    report = run(db, store, jsonl(tmp_path / "v2.jsonl", *V2), replace=True)
    assert report.status == "ok"
    assert (report.added, report.changed, report.removed) == (1, 2, 1)
    assert report.diff == {
        "added": [sid("d")],
        "changed": sorted([sid("b"), sid("e")]),
        "removed": [sid("c")],
    }
    v = view(store)
    assert v.get_entity(sid("c")) is None
    assert v.get_entity(sid("b")).get("name") == ["Bravo Nuevo"]
    assert v.get_entity(sid("e")).schema.name == "Company"
    assert v.count(schema="Company") == 1
    # Folded name rows follow: the removed entity and the old name are no longer found.
    assert v.search("charlie") == [] and v.search("bravo dos") == []
    assert [e.id for e in v.search("bravo nuevo")] == [sid("b")]
    assert sid("c") not in texts(db)
    assert view(store).count() == 4
    summary = report.to_dict()
    assert (summary["added"], summary["changed"], summary["removed"]) == (1, 2, 1)
    assert "1 added, 2 changed, 1 removed" in report.summary()


def test_replace_with_the_same_file_changes_nothing(
    db: Database, store: Store, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "v1.jsonl", *V1)
    run(db, store, path)
    before = statement_count(db)
    again = run(db, store, path, replace=True)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert again.diff == {"added": [], "changed": [], "removed": []}
    assert statement_count(db) == before


def test_without_replace_nothing_is_removed(db: Database, store: Store, tmp_path: Path) -> None:
    run(db, store, jsonl(tmp_path / "v1.jsonl", *V1))
    report = run(db, store, jsonl(tmp_path / "v2.jsonl", *V2[2:3]))
    assert not report.replace and (report.added, report.changed, report.removed) == (0, 0, 0)
    assert view(store).count() == 5


def test_replace_keeps_other_datasets(db: Database, store: Store, tmp_path: Path) -> None:
    make_dataset(db, "other_ds")
    ingest(db, store, "ftm", jsonl(tmp_path / "o.jsonl", org("c", "Charlie Otro")), "other_ds",
           actor="tester")
    run(db, store, jsonl(tmp_path / "v1.jsonl", *V1))
    run(db, store, jsonl(tmp_path / "v2.jsonl", *V2), replace=True)
    other = store.view(Scope({"other_ds": None}))
    assert other.count() == 1 and other.search("charlie")


def test_broken_new_version_leaves_the_previous_one(
    db: Database, store: Store, tmp_path: Path
) -> None:
    run(db, store, jsonl(tmp_path / "v1.jsonl", *V1))
    before = statement_count(db)
    # A bad row with strict: aborted, nothing removed.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(V2[0]) + "\nnot json\n", encoding="utf-8")
    with pytest.raises(IngestAborted):
        run(db, store, bad, replace=True, strict=True)
    # A file with no entity at all would wipe the list: refused.
    only_bad = tmp_path / "only-bad.jsonl"
    only_bad.write_text('{"id": "x", "schema": "Nope"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot replace"):
        run(db, store, only_bad, replace=True)
    assert statement_count(db) == before
    assert view(store).get_entity(sid("c")) is not None
    assert [r["status"] for r in runs(db)] == ["ok", "failed", "failed"]


class _Broken(Format):
    """Many entities, then a fatal error mid-stream (as a truncated XML file raises)."""

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        for i in range(int(options.get("count", 10))):
            entity = model.make_entity("Person")
            entity.id = f"p-{i}"
            entity.add("name", f"Persona Numero {i}")
            entity.add("birthDate", "1970-01-01")
            entity.add("nationality", "mx")
            yield Parsed(i + 1, entity)
        raise InvalidInput(f"{path}: truncated at line {i + 1}")


@pytest.fixture
def broken_format() -> Iterator[str]:
    register_format("test-broken")(_Broken)
    yield "test-broken"
    FORMATS.pop("test-broken", None)


@pytest.mark.parametrize("count", [10, 15_000])  # 15,000 x 4 rows: batches written behind
def test_fatal_error_mid_stream_rolls_back(
    db: Database, store: Store, tmp_path: Path, broken_format: str, count: int
) -> None:
    run(db, store, jsonl(tmp_path / "v1.jsonl", *V1))
    before = statement_count(db)
    path = tmp_path / "any.bin"
    path.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="truncated"):
        ingest(db, store, broken_format, path, DS, actor="tester", replace=True,
               options={"count": count})
    assert statement_count(db) == before
    assert view(store).count() == 4 and len(texts(db)) == 4
    assert runs(db)[-1]["status"] == "failed"


def test_cli_replace_prints_the_difference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_cli import invoker, isolate, setup_world

    isolate(monkeypatch, tmp_path / "data")
    invoke = invoker(tmp_path / "cli.sqlite")
    setup_world(invoke)
    v1 = jsonl(tmp_path / "v1.jsonl", *V1)
    v2 = jsonl(tmp_path / "v2.jsonl", *V2)
    assert invoke("ingest", "ftm", str(v1), "--dataset", "uif_companies").exit_code == 0
    res = invoke("ingest", "ftm", str(v2), "--dataset", "uif_companies", "--replace")
    assert res.exit_code == 0, res.output
    assert "entities added:       1" in res.stdout
    assert "entities changed:     2" in res.stdout
    assert "entities removed:     1" in res.stdout
    assert "--replace" in CliRunner().invoke(app, ["ingest", "--help"]).output


def test_upload_with_replace(platform: Platform, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from binational.core.api.app import create_app
    from tests.test_api import auth
    from tests.world import build_world

    world = build_world(platform)
    client = TestClient(create_app(platform))
    sup = auth(world, "supervisor.fincen")
    url = "/datasets/fincen_reports/ingest"
    v1 = "".join(json.dumps(e) + "\n" for e in V1).encode()
    v2 = "".join(json.dumps(e) + "\n" for e in V2).encode()
    assert client.post(url, headers=sup, files={"file": ("v1.jsonl", v1)}).status_code == 200
    res = client.post(url, headers=sup, files={"file": ("v2.jsonl", v2)},
                      data={"replace": "true"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["replace"] is True
    # The world's own entities of the dataset are not in the new version either.
    seeded = len(world.ids["fincen_reports"])
    assert (body["added"], body["changed"], body["removed"]) == (1, 2, 1 + seeded)
    assert set(world.ids["fincen_reports"]) <= set(body["diff"]["removed"])
