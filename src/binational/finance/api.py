"""Illicit finance over HTTP: alerts, cases and shared case packages (thin: the service
decides and audits). Every call carries a purpose and a case reference like the core routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.finance.service import Finance

router = APIRouter(prefix="/finance", tags=["finance"])


class OpenCase(BaseModel):
    dataset: Annotated[str, Field(max_length=64)]
    alert: str | None = None
    account: str | None = None
    title: Annotated[str | None, Field(max_length=255)] = None
    narrative: Annotated[str, Field(max_length=20_000)] = ""


class Note(BaseModel):
    note: Annotated[str, Field(max_length=20_000)] = ""


class Assign(BaseModel):
    username: Annotated[str, Field(max_length=64)]


class Close(BaseModel):
    reason: str
    note: Annotated[str, Field(max_length=20_000)] = ""


class Share(BaseModel):
    recipient: Annotated[str, Field(max_length=32)]
    grant: Annotated[str | None, Field(max_length=40)] = None
    """One of the case's live illicit-finance grants to the recipient (default: any)."""


@router.get("/alerts")
def list_alerts(caller: CallerDep, platform: PlatformDep,
                dataset: Annotated[str | None, QueryParam(max_length=64)] = None,
                limit: Annotated[int, QueryParam(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The current alerts (flagged accounts) of the datasets the caller may read."""
    results = Finance(platform).stored_alerts(caller, dataset, limit)
    return {"results": results, "total": len(results)}


@router.post("/alerts/{dataset}/run")
def run_alerts(dataset: str, caller: CallerDep, platform: PlatformDep,
               limit: Annotated[int, QueryParam(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    """Score the dataset's accounts now; the flagged ones become its alerts."""
    found = Finance(platform).alerts(caller, dataset)
    flagged = [a.as_dict() for a in found if a.flagged]
    return {"results": flagged[:limit], "total": len(flagged), "accounts": len(found)}


@router.get("/cases")
def list_cases(caller: CallerDep, platform: PlatformDep,
               status: str | None = None) -> dict[str, Any]:
    results = Finance(platform).cases(caller, status)
    return {"results": results, "total": len(results)}


@router.post("/cases")
def open_case(body: OpenCase, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    return Finance(platform).open_case(caller, body.dataset, alert=body.alert,
                                       account=body.account, title=body.title,
                                       narrative=body.narrative)


@router.get("/cases/shared")
def shared_cases(caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Cases other agencies shared with the caller's agency (while their grants hold)."""
    results = Finance(platform).shared_with_me(caller)
    return {"results": results, "total": len(results)}


@router.get("/cases/{case_id}")
def get_case(case_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    return Finance(platform).case(caller, case_id)


@router.get("/cases/{case_id}/package")
def case_package(case_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """The case package: case, narrative, entities and transactions (audited, receipted)."""
    return Finance(platform).package(caller, case_id)


@router.post("/cases/{case_id}/assign")
def assign(case_id: str, body: Assign, caller: CallerDep, platform: PlatformDep
           ) -> dict[str, Any]:
    return Finance(platform).assign(caller, case_id, body.username)


@router.post("/cases/{case_id}/annotate")
def annotate(case_id: str, body: Note, caller: CallerDep, platform: PlatformDep
             ) -> dict[str, Any]:
    return Finance(platform).annotate(caller, case_id, body.note)


@router.post("/cases/{case_id}/escalate")
def escalate(case_id: str, body: Note, caller: CallerDep, platform: PlatformDep
             ) -> dict[str, Any]:
    return Finance(platform).escalate(caller, case_id, body.note)


@router.post("/cases/{case_id}/close")
def close(case_id: str, body: Close, caller: CallerDep, platform: PlatformDep
          ) -> dict[str, Any]:
    return Finance(platform).close(caller, case_id, body.reason, body.note)


@router.post("/cases/{case_id}/share")
def share(case_id: str, body: Share, caller: CallerDep, platform: PlatformDep
          ) -> dict[str, Any]:
    return Finance(platform).share(caller, case_id, body.recipient, body.grant)


@router.get("/cases/{case_id}/grants")
def share_grants(case_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """The grants the case may be shared under, with their recipients."""
    found = Finance(platform).share_grants(caller, case_id)
    results = [{"recipient": code, **g.to_dict()} for code, g in found]
    return {"results": results, "total": len(results)}


@router.get("/cases/{case_id}/receipts")
def case_receipts(case_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Access receipts of other agencies' reads of the case (for who may read receipts)."""
    results = Finance(platform).case_receipts(caller, case_id)
    return {"results": results, "total": len(results)}
