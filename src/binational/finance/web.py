"""Illicit finance in the analyst web application (``/app/finance/``): the agency's alerts
with their explanations, the case workflow (assign, annotate, escalate, close with a reason),
sharing a case with the other country's FIU under a grant, the access receipts of the
recipient's reads, and, for the recipient, the shared case package, read-only.

Every read and every change goes through ``Finance`` with the session's user, purpose and
case reference (``page.caller``), exactly as the JSON API does: the policy decides what is
visible, the service audits it, and a case crosses the border only under a live grant of
its owner for the purpose illicit-finance.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from binational.core.errors import BinationalError, Forbidden, NotFound
from binational.core.identity import Principal
from binational.core.policy import ROLE_ACTIONS, Privilege
from binational.core.vocab import Purpose, Role
from binational.finance.rules import DEFAULT_WEIGHTS
from binational.finance.service import CASE_STATUSES, CLOSE_REASONS, Finance
from binational.web import FormDep, NavItem, Page, WebError, WebPlugin, WorkingDep, page_router
from binational.web.site import field_text

router = page_router()
HERE = Path(__file__).parent

RULES = (*DEFAULT_WEIGHTS, "model")
SORTS = ("score", "account", "dataset")
EVENTS = ("open", "assign", "annotate", "escalate", "close", "share")
DETAILS = ("account", "alert", "assignee", "note", "reason", "recipient", "grant")
ID_RE = r"^[a-z]{2}_[0-9a-f]{16}$"
MAX_NOTE = 20_000
MAX_ALERTS = 1_000

MESSAGES: dict[str, tuple[str, str]] = {
    "finance.nav": ("Illicit finance", "Finanzas ilícitas"),
    "finance.tabs": ("Illicit finance pages", "Páginas de finanzas ilícitas"),
    "finance.alerts.title": ("Transaction-monitoring alerts", "Alertas de monitoreo"),
    "finance.alerts.intro": (
        "Accounts flagged by the typology rules and the learned model, in the datasets you "
        "may read for this purpose. Open one to see why it was flagged.",
        "Cuentas señaladas por las reglas de tipologías y el modelo aprendido, en los "
        "conjuntos de datos que puede leer para este propósito. Abra una para ver por qué."),
    "finance.purpose_hint": (
        "Financial intelligence is read for the purpose “{purpose}”; your session states "
        "another purpose, so little or nothing may be visible here.",
        "La inteligencia financiera se consulta con el propósito «{purpose}»; su sesión "
        "declara otro propósito, así que aquí puede verse poco o nada."),
    "finance.filter": ("Filter", "Filtrar"),
    "finance.filter.dataset": ("Dataset", "Conjunto de datos"),
    "finance.filter.rule": ("Typology", "Tipología"),
    "finance.filter.q": ("Account contains", "La cuenta contiene"),
    "finance.filter.min_score": ("Minimum score", "Puntaje mínimo"),
    "finance.filter.sort": ("Sort by", "Ordenar por"),
    "finance.filter.any": ("Any", "Cualquiera"),
    "finance.filter.apply": ("Apply", "Aplicar"),
    "finance.sort.score": ("Score, highest first", "Puntaje, de mayor a menor"),
    "finance.sort.account": ("Account", "Cuenta"),
    "finance.sort.dataset": ("Dataset", "Conjunto de datos"),
    "finance.alerts.count": ("Alerts: {n}", "Alertas: {n}"),
    "finance.alerts.none": ("No alerts match.", "Ninguna alerta coincide."),
    "finance.col.account": ("Account", "Cuenta"),
    "finance.col.score": ("Score", "Puntaje"),
    "finance.col.rule_score": ("Rule score", "Puntaje de reglas"),
    "finance.col.model_score": ("Model score", "Puntaje del modelo"),
    "finance.col.flagged": ("Flagged", "Señalada"),
    "finance.col.typologies": ("Typologies", "Tipologías"),
    "finance.col.dataset": ("Dataset", "Conjunto de datos"),
    "finance.col.owner": ("Owner", "Propietario"),
    "finance.col.status": ("Status", "Estado"),
    "finance.col.when": ("When (UTC)", "Cuándo (UTC)"),
    "finance.col.txn": ("Transaction", "Operación"),
    "finance.col.from": ("From", "De"),
    "finance.col.to": ("To", "A"),
    "finance.col.amount": ("Amount", "Monto"),
    "finance.col.amount_usd": ("Amount (USD)", "Monto (USD)"),
    "finance.col.channel": ("Channel", "Canal"),
    "finance.col.location": ("Place", "Lugar"),
    "finance.col.count": ("Operations", "Operaciones"),
    "finance.col.title": ("Title", "Título"),
    "finance.col.case": ("Case", "Caso"),
    "finance.col.assignee": ("Assigned to", "Asignado a"),
    "finance.col.opened": ("Opened", "Abierto"),
    "finance.col.who": ("Who", "Quién"),
    "finance.col.what": ("What", "Qué"),
    "finance.col.detail": ("Detail", "Detalle"),
    "finance.col.recipient": ("Recipient", "Destinatario"),
    "finance.col.grant": ("Grant", "Autorización"),
    "finance.col.shared_by": ("Shared by", "Compartido por"),
    "finance.col.reader": ("Reader", "Lector"),
    "finance.col.record": ("Record", "Registro"),
    "finance.col.purpose": ("Purpose", "Propósito"),
    "finance.col.case_ref": ("Their case reference", "Su referencia de caso"),
    "finance.col.feature": ("Feature", "Variable"),
    "finance.col.value": ("Value", "Valor"),
    "finance.col.contribution": ("Contribution (log-odds)", "Contribución (log-momios)"),
    "finance.col.property": ("Property", "Propiedad"),
    "finance.yes": ("yes", "sí"),
    "finance.no": ("no", "no"),
    "finance.status.new": ("new", "nueva"),
    "finance.status.open": ("open", "abierto"),
    "finance.status.escalated": ("escalated", "escalado"),
    "finance.status.closed": ("closed", "cerrado"),
    "finance.rule.ctr": ("Currency transaction report", "Reporte de operaciones en efectivo"),
    "finance.rule.structuring": ("Structuring", "Fraccionamiento"),
    "finance.rule.mx-usd-cash": ("US-dollar cash limit (MX)",
                                 "Límite de efectivo en dólares (MX)"),
    "finance.rule.mx-relevant-operation": ("Relevant operation (MX)",
                                           "Operación relevante (MX)"),
    "finance.rule.funnel": ("Funnel account", "Cuenta embudo"),
    "finance.rule.pass-through": ("Pass-through", "Cuenta de paso"),
    "finance.rule.cycle": ("Cycle", "Ciclo"),
    "finance.rule.fan-in": ("Fan-in", "Concentración (fan-in)"),
    "finance.rule.fan-out": ("Fan-out", "Dispersión (fan-out)"),
    "finance.rule.scatter-gather": ("Scatter-gather", "Dispersión y concentración"),
    "finance.rule.gather-scatter": ("Gather-scatter", "Concentración y dispersión"),
    "finance.rule.rapid-movement": ("Rapid movement", "Movimiento rápido"),
    "finance.rule.designated": ("Designated counterparty", "Contraparte designada"),
    "finance.rule.model": ("Learned model", "Modelo aprendido"),
    "finance.alert.title": ("Alert on account {account}", "Alerta sobre la cuenta {account}"),
    "finance.alert.back": ("Back to the alerts", "Volver a las alertas"),
    "finance.alert.summary": ("Score {score} (rules {rules}; model {model}), dataset {dataset} "
                              "owned by {owner}.",
                              "Puntaje {score} (reglas {rules}; modelo {model}), conjunto "
                              "{dataset} de {owner}."),
    "finance.alert.no_model": ("none", "ninguno"),
    "finance.alert.why": ("Why it was flagged", "Por qué se señaló"),
    "finance.alert.no_reasons": ("No rule fired on this account.",
                                 "Ninguna regla se activó en esta cuenta."),
    "finance.alert.model": ("What moved the learned model's score",
                            "Qué movió el puntaje del modelo aprendido"),
    "finance.alert.model_intro": (
        "The model's features with the largest contributions to this account's score "
        "(positive: towards suspicious).",
        "Las variables del modelo con mayor contribución al puntaje de esta cuenta "
        "(positiva: hacia sospechosa)."),
    "finance.alert.places": ("Where the cash moved", "Dónde se movió el efectivo"),
    "finance.alert.places_summary": (
        "Cash deposited at {deposits} places ({deposit_places}); withdrawn at {withdrawals} "
        "other place(s) ({withdrawal_places}).",
        "Efectivo depositado en {deposits} lugares ({deposit_places}); retirado en "
        "{withdrawals} lugar(es) distinto(s) ({withdrawal_places})."),
    "finance.alert.transactions": ("The account's transactions", "Operaciones de la cuenta"),
    "finance.alert.transactions_count": ("{n} transactions, oldest first; the flagged "
                                         "account's side is in bold.",
                                         "{n} operaciones, de la más antigua a la más "
                                         "reciente; el lado de la cuenta señalada va en "
                                         "negritas."),
    "finance.alert.open_case": ("Open a case", "Abrir un caso"),
    "finance.alert.case_title": ("Case title (optional)", "Título del caso (opcional)"),
    "finance.alert.narrative": ("First note (optional)", "Primera nota (opcional)"),
    "finance.alert.open": ("Open the case", "Abrir el caso"),
    "finance.alert.has_case": ("Case {case} is open on this alert.",
                               "El caso {case} está abierto sobre esta alerta."),
    "finance.alert.other_owner": (
        "This alert is on another agency's data you may read under a grant: cases are "
        "opened by the data's owner.",
        "Esta alerta es sobre datos de otra agencia que puede leer por una autorización: "
        "los casos los abre el propietario de los datos."),
    "finance.channel.transfer": ("transfer", "transferencia"),
    "finance.channel.cash-deposit": ("cash deposit", "depósito en efectivo"),
    "finance.channel.cash-withdrawal": ("cash withdrawal", "retiro en efectivo"),
    "finance.cases.title": ("Cases", "Casos"),
    "finance.cases.intro": ("Your agency's cases, and the cases other agencies shared with it.",
                            "Los casos de su agencia y los que otras agencias le compartieron."),
    "finance.cases.own": ("Our cases", "Nuestros casos"),
    "finance.cases.none": ("No cases.", "No hay casos."),
    "finance.cases.shared": ("Shared with us", "Compartidos con nosotros"),
    "finance.cases.shared_none": (
        "No case is shared with your agency for this purpose.",
        "Ningún caso está compartido con su agencia para este propósito."),
    "finance.cases.all": ("All statuses", "Todos los estados"),
    "finance.case.title": ("Case {case}", "Caso {case}"),
    "finance.case.back": ("Back to the cases", "Volver a los casos"),
    "finance.case.from_alert": ("Opened from the alert on account {account}.",
                                "Abierto a partir de la alerta sobre la cuenta {account}."),
    "finance.case.facts": ("Case", "Caso"),
    "finance.case.accounts": ("Accounts", "Cuentas"),
    "finance.case.close_reason": ("Closed as", "Cerrado como"),
    "finance.case.unassigned": ("nobody yet", "nadie aún"),
    "finance.case.narrative": ("Narrative", "Narrativa"),
    "finance.case.no_narrative": ("No narrative yet.", "Aún no hay narrativa."),
    "finance.case.reasons": ("Why the account was flagged", "Por qué se señaló la cuenta"),
    "finance.case.entities": ("Accounts in the package", "Cuentas del paquete"),
    "finance.case.transactions": ("Transactions in the package", "Operaciones del paquete"),
    "finance.case.history": ("History", "Historial"),
    "finance.case.work": ("Work the case", "Trabajar el caso"),
    "finance.case.assign": ("Assign to", "Asignar a"),
    "finance.case.assign_submit": ("Assign", "Asignar"),
    "finance.case.note": ("Note", "Nota"),
    "finance.case.annotate": ("Add the note to the narrative",
                              "Agregar la nota a la narrativa"),
    "finance.case.escalate_note": ("Why escalate (optional)", "Por qué escalar (opcional)"),
    "finance.case.escalate": ("Escalate", "Escalar"),
    "finance.case.close_as": ("Close as", "Cerrar como"),
    "finance.case.close_note": ("Closing note (optional)", "Nota de cierre (opcional)"),
    "finance.case.close": ("Close the case", "Cerrar el caso"),
    "finance.case.closed_note": ("The case is closed; notes can still be added.",
                                 "El caso está cerrado; aún se pueden agregar notas."),
    "finance.case.done.open": ("Case opened.", "Caso abierto."),
    "finance.case.done.assign": ("Case assigned.", "Caso asignado."),
    "finance.case.done.annotate": ("Note added.", "Nota agregada."),
    "finance.case.done.escalate": ("Case escalated.", "Caso escalado."),
    "finance.case.done.close": ("Case closed.", "Caso cerrado."),
    "finance.case.done.share": ("Case shared with {recipient} under grant {grant}.",
                                "Caso compartido con {recipient} con la autorización {grant}."),
    "finance.case.refused": ("Refused:", "Rechazado:"),
    "finance.close.reported": ("reported to the authorities", "reportado a la autoridad"),
    "finance.close.no-suspicion": ("no suspicion", "sin sospecha"),
    "finance.close.duplicate": ("duplicate", "duplicado"),
    "finance.close.insufficient-information": ("insufficient information",
                                               "información insuficiente"),
    "finance.close.referred": ("referred to another authority", "turnado a otra autoridad"),
    "finance.event.open": ("opened", "abrió"),
    "finance.event.assign": ("assigned", "asignó"),
    "finance.event.annotate": ("added a note", "agregó una nota"),
    "finance.event.escalate": ("escalated", "escaló"),
    "finance.event.close": ("closed", "cerró"),
    "finance.event.share": ("shared", "compartió"),
    "finance.detail.account": ("account", "cuenta"),
    "finance.detail.alert": ("alert", "alerta"),
    "finance.detail.assignee": ("assigned to", "asignado a"),
    "finance.detail.note": ("note", "nota"),
    "finance.detail.reason": ("reason", "motivo"),
    "finance.detail.recipient": ("recipient", "destinatario"),
    "finance.detail.grant": ("grant", "autorización"),
    "finance.share.title": ("Share with the other country's FIU",
                            "Compartir con la UIF del otro país"),
    "finance.share.intro": (
        "The recipient reads the case package (accounts, transactions, narrative) for the "
        "purpose illicit-finance, while the grant holds; each read leaves an access receipt "
        "here.",
        "El destinatario lee el paquete del caso (cuentas, operaciones, narrativa) con el "
        "propósito de finanzas ilícitas mientras la autorización esté vigente; cada lectura "
        "deja aquí un acuse de acceso."),
    "finance.share.grant": ("Recipient and grant", "Destinatario y autorización"),
    "finance.share.option": ("{recipient}, grant {grant} (TLP:{tlp}, until {expires}; {basis})",
                             "{recipient}, autorización {grant} (TLP:{tlp}, hasta {expires}; "
                             "{basis})"),
    "finance.share.submit": ("Share the case", "Compartir el caso"),
    "finance.share.none": (
        "No live grant of this case's dataset covers reading for the purpose illicit-finance, "
        "so the case cannot be shared yet.",
        "Ninguna autorización vigente del conjunto de datos de este caso cubre la lectura "
        "con el propósito de finanzas ilícitas; el caso aún no se puede compartir."),
    "finance.share.create": ("Create a grant", "Crear una autorización"),
    "finance.share.ask_admin": ("Your agency's administrator can create one.",
                                "El administrador de su agencia puede crear una."),
    "finance.share.bad_choice": ("Choose a recipient and one of the grants listed.",
                                 "Elija un destinatario y una de las autorizaciones listadas."),
    "finance.share.no_grant": (
        "There is no live grant of this dataset to {recipient} for the purpose "
        "illicit-finance.",
        "No hay una autorización vigente de este conjunto de datos para {recipient} con el "
        "propósito de finanzas ilícitas."),
    "finance.share.shares": ("Shared with", "Compartido con"),
    "finance.share.not_shared": ("Not shared with any agency.",
                                 "No se ha compartido con ninguna agencia."),
    "finance.receipts.title": ("Access receipts of this case", "Acuses de acceso de este caso"),
    "finance.receipts.intro": ("Each read of the case package by another agency.",
                               "Cada lectura del paquete del caso por otra agencia."),
    "finance.receipts.none": ("No other agency has read this case yet.",
                              "Ninguna otra agencia ha leído este caso todavía."),
    "finance.receipts.privilege": (
        "Access receipts are shown to your agency's supervisors and administrators.",
        "Los acuses de acceso se muestran a los supervisores y administradores de su "
        "agencia."),
    "finance.shared.title": ("Shared case {case} from {owner}",
                             "Caso compartido {case} de {owner}"),
    "finance.shared.intro": (
        "Read-only: {owner} shared this case with your agency under grant {grant}. This read "
        "is recorded in your audit trail and as an access receipt for {owner}.",
        "Solo lectura: {owner} compartió este caso con su agencia con la autorización "
        "{grant}. Esta lectura queda en su bitácora y como acuse de acceso para {owner}."),
}


def _queries(principal: Principal) -> bool:
    return bool(ROLE_ACTIONS[principal.role])


def money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def when(ts: int | float | str | None) -> str:
    """Epoch seconds or an ISO time as ``YYYY-MM-DD HH:MM`` (UTC)."""
    if ts is None:
        return ""
    if isinstance(ts, str):
        return ts[:16].replace("T", " ")
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M")


def _reason_text(page: Page, reason: dict[str, str]) -> str:
    return reason.get("text_es") or reason["text"] if page.lang == "es" else reason["text"]


def _service(page: Page) -> Finance:
    return Finance(page.platform)


def _own_cases_by_alert(page: Page) -> dict[str, dict[str, Any]]:
    return {c["alert_id"]: c for c in _service(page).cases(page.caller) if c["alert_id"]}


def places(transactions: list[dict[str, Any]], account: str) -> dict[str, Any]:
    """Cash by place: the deposits into and withdrawals from ``account`` per location (the
    funnel rule's figures, from the transactions themselves)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for tx in transactions:
        kind = tx.get("channel")
        if kind not in ("cash-deposit", "cash-withdrawal") or not tx.get("location"):
            continue
        side = tx["target"] if kind == "cash-deposit" else tx["source"]
        if side != account:
            continue
        row = rows.setdefault((kind, tx["location"]), {"channel": kind,
                                                       "location": tx["location"],
                                                       "count": 0, "usd": 0.0})
        row["count"] += 1
        row["usd"] += float(tx["amount_usd"])
    deposits = sorted(loc for kind, loc in rows if kind == "cash-deposit")
    withdrawals = sorted(loc for kind, loc in rows if kind == "cash-withdrawal"
                         and loc not in deposits)
    return {"rows": sorted(rows.values(), key=lambda r: (r["channel"], r["location"])),
            "deposits": deposits, "withdrawals": withdrawals}


def _render(page: Page, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return page.render(template, status=status, money=money, when=when, **values)


def _entities(page: Page, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Package entities with their schema and property labels in the reader's language."""
    from followthemoney import model

    out = []
    for e in raw:
        schema = model.get(e.get("schema") or "")
        props = []
        for name, values in sorted((e.get("properties") or {}).items()):
            prop = schema.get(name) if schema else None
            props.append((page.t.label(prop.label) if prop else name, list(values)))
        out.append({"schema": page.t.label(schema.label) if schema else e.get("schema"),
                    "props": props})
    return out


def _check_id(value: str) -> str:
    if not re.match(ID_RE, value):
        raise WebError(404, "error.not_found")
    return value


@router.get("/", response_class=HTMLResponse)
def alerts(
    page: WorkingDep,
    dataset: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=128)] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort: Annotated[str, Query(pattern="^(score|account|dataset)$")] = "score",
) -> HTMLResponse:
    if rule and rule not in RULES:
        raise WebError(400, "error.invalid")
    fin = _service(page)
    caller = page.caller
    # The best 1,000 alerts (of the dataset asked for); the other filters narrow them down.
    found = fin.stored_alerts(caller, dataset or None, limit=MAX_ALERTS)
    datasets = sorted({a["dataset"] for a in found} | ({dataset} if dataset else set()))
    rows = [a for a in found
            if (not rule or any(r["rule"] == rule for r in a["reasons"]))
            and (not q or q.strip().lower() in a["account"].lower())
            and (min_score is None or a["score"] >= min_score)]
    key: dict[str, Callable[[dict[str, Any]], Any]] = {
        "score": lambda a: (-a["score"], a["account"]),
        "account": lambda a: (a["account"], a["dataset"]),
        "dataset": lambda a: (a["dataset"], -a["score"], a["account"])}
    rows.sort(key=key[sort])
    cases = _own_cases_by_alert(page)
    owners = page.platform.catalog.all()
    return _render(page, "finance/alerts.html", rows=rows, datasets=datasets, rules=RULES,
                   sorts=SORTS, dataset=dataset or "", rule=rule or "", q=q or "",
                   min_score="" if min_score is None else min_score, sort=sort,
                   cases=cases, owners=owners, hint=_purpose_hint(page))


def _purpose_hint(page: Page) -> bool:
    return page.context is not None and page.context.purpose != Purpose.ILLICIT_FINANCE


def _alert_page(page: Page, alert_id: str, status: int = 200,
                error: str | None = None) -> HTMLResponse:
    fin = _service(page)
    caller = page.caller
    alert = fin.stored_alert(caller, alert_id)
    transactions = fin.account_transactions(caller, alert["dataset"], alert["account"])
    # The model's explanation was kept with the alert: the one of the score shown.
    explained = next((r.get("features") or [] for r in alert["reasons"]
                      if r["rule"] == "model"), [])
    info = page.platform.catalog.all().get(alert["dataset"])
    own = info is not None and info.agency == caller.principal.agency
    case = _own_cases_by_alert(page).get(alert_id) if own else None
    return _render(page, "finance/alert.html", status=status, a=alert,
                   transactions=transactions, places=places(transactions, alert["account"]),
                   explained=explained, owner=info.agency if info else "?", own=own,
                   case=case, error=error, reason_text=lambda r: _reason_text(page, r),
                   hint=_purpose_hint(page))


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(page: WorkingDep,
               alert_id: Annotated[str, PathParam(max_length=40)]) -> HTMLResponse:
    return _alert_page(page, _check_id(alert_id))


@router.post("/alerts/{alert_id}/case", response_model=None)
def open_case(page: WorkingDep, form: FormDep,
              alert_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    alert_id = _check_id(alert_id)
    title = field_text(form, "title", 255) or None
    narrative = field_text(form, "narrative", MAX_NOTE)
    fin = _service(page)
    alert = fin.stored_alert(page.caller, alert_id)
    try:
        case = fin.open_case(page.caller, alert["dataset"], alert=alert_id, title=title,
                             narrative=narrative)
    except BinationalError as exc:
        return _alert_page(page, alert_id, exc.status if 400 <= exc.status < 500 else 400,
                           exc.message)
    return page.redirect(page.url(f"/finance/cases/{case['id']}", done="open"))


@router.get("/cases", response_class=HTMLResponse)
def cases(page: WorkingDep,
          status: Annotated[str | None, Query(max_length=16)] = None) -> HTMLResponse:
    if status and status not in CASE_STATUSES:
        raise WebError(400, "error.invalid")
    fin = _service(page)
    own = fin.cases(page.caller, status or None)
    shared = fin.shared_with_me(page.caller)
    return _render(page, "finance/cases.html", own=own, shared=shared, wanted=status or "",
                   statuses=CASE_STATUSES, hint=_purpose_hint(page))


def _case_page(page: Page, case_id: str, status: int = 200, error: str | None = None,
               done: str | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
    fin = _service(page)
    caller = page.caller
    case = fin.case(caller, case_id)  # the owner's check first: others see "no case"
    package = fin.package(caller, case_id)
    receipts: list[dict[str, Any]] | None = None
    if page.may(Privilege.READ_RECEIPTS):
        receipts = fin.case_receipts(caller, case_id)
    options = fin.share_grants(caller, case_id)
    assert page.principal is not None
    users = [str(u["username"]) for u in page.platform.identity.users(page.principal.agency)
             if u["active"] and u["role"] not in (Role.AUDITOR.value, Role.SYNC.value)]
    message = None
    if done == "share" and case["shares"]:  # named from the case itself, not the address
        last = max(case["shares"], key=lambda x: str(x["shared_at"]))
        message = page.t("finance.case.done.share", recipient=last["recipient_agency"],
                         grant=last["grant_id"])
    elif done and done != "share":
        message = page.t(f"finance.case.done.{done}")
    return _render(page, "finance/case.html", status=status, c=case, pkg=package,
                   receipts=receipts, options=options, users=users, error=error,
                   entities=_entities(page, package["entities"]),
                   done=message, reasons=CLOSE_REASONS, values=values or {},
                   reason_text=lambda r: _reason_text(page, r),
                   admin=page.may(Privilege.MANAGE_GRANTS), hint=_purpose_hint(page))


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(page: WorkingDep, case_id: Annotated[str, PathParam(max_length=40)],
              done: Annotated[str | None, Query(max_length=16)] = None) -> HTMLResponse:
    return _case_page(page, _check_id(case_id), done=done if done in EVENTS else None)


def _act(page: Page, case_id: str, kind: str, run: Callable[[Finance], Any],
         values: dict[str, str]) -> Response:
    """Run one step of the workflow; a refusal re-renders the case with the reason."""
    try:
        run(_service(page))
    except WebError:
        raise
    except BinationalError as exc:
        if isinstance(exc, NotFound) and exc.message.startswith("no case"):
            raise  # not a case of this agency: the same page as a case that does not exist
        return _case_page(page, case_id, exc.status if 400 <= exc.status < 500 else 400,
                          f"{page.t('finance.case.refused')} {exc.message}", values=values)
    return page.redirect(page.url(f"/finance/cases/{case_id}", done=kind))


@router.post("/cases/{case_id}/assign", response_model=None)
def assign(page: WorkingDep, form: FormDep,
           case_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    case_id = _check_id(case_id)
    username = field_text(form, "username", 64)
    if not username:
        raise WebError(400, "error.field", field="username")
    return _act(page, case_id, "assign",
                lambda f: f.assign(page.caller, case_id, username), {})


@router.post("/cases/{case_id}/annotate", response_model=None)
def annotate(page: WorkingDep, form: FormDep,
             case_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    case_id = _check_id(case_id)
    note = field_text(form, "note", MAX_NOTE)
    return _act(page, case_id, "annotate",
                lambda f: f.annotate(page.caller, case_id, note), {"note": note})


@router.post("/cases/{case_id}/escalate", response_model=None)
def escalate(page: WorkingDep, form: FormDep,
             case_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    case_id = _check_id(case_id)
    note = field_text(form, "note", MAX_NOTE)
    return _act(page, case_id, "escalate",
                lambda f: f.escalate(page.caller, case_id, note), {})


@router.post("/cases/{case_id}/close", response_model=None)
def close(page: WorkingDep, form: FormDep,
          case_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    case_id = _check_id(case_id)
    reason = field_text(form, "reason", 64)
    note = field_text(form, "note", MAX_NOTE)
    return _act(page, case_id, "close",
                lambda f: f.close(page.caller, case_id, reason, note), {})


@router.post("/cases/{case_id}/share", response_model=None)
def share(page: WorkingDep, form: FormDep,
          case_id: Annotated[str, PathParam(max_length=40)]) -> Response:
    case_id = _check_id(case_id)
    choice = field_text(form, "share", 80)
    recipient, _, grant = choice.partition("|")
    if not recipient or not grant:
        return _case_page(page, case_id, 400, page.t("finance.share.bad_choice"))
    try:
        _service(page).share(page.caller, case_id, recipient, grant)
    except Forbidden:
        return _case_page(page, case_id, 403,
                          page.t("finance.share.no_grant", recipient=recipient))
    except BinationalError as exc:
        if isinstance(exc, NotFound) and exc.message.startswith("no case"):
            raise
        return _case_page(page, case_id, exc.status if 400 <= exc.status < 500 else 400,
                          f"{page.t('finance.case.refused')} {exc.message}")
    return page.redirect(page.url(f"/finance/cases/{case_id}", done="share"))


@router.get("/shared/{case_id}", response_class=HTMLResponse)
def shared_case(page: WorkingDep,
                case_id: Annotated[str, PathParam(max_length=40)]) -> HTMLResponse:
    case_id = _check_id(case_id)
    fin = _service(page)
    grant = next((c["grant"] for c in fin.shared_with_me(page.caller) if c["id"] == case_id),
                 None)
    package = fin.package(page.caller, case_id)
    return _render(page, "finance/shared.html", pkg=package, c=package["case"], grant=grant,
                   entities=_entities(page, package["entities"]),
                   reason_text=lambda r: _reason_text(page, r))


plugin = WebPlugin(
    name="finance",
    router=router,
    nav=(NavItem("finance.nav", "/finance/", visible=_queries),),
    templates=HERE / "templates" / "finance",
    messages=MESSAGES,
)

__all__ = ["MESSAGES", "money", "places", "plugin", "router", "when"]
