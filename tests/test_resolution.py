"""Entity resolution on files: the standard record frame, the Splink pipeline, and the
``binational resolve link|dedupe`` interface (no database involved)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from binational.core.cli.main import app
from binational.core.errors import InvalidInput
from binational.resolution import dedupe_file, link, link_files
from binational.resolution.pipeline import BLOCKING_RULES, add_blocking_keys
from binational.resolution.records import (
    clean_identifier,
    curp_birth_date,
    from_rows,
    parse_dob,
    read_csv,
)

FIXTURES = Path(__file__).parent / "fixtures" / "resolution"
# Fictional people; the CURP is built to be valid (check digit included) but names no one.
LEFT = """id,nombre,apellido_paterno,apellido_materno,fecha_nacimiento,curp,telefono
mx-1,José Luis,García,López,1980-03-15,GALL800315HDFRPS03,+52 55 1234 5678
mx-2,María de los Ángeles,Hernández,Pérez,12/07/1975,,
mx-3,Juan,Martínez,Ruiz,1990-01-01,,
mx-4,Rosa Elena,Villanueva,Cárdenas,1968-09-23,,
"""
RIGHT = """record,first_name,last_name,date_of_birth,phone
us-1,Jose Luis,Garcia,1980-03-15,(55) 1234-5678
us-2,Maria Angeles,Hernandez Perez,1975-07-12,
us-3,Pedro,Sanchez,1962-11-30,
us-4,Rosa,Cardenas,1968-09-23,
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def same_on_spark(left: Path, right: Path) -> dict[tuple[str, str], float]:
    """Link two files on DuckDB and on Spark (local mode); the pairs must be the same.
    Returns them with their probabilities."""
    on_duckdb = link_files(left, right, "id", right_id_column="record")
    on_spark = link_files(left, right, "id", right_id_column="record", backend="spark")

    def pairs(result: object) -> dict[tuple[str, str], float]:
        frame = result.pairs  # type: ignore[attr-defined]
        return {(a, b): round(float(p), 4) for a, b, p in zip(
            frame["left_id"], frame["right_id"], frame["match_probability"], strict=True)}

    assert pairs(on_spark) == pairs(on_duckdb)
    return pairs(on_duckdb)


def read_pairs(path: Path) -> tuple[list[str], set[tuple[str, str]], list[float]]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], {(r[0], r[1]) for r in rows[1:]}, [float(r[2]) for r in rows[1:]]


def truth(ids: pd.Series) -> set[tuple[str, str]]:
    """True duplicate pairs of a FEBRL file: ids rec-<n>-org / rec-<n>-dup-<k>."""
    groups: dict[str, list[str]] = {}
    for rid in ids:
        groups.setdefault(rid.split("-")[1], []).append(rid)
    return {tuple(sorted((a, b))) for g in groups.values() for i, a in enumerate(g)  # type: ignore[misc]
            for b in g[i + 1:]}


# -- the interface ------------------------------------------------------------------------------


def test_link_command_writes_the_accepted_pairs(tmp_path: Path) -> None:
    left, right = write(tmp_path / "mx.csv", LEFT), write(tmp_path / "us.csv", RIGHT)
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["resolve", "link", str(left), str(right), "--id-column",
                                      "id", "--right-id-column", "record", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header, pairs, probs = read_pairs(out)
    assert header == ["left_id", "right_id", "match_probability"]
    # Accents, the particles of "María de los Ángeles", both surnames in one column, a
    # dropped paternal surname (Rosa Cárdenas), DD/MM/YYYY dates and phone formats.
    assert pairs == {("mx-1", "us-1"), ("mx-2", "us-2"), ("mx-4", "us-4")}
    assert all(0.9 <= p <= 1.0 for p in probs)
    assert "4 pairs" not in result.output and "3 pairs accepted" in result.output


def test_link_keeps_left_ids_on_the_left_and_compares_shared_columns(tmp_path: Path) -> None:
    left, right = write(tmp_path / "mx.csv", LEFT), write(tmp_path / "us.csv", RIGHT)
    swapped = link_files(right, left, "record", right_id_column="id")
    assert set(swapped.pairs["left_id"]) <= {"us-1", "us-2", "us-3", "us-4"}
    assert set(zip(swapped.pairs["left_id"], swapped.pairs["right_id"], strict=True)) == {
        ("us-1", "mx-1"), ("us-2", "mx-2"), ("us-4", "mx-4")}
    # Only the columns both files have are compared: only the Mexican file has CURPs.
    assert "identifier" not in swapped.features
    assert {"dob", "phone"} <= set(swapped.features)


def test_dedupe_command_on_febrl(tmp_path: Path) -> None:
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["resolve", "dedupe", str(FIXTURES / "febrl1.csv"),
                                      "--id-column", "rec_id", "--output", str(out)])
    assert result.exit_code == 0, result.output
    _, pairs, _ = read_pairs(out)
    frame, _ = read_csv(FIXTURES / "febrl1.csv", "rec_id")
    true = truth(frame["unique_id"])
    found = {tuple(sorted(p)) for p in pairs}
    precision = len(found & true) / len(found)
    recall = len(found & true) / len(true)
    assert len(true) == 500
    assert precision >= 0.98 and recall >= 0.97, (precision, recall)


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("name,dob\nAna Ruiz,1990-01-01\n", "no id column 'id'"),
    ("id,dob\n1,1990-01-01\n", "no name column"),
    ("id,name\n1,Ana Ruiz\n1,Ana Ruiz\n", ":3: id '1' appears twice"),
    ("id,name\n1,Ana Ruiz\n2,Luis Paz,extra\n", ":3: 3 fields where the header has 2"),
    ("id,name\n,Ana Ruiz\n", ":2: empty id"),
    ("id,name\n", "no records"),
])
def test_bad_files_are_refused_with_the_line(tmp_path: Path, text: str, message: str) -> None:
    bad = write(tmp_path / "bad.csv", text)
    good = write(tmp_path / "good.csv", "id,name\n1,Ana Ruiz\n")
    result = CliRunner().invoke(app, ["resolve", "link", str(bad), str(good), "--output",
                                      str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("id,name\n1,José Núñez\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        dedupe_file(bad, "id")


def test_no_shared_block_gives_no_pairs_and_a_header(tmp_path: Path) -> None:
    left = write(tmp_path / "a.csv", "id,name,dob\n1,Ana Ruiz,1990-01-01\n")
    right = write(tmp_path / "b.csv", "id,name,dob\n9,Pedro Paz,1950-05-05\n")
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["resolve", "link", str(left), str(right), "--output",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().strip() == "left_id,right_id,match_probability"


def test_enormous_blocks_are_cut_and_reported() -> None:
    common = [{"unique_id": f"c{i}", "name": "José Hernández García", "dob": f"19{i:02d}-01-01"}
              for i in range(30)]
    rare = [{"unique_id": "r1", "name": "Xóchitl Ayala Ortiz", "dob": "1970-02-02"},
            {"unique_id": "r2", "name": "Xochitl Ayala Ortiz", "dob": "1970-02-02"}]
    frame = from_rows(common + rare)
    _, reports = add_blocking_keys([frame], BLOCKING_RULES, max_block=10)
    by_rule = {r.rule: r for r in reports}
    assert by_rule["name"].capped_blocks == 1 and by_rule["name"].capped_records == 30
    assert by_rule["name"].largest_capped == [("jose|hernandez|garcia", 30)]
    assert by_rule["name"].pairs == 1  # only the rare pair's block is left
    result = link([frame], max_block=10)
    assert {r.rule for r in result.capped} >= {"name"}
    assert set(zip(result.pairs["left_id"], result.pairs["right_id"], strict=True)) == {
        ("r1", "r2")}


def test_a_surname_dropped_or_a_given_name_left_out_still_links() -> None:
    frame = from_rows([
        {"unique_id": "1", "given": "José Luis", "surname": "Oseguera Cervantes",
         "dob": "1966-07-17"},
        {"unique_id": "2", "given": "Luis", "surname": "Cervantes", "dob": "1966-07-17"},
        {"unique_id": "3", "given": "José Luis", "surname": "Oseguera Cervantes",
         "dob": "1971-02-03"},
    ])
    result = link([frame], threshold=0.5)
    pairs = set(zip(result.pairs["left_id"], result.pairs["right_id"], strict=True))
    assert ("1", "2") in pairs
    assert ("2", "3") not in pairs


# -- standardisation (property-based) -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
def test_dates_parse_to_iso_whatever_the_layout(day: date) -> None:
    iso = day.isoformat()
    assert parse_dob(iso) == iso
    assert parse_dob(day.strftime("%Y%m%d")) == iso
    assert parse_dob(day.strftime("%d/%m/%Y")) == iso


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_dates_never_raise_and_keep_only_digits(text: str) -> None:
    out = parse_dob(text)
    assert out is None or all(c.isdigit() or c == "-" for c in out)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789 -./", max_size=24))
def test_identifiers_are_compact_and_idempotent(text: str) -> None:
    once = clean_identifier(text)
    assert once is None or (once.isalnum() and once == once.upper())
    if once is not None:
        assert clean_identifier(once) == once


def test_a_curp_gives_the_date_of_birth() -> None:
    assert curp_birth_date("GALL800315HDFRPS03") == "1980-03-15"
    assert curp_birth_date("GALL800315HDFRPS07") is None  # wrong check digit
    frame = from_rows([{"unique_id": "1", "name": "Luis García", "identifier":
                        "GALL-800315-HDFRPS03"}])
    assert frame.loc[0, "dob"] == "1980-03-15"


GIVEN = st.sampled_from(["José", "María", "Ángeles", "Xóchitl", "Cuauhtémoc", "Iñaki"])
SURNAMES = st.sampled_from(["Núñez", "Peña", "Ibáñez", "Gutiérrez", "Cárdenas", "Ordóñez",
                            "Muñoz"])


@settings(max_examples=25, deadline=None)
@given(GIVEN, SURNAMES, SURNAMES, st.booleans())
def test_names_standardise_the_same_with_or_without_accents_and_case(
        given_name: str, paternal: str, maternal: str, upper: bool) -> None:
    import unicodedata

    def plain(s: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))

    written = f"{given_name} de la {paternal} {maternal}"
    variant = plain(written).upper() if upper else plain(written)
    a = from_rows([{"unique_id": "1", "name": written}])
    b = from_rows([{"unique_id": "1", "name": variant}])
    cols = ["given", "surname1", "surname2", "surname1_ph"]
    assert a[cols].to_dict("records") == b[cols].to_dict("records")
    assert a.loc[0, "surname1"] == plain(paternal).lower()


# -- the same pipeline on Spark (local mode; one small test: Spark starts slowly) -------------


def test_the_same_pipeline_runs_on_spark(tmp_path: Path) -> None:
    left, right = write(tmp_path / "mx.csv", LEFT), write(tmp_path / "us.csv", RIGHT)
    assert len(same_on_spark(left, right)) == 3


# -- the judgement log (property-based) -----------------------------------------------------------

IDS = st.sampled_from(["a", "b", "c", "d", "e"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(IDS, IDS), max_size=8), st.lists(st.tuples(IDS, IDS), max_size=4))
def test_clusters_never_join_records_judged_different(
        positive: list[tuple[str, str]], negative: list[tuple[str, str]]) -> None:
    from binational.resolution.judgements import canonical_id, clusters

    pos = [(a, b) for a, b in positive if a != b]
    neg = [(a, b) for a, b in negative if a != b]
    c = clusters(pos, neg)
    for a, b in neg:
        assert c.find(a) != c.find(b)
    groups = c.members()
    # Every record is in exactly one group, and a group's id depends on its members only.
    members = [m for g in groups.values() for m in g]
    assert len(members) == len(set(members))
    for g in groups.values():
        assert canonical_id(g) == canonical_id(list(reversed(g)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["positive", "negative", "unsure", "undo"]), min_size=1,
                max_size=8))
def test_the_judgement_in_force_is_the_latest_not_undone(kinds: list[str]) -> None:
    from datetime import UTC, datetime

    from binational.resolution.judgements import Decision, Judgement, current

    decisions: list[Decision] = []
    live: list[Decision] = []  # a stack: undo takes back the latest decision still in force
    for seq, kind in enumerate(kinds):
        undoes = live[-1].id if kind == "undo" and live else None
        d = Decision(f"j{seq}", seq, "a", "b", Judgement(kind), undoes, None, "x", "UIF",
                     datetime.now(UTC))
        decisions.append(d)
        if kind == "undo":
            if live:
                live.pop()
        else:
            live.append(d)
    found = current(decisions).get(("a", "b"))
    assert (found.id if found else None) == (live[-1].id if live else None)
