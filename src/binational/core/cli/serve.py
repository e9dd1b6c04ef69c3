"""`binational serve`: the API and web pages over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from binational.core.cli.common import configure_logging, open_platform, say


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address to listen on; 0.0.0.0 for all interfaces (put TLS in front)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Serve the API (and its /docs) with uvicorn until interrupted."""
    import uvicorn

    from binational.core.api.app import create_app

    platform = open_platform(ctx)
    configure_logging(platform.settings.log_level, platform.settings.log_json)
    say(
        f"serving {platform.db.url.render_as_string(hide_password=True)} on http://{host}:{port}",
        "green",
    )
    uvicorn.run(create_app(platform), host=host, port=port)
