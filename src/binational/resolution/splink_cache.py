"""Memoise Splink's pure SQL-parsing helpers (a fixed cost of every run, whatever its size).

Splink builds every SQL statement with sqlglot, in Python. Profiling a FEBRL run showed a
third of its CPU time in ``sqlglot.parse_one``, called about 5,000 times per run, mostly to
parse the same few dozen column names again and again (five parses per ``InputColumn``,
four of them of constant strings) and the same comparison conditions. These helpers are
pure functions of their string arguments returning immutable values (a frozen dataclass,
a list we copy), so caching them changes no result: the tests compare DuckDB with Spark and
the FEBRL scores stay the same. Applied once, on first use; a Splink version without these
helpers is left alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    try:
        from splink.internals import (
            comparison_level,
            em_training_session,
            input_column,
            parse_sql,
            settings,
        )
    except ImportError:  # another Splink layout: run uncached
        return
    builder = getattr(input_column, "SqlglotColumnTreeBuilder", None)
    original = getattr(builder, "from_raw_column_name_or_column_reference", None)
    if builder is not None and original is not None:
        parse_column = lru_cache(maxsize=4096)(original)

        def from_raw(cls: Any, input_str: str, sqlglot_dialect: str | None) -> Any:
            return parse_column(input_str, sqlglot_dialect)

        builder.from_raw_column_name_or_column_reference = classmethod(from_raw)
        sql = getattr(builder, "sql", None)
        if isinstance(sql, property) and sql.fget is not None:
            # The frozen builder is hashable: its SQL rendering is computed once.
            builder.sql = property(lru_cache(maxsize=16384)(sql.fget))
    level = getattr(comparison_level, "ComparisonLevel", None)
    validate = getattr(level, "_validate_sql", None)
    if level is not None and validate is not None:
        # Each level's SQL is parsed once to check it; the same SQL need not be checked again.
        valid: set[tuple[str, str | None]] = set()

        def _validate_sql(self: Any) -> bool:
            key = (self.sql_condition, self.sqlglot_dialect)
            if key not in valid:
                validate(self)
                valid.add(key)
            return True

        level._validate_sql = _validate_sql
    columns_used = getattr(parse_sql, "get_columns_used_from_sql", None)
    if columns_used is not None:
        cached = lru_cache(maxsize=4096)(columns_used)

        def get_columns_used_from_sql(sql: str, sqlglot_dialect: str | None = None,
                                      retain_table_prefix: bool = False) -> list[str]:
            return list(cached(sql, sqlglot_dialect, retain_table_prefix))

        for module in (parse_sql, comparison_level, settings, em_training_session):
            if getattr(module, "get_columns_used_from_sql", None) is columns_used:
                module.get_columns_used_from_sql = get_columns_used_from_sql  # type: ignore[attr-defined]
