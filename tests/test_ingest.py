"""File ingest: formats, row errors with line numbers, all-or-nothing writes, ingest_run records."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from followthemoney import model
from followthemoney.namespace import Namespace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core import tables as t
from binational.core.db import Database
from binational.core.errors import InvalidInput, NotFound, TooLarge
from binational.core.ingest import (
    FORMATS,
    Format,
    IngestAborted,
    IngestReport,
    Item,
    Parsed,
    RowError,
    RowWarning,
    get_format,
    ingest,
    register_format,
)
from binational.core.ingest.ftm import parse_line
from binational.core.store import Scope, Store

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
DS = "test_ds"


def make_dataset(db: Database, name: str = DS) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        if (
            conn.execute(sa.select(t.country.c.code).where(t.country.c.code == "mx")).first()
            is None
        ):
            conn.execute(sa.insert(t.country).values(code="mx", name_en="Mexico", name_es="México"))
        if (
            conn.execute(sa.select(t.agency.c.code).where(t.agency.c.code == "TESTAG")).first()
            is None
        ):
            conn.execute(
                sa.insert(t.agency).values(
                    code="TESTAG", name="Test Agency", country="mx", created_at=now
                )
            )
        conn.execute(
            sa.insert(t.dataset).values(
                name=name, agency="TESTAG", title=f"Test {name}", description=None, created_at=now
            )
        )


@pytest.fixture
def store(db: Database) -> Store:
    make_dataset(db)
    return Store(db)


def run(db: Database, store: Store, fmt: str, path: Path, **kw: Any) -> IngestReport:
    return ingest(db, store, fmt, path, DS, actor="tester", **kw)


def statement_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.statement)).scalar_one())


def runs(db: Database) -> list[Mapping[str, Any]]:
    with db.read() as conn:
        q = sa.select(t.ingest_run).order_by(t.ingest_run.c.started_at)
        return [dict(r) for r in conn.execute(q).mappings()]


def entity(store: Store, raw_id: str, dataset: str = DS) -> Any:
    signed = Namespace(dataset).sign(raw_id)
    assert signed is not None
    return store.view(Scope({dataset: None})).get_entity(signed)


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# --- ftm --------------------------------------------------------------------------------------


def test_ftm_ingest_counts_and_readback(db: Database, store: Store) -> None:
    path = FIXTURES / "companies.ftm.jsonl"
    seen: list[tuple[int, int]] = []
    report = run(db, store, "ftm", path, progress=lambda done, total: seen.append((done, total)))
    assert report.status == "ok"
    assert (report.entities, report.records, report.error_count) == (6, 6, 0)
    assert statement_count(db) > 6
    company = entity(store, "co-altamira")
    assert company is not None and company.schema.name == "Company"
    assert company.get("name") == ["Transportes Altamira Ficticia S.A. de C.V."]
    assert company.get("incorporationDate") == ["2011-04-02"]
    # references are signed into the dataset's namespace like the ids they point at
    assert company.get("addressEntity") == [Namespace(DS).sign("addr-altamira")]
    own = entity(store, "own-1")
    assert own.get("owner") == [Namespace(DS).sign("pe-quintero")]
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    [row] = runs(db)
    assert row["status"] == "ok" and row["format"] == "ftm" and row["actor"] == "tester"
    assert row["entities"] == 6 and row["statements_new"] == report.statements_new
    assert len(row["source_sha256"]) == 64 and row["errors"] == []
    assert row["finished_at"] >= row["started_at"]
    assert report.to_dict()["entities"] == 6


def test_report_counts_new_and_unchanged_statements(db: Database, store: Store) -> None:
    path = FIXTURES / "companies.ftm.jsonl"
    first = run(db, store, "ftm", path)
    assert (first.statements_new, first.statements_seen) == (statement_count(db), 0)
    second = run(db, store, "ftm", path)
    assert (second.statements_new, second.statements_seen) == (0, first.statements_new)


def test_reingest_changes_nothing(db: Database, store: Store) -> None:
    path = FIXTURES / "companies.ftm.jsonl"
    first = run(db, store, "ftm", path)
    before = statement_count(db)
    second = run(db, store, "ftm", path)
    assert second.statements_new == 0 and second.entities == first.entities
    assert statement_count(db) == before
    assert [r["status"] for r in runs(db)] == ["ok", "ok"]


def test_bad_lines_are_reported_and_good_lines_land(db: Database, store: Store) -> None:
    path = FIXTURES / "mixed.ftm.jsonl"
    report = run(db, store, "ftm", path)
    assert report.status == "ok-with-errors"
    assert report.entities == 2
    by_line = {e.line: e.message for e in report.errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]
    assert by_line[2].startswith("invalid JSON")
    assert by_line[3] == "unknown schema 'Spaceship'"
    assert by_line[4] == "missing id"
    assert by_line[5] == "unknown property 'colour' for schema Company"
    assert "incorporationDate 'not a date' is not a valid date" in by_line[6]
    assert "expected a JSON object" in by_line[7]
    assert str(report.errors[0]) == f"{path}:2: {by_line[2]}"
    assert entity(store, "co-uno") is not None and entity(store, "co-seis") is not None
    assert entity(store, "co-cinco") is None
    [row] = runs(db)
    assert row["status"] == "ok-with-errors"
    assert [e["line"] for e in row["errors"]] == [2, 3, 4, 5, 6, 7]


def test_invalid_values_can_be_dropped_with_a_warning(db: Database, store: Store) -> None:
    path = FIXTURES / "mixed.ftm.jsonl"
    report = run(db, store, "ftm", path, options={"invalid_values": "drop"})
    assert 6 not in {e.line for e in report.errors}
    assert [w.line for w in report.warnings] == [6]
    assert entity(store, "co-cinco") is not None


def test_strict_mode_writes_nothing(db: Database, store: Store) -> None:
    with pytest.raises(IngestAborted, match=r"mixed\.ftm\.jsonl:2: invalid JSON.*strict") as exc:
        run(db, store, "ftm", FIXTURES / "mixed.ftm.jsonl", strict=True)
    assert exc.value.report.error_count == 1
    assert statement_count(db) == 0
    [row] = runs(db)
    assert row["status"] == "failed" and row["statements_new"] == 0
    assert row["errors"][-1]["line"] is None and "strict" in row["errors"][-1]["message"]


def test_max_errors(db: Database, store: Store) -> None:
    path = FIXTURES / "mixed.ftm.jsonl"
    with pytest.raises(IngestAborted, match="more than 5 bad rows"):
        run(db, store, "ftm", path, max_errors=5)
    assert statement_count(db) == 0
    report = run(db, store, "ftm", path, max_errors=6)
    assert report.error_count == 6 and report.entities == 2
    assert [r["status"] for r in runs(db)] == ["failed", "ok-with-errors"]


def test_invalid_utf8_line_is_a_row_error(db: Database, store: Store, tmp_path: Path) -> None:
    good = b'{"id": "co-a", "schema": "Company", "properties": {"name": ["A Ficticia"]}}\n'
    bad = b'{"id": "co-b", "schema": "Company", "properties": {"name": ["B \xff\xfe Ficticia"]}}\n'
    path = write(tmp_path / "enc.jsonl", good + bad + good.replace(b"co-a", b"co-c"))
    report = run(db, store, "ftm", path)
    [err] = report.errors
    assert err.line == 2 and err.message.startswith("not valid UTF-8")
    assert report.entities == 2


def test_values_with_nul_and_odd_shapes(db: Database, store: Store, tmp_path: Path) -> None:
    lines = [
        {"id": "co-nul", "schema": "Company", "properties": {"name": ["Nul\u0000Co Ficticia"]}},
        {"id": 42, "schema": "Company", "properties": {"name": "Numero Ficticio"}},
        {
            "id": "co-st",
            "schema": "Company",
            "statements": [{"prop": "id", "value": "co-st"}, {"prop": "name", "value": "Stmt Co"}],
        },
        {"id": "co-nested", "schema": "Company", "properties": {"name": [["nested"]]}},
        {"id": "bad id!", "schema": "Company"},
        {"id": "th-1", "schema": "Thing"},
        {
            "id": "own-self",
            "schema": "Ownership",
            "properties": {"owner": ["own-self"], "asset": ["co-st"]},
        },
    ]
    path = write(tmp_path / "odd.jsonl", "\n".join(json.dumps(x) for x in lines))
    report = run(db, store, "ftm", path)
    assert {e.line for e in report.errors} == {4, 5, 6, 7}
    assert entity(store, "co-nul").get("name") == ["NulCo Ficticia"]
    assert entity(store, "42").get("name") == ["Numero Ficticio"]
    assert entity(store, "co-st").get("name") == ["Stmt Co"]


def test_duplicate_ids_merge_with_a_warning_and_conflicts_are_errors(
    db: Database, store: Store
) -> None:
    report = run(db, store, "ftm", FIXTURES / "duplicates.ftm.jsonl")
    [warning] = report.warnings
    assert warning.line == 3
    assert warning.message == "entity co-gemela at line 3 repeats line 1: merged"
    [error] = report.errors
    assert error.line == 4
    assert "Vessel" in error.message and "Person" in error.message and "line 2" in error.message
    assert (report.entities, report.records) == (2, 3)
    merged = entity(store, "co-gemela")
    assert merged.schema.name == "Company"
    assert sorted(merged.get("name")) == ["Gemela Ficticia", "Gemela Ficticia S.A."]
    assert entity(store, "pe-solo").schema.name == "Person"


def test_conflict_with_stored_schema(db: Database, store: Store, tmp_path: Path) -> None:
    person = {"id": "x-1", "schema": "Person", "properties": {"name": ["Persona Ficticia"]}}
    run(db, store, "ftm", write(tmp_path / "a.jsonl", json.dumps(person)))
    vessel = {"id": "x-1", "schema": "Vessel", "properties": {"name": ["Barco Ficticio"]}}
    report = run(db, store, "ftm", write(tmp_path / "b.jsonl", json.dumps(vessel)))
    [error] = report.errors
    assert "already stored" in error.message
    assert entity(store, "x-1").schema.name == "Person"


def test_csv_given_to_ftm_is_refused(db: Database, store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"companies\.csv:1: not FtM JSON lines.*csv format"):
        run(db, store, "ftm", FIXTURES / "companies.csv")
    assert statement_count(db) == 0
    assert runs(db)[0]["status"] == "failed"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"\n  \n", "only blank lines"),
        (b'[{"id": "a", "schema": "Company"}]', "a JSON array"),
        ('{"id": "a"}\n'.encode("utf-16"), "UTF-16"),
        (b"\xe9t\xe9\n\xe0 la\n\xfc\n", "not valid utf-8"),
    ],
)
def test_fatal_file_problems(
    db: Database, store: Store, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "input.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidInput, match=problem) as exc:
        run(db, store, "ftm", path)
    assert str(path) in exc.value.message
    assert statement_count(db) == 0


def test_directory_and_unknown_dataset_and_format(
    db: Database, store: Store, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="not a file"):
        run(db, store, "ftm", tmp_path)
    with pytest.raises(NotFound, match="'nope'"):
        ingest(db, store, "ftm", FIXTURES / "companies.ftm.jsonl", "nope", actor="tester")
    with pytest.raises(InvalidInput, match=r"unknown ingest format 'xml'.*csv, ftm"):
        run(db, store, "xml", FIXTURES / "companies.ftm.jsonl")


def test_too_large(db: Database, store: Store) -> None:
    with pytest.raises(TooLarge, match=r"is \d+ bytes.*above the limit of 100 bytes"):
        run(db, store, "ftm", FIXTURES / "companies.ftm.jsonl", options={"max_bytes": 100})
    assert statement_count(db) == 0


# --- csv --------------------------------------------------------------------------------------


def test_csv_with_mapping(db: Database, store: Store) -> None:
    report = run(
        db,
        store,
        "csv",
        FIXTURES / "companies.csv",
        options={"mapping": FIXTURES / "companies.yml"},
    )
    assert report.status == "ok" and report.errors == [] and report.warnings == []
    # 2 companies (the first repeats in row 3 and merges), 3 owners, 3 ownerships
    assert (report.entities, report.records) == (8, 9)
    view = store.view(Scope({DS: None}))
    [company] = view.search("Comercializadora Ficticia", schema="Company")
    assert company.get("incorporationDate") == ["2001-01-01"]
    assert company.get("taxNumber") == ["FIC010101AB1"]
    assert view.count(schema="Ownership") == 3
    again = run(
        db,
        store,
        "csv",
        FIXTURES / "companies.csv",
        options={"mapping": FIXTURES / "companies.yml"},
    )
    assert again.statements_new == 0


def test_csv_single_query_mapping_bom_and_latin1(
    db: Database, store: Store, tmp_path: Path
) -> None:
    mapping = write(
        tmp_path / "m.yml",
        "entities:\n  c:\n    schema: Company\n    keys: [id]\n"
        "    properties:\n      name: {column: name}\n",
    )
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbfid,name\n1,Compa\xc3\xb1ia Ficticia\n")
    report = run(db, store, "csv", path, options={"mapping": mapping})
    assert report.entities == 1 and report.errors == []
    latin = write(tmp_path / "latin.csv", b"id,name\n2,Compa\xf1ia Latina\n")
    report = run(db, store, "csv", latin, options={"mapping": mapping, "encoding": "latin-1"})
    assert report.entities == 1 and report.errors == []
    assert store.view(Scope({DS: None})).count("Compañia Latina") == 1


def test_csv_utf16(db: Database, store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yml",
        "entities:\n  c:\n    schema: Company\n    keys: [id]\n"
        "    properties:\n      name: {column: name}\n",
    )
    path = write(
        tmp_path / "u16.csv", "id,name\n1,Compañía Dieciséis\n2,Otra Ficticia\n".encode("utf-16")
    )
    with pytest.raises(InvalidInput, match="UTF-16"):
        run(db, store, "csv", path, options={"mapping": mapping})
    report = run(db, store, "csv", path, options={"mapping": mapping, "encoding": "utf-16"})
    assert report.entities == 2 and report.errors == []
    assert store.view(Scope({DS: None})).count("Compañía Dieciséis") == 1


def test_csv_missing_column_is_fatal(db: Database, store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "few.csv", "rfc,company\nX1,Ficticia\n")
    with pytest.raises(
        InvalidInput,
        match=r"companies\.yml: columns country, founded, owner, "
        r"share are not in the header of .*few\.csv, which has: rfc, company",
    ):
        run(db, store, "csv", path, options={"mapping": FIXTURES / "companies.yml"})
    assert statement_count(db) == 0
    assert runs(db)[0]["status"] == "failed"


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ("entities: [unclosed\n", "not a valid YAML file"),
        ("- just\n- a list\n", "expected a YAML mapping"),
        ("entities:\n  c:\n    schema: Spaceship\n    keys: [id]\n", "Invalid schema: Spaceship"),
        (
            "entities:\n  c:\n    schema: Company\n    keys: [id]\n    properties:\n"
            "      colour: {column: name}\n",
            "Invalid property: colour",
        ),
        (
            "entities:\n  c:\n    schema: Company\n    properties:\n      name: {column: name}\n",
            "No keys or ID",
        ),
        ("ds:\n  title: no queries here\n", "has no queries"),
    ],
)
def test_bad_mapping(
    db: Database, store: Store, tmp_path: Path, mapping: str, problem: str
) -> None:
    mpath = write(tmp_path / "bad.yml", mapping)
    path = write(tmp_path / "x.csv", "id,name\n1,Ficticia\n")
    with pytest.raises(InvalidInput, match=problem) as exc:
        run(db, store, "csv", path, options={"mapping": mpath})
    assert str(mpath) in exc.value.message
    assert statement_count(db) == 0


def test_csv_needs_a_mapping(db: Database, store: Store) -> None:
    with pytest.raises(InvalidInput, match="needs a mapping"):
        run(db, store, "csv", FIXTURES / "companies.csv")


def test_csv_bad_rows(db: Database, store: Store, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yml",
        "entities:\n  c:\n    schema: Company\n    keys: [id]\n"
        "    properties:\n      name: {column: name}\n"
        "      incorporationDate: {column: founded}\n",
    )
    rows = [
        b"id,name,founded",
        b"1,Uno Ficticia,2001-01-01",
        b"2,Dos Ficticia",  # ragged
        b"3,Tr\xe9s Ficticia,",  # not UTF-8
        b",Sin Clave,",  # empty key
        b'4,"Cuatro, con coma",2004-04-04',
        b"",
        b"5,Cinco Ficticia,someday",  # invalid date
        b'6,"Seis',  # quoted field spanning lines
        b'Ficticia",2006-06-06',
        b"7,Siete Ficticia,2007-07-07,extra",
    ]
    path = write(tmp_path / "rows.csv", b"\n".join(rows) + b"\n")
    report = run(db, store, "csv", path, options={"mapping": mapping})
    by_line = {e.line: e.message for e in report.errors}
    assert by_line == {
        3: "2 fields, but the header has 3",
        4: "not valid utf-8 (invalid continuation byte at byte 5)",
        5: "no entity: the key columns (id) are empty",
        8: "invalid values: incorporationDate 'someday' is not a valid date",
        11: "4 fields, but the header has 3",
    }
    assert report.entities == 3
    view = store.view(Scope({DS: None}))
    assert view.count("Cuatro con coma") == 1
    assert view.count("Seis Ficticia") == 1
    assert str(report.errors[0]) == f"{path}:3: 2 fields, but the header has 3"


def test_csv_header_in_wrong_encoding_is_fatal(db: Database, store: Store, tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yml", "entities:\n  c:\n    schema: Company\n    keys: [id]\n")
    path = write(tmp_path / "h.csv", b"id,n\xe1me\n1,x\n2,y\n3,z\n")
    with pytest.raises(InvalidInput, match="header row is not valid utf-8"):
        run(db, store, "csv", path, options={"mapping": mapping})


# --- plug-ins -----------------------------------------------------------------------------------


def test_a_plugged_in_format(db: Database, store: Store, tmp_path: Path) -> None:
    @register_format("test-names")
    class NamesFormat(Format):
        """One company per line: its name."""

        def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not line.strip():
                    yield RowError(number, "blank name")
                    continue
                proxy = model.make_entity("Company")
                proxy.id = f"name-{number}"
                proxy.add("name", line)
                yield Parsed(number, proxy)
                if line.isupper():
                    yield RowWarning(number, "all capitals")

    try:
        assert get_format("test-names") is NamesFormat and NamesFormat.name == "test-names"
        path = write(tmp_path / "names.txt", "Alfa Ficticia\n\nBETA FICTICIA\n")
        report = run(db, store, "test-names", path)
        assert (report.entities, report.error_count, len(report.warnings)) == (2, 1, 1)
        assert str(report.warnings[0]) == f"{path}:3: all capitals"
    finally:
        FORMATS.pop("test-names")


def test_interrupted_ingest_leaves_nothing(db: Database, store: Store, tmp_path: Path) -> None:
    @register_format("test-interrupted")
    class Interrupted(Format):
        def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
            for number in range(1, 2500):  # past a write batch, so statements were flushed
                proxy = model.make_entity("Company")
                proxy.id = f"int-{number}"
                proxy.add("name", f"Interrumpida {number}")
                yield Parsed(number, proxy)
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            run(db, store, "test-interrupted", write(tmp_path / "x.txt", "x"))
    finally:
        FORMATS.pop("test-interrupted")
    assert statement_count(db) == 0
    [row] = runs(db)
    assert row["status"] == "failed" and row["errors"][-1]["message"].startswith("Keyboard")


# --- fuzzing ----------------------------------------------------------------------------------

SCHEMATA = ["Company", "Person", "Ownership", "Address", "Thing", "Nope", "", None, 3]
SANE = ["Company", "Person", "Ownership", "Address"]
PROPS = [
    "name",
    "country",
    "owner",
    "asset",
    "birthDate",
    "incorporationDate",
    "email",
    "ownershipAsset",
    "addressEntity",
    "nope",
]
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
entity_dicts = st.fixed_dictionaries(
    {
        # mostly plausible ids and schemata, so that the property values get exercised too
        "id": st.one_of(
            st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True),
            st.sampled_from(["own-1", "co-1"]),
            st.text(max_size=12),
            st.integers(),
        ),
        "schema": st.one_of(st.sampled_from(SANE), st.sampled_from(SCHEMATA)),
    },
    optional={
        "properties": st.one_of(
            st.dictionaries(
                st.sampled_from(PROPS),
                st.one_of(st.lists(st.text(max_size=30)), st.text(max_size=30), json_values),
                max_size=4,
            ),
            json_values,
        ),
        "statements": st.lists(
            st.fixed_dictionaries({"prop": st.sampled_from(PROPS), "value": json_values}),
            max_size=3,
        ),
    },
)
lines = st.one_of(
    st.binary(max_size=120),
    entity_dicts.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
).map(lambda b: b.replace(b"\n", b" "))


@settings(max_examples=300, deadline=None)
@given(raw=lines)
def test_any_line_parses_to_an_entity_or_an_error(raw: bytes) -> None:
    items = parse_line(raw, 7)
    if not raw.strip():
        assert items == []
        return
    first, *rest = items
    if isinstance(first, RowError):
        assert rest == [] and first.line == 7 and first.message
    else:
        assert isinstance(first, Parsed) and first.entity.id
        assert all(isinstance(w, RowWarning) for w in rest)


@pytest.fixture
def sqlite_store(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Database, Store]]:
    path = tmp_path / f"fuzz-{uuid.uuid4().hex}.sqlite"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    make_dataset(db)
    yield db, Store(db)
    db.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(lines, min_size=1, max_size=12))
def test_arbitrary_lines_never_crash_the_ingest(
    sqlite_store: tuple[Database, Store], tmp_path: Path, body: list[bytes]
) -> None:
    db, store = sqlite_store
    head = b'{"id": "co-head", "schema": "Company", "properties": {"name": ["Cabeza"]}}'
    path = write(tmp_path / f"{uuid.uuid4().hex}.jsonl", b"\n".join([head, *body]))
    try:
        report = run(db, store, "ftm", path)
    except InvalidInput as exc:  # whole-file verdicts (binary, mostly not UTF-8) are allowed
        assert str(path) in exc.message
        return
    nonblank = 1 + sum(1 for b in body if b.strip())
    # every non-blank line is one entity record or one row error (never both, never neither)
    assert report.records + report.error_count == nonblank


# --- demo data ------------------------------------------------------------------------------

DEMO = Path(__file__).parent.parent / "data" / "demo"


def test_demo_files_ingest_cleanly(db: Database, store: Store) -> None:
    companies = run(db, store, "ftm", DEMO / "mx_companies.ftm.jsonl")
    assert companies.status == "ok" and companies.warnings == []
    view = store.view(Scope({DS: None}))
    assert view.count(schema="Company") == 10 and view.count(schema="Sanction") == 10
    precursors = run(
        db, store, "csv", DEMO / "precursors.csv", options={"mapping": DEMO / "precursors.yml"}
    )
    assert precursors.status == "ok" and precursors.warnings == []
    assert precursors.entities == 42
    [anhydride] = view.search("acetic anhydride", schema="Asset")
    assert {"108-24-7", "2915.24", "HER"} <= set(anhydride.get("keywords"))
    assert anhydride.get("topics") == ["crime.traffick.drug"]
