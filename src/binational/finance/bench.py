"""``binational bench finance``: detection quality on AMLSim, feature and cycle-search speed,
and a generated graph end to end.

Quality, per AMLSim sample, on a temporal split: transactions before the 60% time quantile
are the training period, the rest the test period; accounts are also split in two halves by
a hash of their id, so that a test account was never seen in training, in either period.
Training features come only from the training period. A test account is scored at the end of
the test period with features of all its transactions up to then (as a monitoring system
would), and, for comparison, with features of the test period alone. Precision, recall and
F1 are per account, among the accounts active in the test period, for the rules alone, the
model alone, both (the alert score), and a LightGBM baseline on plain per-account aggregates
trained the same way; every threshold is chosen on the training half's out-of-fold
predictions.

Speed runs on one thread (NumPy and the numba loop are single-threaded), so edges/s is per
core. The end-to-end run generates the graph, writes it as an AMLSim folder, reads and
checks it back, computes features, cycles and rules, trains and scores, in a child process
whose peak memory (ru_maxrss) is reported.
"""

from __future__ import annotations

import json
import os
import platform as pyplatform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from binational.finance.cycles import temporal_cycles
from binational.finance.features import (
    amount_features,
    graph_features,
    plain_features,
    windowed_features,
)
from binational.finance.formats import read_amlsim
from binational.finance.generate import synthetic
from binational.finance.graph import DAY, Graph, from_frame
from binational.finance.model import combine, folds, prf, score_graph, train
from binational.finance.rules import config_for

SAMPLES = ("20K_fanin200", "20K_cycle200")
SPLIT = 0.6
TARGETS = {"f1": 0.90, "windowed_edges_per_s": 1_000_000, "cycle_edges_per_s": 100_000}


def _graph_of(folder: Path) -> tuple[Graph, np.ndarray[Any, np.dtype[np.bool_]], int]:
    loaded = read_amlsim(folder)
    frame = loaded.transactions.select("source", "target", "amount_usd", "ts")
    accounts = loaded.accounts["account"].to_list()
    g = from_frame(frame, accounts)
    label = dict(zip(accounts, loaded.accounts["is_fraud"].to_list(), strict=True))
    y = np.array([bool(label.get(a)) for a in g.accounts.tolist()])
    return g, y, len(loaded.errors)


def _active(part: Graph) -> np.ndarray[Any, np.dtype[np.bool_]]:
    deg = np.bincount(part.src, minlength=part.n_accounts) + np.bincount(
        part.dst, minlength=part.n_accounts)
    return np.asarray(deg > 0)


def quality(folder: Path) -> dict[str, Any]:
    """Rules, model, both and the plain baseline on one sample's temporal split.

    Training always sees the training period only. The test accounts are scored twice:
    with features of all their transactions up to the scoring time (the end of the test
    period; what a monitoring system has), the headline figures, and with features of the
    test period alone (the earlier protocol, ``test_window_only``)."""
    cfg = config_for("US")
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    g, y, bad_rows = _graph_of(folder)
    load_s = time.perf_counter() - t0
    split = int(np.quantile(g.ts, SPLIT))
    train_g = g.window(None, split)
    tests = {"history": g, "test_window_only": g.window(split, None)}
    ids = [str(a) for a in g.accounts.tolist()]
    half = folds(ids, 2)
    t0 = time.perf_counter()
    s_tr = score_graph(train_g, cfg)
    scored = {k: score_graph(v, cfg) for k, v in tests.items()}
    feature_s = time.perf_counter() - t0
    tr = (half == 0) & _active(train_g)
    # the same test accounts under both protocols: active in the test period
    te = (half == 1) & _active(tests["test_window_only"])
    tr_ids = [i for i, k in zip(ids, tr, strict=True) if k]
    t0 = time.perf_counter()
    model = train(s_tr.features[tr], y[tr], s_tr.rules.score[tr], s_tr.names, tr_ids)
    train_s = time.perf_counter() - t0
    pn, px_tr = plain_features(train_g)
    base = train(px_tr[tr], y[tr], np.zeros(int(tr.sum())), pn, tr_ids)
    yt = y[te]
    # Diagnostic (labels only counted, never features): how many test positives and
    # negatives made or received a small transfer by scoring time. A labelled account with
    # none behaves like an ordinary one, which bounds the recall a precise detector can reach.
    an, ax = amount_features(g)
    small = (ax[:, an.index("out_small_count")] + ax[:, an.index("in_small_count")]) > 0
    results: dict[str, dict[str, Any]] = {}
    for name, s_te in scored.items():
        p = model.predict(s_te.features[te])
        r = s_te.rules.score[te]
        pb = base.predict(plain_features(tests[name])[1][te])
        results[name] = {
            "rules": prf(yt, r >= cfg.flag_at),
            "model": prf(yt, p >= model.threshold),
            "both": prf(yt, combine(p, r) >= model.combined_threshold),
            "baseline_plain_lgbm": prf(yt, pb >= base.threshold),
            "rule_hits_test": {k: int(v[te].sum()) for k, v in s_te.rules.hits.items()}}
    return {
        "sample": folder.name, "accounts": g.n_accounts, "transactions": g.n_edges,
        "bad_rows_reported": bad_rows, "split_time_step": (split - g.ts[0]) // DAY,
        "train_accounts": int(tr.sum()), "train_positives": int(y[tr].sum()),
        "test_accounts": int(te.sum()), "test_positives": int(yt.sum()),
        "test_positives_inactive": int((y & (half == 1) & ~te).sum()),
        "test_positives_with_small_transfers": int((small[te] & yt).sum()),
        "test_negatives_with_small_transfers": int((small[te] & ~yt).sum()),
        "oof_f1_model": model.metrics["oof_f1_model"],
        "oof_f1_baseline": base.metrics["oof_f1_model"],
        **results["history"], "test_window_only": results["test_window_only"],
        "seconds": {"load_and_check": round(load_s, 2), "features_rules_cycles":
                    round(feature_s, 2), "train": round(train_s, 2)},
        "cpu_seconds": round(time.process_time() - cpu0, 2),
    }


def throughput(n_edges: int, repeat: int = 3) -> dict[str, Any]:
    """Edges/s of the windowed aggregations and of the cycle search, one thread."""
    syn = synthetic(max(n_edges // 10, 100), n_edges, days=60, seed=11)
    g = syn.graph(epoch=1_700_000_000)
    temporal_cycles(synthetic(50, 200, seed=1).graph(), window=DAY)  # compile outside
    best: dict[str, tuple[float, float]] = {}
    cycles = truncated = 0

    def timed(name: str, fn: Any) -> Any:
        # CPU time of this (single-threaded) process is the time of the one core it used;
        # wall time is also kept, but on a shared machine it counts the others' load too.
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        spent = (time.process_time() - cpu, time.perf_counter() - wall)
        old = best.get(name, (float("inf"), float("inf")))
        best[name] = (min(old[0], spent[0]), min(old[1], spent[1]))
        return result

    for _ in range(repeat):
        timed("windowed", lambda: windowed_features(g, counterparties=False))
        timed("all_features", lambda: graph_features(g))
        timed("plain", lambda: plain_features(g))
        res = timed("cycle", lambda: temporal_cycles(g, window=DAY, max_len=6))
        cycles, truncated = res.cycles, res.truncated
    out: dict[str, Any] = {"edges": g.n_edges, "accounts": g.n_accounts}
    for name, (cpu, wall) in best.items():
        out[f"{name}_cpu_seconds"] = round(cpu, 3)
        out[f"{name}_wall_seconds"] = round(wall, 3)
        out[f"{name}_edges_per_s"] = round(g.n_edges / max(cpu, 1e-9))
        out[f"{name}_edges_per_s_wall"] = round(g.n_edges / max(wall, 1e-9))
    return {**out, "cycles_found": cycles, "cycle_starts_truncated": truncated,
            "cycle_window_s": DAY, "cycle_max_len": 6}


def end_to_end(n_edges: int, workdir: Path, progress: Path | None = None) -> dict[str, Any]:
    """In this process: generate, write, read and check, features, rules, train, score.
    With ``progress``, a JSON line per finished step (so a run cut off still tells)."""
    steps: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clock = [time.perf_counter(), time.process_time()]

    def done(step: str) -> None:
        steps[step] = time.perf_counter() - clock[0]
        cpu[step] = time.process_time() - clock[1]
        if progress is not None:
            with progress.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": step, "wall_s": round(steps[step], 2),
                                     "cpu_s": round(cpu[step], 2), "peak_rss_mib": _rss()})
                         + "\n")
        clock[0], clock[1] = time.perf_counter(), time.process_time()

    n_accounts = max(n_edges // 10, 100)
    syn = synthetic(n_accounts, n_edges, days=90, seed=5)
    done("generate")
    folder = workdir / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    order = np.argsort(syn.ts, kind="stable")
    pl.DataFrame({"nodeid": np.arange(n_accounts), "isFraud": syn.fraud.astype(np.int8),
                  "init_balance": np.full(n_accounts, 100.0),
                  "fraudStep": np.full(n_accounts, -1)}).write_csv(folder / "nodes.csv")
    pl.DataFrame({"sourceNodeId": syn.src[order], "targetNodeId": syn.dst[order],
                  "value": np.round(syn.amount[order], 2),
                  "time": syn.ts[order] // DAY}).write_csv(folder / "transactions.csv")
    del order, syn
    done("write_amlsim_csv")
    g, y, bad = _graph_of(folder)
    done("read_and_check")
    cfg = config_for("US")
    scored = score_graph(g, cfg)
    done("features_cycles_rules")
    ids = [str(i) for i in range(g.n_accounts)]
    half = folds(ids, 2)
    tr = half == 0
    model = train(scored.features[tr], y[tr], scored.rules.score[tr], scored.names,
                  [i for i, k in zip(ids, tr, strict=True) if k])
    done("train")
    p = combine(model.predict(scored.features), scored.rules.score)
    flagged = p >= model.combined_threshold
    done("score")
    return {"edges": g.n_edges, "accounts": g.n_accounts, "bad_rows_reported": bad,
            "cycles": scored.cycles.cycles, "cycle_starts_truncated": scored.cycles.truncated,
            "flagged": int(flagged.sum()),
            "quality_on_half_not_trained": prf(y[~tr], flagged[~tr]),
            "steps_seconds": {k: round(v, 2) for k, v in steps.items()},
            "steps_cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
            "total_seconds": round(sum(steps.values()), 2),
            "total_cpu_seconds": round(sum(cpu.values()), 2),
            "peak_rss_mib": _rss()}


def _rss() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _child_end_to_end(n_edges: int, timeout: float) -> dict[str, Any]:
    """Run ``end_to_end`` in a child process limited to 2 threads; its own peak memory."""
    env = {**os.environ, "POLARS_MAX_THREADS": "2", "OMP_NUM_THREADS": "2",
           "NUMBA_NUM_THREADS": "2"}
    with tempfile.TemporaryDirectory(prefix="bn-fin-bench-") as tmp:
        code = ("import json, sys; from pathlib import Path; "
                "from binational.finance.bench import end_to_end; "
                f"print(json.dumps(end_to_end({n_edges}, Path(sys.argv[1]))))")
        try:
            done = subprocess.run([sys.executable, "-c", code, tmp], env=env,  # noqa: S603
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"edges": n_edges, "error": f"did not finish within {timeout:.0f}s"}
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        return {"edges": n_edges, "error": f"exit {done.returncode}: {' | '.join(tail)}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_finance(*, quick: bool, out: Path | None, console: Console, data_dir: Path,
                scale: int = 10_000_000) -> dict[str, Any]:
    started = datetime.now(UTC)
    amlsim = data_dir / "finance" / "amlsim"
    report: dict[str, Any] = {
        "benchmark": "finance", "started": started.isoformat(), "quick": quick,
        "machine": {"cores": os.cpu_count(), "python": pyplatform.python_version(),
                    "load_average": os.getloadavg()},
        "targets": TARGETS}
    samples = [amlsim / s for s in SAMPLES if (amlsim / s).is_dir()]
    if quick:
        samples = samples[:1]
    console.print(f"AMLSim quality on {len(samples)} sample(s), temporal split at "
                  f"{SPLIT:.0%}...")
    report["quality"] = [quality(s) for s in samples]
    _write(out, report)
    n = 200_000 if quick else 2_000_000
    console.print(f"throughput on a generated graph of {n:,} edges (one thread)...")
    report["throughput"] = throughput(n, repeat=1 if quick else 3)
    _write(out, report)
    sizes = [s for s in ([200_000] if quick else [1_000_000, scale]) if 0 < s <= scale] \
        if scale else []
    report["end_to_end"] = []
    for size in sizes:
        console.print(f"end to end on {size:,} generated transactions (child process, "
                      "2 threads)...")
        report["end_to_end"].append(_child_end_to_end(size, timeout=3_000))
        _write(out, report)
    report["finished"] = datetime.now(UTC).isoformat()
    _write(out, report)
    _print(console, report)
    return report


def _write(out: Path | None, report: dict[str, Any]) -> None:
    if out is not None:
        out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


def _print(console: Console, report: dict[str, Any]) -> None:
    table = Table(title="AMLSim, temporal split: account-level precision / recall / F1")
    for col in ("Sample", "Method", "Precision", "Recall", "F1", "F1 / target"):
        table.add_column(col)
    for q in report["quality"]:
        for protocol, res in (("history", q), ("window only", q["test_window_only"])):
            for method in ("rules", "model", "both", "baseline_plain_lgbm"):
                m = res[method]
                table.add_row(q["sample"], f"{method} ({protocol})", f"{m['precision']:.3f}",
                              f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                              f"{m['f1'] / TARGETS['f1']:.2f}")
    console.print(table)
    tp = report["throughput"]
    speed = Table(title=f"Throughput, one thread, {tp['edges']:,} generated edges")
    for col in ("What", "CPU s", "Wall s", "Edges/s per core (CPU)", "Edges/s (wall)",
                "Target", "Ratio"):
        speed.add_column(col)
    for name, label, target in (("windowed", "windowed aggregations",
                                 TARGETS["windowed_edges_per_s"]),
                                ("plain", "plain aggregates", 0),
                                ("all_features", "all model features (no cycles)", 0),
                                ("cycle", "cycle search (1 day, <= 6)",
                                 TARGETS["cycle_edges_per_s"])):
        rate = tp[f"{name}_edges_per_s"]
        speed.add_row(label, str(tp[f"{name}_cpu_seconds"]), str(tp[f"{name}_wall_seconds"]),
                      f"{rate:,}", f"{tp[f'{name}_edges_per_s_wall']:,}",
                      f"{target:,}" if target else "", f"{rate / target:.2f}" if target else "")
    console.print(speed)
    for e2e in report["end_to_end"]:
        if "error" in e2e:
            console.print(f"end to end, {e2e['edges']:,} edges: {e2e['error']}", markup=False)
        else:
            console.print(f"end to end, {e2e['edges']:,} edges: {e2e['total_seconds']}s, peak "
                          f"{e2e['peak_rss_mib']:,} MiB; steps {e2e['steps_seconds']}",
                          markup=False)
