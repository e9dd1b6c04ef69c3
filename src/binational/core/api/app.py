"""``create_app()``: the FastAPI application over one ``Platform``."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline

from binational import __version__
from binational.core.errors import BinationalError
from binational.core.logs import get_logger
from binational.core.platform import Platform

log = get_logger("binational.api")


def error_body(code: str, message: str, request_id: str | None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "request_id": request_id}}


async def checkpoint_loop(platform: Platform, minutes: float) -> None:
    """Sign a checkpoint whenever the log has grown: records older than the newest signed
    checkpoint can then not be rewritten, even by someone who recomputes the hash chain."""
    signed = -1
    while True:
        try:
            size = await asyncio.to_thread(platform.audit.count)
            if size > 0 and size != signed:
                cp = await asyncio.to_thread(platform.audit.checkpoint)
                signed = cp.tree_size
                log.info("audit checkpoint", tree_size=cp.tree_size, root=cp.root_hash)
        except Exception as exc:  # keep signing later; a failure here must not stop the server
            log.error("audit checkpoint failed", error=str(exc))
        await asyncio.sleep(minutes * 60)


def create_app(platform: Platform | None = None) -> FastAPI:
    from binational.core.api.routers import audit, auth, datasets, entities, grants

    platform = platform or Platform.open()
    minutes = platform.settings.checkpoint_minutes

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(checkpoint_loop(platform, minutes)) if minutes > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # FastAPIOffline serves the Swagger UI and ReDoc assets from the package itself: the
    # platform runs on closed government networks, where a CDN is out of reach.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="Binational",
        version=__version__,
        description=(
            "Shared security and public-health data platform of the United States and Mexico. "
            "Every data query needs a purpose (`X-Purpose`) and a case reference "
            "(`X-Case-Reference`); every access is audited."
        ),
    )
    app.state.platform = platform

    @app.middleware("http")
    async def request_log(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id[:64]
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        log.info("request", method=request.method, path=request.url.path,
                 status=response.status_code, request_id=request.state.request_id,
                 ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    @app.exception_handler(BinationalError)
    async def binational_error(request: Request, exc: BinationalError) -> JSONResponse:
        rid = getattr(request.state, "request_id", None)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, rid), status_code=exc.status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}"
            for err in exc.errors()
        )
        rid = getattr(request.state, "request_id", None)
        return JSONResponse(error_body("invalid_input", problems, rid), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = getattr(request.state, "request_id", None)
        log.error("unhandled", request_id=rid, error=type(exc).__name__)
        return JSONResponse(
            error_body("internal", "internal error; quote the request id to support", rid),
            status_code=500)

    @app.get("/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return INDEX_HTML

    for router in (auth.router, entities.router, datasets.router, grants.router,
                   audit.router):
        app.include_router(router)
    from binational.core.plugins import load

    for _name, router in load("binational.api"):  # capabilities' routers
        app.include_router(router)
    return app


INDEX_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Binational</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;
line-height:1.5;color:#1b1b1b}a{color:#005ea2}code{background:#f0f0f0;padding:0 .2rem}</style>
</head><body>
<h1>Binational</h1>
<p lang="en">Shared security and public-health data platform of the United States and Mexico.
Every record belongs to one agency; nothing crosses without a purpose-bound, expiring grant from
its owner; every access is recorded in a tamper-evident audit log.</p>
<p lang="es">Plataforma compartida de datos de seguridad y salud pública de Estados Unidos y
México. Cada registro pertenece a una dependencia; nada se comparte sin una autorización
expresa, limitada a un propósito y con vencimiento; cada acceso queda en una bitácora
a prueba de alteraciones.</p>
<ul>
<li><a href="/app/">Web application / Aplicación web</a></li>
<li><a href="/docs">API documentation / Documentación de la API</a></li>
<li><a href="/health">Health / Estado</a></li>
</ul>
<p>Sign in with <code>POST /auth/login</code>, then send <code>Authorization: Bearer
&lt;token&gt;</code>, <code>X-Purpose</code> and <code>X-Case-Reference</code> with each query.</p>
</body></html>
"""
