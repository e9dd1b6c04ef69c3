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

With ``replace=True`` the file is the complete new version of the dataset (a sanctions list
published anew): in the same transaction, whatever of the dataset the run did not write is
deleted, and the report counts the entities ``added``, ``changed`` and ``removed``. A file
that fails leaves the previous version in service, since nothing commits.

A format whose input is a folder of files (OFAC's ``sdn.csv`` with ``alt.csv``...) sets
``directories = True``; ``ingest()`` then accepts a folder path, sized and hashed as a whole.
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
DIFF_EXAMPLES = 100  # entity ids listed per kind of change in ``report.diff``
DELETE_CHUNK = 5_000  # stale rows per executemany DELETE of a replace


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
    directories: ClassVar[bool] = False
    """True when the format also reads a folder of files (given as the path)."""

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
    replace: bool = False
    """The run replaced the dataset's contents; only then are the three counts below set."""
    added: int = 0
    """Entities the dataset did not hold before."""
    changed: int = 0
    """Entities held before whose statements (or schema) differ now."""
    removed: int = 0
    """Entities held before that the file no longer lists (deleted)."""
    diff: dict[str, list[str]] = field(default_factory=dict)
    """Up to ``DIFF_EXAMPLES`` sorted entity ids each for "added", "changed" and "removed"."""
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
            "replace": self.replace,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "diff": self.diff,
            "errors": [str(e) for e in self.errors],
            "warnings": [str(w) for w in self.warnings],
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    def summary(self) -> str:
        versus = (
            f" (replaced: {self.added} added, {self.changed} changed, {self.removed} removed)"
            if self.replace
            else ""
        )
        return (
            f"{self.source}: {self.status}: {self.entities} entities from {self.records} "
            f"records{versus}, {self.statements_new} new statements, {self.statements_seen} "
            f"unchanged, {self.error_count} bad rows, {len(self.warnings)} warnings"
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
        replace: bool = False,
    ) -> None:
        self.replace = replace
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
        if not ids or self.replace:
            return  # a replace supersedes what is stored: its schemata do not conflict
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


def _stored_entities(conn: Connection, dataset: str) -> dict[str, str]:
    """Entity id -> schema of what the dataset holds (its 'id' rows), before a replace."""
    st = t.statement
    q = sa.select(st.c.entity_id, st.c.schema).where(st.c.dataset == dataset, st.c.prop == BASE_ID)
    return {entity_id: schema for entity_id, schema in conn.execute(q)}


def _replace_rest(run: _Run, before: dict[str, str]) -> None:
    """Finish a replace: delete what the run did not write, count and list the differences.

    The writer knows the (entity_id, key) of every statement and name-text row it wrote; the
    dataset's rows outside that set are the previous version's leftovers. A written statement
    whose row carries this run's ``origin`` was inserted now (insert-ignore keeps the origin of
    a row that was already there), so its entity changed even if nothing was deleted from it.
    """
    writer, report = run.writer, run.report
    conn = writer.conn  # waits for any batch in flight; flush() has run
    written, texts = writer.written or set(), writer.written_texts or set()
    now = {sid: seen.schema for sid, seen in run.seen.items() if seen.written}
    if not now:
        # An empty (or all-bad) file would wipe the list: surely not a new version of it.
        raise InvalidInput(
            f"{run.path}: no entities were read, so the file cannot replace dataset "
            f"{writer.dataset!r}; nothing was changed"
        )
    st, et = t.statement, t.entity_text
    stale: list[tuple[str, str]] = []
    touched: set[str] = set()
    q = sa.select(st.c.entity_id, st.c.id, st.c.origin).where(st.c.dataset == writer.dataset)
    for entity_id, key, origin in conn.execute(q):
        if (entity_id, key) not in written:
            stale.append((entity_id, key))
            touched.add(entity_id)
        elif origin == writer.origin and entity_id in before:
            touched.add(entity_id)
    # One primary-key lookup per stale row, bound parameters run as executemany: a
    # "(entity_id, id) IN (...)" list is not an index range on SQLite and scans the table.
    st_del = sa.delete(st).where(
        st.c.entity_id == sa.bindparam("e"), st.c.dataset == writer.dataset,
        st.c.id == sa.bindparam("k"),
    )
    for chunk in _chunks(stale):
        conn.execute(st_del, [{"e": e, "k": k} for e, k in chunk])
    q = sa.select(et.c.entity_id, et.c.text_hash).where(et.c.dataset == writer.dataset)
    stale_texts: list[tuple[str, str]] = []
    for row in conn.execute(q):
        pair = (str(row[0]), str(row[1]))
        if pair not in texts:
            stale_texts.append(pair)
    et_del = sa.delete(et).where(
        et.c.dataset == writer.dataset, et.c.entity_id == sa.bindparam("e"),
        et.c.text_hash == sa.bindparam("h"),
    )
    for chunk in _chunks(stale_texts):
        conn.execute(et_del, [{"e": e, "h": h} for e, h in chunk])
    # Statement keys do not include the schema: an Organization that the new version calls a
    # Company keeps its rows, which are relabelled here.
    for entity_id, schema in now.items():
        if entity_id in before and before[entity_id] != schema:
            touched.add(entity_id)
            for table in (st, et):
                conn.execute(
                    sa.update(table)
                    .where(table.c.dataset == writer.dataset, table.c.entity_id == entity_id)
                    .values(schema=schema)
                )
    added = sorted(now.keys() - before.keys())
    removed = sorted(before.keys() - now.keys())
    changed = sorted(touched & before.keys() & now.keys())
    report.added, report.changed, report.removed = len(added), len(changed), len(removed)
    report.diff = {
        "added": added[:DIFF_EXAMPLES],
        "changed": changed[:DIFF_EXAMPLES],
        "removed": removed[:DIFF_EXAMPLES],
    }
    writer.stats.deleted += len(stale)


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), DELETE_CHUNK):
        yield rows[start : start + DELETE_CHUNK]


def _check_dataset(db: Database, dataset: str) -> None:
    with db.read() as conn:
        found = conn.execute(sa.select(t.dataset.c.name).where(t.dataset.c.name == dataset)).first()
    if found is None:
        raise NotFound(f"dataset {dataset!r} does not exist; create it before ingesting")


def _files(path: Path) -> list[Path]:
    """The file itself, or the regular files directly in a folder (for ``directories``)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file())
    return [path]


def _check_file(path: Path, max_bytes: int, directories: bool = False) -> int:
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    if not path.is_file() and not (directories and path.is_dir()):
        raise InvalidInput(f"{path}: not a file")
    size = sum(p.stat().st_size for p in _files(path))
    if size == 0:
        raise InvalidInput(f"{path}: the file is empty")
    if size > max_bytes:
        raise TooLarge(
            f"{path}: the file is {size:,} bytes ({size / 2**20:.1f} MiB), above the limit of "
            f"{max_bytes:,} bytes ({max_bytes / 2**20:.1f} MiB); split it or raise max_bytes"
        )
    return size


def _sha256(path: Path) -> str:
    """Of the file; of a folder, of its files' names and contents in name order."""
    digest = hashlib.sha256()
    folder = path.is_dir()
    for file in _files(path):
        if folder:
            digest.update(file.name.encode() + b"\x00")
        with file.open("rb") as fh:
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
    replace: bool = False,
) -> IngestReport:
    """Read ``path`` with format ``fmt_name`` into ``dataset``, all or nothing.

    Bad rows are reported (``report.errors``) and skipped, unless ``strict`` (any bad row) or
    ``max_errors`` (more than that many) aborts with ``IngestAborted``. Whole-file problems
    raise ``InvalidInput`` (``TooLarge`` above ``options["max_bytes"]``). Either way a failed
    run leaves no statements behind and is recorded in ``ingest_run`` with status "failed".

    ``replace``: the file is the complete new version of the dataset; what it no longer lists
    is deleted in the same transaction (``report.added/changed/removed``). A skipped bad row
    drops its entity from the new version like any unlisted one: pair ``replace`` with
    ``strict`` or ``max_errors`` where that matters. A file without any entity is refused.
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
        size = _check_file(path, max_bytes, fmt_cls.directories)
        report.source_sha256 = _sha256(path)
        items = fmt.records(path, opts)
        # Formats check the whole file (mapping, header, encoding) before their first item:
        # pulling it here raises those problems before the write transaction starts.
        first = next(items, None)
        report.replace = replace
        with db.write() as conn:
            writer = store.writer(conn, dataset, origin=f"ingest:{report.run_id}")
            before = _stored_entities(conn, dataset) if replace else {}
            if replace:
                writer.track()
            run = _Run(fmt, writer, report, path, size, strict, max_errors, progress, replace)
            try:
                run.run(_chain(first, items))
                if replace:
                    _replace_rest(run, before)
            except BaseException:
                writer.abandon()  # no batch may still be writing when the rollback runs
                raise
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
        report.added = report.changed = report.removed = 0
        report.diff = {}
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
        replace=replace,
        added=report.added,
        changed=report.changed,
        removed=report.removed,
    )
    _after_ingest(db, dataset, fmt_name, report)
    return report


def _after_ingest(db: Database, dataset: str, fmt_name: str, report: IngestReport) -> None:
    """Let capabilities refresh what they derive from a dataset (e.g. screening's candidate
    index), through the ``binational.ingested`` entry point: ``hook(db, dataset, format)``.
    The data has landed by now, so a failing hook is reported, never raised."""
    from binational.core.plugins import load

    for name, hook in load("binational.ingested"):
        try:
            hook(db, dataset, fmt_name)
        except Exception as exc:
            log.error("after-ingest hook failed", hook=name, dataset=dataset, error=str(exc))
            report.warnings.append(RowWarning(0, f"{name} could not refresh after this ingest: "
                                                 f"{exc}", str(report.source)))


def _chain(first: Item | None, rest: Iterator[Item]) -> Iterator[Item]:
    if first is None:
        return
    yield first
    yield from rest


# The built-in formats register themselves on import.
from binational.core.ingest import csv as _csv  # noqa: E402, F401
from binational.core.ingest import ftm as _ftm  # noqa: E402, F401
