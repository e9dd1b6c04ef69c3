"""The core benchmark runs end to end and reports consistent counts (timings are not tested:
performance targets belong in ``binational bench core``, never in unit tests)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from binational.core.bench import make_entities, percentile, run_core, statement_count


def test_make_entities_counts_statements() -> None:
    entities, total = make_entities(1_000, 7, "t", "mx")
    assert total >= 1_000
    assert total == sum(statement_count(e) for e in entities)
    assert all(5 <= statement_count(e) <= 8 for e in entities)
    assert {e["schema"] for e in entities} == {"Person", "Company"}
    assert len({e["id"] for e in entities}) == len(entities)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 95) == 0.0


def test_run_core_quick_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    buf = io.StringIO()
    result = run_core(postgres_url=None, quick=True, out=out, console=Console(file=buf, width=160))

    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert "binational bench core" in buf.getvalue()
    assert result["quick"] is True
    for key in ("platform", "cpu", "cores", "python"):
        assert result["machine"][key]
    sizes = result["sizes"]
    assert sizes["statements"] == 10_000
    assert sizes["audit_records"] == 10_000

    # PostgreSQL was not asked for: every section says it was skipped.
    for section in ("ingest", "fetch", "audit"):
        assert set(result[section]) == {"sqlite", "postgresql"}
        assert "skipped" in result[section]["postgresql"]

    ing = result["ingest"]["sqlite"]
    assert ing["statements"] >= sizes["statements"]
    assert ing["ftm_ingest"]["statements_new"] == ing["statements"]
    assert ing["ftm_ingest"]["statements_seen"] == 0
    assert ing["ftm_ingest"]["errors"] == 0
    assert ing["ftm_ingest"]["status"] == "ok"
    assert ing["ftm_ingest"]["entities"] == ing["entities"]
    assert ing["store_writer"]["statements_new"] == ing["statements"]
    assert ing["store_writer"]["entities"] == ing["entities"]
    assert ing["raw_executemany"]["statements"] == ing["statements"]
    for path in ("ftm_ingest", "store_writer", "raw_executemany"):
        assert ing[path]["statements_per_s"] > 0
    assert isinstance(ing["met"], bool)

    fetch = result["fetch"]["sqlite"]
    assert fetch["statements"] >= sizes["statements"]
    assert fetch["agencies"] == 20
    assert fetch["wrong_visibility"] == 0
    assert fetch["samples"] == sizes["fetch_samples"]
    half = sizes["fetch_samples"] // 2
    for kind in ("access_get_entity", "view_get_entity"):
        assert fetch[kind]["visible"]["n"] == half
        assert fetch[kind]["invisible"]["n"] == sizes["fetch_samples"] - half
        s = fetch[kind]["all"]
        assert 0 < s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"]
    # Visible records of other agencies leave a receipt for their owner.
    assert fetch["access_receipts_written"] > 0

    audit = result["audit"]["sqlite"]
    assert audit["records"] == sizes["audit_records"]
    assert audit["verify"]["ok"] is True
    assert audit["verify"]["problem"] is None
    assert audit["verify"]["records"] == sizes["audit_records"]
    assert audit["verify"]["checkpoints_checked"] == 1
    assert audit["checkpoint"]["tree_size"] == sizes["audit_records"]
    assert audit["append"]["records"] + audit["append_many"]["records"] + 1 == audit["records"]

    names = [c["name"] for c in result["checks"]]
    assert "ingest (sqlite), full ftm path" in names
    assert "fetch p95 (sqlite), Access.get_entity" in names
    assert "audit verify per 1M (sqlite)" in names
    assert all(isinstance(c["met"], bool) for c in result["checks"])
