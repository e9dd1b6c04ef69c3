"""`binational audit`: verify the tamper-evident log, sign checkpoints, read recent records."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from binational.core.cli.common import (
    EXIT_FAILED,
    audit_operator,
    console,
    err_console,
    make_table,
    open_platform,
    print_json,
    say,
)

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Re-check every record's hash, the chain between records and every signed checkpoint.

    Exit code 0 when the log is intact, 1 when a record was altered, deleted or reordered.
    """
    platform = open_platform(ctx)
    total = platform.audit.count()
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, console=err_console, transient=True, disable=not err_console.is_terminal
    ) as bar:
        task = bar.add_task("verify", total=total)
        report = platform.audit.verify(lambda n: bar.update(task, completed=n))
    # Recorded after verifying, so a broken log is reported as it was found.
    audit_operator(
        platform,
        "audit.read",
        outcome="ok" if report.ok else "error",
        detail={
            "command": "verify",
            "records": report.records,
            "checkpoints": report.checkpoints_checked,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
        },
    )
    if report.ok:
        say(
            f"audit log intact: {report.records} records, "
            f"{report.checkpoints_checked} checkpoints verified",
            "green",
        )
        return
    where = (
        f"first bad record: {report.first_bad_seq}"
        if report.first_bad_seq is not None
        else "records verified, checkpoint failed"
    )
    err_console.print(
        f"AUDIT LOG BROKEN: {report.problem}", style="bold red", markup=False, soft_wrap=True
    )
    err_console.print(
        f"{where} ({report.records} records read, {report.checkpoints_checked} checkpoints good)",
        style="red",
        markup=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Sign the Merkle root of the whole log now, so later rewrites can be detected."""
    platform = open_platform(ctx)
    cp = platform.audit.checkpoint()
    say(f"tree size: {cp.tree_size}")
    say(f"root:      {cp.root_hash}")
    say(f"signed at: {cp.ts}")
    say(f"key id:    {cp.key_id}")
    say(f"signature: {cp.signature}")


@audit_app.command("log")
def log(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="How many records, newest first.")
    ] = 50,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only actions by this agency.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this user.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show recent audit records. Reading the log is itself recorded."""
    platform = open_platform(ctx)
    records = platform.audit.records(
        actor=actor, agency=agency.upper() if agency else None, limit=limit
    )
    audit_operator(
        platform,
        "audit.read",
        detail={
            "command": "log",
            "limit": limit,
            "agency": agency,
            "actor": actor,
            "returned": len(records),
        },
    )
    if as_json:
        print_json(records)
        return
    table = make_table(
        "Seq",
        "Time (UTC)",
        "Actor",
        "Agency",
        "Action",
        "Outcome",
        "Objects",
        "Purpose",
        "Case",
        title="Audit log (newest first)",
        whole=("Seq", "Action"),
    )
    for r in records:
        objects = r.get("objects") or []
        ids = ", ".join(str(o.get("id")) for o in objects[:3])
        if len(objects) > 3:
            ids += f" (+{len(objects) - 3})"
        table.add_row(
            str(r["seq"]),
            str(r["ts"]).replace("T", " ")[:19],
            r["actor"] or "",
            r["agency"] or "",
            r["action"],
            r["outcome"],
            ids,
            r["purpose"] or "",
            r["case_ref"] or "",
        )
    console.print(table)
