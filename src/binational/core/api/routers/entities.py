"""Entities: fetch, search, count, export, write and delete, all through ``Access``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse
from followthemoney import StatementEntity
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.core.errors import InvalidInput

router = APIRouter(tags=["entities"])

QueryText = Annotated[str | None, Query(max_length=200, description="Name words to look for")]
SchemaParam = Annotated[str | None, Query(max_length=64, description="FtM schema, e.g. Person")]
DatasetsParam = Annotated[list[str] | None, Query(alias="dataset", description="Restrict to")]


class EntityOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema", description="followthemoney schema")
    caption: str
    properties: dict[str, list[str]]
    datasets: list[str]
    sources: list[dict[str, Any]]
    statements: list[dict[str, Any]] | None = None

    model_config = {"populate_by_name": True}


class SearchOut(BaseModel):
    total: int
    limit: int
    offset: int
    results: list[EntityOut]


def entity_out(platform: Any, entity: StatementEntity, statements: bool = False) -> EntityOut:
    owners = platform.catalog.all()
    sources = []
    for ds in sorted(entity.datasets):
        info = owners.get(ds)
        sources.append({"dataset": ds, "agency": info.agency if info else None,
                        "country": info.country.value if info else None})
    stmts = None
    if statements:
        stmts = [{"prop": s.prop, "value": s.value, "dataset": s.dataset,
                  "agency": owners[s.dataset].agency if s.dataset in owners else None,
                  "first_seen": s.first_seen, "last_seen": s.last_seen, "id": s.id}
                 for s in sorted(entity.statements, key=lambda s: (s.prop, s.value))
                 if s.prop != "id"]
    return EntityOut(id=str(entity.id), schema=entity.schema.name, caption=entity.caption,
                     properties=entity.properties, datasets=sorted(entity.datasets),
                     sources=sources, statements=stmts)


def _limit(platform: Any, limit: int) -> int:
    if limit < 1 or limit > platform.settings.max_page_size:
        raise InvalidInput(f"limit must be between 1 and {platform.settings.max_page_size}")
    return limit


@router.get("/entities", response_model=SearchOut)
def search(caller: CallerDep, platform: PlatformDep, q: QueryText = None,
           schema: SchemaParam = None, datasets: DatasetsParam = None,
           limit: int = 20, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> SearchOut:
    page = platform.access.search(caller, q, schema, datasets, _limit(platform, limit), offset)
    return SearchOut(total=page.total, limit=page.limit, offset=page.offset,
                     results=[entity_out(platform, e) for e in page.entities])


@router.get("/entities/count")
def count(caller: CallerDep, platform: PlatformDep, q: QueryText = None,
          schema: SchemaParam = None, datasets: DatasetsParam = None) -> dict[str, int]:
    return {"count": platform.access.count(caller, q, schema, datasets)}


@router.get("/entities/{entity_id}", response_model=EntityOut)
def get_entity(entity_id: str, caller: CallerDep, platform: PlatformDep,
               statements: bool = False) -> EntityOut:
    if len(entity_id) > 255:
        raise InvalidInput("entity id is longer than 255 characters")
    return entity_out(platform, platform.access.get_entity(caller, entity_id), statements)


@router.get("/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(caller: CallerDep, platform: PlatformDep, schema: SchemaParam = None,
           datasets: DatasetsParam = None) -> StreamingResponse:
    """FtM entities as JSON lines; the export is audited with what actually left."""
    stream = platform.access.export(caller, schema, datasets)
    # Pull the first item now so policy errors become proper 4xx answers, not broken streams.
    first = next(stream, None)

    def lines() -> Iterator[bytes]:
        if first is None:
            return
        yield orjson.dumps(first.to_dict()) + b"\n"
        for entity in stream:
            yield orjson.dumps(entity.to_dict()) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.put("/datasets/{dataset}/entities", response_model=EntityOut)
def put_entity(dataset: str, caller: CallerDep, platform: PlatformDep,
               body: Annotated[dict[str, Any], Body(description="FtM entity")]) -> EntityOut:
    return entity_out(platform, platform.access.put_entity(caller, dataset, body))


@router.delete("/datasets/{dataset}/entities/{entity_id}")
def delete_entity(dataset: str, entity_id: str, caller: CallerDep,
                  platform: PlatformDep) -> dict[str, int]:
    return {"deleted_statements": platform.access.delete_entity(caller, dataset, entity_id)}
