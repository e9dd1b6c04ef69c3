"""Resolution on the platform: runs, the review queue, judgements and resolved entities.

Everything is read in the caller's policy scope (``Access.plan``): a run links only records
the caller may see; a candidate pair or a judgement is shown only to readers whose scope
covers *both* of its records; a resolved entity is assembled from the visible links only, so a
reader who sees one side learns nothing about the other (not even through the canonical id,
which is derived from the visible members). Every query leaves an audit record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from followthemoney import StatementEntity

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.errors import BinationalError, InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.policy import Plan
from binational.core.store import IS_REFERENCE, Scope, expand_schemata, utcnow
from binational.core.vocab import Action, check_choice
from binational.resolution import judgements as jd
from binational.resolution.companies import entity_pairs, with_variants
from binational.resolution.companies import from_rows as company_rows
from binational.resolution.pipeline import link
from binational.resolution.records import COLUMNS, from_rows
from binational.resolution.tables import resolution_candidate, resolution_judgement, visible

ACCEPT = 0.9  # a scored pair at or above this counts as the same entity until judged
REVIEW_FLOOR = 0.2  # pairs scored below this are not kept at all
LINKED_SCHEMATA = ("Person",)
# Linked with each other, never with people: LegalEntity covers Organization, Company,
# PublicBody (and Person, which is taken out).
ORGANISATION_SCHEMATA = ("LegalEntity",)


@dataclass
class Candidate:
    left_id: str
    left_dataset: str
    right_id: str
    right_dataset: str
    score: float
    evidence: dict[str, Any]
    value: float = 0.0
    judgement: jd.Decision | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"left_id": self.left_id, "left_dataset": self.left_dataset,
                "right_id": self.right_id, "right_dataset": self.right_dataset,
                "score": round(self.score, 4), "value": round(self.value, 4),
                "evidence": self.evidence,
                "judgement": self.judgement.to_dict() if self.judgement else None}


@dataclass
class ResolvedEntity:
    """A canonical entity: its member records, and the links (with evidence) joining them."""

    id: str
    members: list[StatementEntity]
    links: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        caption = self.members[0].caption if self.members else self.id
        return {"id": self.id, "caption": caption,
                "members": [{"id": m.id, "caption": m.caption, "schema": m.schema.name,
                             "datasets": sorted(m.datasets),
                             "properties": m.to_dict().get("properties", {})}
                            for m in self.members],
                "links": self.links}


def _first_of(entity: StatementEntity) -> Callable[..., str]:
    """The first value (in sorted order) of the first of some properties that has one."""

    def first(*props: str) -> str:
        for prop in props:
            values = entity.get(prop, quiet=True)
            if values:
                return str(sorted(values)[0])
        return ""

    return first


def entity_row(entity: StatementEntity) -> dict[str, str]:
    """An FtM person as a linkage record (the standard source fields of ``records``)."""
    first = _first_of(entity)
    row = {"unique_id": str(entity.id), "name": first("name"),
           "given": first("firstName"), "surname1": first("fatherName"),
           "surname2": first("motherName"), "dob": first("birthDate"),
           "identifier": first("idNumber", "taxNumber", "nationalId", "passportNumber"),
           "street": first("address"), "phone": first("phone")}
    if row["surname1"] and not row["given"]:
        row["given"] = " ".join(row["name"].split()[:1])
    return row


def company_row(entity: StatementEntity) -> dict[str, str]:
    """An FtM organisation (Company, Organization, LegalEntity ...) as a company linkage
    record (the standard source fields of ``companies``)."""
    first = _first_of(entity)
    return {"unique_id": str(entity.id), "name": first("name"),
            "legal_form": first("legalForm"),
            "identifier": first("taxNumber", "registrationNumber", "vatCode", "leiCode",
                                "innCode", "ogrnCode", "dunsCode", "idNumber"),
            "founded": first("incorporationDate"), "street": first("address"),
            "country": first("jurisdiction", "country", "mainCountry"),
            "phone": first("phone")}


def is_person(entity: StatementEntity) -> bool:
    return bool(entity.schema.is_a("Person"))


def _decision(r: Any) -> jd.Decision:
    return jd.Decision(id=r.id, seq=r.seq, left_id=r.left_id, right_id=r.right_id,
                       judgement=jd.Judgement(r.judgement), undoes=r.undoes, reason=r.reason,
                       actor=r.actor, agency=r.agency, created_at=r.created_at, score=r.score)


class Resolver:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def access(self) -> Any:
        return self.platform.access

    def _plan(self, caller: Caller, event: str, action: Action = Action.READ,
              **detail: Any) -> Plan:
        try:
            plan: Plan = self.access.plan(caller, action)
        except BinationalError as exc:
            self.access.record_failure(caller, event, exc, **detail)
            raise
        return plan

    # -- runs ---------------------------------------------------------------------------------

    def run(self, caller: Caller, datasets: Sequence[str] | None = None) -> dict[str, Any]:
        """Link the people, and apart from them the organisations (companies ...), of the
        datasets the caller may see (or those named) and keep the scored pairs as
        candidates. Returns a summary."""
        plan = self._plan(caller, "resolution.run", Action.SEARCH,
                          datasets=list(datasets or []))
        scope = plan.scope.restrict(datasets)
        view = self.platform.store.view(scope)
        entities = [e for s in LINKED_SCHEMATA for e in view.entities(s)]
        organisations = [e for s in ORGANISATION_SCHEMATA for e in view.entities(s)
                         if not is_person(e)]
        owner = {str(e.id): sorted(e.datasets)[0] for e in entities + organisations if e.id}
        schema = {str(e.id): e.schema.name for e in entities + organisations if e.id}
        # An organisation is linked on every name it has (aliases, former names).
        names = {str(e.id): sorted(set(e.get("alias", quiet=True)) |
                                   set(e.get("previousName", quiet=True)) |
                                   set(e.get("name", quiet=True)))
                 for e in organisations}
        frames = [("person", from_rows(entity_row(e) for e in entities)),
                  ("company", company_rows(with_variants(
                      (company_row(e) for e in organisations), names)))]
        run_id = uuid.uuid4().hex
        kept = 0
        for kind, frame in frames:
            if len(frame) < 2:
                continue
            result = link([frame], threshold=REVIEW_FLOOR, evidence=True, kind=kind)
            pairs = entity_pairs(result.pairs) if kind == "company" else result.pairs
            now = utcnow()
            rows = []
            for r in pairs.to_dict("records"):
                a, b = jd.pair_key(str(r["left_id"]), str(r["right_id"]))
                rows.append({"dataset": owner[a], "run_id": run_id, "left_id": a,
                             "left_schema": schema[a], "right_id": b,
                             "right_dataset": owner[b], "right_schema": schema[b],
                             "score": float(r["match_probability"]),
                             "evidence": {k[7:]: float(v) for k, v in r.items()
                                          if k.startswith("weight_")},
                             "created_at": now})
            if rows:
                with self.platform.db.write() as conn:
                    conn.execute(resolution_candidate.insert(), rows)
            kept += len(rows)
        summary = {"run_id": run_id, "records": len(entities) + len(organisations),
                   "people": len(entities), "organisations": len(organisations),
                   "candidates": kept, "datasets": sorted(set(owner.values()))}
        self.access.record_results(caller, plan, Action.SEARCH, "resolution.run",
                                   entities + organisations, **summary)
        return summary

    # -- reading ------------------------------------------------------------------------------

    def _candidates(self, scope: Scope, ids: Sequence[str] | None = None) -> list[Candidate]:
        c = resolution_candidate.c
        latest = sa.select(sa.func.max(c.id)).where(visible(resolution_candidate, scope))
        if ids is not None:
            latest = latest.where(sa.or_(c.left_id.in_(ids), c.right_id.in_(ids)))
        latest = latest.group_by(c.left_id, c.right_id)
        q = sa.select(resolution_candidate).where(c.id.in_(latest))
        with self.platform.db.read() as conn:
            rows = list(conn.execute(q))
        return [Candidate(r.left_id, r.dataset, r.right_id, r.right_dataset, r.score,
                          dict(r.evidence)) for r in rows]

    def _decisions(self, scope: Scope, ids: Sequence[str] | None = None) -> list[jd.Decision]:
        c = resolution_judgement.c
        q = sa.select(resolution_judgement).where(visible(resolution_judgement, scope))
        if ids is not None:
            q = q.where(sa.or_(c.left_id.in_(ids), c.right_id.in_(ids)))
        with self.platform.db.read() as conn:
            return [_decision(r) for r in conn.execute(q.order_by(c.seq))]

    def _clusters(self, scope: Scope) -> tuple[jd.Clusters, dict[tuple[str, str], jd.Decision],
                                                list[Candidate]]:
        decided = jd.current(self._decisions(scope))
        candidates = self._candidates(scope)
        positive = {k for k, d in decided.items() if d.judgement is jd.Judgement.POSITIVE}
        negative = {k for k, d in decided.items() if d.judgement is jd.Judgement.NEGATIVE}
        for cand in candidates:
            key = (cand.left_id, cand.right_id)
            if cand.score >= ACCEPT and key not in decided:
                positive.add(key)
        return jd.clusters(positive, negative), decided, candidates

    def canonical_ids(self, scope: Scope) -> dict[str, str]:
        """Record id -> canonical id, for the records linked to others in this scope."""
        c, _, _ = self._clusters(scope)
        out: dict[str, str] = {}
        for members in c.members().values():
            cid = jd.canonical_id(members)
            for m in members:
                out[m] = cid
        return out

    def entity(self, caller: Caller, entity_id: str) -> ResolvedEntity:
        """The resolved entity a record (or canonical id) belongs to, as the caller sees it."""
        plan = self._plan(caller, "resolution.entity", entity_id=entity_id)
        c, decided, candidates = self._clusters(plan.scope)
        groups = c.members()
        members: list[str] = [entity_id]
        for ms in groups.values():
            if entity_id in ms or jd.canonical_id(ms) == entity_id:
                members = ms
                break
        view = self.platform.store.view(plan.scope)
        found = view.get_entities(members)
        if not found:
            self.access.record_failure(caller, "resolution.entity",
                                       NotFound(f"no entity {entity_id!r}"), entity_id=entity_id)
            raise NotFound(f"no entity {entity_id!r}")
        ids = {str(e.id) for e in found}
        links = []
        for cand in candidates:
            if cand.left_id in ids and cand.right_id in ids:
                d = decided.get((cand.left_id, cand.right_id))
                links.append({**cand.to_dict(), "judgement": d.to_dict() if d else None})
        for key, d in decided.items():
            if key[0] in ids and key[1] in ids and not any(
                    (x["left_id"], x["right_id"]) == key for x in links):
                links.append({"left_id": key[0], "right_id": key[1], "score": d.score,
                              "evidence": {}, "judgement": d.to_dict()})
        resolved = ResolvedEntity(jd.canonical_id(sorted(ids)), found, links)
        self.access.record_results(caller, plan, Action.READ, "resolution.entity", found,
                                   entity_id=entity_id, canonical_id=resolved.id)
        return resolved

    def queue(self, caller: Caller, limit: int = 20) -> list[Candidate]:
        """Undecided pairs, most valuable first: the most uncertain, across the border, and
        touching a designated entity rank highest."""
        return self.review(caller, limit)[0]

    def review(self, caller: Caller, limit: int = 20
               ) -> tuple[list[Candidate], dict[str, StatementEntity]]:
        """The review queue with the records of its pairs (read once, audited once), so a
        reviewer can compare the two side by side."""
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be between 1 and 500")
        plan = self._plan(caller, "resolution.queue")
        decided = jd.current(self._decisions(plan.scope))
        open_ = [c for c in self._candidates(plan.scope)
                 if (c.left_id, c.right_id) not in decided]
        designated = self._designated(plan.scope, [x for c in open_
                                                   for x in (c.left_id, c.right_id)])
        owners = self.platform.catalog.all()
        agencies = {a.code: a.country for a in self.platform.identity.agencies()}
        for c in open_:
            uncertainty = 1.0 - abs(c.score - 0.5) * 2
            la = owners[c.left_dataset].agency if c.left_dataset in owners else ""
            ra = owners[c.right_dataset].agency if c.right_dataset in owners else ""
            border = agencies.get(la) != agencies.get(ra)
            c.value = uncertainty + 0.5 * border + 0.5 * bool(
                {c.left_id, c.right_id} & designated)
        ranked = sorted(open_, key=lambda c: (-c.value, -c.score, c.left_id))[:limit]
        view = self.platform.store.view(plan.scope)
        shown = view.get_entities(sorted({x for c in ranked for x in (c.left_id, c.right_id)}))
        self.access.record_results(caller, plan, Action.READ, "resolution.queue", shown,
                                   results=len(ranked))
        return ranked, {str(e.id): e for e in shown if e.id}

    def resolved(self, caller: Caller, limit: int = 50) -> list[ResolvedEntity]:
        """The resolved entities (two or more records) the caller may see, largest first;
        built from the visible links only, like ``entity``."""
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be between 1 and 500")
        plan = self._plan(caller, "resolution.resolved")
        c, _, _ = self._clusters(plan.scope)
        groups = sorted((ms for ms in c.members().values() if len(ms) > 1),
                        key=lambda ms: (-len(ms), ms))[:limit]
        view = self.platform.store.view(plan.scope)
        found = {str(e.id): e for e in view.get_entities(sorted({m for ms in groups
                                                                  for m in ms})) if e.id}
        out = []
        for ms in groups:
            members = [found[m] for m in ms if m in found]
            if len(members) > 1:
                out.append(ResolvedEntity(jd.canonical_id(sorted(found_id for found_id in ms
                                                                 if found_id in found)),
                                          members))
        self.access.record_results(caller, plan, Action.READ, "resolution.resolved",
                                   list(found.values()), results=len(out))
        return out

    def _designated(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        st = t.statement
        q = (sa.select(st.c.value).where(
            IS_REFERENCE, st.c.prop == "entity",
            st.c.schema.in_(sorted(expand_schemata(["Sanction"]))),
            st.c.value.in_(sorted(set(ids))), scope.clause(st.c.dataset, st.c.schema)))
        with self.platform.db.read() as conn:
            return {r[0] for r in conn.execute(q)}

    def history(self, caller: Caller, entity_id: str) -> list[jd.Decision]:
        """Every judgement (undone ones too) about pairs involving a record."""
        plan = self._plan(caller, "resolution.history", entity_id=entity_id)
        out = self._decisions(plan.scope, [entity_id])
        self.access.record_results(caller, plan, Action.READ, "resolution.history", [],
                                   entity_id=entity_id, results=len(out))
        return out

    def history_of(self, caller: Caller, entity_ids: Sequence[str]
                   ) -> tuple[list[jd.Decision], dict[str, StatementEntity]]:
        """Every judgement about pairs involving any of these records, oldest first, with the
        records of those pairs (both in the caller's scope, or the judgement is not shown),
        read and audited once."""
        plan = self._plan(caller, "resolution.history", entity_ids=list(entity_ids))
        out = self._decisions(plan.scope, list(entity_ids))
        view = self.platform.store.view(plan.scope)
        found = view.get_entities(sorted({x for d in out for x in (d.left_id, d.right_id)}))
        self.access.record_results(caller, plan, Action.READ, "resolution.history", found,
                                   entity_ids=list(entity_ids), results=len(out))
        return out, {str(e.id): e for e in found if e.id}

    # -- judging ------------------------------------------------------------------------------

    def _visible_pair(self, plan: Plan, a: str, b: str) -> tuple[StatementEntity,
                                                                StatementEntity]:
        view = self.platform.store.view(plan.scope)
        ea, eb = view.get_entity(a), view.get_entity(b)
        missing = [x for x, e in ((a, ea), (b, eb)) if e is None]
        if missing:
            # The same answer whether the record is absent or outside the caller's scope.
            raise NotFound(f"no entity {missing[0]!r}")
        assert ea is not None and eb is not None
        return ea, eb

    def decide(self, caller: Caller, left_id: str, right_id: str, judgement: jd.Judgement,
               reason: str | None = None) -> jd.Decision:
        """Record a judgement about a pair the caller may see both records of."""
        detail = {"left_id": left_id, "right_id": right_id, "judgement": judgement.value}
        plan = self._plan(caller, "resolution.decide", Action.READ, **detail)
        try:
            if judgement is jd.Judgement.UNDO:
                raise InvalidInput("use undo to take a judgement back")
            a, b = jd.pair_key(left_id, right_id)
            ea, eb = self._visible_pair(plan, a, b)
            decided = jd.current(self._decisions(plan.scope))
            pos = [k for k, d in decided.items() if d.judgement is jd.Judgement.POSITIVE]
            neg = [k for k, d in decided.items() if d.judgement is jd.Judgement.NEGATIVE]
            why = jd.conflict(pos, neg, a, b, judgement)
            if why:
                raise InvalidInput(f"conflicting judgement: {why}")
            score = next((c.score for c in self._candidates(plan.scope, [a])
                          if (c.left_id, c.right_id) == (a, b)), None)
            decision = self._append(caller, ea, eb, judgement, reason, score=score)
        except BinationalError as exc:
            self.access.record_failure(caller, "resolution.decide", exc, **detail)
            raise
        self.access.record_results(caller, plan, Action.READ, "resolution.decide", [ea, eb],
                                   judgement_id=decision.id, **detail)
        return decision

    def _append(self, caller: Caller, ea: StatementEntity, eb: StatementEntity,
                judgement: jd.Judgement, reason: str | None, *, undoes: str | None = None,
                score: float | None = None) -> jd.Decision:
        p = caller.principal
        now = utcnow()
        row_id = uuid.uuid4().hex
        with self.platform.db.write() as conn:
            seq = conn.execute(sa.select(sa.func.coalesce(
                sa.func.max(resolution_judgement.c.seq), 0))).scalar_one() + 1
            conn.execute(resolution_judgement.insert().values(
                id=row_id, seq=seq, dataset=sorted(ea.datasets)[0], left_id=ea.id,
                left_schema=ea.schema.name, right_id=eb.id,
                right_dataset=sorted(eb.datasets)[0], right_schema=eb.schema.name,
                judgement=judgement.value, undoes=undoes, reason=(reason or None),
                score=score, actor=p.username, agency=p.agency, created_at=now))
        return jd.Decision(row_id, seq, str(ea.id), str(eb.id), judgement, undoes, reason,
                           p.username, p.agency, now, score)

    def undo(self, caller: Caller, judgement_id: str, reason: str | None = None) -> jd.Decision:
        """Take a judgement back (appends an undo; the original stays in the log)."""
        plan = self._plan(caller, "resolution.undo", judgement_id=judgement_id)
        try:
            decisions = self._decisions(plan.scope)
            target = next((d for d in decisions if d.id == judgement_id), None)
            if target is None or target.judgement is jd.Judgement.UNDO:
                raise NotFound(f"no judgement {judgement_id!r}")
            if any(d.undoes == judgement_id for d in decisions):
                raise InvalidInput(f"judgement {judgement_id} was already undone")
            ea, eb = self._visible_pair(plan, target.left_id, target.right_id)
            decision = self._append(caller, ea, eb, jd.Judgement.UNDO, reason,
                                    undoes=judgement_id)
        except BinationalError as exc:
            self.access.record_failure(caller, "resolution.undo", exc,
                                       judgement_id=judgement_id)
            raise
        self.access.record_results(caller, plan, Action.READ, "resolution.undo", [ea, eb],
                                   judgement_id=judgement_id)
        return decision

    def split(self, caller: Caller, entity_id: str, reason: str | None = None
              ) -> list[jd.Decision]:
        """Take a record out of its resolved entity: judged different from every other
        member the caller can see."""
        plan = self._plan(caller, "resolution.split", entity_id=entity_id)
        c, _, _ = self._clusters(plan.scope)
        members = next((ms for ms in c.members().values() if entity_id in ms), [entity_id])
        others = [m for m in members if m != entity_id]
        if not others:
            exc = InvalidInput(f"{entity_id} is not linked to any other record")
            self.access.record_failure(caller, "resolution.split", exc, entity_id=entity_id)
            raise exc
        # Negative judgements win over positive edges in the clustering, so no conflict
        # check is needed: the split always takes effect, and each step is in the log.
        out = []
        for other in others:
            a, b = jd.pair_key(entity_id, other)
            ea, eb = self._visible_pair(plan, a, b)
            out.append(self._append(caller, ea, eb, jd.Judgement.NEGATIVE,
                                    reason or f"split {entity_id} off"))
        self.access.record_results(caller, plan, Action.READ, "resolution.split", [],
                                   entity_id=entity_id, judgements=len(out))
        return out





class Investigator:
    """The investigative network as one reader sees it: built from the records in the
    reader's scope and the resolution links the reader may see; every question is audited
    with the records its answer discloses."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _network(self, caller: Caller, event: str, action: Action = Action.READ,
                 datasets: Sequence[str] | None = None, **detail: Any) -> tuple[Any, Plan]:
        from binational.resolution.graph import build

        try:
            plan: Plan = self.platform.access.plan(caller, action)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc, **detail)
            raise
        scope = plan.scope.restrict(datasets)
        entities = list(self.platform.store.view(scope).entities())
        canonical = Resolver(self.platform).canonical_ids(scope)
        return build(entities, canonical), plan

    def _answer(self, caller: Caller, plan: Plan, event: str, entities: Sequence[Any],
                action: Action = Action.READ, **detail: Any) -> None:
        self.platform.access.record_results(caller, plan, action, event, list(entities),
                                            **detail)

    def neighbourhood(self, caller: Caller, entity_id: str, depth: int = 1) -> Any:
        net, plan = self._network(caller, "graph.neighbourhood", entity_id=entity_id)
        try:
            sub = net.neighbourhood(entity_id, depth)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, "graph.neighbourhood", exc,
                                                entity_id=entity_id)
            raise
        self._answer(caller, plan, "graph.neighbourhood", sub.entities(), entity_id=entity_id,
                     depth=depth)
        return sub

    def paths(self, caller: Caller, entity_id: str, limit: int = 5) -> tuple[list[list[str]],
                                                                              Any]:
        """Shortest paths to designated entities, and the sub-network they run through."""
        net, plan = self._network(caller, "graph.paths", entity_id=entity_id)
        try:
            paths = net.paths_to_designated(entity_id, limit)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, "graph.paths", exc, entity_id=entity_id)
            raise
        sub = net.subgraph(net.index[n] for p in paths for n in p) if paths else \
            net.subgraph([net.node(entity_id)])
        self._answer(caller, plan, "graph.paths", sub.entities(), entity_id=entity_id,
                     paths=len(paths))
        return paths, sub

    def walk(self, caller: Caller, entity_id: str, depth: int = 1, limit: int = 5
             ) -> tuple[list[list[str]], Any, Any]:
        """Paths to designated entities and the neighbourhood, from one build of the network
        and one audit record (what the web's network walk shows): (paths, the sub-network
        they run through, the neighbourhood)."""
        net, plan = self._network(caller, "graph.walk", entity_id=entity_id)
        try:
            paths = net.paths_to_designated(entity_id, limit)
            hood = net.neighbourhood(entity_id, depth)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, "graph.walk", exc, entity_id=entity_id)
            raise
        via = net.subgraph(net.index[n] for p in paths for n in p) if paths else \
            net.subgraph([net.node(entity_id)])
        shown = {str(e.id): e for e in [*via.entities(), *hood.entities()]}
        self._answer(caller, plan, "graph.walk", list(shown.values()), entity_id=entity_id,
                     depth=depth, paths=len(paths))
        return paths, via, hood

    def summary(self, caller: Caller, what: str, limit: int = 20) -> list[Any]:
        """``components``, ``communities`` (lists of node ids) or ``centrality`` (rows)."""
        if what not in ("components", "communities", "centrality"):
            raise InvalidInput(f"unknown network summary {what!r}; expected one of: "
                               "components, communities, centrality")
        net, plan = self._network(caller, f"graph.{what}")
        out: list[Any]
        if what == "centrality":
            out = net.centrality(limit)
            shown = [n["id"] for n in out]
        else:
            groups = net.components() if what == "components" else net.communities()
            out = groups[:limit]
            shown = [n for g in out for n in g]
        records = [e for n in shown for e in net.records.get(n, [])]
        self._answer(caller, plan, f"graph.{what}", records, results=len(out))
        return out

    def export(self, caller: Caller, fmt: str, out: Any,
               datasets: Sequence[str] | None = None) -> int:
        """Write the whole network the caller may export; returns the node count."""
        from binational.resolution.graph import EXPORT_FORMATS

        check_choice(fmt, EXPORT_FORMATS, "format")
        net, plan = self._network(caller, "graph.export", Action.EXPORT, datasets, format=fmt)
        net.export(fmt, out)
        self._answer(caller, plan, "graph.export", net.entities(), Action.EXPORT, format=fmt,
                     nodes=net.graph.vcount(), edges=net.graph.ecount())
        return int(net.graph.vcount())

__all__ = ["COLUMNS", "Candidate", "Investigator", "ResolvedEntity", "Resolver",
           "company_row", "entity_row"]
