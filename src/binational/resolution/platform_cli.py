"""The platform commands of ``binational resolve`` and ``binational graph``.

The local operator acts for one agency (``--agency``): what it reads is what that agency may
read for the purpose given, and every command is in the audit trail.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from binational.core.access import Caller
from binational.core.cli.common import (
    console,
    fail,
    make_table,
    open_platform,
    print_json,
    say,
)
from binational.core.identity import operator
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, parse_choice
from binational.resolution.judgements import parse_judgement

AgencyOpt = Annotated[str, typer.Option("--agency", help="Act for this agency (e.g. UIF).")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
CaseOpt = Annotated[str, typer.Option("--case", help="Case reference for the audit trail.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DEFAULT_PURPOSE = Purpose.ILLICIT_FINANCE.value


def _caller(ctx: typer.Context, agency: str, purpose: str, case: str) -> tuple[Any, Caller]:
    platform = open_platform(ctx)
    ag = platform.identity.get_agency(agency)
    context = QueryContext(parse_choice(Purpose, purpose, "purpose"), case)
    return platform, Caller(operator(ag.code, ag.country), context, client="cli")


def add_commands(resolve_app: typer.Typer, graph_app: typer.Typer) -> None:
    """Add the commands that act on the platform's records."""

    @resolve_app.command("run")
    def run(ctx: typer.Context, agency: AgencyOpt,
            dataset: Annotated[list[str] | None, typer.Option(
                "--dataset", help="Link these datasets only; repeatable.")] = None,
            purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli",
            as_json: JsonOpt = False) -> None:
        """Link the people, and apart from them the companies and other organisations, of the
        datasets the agency may see; keep the scored pairs."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        summary = Resolver(platform).run(caller, dataset)
        if as_json:
            print_json(summary)
            return
        say(f"run {summary['run_id']}: {summary['people']:,} people and "
            f"{summary['organisations']:,} organisations of "
            f"{', '.join(summary['datasets']) or 'no dataset'}; {summary['candidates']:,} "
            "pairs kept for review or acceptance")

    @resolve_app.command("queue")
    def queue(ctx: typer.Context, agency: AgencyOpt, purpose: PurposeOpt = DEFAULT_PURPOSE,
              case: CaseOpt = "operator-cli",
              limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
              as_json: JsonOpt = False) -> None:
        """Undecided pairs, most valuable first."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        items = Resolver(platform).queue(caller, limit)
        if as_json:
            print_json([c.to_dict() for c in items])
            return
        table = make_table("Value", "Score", "Left", "Right", "Datasets")
        for c in items:
            table.add_row(f"{c.value:.2f}", f"{c.score:.3f}", c.left_id, c.right_id,
                          f"{c.left_dataset} / {c.right_dataset}")
        console.print(table)

    @resolve_app.command("decide")
    def decide(ctx: typer.Context, left: str, right: str,
               judgement: Annotated[str, typer.Argument(help="same, different or unsure")],
               agency: AgencyOpt,
               reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
               purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli") -> None:
        """Judge a pair of records: the same entity, different ones, or unsure."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        d = Resolver(platform).decide(caller, left, right, parse_judgement(judgement), reason)
        say(f"judgement {d.id}: {d.left_id} / {d.right_id} {d.judgement.value}")

    @resolve_app.command("undo")
    def undo(ctx: typer.Context, judgement_id: str, agency: AgencyOpt,
             reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
             purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli") -> None:
        """Take a judgement back (the log keeps both)."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        d = Resolver(platform).undo(caller, judgement_id, reason)
        say(f"judgement {judgement_id} undone by {d.id}")

    @resolve_app.command("split")
    def split(ctx: typer.Context, entity_id: str, agency: AgencyOpt,
              reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
              purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli") -> None:
        """Take a record out of its resolved entity."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        out = Resolver(platform).split(caller, entity_id, reason)
        say(f"{entity_id} split off: {len(out)} judgement(s) recorded")

    @resolve_app.command("show")
    def show(ctx: typer.Context, entity_id: str, agency: AgencyOpt,
             purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli",
             as_json: JsonOpt = False) -> None:
        """The resolved entity of a record: its members and the evidence linking them."""
        from binational.resolution.service import Resolver

        platform, caller = _caller(ctx, agency, purpose, case)
        entity = Resolver(platform).entity(caller, entity_id).to_dict()
        if as_json:
            print_json(entity)
            return
        say(f"{entity['id']}: {entity['caption']}")
        table = make_table("Id", "Name", "Datasets")
        for m in entity["members"]:
            table.add_row(m["id"], m["caption"], ", ".join(m["datasets"]))
        console.print(table)
        for link in entity["links"]:
            weights = ", ".join(f"{k} {v:+.1f}" for k, v in link["evidence"].items())
            judged = link["judgement"]["judgement"] if link["judgement"] else "not judged"
            say(f"  {link['left_id']} ~ {link['right_id']}: score {link['score']}, "
                f"{judged}; {weights}")

    @graph_app.command("neighbours")
    def neighbours(ctx: typer.Context, entity_id: str, agency: AgencyOpt,
                   depth: Annotated[int, typer.Option("--depth", min=1, max=4)] = 1,
                   purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli",
                   as_json: JsonOpt = False) -> None:
        """The entities within DEPTH relationships of an entity."""
        from binational.resolution.service import Investigator

        platform, caller = _caller(ctx, agency, purpose, case)
        net = Investigator(platform).neighbourhood(caller, entity_id, depth).to_dict()
        if as_json:
            print_json(net)
            return
        _print_network(net)

    @graph_app.command("paths")
    def paths(ctx: typer.Context, entity_id: str, agency: AgencyOpt,
              purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli",
              as_json: JsonOpt = False) -> None:
        """Shortest paths from an entity to designated (sanctioned) entities."""
        from binational.resolution.service import Investigator

        platform, caller = _caller(ctx, agency, purpose, case)
        found, sub = Investigator(platform).paths(caller, entity_id)
        captions = {n["id"]: n["caption"] for n in sub.to_dict()["nodes"]}
        if as_json:
            print_json({"paths": found, "network": sub.to_dict()})
            return
        if not found:
            say("no path to a designated entity")
        for p in found:
            say(" -> ".join(f"{captions.get(n, n)} ({n})" for n in p))

    @graph_app.command("summary")
    def summary(ctx: typer.Context,
                what: Annotated[str, typer.Argument(
                    help="components, communities or centrality")],
                agency: AgencyOpt, purpose: PurposeOpt = DEFAULT_PURPOSE,
                case: CaseOpt = "operator-cli",
                limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20) -> None:
        """Components, communities or the most central entities of the network."""
        from binational.resolution.service import Investigator

        platform, caller = _caller(ctx, agency, purpose, case)
        print_json(Investigator(platform).summary(caller, what, limit))

    @graph_app.command("export")
    def export(ctx: typer.Context, agency: AgencyOpt,
               fmt: Annotated[str, typer.Option("--format",
                                                help="ftm, graphml, gexf or cypher")] = "ftm",
               output: Annotated[Path | None, typer.Option(
                   "--output", help="File to write (default: standard output).")] = None,
               purpose: PurposeOpt = DEFAULT_PURPOSE, case: CaseOpt = "operator-cli") -> None:
        """Export the network the agency may export (FtM JSON, GraphML, GEXF, Cypher)."""
        from binational.resolution.service import Investigator

        platform, caller = _caller(ctx, agency, purpose, case)
        if output is None:
            Investigator(platform).export(caller, fmt, sys.stdout)
            return
        try:
            with output.open("w", encoding="utf-8") as fh:
                nodes = Investigator(platform).export(caller, fmt, fh)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
        say(f"{nodes:,} entities written to {output}")


def _print_network(net: dict[str, Any]) -> None:
    table = make_table("Id", "Name", "Schema", "Designated")
    for n in net["nodes"]:
        table.add_row(n["id"], n["caption"], n["schema"], "yes" if n["designated"] else "")
    console.print(table)
    captions = {n["id"]: n["caption"] for n in net["nodes"]}
    for e in net["edges"]:
        say(f"  {captions[e['source']]} -[{e['label_en']}]-> {captions[e['target']]}")
