"""The pages of the analyst web application, under ``/app``.

Plugged into the API application through the ``binational.api`` entry point (``router``);
capabilities add their own pages through ``binational.web`` (see ``binational.web``).
"""

from __future__ import annotations

import contextlib
import mimetypes
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from followthemoney import StatementEntity

from binational.core.api.routers.audit import _log_access, _visible_to
from binational.core.audit import AuditEvent
from binational.core.errors import AccountLocked, BinationalError, InvalidInput, NotAuthenticated
from binational.core.logs import get_logger
from binational.core.policy import GrantRequest, Privilege, QueryContext, query_context
from binational.core.vocab import TLP, Action, Country, Purpose
from binational.screening import DEFAULT_THRESHOLD, Screener
from binational.screening import Query as ScreeningQuery
from binational.web import batch as batches
from binational.web.graph import elements, neighbourhood
from binational.web.i18n import LANG_COOKIE, LANGUAGES
from binational.web.plugins import WebPlugin
from binational.web.site import (
    CONTEXT_COOKIE,
    CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    FormDep,
    Page,
    PageDep,
    SignedInDep,
    WebError,
    WebRoute,
    WorkingDep,
    context_cookie,
    field_list,
    field_text,
    local_next,
    make_site,
    page_router,
    read_form,
    session_id,
    size_text,
)

log = get_logger("binational.web")
STATIC = resources.files("binational.web") / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
                ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain"}


def _static_files() -> dict[str, bytes]:
    """Every static file, read once: served from a fixed table, so no path can escape it."""
    out: dict[str, bytes] = {}

    def walk(folder: Any, prefix: str) -> None:
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            elif not item.name.startswith("."):
                out[f"{prefix}{item.name}"] = item.read_bytes()

    walk(STATIC, "")
    return out


def build_router(plugins: Sequence[WebPlugin] | None = None) -> APIRouter:
    """The web application; ``plugins`` defaults to the ``binational.web`` entry points."""
    if plugins is None:
        from binational.core.plugins import load

        plugins = []
        for name, obj in load("binational.web"):
            if isinstance(obj, WebPlugin):
                plugins.append(obj)
            else:
                log.warning("web plug-in is not a WebPlugin; left out", name=name)
    plugins = [p for p in plugins if _usable(p)]
    site = make_site(plugins)

    def attach(request: Request) -> None:
        request.state.web_site = site

    router = page_router(prefix=PREFIX, dependencies=[Depends(attach)])
    _pages(router)
    for plugin in plugins:
        if plugin.router is not None:
            router.include_router(plugin.router, prefix=f"/{plugin.name}")
    _fallback(router)
    return router


def _pages(router: APIRouter) -> None:
    static = _static_files()

    @router.get("/static/{path:path}")
    def static_file(path: str) -> Response:
        body = static.get(path)
        if body is None:
            raise WebError(404, "error.not_found")
        suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
        media = STATIC_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "text/plain"
        return Response(body, media_type=media,
                        headers={"Cache-Control": "public, max-age=3600"})

    # -- language, sign-in, purpose ------------------------------------------------------------

    @router.get("/language/{lang}")
    def language(lang: str, page: PageDep, next: str | None = None) -> Response:
        if lang not in LANGUAGES:
            raise WebError(404, "error.not_found")
        page.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return page.redirect(local_next(next))

    @router.get("/sign-in", response_class=HTMLResponse)
    def sign_in_form(page: PageDep, next: str | None = None,
                     reason: str | None = None) -> HTMLResponse:
        notice = {"expired": "signin.expired", "signed-out": "signin.signed_out"}.get(
            reason or "")
        return page.render("sign_in.html", next=local_next(next), error=None,
                           notice=page.t(notice) if notice else None, username="")

    @router.post("/sign-in", response_class=HTMLResponse)
    def sign_in(request: Request, page: PageDep, form: FormDep) -> Response:
        username = field_text(form, "username", 64)
        password = str(form.get("password") or "")[:1024]
        code = field_text(form, "totp", 10)
        target = local_next(field_text(form, "next", 2000))
        try:
            if not username or not password or not code:
                raise NotAuthenticated("missing")
            principal, token = page.platform.identity.login(
                username, password, code,
                client=request.client.host if request.client else None,
                request_id=getattr(request.state, "request_id", None))
        except AccountLocked:
            return page.render("sign_in.html", status=401, next=target,
                               error=page.t("signin.locked"), notice=None, username=username)
        except NotAuthenticated:
            return page.render("sign_in.html", status=401, next=target,
                               error=page.t("signin.failed"), notice=None, username=username)
        page.principal = principal
        page.set_cookie(SESSION_COOKIE, token)
        page.set_cookie(CONTEXT_COOKIE, "")
        page.set_cookie(CSRF_COOKIE, secrets.token_hex(16))  # a new token with the new session
        return page.redirect(page.url("/context", next=target))

    @router.post("/sign-out")
    def sign_out(request: Request, page: PageDep, form: FormDep) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            # An ended or malformed session is signed out already.
            with contextlib.suppress(BinationalError):
                page.platform.identity.logout(token)
        page.set_cookie(SESSION_COOKIE, "")
        page.set_cookie(CONTEXT_COOKIE, "")
        return page.redirect(page.url("/sign-in", reason="signed-out"))

    @router.get("/context", response_class=HTMLResponse)
    def context_form(page: SignedInDep, next: str | None = None) -> HTMLResponse:
        return page.render("context.html", next=local_next(next), error=None,
                           purpose=page.context.purpose.value if page.context else "",
                           case=page.context.case_ref if page.context else "")

    @router.post("/context", response_class=HTMLResponse)
    def set_context(request: Request, page: SignedInDep, form: FormDep) -> Response:
        purpose = field_text(form, "purpose", 64)
        case = field_text(form, "case", 128)
        target = local_next(field_text(form, "next", 2000))
        allowed = {p for p, _ in page.purposes()}
        try:
            if purpose not in allowed:
                raise InvalidInput("purpose")
            context = query_context(purpose, case)
        except BinationalError:
            return page.render("context.html", status=400, next=target,
                               error=page.t("context.invalid"), purpose=purpose, case=case)
        page.context = context
        page.set_cookie(CONTEXT_COOKIE,
                        context_cookie(request.cookies.get(SESSION_COOKIE, ""), context))
        return page.redirect(target)

    # -- home and search -----------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def home(page: WorkingDep) -> HTMLResponse:
        datasets: list[dict[str, Any]] = []
        if page.queries:
            plan = page.platform.access.plan(page.caller, Action.SEARCH)
            counts = page.platform.store.dataset_counts(plan.scope.datasets)
            for name in sorted(plan.scope.datasets):
                info = plan.owners[name]
                datasets.append({"name": name, "title": info.title, "agency": info.agency,
                                 "country": info.country.value, "count": counts.get(name, 0),
                                 "grant": plan.grant_for(name)})
        panels = [p.home for p in page.site.plugins if p.home]
        return page.render("home.html", datasets=datasets, panels=panels,
                           cases=_recent_cases(page))

    @router.get("/search", response_class=HTMLResponse)
    def search(page: WorkingDep,
               q: Annotated[str | None, Query(max_length=200)] = None,
               offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> HTMLResponse:
        results: list[StatementEntity] = []
        total = 0
        if q and q.strip():
            found = page.platform.access.search(page.caller, q.strip(), None, None, 20, offset)
            results, total = found.entities, found.total
        return page.render("search.html", q=q or "", results=results, total=total,
                           offset=offset, owners=page.platform.catalog.all())

    # -- screening -----------------------------------------------------------------------------

    @router.get("/screening", response_class=HTMLResponse)
    def screening(page: WorkingDep,
                  name: Annotated[str | None, Query(max_length=300)] = None,
                  schema: Annotated[str, Query(max_length=32)] = "LegalEntity",
                  dob: Annotated[str | None, Query(max_length=10)] = None,
                  country: Annotated[str | None, Query(max_length=2)] = None) -> HTMLResponse:
        if schema not in ("LegalEntity", "Person", "Company", "Organization"):
            schema = "LegalEntity"
        results = None
        if name and name.strip():
            try:
                query = ScreeningQuery(name=name.strip(), schema=schema,
                                       birth_date=dob or None,
                                       countries=(country.lower(),) if country else ())
            except InvalidInput as exc:
                raise WebError(400, "screening.invalid", problem=exc.message) from None
            results = Screener(page.platform).screen(page.caller, query, limit=10)
        return page.render("screening.html", name=name or "", schema=schema, dob=dob or "",
                           country=country or "", results=results,
                           owners=page.platform.catalog.all(), max_bytes=batches.MAX_BYTES,
                           max_size=size_text(batches.MAX_BYTES, page.lang),
                           max_rows=batches.MAX_ROWS, threshold=DEFAULT_THRESHOLD)

    @router.post("/screening/batch", response_class=HTMLResponse)
    async def batch_upload(request: Request, page: WorkingDep) -> Response:
        form = await read_form(request, page, limit=batches.MAX_BYTES + 16 * 1024)
        upload = form.get("file")
        filename = getattr(upload, "filename", None)
        if upload is None or isinstance(upload, str) or not filename:
            raise WebError(400, "batch.error.nofile")
        data = await upload.read(batches.MAX_BYTES + 1)
        await upload.close()
        if len(data) > batches.MAX_BYTES:
            raise WebError(413, "error.too_large",
                           limit=size_text(batches.MAX_BYTES, page.lang))
        try:
            rows, columns = batches.parse(data)
        except batches.BatchError as exc:
            return _screening_error(page, page.t(exc.key, **exc.values))
        finally:
            del data  # no copy of the customer's file is kept
        try:
            job = batches.JOBS.start(page.platform, page.caller,
                                     session_id(request.cookies.get(SESSION_COOKIE)) or "",
                                     filename, rows, columns)
        except batches.BatchError as exc:
            return _screening_error(page, page.t(exc.key, **exc.values))
        return page.redirect(page.url(f"/screening/batch/{job.id}"))

    def _screening_error(page: Page, message: str) -> HTMLResponse:
        return page.render("screening.html", status=400, name="", schema="LegalEntity",
                           dob="", country="", results=None, owners={},
                           max_bytes=batches.MAX_BYTES,
                           max_size=size_text(batches.MAX_BYTES, page.lang),
                           max_rows=batches.MAX_ROWS, threshold=DEFAULT_THRESHOLD,
                           batch_error=message)

    def _job(page: Page, job_id: str) -> batches.Job:
        assert page.principal is not None
        job = batches.JOBS.get(job_id, page.principal.username,
                               session_id(page.request.cookies.get(SESSION_COOKIE)) or "")
        if job is None:
            raise WebError(404, "batch.gone")
        return job

    @router.get("/screening/batch/{job_id}", response_class=HTMLResponse)
    def batch_page(job_id: str, page: WorkingDep) -> HTMLResponse:
        return page.render("batch.html", job=_job(page, job_id))

    @router.get("/screening/batch/{job_id}/status.json")
    def batch_status(job_id: str, page: WorkingDep) -> JSONResponse:
        job = _job(page, job_id)
        body = job.to_dict()
        body["message"] = page.t(f"batch.status.{job.status}", done=job.done, total=job.total,
                                 matches=job.matches)
        return JSONResponse(body)

    @router.get("/screening/batch/{job_id}/results.csv")
    def batch_results(job_id: str, page: WorkingDep) -> Response:
        job = _job(page, job_id)
        if job.status != "done":
            raise WebError(409, "batch.not_ready")
        name = "screening-results.csv"
        return Response(job.csv_text(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/screening/batch/{job_id}/discard")
    def batch_discard(job_id: str, page: WorkingDep, form: FormDep) -> Response:
        batches.JOBS.discard(_job(page, job_id).id)
        return page.redirect(page.url("/screening", discarded=1))

    # -- entities ------------------------------------------------------------------------------

    @router.get("/entities/{entity_id}", response_class=HTMLResponse)
    def entity_page(entity_id: str, page: WorkingDep) -> HTMLResponse:
        if len(entity_id) > 255:
            raise WebError(404, "error.not_found")
        platform = page.platform
        entity = platform.access.get_entity(page.caller, entity_id)
        hood = neighbourhood(platform, page.caller, entity)
        marks = _marks(page, hood.plan, entity)
        return page.render("entity.html", entity=entity, hood=hood, marks=marks,
                           statements=_statements(page, entity, marks),
                           panels=[p.entity for p in page.site.plugins if p.entity])

    @router.get("/entities/{entity_id}/network.json")
    def entity_network(entity_id: str, page: WorkingDep) -> JSONResponse:
        if len(entity_id) > 255:
            raise WebError(404, "error.not_found")
        entity = page.platform.access.get_entity(page.caller, entity_id)
        hood = neighbourhood(page.platform, page.caller, entity)
        return JSONResponse(elements(hood, page.t.label,
                                     lambda i: page.url(f"/entities/{i}")))

    # -- grants and receipts -------------------------------------------------------------------

    @router.get("/grants", response_class=HTMLResponse)
    def grants(page: SignedInDep,
               created: Annotated[str | None, Query(max_length=40)] = None,
               revoked: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
        return _grants_page(page, created=created, revoked=revoked)

    def _grants_page(page: Page, status: int = 200, error: str | None = None,
                     created: str | None = None, revoked: str | None = None,
                     values: dict[str, Any] | None = None) -> HTMLResponse:
        principal = page.principal
        assert principal is not None
        admin = page.may(Privilege.MANAGE_GRANTS)
        if not admin and not page.may(Privilege.READ_RECEIPTS):
            raise WebError(403, "error.forbidden")
        platform = page.platform
        now = datetime.now(UTC)
        all_grants = platform.policy.grants(principal)
        given = [g for g in all_grants if g.owner_agency == principal.agency
                 or g.created_by.startswith(f"{principal.agency}:")]
        received = [g for g in all_grants if g not in given]
        receipts: list[dict[str, Any]] = []
        if page.may(Privilege.READ_RECEIPTS):
            receipts = platform.audit.receipts(principal.agency, limit=100)
            platform.audit.append(AuditEvent(
                action="receipts.read", outcome="ok", actor=principal.username,
                agency=principal.agency, country=principal.country.value,
                request_id=getattr(page.request.state, "request_id", None),
                detail={"count": len(receipts)}))
        own = sorted(n for n, i in platform.catalog.all().items() if i.agency == principal.agency)
        agencies = [a for a in platform.identity.agencies() if a.code != principal.agency]
        default_expiry = (now + timedelta(days=90)).date().isoformat()
        # Only a grant of this agency is named back (the id comes from the address bar).
        created = created if any(g.id == created for g in given) else None
        revoked = revoked if any(g.id == revoked for g in given) else None
        return page.render("grants.html", status=status, given=given, received=received,
                           receipts=receipts, admin=admin, own=own, agencies=agencies,
                           now=now, error=error, created=created, revoked=revoked,
                           values=values or {"expires": default_expiry, "tlp": "AMBER"},
                           tlps=[x.value for x in TLP], countries=[c.value for c in Country],
                           actions=[a.value for a in Action])

    @router.post("/grants", response_class=HTMLResponse)
    def create_grant(page: SignedInDep, form: FormDep) -> Response:
        principal = page.principal
        assert principal is not None
        if not page.may(Privilege.MANAGE_GRANTS):
            raise WebError(403, "error.forbidden")
        values: dict[str, Any] = {
            "datasets": field_list(form, "datasets"), "actions": field_list(form, "actions"),
            "purposes": field_list(form, "purposes"), "recipient": field_text(form, "recipient"),
            "legal_basis": field_text(form, "legal_basis", 2000),
            "expires": field_text(form, "expires", 10), "tlp": field_text(form, "tlp", 16),
            "onward": form.get("onward") == "on"}
        try:
            grant = page.platform.policy.create_grant(
                principal, _grant_request(principal.agency, values),
                getattr(page.request.state, "request_id", None))
        except WebError as exc:
            return _grants_page(page, 400, page.t(exc.key, **exc.values), values=values)
        except BinationalError as exc:
            return _grants_page(page, 400, f"{page.t('grants.refused')} {exc.message}",
                                values=values)
        # Post/redirect/get: reloading the page must not create the grant twice.
        return page.redirect(page.url("/grants", created=grant.id))

    @router.post("/grants/{grant_id}/revoke", response_class=HTMLResponse)
    def revoke_grant(grant_id: str, page: SignedInDep, form: FormDep) -> Response:
        assert page.principal is not None
        reason = field_text(form, "reason", 2000)
        if not reason:
            return _grants_page(page, 400, page.t("grants.reason_needed"))
        try:
            page.platform.policy.revoke_grant(page.principal, grant_id, reason,
                                              getattr(page.request.state, "request_id", None))
        except InvalidInput as exc:
            return _grants_page(page, 400, f"{page.t('grants.refused')} {exc.message}")
        return page.redirect(page.url("/grants", revoked=grant_id))

    # -- audit ---------------------------------------------------------------------------------

    @router.get("/audit", response_class=HTMLResponse)
    def audit(page: SignedInDep,
              actor: Annotated[str | None, Query(max_length=64)] = None,
              action: Annotated[str | None, Query(max_length=64)] = None,
              agency: Annotated[str | None, Query(max_length=32)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> HTMLResponse:
        return _audit_page(page, actor or None, action or None, agency or None, limit)

    def _audit_page(page: Page, actor: str | None = None, action: str | None = None,
                    agency: str | None = None, limit: int = 100,
                    report: Any = None, signed: Any = None) -> HTMLResponse:
        principal = page.principal
        assert principal is not None
        platform = page.platform
        platform.policy.require(principal, Privilege.READ_AUDIT)
        rows = platform.audit.records(actor=actor, action=action, agency=agency,
                                      limit=limit * 20)
        visible = [r for r in rows if _visible_to(principal, r)][:limit]
        _log_access(platform, principal, page.request, "read", count=len(visible),
                    actor=actor, action=action, agency=agency)
        return page.render("audit.html", records=visible, actor=actor or "",
                           action=action or "", agency=agency or "", limit=limit,
                           checkpoints=list(reversed(platform.audit.checkpoints()))[:20],
                           key_id=platform.audit.key_id, report=report, signed=signed)

    @router.post("/audit/verify", response_class=HTMLResponse)
    def audit_verify(page: SignedInDep, form: FormDep) -> HTMLResponse:
        assert page.principal is not None
        page.platform.policy.require(page.principal, Privilege.READ_AUDIT)
        report = page.platform.audit.verify()
        _log_access(page.platform, page.principal, page.request, "verify", ok=report.ok,
                    records=report.records)
        return _audit_page(page, report=report)

    @router.post("/audit/checkpoints", response_class=HTMLResponse)
    def audit_checkpoint(page: SignedInDep, form: FormDep) -> HTMLResponse:
        assert page.principal is not None
        page.platform.policy.require(page.principal, Privilege.READ_AUDIT)
        cp = page.platform.audit.checkpoint()
        _log_access(page.platform, page.principal, page.request, "checkpoint",
                    tree_size=cp.tree_size)
        return _audit_page(page, signed=cp)


def _recent_cases(page: Page, count: int = 5) -> list[dict[str, str]]:
    """The user's own recent (purpose, case) pairs, from their own audit trail: only what
    they stated themselves, no record of anyone's data."""
    assert page.principal is not None
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    current = (page.context.purpose.value, page.context.case_ref) if page.context else None
    allowed = {p for p, _ in page.purposes()}
    for record in page.platform.audit.records(actor=page.principal.username, limit=300):
        key = (record.get("purpose") or "", record.get("case_ref") or "")
        if not all(key) or key in seen or key == current or key[0] not in allowed:
            continue
        seen.add(key)
        out.append({"purpose": key[0], "case": key[1], "ts": str(record["ts"])[:10]})
        if len(out) >= count:
            break
    return out


def _usable(plugin: WebPlugin) -> bool:
    """A plug-in's pages must be ``page_router`` routes: others would answer errors as JSON."""
    if plugin.router is None:
        return True
    plain = [r for r in plugin.router.routes if not isinstance(r, WebRoute)]
    if plain:
        log.warning("web plug-in routes not made with page_router(); plug-in left out",
                    name=plugin.name)
        return False
    return True


def _fallback(router: APIRouter) -> None:
    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      response_class=HTMLResponse)
    def not_found(rest: str, page: PageDep) -> HTMLResponse:
        raise WebError(404, "error.not_found")


def _grant_request(agency: str, values: dict[str, Any]) -> GrantRequest:
    """The grant form as a request; ``WebError`` names a missing or malformed field."""
    if not values["datasets"]:
        raise WebError(400, "grants.need_datasets")
    recipient: str = values["recipient"]
    if not recipient:
        raise WebError(400, "grants.need_recipient")
    try:
        actions = [Action(a) for a in values["actions"]]
        purposes = [Purpose(p) for p in values["purposes"]]
        tlp = TLP(values["tlp"] or "AMBER")
    except ValueError:
        raise WebError(400, "grants.bad_choice") from None
    try:
        day = datetime.strptime(values["expires"], "%Y-%m-%d").date()
    except ValueError:
        raise WebError(400, "grants.bad_date") from None
    expires = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    country = recipient.removeprefix("country:") if recipient.startswith("country:") else None
    return GrantRequest(
        owner_agency=agency, datasets=values["datasets"], actions=actions, purposes=purposes,
        legal_basis=values["legal_basis"], expires_at=expires,
        recipient_agency=None if country else recipient,
        recipient_country=Country(country) if country in ("US", "MX") else None,
        tlp=tlp, onward_sharing=bool(values["onward"]))


def _marks(page: Page, plan: Any, entity: StatementEntity) -> dict[str, dict[str, Any]]:
    """Per dataset: owner, country, and how this reader sees it (own, or a grant and its TLP)."""
    out: dict[str, dict[str, Any]] = {}
    assert page.principal is not None
    for ds in sorted(entity.datasets):
        info = plan.owners.get(ds)
        grant_id = plan.grant_for(ds)
        tlp = None
        if grant_id:
            try:
                tlp = page.platform.policy.get_grant(grant_id).tlp.value
            except BinationalError:
                tlp = None
        out[ds] = {"agency": info.agency if info else "?",
                   "country": info.country.value if info else "?",
                   "title": info.title if info else ds,
                   "own": bool(info and info.agency == page.principal.agency),
                   "grant": grant_id, "tlp": tlp}
    return out


def _statements(page: Page, entity: StatementEntity,
                marks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for stmt in sorted(entity.statements, key=lambda s: (s.prop, s.value, s.dataset)):
        if stmt.prop == "id":
            continue
        prop = entity.schema.get(stmt.prop)
        if prop is not None and prop.type.name == "entity":
            continue  # shown as linked records
        rows.append({"prop": page.t.label(prop.label) if prop else stmt.prop,
                     "value": stmt.value, "dataset": stmt.dataset,
                     "mark": marks.get(stmt.dataset, {}), "first_seen": stmt.first_seen,
                     "last_seen": stmt.last_seen})
    return rows


def context_of(page: Page) -> QueryContext | None:
    return page.context


router = build_router()
