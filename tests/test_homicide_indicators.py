"""Homicide sources (INEGI, SESNSP, CDMX quadrants) and the indicators computed from them."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.core.errors import InvalidInput
from binational.homicide import indicators
from binational.homicide.sources import (
    Catalogue,
    read_quadrant_polygons,
    read_series,
)

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "homicide"
MONTHS = ("Enero,Febrero,Marzo,Abril,Mayo,Junio,Julio,Agosto,Septiembre,Octubre,Noviembre,"
          "Diciembre")
HEADER = ("Año,Clave_Ent,Entidad,Cve. Municipio,Municipio,Bien jurídico afectado,"
          f"Tipo de delito,Subtipo de delito,Modalidad,{MONTHS}\n")


def municipal_file(path: Path, rows: list[str]) -> Path:
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode("latin-1"))
    return path


def row(year: int, ent: int, code: str, name: str, months: list[str],
        sub: str = "Homicidio doloso", mod: str = "Con arma de fuego") -> str:
    return (f"{year},{ent},Estado,{code},{name},La vida y la Integridad corporal,Homicidio,"
            f"{sub},{mod}," + ",".join(months))


CATALOGUE = Catalogue(frozenset({"11020", "11007", "23004", "23010", "14039"}),
                      frozenset({"23010"}))


def test_sesnsp_municipal_rows_are_checked_one_by_one(tmp_path: Path) -> None:
    twelve = ["1"] * 12
    path = municipal_file(tmp_path / "m.csv", [
        row(2020, 11, "11020", "León", twelve),
        row(2020, 11, "11020", "León", ["2"] * 12, mod="Con arma blanca"),
        row(2020, 11, "11999", "Nowhere", twelve),  # unknown code
        row(2020, 14, "11007", "Celaya", twelve),  # code not in the state given
        row(2021, 11, "11020", "León de los Aldama", ["3"] * 6 + [""] * 6),  # renamed
        row(2021, 23, "23010", "Bacalar", ["x"] + ["0"] * 11),  # a bad number
        row(2021, 23, "23010", "Bacalar", ["0"] * 12, sub="Feminicidio"),
    ])
    series = read_series("sesnsp-municipal", path, CATALOGUE)
    issues = {i.line: i.message for i in series.issues}
    assert set(issues) == {4, 5, 7}
    assert "unknown municipality code '11999'" in issues[4]
    assert "not in state 14" in issues[5]
    assert "not a number" in issues[7]
    warnings = [w.message for w in series.warnings]
    assert any("23010" in w and "split from 23004" in w for w in warnings)
    assert any("renamed" in w and "León de los Aldama" in w for w in warnings)
    frame = series.frame
    leon = frame.filter(pl.col("area_code") == "11020", pl.col("crime") == "homicidio doloso")
    # Two modalities summed per month; the blank months of 2021 are absent, not zero.
    assert leon.filter(pl.col("year") == 2020)["count"].to_list() == [3] * 12
    assert leon.filter(pl.col("year") == 2021)["month"].to_list() == [1, 2, 3, 4, 5, 6]
    assert frame.filter(pl.col("crime") == "feminicidio").height == 12


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["11020", "11007", "14039"]),
                          st.lists(st.integers(0, 500) | st.none(), min_size=12,
                                   max_size=12)), min_size=1, max_size=12))
def test_municipal_counts_add_up(tmp_path_factory: pytest.TempPathFactory,
                                 rows: list[tuple[str, list[int | None]]]) -> None:
    lines = [row(2019, int(code[:2]), code, f"M{code}",
                 ["" if v is None else str(v) for v in months]) for code, months in rows]
    path = municipal_file(tmp_path_factory.mktemp("m") / "m.csv", lines)
    series = read_series("sesnsp-municipal", path, CATALOGUE)
    assert not series.issues
    expected = sum(v for _, months in rows for v in months if v is not None)
    assert int(series.frame["count"].sum()) == expected
    blanks = {(c, m) for c, months in rows for m, v in enumerate(months, 1) if v is not None}
    got = set(zip(series.frame["area_code"].to_list(), series.frame["month"].to_list(),
                  strict=True))
    assert got == blanks


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="no column"):
        read_series("sesnsp-municipal", path)
    with pytest.raises(InvalidInput, match="unknown homicide format"):
        read_series("excel", path)
    utf8 = tmp_path / "u.csv"
    utf8.write_bytes(HEADER.encode("utf-16"))
    with pytest.raises(InvalidInput):
        read_series("sesnsp-municipal", utf8)


def test_inegi_reader_flags_unknown_codes_and_splits(tmp_path: Path) -> None:
    path = tmp_path / "i.csv.gz"
    text = ("ent_mun|year|month|homicides|pop_est|homicide_rate\n"
            "11020|2020|1|50|1700000|35.3\n"
            "23010|2010|1|1|NA|NA\n"
            "99001|2020|1|3|1000|3\n"
            "11020|2020|13|1|1700000|1\n")
    path.write_bytes(gzip.compress(text.encode()))
    series = read_series("inegi-municipal", path, CATALOGUE)
    assert {i.line: i.message.split(" ")[0] for i in series.issues} == {4: "unknown",
                                                                        5: "bad"}
    assert "rows before 2011 belong to 23004" in series.warnings[0].message
    assert series.frame["count"].to_list() == [50, 1]


def test_demo_files_read_cleanly_and_match_the_published_totals() -> None:
    catalogue = Catalogue.from_file(DEMO / "municipalities.csv")
    assert len(catalogue.codes) == 2467
    state = read_series("inegi-state", DEMO / "inegi_state_2015_2022.csv")
    victims = read_series("sesnsp-victims-state",
                          DEMO / "sesnsp_victims_state_homicidio_doloso_2015_2022.csv.gz")
    assert not state.issues and not victims.issues
    rec = indicators.reconcile(state.frame, victims.frame)
    by_year = rec.group_by("year").agg(pl.col("sesnsp").sum()).sort("year")
    # SESNSP's published national totals of intentional-homicide victims
    assert dict(by_year.iter_rows())[2018] == 33_742
    assert dict(by_year.iter_rows())[2021] == 33_359
    quadrants = read_series("cdmx-quadrants",
                            DEMO / "cdmx_quadrants_homicidio_doloso_2015_2016.csv.gz")
    assert not quadrants.issues and quadrants.frame["level"].unique().to_list() == ["quadrant"]
    shapes = read_quadrant_polygons(DEMO / "cdmx_quadrants.geojson.gz")
    assert "C-1.1.1" in shapes and shapes["C-1.1.1"]["geometry"]["type"] in ("Polygon",
                                                                            "MultiPolygon")


def frame(rows: list[tuple[str, int, int, int, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"area_code": pl.Utf8, "year": pl.Int32,
                                      "month": pl.Int32, "count": pl.Int64,
                                      "population": pl.Float64}, orient="row")


def test_annual_rates_and_year_on_year_change() -> None:
    rows = [("11020", y, m, c, 200_000.0) for y, c in ((2019, 1), (2020, 2), (2022, 3))
            for m in range(1, 13)]
    out = indicators.annual(frame(rows)).sort("year")
    assert out["count"].to_list() == [12, 24, 36]
    assert out["rate"].to_list() == pytest.approx([6.0, 12.0, 18.0])
    # 2022 follows a missing year: no change is claimed across the gap.
    assert out["change"].to_list() == [None, 12, None]
    assert out["change_pct"].to_list() == [None, pytest.approx(1.0), None]


def test_trend_is_the_least_squares_slope() -> None:
    rows = [("A", 2020 + (m - 1) // 12, (m - 1) % 12 + 1, 10 + 2 * m, None) for m in
            range(1, 25)]
    rows += [("B", 2020 + (m - 1) // 12, (m - 1) % 12 + 1, 7, None) for m in range(1, 25)]
    out = indicators.trend(frame(rows), months=12).sort("area_code")
    assert out["slope"].to_list() == pytest.approx([2.0, 0.0])
    assert out["months"].to_list() == [12, 12]


def test_states_add_up_and_reconcile() -> None:
    muni = frame([("11020", 2020, m, 2, 1000.0) for m in range(1, 13)]
                 + [("11007", 2020, m, 1, None) for m in range(1, 13)])
    states = indicators.to_states(muni)
    assert states["count"].to_list() == [3] * 12
    assert states["population"].to_list() == [1000.0] * 12
    sesnsp = frame([("11", 2020, m, 4, None) for m in range(1, 13)]).with_columns(
        pl.lit("homicidio doloso").alias("crime"))
    rec = indicators.reconcile(muni, sesnsp)
    assert rec.to_dicts() == [{"area_code": "11", "year": 2020, "inegi": 36, "sesnsp": 48,
                               "difference": 12, "ratio": pytest.approx(48 / 36)}]
    with pytest.raises(InvalidInput, match="lacks columns"):
        indicators.annual(pl.DataFrame({"x": [1]}))
