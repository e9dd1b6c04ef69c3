"""Format ``ftm``: FtM entities as JSON lines, one ``{"id", "schema", "properties"}`` per line.

Statement-style lines (``{"id", "schema", "statements": [{"prop", "value"}, ...]}``, as FtM 4
writes them) are read too. Every value goes through FtM's type cleaning; the file is read as
bytes and decoded line by line, so one bad line is one row error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from followthemoney import EntityProxy, model
from followthemoney.exc import InvalidData
from followthemoney.property import Property
from followthemoney.types import registry
from followthemoney.util import ENTITY_ID_LEN, sanitize_text

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

INVALID_VALUES = ("error", "drop")
MAX_LISTED = 3  # invalid values named in one message


def invalid_values_option(options: Mapping[str, Any]) -> str:
    """``error`` (default): a value FtM cannot clean fails its row; ``drop``: drop it, warn."""
    mode = str(options.get("invalid_values") or "error")
    if mode not in INVALID_VALUES:
        known = ", ".join(INVALID_VALUES)
        raise InvalidInput(f"invalid_values must be one of {known}, not {mode!r}")
    return mode


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _values(raw: Any) -> list[str] | None:
    """Property values as strings; None when the JSON shape is not a value or list of them."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            return None
        out.append(item if isinstance(item, str) else json.dumps(item))
    return out


def _props(data: Mapping[str, Any]) -> dict[str, list[str]] | str:
    """Property name -> raw values from ``properties`` and/or ``statements``, or a problem."""
    props: dict[str, list[str]] = {}
    raw_props = data.get("properties")
    if raw_props is not None:
        if not isinstance(raw_props, dict):
            return f"properties must be an object, not {_json_type(raw_props)}"
        for key, raw in raw_props.items():
            values = _values(raw)
            if values is None:
                return f"values of {key!r} must be strings or a list of strings"
            props.setdefault(key, []).extend(values)
    stmts = data.get("statements")
    if stmts is not None:
        if not isinstance(stmts, list):
            return f"statements must be an array, not {_json_type(stmts)}"
        for stmt in stmts:
            if not isinstance(stmt, dict) or not isinstance(stmt.get("prop"), str):
                return "each statement must be an object with a prop and a value"
            if stmt["prop"] == "id":
                continue
            values = _values(stmt.get("value"))
            if values is None:
                return f"the value of a {stmt['prop']!r} statement must be a string"
            props.setdefault(stmt["prop"], []).extend(values)
    return props


def _clean(prop: Property, value: str, proxy: EntityProxy) -> str | None:
    try:
        return prop.type.clean(value, format=prop.format, proxy=proxy)
    except InvalidData:  # e.g. an entity that references itself
        return None
    except Exception:  # a type cleaner choking on odd input means a bad value, not a crash
        return None


def entity_from_dict(
    data: Mapping[str, Any], line: int, invalid_values: str = "error"
) -> list[Item]:
    """Check and clean an entity dict with FtM: ``[Parsed, warnings...]`` or ``[RowError]``."""
    schema_name = data.get("schema")
    if schema_name is None or schema_name == "":
        return [RowError(line, "missing schema")]
    if not isinstance(schema_name, str):
        return [RowError(line, f"schema must be a string, not {_json_type(schema_name)}")]
    schema = model.get(schema_name)
    if schema is None:
        return [RowError(line, f"unknown schema {schema_name[:80]!r}")]
    if schema.abstract:
        return [RowError(line, f"schema {schema.name} is abstract; use one of its descendants")]
    raw_id = data.get("id")
    if raw_id is None or raw_id == "":
        return [RowError(line, "missing id")]
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        return [RowError(line, f"id must be a string, not {_json_type(raw_id)}")]
    entity_id = str(raw_id)
    if len(entity_id) > ENTITY_ID_LEN or registry.entity.clean_text(entity_id) is None:
        return [
            RowError(
                line,
                f"invalid id {entity_id[:60]!r}: use letters, digits, '.' and '-', at most "
                f"{ENTITY_ID_LEN} characters, starting and ending with a letter or digit",
            )
        ]
    props = _props(data)
    if isinstance(props, str):
        return [RowError(line, props)]
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    invalid: list[str] = []
    for name, values in props.items():
        prop = schema.get(name)
        if prop is None:
            return [RowError(line, f"unknown property {name[:80]!r} for schema {schema.name}")]
        if prop.stub:
            return [
                RowError(
                    line,
                    f"{name} is a reverse property of {schema.name}; "
                    f"set {prop.reverse.name if prop.reverse else 'it'} on the "
                    "other entity instead",
                )
            ]
        for value in values:
            if sanitize_text(value) is None:
                continue  # blank: nothing to keep, nothing wrong
            cleaned = _clean(prop, value, proxy)
            if cleaned is None or proxy.unsafe_add(prop, cleaned, cleaned=True) is None:
                invalid.append(f"{name} {value[:60]!r} is not a valid {prop.type.name}")
    if invalid and invalid_values == "error":
        more = f" (and {len(invalid) - MAX_LISTED} more)" if len(invalid) > MAX_LISTED else ""
        return [RowError(line, "invalid values: " + "; ".join(invalid[:MAX_LISTED]) + more)]
    out: list[Item] = [Parsed(line, proxy)]
    out.extend(RowWarning(line, f"dropped: {msg}") for msg in invalid)
    return out


def parse_line(raw: bytes, line: int, invalid_values: str = "error") -> list[Item]:
    """One line of a JSON lines file: ``[]`` (blank), ``[RowError]`` or ``[Parsed, ...]``."""
    text = raw.strip()
    if not text:
        return []
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [RowError(line, f"not valid UTF-8 ({exc.reason} at byte {exc.start + 1})")]
    try:
        data = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return [RowError(line, f"invalid JSON: {exc.msg} at column {exc.colno}")]
    except (ValueError, RecursionError) as exc:  # e.g. 5000-digit numbers, deep nesting
        return [RowError(line, f"invalid JSON: {str(exc)[:120]}")]
    if not isinstance(data, dict):
        return [RowError(line, f"expected a JSON object (one FtM entity), got {_json_type(data)}")]
    return entity_from_dict(data, line, invalid_values)


def _check_head(path: Path, head: bytes) -> None:
    """Refuse files that are not JSON lines at all, instead of reporting every line."""
    check_text_sample(path, head, "utf-8")
    stripped = head.removeprefix(b"\xef\xbb\xbf")
    for number, raw in enumerate(stripped.splitlines(), 1):
        first = raw.strip()
        if not first:
            continue
        if first.startswith(b"{"):
            return
        snippet = first[:40].decode("utf-8", "replace")
        if first.startswith(b"["):
            raise InvalidInput(
                f"{path}:{number}: a JSON array, not JSON lines; the ftm format expects one "
                "entity object per line"
            )
        raise InvalidInput(
            f"{path}:{number}: not FtM JSON lines: the first line starts with {snippet!r}; the "
            "ftm format expects one JSON entity object per line (for a CSV file use the csv "
            "format with a mapping)"
        )
    raise InvalidInput(f"{path}: no entities: the file holds only blank lines")


@register_format("ftm")
class FtMFormat(Format):
    """FtM entities as JSON lines."""

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        invalid_values = invalid_values_option(options)
        with path.open("rb") as fh:
            _check_head(path, fh.read(SNIFF_BYTES))
            fh.seek(0)
            for number, raw in enumerate(fh, 1):
                self.bytes_read += len(raw)
                if number == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                yield from parse_line(raw, number, invalid_values)
