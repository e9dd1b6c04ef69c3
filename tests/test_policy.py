"""The policy decision point: deny by default, grants, purposes, expiry, revocation, and the
property that list, search, count and export never reveal what ``check()`` denies."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core import tables as t
from binational.core.access import Caller
from binational.core.errors import Forbidden, InvalidInput, NotFound, PurposeRequired
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext, Resource, query_context
from binational.core.store import utcnow
from binational.core.vocab import TLP, Action, Country, Purpose
from tests.conftest import test_settings as make_settings
from tests.world import DATASETS, World, build_world, in_days

FIN = Purpose.ILLICIT_FINANCE


def caller(world: World, username: str, purpose: Purpose = FIN) -> Caller:
    return Caller(world.principal(username), QueryContext(purpose, "CASE-1"))


def grant(world: World, owner: str, datasets: list[str], to_agency: str | None = None,
          to_country: Country | None = None, actions: tuple[Action, ...] = (Action.READ,
                                                                              Action.SEARCH),
          purposes: tuple[Purpose, ...] = (FIN,), **kw: object) -> str:
    admin = world.principal(f"agency-admin.{owner.lower()}")
    req = GrantRequest(owner_agency=owner, datasets=datasets, actions=actions,
                       purposes=purposes, legal_basis="MOU 2021", expires_at=in_days(30),
                       recipient_agency=to_agency, recipient_country=to_country, **kw)  # type: ignore[arg-type]
    return world.platform.policy.create_grant(admin, req).id


@pytest.fixture
def world(platform: Platform) -> World:
    return build_world(platform)


def test_deny_by_default(world: World) -> None:
    fincen = caller(world, "analyst.fincen")
    uif_id = world.ids["uif_persons"][0]
    with pytest.raises(NotFound):
        world.platform.access.get_entity(fincen, uif_id)
    page = world.platform.access.search(fincen, q="sample")
    assert {e.id for e in page.entities} == set(world.ids["fincen_reports"])
    # Even an agency of the same country sees nothing without a grant.
    cbp = caller(world, "analyst.cbp")
    with pytest.raises(NotFound):
        world.platform.access.get_entity(cbp, world.ids["fincen_reports"][0])


def test_grant_opens_for_its_purpose_only(world: World) -> None:
    uif_id = world.ids["uif_persons"][0]
    grant(world, "UIF", ["uif_persons"], to_agency="FINCEN")
    entity = world.platform.access.get_entity(caller(world, "analyst.fincen"), uif_id)
    assert entity.id == uif_id
    with pytest.raises(NotFound):
        world.platform.access.get_entity(
            caller(world, "analyst.fincen", Purpose.PUBLIC_HEALTH), uif_id)
    # The grant names FINCEN, not CBP.
    with pytest.raises(NotFound):
        world.platform.access.get_entity(caller(world, "analyst.cbp"), uif_id)


def test_country_grant_and_receipt(world: World) -> None:
    grant(world, "UIF", ["uif_persons"], to_country=Country.US)
    cbp = caller(world, "analyst.cbp")
    uif_id = world.ids["uif_persons"][1]
    world.platform.access.get_entity(cbp, uif_id)
    receipts = world.platform.audit.receipts("UIF")
    assert receipts and receipts[0]["object_id"] == uif_id
    assert receipts[0]["reader_agency"] == "CBP"
    assert receipts[0]["purpose"] == FIN.value
    assert world.platform.audit.receipts("CBP") == []


def test_revocation_and_expiry_take_effect_at_once(world: World) -> None:
    uif_id = world.ids["uif_persons"][0]
    gid = grant(world, "UIF", ["uif_persons"], to_agency="FINCEN")
    fincen = caller(world, "analyst.fincen")
    world.platform.access.get_entity(fincen, uif_id)
    world.platform.policy.revoke_grant(world.principal("agency-admin.uif"), gid, "case closed")
    with pytest.raises(NotFound):
        world.platform.access.get_entity(fincen, uif_id)
    gid2 = grant(world, "UIF", ["uif_persons"], to_agency="FINCEN")
    with world.platform.db.write() as conn:
        conn.execute(sa.update(t.share_grant).where(t.share_grant.c.id == gid2)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(NotFound):
        world.platform.access.get_entity(fincen, uif_id)


def test_action_scoping_read_only_grant_is_not_searchable(world: World) -> None:
    uif_id = world.ids["uif_persons"][0]
    grant(world, "UIF", ["uif_persons"], to_agency="FINCEN", actions=(Action.READ,))
    fincen = caller(world, "analyst.fincen")
    assert world.platform.access.get_entity(fincen, uif_id).id == uif_id
    found = {e.id for e in world.platform.access.search(fincen).entities}
    assert uif_id not in found


def test_schema_filter(world: World) -> None:
    grant(world, "UIF", ["uif_persons"], to_agency="FINCEN", schemata=["Company"])
    fincen = caller(world, "analyst.fincen")
    person, company = world.ids["uif_persons"][0], world.ids["uif_persons"][1]
    assert world.platform.access.get_entity(fincen, company).schema.name == "Company"
    with pytest.raises(NotFound):
        world.platform.access.get_entity(fincen, person)


def test_onward_sharing(world: World) -> None:
    parent = grant(world, "UIF", ["uif_persons"], to_agency="FINCEN", onward_sharing=True)
    fin_admin = world.principal("agency-admin.fincen")
    child = world.platform.policy.create_grant(fin_admin, GrantRequest(
        owner_agency="UIF", datasets=["uif_persons"], actions=[Action.READ], purposes=[FIN],
        legal_basis="onward under MOU", expires_at=in_days(10), recipient_agency="CBP"))
    assert child.parent_id == parent
    cbp = caller(world, "analyst.cbp")
    world.platform.access.get_entity(cbp, world.ids["uif_persons"][0])
    # Revoking the parent closes the child at once.
    world.platform.policy.revoke_grant(world.principal("agency-admin.uif"), parent, "ended")
    with pytest.raises(NotFound):
        world.platform.access.get_entity(cbp, world.ids["uif_persons"][0])


def test_no_onward_sharing_without_permission(world: World) -> None:
    grant(world, "UIF", ["uif_persons"], to_agency="FINCEN")
    with pytest.raises(Forbidden):
        world.platform.policy.create_grant(world.principal("agency-admin.fincen"), GrantRequest(
            owner_agency="UIF", datasets=["uif_persons"], actions=[Action.READ],
            purposes=[FIN], legal_basis="x", expires_at=in_days(5), recipient_agency="CBP"))


@pytest.mark.parametrize("change,message", [
    ({"datasets": ["fincen_reports"]}, "belongs to FINCEN"),
    ({"legal_basis": " "}, "legal basis"),
    ({"expires_at": utcnow() - timedelta(days=1)}, "future"),
    ({"purposes": [Purpose.AUDIT]}, "audit purpose"),
    ({"recipient_agency": None, "recipient_country": Country.US, "tlp": TLP.RED}, "named agency"),
    ({"recipient_agency": "UIF"}, "its own datasets"),
    ({"schemata": ["Spaceship"]}, "unknown schema"),
])
def test_bad_grants_are_refused(world: World, change: dict[str, object], message: str) -> None:
    base: dict[str, object] = dict(owner_agency="UIF", datasets=["uif_persons"],
                                   actions=[Action.READ], purposes=[FIN], legal_basis="MOU",
                                   expires_at=in_days(5), recipient_agency="FINCEN")
    base.update(change)
    with pytest.raises(InvalidInput, match=message):
        world.platform.policy.create_grant(world.principal("agency-admin.uif"),
                                           GrantRequest(**base))  # type: ignore[arg-type]


def test_roles(world: World) -> None:
    with pytest.raises(Forbidden):
        world.platform.policy.create_grant(world.principal("analyst.uif"), GrantRequest(
                owner_agency="UIF", datasets=["uif_persons"], actions=[Action.READ],
                purposes=[FIN], legal_basis="x", expires_at=in_days(5), recipient_agency="CBP"))
    with pytest.raises(Forbidden):
        list(world.platform.access.export(caller(world, "analyst.uif")))
    with pytest.raises(Forbidden):
        world.platform.access.search(caller(world, "auditor.mx"))


def test_query_context() -> None:
    with pytest.raises(PurposeRequired):
        query_context(None, "A-1")
    with pytest.raises(PurposeRequired):
        query_context("cyber", "")
    with pytest.raises(InvalidInput, match="unknown purpose"):
        query_context("curiosity", "A-1")
    with pytest.raises(InvalidInput, match="case reference"):
        query_context("cyber", "x\x00y")
    assert query_context("cyber", " FGR/2026/1 ").case_ref == "FGR/2026/1"


# -- the property: list, search, count and export never reveal what check() denies ----------

@pytest.fixture(scope="module")
def shared_world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("policy-prop")
    shutil.copy(sqlite_template, folder / "db.sqlite")
    plat = Platform.open(make_settings(folder),
                         url=f"sqlite:///{folder / 'db.sqlite'}", migrate_schema=False)
    yield build_world(plat, entities_per_dataset=4)
    plat.close()


AGENCY_CODES = ["FINCEN", "CBP", "UIF", "ANAM"]
OWNED = {agency: [ds for ds, a in DATASETS if a == agency] for agency in AGENCY_CODES}

grant_spec = st.fixed_dictionaries({
    "owner": st.sampled_from(AGENCY_CODES),
    "to": st.one_of(st.sampled_from(AGENCY_CODES), st.sampled_from(list(Country))),
    "actions": st.sets(st.sampled_from(list(Action)), min_size=1),
    "purposes": st.sets(st.sampled_from([FIN, Purpose.CYBER, Purpose.PUBLIC_HEALTH]),
                        min_size=1),
    "schemata": st.one_of(st.none(), st.sets(st.sampled_from(["Person", "Company",
                                                              "LegalEntity"]), min_size=1)),
    "state": st.sampled_from(["live", "live", "revoked", "expired"]),
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(grants=st.lists(grant_spec, max_size=5),
       user=st.sampled_from(["analyst.fincen", "supervisor.cbp", "supervisor.uif",
                             "agency-admin.anam", "auditor.us"]),
       purpose=st.sampled_from([FIN, Purpose.CYBER, Purpose.PUBLIC_HEALTH]))
def test_views_never_reveal_what_check_denies(shared_world: World, grants: list[dict[str, object]],
                                              user: str, purpose: Purpose) -> None:
    world = shared_world
    plat = world.platform
    with plat.db.write() as conn:
        conn.execute(sa.delete(t.share_grant))
    for spec in grants:
        owner = str(spec["owner"])
        to = spec["to"]
        if to == owner:
            continue
        gid = grant(world, owner, OWNED[owner],
                    to_agency=to if isinstance(to, str) and not isinstance(to, Country) else None,
                    to_country=to if isinstance(to, Country) else None,
                    actions=tuple(spec["actions"]),  # type: ignore[arg-type]
                    purposes=tuple(spec["purposes"]),  # type: ignore[arg-type]
                    schemata=sorted(spec["schemata"]) if spec["schemata"] else None)  # type: ignore[call-overload]
        if spec["state"] == "revoked":
            plat.policy.revoke_grant(world.principal(f"agency-admin.{owner.lower()}"), gid, "t")
        elif spec["state"] == "expired":
            with plat.db.write() as conn:
                conn.execute(sa.update(t.share_grant).where(t.share_grant.c.id == gid)
                             .values(expires_at=utcnow() - timedelta(seconds=1)))
    principal = world.principal(user)
    who = Caller(principal, QueryContext(purpose, "PROP-1"))
    everything = {(eid, ds) for ds, _ in DATASETS for eid in world.ids[ds]}

    def allowed(action: Action) -> set[str]:
        out = set()
        for eid, ds in everything:
            # build_world makes even-numbered entities people and odd ones companies.
            schema_name = "Person" if eid in world.ids[ds][::2] else "Company"
            if plat.policy.check(principal, action, Resource(ds, schema_name), purpose).allowed:
                out.add(eid)
        return out

    for action in Action:
        may = allowed(action)
        try:
            if action == Action.READ:
                seen = set()
                for eid, _ in everything:
                    with contextlib.suppress(NotFound):
                        seen.add(str(plat.access.get_entity(who, eid).id))
            elif action == Action.SEARCH:
                page = plat.access.search(who, limit=500)
                seen = {str(e.id) for e in page.entities}
                assert page.total == len(seen)
                assert plat.access.count(who) == len(seen)
                named = plat.access.search(who, q="sample garcia", limit=500)
                assert {str(e.id) for e in named.entities} == seen
            else:
                seen = {str(e.id) for e in plat.access.export(who)}
        except Forbidden:
            seen = set()
        assert seen == may, (action, sorted(seen ^ may))
