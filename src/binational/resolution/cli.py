"""``binational resolve ...`` and ``binational graph ...``: entity resolution and the network.

``resolve link`` / ``resolve dedupe`` work on CSV files alone (no platform); the other commands
act on the platform's records as the local operator of one agency (``--agency``), through the
same policy and audit trail as the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binational.core.access import Caller
from binational.core.cli.common import console, fail, make_table, open_platform, print_json, say
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, parse_choice
from binational.resolution.pipeline import DEFAULT_MAX_BLOCK, DEFAULT_THRESHOLD, Result

resolve_app = typer.Typer(help="Entity resolution: link and deduplicate records, judgements.",
                          no_args_is_help=True)
graph_app = typer.Typer(help="The investigative network across resolved entities.",
                        no_args_is_help=True)

ThresholdOpt = Annotated[float, typer.Option(
    "--threshold", min=0.0, max=1.0, help="Match probability at which a pair is accepted.")]
MaxBlockOpt = Annotated[int, typer.Option(
    "--max-block", min=2, help="Largest block (records sharing a blocking key) compared; "
    "larger blocks are cut and reported.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="duckdb (default) or spark.")]
IdOpt = Annotated[str, typer.Option("--id-column", help="The column holding record ids.")]
TrainOpt = Annotated[bool, typer.Option(
    "--train", help="Estimate the model from the data (EM; 1,000 records or more) instead "
    "of scoring with the built-in priors.")]
OutputOpt = Annotated[Path, typer.Option("--output", help="Where the pairs go (CSV).")]
SchemaOpt = Annotated[str, typer.Option(
    "--schema", help="What the records are: Person, Company (also Organization, "
    "LegalEntity), or auto (default): companies when the header has a company column "
    "(company_name, razon_social, legal_name, legal_form, ein ...) and no person's name "
    "part or birth date, people otherwise.")]


def _report(result: Result, output: Path, written: int) -> None:
    for block in result.capped:
        examples = ", ".join(f"{k!r} ({n:,})" for k, n in block.largest_capped[:3])
        say(f"warning: blocking rule {block.rule}: {block.capped_blocks:,} block(s) larger "
            f"than the cap left out ({block.capped_records:,} records), e.g. {examples}",
            "yellow")
    pairs = sum(b.pairs for b in result.blocking)
    fields = ", ".join(["names", *(f for f in result.features if f != "id_key")])
    say(f"{result.records:,} records, {pairs:,} candidate pairs from "
        f"{len(result.blocking)} blocking rules, compared on {fields}: {written:,} pairs "
        f"accepted in {result.seconds.get('total', 0):.1f}s; written to {output}")


@resolve_app.command("link")
def link_command(
    left: Annotated[Path, typer.Argument(help="The first CSV of records.")],
    right: Annotated[Path, typer.Argument(help="The second CSV of records.")],
    output: OutputOpt,
    id_column: IdOpt = "id",
    right_id_column: Annotated[str | None, typer.Option(
        "--right-id-column", help="The id column of RIGHT, if it differs.")] = None,
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    max_block: MaxBlockOpt = DEFAULT_MAX_BLOCK,
    backend: BackendOpt = "duckdb",
    train: TrainOpt = False,
    schema: SchemaOpt = "auto",
) -> None:
    """Link the people (or companies, see --schema) of two CSV files on the columns they
    share; writes left_id,right_id,match_probability for the accepted pairs."""
    from binational.resolution.files import link_files, write_pairs

    result = link_files(left, right, id_column, right_id_column=right_id_column,
                        threshold=threshold, max_block=max_block, backend=backend,
                        train=train, schema=schema)
    _report(result, output, write_pairs(result, output))


@resolve_app.command("dedupe")
def dedupe_command(
    file: Annotated[Path, typer.Argument(help="A CSV of person or company records.")],
    output: OutputOpt,
    id_column: IdOpt = "id",
    threshold: ThresholdOpt = DEFAULT_THRESHOLD,
    max_block: MaxBlockOpt = DEFAULT_MAX_BLOCK,
    backend: BackendOpt = "duckdb",
    train: TrainOpt = False,
    schema: SchemaOpt = "auto",
) -> None:
    """Find the records of one CSV file that are the same person (or company, see
    --schema); writes left_id,right_id,match_probability for the accepted pairs."""
    from binational.resolution.files import dedupe_file, write_pairs

    result = dedupe_file(file, id_column, threshold=threshold, max_block=max_block,
                         backend=backend, train=train, schema=schema)
    _report(result, output, write_pairs(result, output))


# -- on the platform ----------------------------------------------------------------------------

AgencyOpt = Annotated[str, typer.Option("--agency", help="Act for this agency.")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
CaseOpt = Annotated[str, typer.Option("--case", help="Case reference for the audit trail.")]


def caller_for(platform: Platform, agency: str, purpose: str, case: str) -> Caller:
    ag = platform.identity.get_agency(agency)
    context = QueryContext(parse_choice(Purpose, purpose, "purpose"), case)
    return Caller(operator(ag.code, ag.country), context, client="cli")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: ``resolve``, ``graph`` and ``bench resolution``."""
    from binational.resolution import platform_cli

    platform_cli.add_commands(resolve_app, graph_app)
    app.add_typer(resolve_app, name="resolve")
    app.add_typer(graph_app, name="graph")
    bench_app.command("resolution")(bench_resolution)


def bench_resolution(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run (small sizes).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
    data_dir: Annotated[Path, typer.Option(
        "--data-dir", help="The shared public data (FEBRL).")] = Path("../shared/data"),
    size: Annotated[int, typer.Option("--size", min=1000,
                                      help="Generated records for the scale run.")] = 1_000_000,
    spark_size: Annotated[int, typer.Option(
        "--spark-size", min=0, help="Generated records for the Spark run (0: skip).")] = 10_000,
    peers: Annotated[bool, typer.Option(help="Run recordlinkage's pipelines too.")] = True,
    trained: Annotated[bool, typer.Option(
        "--trained", help="Also run FEBRL with the model estimated from the data (EM).")]
    = False,
) -> None:
    """FEBRL 1-4 quality and speed next to recordlinkage; a generated million deduplicated."""
    from binational.resolution.bench import run_bench

    if not (data_dir / "entity_resolution" / "febrl").is_dir():
        fail(f"the FEBRL data is missing under {data_dir} (give --data-dir)")
    run_bench(quick=quick, out=out, console=console, data_dir=data_dir, size=size,
              spark_size=spark_size, peers=peers, train=trained)


__all__ = ["caller_for", "make_table", "open_platform", "print_json", "register"]
