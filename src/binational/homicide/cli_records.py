"""``binational homicide``: ingest-free commands on the platform's homicide records."""

from __future__ import annotations

import typer

homicide_app = typer.Typer(help="Homicide indicators, the best-practice registry and task-force "
                                "cases.", no_args_is_help=True)
