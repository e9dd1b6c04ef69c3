"""`binational ingest`: load a file into a dataset, with a progress bar and a row-error report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from binational.core.audit import ObjectRef
from binational.core.cli.common import (
    EXIT_FAILED,
    audit_operator,
    console,
    err_console,
    open_platform,
    say,
    warn,
)
from binational.core.errors import BinationalError, NotFound

if TYPE_CHECKING:
    from binational.core.ingest import IngestReport
    from binational.core.platform import Platform

SHOW_ERRORS = 20


def run_ingest(
    platform: Platform,
    fmt: str,
    path: Path,
    dataset: str,
    *,
    options: Mapping[str, Any] | None = None,
    strict: bool = False,
    max_errors: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    replace: bool = False,
) -> IngestReport:
    """Ingest as the local operator and record the outcome in the audit log.

    Raises what ``ingest()`` raises (``IngestAborted``, ``InvalidInput``...) after auditing it.
    """
    from binational.core.ingest import IngestAborted, ingest

    try:
        info = platform.catalog.get(dataset)
        agency: str | None = info.agency
        country: str | None = info.country.value
    except NotFound:
        agency = country = None  # ingest() refuses it below, with its own message
    detail: dict[str, Any] = {"dataset": dataset, "format": fmt, "file": str(path)}
    if replace:
        detail["replace"] = True
    objects = [ObjectRef(dataset, dataset, agency, country)]
    try:
        report = ingest(
            platform.db,
            platform.store,
            fmt,
            path,
            dataset,
            actor="operator",
            options=options,
            progress=progress,
            strict=strict,
            max_errors=max_errors,
            replace=replace,
        )
    except IngestAborted as exc:
        audit_operator(
            platform,
            "dataset.ingest",
            outcome="invalid",
            agency=agency,
            country=country,
            objects=objects,
            detail={
                **detail,
                "status": "aborted",
                "run_id": exc.report.run_id,
                "errors": exc.report.error_count,
                "reason": exc.message,
            },
        )
        raise
    except BinationalError as exc:
        audit_operator(
            platform,
            "dataset.ingest",
            outcome="invalid",
            agency=agency,
            country=country,
            objects=objects,
            detail={**detail, "status": "failed", "reason": exc.message},
        )
        raise
    audit_operator(
        platform,
        "dataset.ingest",
        agency=agency,
        country=country,
        objects=objects,
        detail={
            **detail,
            "status": report.status,
            "run_id": report.run_id,
            "sha256": report.source_sha256,
            "entities": report.entities,
            "statements_new": report.statements_new,
            "statements_seen": report.statements_seen,
            "errors": report.error_count,
            "warnings": len(report.warnings),
            **(
                {"added": report.added, "changed": report.changed, "removed": report.removed}
                if replace
                else {}
            ),
        },
    )
    return report


def print_row_errors(report: IngestReport) -> None:
    for error in report.errors[:SHOW_ERRORS]:
        err_console.print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
    if report.error_count > SHOW_ERRORS:
        err_console.print(
            f"... and {report.error_count - SHOW_ERRORS} more",
            style="red",
            markup=False,
            soft_wrap=True,
        )


def ingest_command(
    ctx: typer.Context,
    fmt: Annotated[
        str, typer.Argument(metavar="FORMAT", help="File format, e.g. ftm (JSON lines) or csv.")
    ],
    path: Annotated[
        Path, typer.Argument(help="The file to load (a folder for formats that read several).")
    ],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to load into.")],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="YAML mapping of columns to entities (needed for csv)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of the file, e.g. latin-1 (default utf-8)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Load nothing if any row is bad.")
    ] = False,
    max_errors: Annotated[
        int | None,
        typer.Option("--max-errors", min=0, help="Load nothing if more than N rows are bad."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="the file is the complete new version of the dataset: remove what it no "
            "longer lists",
        ),
    ] = False,
) -> None:
    """Load a file into a dataset, all or nothing: bad rows are skipped and listed.

    Exit code 0 when the file was loaded (even with skipped rows), 1 when the load was aborted
    by --strict or --max-errors, 2 when the file could not be read at all.
    """
    from binational.core.ingest import IngestAborted

    options: dict[str, Any] = {}
    if mapping is not None:
        options["mapping"] = str(mapping)
    if encoding:
        options["encoding"] = encoding
    platform = open_platform(ctx)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    # Progress on stderr keeps stdout for the summary.
    with Progress(
        *columns, console=err_console, transient=True, disable=not err_console.is_terminal
    ) as bar:
        task = bar.add_task(f"ingest {path.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = run_ingest(
                platform,
                fmt,
                path,
                dataset,
                options=options,
                strict=strict,
                max_errors=max_errors,
                progress=progress,
                replace=replace,
            )
        except IngestAborted as exc:
            bar.stop()
            print_row_errors(exc.report)
            err_console.print(f"aborted: {exc.message}", style="red", markup=False, soft_wrap=True)
            err_console.print("nothing was written", style="red")
            raise typer.Exit(EXIT_FAILED) from None
    say(f"{dataset}: {report.status}", "bold green" if not report.error_count else "bold yellow")
    say(f"  entities:             {report.entities:,} (from {report.records:,} records)")
    say(f"  new statements:       {report.statements_new:,}")
    say(f"  unchanged statements: {report.statements_seen:,}")
    if report.replace:
        say(f"  entities added:       {report.added:,}")
        say(f"  entities changed:     {report.changed:,}")
        say(f"  entities removed:     {report.removed:,}")
    say(f"  warnings:             {len(report.warnings):,}")
    say(f"  row errors:           {report.error_count:,}")
    if report.error_count:
        print_row_errors(report)
        warn(f"{report.error_count} bad rows were skipped; the rest was loaded")
    console.print(f"run {report.run_id} in {report.seconds:.1f}s", style="dim", markup=False)
