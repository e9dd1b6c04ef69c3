"""The machinery every page shares: who is signed in, in which language, for which purpose;
CSRF checks; rendering; and errors as pages in the user's language (never a stack trace).

Pages are FastAPI routes whose class (``WebRoute``) turns every error raised while the page is
built, in a dependency or in the handler, into a page (or, for ``.json`` routes, a JSON body)
with a translated message, and adds the security headers. Nothing here reads records: pages
call ``platform.access`` (or a capability's service) with ``page.caller``.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import urllib.parse
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from binational.core.access import Caller
from binational.core.errors import (
    AccountLocked,
    BinationalError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PurposeRequired,
    TooLarge,
)
from binational.core.identity import Principal
from binational.core.logs import get_logger
from binational.core.platform import Platform
from binational.core.policy import (
    ROLE_ACTIONS,
    ROLE_PRIVILEGES,
    Privilege,
    QueryContext,
    query_context,
)
from binational.core.vocab import PURPOSE_LABELS, Purpose, Role
from binational.web.i18n import LANG_COOKIE, LANGUAGES, Translator, negotiate
from binational.web.plugins import NavItem, WebPlugin

log = get_logger("binational.web")

PREFIX = "/app"
# The cookie the JSON API reads too: a page's script (and a capability's dashboard) can call
# the API routers with the same sign-in. HttpOnly and SameSite=Strict keep it from scripts
# and from other sites' requests.
SESSION_COOKIE = "binational_session"
CONTEXT_COOKIE = "binational_context"
CSRF_COOKIE = "binational_csrf"
MAX_FORM_BYTES = 64 * 1024
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class Redirect(Exception):
    """Raised by a dependency or a handler to send the browser elsewhere (303)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class WebError(BinationalError):
    """An error whose message is a catalogue key, so it is shown in the user's language."""

    def __init__(self, status: int, key: str, **values: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Site:
    """The assembled application: plug-ins and the template environment."""

    plugins: tuple[WebPlugin, ...]
    env: jinja2.Environment
    messages: Mapping[str, tuple[str, str]]


def make_site(plugins: Sequence[WebPlugin]) -> Site:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("binational.web", "templates")]
    folders = {p.name: jinja2.FileSystemLoader(str(p.templates)) for p in plugins if p.templates}
    if folders:
        loaders.append(jinja2.PrefixLoader(dict(folders)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    messages: dict[str, tuple[str, str]] = {}
    for p in plugins:
        messages.update(p.messages)
    return Site(tuple(plugins), env, messages)


def session_id(token: str | None) -> str | None:
    if not token:
        return None
    parts = token.split("_", 2)
    return parts[1] if len(parts) == 3 else None


def local_next(value: str | None) -> str:
    """A redirect target inside the application, never another site."""
    if (value and value.startswith(PREFIX) and not value.startswith("//")
            and "\\" not in value and "\n" not in value and "\r" not in value):
        return value
    return PREFIX + "/"


def secure_request(request: Request) -> bool:
    return (request.url.scheme == "https"
            or request.headers.get("x-forwarded-proto", "").lower() == "https")


@dataclass
class Page:
    """Everything a page handler needs; made by the ``PageDep`` dependencies."""

    request: Request
    platform: Platform
    site: Site
    t: Translator
    principal: Principal | None = None
    context: QueryContext | None = None
    csrf: str = ""
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def caller(self) -> Caller:
        if self.principal is None:
            raise NotAuthenticated("sign in first")
        if self.context is None:
            raise PurposeRequired("every query needs a purpose and a case reference")
        return Caller(self.principal, self.context,
                      request_id=getattr(self.request.state, "request_id", None),
                      client=self.request.client.host if self.request.client else None)

    def may(self, privilege: Privilege | str) -> bool:
        if self.principal is None:
            return False
        return Privilege(privilege) in ROLE_PRIVILEGES[self.principal.role]

    @property
    def queries(self) -> bool:
        """Whether this user's role reads records at all (auditors do not)."""
        return self.principal is not None and bool(ROLE_ACTIONS[self.principal.role])

    def nav(self) -> list[tuple[str, str]]:
        """(label, path) of the main navigation this user sees."""
        if self.principal is None:
            return []
        items = [NavItem("nav.home", "/")]
        if self.queries:
            items += [NavItem("nav.search", "/search"), NavItem("nav.screening", "/screening")]
        if self.may(Privilege.MANAGE_GRANTS) or self.may(Privilege.READ_RECEIPTS):
            items.append(NavItem("nav.grants", "/grants"))
        if self.may(Privilege.READ_AUDIT):
            items.append(NavItem("nav.audit", "/audit"))
        for plugin in self.site.plugins:
            items += [n for n in plugin.nav if n.visible(self.principal)]
        return [(self.t(n.key), PREFIX + n.path) for n in items]

    def purpose_label(self, purpose: Purpose | str) -> str:
        try:
            labels = PURPOSE_LABELS.get(Purpose(purpose))
        except ValueError:  # a value from an older vocabulary, kept in the audit trail
            return str(purpose)
        return labels[LANGUAGES.index(self.lang)] if labels else str(purpose)

    def purposes(self) -> list[tuple[str, str]]:
        """The purposes this user may state: auditors audit, everyone else anything else."""
        if self.principal is not None and self.principal.role == Role.AUDITOR:
            allowed = [Purpose.AUDIT]
        else:
            allowed = [p for p in Purpose if p != Purpose.AUDIT]
        return [(p.value, self.purpose_label(p)) for p in allowed]

    def url(self, path: str = "/", **query: Any) -> str:
        q = {k: v for k, v in query.items() if v not in (None, "")}
        return PREFIX + path + (("?" + urllib.parse.urlencode(q, doseq=True)) if q else "")

    def here(self) -> str:
        """This page's address, to come back to (after a POST: the page the form was on)."""
        if self.request.method == "GET":
            url = self.request.url
            return url.path + (f"?{url.query}" if url.query else "")
        referer = urllib.parse.urlsplit(self.request.headers.get("referer", ""))
        if referer.netloc == self.request.url.netloc:
            return local_next(referer.path + (f"?{referer.query}" if referer.query else ""))
        return PREFIX + "/"

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.site.env.get_template(template).render(page=self, t=self.t, **values)
        response = HTMLResponse(html, status_code=status)
        self.apply_cookies(response)
        return response

    def set_cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        self.cookies.append((name, value, max_age))

    def apply_cookies(self, response: Response) -> None:
        secure = secure_request(self.request)
        for name, value, max_age in self.cookies:
            if value:
                response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                                    secure=secure, samesite="strict")
            else:
                response.delete_cookie(name, path="/", httponly=True, secure=secure,
                                       samesite="strict")

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.apply_cookies(response)
        return response


# -- dependencies ---------------------------------------------------------------------------


@functools.cache
def _bare_site() -> Site:
    return make_site([])


def _site(request: Request) -> Site:
    site = getattr(request.state, "web_site", None)
    # Set by the router's first dependency; an error before it still renders a page.
    return site if isinstance(site, Site) else _bare_site()


def base_page(request: Request) -> Page:
    """A page for anyone (signed in or not): language and CSRF token, no checks."""
    existing = getattr(request.state, "web_page", None)
    if isinstance(existing, Page):
        return existing
    site = _site(request)
    lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    page = Page(request, request.app.state.platform, site, Translator(lang, site.messages))
    csrf = request.cookies.get(CSRF_COOKIE, "")
    if len(csrf) != 32 or not csrf.isalnum():
        csrf = secrets.token_hex(16)
        page.set_cookie(CSRF_COOKIE, csrf)
    page.csrf = csrf
    request.state.web_page = page
    return page


def signed_in_page(page: Annotated[Page, Depends(base_page)]) -> Page:
    """The page of a signed-in user; otherwise off to the sign-in page."""
    request = page.request
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Redirect(page.url("/sign-in", next=page.here()))
    try:
        page.principal = page.platform.identity.authenticate(token)
    except NotAuthenticated:
        page.set_cookie(SESSION_COOKIE, "")
        page.set_cookie(CONTEXT_COOKIE, "")
        raise Redirect(page.url("/sign-in", next=page.here(), reason="expired")) from None
    request.state.principal = page.principal
    page.context = _context_from_cookie(request.cookies.get(CONTEXT_COOKIE), token)
    return page


def _context_from_cookie(value: str | None, token: str) -> QueryContext | None:
    """The purpose and case reference stated in this session (bound to the session id, so a
    new sign-in asks again). Nothing is gained by forging it: the user states them anyway."""
    if not value:
        return None
    parts = urllib.parse.unquote(value).split("\x1f")
    if len(parts) != 3 or not hmac.compare_digest(parts[0], session_id(token) or ""):
        return None
    try:
        return query_context(parts[1], parts[2])
    except BinationalError:
        return None


def context_cookie(token: str, context: QueryContext) -> str:
    raw = "\x1f".join([session_id(token) or "", context.purpose.value, context.case_ref])
    return urllib.parse.quote(raw, safe="")


def working_page(page: Annotated[Page, Depends(signed_in_page)]) -> Page:
    """A signed-in user who has stated the purpose and case reference of this session."""
    if page.context is None:
        raise Redirect(page.url("/context", next=page.here()))
    return page


PageDep = Annotated[Page, Depends(base_page)]
SignedInDep = Annotated[Page, Depends(signed_in_page)]
WorkingDep = Annotated[Page, Depends(working_page)]


async def read_form(request: Request, page: Page, limit: int = MAX_FORM_BYTES) -> FormData:
    """The posted form, after the size, origin and CSRF checks."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise WebError(411, "error.length_required")
    if int(length) > limit:
        raise WebError(413, "error.too_large", limit=_size(limit, page.lang))
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        forwarded = request.headers.get("x-forwarded-host")
        if origin not in (expected, f"https://{forwarded}" if forwarded else expected):
            raise WebError(403, "error.csrf")
    form = await request.form(max_files=1, max_fields=200)
    token = form.get("csrf")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(token, str) or not cookie or not hmac.compare_digest(token, cookie):
        raise WebError(403, "error.csrf")
    return form


async def posted_form(request: Request, page: Annotated[Page, Depends(base_page)]) -> FormData:
    return await read_form(request, page)


FormDep = Annotated[FormData, Depends(posted_form)]


def field_text(form: FormData, name: str, max_length: int = 1000) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebError(400, "error.field", field=name)
    if len(value) > max_length:
        raise WebError(400, "error.field_long", field=name, max=max_length)
    return value.strip()


def field_list(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _size(n: int, lang: str) -> str:
    mb = n / 1_000_000
    text = f"{mb:.1f} MB" if mb >= 0.1 else f"{n // 1000} kB"
    return text.replace(".", ",") if lang == "es" else text


size_text = _size


# -- routes whose errors are pages ------------------------------------------------------------


ERROR_KEYS: dict[type[BinationalError], tuple[int, str]] = {
    Forbidden: (403, "error.forbidden"),
    NotFound: (404, "error.not_found"),
    TooLarge: (413, "error.too_large_generic"),
    InvalidInput: (400, "error.invalid"),
}


def _error_response(request: Request, exc: Exception) -> Response:
    page = base_page(request)
    rid = getattr(request.state, "request_id", None)
    wants_json = request.url.path.endswith(".json")
    detail: str | None = None
    if isinstance(exc, Redirect) and not wants_json:
        return page.redirect(exc.url)
    if isinstance(exc, Redirect):  # a script asked: say why instead of sending it a page
        signing_in = exc.url.startswith(page.url("/sign-in"))
        status = 401 if signing_in else 400
        message = page.t("signin.expired" if signing_in else "error.purpose")
    elif isinstance(exc, WebError):
        status, message = exc.status, page.t(exc.key, **exc.values)
    elif isinstance(exc, PurposeRequired):
        if wants_json:
            status, message = 400, page.t("error.purpose")
        else:
            return page.redirect(page.url("/context", next=page.here()))
    elif isinstance(exc, NotAuthenticated) and not isinstance(exc, AccountLocked):
        if wants_json:
            status, message = 401, page.t("signin.expired")
        else:
            page.set_cookie(SESSION_COOKIE, "")
            return page.redirect(page.url("/sign-in", next=page.here(), reason="expired"))
    elif isinstance(exc, BinationalError):
        status, key = next((v for k, v in ERROR_KEYS.items() if isinstance(exc, k)),
                           (exc.status if 400 <= exc.status < 500 else 500, "error.invalid"))
        message = page.t(key)
        detail = exc.message if key in ("error.invalid",) else None
    elif isinstance(exc, RequestValidationError):
        status, message = 400, page.t("error.invalid")
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                           for e in exc.errors())
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        message = page.t("error.not_found" if status == 404 else "error.invalid")
    else:
        log.error("web page failed", path=request.url.path, request_id=rid,
                  error=f"{type(exc).__name__}: {exc}")
        status, message = 500, page.t("error.internal")
    if wants_json:
        response: Response = JSONResponse(
            {"error": {"message": message, "detail": detail, "request_id": rid}},
            status_code=status)
        page.apply_cookies(response)
        return response
    if page.principal is None and request.cookies.get(SESSION_COOKIE):
        try:  # show the signed-in header on error pages too
            page.principal = page.platform.identity.authenticate(
                request.cookies[SESSION_COOKIE])
        except BinationalError:
            page.principal = None
    return page.render("error.html", status=status, message=message, detail=detail,
                       request_id=rid)


def security_headers(response: Response) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")


class WebRoute(APIRoute):
    """A route whose errors become pages in the user's language, with security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Exception as exc:  # every failure becomes a page, never a stack trace
                response = _error_response(request, exc)
            security_headers(response)
            return response

        return handler


def page_router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` for pages (a capability's plug-in makes its router with this)."""
    return APIRouter(route_class=WebRoute, include_in_schema=False, **kwargs)
