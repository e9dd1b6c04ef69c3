"""``binational early-warning``: detect aberrations in count series; the benchmark.

``detect`` needs no database: it reads a CSV, runs one algorithm per series and prints the
monitored periods. A series with a problem (a gap, a negative count, a duplicated period, a
changed place code, too few periods) gets a message on stderr; the others are still run.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from binational.core.cli.common import (
    console,
    fail,
    make_table,
    open_platform,
    print_json,
    say,
    warn,
)
from binational.early_warning.algorithms import ALGORITHMS, FREQUENCIES, Detection, detect
from binational.early_warning.series import (
    BadFile,
    Series,
    SeriesProblem,
    parse_mapping,
    read_series,
    read_vsrr,
)

ew_app = typer.Typer(help="Drug early warning: spikes in overdose and treatment counts, "
                     "alerts, subscriptions and the substance register.",
                     no_args_is_help=True)


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def records(series: Series, det: Detection, with_key: bool) -> list[dict[str, Any]]:
    """One JSON record per monitored period."""
    counts = series.counts
    levels = det.levels(counts)
    out = []
    for j, i in enumerate(det.index):
        rec: dict[str, Any] = {}
        if with_key:
            rec.update(place=series.key.place, indicator=series.key.indicator,
                       substance=series.key.substance)
        rec.update(period=series.periods[i].isoformat(), count=int(counts[i]),
                   expected=_num(det.expected[j]), upperbound=_num(det.upperbound[j]),
                   alarm=bool(det.alarm[j]) if det.defined[j] else None, level=levels[j])
        if det.pvalue is not None:
            rec["pvalue"] = _num(det.pvalue[j])
        out.append(rec)
    return out


def run_series(series: list[Series], algorithm: str, frequency: str,
               start: date | None = None, adjust: bool = False,
               ) -> tuple[list[tuple[Series, Detection]], list[SeriesProblem]]:
    """Run one algorithm on every series; a series the algorithm cannot run on becomes a
    problem and the others go on."""
    done: list[tuple[Series, Detection]] = []
    problems: list[SeriesProblem] = []
    for s in series:
        first = None
        if start is not None:
            first = next((i for i, p in enumerate(s.periods) if p >= start), None)
            if first is None:
                problems.append(SeriesProblem(s.key, f"no period on or after {start}"))
                continue
        counts = s.adjusted() if adjust else s.counts
        try:
            det = detect(algorithm, counts, frequency, s.periods, first)
        except ValueError as exc:
            problems.append(SeriesProblem(s.key, str(exc)))
            continue
        if adjust:
            s = Series(s.key, s.periods, counts, s.place_name, s.completeness, s.predicted,
                       s.lines)
        done.append((s, det))
    return done, problems


def read_file(series_csv: Path, vsrr: bool, frequency: str, mapping: list[str] | None
              ) -> tuple[list[Series], list[SeriesProblem], str]:
    """The series of a CSV file (or of a CDC VSRR download: monthly), the problems found in it,
    and its frequency; a file that cannot be read at all stops the command with its reason."""
    try:
        if vsrr:
            series, problems = read_vsrr(series_csv)
            return series, problems, "month"
        with series_csv.open(encoding="utf-8-sig", newline="") as fh:
            series, problems = read_series(fh, frequency, parse_mapping(mapping or []),
                                           name=str(series_csv))
        return series, problems, frequency
    except BadFile as exc:
        fail(str(exc))
    except UnicodeDecodeError:
        fail(f"{series_csv}: not a UTF-8 text file (save it as UTF-8 and try again)")


def detect_command(
    series_csv: Annotated[Path, typer.Argument(help="CSV with period (ISO date of the "
                                               "period's start) and count columns.")],
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="One of: "
                                           + ", ".join(ALGORITHMS))],
    frequency: Annotated[str, typer.Option("--frequency", help="week, day or month.")]
    = "week",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="Column mapping FIELD=COLUMN (fields: period, count, place, "
        "place_name, indicator, substance, series, completeness, predicted); repeatable.")]
    = None,
    start: Annotated[str | None, typer.Option(
        "--start", help="First period to monitor (ISO date); default: the algorithm's own.")]
    = None,
    adjust: Annotated[bool, typer.Option(
        "--adjust-delay", help="Adjust counts for reporting delay where the file gives "
        "completeness or a predicted value.")] = False,
    vsrr: Annotated[bool, typer.Option("--vsrr", help="The file is CDC VSRR provisional "
                                       "overdose death counts (monthly).")] = False,
) -> None:
    """Detect aberrations: expected count, upper bound and alarm for each monitored period."""
    if algorithm not in ALGORITHMS:
        fail(f"unknown algorithm {algorithm!r}; expected one of: {', '.join(ALGORITHMS)}")
    if frequency not in FREQUENCIES:
        fail(f"unknown frequency {frequency!r}; expected one of: {', '.join(FREQUENCIES)}")
    if not series_csv.is_file():
        fail(f"no such file: {series_csv}")
    first: date | None = None
    if start:
        try:
            first = date.fromisoformat(start)
        except ValueError:
            fail(f"--start {start!r} is not an ISO date (YYYY-MM-DD)")
    series, problems, frequency = read_file(series_csv, vsrr, frequency, mapping)
    done, more = run_series(series, algorithm, frequency, first, adjust)
    problems = problems + more
    multi = len(series) + len(problems) > 1 or any(
        s.key.place or s.key.indicator or s.key.substance for s in series)
    for p in problems:
        warn(f"{p.key.label()}: {p.message}" if multi else p.message)
    if not done:
        fail("no series could be monitored" if multi else "the series could not be monitored")
    if as_json:
        print_json([r for s, d in done for r in records(s, d, multi)])
        return
    for s, d in done:
        table = make_table("Period", "Count", "Expected", "Upper bound", "Alarm", "Level",
                           title=f"{s.key.label()} - {algorithm}" if multi else algorithm)
        for r in records(s, d, False):
            table.add_row(r["period"], str(r["count"]),
                          "" if r["expected"] is None else f"{r['expected']:.2f}",
                          "" if r["upperbound"] is None else f"{r['upperbound']:.2f}",
                          {True: "ALARM", False: "", None: "n/a"}[r["alarm"]], r["level"])
        console.print(table)
        alarms = int(d.alarm.sum())
        say(f"{s.key.label()}: {len(d.index)} periods monitored, {alarms} alarm(s)")


def bench_early_warning(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run: few series, "
                                        "few scenarios.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
    replicates: Annotated[int, typer.Option("--replicates", min=1)] = 100,
    scenarios: Annotated[str | None, typer.Option(
        "--scenarios", help="Comma-separated Noufaily scenario numbers (1-28; default all)."
    )] = None,
    timing_series: Annotated[int, typer.Option(
        "--timing-series", min=1, help="Series for the timing comparison.")] = 1000,
    r_timing_series: Annotated[int, typer.Option(
        "--r-timing-series", min=1, help="Series R is timed on (extrapolated to "
        "--timing-series when fewer, since R's Farrington takes minutes per hundred).")]
    = 50,
    r_replicates: Annotated[int, typer.Option(
        "--r-replicates", min=0, help="Replicates per scenario also run in R for the "
        "agreement (R's Farrington takes seconds per series).")] = 4,
    data_dir: Annotated[Path, typer.Option(
        "--data-dir", help="The shared public data (for the CDC VSRR file).")]
    = Path("../shared/data"),
) -> None:
    """Our detectors next to R's surveillance package on Noufaily et al. (2013) simulations."""
    from binational.early_warning.bench import run_bench

    chosen = None
    if scenarios:
        try:
            chosen = [int(s) for s in scenarios.split(",") if s.strip()]
        except ValueError:
            fail(f"--scenarios {scenarios!r}: expected numbers like 1,5,12")
        if any(not 1 <= s <= 28 for s in chosen):
            fail("--scenarios: Noufaily scenarios are numbered 1 to 28")
    run_bench(quick=quick, out=out, replicates=replicates, scenarios=chosen,
              timing_series=timing_series, r_timing_series=r_timing_series,
              vsrr_file=data_dir / "public_health" / "us_overdose_vsrr"
              / "VSRR_Provisional_Drug_Overdose_Death_Counts.csv", console=console,
              r_replicates=None if quick else r_replicates)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: add ``early-warning`` and ``bench early-warning``."""
    ew_app.command("detect")(detect_command)
    register_service_commands()
    app.add_typer(ew_app, name="early-warning")
    bench_app.command("early-warning")(bench_early_warning)


# -- the platform side: load, scan, alerts, subscriptions, substance register ----------------

def _operator_caller(ctx: typer.Context, agency: str | None, dataset: str | None,
                     purpose: str, case: str) -> tuple[Any, Any]:
    from binational.core.access import Caller
    from binational.core.identity import operator
    from binational.core.policy import QueryContext
    from binational.core.vocab import Purpose, parse_choice

    platform = open_platform(ctx)
    code = agency
    if code is None and dataset is not None:
        code = platform.catalog.get(dataset).agency
    if code is None:
        fail("give --agency (the agency the operator acts for)")
    ag = platform.identity.get_agency(code)
    caller = Caller(operator(ag.code, ag.country),
                    QueryContext(parse_choice(Purpose, purpose, "purpose"), case), client="cli")
    return platform, caller


def load_command(
    ctx: typer.Context,
    series_csv: Annotated[Path, typer.Argument(help="CSV of counts, or a VSRR file.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The (own) dataset to load into.")],
    frequency: Annotated[str, typer.Option("--frequency")] = "week",
    vsrr: Annotated[bool, typer.Option("--vsrr", help="CDC VSRR format.")] = False,
    mapping: Annotated[list[str] | None, typer.Option("--map")] = None,
) -> None:
    """Load count series into a dataset (bad series are reported and left out)."""
    from binational.early_warning.service import EarlyWarning

    if not series_csv.is_file():
        fail(f"no such file: {series_csv}")
    platform, caller = _operator_caller(ctx, None, dataset, "public-health", "operator-cli")
    series, problems, frequency = read_file(series_csv, vsrr, frequency, mapping)
    for p in problems:
        warn(f"{p.key.label()}: {p.message}")
    n = EarlyWarning(platform).load(caller, dataset, series, frequency,
                                    "cdc-vsrr" if vsrr else "csv")
    say(f"loaded {n} series into {dataset}; {len(problems)} left out")


def scan_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset to scan.")],
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="auto or one of: "
                                           + ", ".join(ALGORITHMS))] = "auto",
) -> None:
    """Run detection on a dataset's series: alarms become alerts, subscribers are told."""
    from binational.early_warning.service import EarlyWarning

    if algorithm != "auto" and algorithm not in ALGORITHMS:
        fail(f"unknown algorithm {algorithm!r}; expected auto or one of: "
             f"{', '.join(ALGORITHMS)}")
    platform, caller = _operator_caller(ctx, None, dataset, "public-health", "operator-cli")
    res = EarlyWarning(platform).scan(caller, dataset, algorithm)
    for p in res["problems"]:
        warn(p)
    say(f"{res['series']} series, {res['assessed']} assessed, {res['sparse']} too sparse; "
        f"{res['alerts']} alerts ({res['new_alerts']} new), {res['notifications']} "
        "notifications")


def alerts_command(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help="Act for this agency.")],
    place: Annotated[str | None, typer.Option("--place")] = None,
    neighbours: Annotated[bool, typer.Option("--neighbours")] = False,
    open_only: Annotated[bool, typer.Option("--open")] = False,
    purpose: Annotated[str, typer.Option("--purpose")] = "public-health",
    case: Annotated[str, typer.Option("--case")] = "operator-cli",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Alerts the agency may see (start, peak, end), newest first."""
    from binational.early_warning.service import EarlyWarning

    platform, caller = _operator_caller(ctx, agency, None, purpose, case)
    found = EarlyWarning(platform).alerts(caller, place, neighbours, open_only)
    if as_json:
        print_json(found)
        return
    table = make_table("Level", "Place", "Indicator", "Substance", "Start", "Peak", "End",
                       "Peak count", "Expected")
    for a in found:
        table.add_row(a["level"], a["place_name"] or a["place"], a["indicator"],
                      a["substance"], str(a["start"]), str(a["peak"]),
                      str(a["end"] or "open"), f"{a['peak_count']:g}",
                      str(a["peak_expected"]))
    console.print(table)


def substances_command(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help="Act for this agency.")],
    lang: Annotated[str, typer.Option("--lang", help="en or es")] = "en",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The register of new psychoactive substances, with risk communications."""
    from binational.early_warning.service import EarlyWarning

    platform, caller = _operator_caller(ctx, agency, None, "public-health", "operator-cli")
    found = EarlyWarning(platform).substances(caller)
    if as_json:
        print_json(found)
        return
    es = lang == "es"
    table = make_table("Substance" if not es else "Sustancia", "First detected" if not es
                       else "Primera detección", "Place" if not es else "Lugar",
                       "Source" if not es else "Fuente",
                       "Confidence" if not es else "Confianza",
                       "Risk" if not es else "Riesgo")
    for s in found:
        note = (" (retracted)" if not es else " (retirada)") if s["retracted"] else ""
        table.add_row(s["name"] + note, str(s["first_detected"]), s["place"],
                      s["source_es" if es else "source_en"],
                      s["confidence_es" if es else "confidence_en"],
                      s["risk_es" if es else "risk_en"])
    console.print(table)


def register_service_commands() -> None:
    ew_app.command("load")(load_command)
    ew_app.command("scan")(scan_command)
    ew_app.command("alerts")(alerts_command)
    ew_app.command("substances")(substances_command)
