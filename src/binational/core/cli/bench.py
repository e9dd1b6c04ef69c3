"""`binational bench`: benchmarks. Capability packages add their own commands here."""

from __future__ import annotations

import importlib
import inspect
from typing import Annotated, Any

import typer

from binational.core.cli.common import cli_state, fail

bench_app = typer.Typer(
    help="Benchmarks of the platform and its capabilities.", no_args_is_help=True
)


@bench_app.command("core")
def core(
    ctx: typer.Context,
    quick: Annotated[bool, typer.Option("--quick", help="A small, fast run.")] = False,
) -> None:
    """Benchmark the core: ingest, policy-filtered search and the audit log."""
    try:
        module = importlib.import_module("binational.core.bench")
    except ModuleNotFoundError as exc:
        if exc.name not in ("binational.core.bench", "binational.core"):
            raise  # the module exists but one of its own imports is missing
        fail("the core benchmark (binational.core.bench) is not installed in this build")
    run_core = getattr(module, "run_core", None)
    if run_core is None:
        fail("binational.core.bench has no run_core(); the benchmark is not available")
    # run_core is written separately: pass only the arguments it declares.
    offered: dict[str, Any] = {"quick": quick, "database_url": cli_state(ctx).database_url}
    params = inspect.signature(run_core).parameters
    run_core(**{k: v for k, v in offered.items() if k in params})
