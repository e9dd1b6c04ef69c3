"""Resolution and the network over HTTP, for the analyst web app. Thin: HTTP only.

Every call is signed in, carries a purpose and a case reference, is limited to what the
caller's agency may see, and is audited (by the service). Labels come in English and Spanish.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as QueryParam
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.resolution.judgements import parse_judgement
from binational.resolution.service import Investigator, Resolver

router = APIRouter(tags=["resolution"])
MEDIA = {"ftm": "application/x-ndjson", "graphml": "application/xml",
         "gexf": "application/xml", "cypher": "text/plain"}


class RunRequest(BaseModel):
    datasets: list[Annotated[str, Field(max_length=64)]] | None = None


class JudgementRequest(BaseModel):
    left_id: Annotated[str, Field(min_length=1, max_length=255)]
    right_id: Annotated[str, Field(min_length=1, max_length=255)]
    judgement: Annotated[str, Field(description="same, different or unsure")]
    reason: Annotated[str | None, Field(max_length=2000)] = None


class ReasonRequest(BaseModel):
    reason: Annotated[str | None, Field(max_length=2000)] = None


@router.post("/resolution/runs")
def run(body: RunRequest, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Link the people of the datasets the caller may see (or those named)."""
    return Resolver(platform).run(caller, body.datasets)


@router.get("/resolution/queue")
def queue(caller: CallerDep, platform: PlatformDep,
          limit: Annotated[int, QueryParam(ge=1, le=500)] = 20) -> dict[str, Any]:
    """Undecided pairs, most valuable first."""
    items = Resolver(platform).queue(caller, limit)
    return {"results": [c.to_dict() for c in items], "total": len(items)}


@router.get("/resolution/entities/{entity_id}")
def entity(entity_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """The resolved entity a record belongs to: members and the evidence linking them."""
    return Resolver(platform).entity(caller, entity_id).to_dict()


@router.get("/resolution/entities/{entity_id}/judgements")
def history(entity_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Every judgement about pairs involving a record, undone ones too, oldest first."""
    return {"results": [d.to_dict() for d in Resolver(platform).history(caller, entity_id)]}


@router.post("/resolution/judgements")
def decide(body: JudgementRequest, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Judge a pair: the same entity, different ones, or unsure."""
    decision = Resolver(platform).decide(caller, body.left_id, body.right_id,
                                         parse_judgement(body.judgement), body.reason)
    return decision.to_dict()


@router.post("/resolution/judgements/{judgement_id}/undo")
def undo(judgement_id: str, body: ReasonRequest, caller: CallerDep,
         platform: PlatformDep) -> dict[str, Any]:
    return Resolver(platform).undo(caller, judgement_id, body.reason).to_dict()


@router.post("/resolution/entities/{entity_id}/split")
def split(entity_id: str, body: ReasonRequest, caller: CallerDep,
          platform: PlatformDep) -> dict[str, Any]:
    out = Resolver(platform).split(caller, entity_id, body.reason)
    return {"results": [d.to_dict() for d in out]}


@router.get("/graph/entities/{entity_id}/neighbourhood")
def neighbourhood(entity_id: str, caller: CallerDep, platform: PlatformDep,
                  depth: Annotated[int, QueryParam(ge=1, le=4)] = 1) -> dict[str, Any]:
    """Nodes and edges within ``depth`` relationships (labels in English and Spanish)."""
    out: dict[str, Any] = Investigator(platform).neighbourhood(caller, entity_id,
                                                               depth).to_dict()
    return out


@router.get("/graph/entities/{entity_id}/paths")
def paths(entity_id: str, caller: CallerDep, platform: PlatformDep,
          limit: Annotated[int, QueryParam(ge=1, le=20)] = 5) -> dict[str, Any]:
    """Shortest paths to designated entities, and the network they run through."""
    found, sub = Investigator(platform).paths(caller, entity_id, limit)
    return {"paths": found, "network": sub.to_dict()}


@router.get("/graph/{what}")
def summary(what: str, caller: CallerDep, platform: PlatformDep,
            limit: Annotated[int, QueryParam(ge=1, le=500)] = 20) -> dict[str, Any]:
    """``components``, ``communities`` or ``centrality`` of the caller's network."""
    return {"results": Investigator(platform).summary(caller, what, limit)}


@router.get("/graph/export/{fmt}")
def export(fmt: str, caller: CallerDep, platform: PlatformDep) -> PlainTextResponse:
    """The network the caller may export: ftm, graphml, gexf or cypher."""
    out = io.StringIO()
    Investigator(platform).export(caller, fmt, out)
    return PlainTextResponse(out.getvalue(), media_type=MEDIA.get(fmt, "text/plain"))
