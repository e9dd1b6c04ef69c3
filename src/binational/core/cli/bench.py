"""`binational bench`: benchmarks. Capability packages add their own commands here."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from binational.core.cli.common import console, fail

bench_app = typer.Typer(
    help="Benchmarks of the platform and its capabilities.", no_args_is_help=True
)


@bench_app.command("core")
def core(
    quick: Annotated[
        bool, typer.Option("--quick", help="About a hundred times smaller: a smoke run.")
    ] = False,
    statements: Annotated[
        int | None, typer.Option("--statements", min=1, help="Statements to ingest.")
    ] = None,
    audit_records: Annotated[
        int | None, typer.Option("--audit-records", min=1, help="Audit records to append.")
    ] = None,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            "--postgres-url",
            metavar="URL",
            help="Admin URL of a PostgreSQL server to measure on too (a database is created "
            "and dropped per measurement).",
        ),
    ] = None,
    sqlite_only: Annotated[
        bool, typer.Option("--sqlite-only", help="Do not try PostgreSQL at all.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the results as JSON to this file.")
    ] = None,
) -> None:
    """Measure the core on this machine: ingest, policy-filtered fetch and the audit log.

    Runs on fresh temporary databases; the configured database is not touched.
    """
    try:
        module = importlib.import_module("binational.core.bench")
    except ModuleNotFoundError as exc:
        if exc.name not in ("binational.core.bench", "binational.core"):
            raise  # the module exists but one of its own imports is missing
        fail("the core benchmark (binational.core.bench) is not installed in this build")
    run_core = getattr(module, "run_core", None)
    if run_core is None:
        fail("binational.core.bench has no run_core(); the benchmark is not available")
    offered: dict[str, Any] = {"quick": quick, "console": console}
    if statements is not None:
        offered["statements"] = statements
    if audit_records is not None:
        offered["audit_records"] = audit_records
    if sqlite_only:
        offered["postgres_url"] = None
    elif postgres_url is not None:
        offered["postgres_url"] = postgres_url
    if out is not None:
        offered["out"] = out
    # Pass only what run_core declares, so the two can evolve separately.
    params = inspect.signature(run_core).parameters
    run_core(**{k: v for k, v in offered.items() if k in params})
