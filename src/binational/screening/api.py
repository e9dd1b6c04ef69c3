"""Screening over HTTP, shaped like OpenSanctions' yente so its clients work unchanged.

``POST /match/{dataset}`` takes yente's request (``{"queries": {"key": {"schema", "properties"}}}``)
and answers yente's response (``responses`` by key, each with scored ``results``, ``total`` and
the ``query``). ``{dataset}`` is one dataset or ``default`` for every list the caller may
search. Unlike a public yente, every call is signed in, carries a purpose and a case reference
(headers ``X-Purpose`` / ``X-Case-Reference`` or query parameters ``purpose`` / ``case``), is
limited to what the caller's agency may see, and is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.core.errors import InvalidInput
from binational.screening import DEFAULT_THRESHOLD, Match, Query, Screener

router = APIRouter(tags=["screening"])
MAX_QUERIES = 100


class EntityExample(BaseModel):
    id: str | None = None
    schema_: Annotated[str, Field(alias="schema", max_length=64)]
    properties: dict[str, str | list[Any]]


class MatchRequest(BaseModel):
    queries: Annotated[dict[str, EntityExample], Field(min_length=1)]
    weights: dict[str, float] = {}


def _datasets(dataset: str) -> list[str] | None:
    return None if dataset == "default" else [dataset]


def _properties(example: EntityExample) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop, values in example.properties.items():
        items = values if isinstance(values, list) else [values]
        out[prop] = [str(v) for v in items if v is not None and str(v).strip()]
    return out


def result_dict(match: Match, with_entity: bool = True) -> dict[str, Any]:
    """One scored result in yente's shape, plus the explanation yente does not have."""
    entity = match.entity.to_dict() if with_entity else {}
    explanation = match.explanation()
    return {
        "id": match.id,
        "caption": match.caption,
        "schema": match.entity.schema.name,
        "properties": entity.get("properties", {}),
        "datasets": sorted(match.datasets),
        "referents": [],
        "target": True,
        "first_seen": entity.get("first_seen"),
        "last_seen": entity.get("last_seen"),
        "last_change": entity.get("last_change"),
        "score": round(match.score, 4),
        "features": {f.name: round(f.weight * f.value, 4) for f in match.features},
        "match": match.match,
        "explanation": explanation,
    }


@router.post("/match/{dataset}")
def match(
    dataset: str, body: MatchRequest, caller: CallerDep, platform: PlatformDep,
    threshold: Annotated[float, QueryParam(ge=0.0, le=1.0)] = DEFAULT_THRESHOLD,
    cutoff: Annotated[float, QueryParam(ge=0.0, le=1.0)] = 0.5,
    limit: Annotated[int, QueryParam(ge=1, le=100)] = 5,
) -> dict[str, Any]:
    """Score each query against the designation lists the caller may search: results at or
    above ``cutoff``, best first; ``match`` is true at or above ``threshold``."""
    if len(body.queries) > MAX_QUERIES:
        raise InvalidInput(f"at most {MAX_QUERIES} queries per request; send batches")
    screener = Screener(platform)
    responses: dict[str, Any] = {}
    for key, example in body.queries.items():
        query = Query.from_properties(example.schema_, _properties(example))
        found = screener.screen(caller, query, datasets=_datasets(dataset),
                                threshold=threshold, limit=limit, cutoff=cutoff)
        responses[key] = {
            "status": 200,
            "results": [result_dict(m) for m in found],
            "total": {"value": len(found), "relation": "eq"},
            "query": {"id": example.id, "schema": example.schema_,
                      "properties": _properties(example)},
        }
    return {"responses": responses, "limit": limit, "threshold": threshold,
            "matcher": {"name": "binational-hispanic-v1"}}


@router.get("/search/{dataset}")
def search(
    dataset: str, caller: CallerDep, platform: PlatformDep,
    q: Annotated[str, QueryParam(min_length=1, max_length=300)],
    schema: Annotated[str, QueryParam(max_length=64)] = "LegalEntity",
    limit: Annotated[int, QueryParam(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Name search across the lists: ranked by the same scorer, every candidate shown."""
    query = Query.from_properties(schema, {"name": [q]})
    found = Screener(platform).screen(caller, query, datasets=_datasets(dataset),
                                      limit=limit, cutoff=0.0)
    results = [result_dict(m) for m in found]
    return {"results": results, "total": {"value": len(results), "relation": "eq"},
            "limit": limit, "offset": 0, "facets": {}}
