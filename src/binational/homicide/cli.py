"""``binational hotspots`` (forecast, knox, grid) and ``binational homicide`` (indicators,
registry, task-force cases), and ``binational bench homicide``.

The hot-spot commands read a CSV file and touch no database: they are analysis of a file the
operator holds. Rows that cannot be used are listed (stderr, or ``rejected`` in the JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from binational.core.cli.common import console, fail, make_table, print_json, warn
from binational.homicide.forecast import MODELS, ModelOptions, check_model
from binational.homicide.hotspots import (
    ForecastRequest,
    forecast_report,
    hotspot_grid,
    knox_report,
)
from binational.homicide.incidents import Incidents, parse_day, read_incidents

hotspots_app = typer.Typer(help="Hot spots of geocoded incidents: forecasts, near repeats, "
                                "Getis-Ord Gi*. Place-based only.", no_args_is_help=True)

XOpt = Annotated[str, typer.Option("--x", help="Column of the x coordinate (or longitude).")]
YOpt = Annotated[str, typer.Option("--y", help="Column of the y coordinate (or latitude).")]
DateOpt = Annotated[str, typer.Option("--date", help="Column of the date.")]
FormatOpt = Annotated[str | None, typer.Option(
    "--date-format", help="strptime format of the dates, e.g. %d/%m/%Y (default: detected).")]
LonLatOpt = Annotated[bool, typer.Option(
    "--lonlat", help="Coordinates are longitude/latitude (WGS84): projected to a local "
                     "metric plane; cells are reported in longitude/latitude.")]
BboxOpt = Annotated[str | None, typer.Option(
    "--bbox", help="Study area XMIN,YMIN,XMAX,YMAX in the input's units: rows outside are "
                   "reported (default: rows far from all others are).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or parts[0] >= parts[2] or parts[1] >= parts[3]:
        fail(f"--bbox {value!r}: expected XMIN,YMIN,XMAX,YMAX with XMIN < XMAX, YMIN < YMAX")
    return parts[0], parts[1], parts[2], parts[3]


def _read(path: Path, x: str, y: str, date: str, date_format: str | None, lonlat: bool,
          bbox: str | None, since: str | None = None, until: str | None = None) -> Incidents:
    inc = read_incidents(path, x, y, date, date_format=date_format, lonlat=lonlat,
                         bbox=_bbox(bbox))
    if since or until:
        lo = parse_day(since, "--from") if since else -np.inf
        hi = parse_day(until, "--until") + 1 if until else np.inf
        inc = inc.select((inc.t >= lo) & (inc.t < hi))
    if not len(inc):
        fail(f"{path}: no usable incidents ({len(inc.issues)} rows rejected"
             + (f", e.g. {inc.issues[0]}" if inc.issues else "") + ")")
    return inc


def _report_rejected(inc: Incidents, path: Path, as_json: bool) -> None:
    if as_json or not inc.issues:
        return
    for issue in inc.issues[:20]:
        warn(f"{path}:{issue.line}: {issue.message}")
    if len(inc.issues) > 20:
        warn(f"... and {len(inc.issues) - 20:,} more rows rejected (see --json)")


def forecast(
    incidents: Annotated[Path, typer.Argument(help="CSV file of geocoded incidents.")],
    x: XOpt, y: YOpt, date: DateOpt,
    train_until: Annotated[str, typer.Option("--train-until",
                                             help="Last day of training (YYYY-MM-DD).")],
    horizon: Annotated[float, typer.Option("--horizon", help="Days forecast after it.")],
    cell_size: Annotated[float, typer.Option("--cell-size", help="Grid cell size, metres.")],
    model: Annotated[str, typer.Option("--model", help=f"One of: {', '.join(MODELS)}.")],
    date_format: FormatOpt = None, lonlat: LonLatOpt = False, bbox: BboxOpt = None,
    periods: Annotated[int, typer.Option(
        "--periods", min=1, help="last-period: average of the last W horizons.")] = 1,
    bandwidth: Annotated[float | None, typer.Option(
        "--bandwidth", help="kde, sepp background: kernel bandwidth, metres (default: the "
                            "cell size).")] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the best N cells.")]
    = None,
    geojson: Annotated[bool, typer.Option("--geojson", help="Add cell polygons (GeoJSON).")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Rank grid cells by the incidents a model expects in the horizon after --train-until."""
    check_model(model)
    if horizon <= 0:
        fail("--horizon must be a positive number of days")
    if cell_size <= 0:
        fail("--cell-size must be a positive number of metres")
    if bandwidth is not None and bandwidth <= 0:
        fail("--bandwidth must be a positive number of metres")
    until = parse_day(train_until, "--train-until")
    inc = _read(incidents, x, y, date, date_format, lonlat, bbox)
    req = ForecastRequest(until, horizon, cell_size, model,
                          ModelOptions(periods=periods, bandwidth=bandwidth), top, geojson)
    report = forecast_report(inc, req)
    if as_json:
        print_json(report)
        return
    _report_rejected(inc, incidents, as_json)
    table = make_table("Rank", "Cell x", "Cell y", "Score", "Training incidents",
                       title=f"{model}: {report['forecast_from']} to {report['forecast_to']}")
    for row in report["cells"][: top or 20]:
        table.add_row(str(row["rank"]), f"{row['cell_x']:.6g}", f"{row['cell_y']:.6g}",
                      f"{row['score']:.4f}", str(row["training_incidents"]))
    console.print(table)
    for hit in report.get("evaluation", []):
        console.print(f"{hit['area_share']:.0%} of the area: PAI {hit['pai']:.2f}, "
                      f"PEI* {hit['pei_star']:.2f}, hit rate {hit['hit_rate']:.1%}")


def knox_command(
    incidents: Annotated[Path, typer.Argument(help="CSV file of geocoded incidents.")],
    x: XOpt, y: YOpt, date: DateOpt,
    spatial_band: Annotated[float, typer.Option("--spatial-band", help="Metres per band.")],
    spatial_bands: Annotated[int, typer.Option("--spatial-bands", help="Number of bands.")],
    temporal_band: Annotated[float, typer.Option("--temporal-band", help="Days per band.")],
    temporal_bands: Annotated[int, typer.Option("--temporal-bands", help="Number of bands.")],
    date_format: FormatOpt = None, lonlat: LonLatOpt = False, bbox: BboxOpt = None,
    iterations: Annotated[int, typer.Option(
        "--iterations", help="Monte Carlo permutations (the Calculator's default is 99).")]
    = 99,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same result.")]
    = 1,
    metric: Annotated[str, typer.Option("--metric", help="euclidean or manhattan.")]
    = "euclidean",
    since: Annotated[str | None, typer.Option("--from", help="Only incidents on or after.")]
    = None,
    until: Annotated[str | None, typer.Option("--until", help="Only incidents on or before.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Near-repeat Knox test: observed/expected pairs per space-time band, with p-values."""
    if spatial_band <= 0 or temporal_band <= 0:
        fail("--spatial-band and --temporal-band must be positive")
    if spatial_bands < 1 or temporal_bands < 1:
        fail("--spatial-bands and --temporal-bands must be at least 1")
    if not 1 <= iterations <= 100_000:
        fail("--iterations must be between 1 and 100000")
    inc = _read(incidents, x, y, date, date_format, lonlat, bbox, since, until)
    report = knox_report(inc, spatial_band=spatial_band, spatial_bands=spatial_bands,
                         temporal_band=temporal_band, temporal_bands=temporal_bands,
                         iterations=iterations, seed=seed, metric=metric)
    if as_json:
        print_json(report)
        return
    _report_rejected(inc, incidents, as_json)
    table = make_table("Distance", *report["temporal_bands"],
                       title=f"Observed / expected ({report['events']:,} incidents, "
                             f"{iterations} permutations; * p <= 0.05)")
    for s, label in enumerate(report["spatial_bands"]):
        cells = []
        for t in range(len(report["temporal_bands"])):
            ratio, p = report["ratios"][s][t], report["p_values"][s][t]
            cells.append("-" if ratio is None else f"{ratio:.2f}{' *' if p <= 0.05 else ''}")
        table.add_row(label, *cells)
    console.print(table)


def grid_command(
    incidents: Annotated[Path, typer.Argument(help="CSV file of geocoded incidents.")],
    x: XOpt, y: YOpt, date: DateOpt,
    cell_size: Annotated[float, typer.Option("--cell-size", help="Grid cell size, metres.")],
    date_format: FormatOpt = None, lonlat: LonLatOpt = False, bbox: BboxOpt = None,
    bandwidth: Annotated[float | None, typer.Option("--bandwidth", help="KDE bandwidth, m.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts, kernel density and Getis-Ord Gi* z-scores per cell (GeoJSON with --json)."""
    if cell_size <= 0:
        fail("--cell-size must be a positive number of metres")
    inc = _read(incidents, x, y, date, date_format, lonlat, bbox)
    report = hotspot_grid(inc, cell_size, bandwidth)
    if as_json:
        print_json(report)
        return
    _report_rejected(inc, incidents, as_json)
    hot = sorted(report["cells"], key=lambda c: -c["gi_star_z"])[:20]
    table = make_table("Cell x", "Cell y", "Incidents", "Density", "Gi* z")
    for c in hot:
        table.add_row(f"{c['cell_x']:.6g}", f"{c['cell_y']:.6g}", str(c["incidents"]),
                      f"{c['density']:.3f}", f"{c['gi_star_z']:.2f}")
    console.print(table)


hotspots_app.command("forecast")(forecast)
hotspots_app.command("knox")(knox_command)
hotspots_app.command("grid")(grid_command)


def bench_homicide(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run, much smaller.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
    data_dir: Annotated[Path, typer.Option(
        "--data-dir", help="The shared public data (crime/).")] = Path("../shared/data"),
) -> None:
    """Knox vs the Near Repeat Calculator, forecasts on Chicago (PAI, PEI*), indicator speed."""
    from binational.homicide.bench import run_bench

    if not data_dir.is_dir():
        fail(f"the public data folder {data_dir} is missing (give --data-dir)")
    run_bench(quick=quick, out=out, console=console, data_dir=data_dir)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: ``hotspots``, ``homicide`` and ``bench homicide``."""
    from binational.homicide.cli_records import homicide_app

    app.add_typer(hotspots_app, name="hotspots")
    app.add_typer(homicide_app, name="homicide")
    bench_app.command("homicide")(bench_homicide)

