"""The policy decision point: the one place that says who may see what, for which purpose.

Deny by default. A user sees their own agency's datasets; anything else only through a live
``ShareGrant`` from the owning agency that names the user's agency (or country), the action and
the purpose of the query. Two calls serve every route:

- ``check(principal, action, resource, purpose)`` decides about one record;
- ``plan(principal, action, purpose)`` returns the ``Scope`` a store view filters by.

``check`` is computed from ``plan`` (is the record inside the planned scope?), so a list, search,
count or export can never reveal a record that ``check`` denies. Grants are read at every
decision, so a revocation or an expiry takes effect at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from followthemoney import model

from binational.core import tables as t
from binational.core.audit import AuditEvent, AuditLog, ObjectRef
from binational.core.catalog import Catalog, DatasetInfo
from binational.core.db import Database
from binational.core.errors import Forbidden, InvalidInput, NotFound, PurposeRequired
from binational.core.identity import Principal
from binational.core.store import Scope, utcnow
from binational.core.vocab import TLP, Action, Country, Purpose, Role, parse_choice

MAX_GRANT_DAYS = 3 * 365
CASE_REF_RE = re.compile(r"^[\w][\w ./:#()-]{0,127}$", re.UNICODE)


class Privilege(StrEnum):
    """What a role may do besides reading data."""

    WRITE_DATA = "write-data"
    MANAGE_GRANTS = "manage-grants"
    MANAGE_USERS = "manage-users"
    MANAGE_DATASETS = "manage-datasets"
    READ_AUDIT = "read-audit"
    READ_RECEIPTS = "read-receipts"


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ANALYST: frozenset({Action.READ, Action.SEARCH}),
    Role.SUPERVISOR: frozenset({Action.READ, Action.SEARCH, Action.EXPORT}),
    Role.AGENCY_ADMIN: frozenset({Action.READ, Action.SEARCH, Action.EXPORT}),
    # Auditors examine the trail of access, not the records themselves.
    Role.AUDITOR: frozenset(),
    Role.SYNC: frozenset({Action.READ, Action.SEARCH}),
}

ROLE_PRIVILEGES: dict[Role, frozenset[Privilege]] = {
    Role.ANALYST: frozenset(),
    Role.SUPERVISOR: frozenset({Privilege.WRITE_DATA, Privilege.READ_RECEIPTS}),
    Role.AGENCY_ADMIN: frozenset({Privilege.WRITE_DATA, Privilege.MANAGE_GRANTS,
                                  Privilege.MANAGE_USERS, Privilege.MANAGE_DATASETS,
                                  Privilege.READ_RECEIPTS}),
    Role.AUDITOR: frozenset({Privilege.READ_AUDIT, Privilege.READ_RECEIPTS}),
    Role.SYNC: frozenset({Privilege.WRITE_DATA}),
}


@dataclass(frozen=True)
class QueryContext:
    """Why a query is made: every data query carries a purpose and a case reference."""

    purpose: Purpose
    case_ref: str


def query_context(purpose: str | None, case_ref: str | None) -> QueryContext:
    if not purpose or not purpose.strip():
        choices = ", ".join(p.value for p in Purpose)
        raise PurposeRequired(f"every query needs a purpose (one of: {choices})")
    parsed = parse_choice(Purpose, purpose, "purpose")
    if not case_ref or not case_ref.strip():
        raise PurposeRequired("every query needs a case reference (e.g. FGR/2026/0142)")
    case_ref = case_ref.strip()
    if not CASE_REF_RE.match(case_ref):
        raise InvalidInput(
            "case reference must be 1-128 letters, digits, spaces or . / : # ( ) - and start "
            "with a letter or digit")
    return QueryContext(parsed, case_ref)


@dataclass(frozen=True)
class Resource:
    """A record as the policy sees it: where it lives and what kind it is."""

    dataset: str
    schema: str | None = None


@dataclass(frozen=True)
class Grant:
    id: str
    owner_agency: str
    recipient_agency: str | None
    recipient_country: Country | None
    datasets: tuple[str, ...]
    schemata: tuple[str, ...] | None
    actions: frozenset[Action]
    purposes: frozenset[Purpose]
    legal_basis: str
    tlp: TLP
    onward_sharing: bool
    parent_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "live"

    def names(self, principal: Principal) -> bool:
        if self.recipient_agency is not None:
            return self.recipient_agency == principal.agency
        return self.recipient_country == principal.country

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "owner_agency": self.owner_agency,
            "recipient_agency": self.recipient_agency,
            "recipient_country": self.recipient_country.value if self.recipient_country else None,
            "datasets": list(self.datasets),
            "schemata": list(self.schemata) if self.schemata is not None else None,
            "actions": sorted(a.value for a in self.actions),
            "purposes": sorted(p.value for p in self.purposes),
            "legal_basis": self.legal_basis, "tlp": self.tlp.value,
            "onward_sharing": self.onward_sharing, "parent_id": self.parent_id,
            "created_by": self.created_by, "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by, "revoke_reason": self.revoke_reason,
            "status": self.status(now or utcnow()),
        }


def _grant_from_row(r: Any) -> Grant:
    return Grant(
        id=r["id"], owner_agency=r["owner_agency"], recipient_agency=r["recipient_agency"],
        recipient_country=Country(r["recipient_country"]) if r["recipient_country"] else None,
        datasets=tuple(r["datasets"]),
        schemata=tuple(r["schemata"]) if r["schemata"] is not None else None,
        actions=frozenset(Action(a) for a in r["actions"]),
        purposes=frozenset(Purpose(p) for p in r["purposes"]),
        legal_basis=r["legal_basis"], tlp=TLP(r["tlp"]), onward_sharing=r["onward_sharing"],
        parent_id=r["parent_id"], created_by=r["created_by"], created_at=r["created_at"],
        expires_at=r["expires_at"], revoked_at=r["revoked_at"], revoked_by=r["revoked_by"],
        revoke_reason=r["revoke_reason"],
    )


@dataclass(frozen=True)
class Plan:
    """The outcome of ``plan``: the scope, and which grant opens each shared dataset."""

    scope: Scope
    via: dict[str, str] = field(default_factory=dict)
    owners: dict[str, DatasetInfo] = field(default_factory=dict)

    def grant_for(self, dataset: str) -> str | None:
        return self.via.get(dataset)

    def object_ref(self, entity_id: str, dataset: str) -> ObjectRef:
        info = self.owners.get(dataset)
        return ObjectRef(entity_id, dataset, info.agency if info else None,
                         info.country.value if info else None)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant_id: str | None = None


@dataclass(frozen=True)
class GrantRequest:
    owner_agency: str
    datasets: Sequence[str]
    actions: Sequence[Action]
    purposes: Sequence[Purpose]
    legal_basis: str
    expires_at: datetime
    recipient_agency: str | None = None
    recipient_country: Country | None = None
    schemata: Sequence[str] | None = None
    tlp: TLP = TLP.AMBER
    onward_sharing: bool = False
    parent_id: str | None = None


class Policy:
    def __init__(self, db: Database, catalog: Catalog, audit: AuditLog) -> None:
        self.db = db
        self.catalog = catalog
        self.audit = audit

    # -- role checks --------------------------------------------------------------------------

    def may(self, principal: Principal, privilege: Privilege) -> bool:
        return privilege in ROLE_PRIVILEGES[principal.role]

    def require(self, principal: Principal, privilege: Privilege) -> None:
        if not self.may(principal, privilege):
            raise Forbidden(
                f"role {principal.role.value} may not {privilege.value.replace('-', ' ')}")

    def require_action(self, principal: Principal, action: Action) -> None:
        if action not in ROLE_ACTIONS[principal.role]:
            raise Forbidden(f"role {principal.role.value} may not {action.value} records")

    # -- decisions ----------------------------------------------------------------------------

    def live_grants(self, principal: Principal, now: datetime | None = None) -> list[Grant]:
        """Grants naming the principal that are live now, their whole parent chain live too."""
        now = now or utcnow()
        g = t.share_grant
        q = sa.select(g).where(g.c.revoked_at.is_(None), g.c.expires_at > now)
        with self.db.read() as conn:
            live = {r["id"]: _grant_from_row(r) for r in conn.execute(q).mappings()}

        def chain_live(grant: Grant, depth: int = 0) -> bool:
            if grant.parent_id is None:
                return True
            parent = live.get(grant.parent_id)
            return parent is not None and depth < 8 and chain_live(parent, depth + 1)

        return [gr for gr in live.values() if gr.names(principal) and chain_live(gr)]

    def plan(self, principal: Principal, action: Action, purpose: Purpose,
             now: datetime | None = None) -> Plan:
        owners = self.catalog.all()
        if action not in ROLE_ACTIONS[principal.role]:
            return Plan(Scope({}), {}, owners)
        datasets: dict[str, frozenset[str] | None] = {
            name: None for name, info in owners.items() if info.agency == principal.agency
        }
        via: dict[str, str] = {}
        for grant in sorted(self.live_grants(principal, now), key=lambda x: x.id):
            if action not in grant.actions or purpose not in grant.purposes:
                continue
            for name in grant.datasets:
                info = owners.get(name)
                # A grant opens only datasets its owner owns, whatever was stored in it.
                if info is None or info.agency != grant.owner_agency:
                    continue
                if info.agency == principal.agency or (name in datasets
                                                       and datasets[name] is None):
                    continue  # own data, or already opened whole by an earlier grant
                schemata = frozenset(grant.schemata) if grant.schemata is not None else None
                current = datasets.get(name, frozenset())
                if schemata is None or current is None:
                    datasets[name] = None
                else:
                    datasets[name] = current | schemata
                via.setdefault(name, grant.id)
        return Plan(Scope(datasets), via, owners)

    def check(self, principal: Principal, action: Action, resource: Resource,
              purpose: Purpose, now: datetime | None = None) -> Decision:
        plan = self.plan(principal, action, purpose, now)
        if plan.scope.contains(resource.dataset, resource.schema):
            grant = plan.grant_for(resource.dataset)
            return Decision(True, "granted" if grant else "own agency", grant)
        if action not in ROLE_ACTIONS[principal.role]:
            return Decision(False, f"role {principal.role.value} may not {action.value}")
        return Decision(False, "no live grant covers this record for this action and purpose")

    # -- grants -------------------------------------------------------------------------------

    def get_grant(self, grant_id: str) -> Grant:
        with self.db.read() as conn:
            row = conn.execute(sa.select(t.share_grant).where(t.share_grant.c.id == grant_id))
            found = row.mappings().first()
        if found is None:
            raise NotFound(f"no grant {grant_id!r}")
        return _grant_from_row(found)

    def grants(self, principal: Principal) -> list[Grant]:
        """Grants the principal's agency gave, received (directly or by country), or passed on."""
        g = t.share_grant
        q = sa.select(g).where(sa.or_(
            g.c.owner_agency == principal.agency, g.c.recipient_agency == principal.agency,
            g.c.recipient_country == principal.country.value,
            g.c.created_by.like(f"{principal.agency}:%"),
        )).order_by(g.c.created_at.desc())
        with self.db.read() as conn:
            return [_grant_from_row(r) for r in conn.execute(q).mappings()]

    def create_grant(self, principal: Principal, req: GrantRequest,
                     ctx_request_id: str | None = None) -> Grant:
        self.require(principal, Privilege.MANAGE_GRANTS)
        now = utcnow()
        owners = self.catalog.all()
        try:
            grant = self._validate(principal, req, owners, now)
        except (InvalidInput, Forbidden, NotFound) as exc:
            self.audit.append(AuditEvent(
                action="grant.create", outcome="denied" if isinstance(exc, Forbidden)
                else "invalid", actor=principal.username, agency=principal.agency,
                country=principal.country.value, request_id=ctx_request_id,
                detail={"error": exc.message, "datasets": list(req.datasets)}))
            raise
        with self.db.write() as conn:
            conn.execute(sa.insert(t.share_grant).values(
                id=grant.id, owner_agency=grant.owner_agency,
                recipient_agency=grant.recipient_agency,
                recipient_country=grant.recipient_country.value if grant.recipient_country
                else None,
                datasets=list(grant.datasets),
                schemata=list(grant.schemata) if grant.schemata is not None else None,
                actions=sorted(a.value for a in grant.actions),
                purposes=sorted(p.value for p in grant.purposes),
                legal_basis=grant.legal_basis, tlp=grant.tlp.value,
                onward_sharing=grant.onward_sharing, parent_id=grant.parent_id,
                created_by=grant.created_by, created_at=grant.created_at,
                expires_at=grant.expires_at))
        self.audit.append(AuditEvent(
            action="grant.create", outcome="ok", actor=principal.username,
            agency=principal.agency, country=principal.country.value,
            objects=tuple(ObjectRef(grant.id, d, owners[d].agency, owners[d].country.value)
                          for d in grant.datasets),
            request_id=ctx_request_id, detail=grant.to_dict(now)))
        return grant

    def _validate(self, principal: Principal, req: GrantRequest,
                  owners: dict[str, DatasetInfo], now: datetime) -> Grant:
        owner = req.owner_agency.strip().upper()
        if (req.recipient_agency is None) == (req.recipient_country is None):
            raise InvalidInput("a grant names exactly one recipient: an agency or a country")
        recipient_agency = req.recipient_agency.strip().upper() if req.recipient_agency else None
        if recipient_agency is not None:
            with self.db.read() as conn:
                exists = conn.execute(sa.select(t.agency.c.code)
                                      .where(t.agency.c.code == recipient_agency)).first()
            if exists is None:
                raise NotFound(f"no recipient agency {recipient_agency!r}")
            if recipient_agency == owner:
                raise InvalidInput("an agency does not need a grant to its own datasets")
        datasets = tuple(sorted(set(req.datasets)))
        if not datasets:
            raise InvalidInput("a grant covers at least one dataset")
        for name in datasets:
            if name not in owners:
                raise NotFound(f"no dataset {name!r}")
            if owners[name].agency != owner:
                raise InvalidInput(f"dataset {name} belongs to {owners[name].agency}, not {owner}")
        actions = frozenset(req.actions)
        purposes = frozenset(req.purposes)
        if not actions:
            raise InvalidInput("a grant allows at least one action (read, search, export)")
        if not purposes:
            raise InvalidInput("a grant is bound to at least one purpose")
        if Purpose.AUDIT in purposes:
            raise InvalidInput("the audit purpose is for auditors and cannot be granted")
        if not req.legal_basis.strip():
            raise InvalidInput("a grant needs its legal basis (treaty, MOU or statute)")
        if req.expires_at.tzinfo is None:
            raise InvalidInput("expiry must carry a time zone (use UTC)")
        if req.expires_at <= now:
            raise InvalidInput("expiry must be in the future")
        if req.expires_at > now + timedelta(days=MAX_GRANT_DAYS):
            raise InvalidInput(f"a grant lasts at most {MAX_GRANT_DAYS} days; renew it later")
        schemata: tuple[str, ...] | None = None
        if req.schemata:
            unknown = [s for s in req.schemata if model.get(s) is None]
            if unknown:
                raise InvalidInput(f"unknown schema in grant filter: {', '.join(unknown)}")
            schemata = tuple(sorted(set(req.schemata)))
        if req.tlp in (TLP.RED, TLP.AMBER_STRICT):
            if recipient_agency is None:
                raise InvalidInput(f"TLP:{req.tlp.value} is shared with a named agency only")
            if req.onward_sharing:
                raise InvalidInput(f"TLP:{req.tlp.value} forbids onward sharing")

        parent_id = req.parent_id
        if owner == principal.agency:
            if parent_id is not None:
                raise InvalidInput("an owner grants its own datasets directly, without a parent")
        else:
            # Onward sharing: the principal's agency passes on what it received, never more.
            parent = self._onward_parent(principal, owner, datasets, actions, purposes,
                                         req.expires_at, schemata, parent_id, now)
            parent_id = parent.id
            if recipient_agency == principal.agency:
                raise InvalidInput("an agency does not pass a grant on to itself")
        return Grant(
            id=f"g_{secrets.token_hex(8)}", owner_agency=owner,
            recipient_agency=recipient_agency, recipient_country=req.recipient_country,
            datasets=datasets, schemata=schemata, actions=actions, purposes=purposes,
            legal_basis=req.legal_basis.strip(), tlp=req.tlp,
            onward_sharing=req.onward_sharing, parent_id=parent_id,
            created_by=f"{principal.agency}:{principal.username}", created_at=now,
            expires_at=req.expires_at,
        )

    def _onward_parent(self, principal: Principal, owner: str, datasets: Iterable[str],
                       actions: frozenset[Action], purposes: frozenset[Purpose],
                       expires_at: datetime, schemata: tuple[str, ...] | None,
                       parent_id: str | None, now: datetime) -> Grant:
        for grant in self.live_grants(principal, now):
            if parent_id is not None and grant.id != parent_id:
                continue
            if (grant.owner_agency == owner and grant.onward_sharing
                    and set(datasets) <= set(grant.datasets) and actions <= grant.actions
                    and purposes <= grant.purposes and expires_at <= grant.expires_at
                    and (grant.schemata is None
                         or (schemata is not None and set(schemata) <= set(grant.schemata)))):
                return grant
        raise Forbidden(
            f"{principal.agency} holds no live grant from {owner} that allows onward sharing "
            "of these datasets with these actions, purposes and expiry")

    def revoke_grant(self, principal: Principal, grant_id: str, reason: str,
                     request_id: str | None = None) -> Grant:
        self.require(principal, Privilege.MANAGE_GRANTS)
        if not reason.strip():
            raise InvalidInput("say why the grant is revoked")
        grant = self.get_grant(grant_id)
        created_by_agency = grant.created_by.split(":", 1)[0]
        if principal.agency not in (grant.owner_agency, created_by_agency):
            raise NotFound(f"no grant {grant_id!r}")
        if grant.revoked_at is not None:
            raise InvalidInput(f"grant {grant_id} was revoked already")
        now = utcnow()
        with self.db.write() as conn:
            conn.execute(sa.update(t.share_grant).where(t.share_grant.c.id == grant_id).values(
                revoked_at=now, revoked_by=f"{principal.agency}:{principal.username}",
                revoke_reason=reason.strip()))
        self.audit.append(AuditEvent(
            action="grant.revoke", outcome="ok", actor=principal.username,
            agency=principal.agency, country=principal.country.value,
            objects=(ObjectRef(grant_id),), request_id=request_id,
            detail={"reason": reason.strip()}))
        return self.get_grant(grant_id)

