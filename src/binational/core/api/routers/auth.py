"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from binational.core.api.deps import PlatformDep, PrincipalDep, bearer_token, client_address

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    totp: Annotated[str | None, Field(max_length=10, description="one-time code")] = None


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    username: str
    agency: str
    country: str
    role: str
    idle_timeout_minutes: int


class Me(BaseModel):
    username: str
    agency: str
    country: str
    role: str
    via: str


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response,
          platform: PlatformDep) -> LoginResponse:
    principal, token = platform.identity.login(
        body.username, body.password, body.totp, client=client_address(request),
        request_id=getattr(request.state, "request_id", None))
    idle = platform.settings.session_idle_minutes
    response.set_cookie("binational_session", token, httponly=True, samesite="strict",
                        max_age=idle * 60 * 16)
    return LoginResponse(token=token, username=principal.username, agency=principal.agency,
                         country=principal.country.value, role=principal.role.value,
                         idle_timeout_minutes=idle)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, platform: PlatformDep,
           principal: PrincipalDep) -> None:
    platform.identity.logout(bearer_token(request))
    response.delete_cookie("binational_session")


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    return Me(username=principal.username, agency=principal.agency,
              country=principal.country.value, role=principal.role.value, via=principal.via)
