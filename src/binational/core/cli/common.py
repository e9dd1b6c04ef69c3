"""What every command shares: the consoles, the platform handle and the error policy."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar, cast

import sqlalchemy.exc
import structlog
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from binational.core.errors import BinationalError

if TYPE_CHECKING:
    from binational.core.audit import ObjectRef
    from binational.core.platform import Platform

T = TypeVar("T")

console = Console()
# Errors go to stderr so that `--json` output on stdout stays machine-readable.
err_console = Console(stderr=True)

# Exit codes: 0 done, 1 done but the outcome is bad (audit broken, ingest aborted),
# 2 the command could not run (bad input, unknown name, unreachable database).
EXIT_FAILED = 1
EXIT_ERROR = 2


@dataclass
class CliState:
    """Global options, kept on the click context for the commands below the root."""

    database_url: str | None = None


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: <message>`` in red on stderr and exit (2 unless said otherwise)."""
    # A Text (not a markup string) so brackets in the message are printed, not parsed;
    # soft_wrap so long messages are not broken by the console width.
    err_console.print(Text(f"error: {message}", style="red"), soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err_console.print(Text(f"warning: {message}", style="yellow"), soft_wrap=True)


def say(message: str, style: str | None = None) -> None:
    """Print plain text (never interpreted as rich markup)."""
    console.print(Text(message, style=style or ""), soft_wrap=True)


class BinationalGroup(typer.core.TyperGroup):
    """The root command group: turns the platform's own errors into one red line, exit 2.

    Sub-commands of capability packages run inside ``invoke`` too, so they get the same
    treatment without doing anything.
    """

    # ``Any``: the parameter is typer's vendored click Context, which is not public API.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BinationalError as exc:
            fail(exc.message)
        except sqlalchemy.exc.ArgumentError as exc:
            fail(f"invalid database URL: {exc}")
        except sqlalchemy.exc.OperationalError as exc:
            # The driver message says what is wrong (unreachable, no such file, locked).
            fail(f"database: {exc.orig if exc.orig is not None else exc}")


class _Stderr:
    """Whatever ``sys.stderr`` is at the moment of writing (tests swap it per command)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "WARNING", json_lines: bool = False) -> None:
    """Logs go to stderr: stdout carries the command's answer (tables, JSON, tokens)."""
    from binational.core.logs import configure

    configure(json=json_lines, level=level)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(cast(TextIO, _Stderr())))


def cli_state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def open_platform(ctx: typer.Context) -> Platform:
    """Open (and migrate) the platform for this command; closed when the command ends."""
    from binational.core.platform import Platform

    platform = Platform.open(url=cli_state(ctx).database_url)
    ctx.call_on_close(platform.close)
    return platform


def audit_operator(
    platform: Platform,
    action: str,
    *,
    outcome: str = "ok",
    agency: str | None = None,
    country: str | None = None,
    objects: Sequence[ObjectRef] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Record what the local operator did through the CLI (actor ``operator``)."""
    from binational.core.audit import AuditEvent

    platform.audit.append(
        AuditEvent(
            action=action,
            outcome=outcome,
            actor="operator",
            agency=agency,
            country=country,
            objects=tuple(objects),
            client="cli",
            detail=detail or {},
        )
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def print_json(data: Any) -> None:
    # Plain print (no rich): exact JSON, no wrapping or colour codes for pipes.
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def make_table(*headers: str, title: str | None = None, whole: tuple[str, ...] = ("Id",)) -> Table:
    """A table whose cells fold instead of being cut off; the ``whole`` columns (ids, which
    are copied into other commands) are not even folded while the others can give way."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header in whole)
    return table


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def parse_many(parse: Callable[[str], T], values: Sequence[str]) -> list[T]:
    """Parse repeated options; ``--action read,search`` works like two ``--action``."""
    return [parse(v) for raw in values for v in raw.split(",") if v.strip()]
