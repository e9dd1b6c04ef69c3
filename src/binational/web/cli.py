"""``binational bench web``: the web application's page timings (see ``binational.web.bench``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binational.core.cli.common import console


def bench_web(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run, ~15x smaller.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
) -> None:
    """Time the pages (home, screening, entity, network, search, batch) next to the JSON API."""
    from binational.web.bench import run_web

    run_web(quick=quick, out=out, console=console)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: add ``bench web``."""
    bench_app.command("web")(bench_web)
