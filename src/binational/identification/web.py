"""Identification pages of the analyst web application (``binational.web`` entry point).

Remains and their ranked missing-person candidates, the DVI solver (bundled cases or an
uploaded case file) and Prüm-style hit/no-hit queries with release by grant. Every page calls
the identification service with ``page.caller`` (the signed-in user, the purpose and the case
reference of the session), exactly as the ``/identification`` API does, so the sharing policy
decides what is seen and every read is audited.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from binational.core.errors import BinationalError, InvalidInput
from binational.core.identity import Principal
from binational.core.policy import ROLE_ACTIONS
from binational.identification.service import STATUS_LABELS, Identification
from binational.web import (
    NavItem,
    Page,
    WebError,
    WebPlugin,
    WorkingDep,
    page_router,
    read_form,
)
from binational.web.site import field_text, size_text

router = page_router()

MAX_CASE_BYTES = 512 * 1024
"""An uploaded DVI case: textbook and mass-grave cases are a few kB; this bounds the parse."""
TOP = 10


def _queries(p: Principal) -> bool:
    return bool(ROLE_ACTIONS[p.role])


def _status(status: str, lang: str) -> str:
    en, es = STATUS_LABELS.get(status, (status, status))
    return es if lang == "es" else en


# -- remains and candidates -------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def remains_list(page: WorkingDep) -> HTMLResponse:
    rows, total = Identification(page.platform).page_records(page.caller, "remains", 500)
    owners = page.platform.catalog.all()
    return page.render("identification/remains.html", rows=rows, total=total, owners=owners)


@router.get("/remains/{remains_id}", response_class=HTMLResponse)
def remains_page(remains_id: str, page: WorkingDep) -> HTMLResponse:
    remains, cands = Identification(page.platform).candidates(page.caller, remains_id, TOP)
    owners = page.platform.catalog.all()
    agency = page.caller.principal.agency
    own = remains["dataset"] in owners and owners[remains["dataset"]].agency == agency
    # Only an agency's own remains go out in a cross-border query.
    agencies = ([a for a in page.platform.identity.agencies() if a.code != agency]
                if own else [])
    return page.render("identification/candidates.html", remains=remains, candidates=cands,
                       owners=owners, agencies=agencies)


# -- DVI ------------------------------------------------------------------------------------


def _cases() -> list[str]:
    from binational.identification.resources import dvi_cases

    return list(dvi_cases())


def _render_dvi(page: Page, result: dict[str, Any] | None = None, chosen: str = "",
                error: str | None = None, detail: str | None = None,
                status: int = 200) -> HTMLResponse:
    rendered: HTMLResponse = page.render(
        "identification/dvi.html", status=status, cases=_cases(), chosen=chosen, result=result,
        error=error, detail=detail, max_size=size_text(MAX_CASE_BYTES, page.lang),
        max_bytes=MAX_CASE_BYTES)
    return rendered


@router.get("/dvi", response_class=HTMLResponse)
def dvi_page(page: WorkingDep, case: str = "") -> HTMLResponse:
    from binational.identification.api import _solve
    from binational.identification.dna.case import load_case
    from binational.identification.resources import dvi_case

    if not case:
        return _render_dvi(page)
    path = dvi_case(case)  # NotFound / InvalidInput for an unknown or odd name
    result = _solve(page.platform, page.caller, lambda: load_case(path), case, TOP)
    return _render_dvi(page, result, chosen=case)


def _load_upload(name: str, data: bytes) -> Any:
    """A DVI case from an uploaded .json or .fam file (the parsers read paths: a temp file)."""
    from binational.identification.api import MAX_FAMILIES, MAX_MARKERS, MAX_VICTIMS
    from binational.identification.dna.case import load_case

    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".fam"):
        raise InvalidInput(f"{name}: expected a .json DVI case or a Familias .fam file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("case" + suffix)
        path.write_bytes(data)
        case = load_case(path)
    # The same bounds as the API's: what one request may make the server compute.
    for items, limit, what in ((case.victims, MAX_VICTIMS, "victims"),
                               (case.markers, MAX_MARKERS, "markers"),
                               (case.families, MAX_FAMILIES, "families")):
        if len(items) > limit:
            raise InvalidInput(f"at most {limit} {what} per case here")
    return case


@router.post("/dvi", response_class=HTMLResponse)
async def dvi_upload(request: Request, page: WorkingDep) -> HTMLResponse:
    from binational.identification.api import _solve

    form = await read_form(request, page, limit=MAX_CASE_BYTES + 16 * 1024)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _render_dvi(page, error=page.t("ident.dvi.no_file"), status=400)
    data = await upload.read(MAX_CASE_BYTES + 1)
    if len(data) > MAX_CASE_BYTES:
        raise WebError(413, "error.too_large", limit=size_text(MAX_CASE_BYTES, page.lang))
    name = Path(upload.filename).name[:100]
    try:
        case = _load_upload(name, data)
        result = _solve(page.platform, page.caller, lambda: case, Path(name).stem, TOP)
    except (BinationalError, ValueError) as exc:
        message = exc.message if isinstance(exc, BinationalError) else str(exc)
        return _render_dvi(page, error=page.t("ident.dvi.bad_file", file=name),
                           detail=message, status=400)
    return _render_dvi(page, result, chosen=name)


# -- Prüm-style queries and release ---------------------------------------------------------


def _hits_page(page: Page, answer: dict[str, Any] | None = None,
               status: int = 200) -> HTMLResponse:
    svc = Identification(page.platform)
    caller = page.caller
    own, _ = svc.page_records(caller, "remains", 500)
    owners = page.platform.catalog.all()
    # Queries go out from the caller's own remains (the service refuses others' anyway).
    mine = [r for r in own if r["dataset"] in owners
            and owners[r["dataset"]].agency == caller.principal.agency]
    agencies = [a for a in page.platform.identity.agencies()
                if a.code != caller.principal.agency]
    hits = [h.as_dict() for h in svc.hits(caller)]
    rendered: HTMLResponse = page.render(
        "identification/hits.html", status=status, remains=mine, agencies=agencies, hits=hits,
        answer=answer, status_label=lambda s: _status(s, page.lang))
    return rendered


@router.get("/hits", response_class=HTMLResponse)
def hits_page(page: WorkingDep) -> HTMLResponse:
    return _hits_page(page)


@router.post("/queries", response_class=HTMLResponse)
async def query(request: Request, page: WorkingDep) -> HTMLResponse:
    from binational.identification.resources import database

    form = await read_form(request, page)
    remains_id = field_text(form, "remains_id", 64)
    target = field_text(form, "target_agency", 64)
    kind = field_text(form, "kind", 16) or "dna"
    if not remains_id or not target:
        raise WebError(400, "ident.query.missing")
    svc = Identification(page.platform)
    if kind == "dna":
        answer = svc.query_dna(page.caller, remains_id, target, database(None))
    elif kind == "attributes":
        answer = svc.query_attributes(page.caller, remains_id, target)
    else:
        raise WebError(400, "error.field", field="kind")
    shown = {**answer.as_dict(), "remains_id": remains_id, "target_agency": target, "kind": kind}
    return _hits_page(page, shown)


@router.post("/hits/{ref}/request")
async def request_release(ref: str, request: Request, page: WorkingDep) -> RedirectResponse:
    form = await read_form(request, page)
    justification = field_text(form, "justification", 2000)
    if not justification:
        raise WebError(400, "ident.hits.justify")
    Identification(page.platform).request_release(page.caller, ref, justification)
    return page.redirect(page.url("/identification/hits", done="requested"))


@router.post("/hits/{ref}/decision")
async def decide(ref: str, request: Request, page: WorkingDep) -> RedirectResponse:
    form = await read_form(request, page)
    approve = field_text(form, "approve", 8) == "yes"
    reason = field_text(form, "reason", 1000)
    Identification(page.platform).decide(page.caller, ref, approve, reason)
    return page.redirect(page.url("/identification/hits",
                                  done="released" if approve else "refused"))


@router.get("/hits/{ref}", response_class=HTMLResponse)
def hit_page(ref: str, page: WorkingDep) -> HTMLResponse:
    detail = Identification(page.platform).hit_detail(page.caller, ref)
    return page.render("identification/hit.html", detail=detail)


MESSAGES: dict[str, tuple[str, str]] = {
    "ident.nav": ("Identification", "Identificación"),
    "ident.nav.dvi": ("DVI", "DVI"),
    "ident.nav.hits": ("Cross-border queries", "Consultas transfronterizas"),
    "ident.remains.title": ("Unidentified remains", "Restos sin identificar"),
    "ident.remains.intro": (
        "Remains you may see for this purpose and case; open one for its ranked "
        "missing-person candidates.",
        "Restos que puede ver para este propósito y caso; abra uno para ver los candidatos "
        "de personas desaparecidas ordenados."),
    "ident.remains.count": ("{shown} of {total} records", "{shown} de {total} registros"),
    "ident.remains.none": ("No remains you may see.", "No hay restos que pueda ver."),
    "ident.col.id": ("Id", "Id"),
    "ident.col.sex": ("Sex", "Sexo"),
    "ident.col.age": ("Age", "Edad"),
    "ident.col.stature": ("Stature (cm)", "Estatura (cm)"),
    "ident.col.found": ("Found on", "Hallado el"),
    "ident.col.place": ("State / municipality", "Estado / municipio"),
    "ident.col.owner": ("Owner", "Propietario"),
    "ident.col.score": ("Score", "Puntuación"),
    "ident.col.reasons": ("Reasons", "Razones"),
    "ident.col.disappeared": ("Disappeared on", "Desaparecido el"),
    "ident.col.rank": ("Rank", "Lugar"),
    "ident.cand.title": ("Remains {id}", "Restos {id}"),
    "ident.cand.heading": ("Ranked missing-person candidates",
                           "Candidatos de personas desaparecidas ordenados"),
    "ident.cand.none": ("No candidate among the reports you may see.",
                        "Ningún candidato entre los reportes que puede ver."),
    "ident.cand.back": ("Back to the remains", "Volver a los restos"),
    "ident.cand.note": (
        "Candidates are ranked by agreement of description; a candidate is a lead, not an "
        "identification.",
        "Los candidatos se ordenan por concordancia de la descripción; un candidato es una "
        "pista, no una identificación."),
    "ident.dvi.title": ("Disaster victim identification (DVI)",
                        "Identificación de víctimas de desastres (DVI)"),
    "ident.dvi.intro": (
        "Solve a DVI case jointly: every assignment of victims to missing persons, its "
        "likelihood and its likelihood ratio against no identification.",
        "Resuelva un caso DVI de forma conjunta: cada asignación de víctimas a personas "
        "desaparecidas, su verosimilitud y su razón de verosimilitud frente a ninguna "
        "identificación."),
    "ident.dvi.bundled": ("Bundled cases", "Casos incluidos"),
    "ident.dvi.case": ("Case", "Caso"),
    "ident.dvi.solve": ("Solve", "Resolver"),
    "ident.dvi.upload": ("Upload a case", "Subir un caso"),
    "ident.dvi.file": ("Case file (.json or Familias .fam)",
                       "Archivo del caso (.json o .fam de Familias)"),
    "ident.dvi.file_help": ("At most {size}.", "Como máximo {size}."),
    "ident.dvi.no_file": ("Choose a case file first.", "Elija primero un archivo de caso."),
    "ident.dvi.bad_file": ("The file {file} could not be read as a DVI case.",
                           "El archivo {file} no se pudo leer como un caso DVI."),
    "ident.dvi.result": ("Result for {case}", "Resultado de {case}"),
    "ident.dvi.best": ("Best joint assignment", "Mejor asignación conjunta"),
    "ident.dvi.victim": ("Victim", "Víctima"),
    "ident.dvi.missing": ("Missing person", "Persona desaparecida"),
    "ident.dvi.loglik": ("Log-likelihood", "Log-verosimilitud"),
    "ident.dvi.lr": ("LR vs null", "LR frente a nulo"),
    "ident.dvi.posterior": ("Posterior", "Probabilidad posterior"),
    "ident.dvi.count": ("{n} possible assignments", "{n} asignaciones posibles"),
    "ident.dvi.top": ("Top assignments", "Mejores asignaciones"),
    "ident.dvi.pairwise": ("Pairwise likelihood ratios", "Razones de verosimilitud por pares"),
    "ident.dvi.none_marker": ("* = not among the missing", "* = no está entre los desaparecidos"),
    "ident.dvi.infinite": ("infinite", "infinito"),
    "ident.dvi.warnings": ("Warnings", "Advertencias"),
    "ident.hits.title": ("Cross-border hit/no-hit queries",
                         "Consultas transfronterizas de coincidencia"),
    "ident.hits.intro": (
        "Compare one of your agency's remains with another agency's data. The answer is hit "
        "or no hit with opaque references; details are released only if the owner grants it.",
        "Compare restos de su institución con los datos de otra institución. La respuesta es "
        "coincidencia o no, con referencias opacas; los detalles se liberan solo si el "
        "propietario lo autoriza."),
    "ident.query.heading": ("Send a query", "Enviar una consulta"),
    "ident.query.remains": ("Remains", "Restos"),
    "ident.query.agency": ("Agency to ask", "Institución consultada"),
    "ident.query.kind": ("Compare", "Comparar"),
    "ident.query.kind_dna": ("DNA with consenting family references",
                             "ADN con referencias familiares con consentimiento"),
    "ident.query.kind_attributes": ("Description with missing-person reports",
                                    "Descripción con reportes de personas desaparecidas"),
    "ident.query.send": ("Send query", "Enviar consulta"),
    "ident.query.no_remains": ("Your agency has no remains to query with.",
                               "Su institución no tiene restos con los cuales consultar."),
    "ident.query.missing": ("Choose the remains and the agency.",
                            "Elija los restos y la institución."),
    "ident.answer.heading": ("Answer", "Respuesta"),
    "ident.answer.hit": ("HIT: {agency} holds possible matches for {remains}.",
                         "COINCIDENCIA: {agency} tiene posibles correspondencias para {remains}."),
    "ident.answer.no_hit": ("NO HIT: nothing at {agency} matches {remains}.",
                            "SIN COINCIDENCIA: nada en {agency} corresponde a {remains}."),
    "ident.answer.refs": ("References", "Referencias"),
    "ident.hits.heading": ("Hits", "Coincidencias"),
    "ident.hits.none": ("No hits yet.", "Aún no hay coincidencias."),
    "ident.col.ref": ("Reference", "Referencia"),
    "ident.col.kind": ("Kind", "Tipo"),
    "ident.col.status": ("Status", "Estado"),
    "ident.col.requester": ("Asked by", "Solicitado por"),
    "ident.col.case": ("Case", "Caso"),
    "ident.col.record": ("Record", "Registro"),
    "ident.col.actions": ("Actions", "Acciones"),
    "ident.hits.justification": ("Why the details are needed",
                                 "Por qué se necesitan los detalles"),
    "ident.hits.request": ("Request release", "Solicitar liberación"),
    "ident.hits.justify": ("Say why the details are needed.",
                           "Indique por qué se necesitan los detalles."),
    "ident.hits.reason": ("Reason (optional)", "Motivo (opcional)"),
    "ident.hits.approve": ("Approve release", "Aprobar liberación"),
    "ident.hits.deny": ("Deny", "Rechazar"),
    "ident.hits.view": ("View released record", "Ver registro liberado"),
    "ident.hits.done.requested": ("Release requested.", "Liberación solicitada."),
    "ident.hits.done.released": ("Released: a grant now lets the requester read the record.",
                                 "Liberado: una autorización permite al solicitante leer el "
                                 "registro."),
    "ident.hits.done.refused": ("Release denied.", "Liberación rechazada."),
    "ident.hit.title": ("Hit {ref}", "Coincidencia {ref}"),
    "ident.hit.record": ("Released record", "Registro liberado"),
    "ident.kind.dna": ("DNA", "ADN"),
    "ident.kind.attributes": ("Description", "Descripción"),
}


plugin = WebPlugin(
    name="identification",
    router=router,
    nav=(NavItem("ident.nav", "/identification/", _queries),
         NavItem("ident.nav.dvi", "/identification/dvi", _queries),
         NavItem("ident.nav.hits", "/identification/hits", _queries)),
    templates=Path(__file__).parent / "templates" / "identification",
    messages=MESSAGES,
)
