"""The audit log: appends chain and verify, and every kind of tampering is caught and named."""

from __future__ import annotations

import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core import audit as audit_mod
from binational.core import merkle
from binational.core.audit import (
    AuditEvent,
    AuditLog,
    ObjectRef,
    Receipt,
    load_or_create_signing_key,
)
from binational.core.db import Database
from binational.core.errors import InvalidInput
from binational.core.tables import access_receipt, audit_checkpoint, audit_record, country

C = audit_record.c


def event(i: int, **kw: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "action": "entity.read",
        "outcome": "ok",
        "actor": f"user{i % 3}",
        "agency": "cbp",
        "country": "US",
        "objects": (ObjectRef(f"ent-{i}", "sat-firms", "sat", "MX"),),
        "purpose": "investigation",
        "case_ref": f"CASE-{i}",
        "request_id": f"req-{i}",
        "client": "pytest",
        "detail": {"i": i, "nombre": "Peña Nieto ñ €", "nested": {"b": [1, 2.5, None]}},
    }
    fields.update(kw)
    return AuditEvent(**fields)


@pytest.fixture
def log(db: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(db, tmp_path / "keys" / "audit-signing.pem")


def fill(log: AuditLog, n: int) -> None:
    log.append_many(event(i) for i in range(n))


def update(db: Database, at: int, **values: Any) -> None:
    with db.write() as conn:
        conn.execute(audit_record.update().where(C.seq == at).values(**values))


def delete(db: Database, *seqs: int) -> None:
    with db.write() as conn:
        conn.execute(access_receipt.delete().where(access_receipt.c.audit_seq.in_(seqs)))
        conn.execute(audit_record.delete().where(C.seq.in_(seqs)))


def swap(db: Database, a: int, b: int) -> None:
    """Exchange two records' places: the attacker reorders history. The rows move whole,
    so their stored bytes (and hashes) are untouched."""
    with db.write() as conn:
        conn.execute(audit_record.update().where(C.seq == a).values(seq=-1))
        conn.execute(audit_record.update().where(C.seq == b).values(seq=a))
        conn.execute(audit_record.update().where(C.seq == -1).values(seq=b))


def rehash(db: Database, start: int = 0) -> None:
    """Recompute every hash from ``start`` on, as an attacker with write access would."""
    with db.write() as conn:
        prev = (
            audit_mod.GENESIS_HASH
            if start == 0
            else conn.execute(sa.select(C.record_hash).where(C.seq == start - 1)).scalar_one()
        )
        cols = [
            sa.cast(C[n], sa.Text) if n in ("objects", "detail") else C[n]
            for n in audit_mod.HASHED_FIELDS
        ]
        rows = conn.execute(sa.select(*cols).where(C.seq >= start).order_by(C.seq)).all()
        for row in rows:
            canonical = audit_mod._canonical(*row)
            record_hash = audit_mod.chain_hash(prev, canonical)
            conn.execute(
                audit_record.update()
                .where(C.seq == row[0])
                .values(
                    prev_hash=prev,
                    record_hash=record_hash,
                    leaf_hash=merkle.leaf_hash(canonical).hex(),
                )
            )
            prev = record_hash


# -- appending and verifying ---------------------------------------------------------------


def test_append_chains_and_verifies(log: AuditLog) -> None:
    assert log.head() == (-1, "0" * 64)
    assert log.verify().ok
    assert [log.append(event(i)) for i in range(3)] == [0, 1, 2]
    assert log.append_many(event(i) for i in range(3, 10)) == list(range(3, 10))
    assert log.append_many([]) == []
    assert log.count() == 10
    seen: list[int] = []
    report = log.verify(progress=seen.append, batch=4)
    assert report == audit_mod.VerifyReport(True, 10, None, None, 0)
    assert seen == [4, 8, 10]

    rows = sorted(log.records(limit=100), key=lambda r: r["seq"])
    prev = "0" * 64
    for row in rows:
        # The fast canonical form equals the reference definition (sorted compact JSON).
        canonical = audit_mod.canonical_bytes(row)
        assert row["prev_hash"] == prev
        assert row["record_hash"] == audit_mod.chain_hash(prev, canonical)
        assert row["leaf_hash"] == merkle.leaf_hash(canonical).hex()
        assert row["ts"].endswith("Z") and len(row["ts"]) == 27
        prev = row["record_hash"]
    assert rows[4]["objects"] == [
        {"id": "ent-4", "dataset": "sat-firms", "agency": "sat", "country": "MX"}
    ]
    assert rows[4]["detail"]["nombre"] == "Peña Nieto ñ €"
    assert log.head() == (9, prev)


def test_event_validation() -> None:
    with pytest.raises(InvalidInput, match="outcome 'maybe'"):
        event(0, outcome="maybe")
    with pytest.raises(InvalidInput, match="actor is longer than 64"):
        event(0, actor="x" * 65)
    assert event(0, client="c" * 1000).client == "c" * 255
    assert event(0, objects=[ObjectRef("a")]).objects == (ObjectRef("a"),)


def test_non_json_detail_is_refused(log: AuditLog) -> None:
    with pytest.raises(InvalidInput, match="plain JSON"):
        log.append(event(0, detail={"when": object()}))
    with pytest.raises(InvalidInput, match="plain JSON"):
        log.append(event(0, detail={"x": float("nan")}))
    assert log.count() == 0


# -- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", {"i": 5, "nombre": "someone else"}),
        ("outcome", "denied"),
        ("actor", "mallory"),
        ("agency", None),
        ("ts", "2020-01-01T00:00:00.000000Z"),
        ("objects", []),
        ("purpose", "curiosity"),
        ("client", None),
        ("prev_hash", "f" * 64),
        ("record_hash", "f" * 64),
        ("leaf_hash", "f" * 64),
    ],
)
def test_altered_field_is_named(log: AuditLog, db: Database, column: str, value: Any) -> None:
    fill(log, 10)
    update(db, 5, **{column: value})
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.problem == "record 5 was altered: its content does not match its hash"


def test_reformatted_json_is_altered(log: AuditLog, db: Database) -> None:
    """Same data, different bytes (the JSON type's own spacing) still counts as an edit."""
    fill(log, 3)
    row = log.records(limit=1)[0]
    update(db, 2, detail=row["detail"])
    assert log.verify().first_bad_seq == 2


def test_deleted_middle_record(log: AuditLog, db: Database) -> None:
    fill(log, 10)
    delete(db, 4)
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem == "record 4 is missing (sequence jumps from 3 to 5)"
    delete(db, 0)
    assert log.verify().problem == "record 0 is missing (sequence starts at 1)"


def test_deleted_and_renumbered(log: AuditLog, db: Database) -> None:
    """Deleting a record and renumbering and rehashing each later record on its own still
    leaves a record whose prev_hash names the deleted one."""
    fill(log, 8)
    delete(db, 4)
    for seq in range(5, 8):
        update(db, seq, seq=seq - 1)
    with db.write() as conn:
        cols = [
            sa.cast(C[n], sa.Text) if n in ("objects", "detail") else C[n]
            for n in audit_mod.HASHED_FIELDS
        ]
        for row in conn.execute(sa.select(*cols, C.prev_hash).where(C.seq >= 4)).all():
            canonical = audit_mod._canonical(*row[:13])
            conn.execute(
                audit_record.update()
                .where(C.seq == row[0])
                .values(
                    record_hash=audit_mod.chain_hash(row[13], canonical),
                    leaf_hash=merkle.leaf_hash(canonical).hex(),
                )
            )
    report = log.verify()
    assert report.first_bad_seq == 4
    assert report.problem == (
        "record 4 does not follow record 3 (chain broken: records deleted or reordered)"
    )


def test_swapped_records(log: AuditLog, db: Database) -> None:
    fill(log, 10)
    swap(db, 3, 7)
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_tail_deleted_after_checkpoint(log: AuditLog, db: Database) -> None:
    fill(log, 10)
    log.checkpoint()
    delete(db, 8, 9)
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 8
    assert report.problem == (
        "log has 8 records but checkpoint at size 10 was signed: records were deleted from the end"
    )


def test_rewritten_chain_is_caught_by_checkpoint(log: AuditLog, db: Database) -> None:
    fill(log, 6)
    first = log.checkpoint()
    fill(log, 6)
    second = log.checkpoint()
    assert (first.tree_size, second.tree_size) == (6, 12)
    update(db, 8, outcome="denied")
    rehash(db, 8)
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.problem == (
        "checkpoint at size 12 does not match the log: records were rewritten "
        "(somewhere in records 6 to 11)"
    )
    assert report.checkpoints_checked == 1


def test_rewritten_whole_chain(log: AuditLog, db: Database) -> None:
    fill(log, 5)
    log.checkpoint()
    update(db, 0, actor="mallory")
    rehash(db)
    assert "checkpoint at size 5 does not match the log" in str(log.verify().problem)


def test_forged_or_foreign_checkpoint(log: AuditLog, db: Database, tmp_path: Path) -> None:
    fill(log, 4)
    cp = log.checkpoint()
    other = AuditLog(db, tmp_path / "other.pem")
    report = other.verify()
    assert not report.ok
    assert report.problem == (
        f"checkpoint at size 4 has an invalid signature (signed by key {cp.key_id}, "
        f"this log's key is {other.key_id})"
    )
    with db.write() as conn:
        conn.execute(audit_checkpoint.update().values(root_hash="0" * 64))
    assert log.verify().problem == "checkpoint at size 4 has an invalid signature"


# -- checkpoints, proofs, keys ---------------------------------------------------------------


def test_checkpoint_signs_the_root(log: AuditLog) -> None:
    empty = log.checkpoint()
    assert (empty.tree_size, empty.root_hash) == (0, merkle.EMPTY_ROOT.hex())
    fill(log, 7)
    cp = log.checkpoint()
    assert log.checkpoint() == cp  # unchanged size: the stored one, not a new signature
    assert cp.tree_size == 7
    assert cp.root_hash == log.root_at(7)
    assert cp.key_id == log.key_id and len(cp.key_id) == 16
    log.public_key.verify(
        bytes.fromhex(cp.signature),
        f"binational-audit-v1\n7\n{cp.root_hash}\n{cp.ts}\n".encode(),
    )
    assert log.checkpoints() == [empty, cp]
    assert log.verify() == audit_mod.VerifyReport(True, 7, None, None, 2)
    assert log.public_key_pem().startswith("-----BEGIN PUBLIC KEY-----")


def test_proofs(log: AuditLog) -> None:
    fill(log, 13)
    leaves = [bytes.fromhex(r["leaf_hash"]) for r in reversed(log.records(limit=100))]
    for size in (1, 5, 8, 13):
        root = bytes.fromhex(log.root_at(size))
        for index in range(size):
            proof = [bytes.fromhex(h) for h in log.inclusion_proof(index, size)]
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for first in range(size + 1):
            proof = [bytes.fromhex(h) for h in log.consistency_proof(first, size)]
            old = bytes.fromhex(log.root_at(first))
            assert merkle.verify_consistency(first, size, old, root, proof)
    with pytest.raises(InvalidInput, match="tree_size must be between 1 and 13"):
        log.inclusion_proof(0, 14)
    with pytest.raises(InvalidInput, match="index must be between 0 and 4"):
        log.inclusion_proof(5, 5)
    with pytest.raises(InvalidInput, match="first must be between 0 and 3"):
        log.consistency_proof(4, 3)
    with pytest.raises(InvalidInput, match="between 0 and 13"):
        log.root_at(20)


def test_signing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "key.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = load_or_create_signing_key(path)
    assert audit_mod.key_id_of(again.public_key()) == audit_mod.key_id_of(key.public_key())


# -- the record outlives the business transaction -------------------------------------------


def test_audit_survives_business_rollback(log: AuditLog, db: Database) -> None:
    zz = {"code": "ZZ", "name_en": "Nowhere", "name_es": "Ninguna parte"}
    if db.is_sqlite:
        # SQLite has one writer at a time: a business transaction holding the write lock
        # would make the audit append (on its own connection) wait for it, and in one
        # thread that is a deadlock until busy_timeout. So the append comes before and
        # after a business transaction that rolls back, never inside it.
        seq_before = log.append(event(0, action="entity.write"))
        with pytest.raises(RuntimeError), db.write() as conn:
            conn.execute(country.insert().values(**zz))
            raise RuntimeError("business failure")
        seq_after = log.append(event(1, action="entity.write", outcome="error"))
        assert (seq_before, seq_after) == (0, 1)
    else:
        # PostgreSQL: truly concurrent. The business transaction is open (holding its row)
        # while the audit record commits on another connection, then rolls back.
        with db.engine.connect() as business:
            tx = business.begin()
            business.execute(country.insert().values(**zz))
            seq = log.append(event(0, action="entity.write", outcome="error"))
            tx.rollback()
        assert seq == 0
    with db.read() as conn:
        assert conn.execute(sa.select(country.c.code).where(country.c.code == "ZZ")).first() is None
    assert log.count() == (2 if db.is_sqlite else 1)
    assert log.verify().ok


def test_concurrent_appenders_do_not_fork_the_chain(db: Database, tmp_path: Path) -> None:
    """Two AuditLog objects on two engines stand in for two processes: only the database
    guard (BEGIN IMMEDIATE / advisory lock) keeps them from both taking the same seq."""
    other_db = Database(db.url.render_as_string(hide_password=False))
    logs = [AuditLog(db, tmp_path / "k.pem"), AuditLog(other_db, tmp_path / "k.pem")]
    errors: list[BaseException] = []

    def work(log: AuditLog, base: int) -> None:
        try:
            for i in range(25):
                log.append(event(base + i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(logs[k % 2], k * 100)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_db.dispose()
    assert errors == []
    assert logs[0].count() == 100
    assert logs[0].verify().ok


# -- receipts and the viewer -----------------------------------------------------------------


def receipt(owner: str, obj: str, grant: str | None = "g1") -> Receipt:
    return Receipt(
        owner_agency=owner,
        owner_country="MX" if owner == "sat" else "US",
        dataset=f"{owner}-data",
        object_id=obj,
        reader="alice",
        reader_agency="cbp",
        reader_country="US",
        action="entity.read",
        grant_id=grant,
        purpose="investigation",
        case_ref="CASE-1",
    )


def test_receipts_for_the_owner_only(log: AuditLog) -> None:
    s0 = log.append(event(0), receipts=[receipt("sat", "e1"), receipt("fgr", "e2")])
    s1 = log.append(event(1), receipts=[receipt("sat", "e3", grant=None)])
    log.append(event(2))
    sat = log.receipts("sat")
    assert [(r["object_id"], r["audit_seq"]) for r in sat] == [("e3", s1), ("e1", s0)]
    assert sat[0]["grant_id"] is None and sat[1]["grant_id"] == "g1"
    assert sat[1]["owner_country"] == "MX" and sat[1]["reader_agency"] == "cbp"
    assert [r["object_id"] for r in log.receipts("fgr")] == ["e2"]
    assert log.receipts("cbp") == []
    assert [r["object_id"] for r in log.receipts("sat", limit=1, offset=1)] == ["e1"]
    ts = {r["seq"]: r["ts"] for r in log.records()}
    assert sat[1]["ts"] == ts[s0]
    assert log.verify().ok


def test_records_filters(log: AuditLog) -> None:
    fill(log, 6)
    log.append(event(6, agency="fbi", action="entity.search", objects=()))
    log.append(event(7, objects=(ObjectRef("x", "fgr-cases", "fgr", "MX"),)))
    assert [r["seq"] for r in log.records()] == list(range(7, -1, -1))
    assert [r["seq"] for r in log.records(limit=2)] == [7, 6]
    assert [r["seq"] for r in log.records(actor="user0")] == [6, 3, 0]
    assert [r["seq"] for r in log.records(agency="fbi")] == [6]
    assert [r["seq"] for r in log.records(action="entity.search")] == [6]
    assert [r["seq"] for r in log.records(object_agency="fgr")] == [7]
    assert [r["seq"] for r in log.records(object_agency="sat", since_seq=3)] == [5, 4]


# -- any single tampering is detected (property) --------------------------------------------

ALTERATIONS: dict[str, Any] = {
    "actor": "mallory",
    "outcome": "denied",
    "detail": {"forged": True},
    "objects": [{"id": "other"}],
    "ts": "1999-12-31T23:59:59.999999Z",
    "case_ref": None,
    "action": "entity.delete",
}


@pytest.fixture
def sqlite_db_factory(sqlite_template: Path) -> Iterator[Any]:
    """Fresh SQLite databases inside one test (hypothesis runs many examples per test)."""
    tmp = Path(tempfile.mkdtemp())
    made: list[Database] = []

    def make() -> Database:
        path = tmp / f"db{len(made)}.sqlite"
        shutil.copy(sqlite_template, path)
        made.append(Database(f"sqlite:///{path}"))
        return made[-1]

    yield make
    for d in made:
        d.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(2, 12),
    kind=st.sampled_from(["alter", "delete", "swap"]),
    data=st.data(),
)
def test_any_single_tampering_is_detected(
    sqlite_db_factory: Any, size: int, kind: str, data: st.DataObject
) -> None:
    db = sqlite_db_factory()
    log = AuditLog(db, Path(tempfile.mkdtemp()) / "k.pem")
    fill(log, size)
    log.checkpoint()  # without one, cutting off the newest record cannot be detected
    assert log.verify().ok
    target = data.draw(st.integers(0, size - 1), label="target")
    if kind == "alter":
        column = data.draw(st.sampled_from(sorted(ALTERATIONS)), label="column")
        update(db, target, **{column: ALTERATIONS[column]})
        expected = target
    elif kind == "delete":
        delete(db, target)
        expected = target
    else:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != target), label="other")
        swap(db, target, other)
        expected = min(target, other)
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == expected, report.problem
    assert str(expected) in str(report.problem)


def test_inserted_record_with_negative_seq(log: AuditLog, db: Database) -> None:
    fill(log, 3)
    with db.write() as conn:
        row = dict(conn.execute(sa.select(audit_record).where(C.seq == 0)).mappings().one())
        conn.execute(audit_record.insert().values({**row, "seq": -1}))
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, -1)
