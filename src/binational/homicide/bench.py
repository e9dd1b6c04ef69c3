"""``binational bench homicide``: near repeats, forecasts and indicators on public data.

1. Knox test on Chicago residential burglary 2016 against the Near Repeat Calculator's own
   output (``NRC_chicago_burglary_2016_NRverbose.csv``: 100 m x 3 bands, 2 days x 2 bands):
   observed counts cell by cell, and observed/expected ratios within 10% in the cells the
   Calculator found significant. Ours runs with the Calculator's 19 permutations and with 999.
2. Forecasts on Chicago burglary: trained on 2014-2016, tested on every week and every month
   of 2017 (rolling origin: each forecast sees the incidents before its window); PAI, PEI*,
   PEI and RRI at 1% and 5% of the area, for kde and sepp next to last-W-periods baselines.
   The SEPP is fitted by EM once, on 2014-2016, and then driven by the incidents as they come.
3. Indicators for all 2,467 municipalities x 264 months of INEGI homicides (target: 2 s).
"""

from __future__ import annotations

import csv
import json
import platform
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from binational.homicide import indicators
from binational.homicide.forecast import ModelOptions, evaluate, fit_sepp, kde, last_period
from binational.homicide.grid import Grid
from binational.homicide.incidents import Incidents, day_number, read_incidents
from binational.homicide.knox import knox
from binational.homicide.sources import read_series

CHICAGO = "crime/us_chicago_burglary_nearrepeat"
INEGI = "crime/mx_inegi_homicides_gargiulo/mexico-muni-month-homicide-rates-2000-2021.csv.gz"
CELL = 150.0  # metres: the cell of Mohler et al.'s and most Chicago forecasting studies
TOLERANCE = 0.10


def read_nrc(path: Path) -> dict[str, list[list[float]]]:
    """The observed/expected, significance and observed tables of an NRC verbose CSV."""
    rows = list(csv.reader(path.open(encoding="latin-1")))
    tables: dict[str, list[list[float]]] = {}
    names = {"Observed over mean expected frequencies": "ratio",
             "Statistical significant table": "p_value",
             "Observed frequencies distribution": "observed"}
    for i, row in enumerate(rows):
        if row and row[0].strip() in names:
            body: list[list[float]] = []
            for r in rows[i + 3:]:
                if not r or not r[0].strip().isdigit():
                    break
                body.append([float(v) for v in r[2:] if v.strip()])
            tables[names[row[0].strip()]] = body
    return tables


def _chicago(data_dir: Path) -> Incidents:
    return read_incidents(data_dir / CHICAGO / "chicago_burglary_2014_2017.csv", "x", "y",
                          "date_single", date_format="%d/%m/%Y")


def bench_knox(inc: Incidents, nrc: dict[str, list[list[float]]], iterations: int,
               seed: int) -> dict[str, Any]:
    start, end = day_number(date(2016, 1, 1)), day_number(date(2017, 1, 1))
    sub = inc.select((inc.t >= start) & (inc.t < end))
    t0 = time.perf_counter()
    res = knox(sub.x, sub.y, sub.t, spatial_band=100, spatial_bands=3, temporal_band=2,
               temporal_bands=2, iterations=iterations, seed=seed)
    seconds = time.perf_counter() - t0
    cells = []
    for s, row in enumerate(nrc["ratio"]):
        for k, theirs in enumerate(row):
            cell = res.cell(s, k)
            ours = cell.ratio or 0.0
            significant = nrc["p_value"][s][k] <= 0.05
            cells.append({
                "space": cell.space_label, "time": cell.time_label,
                "nrc_observed": int(nrc["observed"][s][k]), "observed": cell.observed,
                "nrc_ratio": theirs, "ratio": round(ours, 3),
                "exact_ratio": round(cell.observed / cell.exact_expected, 3)
                if cell.exact_expected else None,
                "difference_pct": round(100 * (ours - theirs) / theirs, 1),
                "nrc_significant": significant, "p_value": round(cell.p_value, 4),
                "within_10pct": abs(ours - theirs) <= TOLERANCE * theirs})
    sig = [c for c in cells if c["nrc_significant"]]
    return {"iterations": iterations, "seed": seed, "incidents": len(sub),
            "seconds": round(seconds, 3), "cells": cells,
            "significant_within_10pct": sum(c["within_10pct"] for c in sig),
            "significant_cells": len(sig),
            "observed_equal": sum(c["observed"] == c["nrc_observed"] for c in cells),
            "observed_cells": len(cells)}


def _windows(kind: str) -> list[tuple[float, float]]:
    """(origin, horizon) of each test window of 2017."""
    if kind == "weekly":
        first = day_number(date(2017, 1, 1))
        return [(first + 7 * k, 7.0) for k in range(52)]
    out = []
    for m in range(1, 13):
        a = date(2017, m, 1)
        b = date(2018, 1, 1) if m == 12 else date(2017, m + 1, 1)
        out.append((day_number(a), float((b - a).days)))
    return out


def bench_forecasts(inc: Incidents, kind: str, windows: list[tuple[float, float]],
                    sepp_iterations: int) -> dict[str, Any]:
    train_end = day_number(date(2017, 1, 1))
    train = inc.t < train_end
    grid = Grid.covering(inc.x[train], inc.y[train], CELL)
    past_all = grid.counts(inc.x[train], inc.y[train])
    area = np.flatnonzero(past_all > 0)
    options = ModelOptions(em_iterations=sepp_iterations)
    t0 = time.perf_counter()
    sepp = fit_sepp(grid, inc.x, inc.y, inc.t, train_end, options)
    fit_seconds = time.perf_counter() - t0
    baselines = (1, 4, 12)
    models = [f"last-{w}" for w in baselines] + ["kde", "sepp"]
    sums: dict[str, dict[float, dict[str, list[float]]]] = {
        m: {0.01: {}, 0.05: {}} for m in models}
    timing = dict.fromkeys(models, 0.0)
    for origin, horizon in windows:
        test = (inc.t >= origin) & (inc.t < origin + horizon)
        before = inc.t < origin
        actual = grid.counts(inc.x[test], inc.y[test])[area]
        # RRI compares with the window of the same length just before the origin.
        prior = (inc.t >= origin - horizon) & before
        past = grid.counts(inc.x[prior], inc.y[prior])[area]
        for m in models:
            t1 = time.perf_counter()
            if m.startswith("last-"):
                score = last_period(grid, inc.x, inc.y, inc.t, origin, horizon, int(m[5:]))
            elif m == "kde":
                score = kde(grid, inc.x, inc.y, inc.t, origin, horizon, options)
            else:
                score = sepp.predict(inc.x[before], inc.y[before], inc.t[before], origin,
                                     horizon)
            timing[m] += time.perf_counter() - t1
            for hit in evaluate(score[area], actual, int(test.sum()), past, int(prior.sum())):
                bucket = sums[m][hit.share]
                for key, value in (("pai", hit.pai), ("pei_star", hit.pei_star),
                                   ("pei", hit.pei), ("hit_rate", hit.hits / hit.total
                                                      if hit.total else 0.0),
                                   ("rri", hit.rri)):
                    if value is not None:
                        bucket.setdefault(key, []).append(value)
    results: dict[str, dict[str, Any]] = {}
    for m in models:
        entry: dict[str, Any] = {
            f"{int(share * 100)}%": {k: round(float(np.mean(v)), 3) for k, v in stats.items()}
            for share, stats in sums[m].items()}
        entry["seconds_per_forecast"] = round(timing[m] / len(windows), 4)
        results[m] = entry
    base = results["last-1"]
    for m in models:
        for share in ("1%", "5%"):
            b = base[share]["pai"]
            results[m][share]["pai_vs_last1"] = (round(results[m][share]["pai"] / b, 3)
                                                 if b else None)
    return {"windows": kind, "forecasts": len(windows), "cell_m": CELL,
            "area_cells": len(area), "sepp": {**sepp.params(),
                                              "fit_seconds": round(fit_seconds, 2)},
            "models": results}


def bench_indicators(data_dir: Path, repeat: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    series = read_series("inegi-municipal", data_dir / INEGI)
    read_seconds = time.perf_counter() - t0
    frame = series.frame
    times = []
    out: dict[str, Any] = {}
    for _ in range(repeat):
        t1 = time.perf_counter()
        out = indicators.compute_all(frame)
        times.append(time.perf_counter() - t1)
    national = out["state_annual"].group_by("year").agg(
        __import__("polars").col("count").sum()).sort("year")
    totals = dict(zip(national["year"].to_list(), national["count"].to_list(), strict=True))
    return {"municipalities": frame["area_code"].n_unique(),
            "months": frame.select(["year", "month"]).unique().height, "rows": frame.height,
            "read_seconds": round(read_seconds, 3), "indicator_seconds": round(min(times), 3),
            "indicator_seconds_max": round(max(times), 3), "target_seconds": 2.0,
            "homicides_2018": totals.get(2018), "homicides_2021": totals.get(2021)}


def run_bench(*, quick: bool, out: Path | None, console: Console, data_dir: Path) -> None:
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
                   f"{platform.python_version()}", "quick": quick}
    console.print("reading Chicago burglary 2014-2017 ...")
    inc = _chicago(data_dir)
    result["chicago_rows"] = inc.rows
    result["chicago_rejected"] = len(inc.issues)
    nrc = read_nrc(data_dir / CHICAGO / "NRC_chicago_burglary_2016_NRverbose.csv")
    result["knox"] = [bench_knox(inc, nrc, 19, seed=1)]
    if not quick:
        result["knox"].append(bench_knox(inc, nrc, 999, seed=1))
    _knox_table(console, result["knox"])
    _write(out, result)
    result["forecasts"] = []
    for kind in ("weekly", "monthly"):
        windows = _windows(kind)
        if quick:
            windows = windows[:3]
        console.print(f"forecasting {kind} ({len(windows)} windows of 2017) ...")
        result["forecasts"].append(bench_forecasts(inc, kind, windows, 10 if quick else 40))
        _write(out, result)
    _forecast_table(console, result["forecasts"])
    console.print("indicators over 2,467 municipalities x 264 months ...")
    result["indicators"] = bench_indicators(data_dir, 1 if quick else 5)
    ind = result["indicators"]
    console.print(f"indicators: {ind['municipalities']:,} municipalities x {ind['months']} "
                  f"months = {ind['rows']:,} rows in {ind['indicator_seconds']:.3f} s "
                  f"(target 2 s; read {ind['read_seconds']:.2f} s); homicides 2018 "
                  f"{ind['homicides_2018']:,}, 2021 {ind['homicides_2021']:,}")
    _write(out, result)


def _write(out: Path | None, result: dict[str, Any]) -> None:
    if out is not None:
        out.write_text(json.dumps(result, indent=2))


def _knox_table(console: Console, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        table = Table(title=f"Knox, Chicago burglary 2016 ({run['iterations']} permutations): "
                            f"{run['significant_within_10pct']}/{run['significant_cells']} "
                            "significant cells within 10% of the NRC; observed equal in "
                            f"{run['observed_equal']}/{run['observed_cells']}")
        for h in ("Space", "Time", "NRC obs", "Obs", "NRC ratio", "Ratio", "Exact", "Diff %",
                  "NRC sig", "p"):
            table.add_column(h)
        for c in run["cells"]:
            table.add_row(c["space"], c["time"], str(c["nrc_observed"]), str(c["observed"]),
                          f"{c['nrc_ratio']:.2f}", f"{c['ratio']:.2f}",
                          f"{c['exact_ratio']:.2f}" if c["exact_ratio"] else "-",
                          f"{c['difference_pct']:+.1f}", "yes" if c["nrc_significant"] else "",
                          f"{c['p_value']:.3f}")
        console.print(table)


def _forecast_table(console: Console, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        table = Table(title=f"Chicago burglary 2017, {run['windows']} ({run['forecasts']} "
                            f"forecasts, {run['cell_m']:g} m cells, {run['area_cells']:,} "
                            "cells in the area)")
        for h in ("Model", "PAI 1%", "PEI* 1%", "PAI 5%", "PEI* 5%", "RRI 5%",
                  "PAI 1% / last-1", "s / forecast"):
            table.add_column(h)
        for name, m in run["models"].items():
            table.add_row(name, f"{m['1%']['pai']:.2f}", f"{m['1%']['pei_star']:.3f}",
                          f"{m['5%']['pai']:.2f}", f"{m['5%']['pei_star']:.3f}",
                          f"{m['5%'].get('rri', 0):.2f}",
                          f"{m['1%']['pai_vs_last1'] or 0:.2f}",
                          f"{m['seconds_per_forecast']:.3f}")
        console.print(table)
