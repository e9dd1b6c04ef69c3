"""Setting up and administering the platform: init, agencies, datasets, users, tokens, grants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
import typer

from binational.core.cli.common import (
    audit_operator,
    console,
    fail,
    make_table,
    open_platform,
    parse_many,
    print_json,
    say,
    when,
)
from binational.core.db import Database

agency_app = typer.Typer(
    help="Agencies: the owners of datasets and the employers of users.", no_args_is_help=True
)
dataset_app = typer.Typer(
    help="Datasets: named collections of records owned by one agency.", no_args_is_help=True
)
user_app = typer.Typer(
    help="People and machine accounts that sign in to the platform.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens for scripts and sync jobs.", no_args_is_help=True)
grant_app = typer.Typer(
    help="Share grants: an owner agency lets another agency or country use its datasets "
    "for named purposes until a date.",
    no_args_is_help=True,
)


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database, add the two countries and create the audit signing key.

    Safe to run again: it only adds what is missing.
    """
    platform = open_platform(ctx)
    platform.identity.ensure_countries()
    key_id = platform.audit.key_id  # loading the key creates it on first use
    settings = platform.settings
    say("Binational is ready.", "bold green")
    say(f"database:          {platform.db.url.render_as_string(hide_password=True)}")
    say(f"audit signing key: {settings.resolved_signing_key_file()} (key id {key_id})")
    if settings.secret_key is None:
        say(f"secret key file:   {settings.data_dir / 'secret.key'}")
    say(
        "Keep the key files private and backed up: without the signing key old checkpoints "
        "cannot be re-signed, without the secret key no one can sign in with a second factor."
    )


# -- agencies ----------------------------------------------------------------------------------


@agency_app.command("add")
def agency_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. FINCEN or UIF.")],
    name: Annotated[str, typer.Option("--name", help="Full name of the agency.")],
    country: Annotated[str, typer.Option("--country", help="US or MX.")],
) -> None:
    """Add an agency of one of the two countries."""
    from binational.core.vocab import Country, parse_choice

    parsed = parse_choice(Country, country.upper(), "country")
    platform = open_platform(ctx)
    agency = platform.identity.add_agency(code, name, parsed)
    audit_operator(
        platform,
        "agency.create",
        agency=agency.code,
        country=agency.country.value,
        detail={"code": agency.code, "name": agency.name},
    )
    say(f"added agency {agency.code} ({agency.name}, {agency.country.value})", "green")


@agency_app.command("list")
def agency_list(ctx: typer.Context) -> None:
    """List all agencies."""
    platform = open_platform(ctx)
    table = make_table("Code", "Name", "Country", title="Agencies")
    for a in platform.identity.agencies():
        table.add_row(a.code, a.name, a.country.value)
    console.print(table)


# -- datasets ----------------------------------------------------------------------------------


@dataset_app.command("add")
def dataset_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Lower-case name, e.g. uif_designated_companies.")],
    agency: Annotated[str, typer.Option("--agency", help="Code of the owning agency.")],
    title: Annotated[str, typer.Option("--title", help="Human-readable title.")],
    description: Annotated[
        str | None, typer.Option("--description", help="What the dataset holds.")
    ] = None,
) -> None:
    """Add an empty dataset owned by an agency; load records with `binational ingest`."""
    platform = open_platform(ctx)
    info = platform.catalog.add(name, agency, title, description)
    audit_operator(
        platform,
        "dataset.create",
        agency=info.agency,
        country=info.country.value,
        detail={"dataset": info.name, "title": info.title},
    )
    say(f"added dataset {info.name} owned by {info.agency} ({info.country.value})", "green")


def statement_counts(db: Database, names: list[str]) -> dict[str, int]:
    """Statements per dataset (``Store.dataset_counts`` counts entities)."""
    from binational.core import tables as t

    st = t.statement
    q = (
        sa.select(st.c.dataset, sa.func.count())
        .where(st.c.dataset.in_(names))
        .group_by(st.c.dataset)
    )
    with db.read() as conn:
        counts = {str(r[0]): int(r[1]) for r in conn.execute(q)}
    return {n: counts.get(n, 0) for n in names}


@dataset_app.command("list")
def dataset_list(ctx: typer.Context) -> None:
    """List all datasets with their owners and how many entities and statements they hold."""
    platform = open_platform(ctx)
    infos = platform.catalog.all()
    names = sorted(infos)
    entities = platform.store.dataset_counts(names)
    statements = statement_counts(platform.db, names) if names else {}
    table = make_table(
        "Name", "Owner", "Country", "Title", "Entities", "Statements", title="Datasets"
    )
    for name in names:
        info = infos[name]
        table.add_row(
            name,
            info.agency,
            info.country.value,
            info.title,
            str(entities.get(name, 0)),
            str(statements.get(name, 0)),
        )
    console.print(table)


# -- users -------------------------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = typer.get_text_stream("stdin").readline()
        password = line.rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Lower-case sign-in name, e.g. ana.fincen.")],
    agency: Annotated[str, typer.Option("--agency", help="Code of the user's agency.")],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="analyst, supervisor, agency-admin, auditor or sync (machine account)."
        ),
    ],
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Full name shown in the UI.")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input instead of asking twice.",
        ),
    ] = False,
) -> None:
    """Add a user. People get a password and a one-time-code (TOTP) second factor; `sync`
    accounts get neither and use API tokens."""
    from binational.core.vocab import Role, parse_choice

    parsed = parse_choice(Role, role.lower(), "role")
    platform = open_platform(ctx)
    ag = platform.identity.get_agency(agency)  # fail before asking for a password
    password = None if parsed == Role.SYNC else _read_password(password_stdin)
    new = platform.identity.add_user(username, ag.code, parsed, password, display_name)
    audit_operator(
        platform,
        "user.create",
        agency=ag.code,
        country=ag.country.value,
        detail={"username": new.username, "role": new.role.value},
    )
    say(f"added {new.role.value} {new.username} of {new.agency}", "green")
    if new.totp_uri and new.totp_secret:
        say(
            "Second factor (shown only this once): add it to an authenticator app now, "
            "by the URI (or a QR code made from it) or by the secret.",
            "bold yellow",
        )
        say(f"TOTP URI:    {new.totp_uri}")
        say(f"TOTP secret: {new.totp_secret}")
    else:
        say(f"create an API token for it: binational token create {new.username} --label ...")


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency.")] = None,
) -> None:
    """List users, their roles and whether they are active or locked."""
    platform = open_platform(ctx)
    table = make_table(
        "Username", "Agency", "Role", "Active", "Locked until", "Created", title="Users"
    )
    now = datetime.now(UTC)
    for u in platform.identity.users(agency):
        locked = u["locked_until"]
        locked_text = when(locked) if isinstance(locked, datetime) and locked > now else ""
        created = u["created_at"]
        table.add_row(
            str(u["username"]),
            str(u["agency"]),
            str(u["role"]),
            "yes" if u["active"] else "no",
            locked_text,
            when(created) if isinstance(created, datetime) else "",
        )
    console.print(table)


def _user_agency(platform_users: list[dict[str, object]], username: str) -> str | None:
    for u in platform_users:
        if u["username"] == username:
            return str(u["agency"])
    return None


@user_app.command("unlock")
def user_unlock(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The locked user.")],
) -> None:
    """Unlock an account locked after too many failed sign-ins."""
    platform = open_platform(ctx)
    username = username.strip().lower()
    platform.identity.unlock(username)
    audit_operator(
        platform,
        "user.unlock",
        agency=_user_agency(platform.identity.users(), username),
        detail={"username": username},
    )
    say(f"unlocked {username}", "green")


@user_app.command("deactivate")
def user_deactivate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to switch off.")],
) -> None:
    """Deactivate a user: ends their sessions and revokes their API tokens. Records stay."""
    platform = open_platform(ctx)
    username = username.strip().lower()
    platform.identity.deactivate(username)
    audit_operator(
        platform,
        "user.deactivate",
        agency=_user_agency(platform.identity.users(), username),
        detail={"username": username},
    )
    say(f"deactivated {username}; their sessions ended and API tokens were revoked", "green")


# -- tokens ------------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="Days until it expires.")
    ] = 365,
) -> None:
    """Create an API token for a user; it is printed once and stored only as a hash."""
    platform = open_platform(ctx)
    principal = platform.identity.principal(username)
    token = platform.identity.create_api_token(username, label, expires_days=days)
    audit_operator(
        platform,
        "token.create",
        agency=principal.agency,
        country=principal.country.value,
        detail={
            "username": principal.username,
            "label": label.strip(),
            "token_id": token.split("_")[1],
            "days": days,
        },
    )
    say(
        f"API token for {principal.username} ({label.strip()}), valid {days} days. "
        "It is shown only this once:",
        "bold yellow",
    )
    say(token)


# -- grants ------------------------------------------------------------------------------------


def _expiry(expires: str | None, days: int | None) -> datetime:
    from binational.core.errors import InvalidInput

    if (expires is None) == (days is None):
        raise InvalidInput("give the expiry either as --expires YYYY-MM-DD or as --days N")
    if days is not None:
        return datetime.now(UTC) + timedelta(days=days)
    assert expires is not None
    try:
        day = date.fromisoformat(expires.strip())
    except ValueError:
        raise InvalidInput(f"--expires {expires!r} is not a date like 2026-12-31") from None
    # The grant holds through the whole of the named day (UTC).
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, seconds=-1)


@grant_app.command("add")
def grant_add(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option("--owner", help="Agency that owns the datasets.")],
    dataset: Annotated[
        list[str], typer.Option("--dataset", metavar="NAME", help="Dataset to share (repeat).")
    ],
    action: Annotated[
        list[str],
        typer.Option(
            "--action",
            metavar="ACTION",
            help="read, search or export (repeat, or comma-separated).",
        ),
    ],
    purpose: Annotated[
        list[str],
        typer.Option(
            "--purpose",
            metavar="PURPOSE",
            help="Purpose the data may be used for, e.g. illicit-finance (repeat).",
        ),
    ],
    legal_basis: Annotated[
        str, typer.Option("--legal-basis", help="Treaty, MOU or statute that allows the sharing.")
    ],
    to_agency: Annotated[str | None, typer.Option("--to-agency", help="Receiving agency.")] = None,
    to_country: Annotated[
        str | None,
        typer.Option("--to-country", help="Receiving country (all its agencies): US or MX."),
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Last day of the grant, YYYY-MM-DD (UTC).")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, help="Or: days from now.")] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option(
            "--schema", metavar="SCHEMA", help="Only records of this type, e.g. Company (repeat)."
        ),
    ] = None,
    tlp: Annotated[
        str,
        typer.Option(
            "--tlp",
            help="Traffic Light Protocol marking: CLEAR, GREEN, AMBER, AMBER+STRICT or RED.",
        ),
    ] = "AMBER",
    onward_sharing: Annotated[
        bool,
        typer.Option("--onward-sharing", help="Let the recipient pass the grant on (never more)."),
    ] = False,
) -> None:
    """Share datasets of an agency with another agency or a whole country, for named actions
    and purposes, until an expiry date. The change is recorded in the audit log."""
    from binational.core.identity import operator
    from binational.core.policy import GrantRequest
    from binational.core.vocab import TLP, Action, Country, Purpose, parse_choice

    actions = parse_many(lambda v: parse_choice(Action, v.lower(), "action"), action)
    purposes = parse_many(lambda v: parse_choice(Purpose, v.lower(), "purpose"), purpose)
    country = parse_choice(Country, to_country.upper(), "country") if to_country else None
    marking = parse_choice(TLP, tlp.upper(), "TLP marking")
    expires_at = _expiry(expires, days)
    platform = open_platform(ctx)
    ag = platform.identity.get_agency(owner)
    grant = platform.policy.create_grant(
        operator(ag.code, ag.country),
        GrantRequest(
            owner_agency=ag.code,
            datasets=parse_many(str.strip, dataset),
            actions=actions,
            purposes=purposes,
            legal_basis=legal_basis,
            expires_at=expires_at,
            recipient_agency=to_agency,
            recipient_country=country,
            schemata=parse_many(str.strip, schema) if schema else None,
            tlp=marking,
            onward_sharing=onward_sharing,
        ),
    )
    recipient = grant.recipient_agency or f"all of {grant.recipient_country}"
    say(f"granted {grant.id}: {grant.owner_agency} -> {recipient}", "green")
    say(f"  datasets: {', '.join(grant.datasets)}")
    say(f"  actions:  {', '.join(sorted(a.value for a in grant.actions))}")
    say(f"  purposes: {', '.join(sorted(p.value for p in grant.purposes))}")
    say(f"  TLP:{grant.tlp.value}, expires {when(grant.expires_at)}")


@grant_app.command("list")
def grant_list(
    ctx: typer.Context,
    agency: Annotated[
        str, typer.Option("--agency", help="List grants this agency gave, received or passed on.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the grants an agency gave, received (directly or by country) or passed on."""
    from binational.core.identity import operator

    platform = open_platform(ctx)
    ag = platform.identity.get_agency(agency)
    grants = platform.policy.grants(operator(ag.code, ag.country))
    now = datetime.now(UTC)
    if as_json:
        print_json([g.to_dict(now) for g in grants])
        return
    table = make_table(
        "Id",
        "Owner",
        "Recipient",
        "Datasets",
        "Actions",
        "Purposes",
        "TLP",
        "Expires",
        "Status",
        title=f"Grants of {ag.code}",
    )
    for g in grants:
        table.add_row(
            g.id,
            g.owner_agency,
            g.recipient_agency or f"country {g.recipient_country}",
            ", ".join(g.datasets),
            ", ".join(sorted(a.value for a in g.actions)),
            ", ".join(sorted(p.value for p in g.purposes)),
            g.tlp.value,
            when(g.expires_at),
            g.status(now),
        )
    console.print(table)


@grant_app.command("revoke")
def grant_revoke(
    ctx: typer.Context,
    grant_id: Annotated[str, typer.Argument(help="Id of the grant, e.g. g_0123abcd4567ef89.")],
    agency: Annotated[
        str, typer.Option("--agency", help="The owner agency (or the one that passed it on).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked (audited).")],
) -> None:
    """Revoke a grant at once; the recipient loses access with their next query."""
    from binational.core.identity import operator

    platform = open_platform(ctx)
    ag = platform.identity.get_agency(agency)
    grant = platform.policy.revoke_grant(operator(ag.code, ag.country), grant_id, reason)
    say(f"revoked {grant.id} ({grant.revoke_reason})", "green")
