"""Batch screening from the browser: a CSV of names in, a CSV of best matches out.

The upload is read in memory (it is size-capped below the multipart parser's in-memory limit,
so it never touches the disk) and parsed at once, so a broken file is refused with its line
number before anything is screened. A worker thread then screens the names while the page
polls for progress. No copy of the customer's file is kept: the bytes are dropped after
parsing, and the results live in memory only, for their owner's session, until downloaded
and discarded or for ``KEEP_MINUTES``. The audit trail records counts, never the names.
"""

from __future__ import annotations

import csv
import io
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from binational.core.access import Caller
from binational.core.errors import BinationalError, InvalidInput
from binational.core.logs import get_logger
from binational.core.platform import Platform
from binational.screening import DEFAULT_THRESHOLD, Match, Query, Screener

log = get_logger("binational.web.batch")

MAX_BYTES = 1_000_000  # below Starlette's 1 MiB in-memory spool: uploads stay off the disk
MAX_ROWS = 5_000
KEEP_MINUTES = 30
MAX_JOBS = 8
OUTPUT_COLUMNS = ("match_id", "match_caption", "match_score", "match", "match_datasets",
                  "match_programs")
INPUT_COLUMNS = ("name", "schema", "dob", "birth_date", "country", "identifier", "id")


class BatchError(Exception):
    """A problem with the uploaded file: a catalogue key and its values (e.g. the line)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class Row:
    line: int
    values: dict[str, str]
    query: Query


@dataclass
class Job:
    id: str
    owner: str
    session: str
    filename: str
    rows: list[Row]
    total: int
    done: int = 0
    matches: int = 0
    status: str = "queued"  # queued, running, done, failed
    error: str | None = None
    output: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total,
                "matches": self.matches, "percent": round(100 * self.done / self.total)
                if self.total else 100}

    def csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.output)
        return buf.getvalue()


def parse(data: bytes) -> tuple[list[Row], list[str]]:
    """Parse an uploaded CSV: rows with their queries, and the input columns kept."""
    if not data.strip():
        raise BatchError("batch.error.empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchError("batch.error.encoding", line=line) from None
    if "\x00" in text:
        raise BatchError("batch.error.binary")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise BatchError("batch.error.csv", line=1, problem=str(exc)) from None
    names = [(f or "").strip().lower() for f in header or []]
    if "name" not in names:
        raise BatchError("batch.error.header", found=", ".join(n for n in names if n) or "-")
    columns = [n for n in names if n in INPUT_COLUMNS]
    rows: list[Row] = []
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:
                raise BatchError("batch.error.columns", line=line)
            values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            if not any(values.values()):
                continue
            if len(rows) >= MAX_ROWS:
                raise BatchError("batch.error.rows", max=MAX_ROWS)
            rows.append(Row(line, values, _query(line, values)))
    except csv.Error as exc:
        raise BatchError("batch.error.csv", line=reader.line_num, problem=str(exc)) from None
    if not rows:
        raise BatchError("batch.error.empty")
    return rows, columns


def _query(line: int, row: dict[str, str]) -> Query:
    if not row.get("name"):
        raise BatchError("batch.error.name", line=line)
    try:
        return Query(name=row["name"], schema=row.get("schema") or "LegalEntity",
                     birth_date=row.get("dob") or row.get("birth_date") or None,
                     countries=tuple(c for c in (row.get("country") or "").split(";") if c),
                     identifiers=tuple(i for i in (row.get("identifier") or "").split(";")
                                       if i))
    except InvalidInput as exc:
        raise BatchError("batch.error.row", line=line, problem=exc.message) from None


def programs(match: Match) -> list[str]:
    return sorted({str(p) for s in match.sanctions for p in s.get("program", [])})


class Jobs:
    """The batch jobs of this server process (in memory, by design: see the module doc)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _expire(self) -> None:
        cutoff = time.monotonic() - KEEP_MINUTES * 60
        for job_id in [j.id for j in self._jobs.values() if j.created < cutoff]:
            del self._jobs[job_id]

    def start(self, platform: Platform, caller: Caller, session: str, filename: str,
              rows: list[Row], columns: list[str]) -> Job:
        with self._lock:
            self._expire()
            running = [j for j in self._jobs.values() if j.status in ("queued", "running")]
            if len(running) >= MAX_JOBS:
                raise BatchError("batch.error.busy")
        # Planned now, so a refusal (role, purpose) is shown on the upload page.
        results = Screener(platform).screen_many(caller, (r.query for r in rows),
                                                 threshold=DEFAULT_THRESHOLD, limit=1)
        job = Job(secrets.token_urlsafe(12), caller.principal.username, session,
                  filename, rows, len(rows), columns=[*columns, *OUTPUT_COLUMNS])
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, results), daemon=True,
                         name=f"batch-{job.id[:6]}").start()
        return job

    def _run(self, job: Job, results: Iterator[list[Match]]) -> None:
        job.status = "running"
        rows = job.rows
        try:
            # Driven by the results, so the generator runs to its end and writes its audit
            # record (marked complete) now, not whenever it is garbage-collected.
            for index, found in enumerate(results):
                row = rows[index]
                best: Match | None = found[0] if found else None
                job.output.append({
                    **{c: row.values.get(c, "") for c in job.columns},
                    "match_id": best.id if best else "",
                    "match_caption": best.caption if best else "",
                    "match_score": f"{best.score:.4f}" if best else "",
                    "match": "true" if best and best.match else "false",
                    "match_datasets": ";".join(sorted(best.datasets)) if best else "",
                    "match_programs": ";".join(programs(best)) if best else "",
                })
                job.done += 1
                job.matches += bool(best and best.match)
            job.status = "done"
        except BinationalError as exc:
            job.status, job.error = "failed", exc.message
        except Exception as exc:  # the page shows a failure; the log keeps the cause
            log.error("batch failed", job=job.id, error=f"{type(exc).__name__}: {exc}")
            job.status, job.error = "failed", None
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # after a failure: the audit record is written now, as incomplete
            job.rows = []  # the names are needed no longer than the screening

    def get(self, job_id: str, owner: str, session: str) -> Job | None:
        """The job, for its owner in the session that started it only."""
        with self._lock:
            self._expire()
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner or job.session != session:
            return None
        return job

    def discard(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)


JOBS = Jobs()
