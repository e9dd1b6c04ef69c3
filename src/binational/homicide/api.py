"""The homicide capability over HTTP (thin: parsing and shaping only; ``Homicide`` decides).

Every route needs a signed-in caller with a purpose and a case reference (``X-Purpose`` /
``X-Case-Reference`` headers, or ``purpose`` / ``case`` query parameters); what it returns is
limited to what the caller's agency may see for that purpose, and is audited. Labels meant
for people come in English and Spanish. Maps are GeoJSON (WGS84 longitude/latitude).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.core.errors import InvalidInput, NotFound, TooLarge
from binational.homicide import registry
from binational.homicide.forecast import MODELS, ModelOptions, check_model
from binational.homicide.hotspots import ForecastRequest, forecast_report, knox_report
from binational.homicide.incidents import parse_day, read_incidents
from binational.homicide.service import (
    CASE_CRIMES,
    CASE_STATUSES,
    LAB_KINDS,
    LAB_STATUSES,
    Homicide,
)
from binational.homicide.sources import STATE_NAMES

router = APIRouter(prefix="/homicide", tags=["homicide"])
MAX_UPLOAD = 50 * 1024 * 1024
DEMO_TRAIN_UNTIL = "2017-02-28"


def _labels(vocab: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": k, "en": en, "es": es} for k, (en, es) in vocab.items()]


@router.get("/vocabulary")
def vocabulary() -> dict[str, Any]:
    """The closed lists the forms use, with labels in English and Spanish."""
    return {"ratings": _labels(registry.RATINGS), "targets": _labels(registry.TARGETS),
            "case_statuses": list(CASE_STATUSES), "case_crimes": list(CASE_CRIMES),
            "lab_kinds": list(LAB_KINDS), "lab_statuses": list(LAB_STATUSES),
            "models": list(MODELS), "states": STATE_NAMES}


# -- homicide trends ------------------------------------------------------------------------


@router.get("/trends")
def trends(
    caller: CallerDep, platform: PlatformDep,
    level: Annotated[str, QueryParam(pattern="^(state|municipality)$")] = "state",
    source: Annotated[str, QueryParam(pattern="^(inegi|sesnsp|sesnsp-victims)$")] = "inegi",
    year: Annotated[int | None, QueryParam(ge=1990, le=2100)] = None,
    area: Annotated[str | None, QueryParam(pattern=r"^\d{2,5}$",
                                           description="State or municipality code prefix")]
    = None,
) -> dict[str, Any]:
    """Homicides by state or municipality: count, rate per 100,000, year-on-year change and
    the slope of the last 36 months, per area (keyed by INEGI code, for a choropleth)."""
    return Homicide(platform).trends(caller, level=level, source=source, year=year,
                                     area_prefix=area)


@router.get("/reconciliation")
def reconciliation(caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """INEGI homicides against SESNSP intentional-homicide victims, by state and year."""
    rows = Homicide(platform).reconciliation(caller)
    for row in rows:
        row["state_name"] = STATE_NAMES.get(str(row["area_code"]))
    return {"rows": rows}


@router.get("/quadrants")
def quadrants(
    caller: CallerDep, platform: PlatformDep,
    year: Annotated[int | None, QueryParam(ge=1990, le=2100)] = None,
    month: Annotated[int | None, QueryParam(ge=1, le=12)] = None,
) -> dict[str, Any]:
    """Mexico City police quadrants (GeoJSON): homicides of the last 12 months, rate, Gi*
    hot spots and next month's forecast."""
    return Homicide(platform).quadrant_map(caller, year=year, month=month)


# -- hot spots of geocoded incidents -------------------------------------------------------


@cache
def _demo_forecast(model: str, cell_size: float) -> dict[str, Any]:
    from binational.homicide.demo import demo_incidents

    path = demo_incidents()
    if path is None:
        raise NotFound("the demo incidents file is not installed")
    inc = read_incidents(path, "x", "y", "date")
    return forecast_report(inc, ForecastRequest(parse_day(DEMO_TRAIN_UNTIL), 28.0, cell_size,
                                                model, top=200, geojson=True))


@router.get("/hotspots/demo")
def hotspots_demo(
    caller: CallerDep, platform: PlatformDep,
    model: Annotated[str, QueryParam()] = "sepp",
    cell_size: Annotated[float, QueryParam(ge=50, le=2000)] = 150.0,
) -> dict[str, Any]:
    """A forecast grid on public sample incidents (Chicago burglary, projected metres in
    EPSG:26971): the 200 best cells for the 4 weeks after the training end, with GeoJSON
    polygons in those metres and the evaluation on what happened."""
    check_model(model)
    report = _demo_forecast(model, cell_size)
    Homicide(platform).analyse_file(caller, "demo", report["rows"], report["rejected_count"],
                                    model=model)
    return {**report, "crs": "EPSG:26971"}


@router.get("/hotspots/forecast")
def hotspots_stored(
    caller: CallerDep, platform: PlatformDep,
    train_until: Annotated[str, QueryParam(description="Last training day, YYYY-MM-DD")],
    horizon: Annotated[float, QueryParam(gt=0, le=3660)] = 28.0,
    cell_size: Annotated[float, QueryParam(gt=0, le=100_000)] = 250.0,
    model: str = "sepp",
    crime: str = "homicide",
    dataset: Annotated[list[str] | None, QueryParam(description="Only these datasets")]
    = None,
    top: Annotated[int, QueryParam(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Forecast grid over the stored incidents the caller may see (GeoJSON cells)."""
    check_model(model)
    until = parse_day(train_until, "train_until")
    inc = Homicide(platform).incidents(caller, crime=crime, datasets=dataset)
    if not len(inc):
        raise NotFound(f"no {crime} incidents visible for this purpose")
    return forecast_report(inc, ForecastRequest(until, horizon, cell_size, model,
                                                ModelOptions(), top, geojson=True))


async def _save(upload: UploadFile, folder: Path) -> Path:
    path = folder / "incidents.csv"
    size = 0
    with path.open("wb") as fh:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise TooLarge(f"upload larger than {MAX_UPLOAD:,} bytes")
            fh.write(chunk)
    return path


@router.post("/hotspots/forecast")
async def hotspots_forecast(
    caller: CallerDep, platform: PlatformDep,
    file: Annotated[UploadFile, File(description="CSV of geocoded incidents")],
    x: Annotated[str, Form()], y: Annotated[str, Form()], date: Annotated[str, Form()],
    train_until: Annotated[str, Form()], horizon: Annotated[float, Form(gt=0)],
    cell_size: Annotated[float, Form(gt=0)], model: Annotated[str, Form()],
    date_format: Annotated[str | None, Form()] = None,
    lonlat: Annotated[bool, Form()] = False,
    top: Annotated[int | None, Form(ge=1)] = 500,
) -> dict[str, Any]:
    """Rank grid cells of an uploaded incident file (same as ``binational hotspots
    forecast``), with GeoJSON cells; the file is analysed and discarded."""
    check_model(model)
    until = parse_day(train_until, "train_until")
    with tempfile.TemporaryDirectory() as tmp:
        path = await _save(file, Path(tmp))
        inc = read_incidents(path, x, y, date, date_format=date_format, lonlat=lonlat)
    if not len(inc):
        raise InvalidInput("no usable incidents in the file")
    report = forecast_report(inc, ForecastRequest(until, horizon, cell_size, model,
                                                  ModelOptions(), top, geojson=True))
    Homicide(platform).analyse_file(caller, "forecast", inc.rows, len(inc.issues),
                                    model=model)
    return report


@router.post("/hotspots/knox")
async def hotspots_knox(
    caller: CallerDep, platform: PlatformDep,
    file: Annotated[UploadFile, File(description="CSV of geocoded incidents")],
    x: Annotated[str, Form()], y: Annotated[str, Form()], date: Annotated[str, Form()],
    spatial_band: Annotated[float, Form(gt=0)], spatial_bands: Annotated[int, Form(ge=1)],
    temporal_band: Annotated[float, Form(gt=0)], temporal_bands: Annotated[int, Form(ge=1)],
    date_format: Annotated[str | None, Form()] = None,
    lonlat: Annotated[bool, Form()] = False,
    iterations: Annotated[int, Form(ge=1, le=9999)] = 99,
    seed: Annotated[int, Form()] = 1,
) -> dict[str, Any]:
    """The near-repeat Knox test on an uploaded incident file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = await _save(file, Path(tmp))
        inc = read_incidents(path, x, y, date, date_format=date_format, lonlat=lonlat)
    report = knox_report(inc, spatial_band=spatial_band, spatial_bands=spatial_bands,
                         temporal_band=temporal_band, temporal_bands=temporal_bands,
                         iterations=iterations, seed=seed)
    Homicide(platform).analyse_file(caller, "knox", inc.rows, len(inc.issues))
    return report


# -- the best-practice registry ------------------------------------------------------------


class ProgrammeIn(BaseModel):
    name_en: Annotated[str, Field(min_length=1, max_length=255)]
    name_es: Annotated[str, Field(min_length=1, max_length=255)]
    summary_en: Annotated[str, Field(min_length=1, max_length=10_000)]
    summary_es: Annotated[str, Field(min_length=1, max_length=10_000)]
    rating: str
    target: str
    jurisdictions: list[str] = []
    costs_en: str | None = None
    costs_es: str | None = None
    contact: str | None = None
    links: list[str] = []


class NoteIn(BaseModel):
    kind: Annotated[str, Field(pattern="^(comment|result)$")]
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    lang: Annotated[str, Field(pattern="^(en|es)$")]
    jurisdiction: str | None = None
    outcome: str | None = None


@router.get("/programmes")
def search_programmes(
    caller: CallerDep, platform: PlatformDep,
    q: Annotated[str | None, QueryParam(max_length=200)] = None,
    rating: str | None = None, target: str | None = None,
    limit: Annotated[int, QueryParam(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Search the registry in English or Spanish (accents and word endings ignored)."""
    results = Homicide(platform).search_programmes(caller, q, rating=rating, target=target,
                                                   limit=limit)
    return {"results": results, "total": len(results)}


@router.get("/programmes/{programme_id}")
def get_programme(programme_id: str, caller: CallerDep, platform: PlatformDep
                  ) -> dict[str, Any]:
    return Homicide(platform).get_programme(caller, programme_id)


@router.post("/programmes", status_code=201)
def publish_programme(body: ProgrammeIn, caller: CallerDep, platform: PlatformDep,
                      dataset: Annotated[str, QueryParam()]) -> dict[str, Any]:
    """Publish a programme in one of the caller's agency's registry datasets."""
    programme = registry.Programme.from_dict(body.model_dump())
    return Homicide(platform).publish(caller, dataset, programme)


@router.post("/programmes/{programme_id}/notes", status_code=201)
def add_note(programme_id: str, body: NoteIn, caller: CallerDep, platform: PlatformDep,
             dataset: Annotated[str, QueryParam()]) -> dict[str, Any]:
    """Comment on a programme, or report the results of using it."""
    return Homicide(platform).add_note(caller, dataset, programme_id, kind=body.kind,
                                       text=body.text, lang=body.lang,
                                       jurisdiction=body.jurisdiction, outcome=body.outcome)


# -- Homicide Task Force cases -------------------------------------------------------------


@router.get("/cases")
def list_cases(caller: CallerDep, platform: PlatformDep, status: str | None = None
               ) -> dict[str, Any]:
    cases = Homicide(platform).list_cases(caller, status=status)
    return {"results": cases, "total": len(cases)}


@router.get("/cases/{case_id}")
def get_case(case_id: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    return Homicide(platform).get_case(caller, case_id)


@router.patch("/cases/{case_id}")
def update_case(case_id: str, body: dict[str, Any], caller: CallerDep,
                platform: PlatformDep) -> dict[str, Any]:
    """Change a case of the caller's agency: status, summary, entities, firearms,
    lab_requests (lists replaced whole)."""
    return Homicide(platform).update_case(caller, case_id, body)


@router.post("/cases", status_code=201)
def create_case(body: dict[str, Any], caller: CallerDep, platform: PlatformDep,
                dataset: Annotated[str, QueryParam()]) -> dict[str, Any]:
    """A case record (title, status, crime, occurred_on, place, area_code, entities,
    firearms, lab_requests) in one of the caller's agency's datasets."""
    return Homicide(platform).create_case(caller, dataset, body)
