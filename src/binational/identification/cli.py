"""``binational dvi ...`` (DNA kinship, joint DVI) and ``binational identify ...`` (records).

``dvi solve``, ``dvi pairwise`` and ``dvi lr`` work on files (a DVI case JSON or a Familias
``.fam``) and touch no database; the ``identify`` commands act on the platform's records for an
agency, through the policy and the audit trail like every other read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binational.core.cli.common import console, make_table, print_json, say, warn

dvi_app = typer.Typer(
    help="DNA kinship: joint disaster-victim identification (DVI).", no_args_is_help=True
)

CaseArg = Annotated[Path, typer.Argument(help="A DVI case (.json) or a Familias file (.fam).")]


@dvi_app.command("solve")
def solve_cmd(
    case: CaseArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    top: Annotated[
        int, typer.Option("--top", min=1, max=1000, help="Rows of the joint table.")
    ] = 10,
    threshold: Annotated[
        float,
        typer.Option("--threshold", min=1.0, help="Pairwise LR for an undisputed identification."),
    ] = 1e4,
    max_assignments: Annotated[
        int,
        typer.Option(
            "--max-assignments",
            min=1,
            help="Above this many joint assignments, exclusions and undisputed identifications "
            "narrow the search first.",
        ),
    ] = 500_000,
    mutations: Annotated[
        str,
        typer.Option(
            "--mutations",
            help="on: the case's mutation models; off: none; auto: off in the families "
            "consistent without mutation (dvir's jointDVI default).",
        ),
    ] = "on",
) -> None:
    """Solve a DVI case: the best joint assignment of victims to missing persons, with its
    log-likelihood and LR against 'nobody is among the missing'."""
    from binational.identification.dna.case import load_case
    from binational.identification.dna.dvi import DviSolver
    from binational.identification.dna.report import result_json

    loaded = load_case(case)
    result = DviSolver(loaded, mutations=mutations).solve(
        max_assignments=max_assignments, threshold=threshold
    )
    data = result_json(result, top)
    if as_json:
        print_json(data)
        return
    for w in result.warnings:
        warn(w)
    say(
        f"case {result.case}: {len(result.victims)} victims, {len(result.missing)} missing, "
        f"{result.n_assignments:,} possible assignments ({result.seconds:.2f} s)"
    )
    if result.reduced_by_undisputed:
        say("search narrowed by exclusions and undisputed identifications first", "yellow")
    table = make_table(
        "#",
        *result.victims,
        "loglik",
        "LR vs null",
        "posterior",
        title="Joint assignments (best first)",
    )
    for k, row in enumerate(data["assignments"]):
        lr = row["LR_vs_null"]
        table.add_row(
            str(k + 1),
            *[row[v] for v in result.victims],
            f"{row['loglik']:.5f}",
            f"{lr:.6g}" if lr is not None else "inf",
            f"{row['posterior']:.4g}",
        )
    console.print(table)
    if result.undisputed:
        say(
            "undisputed: "
            + ", ".join(
                f"{u.victim} = {u.missing} (LR {u.lr:.3g}, step {u.step})"
                for u in result.undisputed
            )
        )
    if result.excluded:
        say(f"excluded pairings: {len(result.excluded)}")


@dvi_app.command("pairwise")
def pairwise_cmd(
    case: CaseArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Pairwise LR of each victim against each missing person (sex-compatible pairings)."""
    from binational.identification.dna.case import load_case
    from binational.identification.dna.dvi import DviSolver
    from binational.identification.dna.report import finite

    solver = DviSolver(load_case(case))
    lrm = solver.pairwise_lr(solver.pairings())
    if as_json:
        print_json({v: {m: finite(x) for m, x in row.items()} for v, row in lrm.items()})
        return
    table = make_table("Victim", *solver.missing, title="Pairwise LR (blank: not a candidate)")
    for v, row in lrm.items():
        table.add_row(v, *["" if row[m] is None else f"{row[m]:.4g}" for m in solver.missing])
    console.print(table)


@dvi_app.command("pedigrees")
def pedigrees_cmd(
    path: Annotated[Path, typer.Argument(help="A Familias .fam file with pedigree hypotheses.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare the pedigree hypotheses of a Familias kinship case: the likelihood of the
    persons' genotypes under each, its LR against the first, and flat-prior posteriors."""
    import math

    from binational.core.errors import InvalidInput
    from binational.identification.dna.familias import load_fam_hypotheses
    from binational.identification.dna.likelihood import loglik
    from binational.identification.dna.report import finite

    if not path.is_file():
        raise InvalidInput(f"file not found: {path}")
    hyp = load_fam_hypotheses(path)
    lls = [loglik(p, hyp.markers) for p in hyp.pedigrees]
    best = max(lls)
    if best == -math.inf:
        raise InvalidInput(f"{path.name}: every hypothesis is impossible without mutation")
    weights = [math.exp(x - best) for x in lls]
    total = sum(weights)
    rows = [
        {
            "pedigree": p.name,
            "loglik": ll if ll > -math.inf else None,
            "LR_vs_first": finite(math.exp(ll - lls[0])) if lls[0] > -math.inf else None,
            "posterior": finite(w / total),
        }
        for p, ll, w in zip(hyp.pedigrees, lls, weights, strict=True)
    ]
    if as_json:
        print_json({"case": hyp.name, "hypotheses": rows, "warnings": hyp.warnings})
        return
    table = make_table("Pedigree", "loglik", "LR vs first", "posterior", title=hyp.name)
    for r in rows:
        table.add_row(
            str(r["pedigree"]),
            "" if r["loglik"] is None else f"{r['loglik']:.6f}",
            "" if r["LR_vs_first"] is None else f"{r['LR_vs_first']:.6g}",
            f"{r['posterior']:.4g}",
        )
    console.print(table)


def bench_identification(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run, ~100x smaller.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The shared public data (forensics/).")
    ] = Path("../shared/data"),
) -> None:
    """DVI cases against their known answers; attribute matching and kinship LRs at scale."""
    from binational.core.cli.common import fail
    from binational.identification.bench import run_identification

    if not (data_dir / "forensics" / "dvi").is_dir():
        fail(f"{data_dir}/forensics/dvi is missing (give --data-dir)")
    ok = run_identification(quick=quick, out=out, console=console, data_dir=data_dir)
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: ``dvi``, ``identify`` and ``bench identification``."""
    from binational.identification.records_cli import identify_app

    app.add_typer(dvi_app, name="dvi")
    app.add_typer(identify_app, name="identify")
    bench_app.command("identification")(bench_identification)
