"""The tamper-evident audit log: a hash chain of records that are also Merkle tree leaves.

Each record's canonical bytes are hashed twice: ``record_hash`` chains it to the record
before (so an edit, deletion or reordering breaks the chain at that record), and
``leaf_hash`` makes it leaf ``seq`` of an RFC 6962 Merkle tree whose roots are signed with
Ed25519 as checkpoints (so someone who can rewrite the whole table and recompute every hash,
or cut off its tail, is still caught by the signature they cannot forge).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy.engine import Connection

from binational.core import merkle
from binational.core.db import Database
from binational.core.errors import InvalidInput
from binational.core.tables import access_receipt, audit_checkpoint, audit_record

GENESIS_HASH = "0" * 64
OUTCOMES = frozenset({"ok", "denied", "error", "not_found", "invalid"})
CHECKPOINT_DOMAIN = "binational-audit-v1"
# Arbitrary constant naming "the audit chain head" among PostgreSQL advisory locks.
_PG_LOCK_KEY = 0x62_6E_61_75_64_69_74  # "bnaudit"

# Column widths of audit_record, checked up front: PostgreSQL enforces them, SQLite does
# not, and an event must be accepted or refused the same way on both.
_LIMITS = {
    "actor": 64,
    "agency": 32,
    "country": 2,
    "action": 64,
    "purpose": 64,
    "case_ref": 128,
    "request_id": 64,
    "client": 255,
}
# Values taken from request headers: cut to fit rather than lose the audit record.
_TRUNCATED = frozenset({"client", "request_id"})

HASHED_FIELDS = (
    "seq",
    "ts",
    "actor",
    "agency",
    "country",
    "action",
    "objects",
    "purpose",
    "case_ref",
    "outcome",
    "request_id",
    "client",
    "detail",
)
_seq_col = audit_record.c.seq


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def utc_now_iso() -> str:
    """ISO-8601 UTC with microseconds and 'Z': fixed width, so text order is time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ObjectRef:
    """A thing an event touched: an entity id and, when known, whose data it is."""

    id: str
    dataset: str | None = None
    agency: str | None = None
    country: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "agency": self.agency,
            "country": self.country,
        }


@dataclass(frozen=True)
class AuditEvent:
    action: str
    outcome: str
    actor: str | None = None
    agency: str | None = None
    country: str | None = None
    objects: tuple[ObjectRef, ...] = ()
    purpose: str | None = None
    case_ref: str | None = None
    request_id: str | None = None
    client: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise InvalidInput(
                f"audit outcome {self.outcome!r} is not one of {', '.join(sorted(OUTCOMES))}"
            )
        if not self.action:
            raise InvalidInput("audit action must not be empty")
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if value is None or len(value) <= limit:
                continue
            if name in _TRUNCATED:
                object.__setattr__(self, name, value[:limit])
            else:
                raise InvalidInput(f"audit {name} is longer than {limit} characters")
        if not isinstance(self.objects, tuple):
            object.__setattr__(self, "objects", tuple(self.objects))


@dataclass(frozen=True)
class Receipt:
    """What the owning agency sees when another agency reads one of its objects."""

    owner_agency: str
    owner_country: str
    dataset: str
    object_id: str
    reader: str
    reader_agency: str
    reader_country: str
    action: str
    grant_id: str | None
    purpose: str | None
    case_ref: str | None


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    ts: str
    key_id: str
    signature: str

    def signed_message(self) -> bytes:
        return checkpoint_message(self.tree_size, self.root_hash, self.ts)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    first_bad_seq: int | None
    problem: str | None
    checkpoints_checked: int


def checkpoint_message(tree_size: int, root_hex: str, ts: str) -> bytes:
    return f"{CHECKPOINT_DOMAIN}\n{tree_size}\n{root_hex}\n{ts}\n".encode()


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: the hashed fields as compact, key-sorted UTF-8 JSON.

    The reference definition; ``_canonical`` builds the same bytes faster from stored text.
    """
    return _dumps({k: record[k] for k in HASHED_FIELDS}).encode()


_str = json.encoder.encode_basestring  # the JSON string encoder json.dumps itself uses


def _opt(value: str | None) -> str:
    return "null" if value is None else _str(value)


def _canonical(
    seq: int,
    ts: str,
    actor: str | None,
    agency: str | None,
    country: str | None,
    action: str,
    objects_json: str,
    purpose: str | None,
    case_ref: str | None,
    outcome: str,
    request_id: str | None,
    client: str | None,
    detail_json: str,
) -> bytes:
    """``canonical_bytes`` spelled out, keys in sorted order, with ``objects`` and ``detail``
    given as their (already canonical) stored JSON text.

    Verify runs this a million times: splicing stored text avoids decoding and re-encoding
    two JSON columns per record, which was most of the time.
    """
    if type(seq) is not int:
        raise TypeError("seq is not an integer")
    return (
        f'{{"action":{_str(action)},"actor":{_opt(actor)},"agency":{_opt(agency)},'
        f'"case_ref":{_opt(case_ref)},"client":{_opt(client)},"country":{_opt(country)},'
        f'"detail":{detail_json},"objects":{objects_json},"outcome":{_str(outcome)},'
        f'"purpose":{_opt(purpose)},"request_id":{_opt(request_id)},"seq":{seq},'
        f'"ts":{_str(ts)}}}'
    ).encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read the Ed25519 checkpoint key, creating it (PEM, PKCS8, mode 0600) if absent."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput(f"{path} does not hold an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL + mode at creation: the key is never readable by others, not even briefly,
    # and a concurrent creator cannot be silently overwritten.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_signing_key(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _event_row(event: AuditEvent) -> dict[str, Any]:
    """The stored fields of an event; ``objects`` and ``detail`` as canonical JSON text,
    which is stored verbatim so that verify can hash it without re-encoding."""
    try:
        detail = _dumps(dict(event.detail))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"audit detail must be plain JSON data: {exc}") from exc
    return {
        "actor": event.actor,
        "agency": event.agency,
        "country": event.country,
        "action": event.action,
        "objects_json": _dumps([o.as_dict() for o in event.objects]),
        "purpose": event.purpose,
        "case_ref": event.case_ref,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "client": event.client,
        "detail_json": detail,
    }


class AuditLog:
    """Append, verify, checkpoint and query the audit log.

    ``signing_key_path`` None means the configured default (``Settings``). The key is only
    loaded (or created) when a checkpoint is made or checked, so appending needs no key.
    """

    def __init__(self, db: Database, signing_key_path: Path | None = None) -> None:
        self.db = db
        self._key_path = signing_key_path
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()
        # objects/detail are bound as their canonical JSON text, bypassing the JSON type's
        # own serializer (which adds spaces and keeps key order), so the stored text is the
        # hashed text. PostgreSQL's json type keeps text verbatim; it needs an explicit cast.
        json_text: Callable[[str], Any]
        if db.is_sqlite:

            def json_text(name: str) -> Any:
                return sa.bindparam(name, type_=sa.Text)
        else:

            def json_text(name: str) -> Any:
                return sa.cast(sa.bindparam(name, type_=sa.Text), audit_record.c.detail.type)

        self._insert_stmt = audit_record.insert().values(
            objects=json_text("objects_json"), detail=json_text("detail_json")
        )

    # -- keys -------------------------------------------------------------------------------

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            path = self._key_path
            if path is None:
                from binational.core.settings import get_settings

                path = get_settings().resolved_signing_key_file()
            self._key = load_or_create_signing_key(path)
        return self._key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    # -- append -----------------------------------------------------------------------------

    def _lock_chain(self, conn: Connection) -> tuple[int, str]:
        """Take the database-wide append lock and read the chain head under it."""
        if not self.db.is_sqlite:
            # SQLite needs nothing more: db.write() began with BEGIN IMMEDIATE.
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        row = conn.execute(
            sa.select(_seq_col, audit_record.c.record_hash).order_by(_seq_col.desc()).limit(1)
        ).first()
        if row is None:
            return -1, GENESIS_HASH
        return int(row[0]), str(row[1])

    def _insert(
        self, conn: Connection, events: Iterable[tuple[AuditEvent, Sequence[Receipt]]]
    ) -> list[int]:
        seq, prev = self._lock_chain(conn)
        rows: list[dict[str, Any]] = []
        receipt_rows: list[dict[str, Any]] = []
        for event, receipts in events:
            seq += 1
            row = _event_row(event)
            row["seq"] = seq
            row["ts"] = utc_now_iso()
            try:
                canonical = _canonical(
                    seq,
                    row["ts"],
                    row["actor"],
                    row["agency"],
                    row["country"],
                    row["action"],
                    row["objects_json"],
                    row["purpose"],
                    row["case_ref"],
                    row["outcome"],
                    row["request_id"],
                    row["client"],
                    row["detail_json"],
                )
            except UnicodeEncodeError as exc:
                raise InvalidInput(f"audit event has text that is not valid UTF-8: {exc}") from exc
            row["prev_hash"] = prev
            prev = row["record_hash"] = chain_hash(prev, canonical)
            row["leaf_hash"] = merkle.leaf_hash(canonical).hex()
            rows.append(row)
            for r in receipts:
                receipt_rows.append(
                    {
                        "audit_seq": seq,
                        "ts": row["ts"],
                        "owner_agency": r.owner_agency,
                        "owner_country": r.owner_country,
                        "reader": r.reader,
                        "reader_agency": r.reader_agency,
                        "reader_country": r.reader_country,
                        "grant_id": r.grant_id,
                        "action": r.action,
                        "object_id": r.object_id,
                        "dataset": r.dataset,
                        "purpose": r.purpose,
                        "case_ref": r.case_ref,
                    }
                )
        if rows:
            conn.execute(self._insert_stmt, rows)
        if receipt_rows:
            conn.execute(access_receipt.insert(), receipt_rows)
        return [r["seq"] for r in rows]

    def append(self, event: AuditEvent, receipts: Sequence[Receipt] = ()) -> int:
        """Record one event (and its access receipts); returns its seq, its Merkle leaf index.

        Always its own transaction on its own connection, so the record stays even when the
        caller's business transaction rolls back. On SQLite, do not call this while the same
        thread holds another open write transaction: the two would wait on each other.
        """
        with self._lock, self.db.write() as conn:
            return self._insert(conn, [(event, receipts)])[0]

    def append_many(self, events: Iterable[AuditEvent]) -> list[int]:
        """Record many events in one transaction (bulk loads, benchmarks)."""
        with self._lock, self.db.write() as conn:
            return self._insert(conn, ((e, ()) for e in events))

    # -- reading the chain -------------------------------------------------------------------

    def count(self) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(audit_record)).scalar_one()
            )

    def head(self) -> tuple[int, str]:
        """(seq, record_hash) of the newest record; (-1, 64 zeros) when the log is empty."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(_seq_col, audit_record.c.record_hash).order_by(_seq_col.desc()).limit(1)
            ).first()
        return (-1, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def _iter_rows(
        self, conn: Connection, columns: Sequence[Any], batch: int, stop: int | None = None
    ) -> Iterator[Sequence[Any]]:
        """Rows ordered by seq in keyset-paginated batches (seq must be the first column).

        The next batch is fetched on a worker thread while the caller checks this one: the
        driver waits on the database without the GIL, so reading and hashing overlap."""

        def fetch(last: int | None) -> list[Any]:
            query = sa.select(*columns)
            if last is not None:
                query = query.where(_seq_col > last)
            if stop is not None:
                query = query.where(_seq_col < stop)
            return list(conn.execute(query.order_by(_seq_col).limit(batch)).all())

        # No lower bound at first: a stray negative seq is seen too.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bn-audit-read") as pool:
            rows = fetch(None)
            while rows:
                upcoming = pool.submit(fetch, rows[-1][0]) if len(rows) == batch else None
                yield from rows
                rows = upcoming.result() if upcoming is not None else []

    def _leaves(self, conn: Connection, tree_size: int, batch: int = 100_000) -> list[bytes]:
        fromhex = bytes.fromhex
        return [
            fromhex(row[1])
            for row in self._iter_rows(
                conn, (_seq_col, audit_record.c.leaf_hash), batch, stop=tree_size
            )
        ]

    def _checked_size(self, conn: Connection, name: str, value: int, low: int) -> int:
        size = int(conn.execute(sa.select(sa.func.count()).select_from(audit_record)).scalar_one())
        if not low <= value <= size:
            raise InvalidInput(
                f"{name} must be between {low} and {size} (the log size), got {value}"
            )
        return size

    def root_at(self, tree_size: int) -> str:
        with self.db.read() as conn:
            self._checked_size(conn, "tree_size", tree_size, 0)
            return merkle.root(self._leaves(conn, tree_size)).hex()

    def inclusion_proof(self, index: int, tree_size: int) -> list[str]:
        with self.db.read() as conn:
            self._checked_size(conn, "tree_size", tree_size, 1)
            if not 0 <= index < tree_size:
                raise InvalidInput(
                    f"index must be between 0 and {tree_size - 1} for tree_size {tree_size}, "
                    f"got {index}"
                )
            leaves = self._leaves(conn, tree_size)
        return [h.hex() for h in merkle.inclusion_proof(leaves, index, tree_size)]

    def consistency_proof(self, first: int, second: int) -> list[str]:
        with self.db.read() as conn:
            self._checked_size(conn, "second", second, 0)
            if not 0 <= first <= second:
                raise InvalidInput(f"first must be between 0 and {second}, got {first}")
            leaves = self._leaves(conn, second)
        return [h.hex() for h in merkle.consistency_proof(leaves, first, second)]

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoints(self) -> list[Checkpoint]:
        with self.db.read() as conn:
            rows = (
                conn.execute(sa.select(audit_checkpoint).order_by(audit_checkpoint.c.tree_size))
                .mappings()
                .all()
            )
        return [Checkpoint(**dict(r)) for r in rows]

    def checkpoint(self) -> Checkpoint:
        """Sign the Merkle root of the whole log as it is now (idempotent per size)."""
        key = self.signing_key
        with self.db.read() as conn:
            leaves = self._leaves(conn, 2**62)
            size = len(leaves)
            existing = (
                conn.execute(
                    sa.select(audit_checkpoint).where(audit_checkpoint.c.tree_size == size)
                )
                .mappings()
                .first()
            )
        if existing is not None:
            return Checkpoint(**dict(existing))
        root_hex = merkle.root(leaves).hex()
        ts = utc_now_iso()
        cp = Checkpoint(
            tree_size=size,
            root_hash=root_hex,
            ts=ts,
            key_id=key_id_of(key.public_key()),
            signature=key.sign(checkpoint_message(size, root_hex, ts)).hex(),
        )
        with self.db.write() as conn:
            # A concurrent checkpoint of the same size may have won: keep the stored one.
            self.db.insert_ignore(conn, audit_checkpoint, [asdict(cp)])
            stored = (
                conn.execute(
                    sa.select(audit_checkpoint).where(audit_checkpoint.c.tree_size == size)
                )
                .mappings()
                .one()
            )
        return Checkpoint(**dict(stored))

    # -- verify ------------------------------------------------------------------------------

    def verify(
        self, progress: Callable[[int], None] | None = None, batch: int = 50_000
    ) -> VerifyReport:
        """Re-derive every hash from the stored records and check every signed checkpoint."""
        cps = self.checkpoints()
        wanted = {cp.tree_size for cp in cps}
        roots: dict[int, bytes] = {}
        tree = merkle.CompactRange()
        if 0 in wanted:
            roots[0] = tree.root()
        c = audit_record.c
        # objects/detail as their stored text (CAST: psycopg would otherwise decode json).
        columns = [
            *(
                sa.cast(c[name], sa.Text) if name in ("objects", "detail") else c[name]
                for name in HASHED_FIELDS
            ),
            c.prev_hash,
            c.record_hash,
            c.leaf_hash,
        ]
        canonical_of = _canonical
        sha256 = hashlib.sha256
        append_leaf = tree.append
        expected_seq = 0
        prev = GENESIS_HASH

        def bad(seq: int, problem: str) -> VerifyReport:
            return VerifyReport(False, expected_seq, seq, problem, 0)

        with self.db.read() as conn:
            for row in self._iter_rows(conn, columns, batch):
                seq = row[0]
                if seq < expected_seq:
                    return bad(seq, f"record {seq} is out of sequence (an inserted record)")
                if seq != expected_seq:
                    missing = (
                        f"record {expected_seq} is missing"
                        if seq == expected_seq + 1
                        else f"records {expected_seq} to {seq - 1} are missing"
                    )
                    where = (
                        f"sequence jumps from {expected_seq - 1} to {seq}"
                        if expected_seq
                        else f"sequence starts at {seq}"
                    )
                    return bad(expected_seq, f"{missing} ({where})")
                stored_prev, stored_hash, stored_leaf = row[13], row[14], row[15]
                try:
                    canonical = canonical_of(*row[:13])
                    leaf = sha256(b"\x00" + canonical).digest()
                    intact = (
                        sha256(stored_prev.encode() + canonical).hexdigest() == stored_hash
                        and leaf.hex() == stored_leaf
                    )
                except (TypeError, AttributeError, UnicodeError):
                    # A value of the wrong type (SQLite does not enforce column types).
                    intact = False
                if not intact:
                    return bad(
                        seq, f"record {seq} was altered: its content does not match its hash"
                    )
                if stored_prev != prev:
                    return bad(
                        seq,
                        f"record {seq} does not follow record {seq - 1} "
                        "(chain broken: records deleted or reordered)"
                        if seq
                        else "record 0 does not start the chain (chain broken: records replaced)",
                    )
                prev = stored_hash
                append_leaf(leaf)
                expected_seq += 1
                if expected_seq in wanted:
                    roots[expected_seq] = tree.root()
                if progress is not None and expected_seq % batch == 0:
                    progress(expected_seq)
        total = expected_seq
        if progress is not None and total % batch:
            progress(total)

        if not cps:
            return VerifyReport(True, total, None, None, 0)
        public_key = self.public_key
        our_key_id = key_id_of(public_key)
        good_below = 0
        for checked, cp in enumerate(cps):
            try:
                public_key.verify(bytes.fromhex(cp.signature), cp.signed_message())
            except (InvalidSignature, ValueError):
                whose = (
                    ""
                    if cp.key_id == our_key_id
                    else f" (signed by key {cp.key_id}, this log's key is {our_key_id})"
                )
                return VerifyReport(
                    False,
                    total,
                    None,
                    f"checkpoint at size {cp.tree_size} has an invalid signature{whose}",
                    checked,
                )
            if cp.tree_size > total:
                return VerifyReport(
                    False,
                    total,
                    total,
                    f"log has {total} records but checkpoint at size {cp.tree_size} was "
                    "signed: records were deleted from the end",
                    checked,
                )
            if roots[cp.tree_size].hex() != cp.root_hash:
                return VerifyReport(
                    False,
                    total,
                    good_below,
                    f"checkpoint at size {cp.tree_size} does not match the log: records were "
                    f"rewritten (somewhere in records {good_below} to {cp.tree_size - 1})",
                    checked,
                )
            good_below = cp.tree_size
        return VerifyReport(True, total, None, None, len(cps))

    # -- viewer ------------------------------------------------------------------------------

    def records(
        self,
        *,
        actor: str | None = None,
        agency: str | None = None,
        action: str | None = None,
        object_agency: str | None = None,
        since_seq: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Records for the audit viewer, newest first; ``since_seq`` keeps those after it."""
        c = audit_record.c
        query = sa.select(audit_record)
        if actor is not None:
            query = query.where(c.actor == actor)
        if agency is not None:
            query = query.where(c.agency == agency)
        if action is not None:
            query = query.where(c.action == action)
        if since_seq is not None:
            query = query.where(c.seq > since_seq)
        if object_agency is not None:
            # JSON array membership has no portable spelling; each backend's own function.
            if self.db.is_sqlite:
                clause = sa.text(
                    "EXISTS (SELECT 1 FROM json_each(audit_record.objects) AS o "
                    "WHERE json_extract(o.value, '$.agency') = :object_agency)"
                )
            else:
                clause = sa.text(
                    "EXISTS (SELECT 1 FROM json_array_elements(audit_record.objects) AS o "
                    "WHERE o ->> 'agency' = :object_agency)"
                )
            query = query.where(clause.bindparams(object_agency=object_agency))
        query = query.order_by(c.seq.desc()).limit(max(0, limit))
        with self.db.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def receipts(
        self, owner_agency: str, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Cross-agency reads of ``owner_agency``'s data, newest first."""
        r = access_receipt.c
        query = (
            sa.select(access_receipt)
            .where(r.owner_agency == owner_agency)
            .order_by(r.id.desc())
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        with self.db.read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
