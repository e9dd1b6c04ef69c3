"""``binational bench identification``: correctness against dvir's answers, and speed.

1. Every DVI case of ``forensics/dvi`` (JSON and Familias): solved, timed, and compared with
   ``KNOWN_ANSWERS.json`` (dvir's published tables): best assignments exactly, log-likelihoods
   to the decimals printed there (and within 1e-6 where they have six or more), LRs,
   posterior pairing probabilities, pairwise LRs and undisputed identifications. Familias
   files are checked against their JSON twins (same log-likelihoods).
2. Attribute matching: 10,000 remains x 10,000 missing-person reports, best 10 with reasons
   for each remains (target: 60 s). A naive per-pair Python scorer on a sample gives the ratio.
3. Pairwise kinship LRs: 1,000 victims x 1,000 reference relatives on the NIST 1036 Hispanic
   loci (target: 60 s); the exact pedigree engine on a sample checks the values and gives the
   ratio.

dvir, pedprobr and Familias (R / Windows) cannot be installed here (no CRAN), so their
published numbers are the comparison, not their run times.
"""

from __future__ import annotations

import json
import math
import os
import platform as pyplatform
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from binational.identification.dna.case import load_case
from binational.identification.dna.dvi import DviResult, DviSolver

TARGET_SECONDS = 60.0
# Ch4-table-4-4 holds KETPchap481's persons under pedigree hypotheses, H1 being its best.
KINSHIP_TWINS = {"Ch4-table-4-4.fam": "KETPchap481.json"}
TWINS = {
    "dvi-example.fam": "example1.json",
    "KETPex497.fam": "KETPexer497.json",
    "KETPex498.fam": "KETPexer498.json",
}


def _decimals(x: float) -> int:
    text = repr(float(x))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 6


def _close_printed(ours: float, known: float) -> bool:
    """Equal at the precision the known value is printed with (and 1e-6 at most)."""
    d = _decimals(known)
    return abs(ours - known) <= max(0.5 * 10 ** (-d), 1e-12) + 1e-9 and (
        d < 6 or abs(ours - known) <= 1e-6
    )


def check_known(
    name: str, result: DviResult, solver: DviSolver, known: dict[str, Any]
) -> list[str]:
    """Differences from the known answers (empty: all agree)."""
    bad: list[str] = []
    k = known.get(name)
    if k is None:
        return bad
    if "best_assignment" in k and result.best != k["best_assignment"]:
        bad.append(f"best assignment {result.best} != {k['best_assignment']}")
    if "best_joint_assignment" in k and result.best != k["best_joint_assignment"]:
        bad.append(f"best assignment {result.best} != {k['best_joint_assignment']}")
    if "loglik_best" in k and not _close_printed(result.best_loglik, k["loglik_best"]):
        bad.append(f"loglik {result.best_loglik} != {k['loglik_best']}")
    if "best_LR_vs_null" in k and not math.isclose(
        result.lr(0), k["best_LR_vs_null"], rel_tol=1e-9
    ):
        bad.append(f"LR {result.lr(0)} != {k['best_LR_vs_null']}")
    if "runner_up_LR_vs_null" in k and not math.isclose(
        result.lr(1), k["runner_up_LR_vs_null"], rel_tol=1e-9
    ):
        bad.append(f"runner-up LR {result.lr(1)} != {k['runner_up_LR_vs_null']}")
    if "n_assignments" in k and result.n_total != k["n_assignments"]:
        # dvir counts every assignment the pairings allow, impossible ones included.
        bad.append(f"{result.n_total} assignments != {k['n_assignments']}")
    for i, row in enumerate(k.get("joint_table_top10", [])):
        vics = [v for v in row if v not in ("loglik", "LR_vs_null")]
        if result.rows[i] != {v: row[v] for v in vics}:
            bad.append(f"row {i + 1}: {result.rows[i]} != {row}")
        if not _close_printed(result.logliks[i], row["loglik"]):
            bad.append(f"row {i + 1} loglik {result.logliks[i]} != {row['loglik']}")
        if not math.isclose(result.lr(i), row["LR_vs_null"], rel_tol=1e-9):
            bad.append(f"row {i + 1} LR {result.lr(i)} != {row['LR_vs_null']}")
    for v, probs in k.get("posterior_pairing_probs_flat_prior", {}).items():
        for m, p in probs.items():
            if abs(result.posterior[v][m] - p) > 5e-9:
                bad.append(f"posterior {v}={m} {result.posterior[v][m]} != {p}")
    for v, row in k.get("pairwise_LR_matrix", {}).items():
        for m, x in row.items():
            got = result.pairwise[v][m]
            if (x is None) != (got is None) or (
                x is not None
                and got is not None
                and not math.isclose(got, x, rel_tol=1e-9, abs_tol=1e-12)
            ):
                bad.append(f"pairwise LR {v}={m} {got} != {x}")
    for key, rows in k.get("findUndisputed", {}).items():
        threshold = float(key.split("_")[1])
        found = solver.find_undisputed(solver.pairings(), threshold)
        seen = [(u.missing, u.victim, u.step) for u in found]
        want = [(r["missing"], r["sample"], r["step"]) for r in rows]
        lrs_ok = all(
            math.isclose(u.lr, r["LR"], rel_tol=1e-9) for u, r in zip(found, rows, strict=False)
        )
        if seen != want or not lrs_ok:
            bad.append(f"undisputed at {threshold:g}: {seen} != {want}")
    truth = k.get("truth")
    if truth:
        for v, m in truth.items():
            if m.startswith("M") and result.best.get(v) != m:
                bad.append(f"truth {v}={m}, best has {result.best.get(v)}")
    return bad


def run_dvi(folder: Path, console: Console) -> list[dict[str, Any]]:
    known = json.loads((folder / "KNOWN_ANSWERS.json").read_text())
    out: list[dict[str, Any]] = []
    results: dict[str, DviResult] = {}
    # JSON cases first, so each Familias file can be checked against its JSON twin.
    paths = sorted(folder.iterdir(), key=lambda p: (p.suffix != ".json", p.name))
    for path in paths:
        if path.suffix not in (".json", ".fam") or path.name == "KNOWN_ANSWERS.json":
            continue
        entry: dict[str, Any] = {"case": path.name}
        t0 = time.perf_counter()
        if path.suffix == ".fam" and "[DVI]" not in path.read_text(errors="replace").splitlines():
            out.append(_kinship_case(path, results, t0))
            continue
        try:
            case = load_case(path)
            solver = DviSolver(case)
            result = solver.solve()
        except Exception as exc:  # a case we cannot read is reported, not fatal
            entry.update(status="error", error=str(exc), seconds=time.perf_counter() - t0)
            out.append(entry)
            continue
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        results[path.name] = result
        diffs = check_known(path.stem, result, solver, known) if path.suffix == ".json" else []
        twin = TWINS.get(path.name)
        if twin and twin in results:
            other = results[twin]
            if other.n_assignments != result.n_assignments or any(
                abs(a - b) > 1e-6 for a, b in zip(other.logliks, result.logliks, strict=False)
            ):
                diffs.append(f"differs from its JSON twin {twin}")
        entry.update(
            status=(
                "known answers agree"
                if path.stem in known and not diffs
                else "MISMATCH"
                if diffs
                else f"same as {twin}"
                if twin and twin in results
                else "solved (no known answer)"
            ),
            differences=diffs,
            victims=len(result.victims),
            missing=len(result.missing),
            assignments=result.n_assignments,
            loglik=result.best_loglik,
            lr=result.lr(0),
            best=result.best,
            twin=twin,
            reduced=result.reduced_by_undisputed,
        )
        out.append(entry)
    return out


def _kinship_case(path: Path, results: dict[str, DviResult], t0: float) -> dict[str, Any]:
    """A Familias kinship file: the likelihood of each pedigree hypothesis."""
    from binational.identification.dna.familias import load_fam_hypotheses
    from binational.identification.dna.likelihood import loglik

    try:
        hyp = load_fam_hypotheses(path)
        lls = [loglik(p, hyp.markers) for p in hyp.pedigrees]
    except Exception as exc:  # reported, not fatal
        return {
            "case": path.name,
            "status": "error",
            "error": str(exc),
            "seconds": time.perf_counter() - t0,
        }
    best = max(range(len(lls)), key=lambda k: lls[k])
    diffs = []
    twin = KINSHIP_TWINS.get(path.name)
    if twin and twin in results and abs(results[twin].best_loglik - lls[0]) > 1e-6:
        diffs.append(f"H1 loglik {lls[0]} differs from {twin}'s best {results[twin].best_loglik}")
    return {
        "case": path.name,
        "seconds": round(time.perf_counter() - t0, 3),
        "status": "MISMATCH" if diffs else f"kinship: {len(lls)} hypotheses",
        "differences": diffs,
        "victims": "",
        "missing": "",
        "assignments": len(lls),
        "loglik": lls[best],
        "lr": math.exp(lls[best] - lls[0]),
        "best": hyp.pedigrees[best].name,
        "twin": twin,
    }


def _naive_score(r: Any, m: Any) -> float:
    from binational.identification.matching import explain

    return float(sum(x["points"] for x in explain(r, m)))


def run_matching(n: int, console: Console) -> dict[str, Any]:
    from binational.identification.matching import Description, rank
    from binational.identification.synthetic import world

    w = world(n, seed=99, planted=n // 10)

    def desc(d: dict[str, Any], kind: str) -> Description:
        if kind == "r":
            return Description(
                d["id"],
                d["sex"],
                d["age_min"],
                d["age_max"],
                d["stature_min_cm"],
                d["stature_max_cm"],
                date.fromisoformat(d["found_on"]),
                d["state"],
                d["codes"],
            )
        return Description(
            d["id"],
            d["sex"],
            d["age"],
            d["age"],
            d["stature_cm"],
            d["stature_cm"],
            date.fromisoformat(d["disappeared_on"]),
            d["state"],
            d["codes"],
        )

    remains = [desc(r, "r") for r in w.remains]
    missing = [desc(m, "m") for m in w.missing]
    t0, c0 = time.perf_counter(), time.process_time()
    ranked = rank(remains, missing, top=10)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    top1 = sum(1 for r, m in w.truth.items() if ranked[r] and ranked[r][0].id == m)
    top10 = sum(1 for r, m in w.truth.items() if m in {c.id for c in ranked[r]})
    # The naive baseline: the per-pair Python scorer on a sample of remains.
    sample = remains[: max(1, min(20, n // 500))]
    t1 = time.perf_counter()
    for r in sample:
        for m in missing:
            _naive_score(r, m)
    naive = (time.perf_counter() - t1) / len(sample) * len(remains)
    return {
        "remains": n,
        "missing": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "target_seconds": TARGET_SECONDS,
        "met": seconds <= TARGET_SECONDS,
        "planted": len(w.truth),
        "top1": top1,
        "top10": top10,
        "naive_python_seconds_extrapolated": round(naive, 1),
        "speedup_vs_naive": round(naive / seconds, 1) if seconds else None,
    }


def run_kinship(n: int, freq_file: Path, console: Console) -> dict[str, Any]:
    from binational.identification.dna.kinship import (
        RELATIVE_TO_RELATIONSHIP,
        load_frequencies,
        pairwise_lr,
    )
    from binational.identification.synthetic import relative_pair

    db = load_frequencies(freq_file, "NIST1036_rev2017", "Hisp")
    loci = sorted(db.loci)
    rng = random.Random(5)  # noqa: S311 - fictional data
    victims, refs, rels = [], [], []
    for _ in range(n):
        relation = rng.choice(["mother", "father", "sister", "brother", "son", "daughter"])
        person, rel = relative_pair(rng, relation, db, loci)
        victims.append(person)
        refs.append(rel)
        rels.append(RELATIVE_TO_RELATIONSHIP[relation])
    t0, c0 = time.perf_counter(), time.process_time()
    lr = pairwise_lr(victims, refs, rels, db)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    true = np.diag(lr)
    off = lr[~np.eye(n, dtype=bool)]
    check = _peeling_check(victims[:5], refs[:5], rels[:5], db, lr[:5, :5])
    return {
        "victims": n,
        "references": n,
        "loci": len(loci),
        "cpu_seconds": round(cpu, 2),
        "seconds": round(seconds, 2),
        "target_seconds": TARGET_SECONDS,
        "met": seconds <= TARGET_SECONDS,
        "true_relatives_lr_above_10000": int((true >= 1e4).sum()),
        "unrelated_pairs_lr_above_10000": int((off >= 1e4).sum()),
        **check,
        "peeling_seconds_extrapolated": round(check["peeling_seconds_per_pair"] * n * n, 1),
        "speedup_vs_peeling": round(check["peeling_seconds_per_pair"] * n * n / seconds, 1)
        if seconds
        else None,
    }


def _peeling_check(
    victims: list[Any], refs: list[Any], rels: list[str], db: Any, fast: np.ndarray
) -> dict[str, Any]:
    """The same LRs from the exact pedigree engine (parent-child and full siblings)."""
    from binational.identification.dna.case import DviCase
    from binational.identification.dna.markers import Marker
    from binational.identification.dna.pedigree import FEMALE, MALE, Pedigree, Person

    loci = sorted(db.loci)
    markers = []
    for lc in loci:
        alleles = sorted(db.loci[lc])
        extra = {a for p in victims + refs for a in p.get(lc, ()) if a not in db.loci[lc]}
        freqs = [db.loci[lc][a] for a in alleles]
        markers.append(
            Marker(
                lc,
                alleles + sorted(extra),
                np.array(freqs + [db.min_frequency] * len(extra))
                / (sum(freqs) + db.min_frequency * len(extra)),
            )
        )
    fams, missing = [], []
    for j, (ref, rel) in enumerate(zip(refs, rels, strict=True)):
        if rel == "parent-child":
            people = [
                Person(f"R{j}", sex=MALE, genotypes=dict(ref)),
                Person(f"W{j}", sex=FEMALE),
                Person(f"M{j}", f"R{j}", f"W{j}", MALE),
            ]
        else:
            people = [
                Person(f"F{j}", sex=MALE),
                Person(f"W{j}", sex=FEMALE),
                Person(f"R{j}", f"F{j}", f"W{j}", MALE, dict(ref)),
                Person(f"M{j}", f"F{j}", f"W{j}", MALE),
            ]
        fams.append(Pedigree(people, name=f"F{j}"))
        missing.append(f"M{j}")
    vics = [Person(f"V{i}", sex=MALE, genotypes=dict(v)) for i, v in enumerate(victims)]
    case = DviCase("kinship-check", markers, vics, fams, missing)
    t0 = time.perf_counter()
    solver = DviSolver(case)
    slow = solver.pairwise_lr({v.id: list(missing) for v in vics})
    per_pair = (time.perf_counter() - t0) / (len(vics) * len(missing))
    # The frequency floor is renormalised in the pedigree markers: compare in log space.
    worst = 0.0
    for i in range(len(vics)):
        for j in range(len(missing)):
            a, b = fast[i, j], slow[f"V{i}"][f"M{j}"] or 0.0
            if a > 0 and b > 0:
                worst = max(worst, abs(math.log(a) - math.log(b)))
            elif (a > 0) != (b > 0):
                worst = math.inf
    return {"peeling_seconds_per_pair": per_pair, "max_abs_log_lr_difference": worst}


def run_identification(*, quick: bool, out: Path | None, console: Console, data_dir: Path) -> bool:
    folder = data_dir / "forensics" / "dvi"
    freq = data_dir / "forensics" / "allele_frequencies" / "str_allele_frequencies_long.csv"
    started = datetime.now(UTC)
    cases = run_dvi(folder, console)
    table = Table(title="DVI cases (dvir's known answers)")
    for col in ("case", "VxM", "rows", "best loglik", "LR", "s", "status"):
        table.add_column(col, no_wrap=col != "status")
    short = {"known answers agree": "agree", "solved (no known answer)": "no known answer"}
    for c in cases:
        table.add_row(
            c["case"],
            f"{c.get('victims', '')}x{c.get('missing', '')}",
            str(c.get("assignments", "")),
            f"{c['loglik']:.6f}" if "loglik" in c else "",
            f"{c['lr']:.4g}" if "lr" in c else "",
            f"{c['seconds']:.2f}",
            short.get(c["status"], c["status"]),
        )
    console.print(table)
    for c in cases:
        for d in c.get("differences") or []:
            console.print(f"[red]{c['case']}: {d}[/red]")
        if c["status"] == "error":
            console.print(f"[red]{c['case']}: {c['error']}[/red]")
    n_match = 500 if quick else 10_000
    n_kin = 100 if quick else 1_000
    matching = run_matching(n_match, console)
    kinship = run_kinship(n_kin, freq, console)
    t2 = Table(title="Scale (2-core machine shared with other work)")
    for col in ("benchmark", "size", "s", "cpu s", "target", "baseline s", "ratio"):
        t2.add_column(col, no_wrap=True)
    for name, size, res, base, ratio in (
        (
            "matching",
            n_match,
            matching,
            f"{matching['naive_python_seconds_extrapolated']} naive",
            matching["speedup_vs_naive"],
        ),
        (
            "kinship LR",
            n_kin,
            kinship,
            f"{kinship['peeling_seconds_extrapolated']} peeling",
            kinship["speedup_vs_peeling"],
        ),
    ):
        t2.add_row(
            name,
            f"{size:,}x{size:,}",
            f"{res['seconds']:.2f}",
            f"{res['cpu_seconds']:.2f}",
            "60 " + ("met" if res["met"] else "MISSED"),
            base,
            f"{ratio}x",
        )
    console.print(t2)
    console.print(
        f"matching: planted {matching['planted']}, top-1 {matching['top1']}, "
        f"top-10 {matching['top10']}; kinship: true relatives with LR >= 10,000: "
        f"{kinship['true_relatives_lr_above_10000']}/{n_kin}, unrelated pairs above: "
        f"{kinship['unrelated_pairs_lr_above_10000']}; closed form vs peeling: max "
        f"|log LR| difference {kinship['max_abs_log_lr_difference']:.2e}"
    )
    ok = all(c["status"] != "MISMATCH" and c["status"] != "error" for c in cases)
    report = {
        "benchmark": "identification",
        "started": started.isoformat(),
        "quick": quick,
        "machine": {
            "python": pyplatform.python_version(),
            "platform": pyplatform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "dvi_cases": cases,
        "attribute_matching": matching,
        "kinship": kinship,
        "peers": "dvir/pedprobr/Familias are R/Windows programs that cannot be installed "
        "here (no CRAN); their published answers (KNOWN_ANSWERS.json) are compared",
        "all_known_answers_agree": ok,
    }
    if out is not None:
        out.write_text(json.dumps(report, indent=2, default=str))
        console.print(f"results written to {out}")
    return ok
