"""The investigative network: FtM relationships across resolved entities, with python-igraph.

Nodes are resolved entities (people, companies, organisations; records linked by resolution
are one node); edges are the FtM relationship entities between them (ownership, directorship,
family, associate, membership, payment, employment, representation, unknown links); a node is
*designated* when a Sanction entity points at one of its records. The graph is built from the
records in the reader's policy scope only, with the links the reader may see, so it never
holds anything the reader could not read record by record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr

import igraph as ig
from followthemoney import StatementEntity, model

from binational.core.errors import InvalidInput, NotFound

RELATIONS: dict[str, tuple[str, str]] = {
    "Ownership": ("ownership", "propiedad"),
    "Directorship": ("directorship", "dirección"),
    "Family": ("family", "familia"),
    "Associate": ("associate", "asociado"),
    "Membership": ("membership", "membresía"),
    "Payment": ("payment", "pago"),
    "Employment": ("employment", "empleo"),
    "Representation": ("representation", "representación"),
    "UnknownLink": ("link", "vínculo"),
}
NODE_SCHEMATA = ("LegalEntity",)  # with its descendants: Person, Company, Organization...
EXPORT_FORMATS = ("ftm", "graphml", "gexf", "cypher")
MAX_DEPTH = 4


@dataclass
class Network:
    """An igraph graph with the FtM records behind its nodes and edges."""

    graph: ig.Graph
    records: dict[str, list[StatementEntity]]  # node id -> member records
    edges: list[StatementEntity]
    index: dict[str, int]  # node id -> vertex index
    canonical: dict[str, str] = field(default_factory=dict)  # record id -> node id

    def node(self, entity_id: str) -> int:
        node_id = self.canonical.get(entity_id, entity_id)
        if node_id not in self.index:
            raise NotFound(f"no entity {entity_id!r} in the network")
        return self.index[node_id]

    # -- questions ----------------------------------------------------------------------------

    def neighbourhood(self, entity_id: str, depth: int = 1) -> Network:
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidInput(f"depth must be between 1 and {MAX_DEPTH}")
        v = self.node(entity_id)
        keep = self.graph.neighborhood(v, order=depth, mode="all")
        return self.subgraph(keep)

    def paths_to_designated(self, entity_id: str, limit: int = 5) -> list[list[str]]:
        """Shortest paths (node ids) from an entity to the designated ones, shortest first."""
        v = self.node(entity_id)
        targets = [i for i in range(self.graph.vcount())
                   if self.graph.vs[i]["designated"] and i != v]
        if not targets:
            return []
        paths = self.graph.get_shortest_paths(v, to=targets, mode="all", output="vpath")
        found = sorted((p for p in paths if p), key=len)[:limit]
        return [[self.graph.vs[i]["name"] for i in p] for p in found]

    def components(self) -> list[list[str]]:
        comps = self.graph.connected_components(mode="weak")
        out = [[self.graph.vs[i]["name"] for i in c] for c in comps]
        return sorted(out, key=lambda c: (-len(c), c))

    def communities(self) -> list[list[str]]:
        if self.graph.ecount() == 0:
            return [[n] for n in self.graph.vs["name"]]
        undirected = self.graph.as_undirected(combine_edges="first")
        clustering = undirected.community_multilevel()
        out = [[undirected.vs[i]["name"] for i in c] for c in clustering]
        return sorted(out, key=lambda c: (-len(c), c))

    def centrality(self, limit: int = 20) -> list[dict[str, Any]]:
        if self.graph.vcount() == 0:
            return []
        degree = self.graph.degree(mode="all")
        between = self.graph.betweenness(directed=False)
        rank = self.graph.pagerank(directed=False)
        rows = [{"id": self.graph.vs[i]["name"], "caption": self.graph.vs[i]["caption"],
                 "degree": degree[i], "betweenness": round(between[i], 4),
                 "pagerank": round(rank[i], 6)} for i in range(self.graph.vcount())]
        return sorted(rows, key=lambda r: (-r["pagerank"], r["id"]))[:limit]

    def subgraph(self, vertices: Iterable[int]) -> Network:
        keep = sorted(set(vertices))
        sub = self.graph.induced_subgraph(keep)
        names = set(sub.vs["name"])
        index = {n: i for i, n in enumerate(sub.vs["name"])}
        edge_ids = set(sub.es["entity_id"]) if sub.ecount() else set()
        return Network(sub, {n: self.records[n] for n in names},
                       [e for e in self.edges if e.id in edge_ids], index,
                       {r: n for r, n in self.canonical.items() if n in names})

    def entities(self) -> list[StatementEntity]:
        """Every record behind the (sub)graph: what an answer discloses."""
        return [e for rs in self.records.values() for e in rs] + list(self.edges)

    # -- answers ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        g = self.graph
        nodes = [{"id": v["name"], "caption": v["caption"], "schema": v["schema"],
                  "designated": v["designated"], "datasets": sorted(
                      {d for e in self.records[v["name"]] for d in e.datasets}),
                  "records": [e.id for e in self.records[v["name"]]]} for v in g.vs]
        edges = [{"id": e["entity_id"], "source": g.vs[e.source]["name"],
                  "target": g.vs[e.target]["name"], "schema": e["schema"],
                  "label_en": e["label_en"], "label_es": e["label_es"]} for e in g.es]
        return {"nodes": nodes, "edges": edges}

    def export(self, fmt: str, out: TextIO) -> None:
        if fmt == "ftm":
            for entity in self.entities():
                out.write(json.dumps(entity.to_dict(), sort_keys=True, ensure_ascii=False))
                out.write("\n")
        elif fmt == "graphml":
            _write_graphml(self, out)
        elif fmt == "gexf":
            _write_gexf(self, out)
        elif fmt == "cypher":
            _write_cypher(self, out)
        else:
            raise InvalidInput(f"unknown format {fmt!r}; expected one of: "
                               f"{', '.join(EXPORT_FORMATS)}")


def build(entities: Iterable[StatementEntity], canonical: dict[str, str] | None = None
          ) -> Network:
    """The network of these records (all already in the reader's scope)."""
    canonical = dict(canonical or {})
    nodes: dict[str, list[StatementEntity]] = {}
    relations: list[StatementEntity] = []
    sanctioned: set[str] = set()
    legal = model.get("LegalEntity")
    for entity in entities:
        if entity.id is None:
            continue
        if entity.schema.name in RELATIONS:
            relations.append(entity)
        elif entity.schema.is_a("Sanction"):
            sanctioned.update(entity.get("entity", quiet=True))
        elif legal is not None and entity.schema.is_a(legal):
            nodes.setdefault(canonical.get(entity.id, entity.id), []).append(entity)
    names = sorted(nodes)
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(directed=True)
    g.add_vertices(len(names))
    g.vs["name"] = names
    g.vs["caption"] = [nodes[n][0].caption for n in names]
    g.vs["schema"] = [nodes[n][0].schema.name for n in names]
    g.vs["designated"] = [any(e.id in sanctioned for e in nodes[n]) for n in names]
    pairs: list[tuple[int, int]] = []
    attrs: dict[str, list[str]] = {"entity_id": [], "schema": [], "label_en": [], "label_es": []}
    kept: list[StatementEntity] = []
    for rel in relations:
        src_prop, dst_prop = rel.schema.edge_source, rel.schema.edge_target
        if not src_prop or not dst_prop:
            continue
        for s in rel.get(src_prop, quiet=True):
            for d in rel.get(dst_prop, quiet=True):
                a, b = canonical.get(s, s), canonical.get(d, d)
                # An end outside the reader's scope is not in ``nodes``: the edge is left
                # out rather than drawn to a node the reader may not see.
                if a in index and b in index:
                    pairs.append((index[a], index[b]))
                    en, es = RELATIONS[rel.schema.name]
                    attrs["entity_id"].append(str(rel.id))
                    attrs["schema"].append(rel.schema.name)
                    attrs["label_en"].append(en)
                    attrs["label_es"].append(es)
                    kept.append(rel)
    g.add_edges(pairs)
    for key, values in attrs.items():
        g.es[key] = values
    unique_edges = list({str(e.id): e for e in kept}.values())
    return Network(g, nodes, unique_edges, index,
                   {r: n for r, n in canonical.items() if n in index})


# -- writers (igraph writes GraphML itself only to files, and has no GEXF writer) -------------


def _attrs_xml(values: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<data key={quoteattr(k)}>{_esc(v)}</data>" for k, v in values)


def _esc(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_graphml(net: Network, out: TextIO) -> None:
    g = net.graph
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for key, where, kind in (("caption", "node", "string"), ("schema", "node", "string"),
                             ("designated", "node", "boolean"), ("schema", "edge", "string"),
                             ("label", "edge", "string")):
        out.write(f'<key id="{where[0]}_{key}" for="{where}" attr.name="{key}" '
                  f'attr.type="{kind}"/>\n')
    out.write('<graph id="binational" edgedefault="directed">\n')
    for v in g.vs:
        data = _attrs_xml([("n_caption", v["caption"]), ("n_schema", v["schema"]),
                           ("n_designated", "true" if v["designated"] else "false")])
        out.write(f"<node id={quoteattr(v['name'])}>{data}</node>\n")
    for e in g.es:
        data = _attrs_xml([("e_schema", e["schema"]), ("e_label", e["label_en"])])
        out.write(f"<edge id={quoteattr(e['entity_id'])} source={quoteattr(g.vs[e.source]['name'])}"
                  f" target={quoteattr(g.vs[e.target]['name'])}>{data}</edge>\n")
    out.write("</graph>\n</graphml>\n")


def _write_gexf(net: Network, out: TextIO) -> None:
    g = net.graph
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
              '<graph defaultedgetype="directed" mode="static">\n'
              '<attributes class="node"><attribute id="0" title="schema" type="string"/>'
              '<attribute id="1" title="designated" type="boolean"/></attributes>\n<nodes>\n')
    for v in g.vs:
        out.write(f"<node id={quoteattr(v['name'])} label={quoteattr(v['caption'])}>"
                  f"<attvalues><attvalue for=\"0\" value={quoteattr(v['schema'])}/>"
                  f"<attvalue for=\"1\" value=\"{'true' if v['designated'] else 'false'}\"/>"
                  "</attvalues></node>\n")
    out.write("</nodes>\n<edges>\n")
    for i, e in enumerate(g.es):
        out.write(f"<edge id=\"{i}\" source={quoteattr(g.vs[e.source]['name'])} "
                  f"target={quoteattr(g.vs[e.target]['name'])} "
                  f"label={quoteattr(e['label_en'])}/>\n")
    out.write("</edges>\n</graph>\n</gexf>\n")


def _cypher_label(schema: str) -> str:
    return "".join(ch for ch in schema if ch.isalnum()) or "Entity"


def _write_cypher(net: Network, out: TextIO) -> None:
    """Statements for Neo4j's cypher-shell: MERGE, so loading twice changes nothing."""
    g = net.graph
    for v in g.vs:
        out.write(f"MERGE (n:{_cypher_label(v['schema'])} {{id: {json.dumps(v['name'])}}}) "
                  f"SET n.caption = {json.dumps(v['caption'], ensure_ascii=False)}, "
                  f"n.designated = {'true' if v['designated'] else 'false'};\n")
    for e in g.es:
        rel = e["label_en"].upper()
        out.write(f"MATCH (a {{id: {json.dumps(g.vs[e.source]['name'])}}}), "
                  f"(b {{id: {json.dumps(g.vs[e.target]['name'])}}}) "
                  f"MERGE (a)-[r:{_cypher_label(rel)} {{id: {json.dumps(e['entity_id'])}}}]->(b);"
                  "\n")
