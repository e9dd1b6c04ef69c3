"""The platform commands of ``binational resolve`` and ``binational graph``."""

from __future__ import annotations

import typer


def add_commands(resolve_app: typer.Typer, graph_app: typer.Typer) -> None:
    """Add the commands that act on the platform's records."""
