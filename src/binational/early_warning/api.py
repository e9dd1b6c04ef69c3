"""Early warning over HTTP: the alert map, alerts, series with their detection, subscriptions,
in-app notifications, the substance register, and detection on a posted series.

Every read is signed in and carries a purpose and a case reference (``X-Purpose`` /
``X-Case-Reference`` headers or ``purpose`` / ``case`` query parameters), like the core routes;
the service applies the policy plan and writes the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep, PrincipalDep
from binational.core.errors import InvalidInput
from binational.core.vocab import check_choice
from binational.early_warning.algorithms import ALGORITHMS, FREQUENCIES, detect
from binational.early_warning.service import EarlyWarning

router = APIRouter(prefix="/early-warning", tags=["early-warning"])
MAX_POINTS = 20_000


class SubscriptionIn(BaseModel):
    place: Annotated[str, Field(min_length=2, max_length=64)]
    indicator: Annotated[str | None, Field(max_length=64)] = None
    include_neighbours: bool = False
    email: Annotated[str | None, Field(max_length=255)] = None


class SubstanceIn(BaseModel):
    dataset: Annotated[str, Field(max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=255)]
    substance_class: Annotated[str, Field(max_length=64)] = "unknown"
    first_detected: date
    place: Annotated[str, Field(min_length=2, max_length=64)]
    source: str
    confidence: str
    risk_en: Annotated[str, Field(min_length=1, max_length=4000)]
    risk_es: Annotated[str, Field(min_length=1, max_length=4000)]


class Retraction(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class SeriesIn(BaseModel):
    periods: list[date]
    counts: list[float]
    algorithm: str
    frequency: str = "week"


@router.get("/map")
def alert_map(caller: CallerDep, platform: PlatformDep,
              indicator: Annotated[str | None, Query(max_length=64)] = None,
              ) -> dict[str, Any]:
    """Level per place (red, yellow, blue, grey) with labels in English and Spanish."""
    return {"places": EarlyWarning(platform).alert_map(caller, indicator)}


@router.get("/alerts")
def alerts(caller: CallerDep, platform: PlatformDep,
           place: Annotated[str | None, Query(max_length=64)] = None,
           neighbours: bool = False, open_only: bool = False,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    found = EarlyWarning(platform).alerts(caller, place, neighbours, open_only, limit)
    return {"results": found, "total": len(found)}


@router.get("/series")
def series_list(caller: CallerDep, platform: PlatformDep,
                place: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    found = EarlyWarning(platform).series_list(caller, place)
    return {"results": found, "total": len(found)}


@router.get("/series/{series_id}")
def series_detail(series_id: str, caller: CallerDep, platform: PlatformDep,
                  algorithm: str = "auto", adjust: bool = True) -> dict[str, Any]:
    """The series with expected count, upper bound, alarm and level per period."""
    if algorithm != "auto" and algorithm not in ALGORITHMS:
        raise InvalidInput(f"unknown algorithm {algorithm!r}; expected auto or one of: "
                           f"{', '.join(ALGORITHMS)}")
    return EarlyWarning(platform).series_detail(caller, series_id, algorithm, adjust)


@router.post("/detect")
def detect_series(body: SeriesIn, principal: PrincipalDep) -> dict[str, Any]:
    """Detection on a posted series (nothing stored, nothing read)."""
    del principal  # signed in, but no data of the platform is touched
    check_choice(body.algorithm, ALGORITHMS, "algorithm")
    if body.frequency not in FREQUENCIES:
        raise InvalidInput(f"unknown frequency {body.frequency!r}")
    if len(body.periods) != len(body.counts) or len(body.counts) > MAX_POINTS:
        raise InvalidInput(f"periods and counts must have the same length (at most "
                           f"{MAX_POINTS})")
    if any(c < 0 for c in body.counts):
        raise InvalidInput("counts cannot be negative")
    try:
        det = detect(body.algorithm, body.counts, body.frequency, body.periods)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    levels = det.levels(np.asarray(body.counts, dtype=float))
    return {"algorithm": det.algorithm, "results": [
        {"period": body.periods[i].isoformat(), "count": body.counts[i],
         "expected": _num(det.expected[j]), "upperbound": _num(det.upperbound[j]),
         "alarm": bool(det.alarm[j]) if det.defined[j] else None, "level": levels[j]}
        for j, i in enumerate(det.index)]}


def _num(v: float) -> float | None:
    return round(float(v), 6) if v == v and abs(v) != float("inf") else None


@router.get("/subscriptions")
def subscriptions(principal: PrincipalDep, platform: PlatformDep) -> dict[str, Any]:
    return {"results": EarlyWarning(platform).subscriptions(principal)}


@router.post("/subscriptions", status_code=201)
def subscribe(body: SubscriptionIn, principal: PrincipalDep,
              platform: PlatformDep) -> dict[str, Any]:
    """Follow an area (a country, state or municipality; optionally its neighbours)."""
    return EarlyWarning(platform).subscribe(principal, body.place, body.indicator,
                                            body.include_neighbours, body.email)


@router.delete("/subscriptions/{sub_id}", status_code=204)
def unsubscribe(sub_id: int, principal: PrincipalDep, platform: PlatformDep) -> None:
    EarlyWarning(platform).unsubscribe(principal, sub_id)


@router.get("/notifications")
def notifications(caller: CallerDep, platform: PlatformDep,
                  unread: bool = False) -> dict[str, Any]:
    found = EarlyWarning(platform).notifications(caller, unread)
    return {"results": found, "total": len(found)}


@router.post("/notifications/{notification_id}/read", status_code=204)
def mark_read(notification_id: int, principal: PrincipalDep, platform: PlatformDep) -> None:
    EarlyWarning(platform).mark_read(principal, notification_id)


@router.get("/substances")
def substances(caller: CallerDep, platform: PlatformDep,
               include_retracted: bool = True) -> dict[str, Any]:
    """The register of new psychoactive substances, with risk communications in English
    and Spanish."""
    found = EarlyWarning(platform).substances(caller, include_retracted)
    return {"results": found, "total": len(found)}


@router.post("/substances", status_code=201)
def register_substance(body: SubstanceIn, caller: CallerDep,
                       platform: PlatformDep) -> dict[str, Any]:
    data = body.model_dump()
    dataset = data.pop("dataset")
    return EarlyWarning(platform).register_substance(caller, dataset, **data)


@router.post("/substances/{substance_id}/retract", status_code=204)
def retract_substance(substance_id: str, body: Retraction, caller: CallerDep,
                      platform: PlatformDep) -> None:
    EarlyWarning(platform).retract_substance(caller, substance_id, body.reason)
