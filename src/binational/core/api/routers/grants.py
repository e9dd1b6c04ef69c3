"""Share grants and the access receipts their owners see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from binational.core.api.deps import PlatformDep, PrincipalDep
from binational.core.audit import AuditEvent
from binational.core.policy import GrantRequest, Privilege
from binational.core.vocab import TLP, Action, Country, Purpose

router = APIRouter(tags=["grants"])


class GrantIn(BaseModel):
    datasets: Annotated[list[str], Field(min_length=1, max_length=100)]
    actions: Annotated[list[Action], Field(min_length=1)]
    purposes: Annotated[list[Purpose], Field(min_length=1)]
    legal_basis: Annotated[str, Field(min_length=1, max_length=2000)]
    expires_at: datetime
    recipient_agency: Annotated[str | None, Field(max_length=32)] = None
    recipient_country: Country | None = None
    schemata: list[str] | None = None
    tlp: TLP = TLP.AMBER
    onward_sharing: bool = False
    owner_agency: Annotated[str | None, Field(
        max_length=32, description="data owner; defaults to the caller's agency")] = None
    parent_id: str | None = None


class RevokeIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.get("/grants")
def list_grants(principal: PrincipalDep, platform: PlatformDep) -> dict[str, Any]:
    """Grants the caller's agency gave, received, or passed on."""
    return {"grants": [g.to_dict() for g in platform.policy.grants(principal)]}


@router.post("/grants", status_code=201)
def create_grant(body: GrantIn, request: Request, principal: PrincipalDep,
                 platform: PlatformDep) -> dict[str, Any]:
    req = GrantRequest(
        owner_agency=body.owner_agency or principal.agency, datasets=body.datasets,
        actions=body.actions, purposes=body.purposes, legal_basis=body.legal_basis,
        expires_at=body.expires_at, recipient_agency=body.recipient_agency,
        recipient_country=body.recipient_country, schemata=body.schemata, tlp=body.tlp,
        onward_sharing=body.onward_sharing, parent_id=body.parent_id)
    grant = platform.policy.create_grant(principal, req,
                                         getattr(request.state, "request_id", None))
    return grant.to_dict()


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(grant_id: str, body: RevokeIn, request: Request, principal: PrincipalDep,
                 platform: PlatformDep) -> dict[str, Any]:
    grant = platform.policy.revoke_grant(principal, grant_id, body.reason,
                                         getattr(request.state, "request_id", None))
    return grant.to_dict()


@router.get("/receipts")
def receipts(request: Request, principal: PrincipalDep, platform: PlatformDep,
             limit: Annotated[int, Query(ge=1, le=500)] = 100,
             offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Reads of the caller's agency's records by other agencies (the owner's view)."""
    platform.policy.require(principal, Privilege.READ_RECEIPTS)
    rows = platform.audit.receipts(principal.agency, limit=limit, offset=offset)
    platform.audit.append(AuditEvent(
        action="receipts.read", outcome="ok", actor=principal.username, agency=principal.agency,
        country=principal.country.value, request_id=getattr(request.state, "request_id", None),
        detail={"count": len(rows)}))
    return {"receipts": rows}
