"""The screening benchmark runs end to end on the shared public data and reports consistent
counts and metrics (timings are not tested: targets belong in ``binational bench screening``)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from rich.console import Console

from binational.screening.bench import (
    Case,
    Top,
    hispanic_variants,
    metrics,
    run_screening,
    split_person,
)

# The shared data lies beside the repository (../shared/data), as on CI.
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_split_person_and_variants() -> None:
    assert split_person("DE LA TORRE GARCIA, Jose Maria") == (["de la Torre", "Garcia"],
                                                             ["Jose", "Maria"])
    assert split_person("ACME TRADING LTD") is None
    variants = hispanic_variants("GUZMAN LOERA, Jose Maria", random.Random(1))
    assert variants["order"] == "Jose Maria Guzman Loera"
    assert variants["drop_maternal"] == "Jose Maria Guzman"
    assert variants["accents"] == "José María Guzmán Loera"
    assert variants["given_short"] == "Jose Guzman Loera"
    for kind in ("spelling", "typo", "combined"):
        assert variants[kind] != variants["order"]


def test_metrics_counts_top1() -> None:
    cases = [Case("a", "Person", "alias:related", "ofac-1"),
             Case("b", "Person", "alias:related", "ofac-2"),
             Case("c", "Person", "negative:febrl", None),
             Case("d", "Person", "negative:febrl", None)]
    tops = [Top("ofac-1", 0.9), Top("ofac-3", 0.8), Top("ofac-1", 0.75), Top(None, 0.0)]
    m = metrics(cases, tops, 0.7)
    assert (m["true_positives"], m["false_positives"]) == (1, 2)
    assert m["recall"] == 0.5
    assert m["precision"] == round(1 / 3, 4)
    assert metrics(cases, tops, 0.95)["precision"] == 1.0  # nothing flagged


def test_run_screening_quick(tmp_path: Path) -> None:
    if not DATA_DIR.is_dir():
        pytest.skip(f"the shared public data is not at {DATA_DIR}")
    out = tmp_path / "screening.json"
    buf = io.StringIO()
    result = run_screening(quick=True, out=out, console=Console(file=buf, width=200),
                           data_dir=DATA_DIR)

    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert "binational bench screening" in buf.getvalue()
    assert result["quick"] is True
    for key in ("platform", "cpu", "cores", "python"):
        assert result["machine"][key]
    assert result["data"]["sdn_2021_entries"] > 8_000

    q = result["quality"]
    counts = q["queries"]
    kinds = set(counts)
    assert {"alias:related", "negative:febrl", "negative:mx_common",
            "negative:mx_recombined", "negative:company"} <= kinds
    assert {f"hispanic:{k}" for k in ("order", "drop_maternal", "typo", "spelling")} <= kinds
    assert q["entities_indexed"] == result["data"]["sdn_2021_entries"]
    total = sum(counts.values())
    negatives = sum(n for k, n in counts.items() if k.startswith("negative:"))

    def check(m: dict[str, object], queries: int) -> None:
        assert m["queries"] == queries
        for key in ("recall", "precision", "f1", "top1_right_any_score"):
            value = m[key]
            assert isinstance(value, float) and 0.0 <= value <= 1.0, (key, value)

    for algo in (q["ours"], *q["peers_on_our_candidates"].values()):
        check(algo["all"], total)
        assert algo["all"]["negatives"] == negatives
        unrelated = counts.get("alias:unrelated", 0)
        check(algo["name_variants"], total - unrelated)
        assert set(algo["by_kind"]) == kinds
    assert set(q["peers_on_our_candidates"]) == {"logic-v2", "ofac"}
    for peer in q["peers_on_our_candidates"].values():
        assert peer["timing"]["comparisons"] > 0
    assert 0.0 <= q["candidates"]["retrieval_recall"] <= 1.0
    assert q["ours"]["latency"]["n"] == total

    bf = q["brute_force"]
    assert bf["queries"] == result["sizes"]["brute_queries"]
    for name in ("logic-v2", "ofac"):
        check(bf[name]["all"], bf["queries"])
        # Brute force compares each query with every listed entity.
        assert bf[name]["timing"]["comparisons"] == bf["queries"] * q["entities_indexed"]

    speed = result["speed"]
    assert speed["entries"] == result["sizes"]["full_entries"]
    assert speed["entities_indexed"] == speed["entries"]
    assert speed["latency"]["n"] == result["sizes"]["latency_queries"]
    assert speed["batch"]["names"] == result["sizes"]["batch_names"]
    assert speed["batch"]["extrapolated"] is False
    assert all(isinstance(c["met"], bool) for c in result["checks"])
