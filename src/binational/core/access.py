"""Reading and writing records on behalf of a user: plan, query, audit, receipts, in one place.

Every route, CLI command and capability that touches records goes through ``Access``: it asks
the policy for the reader's scope, queries a view bound to that scope, and writes the audit
record (with an access receipt for every record another agency owns) whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from followthemoney import EntityProxy, StatementEntity, model
from followthemoney.exc import InvalidData

from binational.core import tables as t
from binational.core.audit import AuditEvent, AuditLog, ObjectRef, Receipt
from binational.core.errors import BinationalError, InvalidInput, NotFound
from binational.core.identity import Principal
from binational.core.policy import Plan, Policy, Privilege, QueryContext
from binational.core.store import Store
from binational.core.vocab import Action


class Disclosed(Protocol):
    """A record a query returned, as the audit trail names it: an entity, or a capability's
    lighter stand-in for one (its id and the datasets it came from)."""

    @property
    def id(self) -> str | None: ...

    @property
    def datasets(self) -> set[str]: ...


@dataclass(frozen=True)
class Caller:
    """Who asks, why, and from where: what every audit record needs."""

    principal: Principal
    context: QueryContext
    request_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class Page:
    entities: list[StatementEntity]
    total: int
    limit: int
    offset: int


class Access:
    def __init__(self, store: Store, policy: Policy, audit: AuditLog) -> None:
        self.store = store
        self.policy = policy
        self.audit = audit

    def plan(self, caller: Caller, action: Action) -> Plan:
        self.policy.require_action(caller.principal, action)
        return self.policy.plan(caller.principal, action, caller.context.purpose)

    # -- audit helpers ------------------------------------------------------------------------

    def _event(self, caller: Caller, action: str, outcome: str,
               objects: Sequence[ObjectRef] = (), **detail: Any) -> AuditEvent:
        p = caller.principal
        return AuditEvent(action=action, outcome=outcome, actor=p.username, agency=p.agency,
                          country=p.country.value, objects=tuple(objects),
                          purpose=caller.context.purpose.value, case_ref=caller.context.case_ref,
                          request_id=caller.request_id, client=caller.client, detail=detail)

    def _receipts(self, caller: Caller, plan: Plan, action: Action,
                  entities: Sequence[Disclosed]) -> list[Receipt]:
        p = caller.principal
        out: list[Receipt] = []
        for entity in entities:
            for ds in sorted(entity.datasets):
                info = plan.owners.get(ds)
                if info is None or info.agency == p.agency or entity.id is None:
                    continue
                out.append(Receipt(
                    owner_agency=info.agency, owner_country=info.country.value, dataset=ds,
                    object_id=entity.id, reader=p.username, reader_agency=p.agency,
                    reader_country=p.country.value, action=action.value,
                    grant_id=plan.grant_for(ds), purpose=caller.context.purpose.value,
                    case_ref=caller.context.case_ref))
        return out

    def _refs(self, plan: Plan, entities: Sequence[Disclosed]) -> list[ObjectRef]:
        return [plan.object_ref(e.id, ds) for e in entities if e.id for ds in sorted(e.datasets)]

    def _denied(self, caller: Caller, action: str, exc: BinationalError,
                objects: Sequence[ObjectRef] = ()) -> None:
        self.audit.append(self._event(caller, action, _outcome(exc), objects, error=exc.message))

    # -- for capabilities: the same audit trail for their own kinds of query ----------------

    def record_results(self, caller: Caller, plan: Plan, action: Action, event: str,
                       entities: Sequence[Disclosed], **detail: Any) -> None:
        """Audit a successful query that returned these records (with access receipts for
        the ones other agencies own). ``event`` names it, e.g. ``screening.match``."""
        self.audit.append(self._event(caller, event, "ok", self._refs(plan, entities), **detail),
                          self._receipts(caller, plan, action, entities))

    def record_failure(self, caller: Caller, event: str, exc: BinationalError,
                       **detail: Any) -> None:
        """Audit a query that was refused or malformed."""
        self.audit.append(self._event(caller, event, _outcome(exc), [], error=exc.message,
                                      **detail))

    # -- reads --------------------------------------------------------------------------------

    def get_entity(self, caller: Caller, entity_id: str) -> StatementEntity:
        try:
            plan = self.plan(caller, Action.READ)
        except BinationalError as exc:
            self._denied(caller, "entity.read", exc, [ObjectRef(entity_id)])
            raise
        entity = self.store.view(plan.scope).get_entity(entity_id)
        if entity is None:
            # Tell the audit trail (not the caller) whether the record exists elsewhere.
            owners = self._owners_of(entity_id)
            refs = [plan.object_ref(entity_id, ds) for ds in owners] or [ObjectRef(entity_id)]
            self.audit.append(self._event(caller, "entity.read",
                                          "denied" if owners else "not_found", refs))
            raise NotFound(f"no entity {entity_id!r}")
        self.audit.append(self._event(caller, "entity.read", "ok", self._refs(plan, [entity])),
                          self._receipts(caller, plan, Action.READ, [entity]))
        return entity

    def _owners_of(self, entity_id: str) -> list[str]:
        st = t.statement
        q = sa.select(st.c.dataset).where(st.c.entity_id == entity_id).distinct()
        with self.store.db.read() as conn:
            return sorted(r[0] for r in conn.execute(q))

    def search(self, caller: Caller, q: str | None = None, schema: str | None = None,
               datasets: Sequence[str] | None = None, limit: int = 20,
               offset: int = 0) -> Page:
        detail = {"q": q, "schema": schema, "datasets": list(datasets or []), "limit": limit,
                  "offset": offset}
        try:
            _check_schema(schema)
            plan = self.plan(caller, Action.SEARCH)
            view = self.store.view(plan.scope.restrict(datasets))
            total = view.count(q, schema)
            entities = view.search(q, schema, limit, offset)
        except BinationalError as exc:
            self.audit.append(self._event(caller, "entity.search", _outcome(exc), [],
                                          error=exc.message, **detail))
            raise
        self.audit.append(self._event(caller, "entity.search", "ok", self._refs(plan, entities),
                                      total=total, **detail),
                          self._receipts(caller, plan, Action.SEARCH, entities))
        return Page(entities, total, limit, offset)

    def count(self, caller: Caller, q: str | None = None, schema: str | None = None,
              datasets: Sequence[str] | None = None) -> int:
        detail = {"q": q, "schema": schema, "datasets": list(datasets or [])}
        try:
            _check_schema(schema)
            plan = self.plan(caller, Action.SEARCH)
            total = self.store.view(plan.scope.restrict(datasets)).count(q, schema)
        except BinationalError as exc:
            self.audit.append(self._event(caller, "entity.count", _outcome(exc), [],
                                          error=exc.message, **detail))
            raise
        self.audit.append(self._event(caller, "entity.count", "ok", [], total=total, **detail))
        return total

    def export(self, caller: Caller, schema: str | None = None,
               datasets: Sequence[str] | None = None) -> Iterator[StatementEntity]:
        """Stream visible entities; the audit record (with receipts) is written at the end,
        or when the stream is abandoned, and counts what actually left."""
        detail: dict[str, Any] = {"schema": schema, "datasets": list(datasets or [])}
        try:
            _check_schema(schema)
            plan = self.plan(caller, Action.EXPORT)
        except BinationalError as exc:
            self.audit.append(self._event(caller, "entity.export", _outcome(exc), [],
                                          error=exc.message, **detail))
            raise
        view = self.store.view(plan.scope.restrict(datasets))
        sent: list[StatementEntity] = []
        outcome = "error"
        try:
            for entity in view.entities(schema):
                yield entity
                sent.append(entity)
            outcome = "ok"
        finally:
            receipts = self._receipts(caller, plan, Action.EXPORT, sent)
            self.audit.append(self._event(caller, "entity.export", outcome,
                                          self._refs(plan, sent), count=len(sent), **detail),
                              receipts)

    # -- writes -------------------------------------------------------------------------------

    def _writable(self, caller: Caller, dataset: str, action: str) -> None:
        try:
            self.policy.require(caller.principal, Privilege.WRITE_DATA)
            info = self.policy.catalog.get(dataset)
            if info.agency != caller.principal.agency:
                # Records of other agencies are never written by anyone else.
                raise NotFound(f"no dataset {dataset!r}")
        except BinationalError as exc:
            self._denied(caller, action, exc, [ObjectRef(dataset, dataset)])
            raise

    def put_entity(self, caller: Caller, dataset: str, data: dict[str, Any]) -> StatementEntity:
        self._writable(caller, dataset, "entity.write")
        try:
            proxy = parse_entity(data)
        except InvalidInput as exc:
            self._denied(caller, "entity.write", exc, [ObjectRef(str(data.get("id")), dataset)])
            raise
        with self.store.db.write() as conn:
            writer = self.store.writer(conn, dataset, origin=f"api:{caller.principal.username}")
            entity_id = writer.add_entity(proxy)
            writer.flush()
        plan = self.policy.plan(caller.principal, Action.READ, caller.context.purpose)
        self.audit.append(self._event(caller, "entity.write", "ok",
                                      [plan.object_ref(entity_id, dataset)],
                                      statements_new=writer.stats.statements_new))
        entity = self.store.view(plan.scope.restrict([dataset])).get_entity(entity_id)
        assert entity is not None
        return entity

    def delete_entity(self, caller: Caller, dataset: str, entity_id: str) -> int:
        self._writable(caller, dataset, "entity.delete")
        with self.store.db.write() as conn:
            deleted = self.store.writer(conn, dataset).delete_entity(entity_id)
        plan = self.policy.plan(caller.principal, Action.READ, caller.context.purpose)
        ref = plan.object_ref(entity_id, dataset)
        if not deleted:
            self.audit.append(self._event(caller, "entity.delete", "not_found", [ref]))
            raise NotFound(f"no entity {entity_id!r} in dataset {dataset}")
        self.audit.append(self._event(caller, "entity.delete", "ok", [ref], statements=deleted))
        return deleted


def parse_entity(data: dict[str, Any]) -> EntityProxy:
    if not isinstance(data, dict):
        raise InvalidInput("an entity is a JSON object with id, schema and properties")
    if not data.get("id") or not data.get("schema"):
        raise InvalidInput("an entity needs an 'id' and a 'schema'")
    if model.get(data["schema"]) is None:
        raise InvalidInput(f"unknown schema {data['schema']!r}")
    try:
        return model.get_proxy(data, cleaned=False)
    except InvalidData as exc:
        raise InvalidInput(f"invalid entity: {exc}") from exc


def _check_schema(schema: str | None) -> None:
    if schema is not None and model.get(schema) is None:
        raise InvalidInput(f"unknown schema {schema!r}")


def _outcome(exc: BinationalError) -> str:
    return {"not_found": "not_found", "forbidden": "denied"}.get(exc.code, "invalid")
