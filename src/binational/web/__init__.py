"""The analyst web application: server-rendered pages in English and Spanish, under ``/app``.

Pages are FastAPI routes rendering Jinja templates, with a little vanilla JavaScript for
progress bars and the network graph (each page works without it). Every asset is served by
the application itself (no CDN: the platform runs on closed networks). The application is
included in the API server through the ``binational.api`` entry point
(``binational.web.app:router``); ``binational demo`` opens it.

Plug-in contract (``binational.web`` entry points)
--------------------------------------------------
A capability adds navigation entries and pages by declaring, in ``pyproject.toml``::

    [project.entry-points."binational.web"]
    early_warning = "binational.early_warning.web:plugin"

where ``plugin`` is a ``WebPlugin``::

    from binational.web import NavItem, WebPlugin, WorkingDep, page_router

    router = page_router()

    @router.get("/")                       # served at /app/early-warning/
    def dashboard(page: WorkingDep) -> HTMLResponse:
        series = service.series(page.caller, ...)     # page.caller: user + purpose + case
        return page.render("early-warning/dashboard.html", series=series)

    plugin = WebPlugin(
        name="early-warning",                # URL segment and template prefix
        router=router,
        nav=(NavItem("ew.nav", "/early-warning/"),),
        templates=Path(__file__).parent / "templates",
        messages={"ew.nav": ("Early warning", "Alerta temprana")},
        home="early-warning/home_panel.html",  # optional fragment on the home page
        entity="early-warning/entity_panel.html",  # optional fragment on entity pages
    )

- Make the router with ``page_router()``: its routes turn every error into a page in the
  user's language (or a JSON error for paths ending in ``.json``) and add security headers.
- Depend on ``PageDep`` (anyone), ``SignedInDep`` (signed in) or ``WorkingDep`` (signed in,
  purpose and case reference stated); read data only through ``page.caller`` and the core's
  ``Access`` or the capability's own service, which go through the policy and the audit log.
- Templates extend ``"base.html"`` and fill ``{% block main %}``; they get ``page`` and ``t``
  (``t("key", name=value)`` translates; ``t.label(...)`` translates a followthemoney label).
  Every message key exists in English and Spanish (``messages`` or the web's own catalogue).
- Forms POST with ``{{ csrf_field(page) }}`` (from ``"macros.html"``) and are read with
  ``FormDep`` (or ``read_form``), which checks size, origin and the CSRF token.
- A page's script may call the JSON API routers (the session cookie is the API's): send the
  headers ``X-Purpose`` and ``X-Case-Reference`` from the page's ``<meta
  name="binational-purpose">`` and ``<meta name="binational-case">``.
- Scripts and styles go in the plug-in's package and are served by its own routes, or use the
  web's (``/app/static/...``: ``app.css``, ``app.js``, ``vendor/cytoscape.min.js``). No
  inline scripts: the Content-Security-Policy allows ``'self'`` only.
"""

from __future__ import annotations

from binational.web.plugins import NavItem, WebPlugin
from binational.web.site import (
    FormDep,
    Page,
    PageDep,
    SignedInDep,
    WebError,
    WorkingDep,
    page_router,
    read_form,
)

__all__ = ["FormDep", "NavItem", "Page", "PageDep", "SignedInDep", "WebError", "WebPlugin",
           "WorkingDep", "page_router", "read_form"]
