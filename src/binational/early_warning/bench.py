"""``binational bench early-warning``: our detectors next to R's ``surveillance`` package.

Simulated weekly series follow Noufaily et al. (2013, Stat Med 32:1206): 624 weeks of a
negative binomial baseline (mean exp(theta + beta t + gamma1 cos(2 pi t/52) + gamma2 sin(...)),
variance phi * mean), four past outbreaks in weeks 313-575 and one current outbreak in weeks
576-624, each of k standard deviations of the baseline at its start (k in 2, 3, 5, 10 for the
current one, cycled over the replicates), its cases spread over the following weeks by a
lognormal(0, 0.5) delay. The 28 scenarios are the seven parameter sets of the paper's table
with and without trend and seasonality (m = 0, 1). Weeks 576-624 are monitored.

R is only needed here, never by the package: without ``Rscript`` and ``surveillance`` the
comparison columns say so and the rest still runs.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from binational.early_warning.algorithms import Detection, detect
from binational.early_warning.series import read_vsrr

N_WEEKS = 624
MONITOR_FROM = 575            # 0-based: week 576
BASELINE_OUTBREAKS = (312, 575)
CURRENT_K = (2, 3, 5, 10)
ALGORITHMS = ("ears-c1", "ears-c2", "ears-c3", "farrington", "farrington-flexible", "glrnb",
              "ewma", "regression")
R_ALGORITHMS = ALGORITHMS[:6]  # ESSENCE's EWMA and regression are not in surveillance

# theta, phi, beta, gamma1, gamma2 (Noufaily et al. 2013, simulation parameter sets)
PARAMETER_SETS = (
    (0.1, 1.5, 0.0025, 0.6, 0.6),
    (-2.0, 2.0, 0.005, 0.1, 0.3),
    (1.5, 1.0, 0.003, 0.2, -0.4),
    (0.5, 5.0, 0.002, 0.5, 0.5),
    (2.5, 3.0, 0.001, 1.0, 0.1),
    (3.75, 1.1, 0.001, 0.1, -0.1),
    (5.0, 1.2, 0.0001, 0.05, 0.01),
)


@dataclass(frozen=True)
class Scenario:
    number: int
    theta: float
    phi: float
    beta: float
    gamma1: float
    gamma2: float

    def mean(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(self.theta + self.beta * t
                                 + self.gamma1 * np.cos(2 * np.pi * t / 52)
                                 + self.gamma2 * np.sin(2 * np.pi * t / 52)))


def scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for theta, phi, beta, g1, g2 in PARAMETER_SETS:
        for trend in (0, 1):
            for m in (0, 1):
                out.append(Scenario(len(out) + 1, theta, phi, beta * trend, g1 * m, g2 * m))
    return out


@dataclass
class Simulated:
    scenario: int
    replicate: int
    k: int
    counts: np.ndarray
    outbreak: np.ndarray      # bool per week: current-outbreak cases that week
    start: int
    end: int


def _nb(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    if phi <= 1:
        return rng.poisson(mu)
    size = mu / (phi - 1)
    return rng.negative_binomial(size, size / (size + mu))


def _outbreak(rng: np.random.Generator, sd: float, k: int, start: int,
              last: int) -> np.ndarray:
    cases = rng.poisson(k * sd)
    weeks = start + np.floor(rng.lognormal(0.0, 0.5, size=cases)).astype(int)
    return np.asarray(np.minimum(weeks, last))


def simulate(sc: Scenario, replicate: int, rng: np.random.Generator) -> Simulated:
    t = np.arange(1, N_WEEKS + 1, dtype=float)
    mu = sc.mean(t)
    x = _nb(rng, mu, sc.phi).astype(float)
    sd = np.sqrt(sc.phi * mu)
    for _ in range(4):
        s = int(rng.integers(*BASELINE_OUTBREAKS))
        weeks = _outbreak(rng, float(sd[s]), int(rng.choice((2, 3, 5, 10))), s,
                          BASELINE_OUTBREAKS[1])
        np.add.at(x, weeks, 1)
    k = CURRENT_K[replicate % len(CURRENT_K)]
    s = int(rng.integers(MONITOR_FROM, N_WEEKS))
    weeks = _outbreak(rng, float(sd[s]), k, s, N_WEEKS - 1)
    np.add.at(x, weeks, 1)
    flag = np.zeros(N_WEEKS, dtype=bool)
    flag[weeks] = True
    end = int(weeks.max()) if len(weeks) else s
    return Simulated(sc.number, replicate, k, x, flag, s, end)


def run_ours(algorithm: str, x: np.ndarray) -> Detection:
    start = None if algorithm.startswith("ears") else MONITOR_FROM
    return detect(algorithm, x, "week", None, start)


# -- R side ---------------------------------------------------------------------------------

R_SCRIPT = r"""
suppressMessages(library(surveillance))
args <- commandArgs(TRUE)
X <- as.matrix(read.csv(args[1], header=FALSE))
algos <- strsplit(args[2], ",")[[1]]
start <- as.integer(args[3])
out <- file(args[4], "w")
times <- c()
for (a in algos) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(nrow(X))) {
    s <- sts(observed=as.numeric(X[i,]), frequency=52, start=c(2000,1))
    r <- start:ncol(X)
    res <- tryCatch(switch(a,
      "ears-c1"=earsC(s, control=list(method="C1")),
      "ears-c2"=earsC(s, control=list(method="C2")),
      "ears-c3"=earsC(s, control=list(method="C3")),
      "farrington"=suppressWarnings(farrington(s, control=list(range=r))),
      "farrington-flexible"=suppressWarnings(farringtonFlexible(s, control=list(range=r))),
      "glrnb"=suppressWarnings(suppressMessages(glrnb(s, control=list(range=r))))),
      error=function(e) NULL)
    if (is.null(res)) { writeLines(paste(a, i, "error", sep=","), out); next }
    al <- res@alarm[,1]; ub <- res@upperbound[,1]
    pos <- seq(ncol(X)-length(al)+1, ncol(X))
    writeLines(paste(a, i, pos, ifelse(is.na(al), "NA", as.integer(al)),
                     ifelse(is.na(ub), "NA", format(ub, digits=15)), sep=","), out)
  }
  times[a] <- proc.time()[["elapsed"]] - t0
}
close(out)
cat(paste(names(times), times, sep="=", collapse=";"), "\n")
"""


def r_available() -> str | None:
    """None when R with surveillance can run, else why not."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (install r-base and r-cran-surveillance to compare)"
    try:
        res = subprocess.run(["Rscript", "-e", "suppressMessages(library(surveillance));"  # noqa: S607
                              "cat(as.character(packageVersion('surveillance')))"],
                             capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript failed: {exc}"
    if res.returncode != 0:
        return "R package surveillance not installed (apt-get install r-cran-surveillance)"
    return None


def r_version() -> str:
    res = subprocess.run(["Rscript", "-e", "cat(R.version.string, as.character("  # noqa: S607
                          "packageVersion('surveillance')))"], capture_output=True, text=True,
                         check=False)
    return res.stdout.strip()


def run_r(series: list[np.ndarray], algorithms: tuple[str, ...], start1: int,
          workers: int = 2) -> tuple[dict[tuple[str, int, int], tuple[bool | None, float]],
                                     dict[str, float], list[tuple[str, int]]]:
    """Run R on the series (split over ``workers`` processes); returns
    {(algorithm, series index, 0-based position): (alarm, upperbound)}, the summed R time
    per algorithm (seconds, excluding start-up) and the (algorithm, series) R failed on."""
    results: dict[tuple[str, int, int], tuple[bool | None, float]] = {}
    times: dict[str, float] = defaultdict(float)
    failed: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "run.R"
        script.write_text(R_SCRIPT)
        chunks = [list(range(i, len(series), workers)) for i in range(workers)]
        procs = []
        for w, idx in enumerate(chunks):
            if not idx:
                continue
            data = Path(tmp) / f"series{w}.csv"
            np.savetxt(data, np.array([series[i] for i in idx]), fmt="%d", delimiter=",")
            out = Path(tmp) / f"out{w}.csv"
            procs.append((idx, out, subprocess.Popen(  # noqa: S603
                ["Rscript", str(script), str(data), ",".join(algorithms), str(start1),  # noqa: S607
                 str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        for idx, out, proc in procs:
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"R failed: {stderr.strip()[-500:]}")
            for part in stdout.strip().split(";"):
                if "=" in part:
                    name, secs = part.split("=")
                    times[name.strip()] += float(secs)
            with out.open() as fh:
                for row in csv.reader(fh):
                    algo, i = row[0], idx[int(row[1]) - 1]
                    if row[2] == "error":
                        failed.append((algo, i))
                        continue
                    alarm = None if row[3] == "NA" else row[3] == "1"
                    ub = float("nan") if row[4] == "NA" else float(row[4])
                    results[(algo, i, int(row[2]) - 1)] = (alarm, ub)
    return results, dict(times), failed


# -- metrics --------------------------------------------------------------------------------

def outbreak_metrics(sim: Simulated, det: Detection) -> dict[str, float]:
    pos = det.index
    keep = pos >= MONITOR_FROM
    alarm = np.zeros(N_WEEKS, dtype=bool)
    alarm[pos[keep]] = det.alarm[keep] & det.defined[keep]
    monitored = np.zeros(N_WEEKS, dtype=bool)
    monitored[MONITOR_FROM:] = True
    in_ob = monitored & (np.arange(N_WEEKS) >= sim.start) & (np.arange(N_WEEKS) <= sim.end)
    quiet = monitored & ~in_ob
    detected = alarm & sim.outbreak
    first = int(np.flatnonzero(detected)[0]) if detected.any() else None
    duration = sim.end - sim.start + 1
    return {
        "fp": float(alarm[quiet].sum()), "quiet": float(quiet.sum()),
        "pod": 1.0 if first is not None else 0.0,
        "sens_hits": float(detected.sum()), "sens_weeks": float(sim.outbreak.sum()),
        "timeliness": 1.0 if first is None else (first - sim.start) / duration,
    }


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    fp = sum(r["fp"] for r in rows)
    quiet = sum(r["quiet"] for r in rows)
    hits = sum(r["sens_hits"] for r in rows)
    weeks = sum(r["sens_weeks"] for r in rows)
    return {"fpr": fp / quiet if quiet else float("nan"),
            "pod": float(np.mean([r["pod"] for r in rows])),
            "sensitivity": hits / weeks if weeks else float("nan"),
            "timeliness": float(np.mean([r["timeliness"] for r in rows]))}


# -- the run --------------------------------------------------------------------------------

def _vsrr(path: Path, console: Console, use_r: bool) -> dict[str, Any]:
    if not path.is_file():
        return {"skipped": f"{path} not found"}
    series, problems = read_vsrr(path)
    out: dict[str, Any] = {"series": len(series), "input_problems": len(problems),
                           "problem_examples": [f"{p.key.label()}: {p.message}"
                                                for p in problems[:5]],
                           "algorithms": {}}
    for algo in ALGORITHMS:
        alerts, too_short, ran, latest = [], [], 0, 0
        t0 = time.perf_counter()
        for s in series:
            start = None if algo.startswith("ears") or algo in ("ewma", "regression") \
                else 12
            try:
                det = detect(algo, s.adjusted(), "month", s.periods, start)
            except ValueError as exc:
                too_short.append(f"{s.key.label()}: {exc}")
                continue
            ran += 1
            for j, i in enumerate(det.index):
                if det.alarm[j] and det.defined[j]:
                    alerts.append({"place": s.key.place, "indicator": s.key.indicator,
                                   "substance": s.key.substance,
                                   "period": s.periods[i].isoformat(),
                                   "count": float(s.adjusted()[i]),
                                   "expected": round(float(det.expected[j]), 1)})
                    if i == len(s.periods) - 1:
                        latest += 1
        secs = time.perf_counter() - t0
        recent = sorted(alerts, key=lambda a: (a["period"], a["place"]), reverse=True)
        out["algorithms"][algo] = {
            "series_run": ran, "too_short": len(too_short),
            "too_short_example": too_short[0] if too_short else None,
            "alerts": len(alerts), "alerts_latest_month": latest,
            "places_alerted": len({a["place"] for a in alerts}),
            "by_substance": dict(Counter(a["substance"] or a["indicator"] for a in alerts)
                                 .most_common()),
            "most_recent": recent[:8], "seconds": round(secs, 2)}
    console.print(f"VSRR: {len(series)} series, {len(problems)} with input problems")
    if use_r:
        # R on the same series for the algorithms that can run on 45 months.
        xs = [s.adjusted() for s in series]
        lengths = {len(x) for x in xs}
        agree: dict[str, Any] = {}
        for n in sorted(lengths):
            group = [i for i, x in enumerate(xs) if len(x) == n]
            res, _, _ = run_r([xs[i] for i in group], ("ears-c1", "ears-c2", "ears-c3"), 1)
            for algo in ("ears-c1", "ears-c2", "ears-c3"):
                a = agree.setdefault(algo, {"points": 0, "agree": 0})
                for gi, i in enumerate(group):
                    det = detect(algo, xs[i], "month")
                    for j, p in enumerate(det.index):
                        ra = res.get((algo, gi, int(p)))
                        if ra is None:
                            continue
                        a["points"] += 1
                        ours = bool(det.alarm[j]) if det.defined[j] else None
                        a["agree"] += ours == ra[0]
        out["r_agreement"] = agree
    return out


def run_bench(*, quick: bool, out: Path | None, replicates: int,
              scenarios: list[int] | None, timing_series: int, r_timing_series: int,
              vsrr_file: Path, console: Console, r_replicates: int | None = None,
              seed: int = 20131) -> dict[str, Any]:
    chosen = [s for s in globals()["scenarios"]() if scenarios is None or s.number in scenarios]
    if quick:
        replicates = min(replicates, 4)
        chosen = chosen[:: max(1, len(chosen) // 4)][:4]
        timing_series = min(timing_series, 40)
        r_timing_series = min(r_timing_series, 8)
    r_reps = r_replicates if r_replicates is not None else (2 if quick else 4)
    rng = np.random.default_rng(seed)
    sims = [simulate(sc, rep, rng) for sc in chosen for rep in range(replicates)]
    console.print(f"simulated {len(sims)} series ({len(chosen)} scenarios x {replicates} "
                  "replicates)")
    why_no_r = r_available()
    if why_no_r:
        console.print(f"[yellow]R comparison skipped: {why_no_r}[/yellow]")

    ours: dict[str, list[Detection]] = {}
    our_secs: dict[str, float] = {}
    for algo in ALGORITHMS:
        t0 = time.perf_counter()
        ours[algo] = [run_ours(algo, s.counts) for s in sims]
        our_secs[algo] = time.perf_counter() - t0

    per_scenario: dict[str, dict[str, Any]] = {}
    for algo in ALGORITHMS:
        by_sc: dict[int, list[dict[str, float]]] = defaultdict(list)
        by_k: dict[int, list[dict[str, float]]] = defaultdict(list)
        for sim, det in zip(sims, ours[algo], strict=True):
            m = outbreak_metrics(sim, det)
            by_sc[sim.scenario].append(m)
            by_k[sim.k].append(m)
        per_scenario[algo] = {
            "by_scenario": {str(k): summarise(v) for k, v in sorted(by_sc.items())},
            "by_outbreak_size": {f"{k}sd": summarise(v) for k, v in sorted(by_k.items())},
            "overall": summarise([m for v in by_sc.values() for m in v])}

    # Agreement with R on the first r_reps replicates of every scenario.
    agreement: dict[str, Any] = {}
    r_info: dict[str, Any] = {"available": why_no_r is None, "reason": why_no_r}
    subset = [i for i, s in enumerate(sims) if s.replicate < r_reps]
    if why_no_r is None and subset:
        r_info["version"] = r_version()
        console.print(f"running R surveillance on {len(subset)} series...")
        res, r_secs, failed = run_r([sims[i].counts for i in subset], R_ALGORITHMS,
                                    MONITOR_FROM + 1)
        r_info["seconds"] = r_secs
        r_info["series"] = len(subset)
        r_info["failed"] = [f"{a} on series {subset[i]}" for a, i in failed]
        for algo in R_ALGORITHMS:
            pts = agree_n = 0
            maxrel = 0.0
            diffs: list[dict[str, Any]] = []
            t0 = time.perf_counter()
            for gi, i in enumerate(subset):
                det = run_ours(algo, sims[i].counts)
                for j, p in enumerate(det.index):
                    ra = res.get((algo, gi, int(p)))
                    if ra is None:
                        continue
                    pts += 1
                    mine = bool(det.alarm[j]) if det.defined[j] else None
                    if mine == ra[0]:
                        agree_n += 1
                    elif len(diffs) < 10:
                        diffs.append({"series": i, "week": int(p) + 1, "r_alarm": ra[0],
                                      "our_alarm": mine,
                                      "count": float(sims[i].counts[p]),
                                      "r_upperbound": ra[1],
                                      "our_upperbound": float(det.upperbound[j])})
                    ub = float(det.upperbound[j])
                    if np.isfinite(ra[1]) and np.isfinite(ub) and ra[1] != 0:
                        maxrel = max(maxrel, abs(ub - ra[1]) / abs(ra[1]))
            ours_subset = time.perf_counter() - t0
            agreement[algo] = {
                "points": pts, "agree": agree_n,
                "agreement": agree_n / pts if pts else float("nan"),
                "max_rel_upperbound_diff": maxrel, "differences": diffs,
                "ours_seconds": round(ours_subset, 3),
                "r_seconds": round(r_secs.get(algo, float("nan")), 3),
                "speedup": (r_secs.get(algo, float("nan")) / ours_subset
                            if ours_subset else float("nan"))}

    # Time for `timing_series` series: ours measured, R per series times that count.
    timing: dict[str, Any] = {}
    n_t = min(timing_series, len(sims))
    pool = [sims[i % len(sims)].counts for i in range(timing_series)]
    for algo in ALGORITHMS:
        t0 = time.perf_counter()
        for x in pool:
            run_ours(algo, x)
        timing[algo] = {"series": timing_series, "ours_seconds": round(time.perf_counter() - t0,
                                                                        2)}
    if why_no_r is None:
        r_pool = pool[:r_timing_series]
        _, r_t, _ = run_r(r_pool, R_ALGORITHMS, MONITOR_FROM + 1, workers=1)
        for algo in R_ALGORITHMS:
            per = r_t.get(algo, float("nan")) / len(r_pool)
            est = per * timing_series
            timing[algo].update(r_series_timed=len(r_pool),
                                r_seconds_estimated=round(est, 1),
                                ratio=round(est / timing[algo]["ours_seconds"], 1))
    del n_t

    vsrr = _vsrr(vsrr_file, console, why_no_r is None)

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "shared 2-core machine; other engineers' jobs ran at the same time"},
        "design": {"weeks": N_WEEKS, "monitored": "weeks 576-624",
                   "scenarios": [s.number for s in chosen], "replicates": replicates,
                   "current_outbreak_k": list(CURRENT_K), "seed": seed,
                   "r_replicates_per_scenario": r_reps},
        "r": r_info, "agreement": agreement, "quality": per_scenario,
        "timing": timing, "ours_seconds_all_series": {k: round(v, 2)
                                                      for k, v in our_secs.items()},
        "vsrr": vsrr,
    }
    _print(result, console)
    if out is not None:
        out.write_text(json.dumps(result, indent=2, default=str))
        console.print(f"results written to {out}")
    return result


def _print(result: dict[str, Any], console: Console) -> None:
    table = Table(title="Alarm agreement with R surveillance (same series)")
    for h in ("Algorithm", "Points", "Agree", "Max rel. diff upperbound", "Ours s", "R s",
              "Speed-up"):
        table.add_column(h)
    for algo, a in result["agreement"].items():
        table.add_row(algo, str(a["points"]), f"{a['agreement']:.4%}",
                      f"{a['max_rel_upperbound_diff']:.1e}", f"{a['ours_seconds']:.2f}",
                      f"{a['r_seconds']:.2f}", f"{a['speedup']:.0f}x")
    console.print(table)
    table = Table(title="Detection quality, all scenarios (weeks 576-624)")
    for h in ("Algorithm", "FPR", "POD", "Sensitivity", "Timeliness"):
        table.add_column(h)
    for algo, q in result["quality"].items():
        o = q["overall"]
        table.add_row(algo, f"{o['fpr']:.4f}", f"{o['pod']:.3f}", f"{o['sensitivity']:.3f}",
                      f"{o['timeliness']:.3f}")
    console.print(table)
    table = Table(title="Time for the timing series")
    for h in ("Algorithm", "Series", "Ours s", "R s (estimated)", "Ratio"):
        table.add_column(h)
    for algo, tm in result["timing"].items():
        table.add_row(algo, str(tm["series"]), str(tm["ours_seconds"]),
                      str(tm.get("r_seconds_estimated", "n/a")), str(tm.get("ratio", "n/a")))
    console.print(table)
