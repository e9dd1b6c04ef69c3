"""The homicide pages of the analyst web application (``binational.web`` entry point).

Three pages under ``/app/homicide/``: Mexico's homicide trends (a monthly chart, a tile-grid
map of the states and, for a chosen state, its municipalities ranked by rate), the Mexico
City quadrant hot-spot map with next month's forecast, and the best-practice registry. Every
read goes through ``Homicide`` with ``page.caller`` (the session's purpose and case), so the
grants and the audit log apply exactly as for the API. Charts and maps are inline SVG drawn
here, server-side: no script, no CDN, and each has a table next to it for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from fastapi import Query
from fastapi.responses import HTMLResponse

from binational.core.identity import Principal
from binational.core.policy import ROLE_ACTIONS
from binational.homicide import registry
from binational.homicide.service import Homicide
from binational.homicide.sources import STATE_NAMES
from binational.web import NavItem, WebPlugin, WorkingDep, page_router

router = page_router()

# A tile-grid cartogram of Mexico's 32 states: (column, row, abbreviation) per INEGI code.
# No state outlines ship with the demo; equal tiles also keep small, violent states visible.
TILES: dict[str, tuple[int, int, str]] = {
    "02": (0, 0, "BC"), "26": (1, 0, "SON"), "08": (2, 0, "CHIH"), "05": (3, 0, "COAH"),
    "19": (4, 0, "NL"),
    "03": (0, 1, "BCS"), "25": (1, 1, "SIN"), "10": (2, 1, "DGO"), "32": (3, 1, "ZAC"),
    "24": (4, 1, "SLP"), "28": (5, 1, "TAMS"),
    "18": (1, 2, "NAY"), "01": (2, 2, "AGS"), "11": (3, 2, "GTO"), "22": (4, 2, "QRO"),
    "13": (5, 2, "HGO"),
    "14": (1, 3, "JAL"), "16": (2, 3, "MICH"), "15": (3, 3, "MEX"), "09": (4, 3, "CDMX"),
    "29": (5, 3, "TLAX"), "30": (6, 3, "VER"),
    "06": (1, 4, "COL"), "12": (2, 4, "GRO"), "17": (3, 4, "MOR"), "21": (4, 4, "PUE"),
    "20": (5, 4, "OAX"), "27": (6, 4, "TAB"), "04": (7, 4, "CAMP"), "31": (8, 4, "YUC"),
    "07": (6, 5, "CHIS"), "23": (8, 5, "QROO"),
}
TILE = 64
# Sequential light-to-dark scale (ColorBrewer OrRd, 5 classes); labels switch to white on the
# two darkest so text keeps a 4.5:1 contrast.
SCALE = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
DARK_FROM = 3
NO_DATA = "#d9d9d9"
SOURCES = ("inegi", "sesnsp-victims")
HOTSPOT_FILLS = ("forecast", "gi")
MAP_W, MAP_H = 640, 720
DASH = "\u2013"  # an en dash for "no value" and ranges, as typeset
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T, PAD_R = 720, 280, 64, 36, 12, 12


def _queries(principal: Principal) -> bool:
    return bool(ROLE_ACTIONS[principal.role])


def fmt(value: float | int | None, digits: int = 0) -> str:
    """A number as written in Mexico and the US alike (comma thousands, point decimals)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return f"{value:,.{digits}f}"


def classes(values: Sequence[float]) -> list[float]:
    """Upper bounds of up to 5 equal-count classes (quintiles) of ``values``; ties merge
    classes (many quadrants forecast 0), so there may be fewer."""
    ordered = sorted(values)
    if not ordered:
        return []
    return sorted({ordered[min(len(ordered) - 1, math.ceil(len(ordered) * k / 5) - 1)]
                   for k in range(1, 6)})


def shade(index: int, count: int) -> int:
    """The scale step of class ``index`` of ``count``: spread over the whole scale."""
    return round(index * (len(SCALE) - 1) / max(count - 1, 1))


def colour(value: float | None, bounds: Sequence[float]) -> tuple[str, bool]:
    """Fill and whether the label should be white."""
    if value is None or not bounds:
        return NO_DATA, False
    index = next((i for i, b in enumerate(bounds) if value <= b), len(bounds) - 1)
    step = shade(index, len(bounds))
    return SCALE[step], step >= DARK_FROM


def legend(bounds: Sequence[float], digits: int = 1) -> list[dict[str, str]]:
    out, low = [], None
    for i, high in enumerate(bounds):
        label = (f"≤ {fmt(high, digits)}" if low is None
                 else f"{fmt(low, digits)} {DASH} {fmt(high, digits)}")
        out.append({"fill": SCALE[shade(i, len(bounds))], "label": label})
        low = high
    return out


def line_chart(points: Sequence[tuple[int, int, float]]) -> dict[str, Any]:
    """An SVG line of monthly values ``(year, month, value)``: path and axis ticks."""
    if not points:
        return {"path": "", "xticks": [], "yticks": [], "width": CHART_W, "height": CHART_H}
    ts = [y * 12 + m - 1 for y, m, _ in points]
    top = max(v for _, _, v in points) or 1.0
    step = 10.0 ** math.floor(math.log10(top))
    top = float(math.ceil(top / step) * step)
    t0, t1 = min(ts), max(ts)
    span = max(t1 - t0, 1)
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(t: int) -> float:
        return PAD_L + (t - t0) / span * inner_w

    def y(v: float) -> float:
        return PAD_T + inner_h - v / top * inner_h

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}"
                    for i, (t, (_, _, v)) in enumerate(zip(ts, points, strict=True)))
    years = sorted({p[0] for p in points})
    xticks = [{"x": round(x(yr * 12), 1), "label": str(yr)} for yr in years if yr * 12 >= t0]
    yticks = [{"y": round(y(top * k / 4), 1), "label": fmt(top * k / 4)} for k in range(5)]
    return {"path": path, "xticks": xticks, "yticks": yticks, "width": CHART_W,
            "height": CHART_H, "left": PAD_L, "bottom": CHART_H - PAD_B,
            "right": CHART_W - PAD_R}


def monthly(frame: pl.DataFrame) -> list[tuple[int, int, float]]:
    if frame.is_empty():
        return []
    total = frame.group_by("year", "month").agg(pl.col("count").sum()).sort("year", "month")
    return [(int(r["year"]), int(r["month"]), float(r["count"])) for r in total.to_dicts()]


@router.get("/")
def trends(
    page: WorkingDep,
    source: Annotated[str, Query(pattern="^(inegi|sesnsp-victims)$")] = "inegi",
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    state: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
) -> HTMLResponse:
    service = Homicide(page.platform)
    caller = page.caller
    data = service.trends(caller, level="state", source=source, year=year)
    frame = service.series(caller, level="state", source=source, area_prefix=state)
    chart = line_chart(monthly(frame))
    areas = data["areas"]
    rates = [float(a["rate"]) for a in areas if a.get("rate") is not None]
    bounds = classes(rates)
    by_code = {a["area_code"]: a for a in areas}
    tiles = []
    for code, (col, row, abbr) in TILES.items():
        area = by_code.get(code)
        rate = float(area["rate"]) if area and area.get("rate") is not None else None
        fill, dark = colour(rate, bounds)
        tiles.append({"code": code, "abbr": abbr, "name": STATE_NAMES.get(code, code),
                      "x": col * TILE, "y": row * TILE, "fill": fill, "dark": dark,
                      "rate": fmt(rate, 1), "selected": code == state})
    municipalities: list[dict[str, Any]] = []
    muni_years: list[int] = []
    if state:
        muni = service.trends(caller, level="municipality", source="inegi", year=year,
                              area_prefix=state)
        municipalities = sorted(muni["areas"], key=lambda a: -(a.get("rate") or 0))[:30]
        muni_years = muni["years"]
    return page.render(
        "homicide/trends.html", data=data, chart=chart, points=monthly(frame),
        tiles=tiles, tile=TILE, legend=legend(bounds), state=state,
        state_name=STATE_NAMES.get(state or "", ""), source=source, sources=SOURCES,
        municipalities=municipalities, muni_years=muni_years, fmt=fmt,
        areas=sorted(areas, key=lambda a: -(a.get("rate") or 0)))


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def project(features: Sequence[dict[str, Any]]) -> tuple[list[str], float, float]:
    """SVG path data per feature, fitted to the map box. Equirectangular with the longitudes
    scaled by cos(latitude): over one city the distortion is far below a pixel."""
    rings = [_rings(f["geometry"]) for f in features]
    xs = [p[0] for rs in rings for r in rs for p in r]
    ys = [p[1] for rs in rings for r in rs for p in r]
    if not xs:
        return [], MAP_W, MAP_H
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    w, h = (max(xs) - min(xs)) * k, max(ys) - min(ys)
    scale = min(MAP_W / w, MAP_H / h) if w and h else 1.0
    x0, y1 = min(xs), max(ys)
    paths = []
    for rs in rings:
        parts = []
        for ring in rs:
            pts = [f"{(p[0] - x0) * k * scale:.1f},{(y1 - p[1]) * scale:.1f}" for p in ring]
            parts.append("M" + "L".join(pts) + "Z")
        paths.append("".join(parts))
    return paths, round(w * scale, 1), round(h * scale, 1)


@router.get("/hotspots")
def hotspots(
    page: WorkingDep,
    fill: Annotated[str, Query(pattern="^(forecast|gi)$")] = "forecast",
) -> HTMLResponse:
    data = Homicide(page.platform).quadrant_map(page.caller)
    features = data["features"]
    paths, width, height = project(features)
    key = "forecast_next_month" if fill == "forecast" else "gi_star_z"
    values = [float(f["properties"].get(key) or 0) for f in features]
    # Gi* z has a meaning of its own: classes at the usual significance thresholds.
    # Most quadrants forecast 0: a class of their own, quantiles for the others.
    bounds = ([-1.96, 0.0, 1.65, 1.96, max([*values, 2.58])] if fill == "gi"
              else sorted({0.0, *classes([v for v in values if v > 0])}))
    cells = []
    for f, path, value in zip(features, paths, values, strict=True):
        props = f["properties"]
        colour_, _ = colour(value, bounds)
        cells.append({"id": f["id"], "path": path, "fill": colour_, "props": props,
                      "value": value})
    top = sorted(features, key=lambda f: f["properties"]["forecast_rank"])[:20]
    return page.render("homicide/hotspots.html", data=data, cells=cells, width=width,
                       height=height, legend=legend(bounds, 2), fill=fill, top=top, fmt=fmt)


@router.get("/programmes")
def programmes(
    page: WorkingDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    rating: Annotated[str | None, Query()] = None,
    target: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    rating = rating if rating in registry.RATINGS else None
    target = target if target in registry.TARGETS else None
    results = Homicide(page.platform).search_programmes(page.caller, q or None, rating=rating,
                                                        target=target)
    lang_index = 0 if page.lang == "en" else 1
    return page.render("homicide/programmes.html", q=q or "", rating=rating, target=target,
                       results=results, ratings={k: v[lang_index] for k, v in
                                                 registry.RATINGS.items()},
                       targets={k: v[lang_index] for k, v in registry.TARGETS.items()})


@router.get("/programmes/{programme_id}")
def programme(page: WorkingDep, programme_id: str) -> HTMLResponse:
    item = Homicide(page.platform).get_programme(page.caller, programme_id)
    return page.render("homicide/programme.html", p=item)


MESSAGES: dict[str, tuple[str, str]] = {
    "homicide.nav": ("Homicide", "Homicidios"),
    "homicide.tabs": ("Homicide pages", "Páginas de homicidios"),
    "homicide.trends.title": ("Homicide trends in Mexico", "Tendencias de homicidio en México"),
    "homicide.trends.intro": (
        "Monthly homicides by state from the statistics you may read for your purpose. "
        "Choose a state on the map or in the table to see its municipalities.",
        "Homicidios mensuales por estado, de las estadísticas que puede leer para su "
        "propósito. Elija un estado en el mapa o en la tabla para ver sus municipios."),
    "homicide.source": ("Source", "Fuente"),
    "homicide.source.inegi": ("INEGI death certificates", "INEGI, defunciones por homicidio"),
    "homicide.source.sesnsp-victims": ("SESNSP victims of intentional homicide",
                                       "SESNSP, víctimas de homicidio doloso"),
    "homicide.year": ("Year", "Año"),
    "homicide.show": ("Show", "Mostrar"),
    "homicide.none": ("No homicide statistics are visible for this purpose and case.",
                      "No hay estadísticas de homicidio visibles para este propósito y caso."),
    "homicide.chart.national": ("Homicides per month, all states",
                                "Homicidios por mes, todos los estados"),
    "homicide.chart.state": ("Homicides per month, {state}", "Homicidios por mes, {state}"),
    "homicide.chart.desc": ("Line chart; the same figures are in the table below it.",
                            "Gráfica de línea; las mismas cifras están en la tabla de abajo."),
    "homicide.chart.table": ("Monthly figures (table)", "Cifras mensuales (tabla)"),
    "homicide.col.month": ("Month", "Mes"),
    "homicide.col.homicides": ("Homicides", "Homicidios"),
    "homicide.col.state": ("State", "Estado"),
    "homicide.col.municipality": ("Municipality", "Municipio"),
    "homicide.col.code": ("INEGI code", "Clave INEGI"),
    "homicide.col.rate": ("Rate per 100,000", "Tasa por 100 000"),
    "homicide.col.change": ("Change on previous year", "Cambio respecto al año anterior"),
    "homicide.col.quadrant": ("Quadrant", "Cuadrante"),
    "homicide.col.forecast": ("Forecast next month", "Pronóstico del mes siguiente"),
    "homicide.col.rank": ("Rank", "Lugar"),
    "homicide.col.gi": ("Gi* z-score", "Puntaje z de Gi*"),
    "homicide.col.hot": ("Hot spot", "Punto crítico"),
    "homicide.col.last12": ("Homicides, last 12 months", "Homicidios, últimos 12 meses"),
    "homicide.map.title": ("Homicide rate by state, {year}",
                           "Tasa de homicidio por estado, {year}"),
    "homicide.map.note": (
        "Each state is an equal square placed roughly where it lies (a tile map, not its "
        "real shape); colour is the rate per 100,000 inhabitants.",
        "Cada estado es un cuadro igual colocado aproximadamente en su lugar (un mapa de "
        "mosaicos, no su forma real); el color es la tasa por 100 000 habitantes."),
    "homicide.legend": ("Legend", "Leyenda"),
    "homicide.nodata": ("No data", "Sin datos"),
    "homicide.states": ("States, {year}, highest rate first",
                        "Estados, {year}, de mayor a menor tasa"),
    "homicide.municipalities": ("Municipalities of {state}, {year}, highest rate first",
                                "Municipios de {state}, {year}, de mayor a menor tasa"),
    "homicide.municipalities.note": (
        "The data have no municipal boundaries, so municipalities are ranked in a table "
        "rather than mapped. The demo holds municipal figures for four states only, "
        "2019-2021 (top 30 shown).",
        "Los datos no incluyen límites municipales, por lo que los municipios se ordenan en "
        "una tabla en lugar de un mapa. La demostración tiene cifras municipales solo de "
        "cuatro estados, 2019-2021 (se muestran los 30 primeros)."),
    "homicide.municipalities.none": (
        "No municipal figures are visible for this state and year.",
        "No hay cifras municipales visibles para este estado y año."),
    "homicide.municipalities.years": ("This state has municipal figures for: {years}.",
                                      "Este estado tiene cifras municipales de: {years}."),
    "homicide.all_states": ("All states", "Todos los estados"),
    "homicide.hotspots.title": ("Hot spots in Mexico City",
                                "Puntos críticos en la Ciudad de México"),
    "homicide.hotspots.intro": (
        "Police quadrants of Mexico City: homicides of the 12 months to {to}, the Getis-Ord "
        "Gi* hot-spot statistic and the forecast for the next month (mean of the last three "
        "months).",
        "Cuadrantes de policía de la Ciudad de México: homicidios de los 12 meses hasta "
        "{to}, la estadística de puntos críticos Gi* de Getis-Ord y el pronóstico del mes "
        "siguiente (promedio de los últimos tres meses)."),
    "homicide.hotspots.fill": ("Colour by", "Colorear por"),
    "homicide.hotspots.fill.forecast": ("Forecast next month", "Pronóstico del mes siguiente"),
    "homicide.hotspots.fill.gi": ("Gi* z-score (hot spot ≥ 1.96)",
                                  "Puntaje z de Gi* (punto crítico ≥ 1.96)"),
    "homicide.hotspots.map": ("Map of {n} quadrants", "Mapa de {n} cuadrantes"),
    "homicide.hotspots.map_desc": (
        "Each quadrant is shaded by the chosen measure; the table lists the 20 quadrants "
        "with the highest forecast.",
        "Cada cuadrante se sombrea según la medida elegida; la tabla lista los 20 "
        "cuadrantes con el pronóstico más alto."),
    "homicide.hotspots.top": ("The 20 quadrants with the highest forecast",
                              "Los 20 cuadrantes con el pronóstico más alto"),
    "homicide.hotspots.none": ("No quadrant data are visible for this purpose and case.",
                               "No hay datos de cuadrantes visibles para este propósito y caso."),
    "homicide.registry.title": ("Best-practice registry", "Registro de buenas prácticas"),
    "homicide.registry.intro": (
        "Violence-prevention programmes and what is known of their effect. Search in English "
        "or Spanish; accents and word endings do not matter.",
        "Programas de prevención de la violencia y lo que se sabe de su efecto. Busque en "
        "español o en inglés; los acentos y las terminaciones no importan."),
    "homicide.registry.q": ("Search words", "Palabras de búsqueda"),
    "homicide.registry.rating": ("Evidence rating", "Calificación de la evidencia"),
    "homicide.registry.target": ("Target", "Dirigido a"),
    "homicide.registry.any": ("Any", "Cualquiera"),
    "homicide.registry.search": ("Search", "Buscar"),
    "homicide.registry.results": ("{n} programmes", "{n} programas"),
    "homicide.registry.none": ("No programme matches.", "Ningún programa coincide."),
    "homicide.registry.back": ("Back to the registry", "Volver al registro"),
    "homicide.registry.jurisdictions": ("Where it has been used", "Dónde se ha aplicado"),
    "homicide.registry.costs": ("Costs", "Costos"),
    "homicide.registry.contact": ("Contact", "Contacto"),
    "homicide.registry.links": ("Links", "Enlaces"),
    "homicide.registry.publisher": ("Published by", "Publicado por"),
    "homicide.registry.notes": ("Comments and results", "Comentarios y resultados"),
    "homicide.registry.no_notes": ("No comments or results visible yet.",
                                   "Aún no hay comentarios ni resultados visibles."),
    "homicide.note.comment": ("Comment", "Comentario"),
    "homicide.note.result": ("Result", "Resultado"),
    "homicide.outcome.improved": ("improved", "mejoró"),
    "homicide.outcome.no-change": ("no change", "sin cambio"),
    "homicide.outcome.worsened": ("worsened", "empeoró"),
    "homicide.outcome.mixed": ("mixed", "mixto"),
}

plugin = WebPlugin(
    name="homicide",
    router=router,
    nav=(NavItem("homicide.nav", "/homicide/", visible=_queries),),
    templates=Path(__file__).parent / "templates" / "homicide",
    messages=MESSAGES,
)
