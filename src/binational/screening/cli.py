"""``binational screen``: screen one name, or a CSV file of names, against the designation lists.

The local operator acts for the agency that owns each list (or for ``--agency``): the lists a
query reaches are exactly those that agency may search for the purpose, and every run is in the
audit trail. A batch keeps no copy of the input file: rows are read, screened and written out.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from binational.core.access import Caller
from binational.core.cli.common import console, fail, make_table, open_platform, print_json
from binational.core.errors import InvalidInput
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, parse_choice
from binational.screening import DEFAULT_THRESHOLD, Match, Query, Screener

WORKERS = os.cpu_count() or 1  # the command owns its process: score on every core
CHUNK = 5000  # rows read, screened (as one audited batch) and written at a time
OUTPUT_COLUMNS = ("match_id", "match_caption", "match_score", "match", "match_datasets",
                  "match_programs")


def callers(platform: Platform, screener: Screener, datasets: Sequence[str] | None,
            agency: str | None, context: QueryContext) -> list[tuple[Caller, list[str] | None]]:
    """Who screens which lists: ``--agency`` for all it may see, else each list's owner."""
    if agency:
        ag = platform.identity.get_agency(agency)
        who = Caller(operator(ag.code, ag.country), context, client="cli")
        return [(who, list(datasets) if datasets else None)]
    owners = platform.catalog.all()
    names = list(datasets) if datasets else screener.indexed_datasets()
    if not names:
        raise InvalidInput("no designation list is loaded yet: ingest one (e.g. "
                           "binational ingest ofac-csv sdn.csv --dataset ofac_sdn) first")
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if name not in owners:
            raise InvalidInput(f"no dataset {name!r}")
        groups[owners[name].agency].append(name)
    out: list[tuple[Caller, list[str] | None]] = []
    for code, group in sorted(groups.items()):
        ag = platform.identity.get_agency(code)
        out.append((Caller(operator(ag.code, ag.country), context, client="cli"), group))
    return out


def merge(results: Sequence[list[Match]], limit: int) -> list[Match]:
    found = [m for batch in results for m in batch]
    return sorted(found, key=lambda m: -m.score)[:limit]


def programs(match: Match) -> list[str]:
    return sorted({str(p) for s in match.sanctions for p in s.get("program", [])})


def screen(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="The name to screen.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth (YYYY[-MM[-DD]]).")]
    = None,
    country: Annotated[list[str] | None, typer.Option(
        "--country", help="Nationality or country (ISO code, e.g. mx); repeatable.")] = None,
    identifier: Annotated[list[str] | None, typer.Option(
        "--id", help="CURP, RFC or passport number; repeatable.")] = None,
    schema: Annotated[str, typer.Option(
        "--schema", help="Person, Company, Organization or LegalEntity.")] = "LegalEntity",
    dataset: Annotated[list[str] | None, typer.Option(
        "--dataset", help="Screen against this list only; repeatable (default: all lists).")]
    = None,
    agency: Annotated[str | None, typer.Option(
        "--agency", help="Act for this agency (its lists and the lists granted to it).")]
    = None,
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
    = Purpose.SANCTIONS_SCREENING.value,
    case: Annotated[str, typer.Option("--case", help="Case reference for the audit trail.")]
    = "operator-cli",
    threshold: Annotated[float, typer.Option(
        "--threshold", min=0.0, max=1.0, help="Score at which a result is a match.")]
    = DEFAULT_THRESHOLD,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    input_file: Annotated[Path | None, typer.Option(
        "--input", help="CSV of names to screen (columns: name, and optionally id, dob, "
        "country, schema, identifier).")] = None,
    output_file: Annotated[Path | None, typer.Option(
        "--output", help="Where the batch results go (CSV); '-' for standard output.")] = None,
    reindex: Annotated[bool, typer.Option(
        "--reindex", help="Rebuild the candidate index of every list (or of each --dataset) "
        "and stop: after upgrading Binational, whose retrieval keys may have changed.")]
    = False,
) -> None:
    """Screen a name (or a CSV of names) against the designation lists, with explanations."""
    if reindex:
        if name is not None or input_file is not None:
            fail("--reindex takes no NAME and no --input")
        platform = open_platform(ctx)
        screener = Screener(platform)
        for list_name in dataset or screener.indexed_datasets():
            count = screener.index_dataset(list_name)
            console.print(f"{list_name}: {count:,} entities indexed")
        return
    if (name is None) == (input_file is None):
        fail("give a NAME, or --input FILE.csv with --output FILE.csv")
    context = QueryContext(parse_choice(Purpose, purpose, "purpose"), case)
    platform = open_platform(ctx)
    screener = Screener(platform)
    who = callers(platform, screener, dataset, agency, context)
    if input_file is not None:
        if output_file is None:
            fail("--input needs --output (a CSV file, or - for standard output)")
        batch(screener, who, input_file, output_file, threshold)
        return
    assert name is not None
    query = Query(name=name, schema=schema, birth_date=dob, countries=tuple(country or ()),
                  identifiers=tuple(identifier or ()))
    found = merge([screener.screen(c, query, datasets=d, threshold=threshold, limit=limit)
                   for c, d in who], limit)
    if as_json:
        print_json([{"id": m.id, "caption": m.caption, "score": round(m.score, 4),
                     "match": m.match, "datasets": sorted(m.datasets),
                     "explanation": m.explanation()} for m in found])
        return
    if not found:
        console.print("no candidates")
        return
    table = make_table("Score", "Match", "Id", "Name", "Lists", "Programs", "Why")
    for m in found:
        why = ", ".join(f"{f.name} {f.weight * f.value:+.2f}" for f in m.features
                        if f.value)
        table.add_row(f"{m.score:.3f}", "yes" if m.match else "no", m.id, m.caption,
                      ", ".join(sorted(m.datasets)), ", ".join(programs(m)), why)
    console.print(table)


def _rows(fh: TextIO, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(fh)
    if not reader.fieldnames or "name" not in [f.strip().lower() for f in reader.fieldnames]:
        raise InvalidInput(f"{path}: the CSV needs a 'name' column (found: "
                           f"{', '.join(reader.fieldnames or []) or 'no header'})")
    for row in reader:
        yield reader.line_num, {(k or "").strip().lower(): (v or "").strip()
                                for k, v in row.items()}


def _query(line: int, row: dict[str, str], path: Path) -> Query:
    try:
        return Query(name=row.get("name", ""), schema=row.get("schema") or "LegalEntity",
                     birth_date=row.get("dob") or row.get("birth_date") or None,
                     countries=tuple(c for c in (row.get("country") or "").split(";") if c),
                     identifiers=tuple(i for i in (row.get("identifier") or "").split(";")
                                       if i))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}:{line}: {exc.message}") from None


def batch(screener: Screener, who: list[tuple[Caller, list[str] | None]], path: Path,
          output: Path, threshold: float) -> None:
    if not path.is_file():
        fail(f"no such file: {path}")
    out_fh: TextIO = sys.stdout if str(output) == "-" else output.open("w", newline="",
                                                                         encoding="utf-8")
    screened = matched = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh, Progress(
            TextColumn("screening"), BarColumn(), TextColumn("{task.completed:,} names"),
            TimeRemainingColumn(), console=console, disable=str(output) == "-",
        ) as progress:
            task = progress.add_task("screen", total=None)
            writer: Any = None
            rows = _rows(fh, path)
            while True:
                chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
                if not chunk:
                    break
                queries = [_query(line, row, path) for line, row in chunk]
                per_caller = [list(screener.screen_many(c, queries, datasets=d,
                                                        threshold=threshold, limit=1,
                                                        workers=WORKERS))
                              for c, d in who]
                for i, (_, row) in enumerate(chunk):
                    best = merge([results[i] for results in per_caller], 1)
                    if writer is None:
                        fields = [k for k in row if k] + list(OUTPUT_COLUMNS)
                        writer = csv.DictWriter(out_fh, fieldnames=fields,
                                                extrasaction="ignore")
                        writer.writeheader()
                    m = best[0] if best else None
                    writer.writerow({**row, "match_id": m.id if m else "",
                                     "match_caption": m.caption if m else "",
                                     "match_score": f"{m.score:.4f}" if m else "",
                                     "match": "true" if m and m.match else "false",
                                     "match_datasets": ";".join(sorted(m.datasets)) if m else "",
                                     "match_programs": ";".join(programs(m)) if m else ""})
                    screened += 1
                    matched += bool(m and m.match)
                progress.update(task, advance=len(chunk))
    finally:
        if out_fh is not sys.stdout:
            out_fh.close()
    if str(output) != "-":
        console.print(f"screened {screened:,} names: {matched:,} matches; results in {output}")


def bench_screening(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run, ~50x smaller.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
    data_dir: Annotated[Path, typer.Option(
        "--data-dir", help="The shared public data (sanctions, FEBRL).")] = Path("../shared/data"),
    speed_only: Annotated[bool, typer.Option(
        "--speed-only", help="Only the index, latency and batch timings.")] = False,
) -> None:
    """Screening quality and speed on the OFAC lists, next to nomenklatura's algorithms."""
    from binational.screening.bench import run_screening

    if not data_dir.is_dir():
        fail(f"the public data folder {data_dir} is missing (give --data-dir)")
    run_screening(quick=quick, out=out, console=console, data_dir=data_dir,
                  speed_only=speed_only)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: add ``screen`` and ``bench screening``."""
    app.command("screen")(screen)
    bench_app.command("screening")(bench_screening)
