"""The audit trail: records for auditors, verification, signed checkpoints and proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from binational.core.api.deps import PlatformDep, PrincipalDep
from binational.core.audit import AuditEvent
from binational.core.identity import Principal
from binational.core.platform import Platform
from binational.core.policy import Privilege

router = APIRouter(prefix="/audit", tags=["audit"])


def _visible_to(principal: Principal, record: dict[str, Any]) -> bool:
    """An auditor sees what their country's users did and what was done to its records."""
    country = principal.country.value
    if record.get("country") == country:
        return True
    return any(o.get("country") == country for o in record.get("objects") or [])


def _log_access(platform: Platform, principal: Principal, request: Request, what: str,
                **detail: Any) -> None:
    platform.audit.append(AuditEvent(
        action=f"audit.{what}", outcome="ok", actor=principal.username, agency=principal.agency,
        country=principal.country.value, purpose="audit",
        request_id=getattr(request.state, "request_id", None),
        client=request.client.host if request.client else None, detail=detail))


@router.get("/records")
def records(request: Request, principal: PrincipalDep, platform: PlatformDep,
            limit: Annotated[int, Query(ge=1, le=500)] = 100,
            actor: str | None = None, action: str | None = None,
            agency: str | None = None) -> dict[str, Any]:
    """Newest records first, limited to the auditor's country (actors or owners)."""
    platform.policy.require(principal, Privilege.READ_AUDIT)
    rows = platform.audit.records(actor=actor, action=action, agency=agency, limit=limit * 20)
    visible = [r for r in rows if _visible_to(principal, r)][:limit]
    _log_access(platform, principal, request, "read", count=len(visible), actor=actor,
                action=action, agency=agency)
    return {"records": visible}


@router.get("/verify")
def verify(request: Request, principal: PrincipalDep, platform: PlatformDep) -> dict[str, Any]:
    platform.policy.require(principal, Privilege.READ_AUDIT)
    report = platform.audit.verify()
    _log_access(platform, principal, request, "verify", ok=report.ok, records=report.records)
    return {"ok": report.ok, "records": report.records, "first_bad_seq": report.first_bad_seq,
            "problem": report.problem, "checkpoints_checked": report.checkpoints_checked}


@router.get("/checkpoints")
def checkpoints(principal: PrincipalDep, platform: PlatformDep) -> dict[str, Any]:
    """Signed tree heads, and the key to check them with, for anyone signed in."""
    return {"public_key": platform.audit.public_key_pem(), "key_id": platform.audit.key_id,
            "checkpoints": [vars(cp) for cp in platform.audit.checkpoints()]}


@router.post("/checkpoints", status_code=201)
def checkpoint(request: Request, principal: PrincipalDep,
               platform: PlatformDep) -> dict[str, Any]:
    platform.policy.require(principal, Privilege.READ_AUDIT)
    cp = platform.audit.checkpoint()
    _log_access(platform, principal, request, "checkpoint", tree_size=cp.tree_size)
    return vars(cp)


@router.get("/proofs/inclusion")
def inclusion(principal: PrincipalDep, platform: PlatformDep,
              index: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)],
              ) -> dict[str, Any]:
    return {"index": index, "tree_size": tree_size,
            "root": platform.audit.root_at(tree_size),
            "proof": platform.audit.inclusion_proof(index, tree_size)}


@router.get("/proofs/consistency")
def consistency(principal: PrincipalDep, platform: PlatformDep,
                first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)],
                ) -> dict[str, Any]:
    return {"first": first, "second": second,
            "proof": platform.audit.consistency_proof(first, second)}
