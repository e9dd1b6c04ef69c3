"""The ``binational`` command: the root app and its sub-commands.

Capability packages register theirs with ``app.add_typer(...)`` (or ``bench_app.command``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from binational.core.cli import admin, audit, bench, demo, ingest, serve
from binational.core.cli.common import BinationalGroup, CliState, configure_logging

app = typer.Typer(
    name="binational",
    cls=BinationalGroup,
    help="Binational: the shared security data platform of the United States and Mexico. "
    "Commands for the operators of one deployment.",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold passwords and tokens: never print them with a traceback.
    pretty_exceptions_show_locals=False,
)
bench_app = bench.bench_app


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="SQLAlchemy URL of the database (sqlite:///... or postgresql://...); "
            "overrides BINATIONAL_DATABASE_URL.",
        ),
    ] = None,
) -> None:
    """Binational: the shared security data platform of the United States and Mexico."""
    # Quiet by default: commands print their own summaries; serve and demo raise the level.
    configure_logging("WARNING")
    ctx.obj = CliState(database_url=database_url)


app.command("init")(admin.init)
app.add_typer(admin.agency_app, name="agency")
app.add_typer(admin.dataset_app, name="dataset")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.token_app, name="token")
app.add_typer(admin.grant_app, name="grant")
app.command("ingest")(ingest.ingest_command)
app.command("serve")(serve.serve)
app.add_typer(audit.audit_app, name="audit")
app.add_typer(demo.demo_app, name="demo")
app.add_typer(bench_app, name="bench")


def _register_plugins() -> None:
    """Capabilities add their commands through the ``binational.cli`` entry point."""
    from binational.core.plugins import load

    for _name, register in load("binational.cli"):
        register(app, bench_app)


_register_plugins()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
