"""``binational finance``: train the alert model, list alerts, work and share cases.

The local operator acts for the agency that owns the dataset (or for ``--agency``), with the
purpose illicit-finance unless told otherwise; every command is in the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binational.core.access import Caller
from binational.core.cli.common import console, fail, make_table, open_platform, print_json
from binational.core.errors import NotFound
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, parse_choice
from binational.finance.service import CLOSE_REASONS, Finance

finance_app = typer.Typer(help="Illicit finance: transaction monitoring, alerts and cases.",
                          no_args_is_help=True)
case_app = typer.Typer(help="Cases opened from alerts: assign, annotate, escalate, close, "
                            "share.", no_args_is_help=True)
finance_app.add_typer(case_app, name="case")

AgencyOpt = Annotated[str | None, typer.Option(
    "--agency", help="Act for this agency (default: the dataset's owner).")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose of the query.")]
CaseRefOpt = Annotated[str, typer.Option("--case-ref", help="Case reference for the audit "
                                                            "trail.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _caller(platform: Platform, agency: str | None, dataset: str | None, purpose: str,
            case_ref: str) -> Caller:
    context = QueryContext(parse_choice(Purpose, purpose, "purpose"), case_ref)
    code = agency
    if code is None:
        if dataset is None:
            fail("say which agency you act for (--agency)")
        try:
            code = platform.catalog.get(dataset).agency
        except NotFound:
            fail(f"no dataset {dataset!r}")
    ag = platform.identity.get_agency(code)
    return Caller(operator(ag.code, ag.country), context, client="cli")


@finance_app.command("train")
def train_command(
    ctx: typer.Context,
    dataset: Annotated[list[str], typer.Option(
        "--dataset", help="Dataset whose known outcomes to learn from; repeatable.")],
    agency: AgencyOpt = None,
    jurisdiction: Annotated[str | None, typer.Option(
        "--jurisdiction", help="Rule configuration: US or MX (default: the agency's).")] = None,
    purpose: PurposeOpt = Purpose.ILLICIT_FINANCE.value,
    case_ref: CaseRefOpt = "operator-cli",
    as_json: JsonOpt = False,
) -> None:
    """Train the alert model (LightGBM on graph features) on the known outcomes of datasets;
    it is stored for the training agency and used by its later alerts."""
    platform = open_platform(ctx)
    caller = _caller(platform, agency, dataset[0] if dataset else None, purpose, case_ref)
    result = Finance(platform).train(caller, dataset, jurisdiction)
    if as_json:
        print_json(result)
        return
    console.print(f"model {result['model']} for {result['agency']}: trained on "
                  f"{result['accounts']:,} accounts ({result['positives']:,} known suspicious) "
                  f"of {', '.join(result['datasets'])}; out-of-fold F1 "
                  f"{result['oof_f1_model']:.3f} (model), {result['oof_f1_combined']:.3f} "
                  "(with rules)", markup=False)


@finance_app.command("alerts")
def alerts_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to monitor.")],
    agency: AgencyOpt = None,
    jurisdiction: Annotated[str | None, typer.Option(
        "--jurisdiction", help="Rule configuration: US or MX (default: the agency's).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="Model id (default: the agency's latest).")] = None,
    rules_only: Annotated[bool, typer.Option("--rules-only", help="Do not use a model.")]
    = False,
    purpose: PurposeOpt = Purpose.ILLICIT_FINANCE.value,
    case_ref: CaseRefOpt = "operator-cli",
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows in the table.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Score every account of a dataset with the rules and the model; --json prints all
    accounts as {account, score, flagged, reasons}, best first."""
    platform = open_platform(ctx)
    caller = _caller(platform, agency, dataset, purpose, case_ref)
    found = Finance(platform).alerts(caller, dataset, jurisdiction=jurisdiction,
                                     model_id=model, use_model=not rules_only)
    if as_json:
        print_json([a.summary() for a in found])
        return
    flagged = [a for a in found if a.flagged]
    table = make_table("Account", "Score", "Rules", "Model", "Why",
                       title=f"{dataset}: {len(flagged):,} of {len(found):,} accounts flagged")
    for a in flagged[:limit]:
        table.add_row(a.account, f"{a.score:.3f}", f"{a.rule_score:.2f}",
                      "" if a.model_score is None else f"{a.model_score:.2f}",
                      "; ".join(r["text"] for r in a.reasons))
    console.print(table)


def _print_case(case: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(case)
        return
    console.print(f"case {case['id']} [{case['status']}] {case['title']}", markup=False)
    for key in ("dataset", "accounts", "assignee", "close_reason"):
        if case.get(key):
            console.print(f"  {key}: {case[key]}", markup=False)
    for reason in case.get("reasons") or []:  # type: ignore[attr-defined]
        console.print(f"  why: {reason.get('text')}", markup=False)
    if case.get("narrative"):
        console.print(f"  narrative: {case['narrative']}", markup=False)


@case_app.command("open")
def case_open(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset of the alert.")],
    alert: Annotated[str | None, typer.Option("--alert", help="Alert id.")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Account (if no alert).")]
    = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    narrative: Annotated[str, typer.Option("--narrative")] = "",
    agency: AgencyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a case from an alert (or an account)."""
    platform = open_platform(ctx)
    caller = _caller(platform, agency, dataset, Purpose.ILLICIT_FINANCE.value, "operator-cli")
    _print_case(Finance(platform).open_case(caller, dataset, alert=alert, account=account,
                                            title=title, narrative=narrative), as_json)


def _case_caller(platform: Platform, agency: str, case_ref: str) -> Caller:
    return _caller(platform, agency, None, Purpose.ILLICIT_FINANCE.value, case_ref)


AgencyReq = Annotated[str, typer.Option("--agency", help="The agency working the case.")]
CaseId = Annotated[str, typer.Argument(help="Case id.")]


@case_app.command("assign")
def case_assign(ctx: typer.Context, case_id: CaseId, user: Annotated[str, typer.Argument()],
                agency: AgencyReq, as_json: JsonOpt = False) -> None:
    """Assign a case to an analyst of the agency."""
    platform = open_platform(ctx)
    _print_case(Finance(platform).assign(_case_caller(platform, agency, case_id), case_id,
                                         user), as_json)


@case_app.command("annotate")
def case_annotate(ctx: typer.Context, case_id: CaseId, note: Annotated[str, typer.Argument()],
                  agency: AgencyReq, as_json: JsonOpt = False) -> None:
    """Add a note to the case narrative."""
    platform = open_platform(ctx)
    _print_case(Finance(platform).annotate(_case_caller(platform, agency, case_id), case_id,
                                           note), as_json)


@case_app.command("escalate")
def case_escalate(ctx: typer.Context, case_id: CaseId, agency: AgencyReq,
                  note: Annotated[str, typer.Option("--note")] = "",
                  as_json: JsonOpt = False) -> None:
    """Escalate a case."""
    platform = open_platform(ctx)
    _print_case(Finance(platform).escalate(_case_caller(platform, agency, case_id), case_id,
                                           note), as_json)


@case_app.command("close")
def case_close(ctx: typer.Context, case_id: CaseId, agency: AgencyReq,
               reason: Annotated[str, typer.Option(
                   "--reason", help=f"One of: {', '.join(CLOSE_REASONS)}.")],
               note: Annotated[str, typer.Option("--note")] = "",
               as_json: JsonOpt = False) -> None:
    """Close a case with a reason."""
    platform = open_platform(ctx)
    _print_case(Finance(platform).close(_case_caller(platform, agency, case_id), case_id,
                                        reason, note), as_json)


@case_app.command("show")
def case_show(ctx: typer.Context, case_id: CaseId, agency: AgencyReq,
              as_json: JsonOpt = False) -> None:
    """Show a case of the agency, with its history."""
    platform = open_platform(ctx)
    _print_case(Finance(platform).case(_case_caller(platform, agency, case_id), case_id),
                as_json)


@case_app.command("list")
def case_list(ctx: typer.Context, agency: AgencyReq,
              status: Annotated[str | None, typer.Option("--status")] = None,
              as_json: JsonOpt = False) -> None:
    """The agency's cases, newest first."""
    platform = open_platform(ctx)
    found = Finance(platform).cases(_case_caller(platform, agency, "operator-cli"), status)
    if as_json:
        print_json(found)
        return
    table = make_table("Id", "Status", "Title", "Dataset", "Assignee")
    for c in found:
        table.add_row(str(c["id"]), str(c["status"]), str(c["title"]), str(c["dataset"]),
                      str(c.get("assignee") or ""))
    console.print(table)


@case_app.command("share")
def case_share(ctx: typer.Context, case_id: CaseId, agency: AgencyReq,
               to: Annotated[str, typer.Option("--to", help="The recipient agency (FIU).")],
               grant: Annotated[str | None, typer.Option(
                   "--grant", help="Under this grant (default: any live one that fits).")
               ] = None,
               as_json: JsonOpt = False) -> None:
    """Share a case with another agency under a live grant (purpose illicit-finance)."""
    platform = open_platform(ctx)
    result = Finance(platform).share(_case_caller(platform, agency, case_id), case_id, to,
                                     grant)
    if as_json:
        print_json(result)
        return
    console.print(f"case {case_id} shared with {result['recipient']} under grant "
                  f"{result['grant']}", markup=False)


@case_app.command("package")
def case_package(ctx: typer.Context, case_id: CaseId, agency: AgencyReq,
                 out: Annotated[Path | None, typer.Option("--out")] = None) -> None:
    """The case package (case, narrative, entities, transactions) as JSON, for the owner or
    an agency it was shared with."""
    import json

    platform = open_platform(ctx)
    pkg = Finance(platform).package(_case_caller(platform, agency, case_id), case_id)
    if out is not None:
        out.write_text(json.dumps(pkg, indent=2, ensure_ascii=False, default=str),
                       encoding="utf-8")
        console.print(f"wrote {out}", markup=False)
        return
    print_json(pkg)


@case_app.command("shared")
def case_shared(ctx: typer.Context, agency: AgencyReq, as_json: JsonOpt = False) -> None:
    """Cases other agencies shared with this one (while their grants hold)."""
    platform = open_platform(ctx)
    found = Finance(platform).shared_with_me(_case_caller(platform, agency, "operator-cli"))
    if as_json:
        print_json(found)
        return
    table = make_table("Id", "From", "Title", "Status", "Grant")
    for c in found:
        table.add_row(str(c["id"]), str(c["agency"]), str(c["title"]), str(c["status"]),
                      str(c["grant"]))
    console.print(table)


def bench_finance(
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run, much smaller.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write results as JSON here.")]
    = None,
    data_dir: Annotated[Path, typer.Option(
        "--data-dir", help="The shared public data (finance/amlsim).")] = Path("../shared/data"),
    scale: Annotated[int, typer.Option(
        "--scale", min=0, help="Transactions of the generated end-to-end graph (0: skip).")]
    = 10_000_000,
) -> None:
    """AMLSim precision/recall/F1 (rules, model, both, and a plain-aggregate baseline), feature
    and cycle-search throughput, and a generated graph end to end."""
    from binational.finance.bench import run_finance

    if not (data_dir / "finance" / "amlsim").is_dir():
        fail(f"the AMLSim samples are missing under {data_dir} (give --data-dir)")
    run_finance(quick=quick, out=out, console=console, data_dir=data_dir, scale=scale)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Entry point ``binational.cli``: add ``finance`` and ``bench finance``."""
    app.add_typer(finance_app, name="finance")
    bench_app.command("finance")(bench_finance)
