"""An entity's neighbourhood: who points at it and what it points at, within the reader's scope.

Relationships in followthemoney are entities too (``Ownership``, ``UnknownLink``, ``Sanction``
...). An edge schema pointing at the entity is drawn as an edge between its two ends; any
other referencing entity is drawn as a node. Everything fetched is read through the reader's
policy scope and audited once (``entity.neighbours``) with access receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from followthemoney import StatementEntity

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.errors import BinationalError
from binational.core.platform import Platform
from binational.core.policy import Plan
from binational.core.store import IS_REFERENCE
from binational.core.vocab import Action

MAX_NEIGHBOURS = 150


@dataclass
class Link:
    direction: str  # "out" (the entity points at it) or "in" (it points at the entity)
    prop: str  # property label (English; translated when shown)
    other: StatementEntity
    via: StatementEntity | None = None  # the relationship entity, for collapsed edges


@dataclass
class Neighbourhood:
    entity: StatementEntity
    plan: Plan
    designations: list[StatementEntity] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    nodes: dict[str, StatementEntity] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # source, target, label


def _refs(entity: StatementEntity) -> list[tuple[str, str]]:
    return [(prop.name, value) for prop, value in entity.itervalues()
            if prop.type.name == "entity" and value != entity.id]


def neighbourhood(platform: Platform, caller: Caller, entity: StatementEntity) -> Neighbourhood:
    """Fetch the neighbours of an entity the caller has just read (``access.get_entity``)."""
    access = platform.access
    try:
        plan = access.plan(caller, Action.READ)
    except BinationalError as exc:
        access.record_failure(caller, "entity.neighbours", exc, entity=entity.id)
        raise
    view = platform.store.view(plan.scope)
    st = t.statement
    incoming_q = (sa.select(st.c.entity_id, st.c.prop)
                  .where(IS_REFERENCE, st.c.value == entity.id,
                         plan.scope.clause(st.c.dataset, st.c.schema))
                  .distinct().order_by(st.c.entity_id).limit(MAX_NEIGHBOURS))
    with platform.db.read() as conn:
        incoming = [(r[0], r[1]) for r in conn.execute(incoming_q)]
    outgoing = _refs(entity)
    first = view.get_entities(sorted({i for i, _ in incoming} | {v for _, v in outgoing}))
    fetched = {e.id: e for e in first if e.id}
    # The far ends of relationship entities (an Ownership's owner, say).
    far: set[str] = set()
    for src_id, _prop in incoming:
        src = fetched.get(src_id)
        if src is not None and src.schema.edge:
            far.update(v for _, v in _refs(src) if v not in fetched)
    for other in view.get_entities(sorted(far)[:MAX_NEIGHBOURS]):
        if other.id:
            fetched[other.id] = other

    hood = Neighbourhood(entity, plan)
    hood.nodes[str(entity.id)] = entity
    for prop_name, value in outgoing:
        target = fetched.get(value)
        if target is None:
            continue
        out_prop = entity.schema.get(prop_name)
        text = out_prop.label if out_prop else prop_name
        hood.links.append(Link("out", text, target))
        hood.nodes[value] = target
        hood.edges.append((str(entity.id), value, text))
    for src_id, prop_name in incoming:
        src = fetched.get(src_id)
        if src is None:
            continue
        if src.schema.is_a("Sanction"):
            hood.designations.append(src)
        prop = src.schema.get(prop_name)
        text = (prop.reverse.label if prop is not None and prop.reverse is not None
                else prop_name)
        if src.schema.edge and src.schema.source_prop and src.schema.target_prop:
            ends = [src.get(src.schema.source_prop, quiet=True),
                    src.get(src.schema.target_prop, quiet=True)]
            edge_label = str(src.schema.edge_label or src.schema.label)
            for head in ends[0]:
                for tail in ends[1]:
                    if head in fetched and tail in fetched:
                        hood.nodes[head] = fetched[head]
                        hood.nodes[tail] = fetched[tail]
                        hood.edges.append((head, tail, edge_label))
            others = [fetched[v] for end in ends for v in end
                      if v != entity.id and v in fetched]
            direction = "out" if entity.id in ends[0] else "in"
            for other in others:
                hood.links.append(Link(direction, edge_label, other, via=src))
            continue
        hood.links.append(Link("in", text, src))
        hood.nodes[src_id] = src
        hood.edges.append((src_id, str(entity.id), prop.label if prop else prop_name))
    disclosed = [e for e in fetched.values() if e.id != entity.id]
    access.record_results(caller, plan, Action.READ, "entity.neighbours", disclosed,
                          entity=entity.id, neighbours=len(disclosed))
    return hood


def elements(hood: Neighbourhood, label: Any, url: Any) -> dict[str, Any]:
    """The graph in cytoscape.js's ``elements`` shape; ``label`` translates FtM labels and
    ``url`` makes an entity's page address."""
    nodes = [{"data": {"id": node_id, "label": node.caption[:60],
                       "schema": label(node.schema.label),
                       "center": node_id == hood.entity.id, "url": url(node_id)}}
             for node_id, node in hood.nodes.items()]
    seen: set[tuple[str, str, str]] = set()
    edges: list[dict[str, Any]] = []
    for source, target, text in hood.edges:
        if (source, target, text) in seen:
            continue
        seen.add((source, target, text))
        edges.append({"data": {"id": f"e{len(edges)}", "source": source, "target": target,
                               "label": label(text)}})
    return {"nodes": nodes, "edges": edges}
