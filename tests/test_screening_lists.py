"""Designation lists as ingest formats: OFAC SDN and consolidated CSV, UN XML, OpenSanctions FtM.

Fixtures in ``tests/fixtures/sanctions`` are excerpts of the real public lists (see its
README): the 2021 and 2024 SDN versions share entries, drop some and add others, so a
``replace`` ingest of one over the other gives a known diff.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from followthemoney.namespace import Namespace
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.mx import curp as mx_curp

from binational.core import tables as t
from binational.core.db import Database
from binational.core.errors import InvalidInput
from binational.core.ingest import (
    FORMATS,
    IngestAborted,
    IngestReport,
    Parsed,
    RowError,
    get_format,
    ingest,
)
from binational.core.store import Scope, Store
from binational.screening.lists.ofac import schema_for, surnames
from binational.screening.lists.remarks import (
    LINKED_TO,
    parse_dob,
    parse_remarks,
    split_remarks,
)
from binational.screening.lists.un import UNFormat
from tests.test_ingest import make_dataset, runs, statement_count

ROOT = Path(__file__).parent.parent
FIX = Path(__file__).parent / "fixtures" / "sanctions"
BROKEN = FIX / "broken"
DEMO = ROOT / "data" / "demo" / "sanctions"
DS = "sanctions_test"
NS = Namespace(DS)


@pytest.fixture
def store(db: Database) -> Store:
    make_dataset(db, DS)
    return Store(db)


def load(db: Database, store: Store, fmt: str, path: Path, **kw: Any) -> IngestReport:
    return ingest(db, store, fmt, path, DS, actor="tester", **kw)


def sid(raw: str) -> str:
    signed = NS.sign(raw)
    assert signed is not None
    return signed


def get(store: Store, raw: str) -> Any:
    return store.view(Scope({DS: None})).get_entity(sid(raw))


def schemata(store: Store) -> Counter[str]:
    return Counter(e.schema.name for e in store.view(Scope({DS: None})).entities())


def items(fmt: str, path: Path, **options: Any) -> list[Any]:
    return list(get_format(fmt)().records(path, options))


def entities(fmt: str, path: Path, **options: Any) -> dict[str, Any]:
    return {i.entity.id: i.entity for i in items(fmt, path, **options) if isinstance(i, Parsed)}


# --- remarks ----------------------------------------------------------------------------------


def test_remarks_of_el_mencho() -> None:
    text = ("DOB 17 Jul 1966; alt. DOB 17 Jul 1964; POB Naranjo de Chila, Aguililla, Michoacan, "
            "Mexico; nationality Mexico; Gender Male; a.k.a. 'Mencho'.")
    rm = parse_remarks(text)
    assert rm.values("birthDate") == ["1966-07-17", "1964-07-17"]
    assert rm.values("birthPlace") == ["Naranjo de Chila, Aguililla, Michoacan, Mexico"]
    assert rm.values("nationality") == ["Mexico"]
    assert rm.values("gender") == ["male"]
    assert rm.values("weakAlias") == ["Mencho"]  # quoted a.k.a.: OFAC's weak alias
    assert rm.notes == [] and rm.problems == []
    assert [f.alt for f in rm.facts if f.prop == "birthDate"] == [False, True]


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("17 Jul 1966", ["1966-07-17"]),
        ("Jul 1966", ["1966-07"]),
        ("1966", ["1966"]),
        ("circa 1960", ["1960"]),
        ("1962 to 1965", ["1962", "1963", "1964", "1965"]),
        ("circa 1960-1962", ["1960", "1961", "1962"]),
        ("1900 to 1960", ["1900", "1960"]),  # too wide to list every year
        ("01 Jan 1960 to 31 Dec 1962", ["1960-01-01", "1962-12-31"]),
        ("sometime in the sixties", []),
        ("32 Jul 1966", []),
    ],
)
def test_dob_forms(text: str, dates: list[str]) -> None:
    assert parse_dob(text) == dates


def test_identifiers_are_checked_and_kept() -> None:
    rm = parse_remarks(
        "C.U.R.P. OECA580820HMNSRN04 (Mexico); C.U.R.P. OECN660717HMNSRM04 (Mexico); "
        "R.F.C. DIB-771110-HQ1 (Mexico); R.F.C. # PMA-910805 (Mexico); "
        "Passport G05843223 (Mexico) expires 29 Jun 2016; Linked To: ACME, S.A. DE C.V.; "
        "Website www.example.mx; Email Address info@example.mx; f.k.a. 'OLD NAME'; "
        "Something Else Entirely 42."
    )
    # Both CURPs kept, the one with a bad check digit with a problem for the report.
    assert rm.values("idNumber") == ["OECA580820HMNSRN04", "OECN660717HMNSRM04"]
    assert [p for p in rm.problems if "CURP" in p] == [
        "C.U.R.P. OECN660717HMNSRM04 is not a valid CURP; kept as written"
    ]
    assert rm.values("taxNumber") == ["DIB771110HQ1", "PMA-910805"]
    assert rm.values("passportNumber") == ["G05843223"]
    assert rm.values(LINKED_TO) == ["ACME, S.A. DE C.V."]
    assert rm.values("website") == ["www.example.mx"]
    assert rm.values("email") == ["info@example.mx"]
    assert rm.values("previousName") == ["OLD NAME"]
    assert rm.notes == ["Something Else Entirely 42"]
    assert mx_curp.is_valid("OECA580820HMNSRN04")


def test_final_period_kept_after_an_abbreviation() -> None:
    assert split_remarks("Linked To: ACME, S.A.") == ["Linked To: ACME, S.A."]
    assert split_remarks("Linked To: ACME CO., LTD.") == ["Linked To: ACME CO., LTD."]
    assert split_remarks("Gender Male.") == ["Gender Male"]
    assert split_remarks("-0- ") == [] and parse_remarks(None).facts == []


COUNTRIES = st.sampled_from(["Mexico", "Colombia", "United States", "Korea, North"])
NAMES = st.text(st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x24F),
                min_size=1, max_size=20).map(str.strip).filter(bool)
MONTHS = st.sampled_from(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                          "Nov", "Dec"])
KNOWN = st.one_of(
    st.tuples(st.integers(1, 28), MONTHS, st.integers(1900, 2010)).map(
        lambda d: (f"DOB {d[0]:02d} {d[1]} {d[2]}", "birthDate")),
    st.integers(1900, 2010).map(lambda y: (f"DOB circa {y}", "birthDate")),
    COUNTRIES.map(lambda c: (f"nationality {c}", "nationality")),
    COUNTRIES.map(lambda c: (f"citizen {c}", "citizenship")),
    NAMES.map(lambda n: (f"a.k.a. '{n}'", "weakAlias")),
    NAMES.map(lambda n: (f"POB {n}, Mexico", "birthPlace")),
    st.from_regex(r"[A-Z]{4}[0-9]{6}[HM][A-Z]{5}[0-9A-Z][0-9]", fullmatch=True).map(
        lambda c: (f"C.U.R.P. {c} (Mexico)", "idNumber")),
    st.from_regex(r"[A-Z][0-9]{8}", fullmatch=True).map(
        lambda p: (f"Passport {p} (Mexico)", "passportNumber")),
    st.sampled_from(["Male", "Female"]).map(lambda g: (f"Gender {g}", "gender")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), KNOWN), max_size=8),
       st.lists(st.text(max_size=40).filter(lambda s: ";" not in s), max_size=3),
       st.booleans())
def test_remarks_never_lose_a_known_field(
    known: list[tuple[bool, tuple[str, str]]], junk: list[str], period: bool
) -> None:
    parts = [("alt. " if alt else "") + text for alt, (text, _) in known] + junk
    text = "; ".join(parts) + ("." if period else "")
    rm = parse_remarks(text)  # must not raise
    found = Counter(f.prop for f in rm.facts)
    for prop, count in Counter(prop for _, (_, prop) in known).items():
        assert found[prop] >= count, (text, rm)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_remarks_never_crash(text: str) -> None:
    rm = parse_remarks(text)
    # Every part is either a fact or a note: nothing vanishes.
    read = {f.text for f in rm.facts} | set(rm.notes)
    assert all(part in read for part in split_remarks(text))


def test_names_and_schemata() -> None:
    assert surnames("OSEGUERA CERVANTES") == ["OSEGUERA", "CERVANTES"]
    assert surnames("DE LA TORRE GARCIA") == ["DE LA TORRE", "GARCIA"]
    assert surnames("ORTIZ Y PINO") == ["ORTIZ", "PINO"]
    assert surnames("LUCERO DE MARTINEZ") == ["LUCERO", "DE MARTINEZ"]
    assert schema_for("individual", "X, Y") == "Person"
    assert schema_for("vessel", "PARAMACONI") == "Vessel"
    assert schema_for("aircraft", "EP-IEE") == "Airplane"
    assert schema_for("-0-", "TRADOS COMERCIO, S. DE R.L. DE C.V.") == "Company"
    assert schema_for(None, "ACCESOS ELECTRONICOS S.A.DE C.V.") == "Company"
    assert schema_for("-0-", "ANGLO-CARIBBEAN CO., LTD.") == "Company"
    assert schema_for("-0-", "CARTEL DE JALISCO NUEVA GENERACION") == "Organization"
    assert schema_for("-0-", "BANCO NACIONAL DE MEXICO") == "Organization"


# --- OFAC -------------------------------------------------------------------------------------


def test_formats_register_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    [entry] = [e for e in entry_points(group="binational.formats") if e.name == "screening"]
    assert entry.value == "binational.screening.lists"
    entry.load()
    assert FORMATS["ofac-csv"].directories and FORMATS["ofac-cons"].directories
    assert get_format("un-xml") is UNFormat


def test_el_mencho_2024(db: Database, store: Store) -> None:
    report = load(db, store, "ofac-csv", FIX / "sdn_2024")
    assert report.status == "ok", report.errors
    mencho = get(store, "ofac-17674")
    assert mencho.schema.name == "Person"
    assert mencho.get("name") == ["OSEGUERA CERVANTES, Nemesio"]
    assert (mencho.get("firstName"), mencho.get("lastName")) == (["Nemesio"],
                                                                 ["OSEGUERA CERVANTES"])
    assert (mencho.get("fatherName"), mencho.get("motherName")) == (["OSEGUERA"], ["CERVANTES"])
    assert sorted(mencho.get("birthDate")) == ["1964-07-17", "1966-07-17"]
    assert mencho.get("nationality") == ["mx"] and mencho.get("gender") == ["male"]
    assert mencho.get("weakAlias") == ["Mencho"]
    assert mencho.get("alias") == ["OSEGUERA CERVANTES, Ruben"]  # alt.csv
    assert mencho.get("birthPlace") == ["Naranjo de Chila, Aguililla, Michoacan, Mexico"]
    sanction = get(store, "ofac-17674-sanction")
    assert sanction.get("entity") == [sid("ofac-17674")]
    assert sorted(sanction.get("program")) == ["ILLICIT-DRUGS-EO14059", "SDNTK"]
    assert sanction.get("authority") == ["Office of Foreign Assets Control"]
    assert sanction.get("sourceUrl") == [
        "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=17674"]
    # His brother's CURP passes its check digit and is stored as written.
    antonio = get(store, "ofac-20109")
    assert "OECA580820HMNSRN04" in antonio.get("idNumber")
    assert antonio.get("weakAlias") == ["Tony Montana"]
    address = get(store, antonio.get("addressEntity")[0].split(".")[0])
    assert address.get("country") == ["mx"] and address.get("city") == ["Tijuana, B.C. 22110"]
    assert antonio.get("country") == ["mx"]
    # "Linked To: CARTEL DE JALISCO NUEVA GENERACION" names an entry of the file.
    link = get(store, "ofac-link-20109-17671")
    assert link.schema.name == "UnknownLink"
    assert (link.get("subject"), link.get("object")) == ([sid("ofac-20109")], [sid("ofac-17671")])
    cjng = get(store, "ofac-17671")
    assert cjng.schema.name == "Organization" and "CJNG" in cjng.get("alias")
    assert schemata(store) == {
        "Person": 15, "Organization": 1, "Company": 3, "Vessel": 3, "Airplane": 2,
        "Sanction": 24, "Address": 18, "UnknownLink": 7,
    }
    company = get(store, "ofac-42442")
    assert company.schema.name == "Company"


def test_vessels_and_aircraft(db: Database, store: Store) -> None:
    load(db, store, "ofac-csv", FIX / "sdn_2024" / "sdn.csv")  # the file itself: same reading
    ship = get(store, "ofac-28015")
    assert ship.schema.name == "Vessel"
    assert ship.get("type") == ["Crude Oil Tanker"] and ship.get("flag") == ["ve"]
    assert ship.get("imoNumber")
    plane = get(store, "ofac-25531")
    assert plane.schema.name == "Airplane" and plane.get("buildDate") == ["1992-02-14"]


def test_single_renamed_file_is_read_alone(tmp_path: Path) -> None:
    lone = tmp_path / "ofac_sdn_2024.csv"
    shutil.copy(FIX / "sdn_2024" / "sdn.csv", lone)
    shutil.copy(FIX / "sdn_2024" / "alt.csv", tmp_path / "alt.csv")
    found = entities("ofac-csv", lone)
    assert not found["ofac-17674"].get("alias")  # the side file of another name is not joined
    assert Counter(e.schema.name for e in found.values())["Address"] == 0


def test_comment_overflow_continues_the_remark() -> None:
    found = entities("ofac-cons", FIX / "cons")
    bank = found["ofac-17014"]
    assert bank.schema.name == "Organization" or bank.schema.name == "Company"
    assert "RUSAG" in bank.get("weakAlias")  # only in cons_comments.csv
    sanction = found["ofac-17014-sanction"]
    assert sorted(sanction.get("program")) == ["RUSSIA-EO14024", "UKRAINE-EO13662"]
    assert found["ofac-9639"].get("birthDate") == ["1962"]


def test_sdn_versions_diff(db: Database, store: Store) -> None:
    first = load(db, store, "ofac-csv", FIX / "sdn_2021", replace=True)
    assert first.added == first.entities and first.removed == 0
    assert first.source_sha256 and len(first.source_sha256) == 64  # the folder, hashed
    # Nemesio in 2021: no nationality in the remarks yet; linked to the cartel.
    assert get(store, "ofac-17674").get("nationality") == []
    assert get(store, "ofac-link-17674-17671") is not None

    report = load(db, store, "ofac-csv", FIX / "sdn_2024", replace=True)
    entries = {e.split(".")[0] for e in report.diff["added"]}
    assert {"ofac-39163", "ofac-40839", "ofac-42442", "ofac-43843"} <= entries
    gone = {e.split(".")[0] for e in report.diff["removed"]}
    assert {"ofac-10623", "ofac-10624", "ofac-21066", "ofac-22186"} <= gone
    assert "ofac-link-17674-17671" in gone  # the 2024 remark no longer links him
    changed = {e.split(".")[0] for e in report.diff["changed"]}
    assert {"ofac-17674", "ofac-17674-sanction"} <= changed
    assert "ofac-28015" not in changed  # identical row and side rows
    assert (report.added, report.removed) == (len(report.diff["added"]),
                                              len(report.diff["removed"]))
    assert get(store, "ofac-10623") is None and get(store, "ofac-17674").get("nationality")
    assert store.view(Scope({DS: None})).search("cazarez") == []
    # The store now holds exactly what the 2024 version alone gives.
    alone = entities("ofac-csv", FIX / "sdn_2024")
    assert sum(schemata(store).values()) == len(alone)


def test_broken_second_version_leaves_the_first(db: Database, store: Store) -> None:
    load(db, store, "ofac-csv", FIX / "sdn_2021", replace=True)
    before = statement_count(db)
    with pytest.raises(InvalidInput, match=r"alt_as_sdn\.csv:1: expected 12 columns, found 5"):
        load(db, store, "ofac-csv", BROKEN / "alt_as_sdn.csv", replace=True)
    with pytest.raises(IngestAborted):
        load(db, store, "ofac-csv", BROKEN / "sdn_latin1.csv", replace=True, strict=True)
    assert statement_count(db) == before
    assert get(store, "ofac-10623") is not None
    assert [r["status"] for r in runs(db)] == ["ok", "failed", "failed"]


def test_wrong_columns_and_encoding(db: Database, store: Store) -> None:
    report = load(db, store, "ofac-csv", BROKEN / "sdn_wrong_columns.csv")
    assert report.error_count == 1
    assert "expected 12 columns, found 11" in str(report.errors[0])
    assert str(report.errors[0]).startswith(f"{BROKEN / 'sdn_wrong_columns.csv'}:3:")
    with pytest.raises(IngestAborted):
        load(db, store, "ofac-csv", BROKEN / "sdn_wrong_columns.csv", strict=True)

    report = load(db, store, "ofac-csv", BROKEN / "sdn_latin1.csv")
    assert report.error_count == 2 and "not valid utf-8" in report.errors[0].message
    assert "latin-1" in report.errors[0].message
    report = load(db, store, "ofac-csv", BROKEN / "sdn_latin1.csv", options={"encoding": "latin-1"})
    assert report.error_count == 0
    assert "CARTEL DE JALISCO NUEVA GENERACION MUÑOZ" in get(store, "ofac-17671").get("name")


def test_folder_without_the_list(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"holds no sdn\.csv"):
        items("ofac-csv", tmp_path)
    with pytest.raises(InvalidInput, match=r"holds no cons_prim\.csv"):
        items("ofac-cons", FIX / "sdn_2024")


# --- UN ---------------------------------------------------------------------------------------


def test_un_list(db: Database, store: Store) -> None:
    report = load(db, store, "un-xml", FIX / "un_consolidated_excerpt.xml")
    assert report.status == "ok" and report.error_count == 0
    assert schemata(store) == {"Person": 3, "Organization": 2, "Sanction": 5, "Address": 6}
    gaston = get(store, "un-6907995")
    assert gaston.get("name") == ["GASTON IYAMUREMYE"]
    assert (gaston.get("firstName"), gaston.get("secondName")) == (["GASTON"], ["IYAMUREMYE"])
    assert gaston.get("weakAlias") == ["Rumuli"]  # quality Low
    assert "Victor Rumuri" in gaston.get("alias")
    assert gaston.get("birthDate") == ["1948"] and gaston.get("nationality") == ["rw"]
    assert "Ruhengeri, Rwanda" in gaston.get("birthPlace")
    assert get(store, "un-6907996").get("birthDate") == ["1973-11"]  # from the DOB note
    sanction = get(store, "un-6907995-sanction")
    assert sanction.get("program") == ["DRC"] and sanction.get("unscId") == ["CDi.003"]
    assert sanction.get("listingDate") == ["2010-12-01"]
    assert sanction.get("authority") == ["United Nations Security Council"]
    adf = get(store, "un-6908402")
    assert adf.schema.name == "Organization" and "NALU" in adf.get("previousName")
    assert "Allied Democratic Forces" in adf.get("alias")


def test_un_truncated_writes_nothing(db: Database, store: Store) -> None:
    load(db, store, "un-xml", FIX / "un_consolidated_excerpt.xml")
    before = statement_count(db)
    path = BROKEN / "un_truncated.xml"
    with pytest.raises(InvalidInput, match=r"un_truncated\.xml:\d+:\d+: malformed or truncated"):
        load(db, store, "un-xml", path, replace=True)
    assert statement_count(db) == before
    # Without replace as well: the two complete records read before the cut are not kept.
    with db.write() as conn:
        conn.execute(sa.delete(t.statement))
    with pytest.raises(InvalidInput, match="truncated"):
        load(db, store, "un-xml", path)
    assert statement_count(db) == 0
    # It did yield records before the cut: the rollback is what kept them out.
    with pytest.raises(InvalidInput):
        list(UNFormat().records(path, {}))
    seen: list[Any] = []
    with pytest.raises(InvalidInput):
        for item in UNFormat().records(path, {}):
            seen.append(item)
    assert len([i for i in seen if isinstance(i, Parsed)]) >= 2


def test_un_refuses_dtds(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="document type"):
        list(UNFormat().records(BROKEN / "un_doctype.xml", {}))
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><!-- <!DOCTYPE x> --><root/>", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not the UN consolidated list"):
        list(UNFormat().records(other, {}))


def test_un_record_without_name(tmp_path: Path) -> None:
    path = tmp_path / "un.xml"
    path.write_text(
        "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID></INDIVIDUAL>"
        "<INDIVIDUAL><REFERENCE_NUMBER>QDi.001</REFERENCE_NUMBER><FIRST_NAME>A</FIRST_NAME>"
        "<INDIVIDUAL_DATE_OF_BIRTH><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1962</TO_YEAR>"
        "</INDIVIDUAL_DATE_OF_BIRTH><INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport"
        "</TYPE_OF_DOCUMENT><NUMBER>P123</NUMBER></INDIVIDUAL_DOCUMENT></INDIVIDUAL>"
        "</INDIVIDUALS></CONSOLIDATED_LIST>",
        encoding="utf-8",
    )
    got = items("un-xml", path)
    assert isinstance(got[0], RowError)
    person = next(
        i.entity for i in got if isinstance(i, Parsed) and i.entity.schema.name == "Person"
    )
    assert person.id == "un-QDi.001"
    assert person.get("birthDate") == ["1960", "1961", "1962"]
    assert person.get("passportNumber") == ["P123"]


# --- OpenSanctions through the core ftm format ------------------------------------------------


def test_opensanctions_lines(db: Database, store: Store, tmp_path: Path) -> None:
    plain = {
        "id": "NK-23n4YjDf4Xx5C2KgpWyHx9", "schema": "Person", "caption": "Nemesio Oseguera",
        "properties": {"name": ["Nemesio Oseguera Cervantes"], "birthDate": ["1966-07-17"],
                       "topics": ["sanction"]},
        "datasets": ["us_ofac_sdn"], "referents": ["ofac-17674"], "target": True,
        "first_seen": "2018-10-16T00:00:00", "last_seen": "2026-02-27T00:00:00",
        "last_change": "2024-05-03T00:00:00",
    }
    stmts = {
        "id": "ofac-17671", "schema": "Organization", "datasets": ["us_ofac_sdn"],
        "referents": [], "first_seen": "2015-04-08T00:00:00",
        "statements": [
            {"id": "x1", "entity_id": "ofac-17671", "prop": "name", "schema": "Organization",
             "value": "CARTEL DE JALISCO NUEVA GENERACION", "dataset": "us_ofac_sdn",
             "lang": None, "original_value": None, "first_seen": "2015-04-08T00:00:00",
             "last_seen": "2026-02-27T00:00:00", "external": False, "target": True},
        ],
    }
    path = tmp_path / "opensanctions.ftm.json"
    path.write_text(json.dumps(plain) + "\n" + json.dumps(stmts) + "\n", encoding="utf-8")
    report = load(db, store, "ftm", path)
    assert report.status == "ok" and report.entities == 2, report.errors
    assert get(store, "NK-23n4YjDf4Xx5C2KgpWyHx9").get("birthDate") == ["1966-07-17"]
    assert get(store, "ofac-17671").get("name") == ["CARTEL DE JALISCO NUEVA GENERACION"]


# --- demo excerpt -----------------------------------------------------------------------------


def test_demo_excerpt_reads_cleanly() -> None:
    got = items("ofac-csv", DEMO / "ofac_sdn_mx.csv")
    assert not [i for i in got if isinstance(i, RowError)]
    counts = Counter(i.entity.schema.name for i in got if isinstance(i, Parsed))
    assert counts["Sanction"] == 795  # every row that mentions Mexico (grep -i)
    assert counts["Person"] + counts["Company"] + counts["Organization"] + counts[
        "Vessel"] + counts["Airplane"] == 795
    un = items("un-xml", DEMO / "un_consolidated_excerpt.xml")
    assert len([i for i in un if isinstance(i, Parsed)]) == 16
