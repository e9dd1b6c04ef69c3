"""Resolution on the platform (SQLite and PostgreSQL): runs, judgements, sovereignty, the
network and its exports, with the demo's fictional cross-border person."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.errors import InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Purpose, Role
from binational.resolution import demo
from binational.resolution.judgements import Judgement
from binational.resolution.service import Investigator, Resolver
from binational.resolution.tables import resolution_judgement
from tests.world import PASSWORD

US_PREFIX = "us-"
CASE = QueryContext(Purpose.ILLICIT_FINANCE, "RES-2026-1")


@dataclass
class ResWorld:
    platform: Platform
    ids: dict[str, str]
    resolver: Resolver
    investigator: Investigator

    def caller(self, username: str) -> Caller:
        return Caller(self.platform.identity.principal(username), CASE)


def _users(platform: Platform) -> None:
    for username, agency in (("analyst.uif", "UIF"), ("analyst.fincen", "FINCEN"),
                             ("analyst.cbp", "CBP")):
        platform.identity.add_user(username, agency, Role.ANALYST, PASSWORD)


@pytest.fixture
def shared(platform: Platform) -> Iterator[ResWorld]:
    """Both agencies share their demo datasets with each other; a run has been made."""
    from binational.core.vocab import Country

    ids = demo.setup(platform)
    platform.identity.add_agency("CBP", "Customs and Border Protection", Country.US)
    _users(platform)
    world = ResWorld(platform, ids, Resolver(platform), Investigator(platform))
    world.resolver.run(world.caller("analyst.uif"))
    yield world


@pytest.fixture
def apart(platform: Platform) -> Iterator[ResWorld]:
    """No grants: each agency sees only its own records. The run is made by a reader who
    sees both (a UIF operator granted FinCEN's data is not needed: the candidates are
    written by a run over both datasets, as a joint team would)."""
    from binational.core.identity import operator
    from binational.core.vocab import Country

    ids = demo.setup(platform, grants=False)
    platform.identity.add_agency("CBP", "Customs and Border Protection", Country.US)
    _users(platform)
    world = ResWorld(platform, ids, Resolver(platform), Investigator(platform))
    # A run with both datasets in scope: FinCEN shares with UIF for this run only.
    demo.share(platform, demo.SIDES[1], Country.MX)
    world.resolver.run(Caller(operator("UIF", Country.MX), CASE))
    yield world


def test_the_same_person_across_the_border_is_one_entity(shared: ResWorld) -> None:
    mx, us = shared.ids["mx-p-ramiro"], shared.ids["us-p-ramiro"]
    entity = shared.resolver.entity(shared.caller("analyst.fincen"), us)
    assert {m.id for m in entity.members} == {mx, us}
    assert entity.id.startswith("bn-")
    link = next(x for x in entity.links if {x["left_id"], x["right_id"]} == {mx, us})
    assert link["score"] >= 0.9
    assert link["evidence"]["dob"] > 0 and link["evidence"]["given"] > 0
    # Siblings share both surnames but are not merged.
    lucia = shared.ids["mx-p-lucia"]
    assert lucia not in {m.id for m in entity.members}


def test_reject_undo_and_split_keep_every_judgement(shared: ResWorld) -> None:
    mx, us = shared.ids["mx-p-ramiro"], shared.ids["us-p-ramiro"]
    analyst = shared.caller("analyst.uif")
    rejected = shared.resolver.decide(analyst, mx, us, Judgement.NEGATIVE, "different mothers")
    assert [m.id for m in shared.resolver.entity(analyst, mx).members] == [mx]
    shared.resolver.undo(analyst, rejected.id, "checked the passport")
    assert len(shared.resolver.entity(analyst, mx).members) == 2
    with pytest.raises(InvalidInput, match="already undone"):
        shared.resolver.undo(analyst, rejected.id)
    split = shared.resolver.split(analyst, us, "separate people")
    assert len(split) == 1
    assert len(shared.resolver.entity(analyst, mx).members) == 1
    history = shared.resolver.history(analyst, mx)
    assert [d.judgement for d in history] == [Judgement.NEGATIVE, Judgement.UNDO,
                                              Judgement.NEGATIVE]
    assert history[0].reason == "different mothers" and history[0].actor == "analyst.uif"
    with shared.platform.db.read() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(resolution_judgement))
        assert rows.scalar_one() == 3  # nothing updated or deleted


def test_conflicting_judgements_are_refused(shared: ResWorld) -> None:
    mx, us, lucia = (shared.ids[k] for k in ("mx-p-ramiro", "us-p-ramiro", "mx-p-lucia"))
    analyst = shared.caller("analyst.uif")
    shared.resolver.decide(analyst, mx, us, Judgement.POSITIVE, "same CURP")
    shared.resolver.decide(analyst, us, lucia, Judgement.POSITIVE, "a mistake")
    with pytest.raises(InvalidInput, match="conflicting judgement"):
        shared.resolver.decide(analyst, mx, lucia, Judgement.NEGATIVE, "siblings")
    with pytest.raises(InvalidInput, match="cannot be judged against itself"):
        shared.resolver.decide(analyst, mx, mx, Judgement.POSITIVE)


def test_the_review_queue_puts_uncertain_cross_border_pairs_first(shared: ResWorld) -> None:
    analyst = shared.caller("analyst.uif")
    queue = shared.resolver.queue(analyst)
    assert queue, "the run leaves pairs to review"
    values = [c.value for c in queue]
    assert values == sorted(values, reverse=True)
    top = queue[0]
    shared.resolver.decide(analyst, top.left_id, top.right_id, Judgement.UNSURE, "ask UIF")
    assert (top.left_id, top.right_id) not in {(c.left_id, c.right_id)
                                               for c in shared.resolver.queue(analyst)}


def test_a_reader_of_one_side_learns_nothing_of_the_other(apart: ResWorld) -> None:
    mx, us = apart.ids["mx-p-ramiro"], apart.ids["us-p-ramiro"]
    # FinCEN shared with UIF, UIF did not share with FinCEN: the FinCEN analyst sees no link.
    fincen = apart.caller("analyst.fincen")
    entity = apart.resolver.entity(fincen, us)
    assert [m.id for m in entity.members] == [us]
    assert entity.id == us and entity.links == []  # the canonical id reveals no member
    assert apart.resolver.queue(fincen) == []
    assert apart.resolver.history(fincen, us) == []
    # A record out of scope answers exactly like one that does not exist.
    with pytest.raises(NotFound) as hidden:
        apart.resolver.decide(fincen, us, mx, Judgement.POSITIVE)
    with pytest.raises(NotFound) as absent:
        apart.resolver.decide(fincen, us, "no-such-record", Judgement.POSITIVE)
    assert str(hidden.value).replace(mx, "X") == str(absent.value).replace("no-such-record",
                                                                             "X")
    with pytest.raises(NotFound):
        apart.resolver.entity(fincen, mx)
    net = apart.investigator.neighbourhood(fincen, us, depth=3)
    assert mx not in net.index and apart.ids["mx-c-comercializadora"] not in net.index
    assert apart.investigator.paths(fincen, us)[0] == [[us, apart.ids["us-p-nicanor"]]]
    # CBP sees neither side.
    with pytest.raises(NotFound):
        apart.resolver.entity(apart.caller("analyst.cbp"), us)
    # UIF (granted FinCEN's data) sees both, and the link.
    assert len(apart.resolver.entity(apart.caller("analyst.uif"), mx).members) == 2


def test_every_resolution_query_is_audited(shared: ResWorld) -> None:
    analyst = shared.caller("analyst.fincen")
    shared.resolver.entity(analyst, shared.ids["us-p-ramiro"])
    with pytest.raises(NotFound):
        shared.resolver.entity(analyst, "nobody")
    with shared.platform.db.read() as conn:
        rows = conn.execute(sa.select(t.audit_record.c.action, t.audit_record.c.outcome)
                            .where(t.audit_record.c.actor == "analyst.fincen")).all()
        receipts = conn.execute(sa.select(t.access_receipt.c.owner_agency)
                                .where(t.access_receipt.c.reader == "analyst.fincen")).all()
    assert ("resolution.entity", "ok") in rows and ("resolution.entity", "not_found") in rows
    assert ("UIF",) in receipts  # UIF learns that FinCEN read its record


def test_the_network_walks_from_the_company_to_the_designated_person(shared: ResWorld) -> None:
    analyst = shared.caller("analyst.uif")
    company = shared.ids["mx-c-comercializadora"]
    paths, sub = shared.investigator.paths(analyst, company)
    assert paths, "a path through the resolved person"
    path = paths[0]
    assert path[0] == company and len(path) == 3
    assert sub.graph.vs[sub.index[path[-1]]]["designated"]
    ramiro = sub.records[path[1]]
    assert {r.id for r in ramiro} == {shared.ids["mx-p-ramiro"], shared.ids["us-p-ramiro"]}
    near = shared.investigator.neighbourhood(analyst, company, depth=1)
    assert set(near.index) == {company, path[1]}
    comps = shared.investigator.summary(analyst, "components")
    assert path[1] in comps[0] and company in comps[0]
    central = shared.investigator.summary(analyst, "centrality", limit=3)
    assert central[0]["id"] == path[1]  # the resolved person holds the network together
    assert shared.investigator.summary(analyst, "communities")


def test_network_exports_what_the_reader_may_export(shared: ResWorld) -> None:
    from binational.core.errors import Forbidden
    from binational.core.identity import operator
    from binational.core.vocab import Country

    with pytest.raises(Forbidden):  # analysts read; exporting is for supervisors and admins
        shared.investigator.export(shared.caller("analyst.uif"), "ftm", io.StringIO())
    supervisor = Caller(operator("UIF", Country.MX), CASE)
    for fmt in ("ftm", "graphml", "gexf", "cypher"):
        out = io.StringIO()
        nodes = shared.investigator.export(supervisor, fmt, out)
        text = out.getvalue()
        # FinCEN granted UIF reading and searching, not exporting: only UIF's own four
        # people and companies leave.
        assert nodes == 4
        if fmt == "ftm":
            entities = [json.loads(line) for line in text.splitlines()]
            assert {e["schema"] for e in entities} == {"Ownership", "Family", "Person",
                                                       "Company"}
            assert all(US_PREFIX not in e["id"] for e in entities)
        elif fmt in ("graphml", "gexf"):
            root = ET.fromstring(text)  # noqa: S314 - our own output
            assert len([e for e in root.iter() if e.tag.endswith("}node")]) == nodes
        else:
            assert text.count("MERGE (n:") == nodes and "-[r:OWNERSHIP" in text
    with pytest.raises(InvalidInput, match="unknown format"):
        shared.investigator.export(supervisor, "dot", io.StringIO())
