"""Designation screening: Hispanic name analysis, the scoring model, the candidate index, and
screening through the policy with its audit trail (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pytest
import sqlalchemy as sa
from followthemoney import Dataset, EntityProxy, StatementEntity, model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core.access import Caller
from binational.core.errors import Forbidden, InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, QueryContext
from binational.core.store import Scope
from binational.core.vocab import Action, Country, Purpose, Role
from binational.screening import (
    DEFAULT_THRESHOLD,
    Feature,
    Match,
    Query,
    Screener,
    score,
    service,
)
from binational.screening.compiled import Designation
from binational.screening.index import entity_keys, query_keys
from binational.screening.matching import make_match
from binational.screening.names import (
    align,
    analyze,
    joined,
    phonetic_key,
    similarity,
    strip_legal_form,
    translit_key,
)
from binational.screening.tables import screening_key
from tests.world import PASSWORD, in_days

# Public designations (OFAC SDN list, 2024-05-03): ent_num 17674 and 20109. The CURP is the
# one OFAC publishes for Antonio OSEGUERA CERVANTES; OFAC publishes none for Nemesio.
ANTONIO_CURP = "OECA580820HMNSRN04"
OTHER_CURP = "AIMO681106HCHRRS01"  # ARRIOLA MARQUEZ, Oscar Arturo (OFAC 9339)


def person(entity_id: str, name: str, **props: str | list[str]) -> EntityProxy:
    proxy = model.make_entity("Person")
    proxy.id = entity_id
    proxy.add("name", name)
    for key, value in props.items():
        proxy.add(key, value)
    return proxy


def company(entity_id: str, name: str, **props: str | list[str]) -> EntityProxy:
    proxy = model.make_entity("Company")
    proxy.id = entity_id
    proxy.add("name", name)
    for key, value in props.items():
        proxy.add(key, value)
    return proxy


def sanction(entity_id: str, target: str, program: str, authority: str) -> EntityProxy:
    proxy = model.make_entity("Sanction")
    proxy.id = entity_id
    proxy.add("entity", target)
    proxy.add("program", program)
    proxy.add("authority", authority)
    return proxy


NEMESIO = person("ofac-17674", "OSEGUERA CERVANTES, Nemesio", weakAlias=["EL MENCHO", "Mencho"],
                 birthDate=["1966-07-17", "1964-07-17"], nationality="mx", gender="male",
                 firstName="Nemesio", fatherName="OSEGUERA", motherName="CERVANTES")
ANTONIO = person("ofac-20109", "OSEGUERA CERVANTES, Antonio", alias="Tony Montana",
                 birthDate="1958-08-20", nationality="mx", idNumber=ANTONIO_CURP)


def names_of(features: list[Feature]) -> set[str]:
    return {f.name for f in features}


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("oseguera", "ozeguera"), ("cervantes", "servantes"), ("ximena", "jimena"),
    ("xavier", "javier"), ("hernandez", "ernandez"), ("vazquez", "basquez"),
    ("gonzalez", "gonzales"), ("llamas", "yamas"), ("guillermo", "guiyermo"),
    ("jerardo", "gerardo"), ("quintero", "kintero"), ("guzman", "gusman"), ("garay", "garai"),
])
def test_spanish_spelling_variants_share_a_phonetic_key(a: str, b: str) -> None:
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("garcia", "gracia"), ("chavez", "cabeza"), ("ramirez", "lopez"), ("sosa", "sousa"),
])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert phonetic_key(a) != phonetic_key(b)


def test_analysis_of_hispanic_names() -> None:
    ofac = analyze("OSEGUERA CERVANTES, Nemesio")
    assert ofac.texts == ("nemesio", "oseguera", "cervantes")
    assert ofac.surnames == ("oseguera", "cervantes")
    plain = analyze("Nemesio Oseguera Cervantes")
    assert plain.texts == ofac.texts and plain.surnames == ofac.surnames
    maria = analyze("María de los Ángeles PEÑA NIETO")
    assert maria.texts == ("maria", "angeles", "pena", "nieto")
    assert maria.surnames == ("pena", "nieto") and "de los" in maria.display
    nick = analyze('Nemesio OSEGUERA "El Mencho"')
    assert nick.nicknames == ("El Mencho",) and nick.texts == ("nemesio", "oseguera")
    assert analyze("El Mencho").texts == ("mencho",)


@pytest.mark.parametrize("name", [
    "GRUPO ACME, S.A. DE C.V.", "Grupo Acme S. de R.L. de C.V.", "GRUPO ACME SAPI DE CV",
    "Grupo Acme, S.A.B. de C.V.", "GRUPO ACME LLC", "Grupo Acme, Inc.", "GRUPO ACME LTD",
    "Grupo Acme Sociedad Anónima de Capital Variable",
])
def test_legal_forms_are_stripped(name: str) -> None:
    assert analyze(name, person=False).texts == ("grupo", "acme")
    assert strip_legal_form("S.A. DE C.V.")  # nothing but a legal form: kept as it is


def test_alignment_allows_one_dropped_surname() -> None:
    full = analyze("OSEGUERA CERVANTES, Nemesio")
    dropped = align(analyze("Nemesio Oseguera"), full)
    assert dropped.dropped_surnames == ("cervantes",) and dropped.similarity > 0.85
    other = align(analyze("Nemesio Ramírez López"), full)
    assert other.similarity < 0.3
    assert align(analyze("Oseguera Cervantes Nemesio"), full).similarity == 1.0


SPANISH = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúñüABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑ",
                  min_size=1, max_size=12)
ACCENTS = str.maketrans("áéíóúñüÁÉÍÓÚÑ", "aeiounuAEIOUN")


@settings(deadline=None)  # the first call loads rigour's org-type tables
@given(st.text(max_size=120), st.booleans())
def test_analysis_never_crashes(text: str, person_name: bool) -> None:
    name = analyze(text, person_name)
    for token in name.tokens:
        assert token.text and token.text == token.text.lower() and token.text.isascii()
    align(name, analyze("OSEGUERA CERVANTES, Nemesio"))
    entity_keys(model.get("Person"), {"name": [text]})  # type: ignore[arg-type]


@given(st.lists(SPANISH, min_size=1, max_size=5))
def test_analysis_ignores_case_and_accents(words: list[str]) -> None:
    text = " ".join(words)
    base = analyze(text).texts
    assert analyze(text.upper()).texts == base
    assert analyze(text.lower()).texts == base
    assert analyze(text.translate(ACCENTS)).texts == base


@given(SPANISH, SPANISH, SPANISH)
def test_surname_comma_order_is_the_same_name(a: str, b: str, c: str) -> None:
    comma, plain = analyze(f"{a} {b}, {c}"), analyze(f"{c} {a} {b}")
    assert comma.texts == plain.texts
    assert comma.surnames == plain.surnames
    if comma.tokens:
        assert align(comma, plain).similarity == 1.0


# -- scoring ------------------------------------------------------------------------------------


def test_full_name_matches() -> None:
    value, features = score(Query("Nemesio Oseguera Cervantes", "Person"), NEMESIO)
    assert value >= 0.9 and {"name_match", "name_exact"} <= names_of(features)


@pytest.mark.parametrize("name", [
    "Nemesio Oseguera",  # the maternal surname dropped
    "OSEGUERA, Nemesio",  # OFAC order, one surname
    "Nemesio Ozeguera Servantes",  # spelling
    "NEMESIO OSEGUERA CERVANTES",
    "nemesio oseguera cervantes",
    "Cervantes Nemesio Oseguera",
])
def test_hispanic_variants_match(name: str) -> None:
    value, _ = score(Query(name), NEMESIO)
    assert value >= DEFAULT_THRESHOLD, name


def test_weak_alias_counts_when_equal() -> None:
    value, features = score(Query("El Mencho"), NEMESIO)
    assert value >= DEFAULT_THRESHOLD and "alias_match" in names_of(features)
    # A near miss of a weak alias is no match at all.
    assert score(Query("El Mancha"), NEMESIO)[0] < 0.3
    # A nickname in quotes finds the alias too.
    assert score(Query('N. Oseguera "El Mencho"'), NEMESIO)[0] >= DEFAULT_THRESHOLD


def test_wrong_birth_date_lowers_the_score() -> None:
    plain, _ = score(Query("Nemesio Oseguera"), NEMESIO)
    wrong, features = score(Query("Nemesio Oseguera", birth_date="1980-01-02"), NEMESIO)
    right, _ = score(Query("Nemesio Oseguera", birth_date="1966-07-17"), NEMESIO)
    year, _ = score(Query("Nemesio Oseguera", birth_date="1966"), NEMESIO)
    assert wrong < DEFAULT_THRESHOLD < plain < year < right
    assert "dob_mismatch" in names_of(features)


def test_other_people_and_kinds_do_not_match() -> None:
    assert score(Query("Nemesio Ramírez López"), NEMESIO)[0] < 0.3
    assert score(Query("Antonio Oseguera Cervantes"), NEMESIO)[0] < DEFAULT_THRESHOLD
    value, features = score(Query("Nemesio Oseguera Cervantes", "Company"), NEMESIO)
    assert value == 0.0 and "schema_mismatch" in names_of(features)
    acme = company("c-1", "GRUPO ACME, S.A. DE C.V.", country="mx")
    assert score(Query("Grupo Acme", "Company"), acme)[0] >= DEFAULT_THRESHOLD
    assert score(Query("Grupo Acme SA de CV", "Organization"), acme)[0] >= 0.9
    assert score(Query("Grupo Acme"), NEMESIO)[0] == 0.0


def test_identifiers() -> None:
    value, features = score(Query("Antonio Oseguera", identifiers=("oeca-580820-hmnsrn04",)),
                            ANTONIO)
    assert value == 1.0 and "identifier_match" in names_of(features)
    # The CURP's birth date (1958-08-20) agrees with the candidate's.
    assert "dob_match" in names_of(features)
    value, features = score(Query("Antonio Oseguera Cervantes", identifiers=(OTHER_CURP,)),
                            ANTONIO)
    assert value < DEFAULT_THRESHOLD
    assert {"identifier_mismatch", "dob_mismatch"} <= names_of(features)


def test_country_and_gender() -> None:
    base, _ = score(Query("Nemesio Oseguera"), NEMESIO)
    same, _ = score(Query("Nemesio Oseguera", countries=("Mexico",)), NEMESIO)
    other, features = score(Query("Nemesio Oseguera", countries=("us",), gender="female"),
                            NEMESIO)
    assert other < base < same
    assert {"country_mismatch", "gender_mismatch"} <= names_of(features)


def test_every_feature_is_explained() -> None:
    value, features = score(Query("Nemesio Oseguera", birth_date="1966-07-17",
                                  countries=("mx",)), NEMESIO)
    assert value == pytest.approx(min(1.0, sum(f.weight * f.value for f in features)), abs=1e-3)
    for feature in features:
        assert feature.detail and feature.weight != 0
    dataset = Dataset({"name": "uif_list", "title": "UIF"})
    entity = StatementEntity.from_data(dataset, NEMESIO.to_dict())
    listing = StatementEntity.from_data(dataset, sanction("s-1", "ofac-17674", "SDNTK",
                                                          "OFAC").to_dict())
    match = make_match(Query("Nemesio Oseguera"), entity, DEFAULT_THRESHOLD)
    match.sanctions.append(Designation(
        str(listing.id), "uif_list", tuple(listing.get("program")), tuple(listing.get("authority")),
        tuple(listing.get("listingDate"))).as_dict())
    out = match.explanation()
    assert out["datasets"] == ["uif_list"] and match.caption == entity.caption
    assert out["match"] is True and out["id"] == "ofac-17674"
    assert {f["name"] for f in out["features"]} == {"name_match"}
    assert out["names"]["candidate"] in ("OSEGUERA CERVANTES, Nemesio",
                                         "Nemesio OSEGUERA CERVANTES")
    assert "cervantes" in out["names"]["aligned"]
    assert out["designations"][0]["program"] == ["SDNTK"]


def test_query_validation() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        Query("   ")
    with pytest.raises(InvalidInput, match="300"):
        Query("a" * 301)
    with pytest.raises(InvalidInput, match="control"):
        Query("Nemesio\x00Oseguera")
    with pytest.raises(InvalidInput, match="control"):
        Query("Nemesio\u200bOseguera")
    with pytest.raises(InvalidInput, match="schema"):
        Query("x", schema="Sanction")
    with pytest.raises(InvalidInput, match="birth date"):
        Query("x", birth_date="yesterday")
    with pytest.raises(InvalidInput, match="country"):
        Query("x", countries=("atlantis",))
    assert Query("  Nemesio   Oseguera ", birth_date="1966-07-17T00:00:00").name == \
        "Nemesio Oseguera"


def test_query_from_yente_properties() -> None:
    query = Query.from_properties("Person", {
        "name": ["Nemesio Oseguera Cervantes", "Nemesio Oseguera"], "birthDate": ["1966-07-17"],
        "nationality": ["mx"], "idNumber": [ANTONIO_CURP], "weakAlias": ["El Mencho"]})
    assert query.name == "Nemesio Oseguera Cervantes"
    assert query.aliases == ("Nemesio Oseguera", "El Mencho")
    assert query.identifiers == (ANTONIO_CURP,) and query.countries == ("mx",)
    assert query.summary() == {"name": "Nemesio Oseguera Cervantes", "schema": "Person",
                               "birth_date_given": True, "identifiers_given": True}
    parts = Query.from_properties("Person", {"firstName": ["Nemesio"], "lastName": ["Oseguera"]})
    assert parts.name == "Nemesio Oseguera"
    with pytest.raises(InvalidInput, match="needs a name"):
        Query.from_properties("Person", {"birthDate": ["1966"]})
    with pytest.raises(InvalidInput, match="no property"):
        Query.from_properties("Person", {"name": ["x"], "shoeSize": ["9"]})


# -- index and screening on both backends -------------------------------------------------------


UIF_LIST = [
    NEMESIO, ANTONIO,
    person("uif-1", "GUZMÁN LOERA, Joaquín", weakAlias="El Chapo", birthDate="1957-04-04"),
    company("uif-2", "GRUPO FRUTICOLA ACME, S.A. DE C.V.", country="mx"),
    sanction("uif-s-1", "ofac-17674", "SDNTK", "UIF"),
    sanction("uif-s-2", "ofac-20109", "SDNTK", "UIF"),
]
FINCEN_LIST = [
    person("fin-1", "ZAMBADA GARCIA, Ismael", weakAlias="El Mayo", birthDate="1948"),
    person("fin-2", "OSEGUERA GONZALEZ, Ruben", birthDate="1989-05-14"),
    sanction("fin-s-1", "fin-2", "ILLICIT-DRUGS-EO14059", "OFAC"),
]
SCREEN = Purpose.SANCTIONS_SCREENING


@dataclass
class ListWorld:
    platform: Platform
    screener: Screener
    ids: dict[str, list[str]]

    def caller(self, username: str, purpose: Purpose = SCREEN) -> Caller:
        return Caller(self.platform.identity.principal(username),
                      QueryContext(purpose, "SCREEN-2026-1"))

    def grant_fincen(self) -> str:
        admin = self.platform.identity.principal("admin.uif")
        req = GrantRequest(owner_agency="UIF", datasets=["uif_list"],
                           actions=[Action.READ, Action.SEARCH], purposes=[SCREEN],
                           legal_basis="MOU 2021", expires_at=in_days(30),
                           recipient_agency="FINCEN")
        return self.platform.policy.create_grant(admin, req).id


def load(platform: Platform, dataset: str, entities: list[EntityProxy]) -> list[str]:
    with platform.db.write() as conn:
        writer = platform.store.writer(conn, dataset)
        ids = [writer.add_entity(e) for e in entities]
        writer.flush()
    return ids


@pytest.fixture
def lists(platform: Platform) -> Iterator[ListWorld]:
    platform.identity.add_agency("UIF", "Unidad de Inteligencia Financiera", Country.MX)
    platform.identity.add_agency("FINCEN", "Financial Crimes Enforcement Network", Country.US)
    platform.catalog.add("uif_list", "UIF", "UIF designations")
    platform.catalog.add("fincen_list", "FINCEN", "FinCEN designations")
    platform.identity.add_user("analyst.fincen", "FINCEN", Role.ANALYST, PASSWORD)
    platform.identity.add_user("auditor.fincen", "FINCEN", Role.AUDITOR, PASSWORD)
    platform.identity.add_user("admin.uif", "UIF", Role.AGENCY_ADMIN, PASSWORD)
    ids = {"uif_list": load(platform, "uif_list", UIF_LIST),
           "fincen_list": load(platform, "fincen_list", FINCEN_LIST)}
    screener = Screener(platform)
    yield ListWorld(platform, screener, ids)


def test_index_dataset_is_idempotent(lists: ListWorld) -> None:
    assert lists.screener.index_dataset("uif_list") == 4  # Sanctions are not screened
    db = lists.platform.db

    def count() -> int:
        with db.read() as conn:
            q = sa.select(sa.func.count()).select_from(screening_key)
            return int(conn.execute(q).scalar_one())

    first = count()
    assert lists.screener.index_dataset("uif_list") == 4 and count() == first > 0
    assert lists.screener.index_dataset("fincen_list") == 2
    assert lists.screener.indexed_datasets() == ["fincen_list", "uif_list"]
    with pytest.raises(NotFound):
        lists.screener.index_dataset("nope")


def test_candidates_come_from_the_index(lists: ListWorld) -> None:
    for ds in ("uif_list", "fincen_list"):
        lists.screener.index_dataset(ds)
    everything = Scope({"uif_list": None, "fincen_list": None})
    nemesio, antonio = lists.ids["uif_list"][:2]
    found = lists.screener.candidates(everything, Query("Nemesio Ozeguera"))
    assert found[0] == nemesio
    by_id = lists.screener.candidates(everything, Query("zzz", identifiers=(ANTONIO_CURP,)))
    assert by_id[0] == antonio
    assert lists.screener.candidates(everything, Query("El Mencho")) == [nemesio]
    assert lists.screener.candidates(Scope({"fincen_list": None}), Query("Nemesio")) == []
    only_companies = Scope({"uif_list": frozenset({"Company"})})
    assert lists.screener.candidates(only_companies, Query("Oseguera")) == []
    assert lists.screener.candidates(everything, Query("Nemesio", "Company")) == []


def test_screening_follows_the_grants_and_is_audited(lists: ListWorld) -> None:
    for ds in ("uif_list", "fincen_list"):
        lists.screener.index_dataset(ds)
    platform = lists.platform
    analyst = lists.caller("analyst.fincen")
    query = Query("Nemesio Oseguera", schema="Person", birth_date="1966-07-17")
    # Before the grant: only FinCEN's own list (Ruben OSEGUERA GONZALEZ is no match).
    before = lists.screener.screen(analyst, query)
    assert all(m.datasets == ["fincen_list"] for m in before)
    assert not any(m.match for m in before)
    assert platform.audit.receipts("UIF") == []

    grant_id = lists.grant_fincen()
    found = lists.screener.screen(analyst, query)
    top = found[0]
    assert isinstance(top, Match) and top.match and top.id == lists.ids["uif_list"][0]
    assert top.datasets == ["uif_list"] and "Nemesio" in top.caption
    assert top.sanctions and top.sanctions[0]["program"] == ["SDNTK"]
    assert top.explanation()["designations"][0]["authority"] == ["UIF"]
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)

    (record,) = platform.audit.records(action="screening.match", limit=1)
    assert record["outcome"] == "ok" and record["actor"] == "analyst.fincen"
    assert top.id in {o["id"] for o in record["objects"]}
    assert record["detail"]["query"] == query.summary()
    assert "1966" not in str(record["detail"])  # no birth date in the trail
    assert record["detail"]["matches"] == sum(m.match for m in found)
    receipts = platform.audit.receipts("UIF")
    assert {r["object_id"] for r in receipts} >= {top.id}
    assert all(r["grant_id"] == grant_id and r["purpose"] == SCREEN.value for r in receipts)

    # The grant is for sanctions screening, not for another purpose; datasets narrow.
    other = lists.screener.screen(lists.caller("analyst.fincen", Purpose.COUNTER_NARCOTICS),
                                  query)
    assert all(m.datasets == ["fincen_list"] for m in other)
    narrowed = lists.screener.screen(analyst, query, datasets=["fincen_list"])
    assert all(m.datasets == ["fincen_list"] for m in narrowed)


def test_refusals_are_audited(lists: ListWorld) -> None:
    auditor = lists.caller("auditor.fincen")
    with pytest.raises(Forbidden):
        lists.screener.screen(auditor, Query("Nemesio"))
    (record,) = lists.platform.audit.records(action="screening.match", limit=1)
    assert record["outcome"] == "denied" and record["detail"]["query"]["name"] == "Nemesio"
    with pytest.raises(InvalidInput):
        lists.screener.screen(lists.caller("analyst.fincen"), Query("Nemesio"), limit=0)


def test_batch_screening_writes_one_record(lists: ListWorld) -> None:
    for ds in ("uif_list", "fincen_list"):
        lists.screener.index_dataset(ds)
    lists.grant_fincen()
    queries = (Query(n) for n in ["El Mencho", "Ismael Zambada García", "Juana Pérez"])
    results = list(lists.screener.screen_many(lists.caller("analyst.fincen"), queries))
    assert [bool(r and r[0].match) for r in results] == [True, True, False]
    records = lists.platform.audit.records(limit=10)
    assert [r["action"] for r in records if r["action"].startswith("screening")] == \
        ["screening.batch"]
    detail = records[0]["detail"]
    assert detail["queries"] == 3 and detail["matches"] >= 2 and detail["complete"] is True
    assert "Mencho" not in str(records[0])  # the input is not logged
    assert {r["object_id"] for r in lists.platform.audit.receipts("UIF")} >= {
        results[0][0].id}


def test_batch_in_worker_processes_gives_the_same_results(lists: ListWorld) -> None:
    for ds in ("uif_list", "fincen_list"):
        lists.screener.index_dataset(ds)
    lists.grant_fincen()
    names = ["El Mencho", "Ismael Zambada García", "Juana Pérez", "Nemesio Ozeguera",
             "Antonio Oseguera Cervantes", "Grupo Frutícola"] * 3
    caller = lists.caller("analyst.fincen")

    def run(workers: int) -> list[list[tuple[str, float, bool]]]:
        return [[(m.id, m.score, m.match) for m in found]
                for found in lists.screener.screen_many(caller, [Query(n) for n in names],
                                                        workers=workers)]

    alone, forked = run(1), run(2)
    assert forked == alone and sum(bool(r) for r in alone) >= 4
    batches = lists.platform.audit.records(action="screening.batch", limit=5)
    assert [r["detail"]["queries"] for r in batches] == [len(names), len(names)]


def test_abandoned_batch_is_still_audited(lists: ListWorld) -> None:
    lists.screener.index_dataset("fincen_list")
    stream = lists.screener.screen_many(lists.caller("analyst.fincen"),
                                        [Query("Ismael Zambada"), Query("El Mayo")])
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    (record,) = lists.platform.audit.records(action="screening.batch", limit=1)
    assert record["detail"]["queries"] == 1 and record["detail"]["complete"] is False


DATASETS = ["uif_list", "fincen_list"]
VOCAB = ["Nemesio", "Oseguera", "Cervantes", "Mencho", "Zambada", "Ismael", "Grupo", "Acme",
         "Ruben", "Garcia", "Loera", "Chapo", "Fruticola", "Antonio", "Mayo"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datasets=st.dictionaries(st.sampled_from(DATASETS),
                                st.one_of(st.none(), st.sets(st.sampled_from(
                                    ["Person", "Company", "LegalEntity", "Vessel"]),
                                    min_size=1).map(frozenset))),
       words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3),
       schema=st.sampled_from(["LegalEntity", "Person", "Company"]),
       ident=st.booleans())
def test_candidates_are_always_in_scope(lists: ListWorld, datasets: dict[str, frozenset[str]
                                                                         | None],
                                        words: list[str], schema: str, ident: bool) -> None:
    if not lists.screener.indexed_datasets():
        for ds in DATASETS:
            lists.screener.index_dataset(ds)
    scope = Scope(datasets)
    query = Query(" ".join(words), schema,
                  identifiers=(ANTONIO_CURP,) if ident else ())
    view = lists.platform.store.view(scope)
    found = lists.screener.candidates(scope, query)
    entities = view.get_entities(found)
    assert len(entities) == len(found)  # every candidate is visible in the scope
    for entity in entities:
        for ds in entity.datasets:
            assert scope.contains(ds, entity.schema.name)


def test_query_keys_cover_the_index_keys_of_variants() -> None:
    keys = entity_keys(model.get("Person"), {"name": ["OSEGUERA CERVANTES, Nemesio"],  # type: ignore[arg-type]
                                             "idNumber": [ANTONIO_CURP]})
    assert {"oseguera", "p:osegera", f"i:{ANTONIO_CURP}"} <= keys
    assert query_keys(Query("Ozeguera")) & keys
    assert query_keys(Query("de la")) == set()  # particles only: nothing to look up


# -- the score bound (see also test_screening_bounds.py) ----------------------------------------

BOUND_QUERIES = ["Nemesio Oseguera", "OSEGUERA CERVANTES Antonio", "El Mencho", "Antonio Oseguera",
           "Oseguera", "Tony Montana", "Acme Holdings", "Juan Perez Lopez", "Servantes"]


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_skipping_candidates_changes_no_result(lists: ListWorld, limit: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for ds in ("uif_list", "fincen_list"):
        lists.screener.index_dataset(ds)
    lists.grant_fincen()
    caller = lists.caller("analyst.fincen")
    pruned = [[(m.id, m.score) for m in lists.screener.screen(caller, Query(q), limit=limit,
                                                               cutoff=0.3)]
              for q in BOUND_QUERIES]
    # Without the bound every retrieved candidate is aligned.
    monkeypatch.setattr(service, "finish", lambda qv, sims: np.full(len(sims), 2.0))
    monkeypatch.setattr(service, "score_bounds", lambda qv, cvs: np.full(len(cvs), 2.0))
    full = [[(m.id, m.score) for m in lists.screener.screen(caller, Query(q), limit=limit,
                                                             cutoff=0.3)]
            for q in BOUND_QUERIES]
    assert pruned == full
    assert any(pruned)  # (the world has matches for these queries)


# -- names written from other scripts, fuller and shorter forms ---------------------------------
# (OFAC's own aliases of public SDN entries, and made-up negatives of common words)


@pytest.mark.parametrize(("a", "b"), [
    ("makhlouf", "makhluf"), ("eyad", "iyad"), ("ihsan", "ehsan"), ("varee", "wari"),
    ("qasim", "kassem"), ("hicham", "hisham"), ("jaafar", "jafar"),
])
def test_romanisations_share_a_transliteration_key(a: str, b: str) -> None:
    assert translit_key(a) == translit_key(b)
    assert similarity(a, phonetic_key(a), b, phonetic_key(b)) >= 0.9


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@given(WORDS)
def test_transliteration_key_ignores_the_vowels_arabic_does_not_tell_apart(word: str) -> None:
    swapped = word.translate(str.maketrans("eiou", "ieuo"))
    key = translit_key(word)
    assert key == translit_key(swapped)
    assert not set(key) & set("eohqwzy")
    assert all(x != y for x, y in pairwise(key))


@given(st.lists(st.text(alphabet="abcdefghijklmnoprstuvyz", min_size=2, max_size=8),
                min_size=1, max_size=4), st.integers(0, 40), st.booleans())
def test_an_apostrophe_inside_a_word_joins_it(ws: list[str], at: int, person_name: bool
                                               ) -> None:
    text = " ".join(ws)
    cut = 1 + at % (len(text) - 1)
    if " " in text[cut - 1:cut + 1]:
        return
    with_apostrophe = f"{text[:cut]}'{text[cut:]}"
    assert analyze(with_apostrophe, person_name).texts == analyze(text, person_name).texts


@given(st.lists(st.text(alphabet="abcdefghiklmnopqrstuwy", min_size=1, max_size=6),
                min_size=1, max_size=5), st.booleans())
def test_a_joined_name_keeps_its_letters(ws: list[str], comma: bool) -> None:
    name = analyze(f"{ws[0]}, {' '.join(ws[1:])}" if comma else " ".join(ws))
    other = joined(name)
    if other is None:
        return
    assert "".join(other.texts) == "".join(name.texts)
    assert len(other.tokens) < len(name.tokens)
    # and a name compares with its own joined form as well as with itself
    assert align(name, other).similarity <= 1.0
    assert align(other, other).similarity == 1.0


@pytest.mark.parametrize(("query", "listed"), [
    ("MAKHLOUF, Eyad", "MAKHLUF, Iyad"),
    ("SU, Gui Qin", "SU, Guiqin"),  # written together
    ("WONG, Moonchi", "WONG, Moon Chi"),
    ("CHOI, Frederic Chin Pang", "CHOI, Frederic"),  # a fuller form
    ("AKSENOV, Sergei", "AKSYONOV, Sergey Valeryevich"),  # a patronymic left out
    ("MANAA, Faris Mohamed Hassan", "MANA'A, Fares Mohammed"),
    ("KHANAFAR, Hisham", "KHANAFER, Hicham Nmer"),
])
def test_transliterated_and_fuller_forms_match(query: str, listed: str) -> None:
    assert score(Query(query, "Person"), person("p-x", listed))[0] >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(("query", "listed"), [
    ("MARINE INFORMATION TECHNOLOGY DEVELOPMENT CORPORATION",
     "MARINE INFORMATION TECHNOLOGY DEVELOPMENT COMPANY"),
    ("MONETA TRANSFER & EXCHANGE", "MONETA TRANSFER AND EXCHANGE"),
    ("JEMA'AH ISLAMIYAH", "JEMAA ISLAMIYAH"),
])
def test_organisations_spelt_out_match(query: str, listed: str) -> None:
    entity = model.make_entity("Organization")
    entity.id = "o-x"
    entity.add("name", listed)
    assert score(Query(query, "Organization"), entity)[0] >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(("query", "listed", "schema"), [
    ("Daniel Zamora Moreno", "MORENO, Daniel", "Person"),  # the paternal surname dropped
    ("Carlos Ríos Alvarado", "ALVARES, Carlos", "Person"),
    ("Cemex", "CIMEX", "Company"),  # one word each, spelt differently
])
def test_near_names_stay_below_the_threshold(query: str, listed: str, schema: str) -> None:
    entity = model.make_entity(schema)
    entity.id = "x-1"
    entity.add("name", listed)
    assert score(Query(query, schema), entity)[0] < DEFAULT_THRESHOLD


def test_the_maternal_surname_may_be_dropped_but_not_the_paternal_one() -> None:
    listed = person("p-y", "MORENO ZAMORA, Daniel")
    assert score(Query("Daniel Moreno"), listed)[0] >= DEFAULT_THRESHOLD
    assert score(Query("Daniel Zamora"), listed)[0] < score(Query("Daniel Moreno"), listed)[0]


def test_given_names_in_the_same_order_win_a_tie() -> None:
    query = Query("Eduardo Ramon Arellano Felix", "Person")
    same = score(query, person("p-1", "ARELLANO FELIX, Eduardo Ramon"))[0]
    swapped = score(query, person("p-2", "ARELLANO FELIX, Ramon Eduardo"))[0]
    assert swapped >= DEFAULT_THRESHOLD and same > swapped


def test_connecting_words_of_urdu_names_are_particles() -> None:
    assert analyze("Inayat ur Rahman").texts == analyze("Inayat Rahman").texts
    assert analyze("JAMAAT UD DAWA", False).texts == ("jamaat", "dawa")


def test_an_organisations_quoted_name_is_its_name() -> None:
    # OFAC writes Russian companies as OAO 'NAME': the quoted part is what tells them apart.
    assert analyze("OPEN JOINT STOCK COMPANY 'MOSTOTREST'", False).texts == ("mostotrest",)
    one = company("c-2", "OPEN JOINT STOCK COMPANY 'KONTSERN IZHMASH'")
    assert score(Query("OPEN JOINT STOCK COMPANY 'MOSTOTREST'", "Company"), one)[0] < 0.5
    # a person's quoted part is still a nickname
    assert analyze('Nemesio OSEGUERA "El Mencho"').nicknames == ("El Mencho",)
