"""Company linkage: legal forms, registration numbers, the CLI's --schema and detection,
Spark, and the platform's runs linking organisations apart from people. Fictional
companies; the RFC is built to be valid (python-stdnum) but names no one."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from binational.core.access import Caller
from binational.core.cli.main import app
from binational.core.errors import InvalidInput
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import QueryContext
from binational.core.vocab import Country, Purpose
from binational.resolution import companies, demo, link
from binational.resolution.files import kind_of
from binational.resolution.service import Resolver
from tests.test_resolution import same_on_spark, write

RFC = "CAN050312AB1"  # valid layout, date and check digit (python-stdnum)
LEFT = f"""id,company_name,rfc,country,city
mx-1,"Comercializadora Avendaño del Norte, S.A. de C.V.",{RFC},México,Hermosillo
mx-2,"Transportes Garza Hermanos, S. de R.L. de C.V.",,MX,Nuevo Laredo
mx-3,Servicios Integrales del Pacífico SC,,MX,Mazatlán
mx-4,Farmacéutica del Golfo SA,,MX,Veracruz
"""
RIGHT = f"""record,razon_social,rfc,pais,ciudad
us-1,COMERCIALIZADORA AVENDANO DEL NORTE SA DE CV,{RFC[:3]}-{RFC[3:9]}-{RFC[9:]},MEXICO,HERMOSILLO
us-2,Garza Hermanos Transportes S de RL,,Mexico,Nuevo Laredo
us-3,Pacific Integrated Services LLC,,US,San Diego
us-4,Global Pharma Imports Inc,,US,Laredo
"""
FORMS = ["S.A. de C.V.", "SA DE CV", "S. de R.L. de C.V.", "S de RL", "S.A.P.I. de C.V.",
         "LLC", "L.L.C.", "Inc.", "Ltd", "Limited", "GmbH", "S.A.", "SC", "A.C."]


def pairs_of(path: Path) -> set[tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {(r[0], r[1]) for r in list(csv.reader(fh))[1:]}


def test_legal_forms_are_taken_out_and_written_one_way() -> None:
    cores = {companies.analyse_name(f"Transportes Garza Hermanos {form}")[1] for form in
             ("S.A. de C.V.", "SA DE CV", "S. de R.L. de C.V.", "LLC", "S.A.P.I. de C.V.")}
    assert cores == {"transportes garza hermanos"}
    _, _, kind_a, form_a = companies.analyse_name("Foo S.A. de C.V.")
    _, _, kind_b, form_b = companies.analyse_name("FOO SA DE CV")
    assert (kind_a, form_a) == (kind_b, form_b) == ("jsc", "sacv")
    assert companies.analyse_name("Foo, S. de R.L.")[2] == "llc"
    assert companies.analyse_name("Acme LLC")[2] == companies.analyse_name("Acme GmbH")[2]
    assert companies.analyse_name("Acme Corp.")[1] == companies.analyse_name("ACME CO")[1]
    # Stop words and connectors do not make a name.
    assert companies.analyse_name("Banco Nacional de Cuba")[1] == "banco nacional cuba"


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


NAME_WORDS = st.lists(st.sampled_from(["Comercializadora", "Avendaño", "Norte", "Pacífico",
                                       "Servicios", "Logística", "Grupo", "Golfo", "Hermanos",
                                       "Importadora", "Minera", "2005"]),
                      min_size=1, max_size=4, unique=True)


@settings(max_examples=60, deadline=None)
@given(NAME_WORDS, st.sampled_from(FORMS), st.booleans())
def test_a_name_keeps_its_core_whatever_its_legal_form_case_and_accents(
        words: list[str], form: str, comma: bool) -> None:
    name = " ".join(words)
    plain = companies.analyse_name(name)
    written = companies.analyse_name(fold(name).upper() + ("," if comma else "") + " " + form)
    assert written[1] == plain[1]
    assert written[2] is not None  # the form was recognised
    assert companies.name_numbers(name) == ("2005" if "2005" in words else "")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_name_analysis_never_raises_on_any_text(text: str) -> None:
    compare, core, _, _ = companies.analyse_name(text)
    assert core is None or core == core.strip()
    assert compare is None or compare == compare.lower()


def test_rfc_of_a_moral_person_is_validated_and_gives_the_incorporation_date() -> None:
    assert companies.valid_rfc(RFC)
    assert companies.rfc_founded(RFC) == "2005-03-12"
    assert companies.id_key(RFC) == RFC
    bad = "CAN051312AB1"  # month 13: python-stdnum refuses it
    assert not companies.valid_rfc(bad)
    assert companies.id_key(bad) is None  # not blocked on, still compared
    frame = companies.from_rows([{"unique_id": "1", "name": "X SA", "identifier": bad}])
    assert frame.loc[0, "identifier"] == bad and frame.loc[0, "founded"] is None
    assert companies.id_key("98-7654321".replace("-", "")) == "987654321"  # an EIN


def test_company_files_are_detected_and_linked(tmp_path: Path) -> None:
    left, right = write(tmp_path / "mx.csv", LEFT), write(tmp_path / "us.csv", RIGHT)
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["resolve", "link", str(left), str(right), "--id-column",
                                      "id", "--right-id-column", "record", "--output", str(out)])
    assert result.exit_code == 0, result.output
    # The RFC with dashes, accents and case, word order and the legal form written otherwise;
    # a translated name and an unrelated pharma company stay apart.
    assert pairs_of(out) == {("mx-1", "us-1"), ("mx-2", "us-2")}
    forced = tmp_path / "forced.csv"
    result = CliRunner().invoke(app, ["resolve", "link", str(left), str(right), "--id-column",
                                      "id", "--right-id-column", "record", "--schema",
                                      "Company", "--output", str(forced)])
    assert result.exit_code == 0, result.output
    assert pairs_of(forced) == pairs_of(out)


def test_dedupe_of_a_company_file(tmp_path: Path) -> None:
    text = LEFT + (f'mx-5,"COMERCIALIZADORA AVENDANO DEL NORTE, S.A. DE C.V.",{RFC},MX,'
                   "Hermosillo\n"
                   "mx-6,Comercializadora Avendaño del Norte 2,,MX,Hermosillo\n")
    path = write(tmp_path / "c.csv", text)
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["resolve", "dedupe", str(path), "--id-column", "id",
                                      "--schema", "organization", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        scores = {tuple(sorted(r[:2])): float(r[2]) for r in list(csv.reader(fh))[1:]}
    assert ("mx-1", "mx-5") in scores
    # A number in the name speaks against (a branch, a sister company).
    assert scores.get(("mx-1", "mx-6"), 0.0) < scores[("mx-1", "mx-5")]
    assert not any(p[0] in ("mx-2", "mx-3", "mx-4") for p in scores)


def test_schema_detection_and_bad_schema(tmp_path: Path) -> None:
    company = write(tmp_path / "c.csv", LEFT)
    person = write(tmp_path / "p.csv", "id,first_name,last_name\n1,Ana,Ruiz\n")
    ambiguous = write(tmp_path / "n.csv", "id,name\n1,Ana Ruiz\n")
    assert kind_of("auto", [company]) == "company"
    assert kind_of("auto", [person]) == "person"
    assert kind_of("auto", [ambiguous]) == "person"  # the person interface is the default
    assert kind_of("auto", [company, person]) == "person"
    assert kind_of("LegalEntity", [person]) == "company"
    with pytest.raises(InvalidInput, match="unknown schema 'Vessel'"):
        kind_of("Vessel", [company])
    result = CliRunner().invoke(app, ["resolve", "dedupe", str(person), "--schema", "Company",
                                      "--output", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "no company name column" in result.output


def test_company_linkage_runs_the_same_on_spark(tmp_path: Path) -> None:
    left, right = write(tmp_path / "mx.csv", LEFT), write(tmp_path / "us.csv", RIGHT)
    assert len(same_on_spark(left, right)) == 2


def test_common_words_alone_do_not_link() -> None:
    import random

    rng = random.Random(7)
    words = {"".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4))
             for _ in range(300)}
    names = sorted(words)
    frame = companies.from_rows([
        {"unique_id": str(i), "name": f"{w} Trading Company LLC", "country": "MX"}
        for i, w in enumerate(names)])
    pairs = link([frame], kind="company").pairs
    # 44,850 pairs share "trading company llc"; only spelling variants of the distinctive
    # word may be accepted (jedenudi / jedudezi).
    import jellyfish

    for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True):
        assert jellyfish.jaro_winkler_similarity(names[int(a)], names[int(b)]) >= 0.88
    assert len(pairs) < 5


def test_names_as_variants_fold_back_onto_entities() -> None:
    rows = companies.with_variants(
        [{"unique_id": "a", "name": "Importadora del Desierto LLC"},
         {"unique_id": "b", "name": "Comercializadora Norte SA"}],
        {"a": ["IMPORTADORA DEL DESIERTO, L.L.C.", "Comercializadora Norte S.A. de C.V."]})
    # The alias that only writes the name otherwise is not a variant of its own.
    assert [r["unique_id"] for r in rows] == ["a", f"a{companies.VARIANT}1", "b"]
    import pandas as pd

    pairs = pd.DataFrame({"left_id": [f"a{companies.VARIANT}1", "a", f"a{companies.VARIANT}1"],
                          "right_id": ["b", "b", "a"],
                          "match_probability": [0.99, 0.3, 0.95]})
    folded = companies.entity_pairs(pairs)
    assert folded[["left_id", "right_id", "match_probability"]].values.tolist() == [
        ["a", "b", 0.99]]


# -- on the platform ---------------------------------------------------------------------------


def test_a_platform_run_links_companies_and_never_a_company_to_a_person(
        platform: Platform) -> None:
    ids = demo.setup(platform)
    # Known to the US side under another name: the match is on its alias.
    extra = demo.load(platform, demo.US_DATASET, [demo._entity(
        "Company", "us-c-importer", name="Importadora del Desierto Sonorense LLC",
        alias="COMERCIALIZADORA AVENDANO DEL NORTE, SA DE CV", jurisdiction="mx",
        registrationNumber="IMP-77-1")])
    caller = Caller(operator("UIF", Country.MX),
                    QueryContext(Purpose.ILLICIT_FINANCE, "RES-COMPANY-1"))
    resolver = Resolver(platform)
    summary = resolver.run(caller)
    assert summary["organisations"] == 2 and summary["people"] >= 5
    mx, us = ids["mx-c-comercializadora"], extra["us-c-importer"]
    entity = resolver.entity(caller, mx)
    assert {str(m.id) for m in entity.members} == {mx, us}
    assert entity.links and entity.links[0]["evidence"]["name_core"] > 0
    people = {ids[k] for k in ids if "-p-" in k}
    for cand in resolver.queue(caller, 500):
        assert not ({cand.left_id, cand.right_id} & people and
                    {cand.left_id, cand.right_id} & {mx, us})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_the_ascii_fast_path_folds_as_the_screening_analysis_does(text: str) -> None:
    from binational.resolution.records import fast_words
    from binational.screening.names import words

    assert fast_words(text) == words(text)
