"""``binational early-warning detect``: the algorithms against R surveillance's own answers,
and bad input handled per series.

The oracle ``tests/data/early_warning/r_reference.csv`` was written by R surveillance 1.20.3
(``make_reference.R`` next to it) for ``series.csv``, a low-count, over-dispersed seasonal
series (Noufaily scenario 14) where R returns NA for some periods.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from binational.core.cli.main import app
from binational.early_warning import algorithms as alg
from binational.early_warning.series import read_series

DATA = Path(__file__).parent / "data" / "early_warning"
SERIES = DATA / "series.csv"
R_ALGORITHMS = ("ears-c1", "ears-c2", "ears-c3", "farrington", "farrington-flexible", "glrnb")


def r_reference() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with (DATA / "r_reference.csv").open() as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["algorithm"], []).append(row)
    return out


def run_detect(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["early-warning", "detect", *args])
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.parametrize("algorithm", R_ALGORITHMS)
def test_detect_matches_r_surveillance(algorithm: str) -> None:
    code, out, err = run_detect(str(SERIES), "--algorithm", algorithm, "--json")
    assert code == 0, err
    ours = json.loads(out)
    ref = r_reference()[algorithm]
    assert [r["period"] for r in ours] == [r["period"] for r in ref]
    for mine, theirs in zip(ours, ref, strict=True):
        assert set(mine) >= {"period", "count", "expected", "upperbound", "alarm"}
        r_alarm = None if theirs["alarm"] == "NA" else theirs["alarm"] == "1"
        assert mine["alarm"] == r_alarm, (mine, theirs)
        if theirs["upperbound"] == "NA":
            assert mine["upperbound"] is None
        else:
            assert mine["upperbound"] == pytest.approx(float(theirs["upperbound"]),
                                                       rel=1e-6, abs=1e-6)
    # the series has alarms for every algorithm, so agreement is not vacuous
    assert any(r["alarm"] for r in ours)


@pytest.mark.parametrize("algorithm", ["ewma", "regression"])
def test_essence_algorithms_flag_a_spike(algorithm: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(20, size=80)
    counts[70] = 60
    path = tmp_path / "daily.csv"
    write(path, [(date(2024, 1, 1) + timedelta(days=i), int(c)) for i, c in enumerate(counts)])
    code, out, err = run_detect(str(path), "-a", algorithm, "--frequency", "day", "--json")
    assert code == 0, err
    rows = {r["period"]: r for r in json.loads(out)}
    spike = rows[(date(2024, 1, 1) + timedelta(days=70)).isoformat()]
    assert spike["alarm"] is True and spike["level"] == "red"
    assert spike["count"] > spike["upperbound"] > spike["expected"]
    quiet = [r for p, r in rows.items() if p < "2024-03-01"]
    assert sum(r["alarm"] for r in quiet) <= 2
    assert all(0 <= r["pvalue"] <= 1 for r in rows.values())


def test_ears_c1_by_hand() -> None:
    x = np.array([3, 5, 4, 6, 5, 4, 7, 20, 5], dtype=float)
    det = alg.ears(x, "C1")
    ref = x[0:7]
    ub = ref.mean() + 3.090232306167813 * ref.std(ddof=1)
    assert det.index.tolist() == [7, 8]
    assert det.upperbound[0] == pytest.approx(ub)
    assert det.alarm.tolist() == [True, False]


def test_ewma_follows_essence_formulas() -> None:
    # The first test period: an 11-period baseline, a 2-period guard band.
    x = np.array([5, 7, 6, 5, 8, 6, 7, 5, 6, 7, 6, 9, 8, 30], dtype=float)
    det = alg.ewma(x)
    base = x[:11]
    assert det.index.tolist() == [13]
    assert det.expected[0] == pytest.approx(base.mean())
    assert det.alarm[0] and det.pvalue is not None and det.pvalue[0] < 0.01


def write(path: Path, rows: list[tuple[object, object]], header: str = "period,count") -> None:
    path.write_text(header + "\n" + "".join(f"{p},{c}\n" for p, c in rows))


def weekly(n: int, start: date = date(2020, 1, 6)) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda rows: rows[:5] + rows[6:],
     "gap between 2020-02-03 (line 6) and 2020-02-17 (line 7): 1 missing week"),
    (lambda rows: [*rows[:3], (rows[3][0], -2), *rows[4:]], "line 5: negative count -2"),
    (lambda rows: [*rows, rows[2]], "period 2020-01-20 appears twice"),
    (lambda rows: [*rows[:2], ("2020-13-01", 3), *rows[3:]], "line 4: period '2020-13-01'"),
    (lambda rows: [*rows[:2], (rows[2][0], ""), *rows[3:]], "line 4: no count for 2020-01-20"),
    (lambda rows: [*rows[:2], (rows[2][0], 2.5), *rows[3:]], "line 4: count 2.5"),
])
def test_bad_series_is_refused_with_a_clear_message(tmp_path: Path, mutate, message) -> None:  # type: ignore[no-untyped-def]
    rows: list[tuple[object, object]] = [(d, 4) for d in weekly(30)]
    path = tmp_path / "bad.csv"
    write(path, mutate(rows))
    code, out, err = run_detect(str(path), "-a", "ears-c1", "--json")
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_too_short_for_the_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    write(path, [(d, 3) for d in weekly(100)])
    code, _, err = run_detect(str(path), "-a", "farrington", "--json")
    assert code == 2
    assert "farrington needs more than" in err and "the series has 100" in err


def test_missing_columns_and_mapping(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    write(path, [(d, 3) for d in weekly(20)], header="week_start,cases")
    code, _, err = run_detect(str(path), "-a", "ears-c1")
    assert code == 2 and "needs column(s) period, count" in err
    code, out, err = run_detect(str(path), "-a", "ears-c1", "--json",
                                "--map", "period=week_start,count=cases")
    assert code == 0, err
    assert len(json.loads(out)) == 13


def test_one_bad_series_does_not_stop_the_others(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    lines = ["period,count,place,place_name,indicator"]
    for i, d in enumerate(weekly(20)):
        lines.append(f"{d},{5 + i % 3},US-AZ,Arizona,overdose-deaths")
        lines.append(f"{d},{-1 if i == 4 else 2},US-NM,New Mexico,overdose-deaths")
        # Sonora recoded mid-series: the same name under two codes
        lines.append(f"{d},{3},{'MX-SON' if i < 10 else 'MX-SO'},Sonora,overdose-deaths")
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run_detect(str(path), "-a", "ears-c2", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["place"] for r in rows} == {"US-AZ"}
    assert "US-NM / overdose-deaths: line" in err and "negative count -1" in err
    assert "place 'Sonora' appears under codes MX-SO, MX-SON" in err


def test_unknown_algorithm_lists_the_choices() -> None:
    code, _, err = run_detect(str(SERIES), "-a", "cusum")
    assert code == 2 and "farrington-flexible" in err


def test_vsrr_extract_runs(tmp_path: Path) -> None:
    demo = Path(__file__).parents[1] / "data" / "demo" / "early_warning" / "vsrr_extract.csv"
    code, out, err = run_detect(str(demo), "--vsrr", "-a", "ears-c2", "--json",
                                "--adjust-delay")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["indicator"] for r in rows} >= {"overdose-deaths"}
    assert all(r["period"].endswith("-01") for r in rows)


@st.composite
def series_rows(draw: st.DrawFn) -> tuple[str, list[date], list[int]]:
    freq = draw(st.sampled_from(["day", "week", "month"]))
    n = draw(st.integers(min_value=1, max_value=40))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)))
    if freq == "month":
        start = start.replace(day=1)
        periods = [date(start.year + (start.month - 1 + i) // 12,
                        (start.month - 1 + i) % 12 + 1, 1) for i in range(n)]
    else:
        step = 1 if freq == "day" else 7
        periods = [start + timedelta(days=step * i) for i in range(n)]
    counts = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
    return freq, periods, counts


@given(series_rows(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_parser_round_trip_and_order(data: tuple[str, list[date], list[int]],
                                     rnd: object) -> None:
    import io
    import random

    freq, periods, counts = data
    rows = list(zip(periods, counts, strict=True))
    assert isinstance(rnd, random.Random)
    rnd.shuffle(rows)   # order in the file does not matter
    text = "period,count\n" + "".join(f"{p},{c}\n" for p, c in rows)
    series, problems = read_series(io.StringIO(text), freq)
    assert problems == []
    assert series[0].periods == periods
    assert series[0].counts.tolist() == counts


@given(series_rows(), st.data())
@settings(max_examples=60, deadline=None)
def test_parser_names_the_line_of_a_negative_count(
        data: tuple[str, list[date], list[int]], pick: st.DataObject) -> None:
    import io

    freq, periods, counts = data
    i = pick.draw(st.integers(0, len(counts) - 1))
    counts = list(counts)
    counts[i] = -pick.draw(st.integers(1, 99))
    text = "period,count\n" + "".join(f"{p},{c}\n" for p, c in zip(periods, counts,
                                                                    strict=True))
    series, problems = read_series(io.StringIO(text), freq)
    assert series == []
    assert f"line {i + 2}: negative count {counts[i]}" in problems[0].message


@given(st.lists(st.integers(0, 50), min_size=15, max_size=60))
@settings(max_examples=40, deadline=None)
def test_alarm_means_count_above_upperbound(counts: list[int]) -> None:
    x = np.array(counts, dtype=float)
    for method in ("C1", "C2"):
        det = alg.ears(x, method)
        for j, i in enumerate(det.index):
            if det.defined[j] and math.isfinite(det.upperbound[j]):
                assert det.alarm[j] == (x[i] > det.upperbound[j])
    det = alg.ewma(x)
    assert np.all((det.alarm) == (det.pvalue < 0.01))  # type: ignore[operator]


def test_vsrr_reader_adjusts_for_reporting_delay(tmp_path: Path) -> None:
    from binational.early_warning.series import read_vsrr

    head = ("State,Year,Month,Period,Indicator,Data Value,Percent Complete,"
            "Percent Pending Investigation,State Name,Footnote,Footnote Symbol,Predicted Value\n")
    rows = [
        "AZ,2018,January,12 month-ending,Number of Drug Overdose Deaths,100,100,0,Arizona,,,",
        "AZ,2018,February,12 month-ending,Number of Drug Overdose Deaths,90,90,0,Arizona,,,",
        "AZ,2018,March,12 month-ending,Number of Drug Overdose Deaths,95,99.5+,0,Arizona,,,97",
        "AZ,2018,March,12 month-ending,Percent with drugs specified,80,100,0,Arizona,,,",
    ]
    path = tmp_path / "vsrr.csv"
    path.write_text(head + "\n".join(rows) + "\n")
    series, problems = read_vsrr(path)
    assert problems == []
    (s,) = series
    assert s.key.place == "US-AZ" and s.key.substance == "all-drugs"
    assert s.counts.tolist() == [100, 90, 95]
    # 90 reported at 90% complete -> 100; CDC's own prediction wins where it gives one
    assert s.adjusted().tolist() == [100, 100, 97]
    broken = tmp_path / "not_vsrr.csv"
    broken.write_text("period,count\n2020-01-01,3\n")
    with pytest.raises(ValueError, match="not a VSRR file"):
        read_vsrr(broken)


def test_noufaily_simulation_and_metrics() -> None:
    from binational.early_warning import bench

    scs = bench.scenarios()
    assert len(scs) == 28 and scs[0].beta == 0 and scs[3].beta > 0 and scs[1].gamma1 > 0
    rng = np.random.default_rng(1)
    sim = bench.simulate(scs[10], 3, rng)
    assert sim.k == 10 and len(sim.counts) == bench.N_WEEKS
    assert bench.MONITOR_FROM <= sim.start <= sim.end < bench.N_WEEKS
    assert sim.outbreak[sim.start:sim.end + 1].any() and not sim.outbreak[:bench.MONITOR_FROM].any()
    det = alg.Detection("x", np.arange(bench.MONITOR_FROM, bench.N_WEEKS),
                        np.zeros(49), np.zeros(49), sim.outbreak[bench.MONITOR_FROM:].copy(),
                        np.ones(49, dtype=bool))
    m = bench.outbreak_metrics(sim, det)    # alarms exactly on the outbreak weeks
    assert m["pod"] == 1 and m["fp"] == 0 and m["timeliness"] == 0
    assert m["sens_hits"] == m["sens_weeks"]
