"""Entity resolution in the analyst web application (``/app/resolution/``): the review queue of
uncertain pairs (side by side, with the comparisons that fired and their match weights), the
resolved entities with their member records, the evidence and the judgement history, the
"reject this link" and split actions, and the network walk from any entity to the designated
ones, drawn with the web's cytoscape graph.

Every read goes through ``Resolver`` and ``Investigator`` with the session's user, purpose and
case reference (``page.caller``), exactly as the JSON API does: a pair, a link or a path is
shown only when the reader may see every record in it, and a page about a record the reader
may not see answers as if the record did not exist.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from followthemoney import StatementEntity, model

from binational.core.errors import InvalidInput
from binational.core.policy import ROLE_ACTIONS
from binational.resolution import judgements as jd
from binational.resolution.graph import MAX_DEPTH, RELATIONS, Network
from binational.resolution.service import Candidate, Investigator, Resolver
from binational.web import FormDep, NavItem, Page, WebError, WebPlugin, WorkingDep, page_router
from binational.web.site import field_text, local_next

HERE = Path(__file__).parent
PREFIX = "/resolution"
MAX_ID = 255
MAX_REASON = 2000
# Properties shown when two records are compared (in this order; others follow).
COMPARED = ("name", "firstName", "fatherName", "motherName", "birthDate", "nationality",
            "idNumber", "taxNumber", "nationalId", "passportNumber", "address", "phone",
            "email", "country", "jurisdiction", "registrationNumber")
# The comparisons of the linkage model (``pipeline``), by their output column.
COMPARISONS = ("given", "surname", "name", "dob", "identifier", "phone", "street", "locality",
               "postcode", "street_number", "state", "country")
JUDGE = {"same": jd.Judgement.POSITIVE, "different": jd.Judgement.NEGATIVE,
         "unsure": jd.Judgement.UNSURE}

router = page_router()

MESSAGES: dict[str, tuple[str, str]] = {
    "res.nav": ("Entity resolution", "Resolución de entidades"),
    "res.tabs": ("Entity resolution pages", "Páginas de resolución de entidades"),
    "res.queue.title": ("Review queue", "Cola de revisión"),
    "res.queue.intro": ("Pairs of records the linkage model could not settle, most valuable "
                        "first: the most uncertain, across the border, and those touching a "
                        "designated entity. Only pairs whose two records you may see are "
                        "listed.",
                        "Pares de registros que el modelo de vinculación no pudo decidir, "
                        "primero los más valiosos: los más inciertos, los que cruzan la "
                        "frontera y los que tocan una entidad designada. Solo se listan los "
                        "pares cuyos dos registros usted puede ver."),
    "res.queue.empty": ("No pairs wait for review.", "No hay pares pendientes de revisión."),
    "res.queue.count": ("Pairs to review: {n}", "Pares por revisar: {n}"),
    "res.pair": ("Pair {n}", "Par {n}"),
    "res.pair.value": ("Review value {value}", "Valor de revisión {value}"),
    "res.probability": ("Match probability", "Probabilidad de coincidencia"),
    "res.left": ("Record A", "Registro A"),
    "res.right": ("Record B", "Registro B"),
    "res.field": ("Field", "Campo"),
    "res.owner": ("Owner: {agency} ({country})", "Propietario: {agency} ({country})"),
    "res.dataset": ("Dataset", "Conjunto de datos"),
    "res.evidence": ("Evidence", "Evidencia"),
    "res.evidence.help": ("The comparisons of the linkage model and their match weights "
                          "(log2 of the Bayes factor): a positive weight speaks for the same "
                          "person, a negative one against; comparisons missing here had no "
                          "value on one side.",
                          "Las comparaciones del modelo de vinculación y sus pesos de "
                          "coincidencia (log2 del factor de Bayes): un peso positivo habla a "
                          "favor de la misma persona, uno negativo en contra; las "
                          "comparaciones ausentes no tenían valor en un lado."),
    "res.col.comparison": ("Comparison", "Comparación"),
    "res.col.weight": ("Match weight", "Peso de coincidencia"),
    "res.col.bayes": ("Bayes factor", "Factor de Bayes"),
    "res.col.reading": ("Reading", "Lectura"),
    "res.for": ("for a match", "a favor"),
    "res.against": ("against", "en contra"),
    "res.neutral": ("neutral", "neutral"),
    "res.no_evidence": ("No model evidence (the link was made by a judgement).",
                        "Sin evidencia del modelo (el vínculo lo hizo un juicio)."),
    "res.cmp.given": ("Given name", "Nombre de pila"),
    "res.cmp.surname": ("Surnames", "Apellidos"),
    "res.cmp.name": ("Name", "Nombre"),
    "res.cmp.dob": ("Date of birth", "Fecha de nacimiento"),
    "res.cmp.identifier": ("Identifier (CURP, RFC, SSN...)",
                           "Identificador (CURP, RFC, SSN...)"),
    "res.cmp.phone": ("Phone", "Teléfono"),
    "res.cmp.street": ("Street address", "Domicilio"),
    "res.cmp.locality": ("Locality", "Localidad"),
    "res.cmp.postcode": ("Postal code", "Código postal"),
    "res.cmp.street_number": ("Street number", "Número exterior"),
    "res.cmp.state": ("State", "Estado"),
    "res.cmp.country": ("Country", "País"),
    "res.judge": ("Your judgement", "Su juicio"),
    "res.reason": ("Reason", "Motivo"),
    "res.split_reason": ("Reason for splitting it off", "Motivo para separarlo"),
    "res.reason.help": ("Why: kept in the judgement log with your name and the time.",
                        "Por qué: queda en el registro de juicios con su nombre y la hora."),
    "res.same": ("Same entity", "La misma entidad"),
    "res.different": ("Different entities", "Entidades distintas"),
    "res.unsure": ("Unsure", "Dudoso"),
    "res.done": ("Judgement recorded: {label}.", "Juicio registrado: {label}."),
    "res.done_undo": ("Judgement taken back (the log keeps both).",
                      "Juicio retirado (el registro conserva ambos)."),
    "res.done_split": ("Record split off; judgements recorded: {n}.",
                       "Registro separado; juicios registrados: {n}."),
    "res.undo": ("Undo", "Deshacer"),
    "res.undo_reason": ("Reason for undoing", "Motivo para deshacer"),
    "res.conflict.title": ("Conflicting judgement", "Juicio en conflicto"),
    "res.conflict": ("This judgement contradicts judgements in force, so it was not recorded "
                     "(nothing was lost). Undo the judgement that stands in the way, or split "
                     "a record off, then judge again.",
                     "Este juicio contradice juicios vigentes, así que no se registró (no se "
                     "perdió nada). Deshaga el juicio que lo impide, o separe un registro, y "
                     "vuelva a juzgar."),
    "res.conflict.detail": ("What the resolver found", "Lo que encontró el resolvedor"),
    "res.back": ("Back", "Volver"),
    "res.resolved.title": ("Resolved entities", "Entidades resueltas"),
    "res.resolved.intro": ("Records of different datasets judged or scored to be one entity, "
                           "as far as you may see them.",
                           "Registros de distintos conjuntos de datos juzgados o calificados "
                           "como una misma entidad, en la medida en que usted puede verlos."),
    "res.resolved.empty": ("No resolved entities among the records you may see.",
                           "No hay entidades resueltas entre los registros que puede ver."),
    "res.col.entity": ("Entity", "Entidad"),
    "res.col.records": ("Records", "Registros"),
    "res.col.owners": ("Owners", "Propietarios"),
    "res.entity.title": ("Resolved entity: {name}", "Entidad resuelta: {name}"),
    "res.entity.canonical": ("Canonical id", "Identificador canónico"),
    "res.members": ("Member records", "Registros miembros"),
    "res.single": ("This record is not linked to any other record you may see.",
                   "Este registro no está vinculado a ningún otro registro que usted pueda "
                   "ver."),
    "res.open_record": ("Open the record", "Abrir el registro"),
    "res.links": ("Links and their evidence", "Vínculos y su evidencia"),
    "res.link": ("{a} and {b}", "{a} y {b}"),
    "res.link.by_model": ("Linked by the model (probability {p}).",
                          "Vinculados por el modelo (probabilidad {p})."),
    "res.link.judged": ("Judged {label} by {actor} ({agency}) on {when}.",
                        "Juzgado «{label}» por {actor} ({agency}) el {when}."),
    "res.reject": ("Reject this link", "Rechazar este vínculo"),
    "res.split": ("Split this record off", "Separar este registro"),
    "res.history": ("Judgement history", "Historial de juicios"),
    "res.history.empty": ("No judgements yet.", "Aún no hay juicios."),
    "res.col.when": ("When", "Cuándo"),
    "res.col.who": ("Who", "Quién"),
    "res.col.judgement": ("Judgement", "Juicio"),
    "res.col.pair": ("Pair", "Par"),
    "res.col.why": ("Why", "Por qué"),
    "res.col.action": ("Action", "Acción"),
    "res.undoes": ("undoes {id}", "deshace {id}"),
    "res.undone": ("undone", "deshecho"),
    "res.walk": ("Walk the network", "Recorrer la red"),
    "res.network.title": ("Network: {name}", "Red: {name}"),
    "res.network.intro": ("Relationships (ownership, directorship, family, associates, "
                          "membership, payments...) across resolved entities, from the "
                          "records you may see.",
                          "Relaciones (propiedad, dirección, familia, asociados, membresía, "
                          "pagos...) entre entidades resueltas, a partir de los registros que "
                          "usted puede ver."),
    "res.paths": ("Paths to designated entities", "Rutas a entidades designadas"),
    "res.paths.none": ("No path to a designated entity among the records you may see.",
                       "No hay ruta a una entidad designada entre los registros que puede "
                       "ver."),
    "res.path": ("Path {n}, length {steps}", "Ruta {n}, longitud {steps}"),
    "res.designated": ("designated", "designada"),
    "res.resolved_node": ("resolved from {n} records", "resuelta de {n} registros"),
    "res.depth": ("Neighbourhood depth", "Profundidad del vecindario"),
    "res.expand": ("Expand", "Ampliar"),
    "res.neighbourhood": ("Neighbourhood, depth {depth}", "Vecindario, profundidad {depth}"),
    "res.graph_label": ("Network around {name}: paths to designated entities and the "
                        "neighbourhood",
                        "Red alrededor de {name}: rutas a entidades designadas y el "
                        "vecindario"),
    "res.graph_help": ("The start is the large red node; designated entities are orange "
                       "diamonds. Select a node to walk on from it. The tables below list "
                       "the same nodes and relationships.",
                       "El inicio es el nodo rojo grande; las entidades designadas son "
                       "rombos naranjas. Seleccione un nodo para seguir desde él. Las tablas "
                       "de abajo listan los mismos nodos y relaciones."),
    "res.graph_error": ("The network could not be drawn; the tables below list it.",
                        "No se pudo dibujar la red; las tablas de abajo la listan."),
    "res.col.node": ("Node", "Nodo"),
    "res.col.kind": ("Kind", "Tipo"),
    "res.col.relation": ("Relationship", "Relación"),
    "res.col.from": ("From", "De"),
    "res.col.to": ("To", "A"),
    "res.no_edges": ("No relationships among the records you may see.",
                     "No hay relaciones entre los registros que puede ver."),
    "res.panel.title": ("Resolution and network", "Resolución y red"),
    "res.panel.resolved": ("Records of other datasets resolved with this one",
                           "Registros de otros conjuntos resueltos con este"),
    "res.panel.walk": ("Paths to designated entities and the network",
                       "Rutas a entidades designadas y la red"),
    "res.bad_judgement": ("Choose same, different or unsure.",
                          "Elija la misma, distintas o dudoso."),
    "res.bad_id": ("Malformed record id.", "Identificador de registro mal formado."),
}
for _schema, (_en, _es) in RELATIONS.items():
    MESSAGES[f"res.rel.{_schema}"] = (_en, _es)


@dataclass(frozen=True)
class Owner:
    dataset: str
    agency: str
    country: str
    title: str


def _check_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_ID or any(ch.isspace() or ch in "/\\" for ch in value):
        raise WebError(400, "res.bad_id")
    return value


def owners(page: Page, entities: list[StatementEntity]) -> dict[str, Owner]:
    """Owner agency and country of the datasets of records the reader has just read."""
    catalog = page.platform.catalog.all()
    out: dict[str, Owner] = {}
    for e in entities:
        for ds in e.datasets:
            info = catalog.get(ds)
            out[ds] = Owner(ds, info.agency if info else "?",
                            info.country.value if info else "?", info.title if info else ds)
    return out


def fields(page: Page, *entities: StatementEntity) -> list[tuple[str, list[list[str]]]]:
    """(label, values per record) for the properties any of the records has, in a useful
    order; references to other entities are left out (the network shows them)."""
    names: list[str] = []
    for e in entities:
        for prop in e.iterprops():
            if prop.type.name != "entity" and prop.name not in names:
                names.append(prop.name)
    order = {n: i for i, n in enumerate(COMPARED)}
    names.sort(key=lambda n: (order.get(n, len(order)), n))
    rows = []
    for name in names:
        label = next((e.schema.get(name).label for e in entities  # type: ignore[union-attr]
                      if e.schema.get(name) is not None), name)
        rows.append((page.t.label(label), [sorted(e.get(name, quiet=True)) for e in entities]))
    return rows


def evidence(page: Page, weights: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons that fired, with weight, Bayes factor and a reading in words."""
    order = {n: i for i, n in enumerate(COMPARISONS)}
    rows = []
    for name, weight in sorted(weights.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])):
        w = float(weight)
        label = page.t(f"res.cmp.{name}") if name in order else name
        reading = "res.for" if w > 0.05 else "res.against" if w < -0.05 else "res.neutral"
        rows.append({"name": name, "label": label, "weight": _number(page, w, 2),
                     "bayes": _bayes(page, w), "reading": page.t(reading),
                     "sign": "for" if w > 0.05 else "against" if w < -0.05 else "neutral"})
    return rows


def _number(page: Page, value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    if page.lang == "es":  # 1,234.5 -> 1 234,5 (the separators of Mexican Spanish style)
        text = text.replace(",", " ").replace(".", ",")
    return text


def _bayes(page: Page, weight: float) -> str:
    factor = math.pow(2.0, max(min(weight, 60.0), -60.0))
    if factor >= 0.01:
        return _number(page, factor, 2)
    return f"{factor:.1e}".replace(".", "," if page.lang == "es" else ".")


def _percent(page: Page, p: float | None) -> str:
    return "" if p is None else _number(page, 100 * p, 2) + " %"


def _decision_label(page: Page, judgement: str) -> str:
    en, es = jd.LABELS[jd.Judgement(judgement)]
    return es if page.lang == "es" else en


def _next(form: Any, fallback: str) -> str:
    target = str(form.get("next") or "")
    return local_next(target) if target else fallback


def _with(target: str, **query: str) -> str:
    from urllib.parse import urlencode

    return target + ("&" if "?" in target else "?") + urlencode(query)


# -- review queue ------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def queue_page(page: WorkingDep,
               limit: Annotated[int, Query(ge=1, le=200)] = 20,
               done: Annotated[str | None, Query(max_length=40)] = None,
               judgement: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    ranked, records = Resolver(page.platform).review(page.caller, limit)
    pairs = []
    for c in ranked:
        left, right = records.get(c.left_id), records.get(c.right_id)
        if left is None or right is None:
            continue  # the service lists only pairs the reader sees both of; belt and braces
        pairs.append({"c": c, "left": left, "right": right, "fields": fields(page, left, right),
                      "evidence": evidence(page, c.evidence),
                      "probability": _percent(page, c.score),
                      "value": _number(page, c.value, 2)})
    return page.render("resolution/queue.html", pairs=pairs,
                       owners=owners(page, list(records.values())), done=done,
                       done_label=_decision_label(page, judgement)
                       if judgement in {j.value for j in jd.Judgement} else "")


@router.post("/judgements")
def judge(page: WorkingDep, form: FormDep) -> Response:
    left = _check_id(field_text(form, "left_id", MAX_ID))
    right = _check_id(field_text(form, "right_id", MAX_ID))
    choice = field_text(form, "judgement", 20)
    if choice not in JUDGE:
        raise WebError(400, "res.bad_judgement")
    reason = field_text(form, "reason", MAX_REASON) or None
    back = _next(form, page.url(PREFIX + "/"))
    try:
        decision = Resolver(page.platform).decide(page.caller, left, right, JUDGE[choice],
                                                  reason)
    except InvalidInput as exc:
        if not exc.message.startswith("conflicting judgement"):
            raise
        return page.render("resolution/conflict.html", status=409, detail=exc.message,
                           back=back)
    return page.redirect(_with(back, done=decision.id, judgement=decision.judgement.value))


@router.post("/judgements/{judgement_id}/undo")
def undo(page: WorkingDep, form: FormDep,
         judgement_id: Annotated[str, PathParam(max_length=32)]) -> RedirectResponse:
    if not judgement_id.isalnum():
        raise WebError(400, "res.bad_id")
    reason = field_text(form, "reason", MAX_REASON) or None
    Resolver(page.platform).undo(page.caller, judgement_id, reason)
    return page.redirect(_with(_next(form, page.url(PREFIX + "/")), undone="1"))


# -- resolved entities -------------------------------------------------------------------------


@router.get("/entities", response_class=HTMLResponse)
def resolved_page(page: WorkingDep,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> HTMLResponse:
    found = Resolver(page.platform).resolved(page.caller, limit)
    members = [m for r in found for m in r.members]
    return page.render("resolution/resolved.html", resolved=found,
                       owners=owners(page, members))


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(page: WorkingDep, entity_id: Annotated[str, PathParam(max_length=MAX_ID)],
                done: Annotated[str | None, Query(max_length=40)] = None,
                judgement: Annotated[str | None, Query(max_length=40)] = None,
                undone: Annotated[str | None, Query(max_length=4)] = None,
                split: Annotated[int | None, Query(ge=0, le=10_000)] = None) -> HTMLResponse:
    entity_id = _check_id(entity_id)
    resolver = Resolver(page.platform)
    resolved = resolver.entity(page.caller, entity_id)
    members = {str(m.id): m for m in resolved.members}
    # Every judgement about a member, those that took a record out of it too (the service
    # returns only judgements whose two records the reader may see).
    log, records = resolver.history_of(page.caller, list(members))
    undone_ids = {d.undoes for d in log if d.undoes}
    links = []
    for link in resolved.links:
        judged = link.get("judgement")
        links.append({**link, "left": members.get(link["left_id"]),
                      "right": members.get(link["right_id"]),
                      "evidence_rows": evidence(page, link.get("evidence") or {}),
                      "probability": _percent(page, link.get("score")),
                      "judged": judged,
                      "judged_label": _decision_label(page, judged["judgement"])
                      if judged else ""})
    here = page.url(f"{PREFIX}/entities/{entity_id}")
    return page.render("resolution/entity.html", resolved=resolved, entity_id=entity_id,
                       members=list(members.values()), links=links, log=log,
                       undone_ids=undone_ids, records=records,
                       owners=owners(page, [*resolved.members, *records.values()]),
                       fields=fields(page, *resolved.members), here=here,
                       label=lambda j: _decision_label(page, j), done=done,
                       done_label=_decision_label(page, judgement)
                       if judgement in {j.value for j in jd.Judgement} else "",
                       undone=bool(undone), split=split)


@router.post("/entities/{entity_id}/split")
def split_record(page: WorkingDep, form: FormDep,
                 entity_id: Annotated[str, PathParam(max_length=MAX_ID)]) -> RedirectResponse:
    entity_id = _check_id(entity_id)
    reason = field_text(form, "reason", MAX_REASON) or None
    out = Resolver(page.platform).split(page.caller, entity_id, reason)
    target = _next(form, page.url(f"{PREFIX}/entities/{entity_id}"))
    return page.redirect(_with(target, split=str(len(out))))


# -- the network walk --------------------------------------------------------------------------


def _walk(page: Page, entity_id: str, depth: int) -> tuple[list[list[str]], Network, Network]:
    paths, via, hood = Investigator(page.platform).walk(page.caller, entity_id, depth)
    return paths, via, hood


def _merged(page: Page, start: str, *nets: Network) -> tuple[dict[str, dict[str, Any]],
                                                              list[dict[str, Any]]]:
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for net in nets:
        data = net.to_dict()
        for n in data["nodes"]:
            nodes[n["id"]] = n
        for e in data["edges"]:
            edges[(e["id"], e["source"], e["target"])] = e
    for n in nodes.values():
        n["start"] = n["id"] == start or start in n["records"]
    return nodes, list(edges.values())


def _node_of(nodes: dict[str, dict[str, Any]], entity_id: str) -> dict[str, Any] | None:
    return next((n for n in nodes.values() if n["id"] == entity_id
                 or entity_id in n["records"]), None)


def _schema_label(page: Page, name: str) -> str:
    schema = model.get(name)
    return page.t.label(schema.label) if schema is not None else name


def _relation(page: Page, edge: dict[str, Any]) -> str:
    return str(edge["label_es"] if page.lang == "es" else edge["label_en"])


@router.get("/network/{entity_id}", response_class=HTMLResponse)
def network_page(page: WorkingDep, entity_id: Annotated[str, PathParam(max_length=MAX_ID)],
                 depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1) -> HTMLResponse:
    entity_id = _check_id(entity_id)
    paths, via, hood = _walk(page, entity_id, depth)
    nodes, edges = _merged(page, entity_id, via, hood)
    start = _node_of(nodes, entity_id)
    if start is None:  # the service found it, so it is in the network; never expected
        raise InvalidInput(f"no node for {entity_id!r}")
    walks = []
    for path in paths:
        steps = []
        for a, b in itertools.pairwise(path):
            rels = sorted({_relation(page, e) for e in edges
                           if {e["source"], e["target"]} == {a, b}})
            steps.append({"relations": rels, "node": nodes[b]})
        walks.append({"start": nodes[path[0]], "steps": steps})
    ordered = sorted(nodes.values(), key=lambda n: (not n["start"], not n["designated"],
                                                     n["caption"]))
    catalog = page.platform.catalog.all()

    def owner_of(ds: str) -> str:  # datasets of records the reader has just read
        info = catalog.get(ds)
        return f"{info.agency} ({info.country.value})" if info else ds

    return page.render("resolution/network.html", start=start, entity_id=entity_id,
                       owner_of=owner_of,
                       walks=walks, nodes=ordered, edges=edges, all_nodes=nodes, depth=depth,
                       max_depth=MAX_DEPTH, relation=lambda e: _relation(page, e),
                       schema_label=lambda n: _schema_label(page, n))


@router.get("/network/{entity_id}/graph.json")
def network_json(page: WorkingDep, entity_id: Annotated[str, PathParam(max_length=MAX_ID)],
                 depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1) -> JSONResponse:
    """The same walk in cytoscape.js's ``elements`` shape (for ``/app/static/graph.js``)."""
    entity_id = _check_id(entity_id)
    _paths, via, hood = _walk(page, entity_id, depth)
    nodes, edges = _merged(page, entity_id, via, hood)
    return JSONResponse({
        "nodes": [{"data": {"id": n["id"], "label": n["caption"][:60],
                            "schema": _schema_label(page, n["schema"]), "center": n["start"],
                            "designated": n["designated"],
                            "url": page.url(f"{PREFIX}/network/{n['id']}", depth=depth)}}
                  for n in nodes.values()],
        "edges": [{"data": {"id": f"e{i}", "source": e["source"], "target": e["target"],
                            "label": _relation(page, e)}} for i, e in enumerate(edges)]})


plugin = WebPlugin(
    name="resolution",
    router=router,
    # Auditors read the trail, not records: no entry for them (the pages refuse them anyway).
    nav=(NavItem("res.nav", PREFIX + "/", visible=lambda p: bool(ROLE_ACTIONS[p.role])),),
    templates=HERE / "templates" / "resolution",
    messages=MESSAGES,
    entity="resolution/entity_panel.html",
)

__all__ = ["MESSAGES", "Candidate", "evidence", "fields", "plugin", "router"]
