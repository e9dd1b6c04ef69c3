"""Early warning in the analyst web application (``/app/early-warning/``): the alert map of
US and Mexican states, a place's series and alerts, a series drawn as inline SVG with its
expected count, upper bound and alarms (and the same numbers as a table), subscriptions, and
the substance register in the reader's language.

Every read goes through ``EarlyWarning`` with the session's user, purpose and case reference
(``page.caller``), exactly as the JSON API does, so grants, small-cell suppression and the
audit trail apply. Charts are drawn on the server: no script, no CDN, and the CSP
(``style-src 'self'``) is met by SVG presentation attributes plus one stylesheet served here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from binational.core.errors import NotFound
from binational.early_warning import places
from binational.early_warning.service import LEVELS, EarlyWarning
from binational.web import FormDep, NavItem, Page, WebError, WebPlugin, WorkingDep, page_router

HERE = Path(__file__).parent
CSS = (HERE / "static" / "early_warning.css").read_text(encoding="utf-8")
SMTP_OFF = None  # pages never send e-mail themselves: scans do (and carry their own config)

router = page_router()

# Tile-grid maps: one square per state, laid out roughly as the states lie (the usual
# "state tile grid"; a geographic map would need shape files and a projection, and squares
# of one size show small border states as clearly as large ones).
US_TILES: dict[str, tuple[int, int]] = {
    "AK": (0, 0), "ME": (0, 10), "VT": (1, 9), "NH": (1, 10),
    "WA": (2, 0), "ID": (2, 1), "MT": (2, 2), "ND": (2, 3), "MN": (2, 4), "IL": (2, 5),
    "WI": (2, 6), "MI": (2, 7), "NY": (2, 8), "RI": (2, 9), "MA": (2, 10),
    "OR": (3, 0), "NV": (3, 1), "WY": (3, 2), "SD": (3, 3), "IA": (3, 4), "IN": (3, 5),
    "OH": (3, 6), "PA": (3, 7), "NJ": (3, 8), "CT": (3, 9),
    "CA": (4, 0), "UT": (4, 1), "CO": (4, 2), "NE": (4, 3), "MO": (4, 4), "KY": (4, 5),
    "WV": (4, 6), "VA": (4, 7), "MD": (4, 8), "DE": (4, 9),
    "AZ": (5, 1), "NM": (5, 2), "KS": (5, 3), "AR": (5, 4), "TN": (5, 5), "NC": (5, 6),
    "SC": (5, 7), "DC": (5, 8),
    "OK": (6, 3), "LA": (6, 4), "MS": (6, 5), "AL": (6, 6), "GA": (6, 7),
    "HI": (7, 0), "TX": (7, 3), "FL": (7, 8),
}
MX_TILES: dict[str, tuple[int, int]] = {
    "BCN": (0, 0), "SON": (0, 1), "CHH": (0, 2), "COA": (0, 3), "NLE": (0, 4), "TAM": (0, 5),
    "BCS": (1, 0), "SIN": (1, 1), "DUR": (1, 2), "ZAC": (1, 3), "SLP": (1, 4),
    "NAY": (2, 1), "AGU": (2, 2), "GUA": (2, 3), "QUE": (2, 4), "HID": (2, 5), "VER": (2, 6),
    "JAL": (3, 1), "MIC": (3, 2), "MEX": (3, 3), "CMX": (3, 4), "TLA": (3, 5), "PUE": (3, 6),
    "COL": (4, 1), "GRO": (4, 2), "MOR": (4, 3), "OAX": (4, 4), "TAB": (4, 5), "CAM": (4, 6),
    "YUC": (4, 7), "CHP": (5, 5), "ROO": (5, 7),
}
TILE = 46
GAP = 4
# Shown in each tile next to the colour, so the level never rests on colour alone.
LEVEL_SYMBOL = {"red": "▲", "yellow": "◆", "blue": "●", "grey": "○"}

MESSAGES: dict[str, tuple[str, str]] = {
    "ew.nav": ("Early warning", "Alerta temprana"),
    "ew.title": ("Drug early warning", "Alerta temprana sobre drogas"),
    "ew.intro": ("Current alert level by jurisdiction, from the series you may see for "
                 "this purpose.",
                 "Nivel de alerta actual por jurisdicción, según las series que puede ver "
                 "para este propósito."),
    "ew.map_us": ("United States", "Estados Unidos"),
    "ew.map_mx": ("Mexico", "México"),
    "ew.map_desc": ("Tile map: one square per state, coloured and marked with a symbol by "
                    "alert level; states with data link to their series.",
                    "Mapa de mosaicos: un cuadro por estado, con color y símbolo según el "
                    "nivel de alerta; los estados con datos enlazan a sus series."),
    "ew.legend": ("Legend", "Leyenda"),
    "ew.no_data": ("No data", "Sin datos"),
    "ew.level.red": ("Alert", "Alerta"),
    "ew.level.yellow": ("Warning", "Advertencia"),
    "ew.level.blue": ("No alert", "Sin alerta"),
    "ew.level.grey": ("Not assessed", "No evaluado"),
    "ew.places": ("Jurisdictions", "Jurisdicciones"),
    "ew.no_places": ("No series you may see for this purpose.",
                     "No hay series que pueda ver para este propósito."),
    "ew.col.place": ("Jurisdiction", "Jurisdicción"),
    "ew.col.level": ("Level", "Nivel"),
    "ew.col.series": ("Series", "Series"),
    "ew.col.indicator": ("Indicator", "Indicador"),
    "ew.col.substance": ("Substance", "Sustancia"),
    "ew.col.start": ("Start", "Inicio"),
    "ew.col.peak": ("Peak", "Máximo"),
    "ew.col.end": ("End", "Fin"),
    "ew.col.peak_count": ("Peak count", "Conteo máximo"),
    "ew.col.period": ("Period", "Periodo"),
    "ew.col.count": ("Count", "Conteo"),
    "ew.col.expected": ("Expected", "Esperado"),
    "ew.col.upperbound": ("Upper bound", "Límite superior"),
    "ew.col.alarm": ("Alarm", "Alarma"),
    "ew.col.dataset": ("Dataset", "Conjunto de datos"),
    "ew.open": ("open", "abierta"),
    "ew.alerts": ("Open alerts", "Alertas abiertas"),
    "ew.no_alerts": ("No open alerts.", "No hay alertas abiertas."),
    "ew.history": ("Alert history", "Historial de alertas"),
    "ew.near": ("Alerts in neighbouring jurisdictions", "Alertas en jurisdicciones vecinas"),
    "ew.no_series": ("No series you may see for this place and purpose.",
                     "No hay series que pueda ver para este lugar y propósito."),
    "ew.place_title": ("Early warning: {place}", "Alerta temprana: {place}"),
    "ew.series_title": ("{indicator}: {place}", "{indicator}: {place}"),
    "ew.chart": ("Time series", "Serie de tiempo"),
    "ew.chart_desc": ("Counts per period (solid line), expected count (dashed), upper bound "
                      "(dotted); triangles mark alarms.",
                      "Conteos por periodo (línea continua), conteo esperado (discontinua), "
                      "límite superior (punteada); los triángulos marcan alarmas."),
    "ew.chart_empty": ("No counts to draw.", "No hay conteos que dibujar."),
    "ew.table": ("The numbers of the chart", "Los números de la gráfica"),
    "ew.algorithm": ("Detection: {algorithm}", "Detección: {algorithm}"),
    "ew.not_assessed": ("Not assessed: {note}", "No evaluada: {note}"),
    "ew.suppressed": ("Aggregate view: {n} counts below {min} are suppressed.",
                      "Vista agregada: se suprimen {n} conteos menores que {min}."),
    "ew.suppressed_cell": ("suppressed", "suprimido"),
    "ew.yes": ("yes", "sí"),
    "ew.no": ("no", "no"),
    "ew.subscribed": ("You follow {place}.", "Usted sigue {place}."),
    "ew.subscribe": ("Follow {place}", "Seguir {place}"),
    "ew.subscribe_neighbours": ("with its neighbouring jurisdictions",
                                "con sus jurisdicciones vecinas"),
    "ew.unsubscribe": ("Stop following {place}", "Dejar de seguir {place}"),
    "ew.subscriptions": ("Your subscriptions", "Sus suscripciones"),
    "ew.no_subscriptions": ("You follow no area yet.", "Aún no sigue ninguna área."),
    "ew.neighbours_too": ("and neighbours", "y vecinos"),
    "ew.done_subscribe": ("Subscribed: you will be told of new alerts in {place}.",
                          "Suscripción registrada: se le avisará de nuevas alertas en "
                          "{place}."),
    "ew.done_unsubscribe": ("Subscription removed.", "Suscripción eliminada."),
    "ew.back": ("Back to the alert map", "Volver al mapa de alertas"),
    "ew.register": ("Substance register", "Registro de sustancias"),
    "ew.register_intro": ("New psychoactive substances reported by the agencies, with their "
                          "risk communication.",
                          "Nuevas sustancias psicoactivas reportadas por las agencias, con su "
                          "comunicación de riesgo."),
    "ew.no_substances": ("No entries you may see for this purpose.",
                         "No hay entradas que pueda ver para este propósito."),
    "ew.col.name": ("Name", "Nombre"),
    "ew.col.class": ("Class", "Clase"),
    "ew.col.first_detected": ("First detected", "Primera detección"),
    "ew.col.source": ("Source", "Fuente"),
    "ew.col.confidence": ("Confidence", "Confianza"),
    "ew.risk": ("Risk communication", "Comunicación de riesgo"),
    "ew.retracted": ("Retracted on {date}: {reason}", "Retirada el {date}: {reason}"),
    "ew.retracted_short": ("retracted", "retirada"),
}


@dataclass(frozen=True)
class Tile:
    code: str
    place: str
    x: int
    y: int
    level: str | None
    name: str


def _service(page: Page) -> EarlyWarning:
    return EarlyWarning(page.platform, smtp=SMTP_OFF)


def tiles(country: str, levels: dict[str, dict[str, Any]]) -> tuple[list[Tile], int, int]:
    """The tiles of one country, each with the level of its place (None: no data)."""
    grid = US_TILES if country == "US" else MX_TILES
    out = []
    for code, (row, col) in grid.items():
        place = f"{country}-{code}"
        entry = levels.get(place)
        out.append(Tile(code, place, col * (TILE + GAP), row * (TILE + GAP),
                        entry["level"] if entry else None,
                        entry["name"] if entry else place))
    width = (max(c for _, c in grid.values()) + 1) * (TILE + GAP)
    height = (max(r for r, _ in grid.values()) + 1) * (TILE + GAP)
    return out, width, height


@dataclass(frozen=True)
class Chart:
    """An SVG line chart drawn on the server: paths in SVG user units."""

    width: int
    height: int
    count: str
    expected: str
    upper: str
    alarms: list[tuple[float, float, str, str]]
    yticks: list[tuple[float, str]]
    xticks: list[tuple[float, str]]
    left: int
    bottom: int


def _path(points: list[tuple[float, float] | None]) -> str:
    """``M``/``L`` commands; a missing point (suppressed, undefined) breaks the line."""
    parts: list[str] = []
    pen_down = False
    for p in points:
        if p is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _nice_step(top: float) -> float:
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def chart(periods: list[dict[str, Any]], width: int = 760, height: int = 300) -> Chart | None:
    if not periods:
        return None
    left, right, top, bottom = 56, 12, 12, 36
    values = [v for p in periods for v in (p["count"], p["expected"], p["upperbound"])
              if v is not None]
    ymax = max(values, default=0.0) or 1.0
    step = _nice_step(ymax)
    ymax = math.ceil(ymax / step) * step
    n = len(periods)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / ymax)

    def line(key: str) -> str:
        return _path([(x(i), y(p[key])) if p[key] is not None else None
                      for i, p in enumerate(periods)])

    alarms = [(x(i), y(p["count"] if p["count"] is not None else (p["upperbound"] or 0)),
               p["level"], p["period"])
              for i, p in enumerate(periods) if p["alarm"] and p["level"] in ("red", "yellow")]
    yticks = [(y(k * step), f"{k * step:g}") for k in range(int(ymax / step) + 1)]
    every = max(1, n // 8)
    xticks = [(x(i), periods[i]["period"][:7]) for i in range(0, n, every)]
    return Chart(width, height, line("count"), line("expected"), line("upperbound"), alarms,
                 yticks, xticks, left, height - bottom)


def _subscription(page: Page, place: str) -> dict[str, Any] | None:
    return next((s for s in _service(page).subscriptions(page.caller.principal)
                 if s["place"] == place), None)


def _check_place(place: str) -> str:
    place = place.strip().upper()
    if not place or len(place) > 64 or not all(p.isalnum() for p in place.split("-")):
        raise WebError(400, "error.invalid")
    return place


@router.get("/static/early_warning.css")
def stylesheet() -> Response:
    return Response(CSS, media_type="text/css")


@router.get("/", response_class=HTMLResponse)
def dashboard(page: WorkingDep, done: str | None = None) -> HTMLResponse:
    ew = _service(page)
    caller = page.caller
    found = ew.alert_map(caller)
    levels = {m["place"]: m for m in found}
    maps = []
    for country, key in (("US", "ew.map_us"), ("MX", "ew.map_mx")):
        grid, w, h = tiles(country, levels)
        maps.append({"country": country, "title": key, "tiles": grid, "width": w,
                     "height": h})
    rows = [m for m in found if not m["rollup"]]
    order = {lv: i for i, lv in enumerate(LEVELS)}
    rows.sort(key=lambda m: (order[m["level"]], m["place"]))
    open_alerts = ew.alerts(caller, open_only=True, limit=100)
    return page.render("early-warning/dashboard.html", maps=maps, rows=rows,
                       alerts=open_alerts, symbols=LEVEL_SYMBOL, tile=TILE, levels=LEVELS,
                       subscriptions=ew.subscriptions(page.caller.principal), done=done)


@router.get("/place/{place}", response_class=HTMLResponse)
def place_page(page: WorkingDep,
               place: Annotated[str, PathParam(max_length=64)]) -> HTMLResponse:
    place = _check_place(place)
    ew = _service(page)
    caller = page.caller
    series = ew.series_list(caller, place)
    # A place without series the reader may see renders as empty (never "forbidden"), so
    # another agency's data is as absent as data that do not exist; the neighbours' alerts
    # are what a border analyst following this place is told about.
    nearby = ew.alerts(caller, place=place, neighbours=True, limit=200)
    history = [a for a in nearby if places.covers(place, a["place"])]
    near = [a for a in nearby if not places.covers(place, a["place"])]
    names = {s["place"]: s["place_name"] for s in series}
    return page.render("early-warning/place.html", place=place,
                       name=names.get(place) or place, series=series, alerts=history,
                       near=near, neighbours=sorted(places.neighbours(place)),
                       subscription=_subscription(page, place), symbols=LEVEL_SYMBOL)


@router.get("/series/{series_id}", response_class=HTMLResponse)
def series_page(page: WorkingDep,
                series_id: Annotated[str, PathParam(max_length=64)]) -> HTMLResponse:
    ew = _service(page)
    caller = page.caller
    detail = ew.series_detail(caller, series_id)
    history = [a for a in ew.alerts(caller, place=detail["place"], limit=1000)
               if a["series_id"] == series_id]
    return page.render("early-warning/series.html", s=detail, chart=chart(detail["periods"]),
                       name=detail["place_name"] or detail["place"],
                       alerts=history, subscription=_subscription(page, detail["place"]),
                       symbols=LEVEL_SYMBOL)


@router.post("/subscriptions")
def subscribe(page: WorkingDep, form: FormDep) -> RedirectResponse:
    place = _check_place(str(form.get("place") or ""))
    neighbours = form.get("neighbours") == "1"
    ew = _service(page)
    if _subscription(page, place) is None:
        ew.subscribe(page.caller.principal, place, include_neighbours=neighbours)
    return page.redirect(_back(form, "subscribed"))


@router.post("/subscriptions/{sub_id}/delete")
def unsubscribe(page: WorkingDep, form: FormDep,
                sub_id: Annotated[int, PathParam(ge=1)]) -> RedirectResponse:
    _service(page).unsubscribe(page.caller.principal, sub_id)
    return page.redirect(_back(form, "unsubscribed"))


def _back(form: Any, done: str) -> str:
    from binational.web.site import local_next

    target = local_next(str(form.get("next") or ""))
    return target + ("&" if "?" in target else "?") + f"done={done}"


@router.get("/substances", response_class=HTMLResponse)
def substances(page: WorkingDep) -> HTMLResponse:
    found = _service(page).substances(page.caller)
    return page.render("early-warning/substances.html", entries=found)


@router.get("/substances/{substance_id}", response_class=HTMLResponse)
def substance(page: WorkingDep,
              substance_id: Annotated[str, PathParam(max_length=64)]) -> HTMLResponse:
    entry = next((s for s in _service(page).substances(page.caller)
                  if s["id"] == substance_id), None)
    if entry is None:
        raise NotFound(f"no substance entry {substance_id!r}")
    return page.render("early-warning/substance.html", e=entry)


plugin = WebPlugin(
    name="early-warning",
    router=router,
    nav=(NavItem("ew.nav", "/early-warning/"),),
    templates=HERE / "templates" / "early_warning",
    messages=MESSAGES,
)

__all__ = ["MESSAGES", "chart", "plugin", "router", "tiles"]
