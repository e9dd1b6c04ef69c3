"""Pluggable file ingest: a ``Format`` turns a file into FtM entities, ``ingest()`` stores them.

A format is a small class registered by name::

    @register_format("ofac-csv")
    class OFACFormat(Format):
        def records(self, path, options):
            ...
            yield Parsed(line, entity)            # an FtM entity read from ``line``
            yield RowError(line, "no name")       # a bad row: reported, the rest goes on
            yield RowWarning(line, "dropped ...")  # a note for the report

``records`` validates whatever it can before its first ``yield`` (mapping files, headers,
encodings) and raises ``InvalidInput`` naming the file for problems that make the whole file
unreadable: ``ingest()`` pulls the first item before it opens the write transaction. It may set
``self.bytes_read`` as it goes so that callers can show progress. Repeated entity ids are merged
as FtM fragments; a format whose rows normally repeat ids (a mapping) sets ``fragments = True``
so that repeats are not noted as warnings.

``ingest()`` owns everything else: the dataset check, size limit, one write transaction for the
whole file, schema conflicts (within the file and against what is stored), the strict and
``max_errors`` policies, the ``ingest_run`` record and the report.
"""

from __future__ import annotations

import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
import structlog
from followthemoney import EntityProxy, model
from followthemoney.exc import InvalidData
from followthemoney.statement.util import BASE_ID
from sqlalchemy.engine import Connection

from binational.core import tables as t
from binational.core.db import Database
from binational.core.errors import InvalidInput, NotFound, TooLarge
from binational.core.settings import get_settings
from binational.core.store import Store, StoreWriter, utcnow

__all__ = [
    "FORMATS",
    "Format",
    "IngestAborted",
    "IngestReport",
    "Item",
    "Parsed",
    "RowError",
    "RowWarning",
    "check_text_sample",
    "get_format",
    "ingest",
    "register_format",
]

log = structlog.get_logger(__name__)

BATCH = 1_000  # entities per schema-conflict query, and records between progress calls
MAX_RUN_ERRORS = 1_000  # errors kept in the ingest_run row
MAX_KEPT = 10_000  # errors (and warnings) kept in memory for the report
ID_MAX = 255  # width of statement.entity_id
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class RowError:
    """A row that could not be read and was skipped; ``path`` is filled in by ``ingest()``."""

    line: int
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.path or '<input>'}:{self.line}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class RowWarning:
    """A row that was read, with a caveat (a merge, a dropped value)."""

    line: int
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.path or '<input>'}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Parsed:
    """An entity read from ``line`` of the source file."""

    line: int
    entity: EntityProxy


Item = Parsed | RowError | RowWarning


class Format(ABC):
    """Reads one kind of file. Instantiated once per ingest, so it may keep state."""

    name: ClassVar[str] = ""
    fragments: ClassVar[bool] = False
    """True when rows normally repeat entity ids (mappings): repeats merge without a warning."""

    def __init__(self) -> None:
        self.bytes_read = 0

    @abstractmethod
    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        """Yield ``Parsed``, ``RowError`` and ``RowWarning`` items, in file order."""


FORMATS: dict[str, type[Format]] = {}
F = TypeVar("F", bound=type[Format])


def register_format(name: str) -> Callable[[F], F]:
    """Class decorator: make a ``Format`` available to ``ingest()`` under ``name``."""

    def decorate(cls: F) -> F:
        if name in FORMATS and FORMATS[name] is not cls:
            raise ValueError(f"ingest format {name!r} is already registered by {FORMATS[name]}")
        cls.name = name
        FORMATS[name] = cls
        return cls

    return decorate


def get_format(name: str) -> type[Format]:
    if name not in FORMATS:
        from binational.core.plugins import load_formats

        load_formats()  # capabilities' formats (e.g. ofac-csv), found through entry points
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS)) or "none"
        raise InvalidInput(f"unknown ingest format {name!r}; known formats: {known}") from None


def check_text_sample(path: Path, head: bytes, encoding: str) -> None:
    """Refuse a file whose first bytes are plainly not text in ``encoding`` (for formats).

    A few undecodable lines are row errors; a file that is mostly undecodable, or that is
    UTF-16/32 or binary when read as an 8-bit encoding, is the wrong file or the wrong
    ``encoding`` option, and saying so once beats thousands of row errors.
    """
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    if not wide:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InvalidInput(
                f"{path}: the file is UTF-16 or UTF-32 text (it starts with a byte order "
                f"mark), not {encoding}; convert it or set the encoding option"
            )
        if b"\x00" in head:
            raise InvalidInput(
                f"{path}: the file holds NUL bytes: it is binary or UTF-16/32, not {encoding} text"
            )
    if len(head) == SNIFF_BYTES:
        if b"\n" not in head:
            return  # one long line, cut mid-way: nothing to judge by
        head = head[: head.rindex(b"\n")]  # a cut-off last line could fail to decode
    lines = [ln for ln in head.splitlines() if ln.strip()]
    if wide or not lines:
        return
    bad = 0
    for ln in lines:
        try:
            ln.decode(encoding)
        except UnicodeDecodeError:
            bad += 1
    if bad * 2 > len(lines):
        raise InvalidInput(
            f"{path}: {bad} of the first {len(lines)} lines are not valid {encoding} text; "
            "the file has another encoding (set the encoding option, or convert it with iconv)"
        )


class IngestAborted(InvalidInput):
    """The whole ingest was rolled back (strict mode, too many errors); ``report`` says why."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class IngestReport:
    run_id: str
    dataset: str
    format: str
    source: str
    source_sha256: str = ""
    status: str = "failed"
    records: int = 0
    """Entity fragments written (a merged entity counts once per row it came from)."""
    entities: int = 0
    """Distinct entity ids written."""
    statements_new: int = 0
    statements_seen: int = 0
    """Statements already stored (a re-ingest of the same file changes nothing)."""
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def seconds(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; counts are ints, errors and warnings as their rendered lines."""
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "format": self.format,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "status": self.status,
            "records": self.records,
            "entities": self.entities,
            "statements_new": self.statements_new,
            "statements_seen": self.statements_seen,
            "error_count": self.error_count,
            "errors": [str(e) for e in self.errors],
            "warnings": [str(w) for w in self.warnings],
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    def summary(self) -> str:
        return (
            f"{self.source}: {self.status}: {self.entities} entities from {self.records} "
            f"records, {self.statements_new} new statements, {self.statements_seen} unchanged, "
            f"{self.error_count} bad rows, {len(self.warnings)} warnings"
        )


@dataclass
class _Seen:
    schema: str
    line: int  # 0: already stored before this ingest
    written: bool = False


class _Run:
    """The loop of one ingest, inside its write transaction."""

    def __init__(
        self,
        fmt: Format,
        writer: StoreWriter,
        report: IngestReport,
        path: Path,
        size: int,
        strict: bool,
        max_errors: int | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.fmt = fmt
        self.writer = writer
        self.report = report
        self.path = path
        self.size = size
        self.strict = strict
        self.max_errors = max_errors
        self.progress = progress
        self.seen: dict[str, _Seen] = {}
        self.pending: list[Parsed] = []

    def run(self, items: Iterable[Item]) -> None:
        for count, item in enumerate(items, 1):
            if isinstance(item, Parsed):
                self.pending.append(item)
                if len(self.pending) >= BATCH:
                    self.write_pending()
            elif isinstance(item, RowWarning):
                self.warn(item)
            else:
                self.error(item)
            if self.progress is not None and count % BATCH == 0:
                self.progress(min(self.fmt.bytes_read, self.size), self.size)
        self.write_pending()
        self.writer.flush()

    def warn(self, item: RowWarning) -> None:
        if len(self.report.warnings) < MAX_KEPT:
            self.report.warnings.append(replace(item, path=str(self.path)))

    def error(self, item: RowError) -> None:
        item = replace(item, path=str(self.path))
        self.report.error_count += 1
        if len(self.report.errors) < MAX_KEPT:
            self.report.errors.append(item)
        if self.strict:
            raise IngestAborted(f"{item} (strict mode: nothing was written)", self.report)
        if self.max_errors is not None and self.report.error_count > self.max_errors:
            raise IngestAborted(
                f"{self.path}: more than {self.max_errors} bad rows (max_errors), the last "
                f"at line {item.line}; nothing was written. First: {self.report.errors[0]}",
                self.report,
            )

    def write_pending(self) -> None:
        batch, self.pending = self.pending, []
        signed: list[tuple[Parsed, str]] = []
        for item in batch:
            problem, entity_id = self.check(item.entity)
            if problem is not None:
                self.error(RowError(item.line, problem))
            else:
                signed.append((item, entity_id))
        self.load_stored({sid for _, sid in signed if sid not in self.seen})
        for item, sid in signed:
            entity = item.entity
            prev = self.seen.get(sid)
            if prev is not None:
                try:
                    common = model.common_schema(prev.schema, entity.schema)
                except InvalidData:
                    where = f"line {prev.line}" if prev.line else "what is already stored"
                    self.error(
                        RowError(
                            item.line,
                            f"entity {entity.id} is a {entity.schema.name} here but a "
                            f"{prev.schema} in {where}: FtM cannot merge the two schemata",
                        )
                    )
                    continue
                if prev.line and not self.fmt.fragments:
                    self.warn(
                        RowWarning(
                            item.line,
                            f"entity {entity.id} at line {item.line} repeats line "
                            f"{prev.line}: merged",
                        )
                    )
                prev.schema = common.name
            else:
                prev = self.seen[sid] = _Seen(entity.schema.name, item.line)
            if not prev.written:
                prev.written = True
                self.report.entities += 1
            self.writer.add_entity(entity)
            self.report.records += 1

    def check(self, entity: EntityProxy) -> tuple[str | None, str]:
        """What the store would reject, found before anything of the entity is queued."""
        if not entity.id:
            return f"{entity.schema.name} entity has no id", ""
        try:
            sid = self.writer.sign(entity.id)
            for prop, value in entity.itervalues():
                if "\x00" in value:
                    return f"{prop.name} value holds a NUL character", ""
                if prop.type.name == "entity":
                    self.writer.sign(value)
        except InvalidInput as exc:
            return exc.message, ""
        if len(sid) > ID_MAX:
            return f"entity id {entity.id[:40]}... is too long", ""
        return None, sid

    def load_stored(self, ids: set[str]) -> None:
        """Schemata already stored for these ids, so that conflicts with them are row errors."""
        if not ids:
            return
        st = t.statement
        q = sa.select(st.c.entity_id, st.c.schema).where(
            st.c.dataset == self.writer.dataset,
            st.c.prop == BASE_ID,
            st.c.entity_id.in_(sorted(ids)),
        )
        for entity_id, schema in self.writer.conn.execute(q):
            prev = self.seen.get(entity_id)
            if prev is None:
                self.seen[entity_id] = _Seen(schema, 0)
                continue
            try:
                prev.schema = model.common_schema(prev.schema, schema).name
            except InvalidData:
                continue  # stored data is already inconsistent; keep the first reading


def _check_dataset(db: Database, dataset: str) -> None:
    with db.read() as conn:
        found = conn.execute(sa.select(t.dataset.c.name).where(t.dataset.c.name == dataset)).first()
    if found is None:
        raise NotFound(f"dataset {dataset!r} does not exist; create it before ingesting")


def _check_file(path: Path, max_bytes: int) -> int:
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    if not path.is_file():
        raise InvalidInput(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{path}: the file is empty")
    if size > max_bytes:
        raise TooLarge(
            f"{path}: the file is {size:,} bytes ({size / 2**20:.1f} MiB), above the limit of "
            f"{max_bytes:,} bytes ({max_bytes / 2**20:.1f} MiB); split it or raise max_bytes"
        )
    return size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run_row(report: IngestReport, actor: str, fatal: str | None) -> dict[str, Any]:
    errors = [e.to_json() for e in report.errors[:MAX_RUN_ERRORS]]
    if fatal is not None:
        errors = [*errors[: MAX_RUN_ERRORS - 1], {"line": None, "message": fatal}]
    return {
        "id": report.run_id,
        "dataset": report.dataset,
        "format": report.format,
        "source": report.source,
        "source_sha256": report.source_sha256,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "entities": report.entities,
        "statements_new": report.statements_new,
        "statements_seen": report.statements_seen,
        "errors": errors,
        "status": report.status,
        "actor": actor,
    }


def _record(conn: Connection, report: IngestReport, actor: str, fatal: str | None) -> None:
    conn.execute(sa.insert(t.ingest_run).values(**_run_row(report, actor, fatal)))


def ingest(
    db: Database,
    store: Store,
    fmt_name: str,
    path: Path | str,
    dataset: str,
    *,
    actor: str,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    strict: bool = False,
    max_errors: int | None = None,
) -> IngestReport:
    """Read ``path`` with format ``fmt_name`` into ``dataset``, all or nothing.

    Bad rows are reported (``report.errors``) and skipped, unless ``strict`` (any bad row) or
    ``max_errors`` (more than that many) aborts with ``IngestAborted``. Whole-file problems
    raise ``InvalidInput`` (``TooLarge`` above ``options["max_bytes"]``). Either way a failed
    run leaves no statements behind and is recorded in ``ingest_run`` with status "failed".
    """
    opts = dict(options or {})
    fmt_cls = get_format(fmt_name)
    if max_errors is not None and max_errors < 0:
        raise InvalidInput(f"max_errors must be 0 or more, not {max_errors}")
    _check_dataset(db, dataset)
    path = Path(path)
    max_bytes = int(opts.pop("max_bytes", None) or get_settings().max_upload_bytes)
    report = IngestReport(
        run_id=uuid.uuid4().hex,
        dataset=dataset,
        format=fmt_name,
        source=str(path.absolute()),
        started_at=utcnow(),
    )
    fmt = fmt_cls()
    items: Iterator[Item] | None = None
    try:
        size = _check_file(path, max_bytes)
        report.source_sha256 = _sha256(path)
        items = fmt.records(path, opts)
        # Formats check the whole file (mapping, header, encoding) before their first item:
        # pulling it here raises those problems before the write transaction starts.
        first = next(items, None)
        with db.write() as conn:
            writer = store.writer(conn, dataset, origin=f"ingest:{report.run_id}")
            run = _Run(fmt, writer, report, path, size, strict, max_errors, progress)
            run.run(_chain(first, items))
            report.statements_new = writer.stats.statements_new
            report.statements_seen = writer.stats.statements_seen
            report.status = "ok-with-errors" if report.error_count else "ok"
            report.finished_at = utcnow()
            _record(conn, report, actor, None)
    except BaseException as exc:
        report.status = "failed"
        report.finished_at = utcnow()
        report.entities = report.records = 0
        report.statements_new = report.statements_seen = 0
        if items is not None and hasattr(items, "close"):
            items.close()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        try:
            with db.write() as conn:
                _record(conn, report, actor, message)
        except Exception:  # the original error matters more than the bookkeeping
            log.exception("could not record failed ingest run", run_id=report.run_id)
        raise
    if progress is not None:
        progress(size, size)
    log.info(
        "ingest",
        run_id=report.run_id,
        dataset=dataset,
        format=fmt_name,
        source=report.source,
        status=report.status,
        entities=report.entities,
        statements_new=report.statements_new,
        errors=report.error_count,
    )
    return report


def _chain(first: Item | None, rest: Iterator[Item]) -> Iterator[Item]:
    if first is None:
        return
    yield first
    yield from rest


# The built-in formats register themselves on import.
from binational.core.ingest import csv as _csv  # noqa: E402, F401
from binational.core.ingest import ftm as _ftm  # noqa: E402, F401
