"""``binational identify ...``: records, ranked candidates and Prüm-style queries for an agency.

The local operator acts for ``--agency`` (its records, and what grants open to it), for the
missing-persons purpose and a case reference, through the same policy and audit trail as the
API.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from binational.core.cli.common import console, make_table, open_platform, print_json, say
from binational.core.errors import InvalidInput
from binational.core.vocab import Purpose, parse_choice

identify_app = typer.Typer(
    help="Forensic identification: remains, missing persons, hits.", no_args_is_help=True
)

AgencyOpt = Annotated[str, typer.Option("--agency", help="Act for this agency (e.g. FGE-JAL).")]
CaseOpt = Annotated[str, typer.Option("--case", help="Case reference for the audit trail.")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _service(ctx: typer.Context, agency: str, case: str, purpose: str) -> tuple[Any, Any]:
    from binational.identification.service import Identification, operator_caller

    platform = open_platform(ctx)
    caller = operator_caller(
        platform, agency.strip().upper(), case, parse_choice(Purpose, purpose, "purpose")
    )
    return Identification(platform), caller


@identify_app.command("load")
def load_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="missing, remains or family")],
    path: Annotated[Path, typer.Argument(help="A JSON list of records, or a CSV file.")],
    dataset: Annotated[str, typer.Option("--dataset", help="One of the agency's datasets.")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
) -> None:
    """Load missing-person reports, remains or family samples (codes ';'-separated in CSV)."""
    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    add = {
        "missing": svc.add_missing,
        "remains": svc.add_remains,
        "family": svc.add_family_sample,
    }.get(kind)
    if add is None:
        raise InvalidInput("kind must be missing, remains or family")
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    rows: list[tuple[int, dict[str, Any]]]
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = []
            for row in reader:
                rec: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
                for key in ("codes", "consent_purposes"):
                    if key in rec:
                        rec[key] = [c for c in str(rec[key]).split(";") if c.strip()]
                rows.append((reader.line_num, rec))
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise InvalidInput(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
        if not isinstance(data, list):
            raise InvalidInput(f"{path}: expected a JSON list of records")
        rows = [(k + 1, r) for k, r in enumerate(data)]
    for line, rec in rows:
        try:
            add(caller, dataset, rec)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}:{line}: {exc.message}") from None
    say(f"loaded {len(rows)} {kind} records into {dataset}")


@identify_app.command("list")
def list_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="missing, remains or family")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
    purpose: PurposeOpt = Purpose.MISSING_PERSONS.value,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
) -> None:
    """List the records the agency may see."""
    svc, caller = _service(ctx, agency, case, purpose)
    rows = svc.list_records(caller, kind, limit)
    if as_json:
        print_json(rows)
        return
    table = make_table("Id", "Dataset", "Sex", "Age", "Date", "State", "Codes")
    for r in rows:
        age = r.get("age") if kind == "missing" else f"{r.get('age_min')}-{r.get('age_max')}"
        when = r.get("disappeared_on") or r.get("found_on") or r.get("consent_on") or ""
        table.add_row(
            r["id"],
            r["dataset"],
            str(r.get("sex", "")),
            str(age or ""),
            str(when),
            str(r.get("state") or ""),
            ", ".join(r.get("codes") or []),
        )
    console.print(table)


@identify_app.command("candidates")
def candidates_cmd(
    ctx: typer.Context,
    remains_id: Annotated[str, typer.Argument(help="Id of the remains.")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
    purpose: PurposeOpt = Purpose.MISSING_PERSONS.value,
    top: Annotated[int, typer.Option("--top", min=1, max=100)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Missing-person reports ranked for a set of remains, with the reasons."""
    svc, caller = _service(ctx, agency, case, purpose)
    remains, cands = svc.candidates(caller, remains_id, top)
    if as_json:
        print_json({"remains": remains, "candidates": cands})
        return
    table = make_table("Score", "Id", "Dataset", "Why", title=f"Candidates for {remains_id}")
    for c in cands:
        why = "; ".join(f"{r['en']} ({r['points']:+g})" for r in c["reasons"])
        table.add_row(f"{c['score']:.2f}", c["id"], c["dataset"], why)
    console.print(table)


@identify_app.command("query")
def query_cmd(
    ctx: typer.Context,
    remains_id: Annotated[str, typer.Argument(help="Id of the agency's remains.")],
    target: Annotated[str, typer.Option("--to", help="The agency to ask.")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
    kind: Annotated[str, typer.Option("--kind", help="dna or attributes")] = "dna",
    as_json: JsonOpt = False,
) -> None:
    """Prüm-style query to another agency: hit / no-hit with opaque references."""
    from binational.identification.resources import database

    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    if kind == "dna":
        answer = svc.query_dna(caller, remains_id, target, database(None))
    elif kind == "attributes":
        answer = svc.query_attributes(caller, remains_id, target)
    else:
        raise InvalidInput("kind must be dna or attributes")
    if as_json:
        print_json(answer.as_dict())
        return
    if answer.hit:
        say(f"HIT ({len(answer.references)}): {', '.join(answer.references)}", "green")
    else:
        say("no hit")


@identify_app.command("hits")
def hits_cmd(
    ctx: typer.Context, agency: AgencyOpt, case: CaseOpt = "operator-cli", as_json: JsonOpt = False
) -> None:
    """Hits the agency asked about, or holds."""
    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    found = [h.as_dict() for h in svc.hits(caller)]
    if as_json:
        print_json(found)
        return
    table = make_table("Ref", "Kind", "Status", "Owner", "Requester", "Record", whole=("Ref",))
    for h in found:
        table.add_row(
            h["ref"],
            h["kind"],
            h["status"],
            h.get("owner_agency", ""),
            h.get("requester_agency", ""),
            str(h.get("record_id") or ""),
        )
    console.print(table)


@identify_app.command("request")
def request_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Hit reference.")],
    justification: Annotated[str, typer.Option("--why", help="Why it is needed.")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
) -> None:
    """Ask the owning agency to release the record behind a hit."""
    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    say(f"{ref}: {svc.request_release(caller, ref, justification).status}")


@identify_app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Hit reference.")],
    agency: AgencyOpt,
    approve: Annotated[
        bool, typer.Option("--approve/--refuse", help="Release (a grant) or refuse.")
    ] = False,
    reason: Annotated[str, typer.Option("--reason")] = "",
    case: CaseOpt = "operator-cli",
) -> None:
    """The owning agency releases (creates a grant) or refuses a requested hit."""
    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    hit = svc.decide(caller, ref, approve, reason)
    say(f"{ref}: {hit.status}" + (f" (grant {hit.grant_id})" if hit.grant_id else ""))


@identify_app.command("detail")
def detail_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Hit reference.")],
    agency: AgencyOpt,
    case: CaseOpt = "operator-cli",
) -> None:
    """The record behind a released hit."""
    svc, caller = _service(ctx, agency, case, Purpose.MISSING_PERSONS.value)
    print_json(svc.hit_detail(caller, ref))
