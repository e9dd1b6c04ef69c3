"""``binational homicide``: load homicide series, read indicators, search the registry.

The local operator acts for an agency (``--agency``, default: the owner of the dataset): what
a command reads is what that agency may see for the purpose, and every run is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binational.core.access import Caller
from binational.core.cli.common import (
    console,
    fail,
    make_table,
    open_platform,
    print_json,
    warn,
)
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, parse_choice
from binational.homicide.registry import RATINGS, SEED, TARGETS
from binational.homicide.service import Homicide
from binational.homicide.sources import FORMATS

homicide_app = typer.Typer(help="Homicide series and indicators, the best-practice registry.",
                           no_args_is_help=True)

AgencyOpt = Annotated[str | None, typer.Option(
    "--agency", help="Act for this agency (default: the dataset's owner).")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
CaseOpt = Annotated[str, typer.Option("--case", help="Case reference for the audit trail.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _caller(platform: Platform, agency: str, purpose: str, case: str) -> Caller:
    ag = platform.identity.get_agency(agency)
    context = QueryContext(parse_choice(Purpose, purpose, "purpose"), case)
    return Caller(operator(ag.code, ag.country), context, client="cli")


def _owner(platform: Platform, dataset: str) -> str:
    info = platform.catalog.all().get(dataset)
    if info is None:
        fail(f"no dataset {dataset!r} (create it with: binational dataset add)")
    return info.agency


@homicide_app.command("load")
def load(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Argument(help=f"One of: {', '.join(FORMATS)}.")],
    path: Annotated[Path, typer.Argument(help="The file (gzip or bzip2 compressed is fine).")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to load into.")],
    polygons: Annotated[Path | None, typer.Option(
        "--polygons", help="cdmx-quadrants: the quadrant outlines (shapefile or GeoJSON).")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Load homicide counts (replacing that source's earlier rows in the dataset); every
    rejected row is listed with its line."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    platform = open_platform(ctx)
    agency = _owner(platform, dataset)
    report = Homicide(platform).load_series(
        _caller(platform, agency, Purpose.HOMICIDE_INVESTIGATION.value, "operator-cli"),
        dataset, fmt, path, polygons)
    if as_json:
        print_json(report.to_json())
        return
    for issue in report.issues[:50]:
        warn(f"{path}:{issue.line}: {issue.message}")
    for note in report.warnings[:50]:
        warn(f"{path}:{note.line}: {note.message}")
    console.print(f"loaded {report.rows:,} monthly counts into {dataset}"
                  + (f" and {report.areas:,} outlines" if report.areas else "")
                  + f"; {len(report.issues):,} rows rejected, {len(report.warnings):,} notes")


@homicide_app.command("load-incidents")
def load_incidents(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV file of geocoded incidents.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to load into.")],
    x: Annotated[str, typer.Option("--x", help="Column of x (or longitude).")],
    y: Annotated[str, typer.Option("--y", help="Column of y (or latitude).")],
    date: Annotated[str, typer.Option("--date", help="Column of the date.")],
    date_format: Annotated[str | None, typer.Option("--date-format")] = None,
    lonlat: Annotated[bool, typer.Option("--lonlat", help="WGS84 longitude/latitude.")]
    = False,
    crs: Annotated[str | None, typer.Option(
        "--crs", help="Name of the projection of x/y, e.g. EPSG:26971.")] = None,
    crime: Annotated[str, typer.Option("--crime", help="What the incidents are.")]
    = "homicide",
    as_json: JsonOpt = False,
) -> None:
    """Store geocoded incidents (points and dates only) for hot spots under grants."""
    platform = open_platform(ctx)
    agency = _owner(platform, dataset)
    report = Homicide(platform).load_incidents(
        _caller(platform, agency, Purpose.HOMICIDE_INVESTIGATION.value, "operator-cli"),
        dataset, path, x=x, y=y, date=date, date_format=date_format, lonlat=lonlat,
        crime=crime, crs=crs)
    if as_json:
        print_json(report.to_json())
        return
    for issue in report.issues[:50]:
        warn(f"{path}:{issue.line}: {issue.message}")
    console.print(f"stored {report.rows:,} incidents in {dataset}; {len(report.issues):,} "
                  "rows rejected")


@homicide_app.command("trends")
def trends(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help="Act for this agency.")],
    level: Annotated[str, typer.Option("--level", help="state or municipality.")] = "state",
    source: Annotated[str, typer.Option("--source", help="inegi or sesnsp-victims.")]
    = "inegi",
    year: Annotated[int | None, typer.Option("--year")] = None,
    area: Annotated[str | None, typer.Option("--area", help="Code prefix (state: 2 digits).")]
    = None,
    purpose: PurposeOpt = Purpose.HOMICIDE_INVESTIGATION.value,
    case: CaseOpt = "operator-cli",
    as_json: JsonOpt = False,
) -> None:
    """Homicides per area: count, rate per 100,000, change on the year before, trend."""
    if level not in ("state", "municipality"):
        fail("--level must be state or municipality")
    platform = open_platform(ctx)
    out = Homicide(platform).trends(_caller(platform, agency, purpose, case), level=level,
                                    source=source, year=year, area_prefix=area)
    if as_json:
        print_json(out)
        return
    if not out["areas"]:
        console.print("no series visible to this agency for this purpose")
        return
    table = make_table("Area", "Name", "Homicides", "Rate /100k", "Change", "Slope / month",
                       title=f"{source} {level} homicides, {out['year']}")
    for a in out["areas"]:
        change = a.get("change_pct")
        table.add_row(a["area_code"], a.get("area_name") or a.get("state_name") or "",
                      f"{a['count']:,}", "" if a["rate"] is None else f"{a['rate']:.1f}",
                      "" if change is None else f"{change:+.0%}",
                      "" if a.get("slope") is None else f"{a['slope']:+.2f}")
    console.print(table)


@homicide_app.command("programmes")
def programmes(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help="Act for this agency.")],
    q: Annotated[str | None, typer.Argument(help="Words in English or Spanish.")] = None,
    rating: Annotated[str | None, typer.Option(
        "--rating", help=f"One of: {', '.join(RATINGS)}.")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help=f"One of: {', '.join(TARGETS)}.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="en or es (display).")] = "es",
    purpose: PurposeOpt = Purpose.HOMICIDE_INVESTIGATION.value,
    case: CaseOpt = "operator-cli",
    as_json: JsonOpt = False,
) -> None:
    """Search the best-practice registry (accents and word endings ignored)."""
    if lang not in ("en", "es"):
        fail("--lang must be en or es")
    platform = open_platform(ctx)
    found = Homicide(platform).search_programmes(_caller(platform, agency, purpose, case), q,
                                                 rating=rating, target=target)
    if as_json:
        print_json(found)
        return
    table = make_table("Id", "Programme", "Rating", "Target", "Jurisdictions", "Agency")
    for p in found:
        table.add_row(p["id"], p["name"][lang], p["rating_label"][lang],
                      p["target_label"][lang], ", ".join(p["jurisdictions"]), p["agency"])
    console.print(table)


@homicide_app.command("publish-seed")
def publish_seed(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="A registry dataset.")],
) -> None:
    """Publish the bundled programmes (Cure Violence, focused deterrence, ...) in a dataset."""
    platform = open_platform(ctx)
    agency = _owner(platform, dataset)
    caller = _caller(platform, agency, Purpose.HOMICIDE_INVESTIGATION.value, "operator-cli")
    service = Homicide(platform)
    for programme in SEED:
        service.publish(caller, dataset, programme)
    console.print(f"published {len(SEED)} programmes in {dataset}")
