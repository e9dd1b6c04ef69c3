"""Identification records, candidates and Prüm-style queries through policy and audit."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from binational.core.errors import Forbidden, InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.vocab import Purpose, Role
from binational.identification import tables as it
from tests.identification_fixtures import Scene, build_scene


@pytest.fixture
def scene(platform: Platform) -> Scene:
    return build_scene(platform)


def audit_actions(platform: Platform) -> list[tuple[str, str, str | None]]:
    from binational.core.tables import audit_record

    with platform.db.read() as conn:
        rows = conn.execute(sa.select(audit_record.c.action, audit_record.c.outcome,
                                      audit_record.c.agency).order_by(audit_record.c.seq))
        return [tuple(r) for r in rows]


def receipts_for(platform: Platform, owner: str) -> list[dict[str, object]]:
    from binational.core.tables import access_receipt

    with platform.db.read() as conn:
        q = sa.select(access_receipt).where(access_receipt.c.owner_agency == owner)
        return [dict(r) for r in conn.execute(q).mappings()]


def test_records_are_written_by_their_owner_only(scene: Scene) -> None:
    svc, jal, pc = scene.service, scene.caller("FGE-JAL"), scene.caller("PCOME")
    with pytest.raises(NotFound):
        svc.add_remains(pc, "fge_jal_records", {"id": "X-1", "sex": "M"})
    with pytest.raises(InvalidInput, match="hair"):
        svc.add_remains(jal, "fge_jal_records", {"id": "X-2", "codes": ["hair:purple"]})
    with pytest.raises(InvalidInput, match="age_min is above age_max"):
        svc.add_remains(jal, "fge_jal_records", {"id": "X-3", "age_min": 50, "age_max": 30})
    analyst = scene.caller("FGE-JAL", Role.ANALYST)
    with pytest.raises(Forbidden):
        svc.add_missing(analyst, "fge_jal_records", {"id": "X-4", "sex": "F"})
    outcomes = [(a, o) for a, o, _ in audit_actions(scene.platform)[-4:]]
    assert outcomes == [("identification.remains.add", "not_found"),
                        ("identification.remains.add", "invalid"),
                        ("identification.remains.add", "invalid"),
                        ("identification.missing.add", "denied")]


def test_ranked_candidates_with_reasons_within_scope(scene: Scene) -> None:
    svc, jal = scene.service, scene.caller("FGE-JAL")
    for rid, mid in list(scene.mx.truth.items())[:3]:
        rem, cands = svc.candidates(jal, rid, top=5)
        assert rem["id"] == rid
        assert cands[0]["id"] == mid
        assert cands[0]["score"] == pytest.approx(sum(r["points"] for r in cands[0]["reasons"]),
                                                  abs=1e-2)
        assert {r["reason"] for r in cands[0]["reasons"]} >= {"age", "stature"}
        # PCOME's copy of the same report is not in FGE-JAL's scope.
        assert all(c["dataset"] == "fge_jal_records" for c in cands)
    # PCOME cannot see FGE-JAL's remains: the same answer as for absent remains.
    with pytest.raises(NotFound):
        svc.candidates(scene.caller("PCOME"), "JAL-PM-00001")
    with pytest.raises(NotFound):
        svc.candidates(scene.caller("PCOME"), "NO-SUCH")


def test_dna_profiles_are_sealed_at_rest(scene: Scene) -> None:
    with scene.platform.db.read() as conn:
        sealed = conn.execute(sa.select(it.dna_profile.c.sealed)).scalars().all()
    assert sealed
    assert all(b"D18S51" not in bytes(s) and b"TH01" not in bytes(s) for s in sealed)


def test_dna_candidates_find_the_planted_relative(scene: Scene) -> None:
    svc, jal = scene.service, scene.caller("FGE-JAL")
    # FGE-JAL has no family references of its own: no candidates (PCOME's are not in scope).
    assert svc.dna_candidates(jal, "JAL-PM-00001", scene.db) == []
    pc_view = svc.list_records(scene.caller("PCOME"), "family")
    assert len(pc_view) == 2 + len(scene.us.family)


def test_prum_dna_query_hit_request_release_detail(scene: Scene) -> None:
    svc, jal, pc = scene.service, scene.caller("FGE-JAL"), scene.caller("PCOME")
    answer = svc.query_dna(jal, "JAL-PM-00001", "PCOME", scene.db)
    assert answer.hit and len(answer.references) == 1
    ref = answer.references[0]
    # A remains that is nobody's relative: no hit.
    miss = svc.query_dna(jal, f"JAL-PM-{len(scene.mx.remains):05d}", "PCOME", scene.db)
    assert not miss.hit and miss.references == []
    # The requester sees the reference only; the owner sees the record behind it.
    mine = {h.ref: h for h in svc.hits(jal)}
    assert mine[ref].record_id is None and mine[ref].score is None
    theirs = {h.ref: h for h in svc.hits(pc)}
    assert theirs[ref].record_id == f"family:{scene.mx.family[0]['id']}"
    with pytest.raises(NotFound, match="not been released"):
        svc.hit_detail(jal, ref)
    with pytest.raises(InvalidInput, match="not requested"):
        svc.decide(pc, ref, approve=True)
    svc.request_release(jal, ref, "Remains JAL-PM-00001, fosa 12; family identified in Arizona")
    with pytest.raises(Forbidden):
        svc.decide(scene.caller("PCOME", Role.ANALYST), ref, approve=True)
    with pytest.raises(NotFound):  # only the owner decides
        svc.decide(jal, ref, approve=True)
    released = svc.decide(pc, ref, approve=True, reason="consent covers international use")
    assert released.status == "released" and released.grant_id
    detail = svc.hit_detail(jal, ref)
    assert detail["record"]["genotypes"]["TH01"] == list(scene.mx.family_dna[
        scene.mx.family[0]["id"]]["TH01"])
    assert detail["score"] >= 10_000
    actions = [a for a, _, _ in audit_actions(scene.platform)
               if a.startswith("identification.prum")]
    assert actions[:2] == ["identification.prum.dna", "identification.prum.dna"]
    assert "identification.prum.request" in actions and "identification.prum.decide" in actions
    assert actions[-1] == "identification.prum.detail"
    # PCOME saw each query (searched datasets) and the release read.
    got = receipts_for(scene.platform, "PCOME")
    assert {r["action"] for r in got} >= {"prum-query", "read"}
    assert any(r["object_id"] == answer.query_id for r in got)


def test_prum_needs_the_missing_persons_purpose_and_consent(scene: Scene) -> None:
    svc = scene.service
    other = scene.caller("FGE-JAL", purpose=Purpose.HOMICIDE_INVESTIGATION)
    with pytest.raises(Forbidden, match="missing-persons"):
        svc.query_dna(other, "JAL-PM-00001", "PCOME", scene.db)
    pc = scene.caller("PCOME")
    fam = scene.mx.family[1]
    svc.add_family_sample(pc, "pcome_records", {**fam, "consent_international": True,
                                                "consent_withdrawn_on": "2026-01-05"})
    answer = svc.query_dna(scene.caller("FGE-JAL"), "JAL-PM-00002", "PCOME", scene.db)
    assert not answer.hit  # the donor withdrew consent: the sample is not searched
    assert audit_actions(scene.platform)[-1][:2] == ("identification.prum.dna", "ok")


def test_prum_attribute_query_answers_hit_no_hit(scene: Scene) -> None:
    svc, jal = scene.service, scene.caller("FGE-JAL")
    answer = svc.query_attributes(jal, "JAL-PM-00001", "PCOME")
    assert answer.hit
    hit = next(h for h in svc.hits(scene.caller("PCOME")) if h.ref in answer.references)
    assert hit.record_id == "AZ-JAL-MP-00001"
    assert json.dumps(answer.as_dict())  # the answer is plain JSON
