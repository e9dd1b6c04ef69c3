"""Identification over HTTP: records, ranked candidates, DVI, and Prüm-style queries.

Every call is signed in and carries a purpose and a case reference (headers ``X-Purpose`` /
``X-Case-Reference`` or query parameters); reads are limited to what the caller's agency may
see and audited. Answers are JSON lists of records with ids; human-facing reasons carry
English and Spanish labels (``en`` / ``es``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field

from binational.core.api.deps import CallerDep, PlatformDep
from binational.core.audit import AuditEvent
from binational.core.errors import BinationalError, InvalidInput
from binational.identification.codes import CATEGORY_LABELS, EXCLUSIVE, MARKS
from binational.identification.service import Identification

router = APIRouter(prefix="/identification", tags=["identification"])

MAX_VICTIMS = 200
MAX_MARKERS = 60
MAX_FAMILIES = 200


class RecordIn(BaseModel):
    dataset: str
    record: dict[str, Any]


class ProfileIn(BaseModel):
    dataset: str
    subject_kind: Literal["remains", "family", "missing"]
    subject_id: str
    kit: str = "unspecified"
    genotypes: dict[str, list[str]]


class QueryIn(BaseModel):
    remains_id: str
    target_agency: str
    kind: Literal["dna", "attributes"] = "dna"
    database: str | None = None
    theta: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0


class ReleaseRequestIn(BaseModel):
    justification: Annotated[str, Field(min_length=1, max_length=2000)]


class DecisionIn(BaseModel):
    approve: bool
    reason: str = ""


@router.get("/codes")
def codes() -> dict[str, Any]:
    """The controlled description codes, with English and Spanish labels."""

    def block(vocab: dict[str, dict[str, tuple[str, str]]], exclusive: bool) -> list[Any]:
        return [
            {
                "category": cat,
                "en": CATEGORY_LABELS[cat][0],
                "es": CATEGORY_LABELS[cat][1],
                "exclusive": exclusive,
                "codes": [
                    {"code": f"{cat}:{v}", "en": en, "es": es} for v, (en, es) in vals.items()
                ],
            }
            for cat, vals in vocab.items()
        ]

    return {"categories": block(EXCLUSIVE, True) + block(MARKS, False)}


@router.post("/profiles", status_code=201)
def add_profile(body: ProfileIn, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Store an STR profile, sealed at rest, in one of the caller's own (DNA) datasets."""
    pid = Identification(platform).add_profile(
        caller, body.dataset, body.subject_kind, body.subject_id, body.genotypes, body.kit
    )
    return {"id": pid, "dataset": body.dataset}


@router.get("/remains/{remains_id}/candidates")
def candidates(
    remains_id: str,
    caller: CallerDep,
    platform: PlatformDep,
    top: Annotated[int, QueryParam(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Missing-person reports ranked for a set of remains, with the reasons of each score."""
    remains, cands = Identification(platform).candidates(caller, remains_id, top)
    return {"remains": remains, "candidates": cands}


@router.get("/remains/{remains_id}/dna-candidates")
def dna_candidates(
    remains_id: str,
    caller: CallerDep,
    platform: PlatformDep,
    database: str | None = None,
    theta: Annotated[float, QueryParam(ge=0.0, lt=0.5)] = 0.0,
    top: Annotated[int, QueryParam(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Kinship LRs of the remains' profile against the family references the caller may see."""
    from binational.identification.resources import database as freq_db

    found = Identification(platform).dna_candidates(
        caller, remains_id, freq_db(database), theta, top
    )
    return {"remains_id": remains_id, "candidates": found}


@router.post("/queries")
def cross_border_query(body: QueryIn, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Prüm-style: compare the caller's remains with another agency's data; hit / no-hit."""
    from binational.identification.resources import database as freq_db

    svc = Identification(platform)
    if body.kind == "dna":
        answer = svc.query_dna(
            caller, body.remains_id, body.target_agency, freq_db(body.database), body.theta
        )
    else:
        answer = svc.query_attributes(caller, body.remains_id, body.target_agency)
    return answer.as_dict()


@router.get("/hits")
def hits(caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Hits the caller's agency asked about (references) or holds (with the records)."""
    return {"hits": [h.as_dict() for h in Identification(platform).hits(caller)]}


@router.post("/hits/{ref}/request")
def request_release(
    ref: str, body: ReleaseRequestIn, caller: CallerDep, platform: PlatformDep
) -> dict[str, Any]:
    return Identification(platform).request_release(caller, ref, body.justification).as_dict()


@router.post("/hits/{ref}/decision")
def decide(ref: str, body: DecisionIn, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """The owning agency releases the record behind a hit (a grant) or refuses."""
    return Identification(platform).decide(caller, ref, body.approve, body.reason).as_dict()


@router.get("/hits/{ref}")
def hit_detail(ref: str, caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    return Identification(platform).hit_detail(caller, ref)


@router.get("/dvi/cases")
def dvi_cases() -> dict[str, Any]:
    """The bundled DVI cases (public textbook and simulated data)."""
    from binational.identification.resources import dvi_cases as cases

    return {"cases": [{"name": k, "format": p.suffix.lstrip(".")} for k, p in cases().items()]}


@router.post("/dvi/cases/{name}/solve")
def solve_bundled(
    name: str,
    caller: CallerDep,
    platform: PlatformDep,
    top: Annotated[int, QueryParam(ge=1, le=200)] = 10,
) -> dict[str, Any]:
    from binational.identification.dna.case import load_case
    from binational.identification.resources import dvi_case

    return _solve(platform, caller, lambda: load_case(dvi_case(name)), name, top)


@router.post("/dvi/solve")
def solve_case(
    case: dict[str, Any],
    caller: CallerDep,
    platform: PlatformDep,
    top: Annotated[int, QueryParam(ge=1, le=200)] = 10,
) -> dict[str, Any]:
    """Solve a DVI case given as the case JSON (FORMAT.md): the joint assignments with their
    log-likelihoods, LRs and posteriors, pairwise LRs, undisputed and excluded pairings."""
    from binational.identification.dna.case import case_from_dict

    # A bound on what one request may make the server compute.
    for key, limit in (("pm", MAX_VICTIMS), ("markers", MAX_MARKERS), ("am", MAX_FAMILIES)):
        items = case.get(key)
        if isinstance(items, list) and len(items) > limit:
            raise InvalidInput(f"at most {limit} entries in {key!r} per request")
    return _solve(
        platform, caller, lambda: case_from_dict(case), str(case.get("name", "case")), top
    )


@router.get("/{kind}")
def list_records(
    kind: Literal["missing", "remains", "family"],
    caller: CallerDep,
    platform: PlatformDep,
    limit: Annotated[int, QueryParam(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Missing-person reports, remains or family reference samples the caller may see."""
    rows, total = Identification(platform).page_records(caller, kind, limit)
    return {"kind": kind, "total": total, "records": rows}


@router.post("/{kind}", status_code=201)
def add_record(
    kind: Literal["missing", "remains", "family"],
    body: RecordIn,
    caller: CallerDep,
    platform: PlatformDep,
) -> dict[str, Any]:
    """Write a record into one of the caller's own datasets (replaces one with the same id)."""
    svc = Identification(platform)
    add = {"missing": svc.add_missing, "remains": svc.add_remains, "family": svc.add_family_sample}[
        kind
    ]
    return {"id": add(caller, body.dataset, body.record), "dataset": body.dataset}


def _solve(platform: Any, caller: Any, load: Any, name: str, top: int) -> dict[str, Any]:
    from binational.identification.dna.dvi import DviSolver
    from binational.identification.dna.report import result_json

    p = caller.principal
    t0 = time.perf_counter()
    try:
        result = DviSolver(load()).solve(max_assignments=200_000)
    except BinationalError as exc:
        platform.audit.append(
            AuditEvent(
                action="identification.dvi.solve",
                outcome="invalid",
                actor=p.username,
                agency=p.agency,
                country=p.country.value,
                purpose=caller.context.purpose.value,
                case_ref=caller.context.case_ref,
                detail={"case": name, "error": exc.message},
            )
        )
        raise
    except RecursionError:
        raise InvalidInput("the case is too large to solve here") from None
    platform.audit.append(
        AuditEvent(
            action="identification.dvi.solve",
            outcome="ok",
            actor=p.username,
            agency=p.agency,
            country=p.country.value,
            purpose=caller.context.purpose.value,
            case_ref=caller.context.case_ref,
            detail={
                "case": name,
                "assignments": result.n_assignments,
                "seconds": round(time.perf_counter() - t0, 3),
            },
        )
    )
    return result_json(result, top)
