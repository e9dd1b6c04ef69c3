"""``binational bench web`` on a tiny world: it measures pages and the API and writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from binational.web.bench import run_web


def test_bench_web_measures_pages_next_to_the_api(tmp_path: Path) -> None:
    out = tmp_path / "web.json"
    console = Console(record=True, width=120)
    result = run_web(out=out, console=console, entities=20, repeat=1, batch_size=5)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["entities"] == 20 and saved["batch"]["status"] == "done"
    assert saved["batch"]["names"] == 5 and saved["batch"]["matches"] == 5  # all listed
    pages = {row["what"]: row for row in saved["pages"]}
    assert {"home", "screen one name", "entity profile", "network (JSON)",
            "search records"} <= set(pages)
    for what in ("screen one name", "entity profile", "search records"):
        row = pages[what]
        assert row["page"]["p50_ms"] > 0 and row["api"]["p50_ms"] > 0
        assert row["ratio_p50"] == round(row["page"]["p50_ms"] / row["api"]["p50_ms"], 2)
    assert result["pages"] == saved["pages"]
    assert "Page / API" in console.export_text()
