"""Typed dependencies, declared once so handler signatures read as documentation (as yente)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from binational.core.access import Caller
from binational.core.errors import NotAuthenticated
from binational.core.identity import Principal
from binational.core.platform import Platform
from binational.core.policy import QueryContext, query_context


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    cookie = request.cookies.get("binational_session")
    if cookie:
        return cookie
    raise NotAuthenticated("sign in first: send 'Authorization: Bearer <token>'")


def get_principal(request: Request, platform: PlatformDep) -> Principal:
    principal = platform.identity.authenticate(bearer_token(request))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_context(
    x_purpose: Annotated[str | None, Header(description="Purpose of the query")] = None,
    x_case_reference: Annotated[str | None, Header(description="Case reference")] = None,
    purpose: Annotated[str | None, Query(description="Purpose (if no X-Purpose header)")] = None,
    case: Annotated[str | None, Query(description="Case reference (if no header)")] = None,
) -> QueryContext:
    return query_context(x_purpose or purpose, x_case_reference or case)


ContextDep = Annotated[QueryContext, Depends(get_context)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_caller(request: Request, principal: PrincipalDep, context: ContextDep) -> Caller:
    return Caller(principal, context, request_id=getattr(request.state, "request_id", None),
                  client=client_address(request))


CallerDep = Annotated[Caller, Depends(get_caller)]
