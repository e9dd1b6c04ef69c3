"""Capabilities plug into the core through entry points, so the core never imports them.

A capability package declares in ``pyproject.toml``:

- ``binational.formats``: ingest formats (``Format`` subclasses; importing the module
  registers them with ``register_format``);
- ``binational.cli``: a ``register(app, bench_app)`` function adding its commands;
- ``binational.api``: a FastAPI ``APIRouter``;
- ``binational.demo``: a ``seed(platform, data_dir) -> list[str]`` function that adds its part
  of the demo and returns warnings;
- ``binational.ingested``: a ``hook(db, dataset, format)`` run after a dataset was loaded, to
  refresh what the capability derives from it;
- ``binational.web``: a ``binational.web.WebPlugin`` adding navigation entries and pages to
  the web application (see ``binational.web``);
- ``binational.tables``: the module declaring the capability's tables on the core metadata
  (its migrations live in ``core/migrations/versions`` on their own branch off the core chain,
  labelled with the capability's name, so capabilities never conflict on revision order).

A plug-in that fails to load is reported on the log and left out; the core keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from binational.core.logs import get_logger

log = get_logger("binational.plugins")
GROUPS = ("binational.formats", "binational.cli", "binational.api", "binational.demo",
          "binational.ingested", "binational.tables", "binational.web")


@cache
def _entries(group: str) -> tuple[EntryPoint, ...]:
    return tuple(sorted(entry_points(group=group), key=lambda e: e.name))


def load(group: str) -> Iterator[tuple[str, Any]]:
    """The loaded objects of one group, by name; broken plug-ins are logged and skipped."""
    if group not in GROUPS:
        raise ValueError(f"unknown plug-in group {group!r}")
    for entry in _entries(group):
        try:
            yield entry.name, entry.load()
        except Exception as exc:  # a broken capability must not take the core down
            log.warning("plug-in failed to load", group=group, name=entry.name,
                        error=f"{type(exc).__name__}: {exc}")


@cache
def load_formats() -> None:
    """Import every format plug-in once (registering its formats)."""
    for _name, _obj in load("binational.formats"):
        pass


@cache
def load_tables() -> None:
    """Import every capability's table declarations (for autogenerate and schema checks)."""
    for _name, _obj in load("binational.tables"):
        pass
