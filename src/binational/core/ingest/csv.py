"""Format ``csv``: a CSV file mapped to FtM entities by a YAML mapping in FtM's mapping style.

Options: ``mapping`` (path of the YAML file, required), ``encoding`` (default utf-8; a UTF-8
byte order mark is skipped), ``delimiter`` (default ``,``), ``invalid_values`` (see ``ftm``).

The mapping is either a whole FtM mapping file (``{name: {queries: [{entities: ...}]}}``) or
one query (``{entities: ...}``). Every query reads the CSV file given to ``ingest()``: its
``csv_url`` is ignored, so one mapping serves any copy of the file. Mapping and header are
checked before the first row; rows are then mapped with followthemoney's ``QueryMapping``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import yaml
from banal import keys_values
from followthemoney import EntityProxy, model
from followthemoney.exc import InvalidData, InvalidMapping
from followthemoney.mapping import QueryMapping
from followthemoney.types import registry
from followthemoney.util import sanitize_text

from binational.core.errors import InvalidInput
from binational.core.ingest import (
    SNIFF_BYTES,
    Format,
    Item,
    Parsed,
    RowError,
    RowWarning,
    check_text_sample,
    register_format,
)
from binational.core.ingest.ftm import MAX_LISTED, invalid_values_option

# Multi-byte encodings cannot be decoded line by line (b"\n" is not a line break in them).
WIDE = ("utf-16", "utf-32")


def load_mapping(mapping_path: Path, csv_path: Path) -> list[QueryMapping]:
    """Parse and check a mapping file; every problem is an ``InvalidInput`` naming the file."""
    if not mapping_path.is_file():
        raise InvalidInput(f"{mapping_path}: mapping file not found")
    try:
        data = yaml.safe_load(mapping_path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{mapping_path}: not a valid YAML file: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{mapping_path}: expected a YAML mapping of queries or entities")
    queries: list[tuple[str | None, Any]] = []
    if "entities" in data:
        queries.append((None, data))
    else:
        for name, meta in data.items():
            found = keys_values(meta, "queries", "query") if isinstance(meta, dict) else []
            if not found:
                raise InvalidInput(
                    f"{mapping_path}: {name!r} has no queries; expected "
                    "{dataset: {queries: [{entities: ...}]}} or {entities: ...}"
                )
            queries.extend((str(name), q) for q in found)
    out: list[QueryMapping] = []
    for prefix, query in queries:
        if not isinstance(query, dict):
            raise InvalidInput(f"{mapping_path}: a query must be a mapping, not {query!r:.60}")
        if "database" in query:
            raise InvalidInput(f"{mapping_path}: SQL queries are not supported, only CSV")
        query = {k: v for k, v in query.items() if k not in ("csv_url", "csv_urls")}
        query["csv_url"] = str(csv_path)  # the file being ingested wins over the mapping's
        try:
            # key_prefix as `ftm map` uses it, so ids match what FtM's own tools produce.
            out.append(model.make_mapping(query, key_prefix=prefix))
        except InvalidMapping as exc:
            raise InvalidInput(f"{mapping_path}: invalid mapping: {exc}") from exc
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            # FtM assumes the documented shape; anything else fails inside it.
            raise InvalidInput(f"{mapping_path}: malformed mapping: {exc!r}") from exc
    return out


def referenced_columns(query: QueryMapping) -> set[str]:
    cols = set(query.refs)
    for key, _ in [*query.source.filters, *query.source.filters_not]:
        cols.add(key)
    return cols


def map_record(query: QueryMapping, record: dict[str, str]) -> tuple[list[EntityProxy], list[str]]:
    """``QueryMapping.map``, keeping the values FtM's cleaning rejects (FtM only logs them)."""
    done: dict[str, EntityProxy] = {}
    rejected: list[str] = []
    for emap in query.entities:
        proxy = model.make_entity(emap.schema)
        # Country properties first: phone and address cleaning reads them (as FtM does).
        ordered = sorted(emap.properties, key=lambda p: p.prop.type != registry.country)
        for pmap in ordered:
            for value in pmap.map(proxy, record, done):
                rejected.append(
                    f"{pmap.prop.name} {value[:60]!r} is not a valid {pmap.prop.type.name}"
                )
        proxy.id = emap.compute_key(record)
        if proxy.id is None:
            continue
        if any(p.required and not proxy.has(p.prop) for p in emap.properties):
            continue
        done[emap.name] = proxy
    return list(done.values()), rejected


class _Lines:
    """Decoded lines of a binary file; remembers which physical lines failed to decode."""

    def __init__(self, fh: IO[bytes], encoding: str, fmt: Format) -> None:
        self.fh = fh
        self.encoding = encoding
        self.fmt = fmt
        self.number = 0
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for raw in self.fh:
            self.number += 1
            self.fmt.bytes_read += len(raw)
            if self.number == 1 and self.encoding in ("utf-8", "utf-8-sig"):
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError as exc:
                self.bad[self.number] = (
                    f"not valid {self.encoding} ({exc.reason} at byte {exc.start + 1})"
                )
                yield raw.decode(self.encoding, "replace")


@register_format("csv")
class CSVFormat(Format):
    """A CSV file and an FtM mapping; rows that share keys merge into one entity."""

    fragments = True

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        invalid_values = invalid_values_option(options)
        if not options.get("mapping"):
            raise InvalidInput(f"{path}: the csv format needs a mapping file (option mapping)")
        mapping_path = Path(options["mapping"])
        queries = load_mapping(mapping_path, path)
        encoding = str(options.get("encoding") or "utf-8")
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise InvalidInput(f"unknown encoding {encoding!r}") from None
        delimiter = str(options.get("delimiter") or ",")
        if len(delimiter) != 1:
            raise InvalidInput(f"the delimiter must be one character, not {delimiter!r}")
        with path.open("rb") as fh:
            check_text_sample(path, fh.read(SNIFF_BYTES), encoding)
            fh.seek(0)
            wide = encoding.startswith(WIDE)
            lines = _Lines(fh, encoding, self)
            text: Any = io.TextIOWrapper(fh, encoding, newline="") if wide else lines
            reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise InvalidInput(f"{path}: no header row") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InvalidInput(f"{path}: cannot read the header row: {exc}") from exc
            if lines.bad:
                raise InvalidInput(
                    f"{path}: the header row is {lines.bad[min(lines.bad)]}; set the encoding "
                    "option to the file's encoding"
                )
            missing = set().union(*(referenced_columns(q) for q in queries)) - set(header)
            if missing:
                raise InvalidInput(
                    f"{mapping_path}: columns {', '.join(sorted(missing))} are not in the "
                    f"header of {path}, which has: {', '.join(header)}"
                )
            yield from self._rows(path, reader, lines, header, queries, invalid_values, wide)

    def _rows(
        self,
        path: Path,
        reader: Any,
        lines: _Lines,
        header: list[str],
        queries: list[QueryMapping],
        invalid_values: str,
        wide: bool,
    ) -> Iterator[Item]:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RowError(start, f"CSV syntax: {exc}")
                continue
            except UnicodeDecodeError as exc:  # wide encodings only: no line to skip to
                raise InvalidInput(
                    f"{path}: not valid {lines.encoding} near line {start}: {exc.reason}"
                ) from exc
            if wide:
                self.bytes_read = lines.fh.tell()
            bad = [lines.bad.pop(n) for n in range(start, reader.line_num + 1) if n in lines.bad]
            if bad:
                yield RowError(start, bad[0])
                continue
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) != len(header):
                yield RowError(start, f"{len(row)} fields, but the header has {len(header)}")
                continue
            record: dict[str, str] = {}
            for col, cell in zip(header, row, strict=True):
                value = sanitize_text(cell)
                if value is not None:
                    record[col] = value
            yield from self._map(start, record, queries, invalid_values)

    def _map(
        self, line: int, record: dict[str, str], queries: list[QueryMapping], invalid_values: str
    ) -> Iterator[Item]:
        entities: list[EntityProxy] = []
        rejected: list[str] = []
        matched = False
        for query in queries:
            if not query.source.check_filters(record):  # type: ignore[attr-defined]
                continue
            matched = True
            try:
                found, bad = map_record(query, record)
            except InvalidData as exc:  # e.g. a relationship from an entity to itself
                yield RowError(line, str(exc))
                return
            entities.extend(found)
            rejected.extend(bad)
        if not matched:
            return  # filtered out by the mapping, on purpose
        if not entities:
            keys = sorted(
                {k for q in queries for e in q.entities for k in e.keys}
                | {e.id_column for q in queries for e in q.entities if e.id_column}
            )
            yield RowError(line, f"no entity: the key columns ({', '.join(keys)}) are empty")
            return
        if rejected and invalid_values == "error":
            more = f" (and {len(rejected) - MAX_LISTED} more)" if len(rejected) > MAX_LISTED else ""
            yield RowError(line, "invalid values: " + "; ".join(rejected[:MAX_LISTED]) + more)
            return
        for entity in entities:
            yield Parsed(line, entity)
        for msg in rejected:
            yield RowWarning(line, f"dropped: {msg}")
