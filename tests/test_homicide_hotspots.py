"""Hot spots: incident files, the Knox test, forecasts and their evaluation, Gi*, the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from binational.core.cli.main import app
from binational.core.errors import InvalidInput
from binational.homicide.forecast import ModelOptions, evaluate, fit_sepp, scores
from binational.homicide.grid import Grid
from binational.homicide.hotspots import getis_ord
from binational.homicide.incidents import (
    LocalProjection,
    day_number,
    detect_date_format,
    read_incidents,
)
from binational.homicide.knox import knox

runner = CliRunner()


def write_csv(path: Path, rows: list[tuple[object, object, str]],
              header: str = "x,y,when") -> Path:
    path.write_text(header + "\n" + "".join(f"{x},{y},{d}\n" for x, y, d in rows))
    return path


def cluster_rows(rng: np.random.Generator, hot: tuple[float, float] = (1234.0, 5678.0),
                 n_background: int = 200, n_hot: int = 60) -> list[tuple[object, object, str]]:
    """Background incidents over 5 km x 5 km and a hot spot that keeps burning, 2020."""
    start = date(2020, 1, 1)
    rows: list[tuple[object, object, str]] = []
    for _ in range(n_background):
        day = start + timedelta(days=int(rng.integers(0, 365)))
        rows.append((round(float(rng.uniform(0, 5000)), 2),
                     round(float(rng.uniform(0, 5000)), 2), day.isoformat()))
    for k in range(n_hot):
        day = start + timedelta(days=int(300 + k % 65))
        rows.append((round(hot[0] + float(rng.normal(0, 15)), 2),
                     round(hot[1] + float(rng.normal(0, 15)), 2), day.isoformat()))
    return rows


# -- reading incidents ------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_never_dropped(tmp_path: Path) -> None:
    rows: list[tuple[object, object, str]] = [
        (350000.5, 560000.0, "03/01/2016"),
        (350100.0, 560300.0, "25/01/2016"),
        (350200.0, 560100.0, "31/02/2016"),  # no such day
        ("abc", 560100.0, "04/01/2016"),
        (0, 0, "05/01/2016"),  # not geocoded
        (-87.63, 41.88, "06/01/2016"),  # lon/lat among metres
        (950000.0, 960000.0, "07/01/2016"),  # far outside
    ] + [(350000.0 + 10 * i, 560000.0 + 7 * i, "13/02/2016") for i in range(20)]
    inc = read_incidents(write_csv(tmp_path / "i.csv", rows), "x", "y", "when")
    assert inc.date_format == "%d/%m/%Y"
    by_line = {i.line: i.message for i in inc.issues}
    assert set(by_line) == {4, 5, 6, 7, 8}
    assert "bad date '31/02/2016'" in by_line[4]
    assert "not numbers" in by_line[5]
    assert "not geocoded" in by_line[6]
    assert "mixed projections" in by_line[7]
    assert "outside the area" in by_line[8]
    assert len(inc) + len(inc.issues) == inc.rows == len(rows)
    assert 4 not in inc.lines.tolist() and 2 in inc.lines.tolist()


def test_lonlat_rows_in_metres_are_mixed_projections(tmp_path: Path) -> None:
    rows: list[tuple[object, object, str]] = [
        (-99.13 + 0.001 * i, 19.43 + 0.001 * i, "2020-01-01") for i in range(10)]
    rows.append((485000.0, 2148000.0, "2020-01-02"))
    rows.append((19.43, -99.13, "2020-01-03"))
    inc = read_incidents(write_csv(tmp_path / "i.csv", rows), "x", "y", "when", lonlat=True)
    assert [i.line for i in inc.issues] == [12, 13]
    assert "mixed projections" in inc.issues[0].message
    assert "swapped" in inc.issues[1].message
    assert inc.projection is not None and abs(inc.projection.lat0 - 19.4345) < 0.01


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "mx.csv"
    path.write_text("lon;lat;fecha\n-99,1332;19,4326;2021-03-01\n-99,1301;19,4310;2021-03-02\n"
                    "-99,1300;19,4300;ayer\n")
    inc = read_incidents(path, "lon", "lat", "fecha", lonlat=True)
    assert len(inc) == 2 and [i.line for i in inc.issues] == [4]
    lon, lat = inc.projection.inverse(inc.x, inc.y) if inc.projection else (inc.x, inc.y)
    assert lon.tolist() == pytest.approx([-99.1332, -99.1301])
    assert lat.tolist() == pytest.approx([19.4326, 19.4310])


def test_missing_column_and_ambiguous_dates_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [(1.0, 2.0, "01/02/2020")])
    with pytest.raises(InvalidInput, match="no column 'date'"):
        read_incidents(path, "x", "y", "date")
    with pytest.raises(InvalidInput, match="day-first and month-first"):
        read_incidents(path, "x", "y", "when")
    assert detect_date_format(["12/31/2020", "01/02/2020"], "d") == "%m/%d/%Y"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False) | st.just(float("nan")),
                          st.floats(-1e6, 1e6, allow_nan=False),
                          st.dates(date(1990, 1, 1), date(2030, 1, 1)) | st.just(None)),
                min_size=1, max_size=40))
def test_every_row_is_used_or_reported(tmp_path_factory: pytest.TempPathFactory,
                                       rows: list[tuple[float, float, date | None]]) -> None:
    path = tmp_path_factory.mktemp("p") / "i.csv"
    write_csv(path, [(x, y, d.isoformat() if d else "not a date") for x, y, d in rows])
    try:
        inc = read_incidents(path, "x", "y", "when", date_format="%Y-%m-%d")
    except InvalidInput:
        return
    used = set(inc.lines.tolist())
    reported = {i.line for i in inc.issues}
    assert used.isdisjoint(reported)
    assert used | reported == set(range(2, len(rows) + 2))
    for line, t in zip(inc.lines.tolist(), inc.t.tolist(), strict=True):
        x, _y, d = rows[line - 2]
        assert d is not None and t == day_number(d) and math.isfinite(x)


def test_local_projection_round_trips() -> None:
    proj = LocalProjection(-99.13, 19.43)
    lon = np.array([-99.2, -99.13, -99.0])
    lat = np.array([19.3, 19.43, 19.5])
    x, y = proj.forward(lon, lat)
    back = proj.inverse(x, y)
    assert np.allclose(back[0], lon) and np.allclose(back[1], lat)
    # 0.01 degree of latitude is about 1.11 km
    assert abs((proj.forward(np.array([-99.13]), np.array([19.44]))[1][0]) - 1111.95) < 1


# -- Knox ---------------------------------------------------------------------------------


def brute_force_table(x: np.ndarray, y: np.ndarray, t: np.ndarray, sb: float, sn: int,
                      tb: float, tn: int) -> np.ndarray:
    out = np.zeros((sn + 2, tn + 1), dtype=int)
    for i, j in combinations(range(len(x)), 2):
        d = math.hypot(x[i] - x[j], y[i] - y[j])
        s = 0 if d == 0 else min(1 + int(d // sb), sn + 1)
        k = min(int(abs(t[i] - t[j]) // tb), tn)
        out[s, k] += 1
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 60))
def test_knox_observed_counts_equal_brute_force(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 20, n) * 25.0  # a lattice: repeats at the same location happen
    y = rng.integers(0, 20, n) * 25.0
    t = rng.integers(0, 30, n).astype(float)
    res = knox(x, y, t, spatial_band=100, spatial_bands=3, temporal_band=2, temporal_bands=2,
               iterations=5, seed=seed)
    expected = brute_force_table(x, y, t, 100, 3, 2, 2)
    assert res.table("observed") == expected.tolist()
    assert sum(sum(r) for r in res.table("observed")) == n * (n - 1) // 2
    for cell in res.cells:
        assert 1 / 6 <= cell.p_value <= 1.0
        assert cell.simulated_min <= cell.expected <= cell.simulated_max


def test_knox_finds_near_repeats_and_is_seedable() -> None:
    rng = np.random.default_rng(7)
    n = 300
    x, y = rng.uniform(0, 10_000, n), rng.uniform(0, 10_000, n)
    t = rng.uniform(0, 365, n).round()
    # 60 follow-ups 20-60 m and 0-1 days from an earlier incident: near repeats
    src = rng.integers(0, n, 60)
    x = np.append(x, x[src] + rng.uniform(20, 60, 60))
    y = np.append(y, y[src])
    t = np.append(t, t[src] + rng.integers(0, 2, 60))
    a = knox(x, y, t, spatial_band=100, spatial_bands=2, temporal_band=2, temporal_bands=2,
             iterations=99, seed=3)
    b = knox(x, y, t, spatial_band=100, spatial_bands=2, temporal_band=2, temporal_bands=2,
             iterations=99, seed=3)
    near = a.cell(1, 0)
    assert near.ratio is not None and near.ratio > 5 and near.p_value == 0.01
    assert a.table("expected") == b.table("expected")
    far = a.cell(3, 2)
    assert far.ratio is not None and abs(far.ratio - 1) < 0.01
    # The exact permutation expectation agrees with the Monte Carlo mean.
    assert abs(near.expected - near.exact_expected) < 0.35 * near.exact_expected + 1


def test_knox_refuses_nonsense() -> None:
    x = np.array([0.0, 1.0])
    with pytest.raises(InvalidInput, match="positive"):
        knox(x, x, x, spatial_band=0, spatial_bands=1, temporal_band=1, temporal_bands=1)
    with pytest.raises(InvalidInput, match="at least two"):
        knox(x[:1], x[:1], x[:1], spatial_band=1, spatial_bands=1, temporal_band=1,
             temporal_bands=1)


# -- forecasts ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["last-period", "kde", "sepp"])
def test_every_model_ranks_the_hot_spot_first(tmp_path: Path, model: str) -> None:
    rng = np.random.default_rng(11)
    inc = read_incidents(write_csv(tmp_path / "i.csv", cluster_rows(rng)), "x", "y", "when")
    grid = Grid.covering(inc.x, inc.y, 100.0)
    origin = day_number(date(2020, 12, 1))
    score, params = scores(model, grid, inc.x, inc.y, inc.t, origin, 7.0,
                           ModelOptions(periods=4 if model == "last-period" else 1))
    best = int(np.argmax(score))
    cx, cy = grid.corners(np.array([best]))
    assert cx[0] <= 1234.0 < cx[0] + 100 and cy[0] <= 5678.0 < cy[0] + 100
    assert params


def test_sepp_recovers_self_excitation() -> None:
    """A simulated Hawkes process with known trigger: EM finds theta, omega, sigma."""
    rng = np.random.default_rng(5)
    mu_days, theta, omega, sigma = 2000.0, 0.5, 0.2, 30.0
    n0 = int(rng.poisson(2.0 * mu_days))
    xs, ys, ts = (list(rng.uniform(0, 20_000, n0)), list(rng.uniform(0, 20_000, n0)),
                  list(rng.uniform(0, mu_days, n0)))
    k = 0
    while k < len(ts):
        for _ in range(int(rng.poisson(theta))):
            ts.append(ts[k] + rng.exponential(1 / omega))
            xs.append(xs[k] + rng.normal(0, sigma))
            ys.append(ys[k] + rng.normal(0, sigma))
        k += 1
    x, y, t = np.array(xs), np.array(ys), np.floor(np.array(ts)) + 0.5
    grid = Grid.covering(x, y, 250.0)
    fitted = fit_sepp(grid, x, y, t, mu_days, ModelOptions(bandwidth=1000.0,
                                                           trigger_metres=300.0,
                                                           trigger_days=60.0))
    assert 0.35 < fitted.theta < 0.65
    assert 0.12 < fitted.omega < 0.3
    assert 20 < fitted.sigma < 40


def test_evaluation_follows_the_definitions() -> None:
    # 10 cells; 1 flagged at 10%, 5 at 50%.
    score = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    actual = np.array([2, 0, 1, 0, 0, 3, 0, 0, 0, 0], dtype=float)
    past = np.array([4, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    ten, half = evaluate(score, actual, 8, past, 6, shares=(0.1, 0.5))
    assert (ten.cells, ten.hits) == (1, 2)
    assert ten.pai == pytest.approx((2 / 8) / (1 / 10))
    assert ten.pei == pytest.approx(2 / 3)  # the best single cell held 3
    assert ten.pei_star == pytest.approx(1.0)  # 2 incidents need one cell in hindsight
    assert ten.rri == pytest.approx((2 / 8) / (4 / 6))
    assert (half.cells, half.hits) == (5, 3)
    assert half.pei_star == pytest.approx(1 / 5)  # 3 incidents fit in one cell
    assert half.pei == pytest.approx(3 / 6)


def test_getis_ord_matches_the_formula() -> None:
    rng = np.random.default_rng(2)
    counts = rng.poisson(1.0, (6, 7)).astype(float)
    counts[1:4, 2:5] = 8  # a 3 x 3 block of high counts: a hot spot
    z = getis_ord(counts)
    n, xbar = counts.size, counts.mean()
    s = math.sqrt((counts**2).mean() - xbar**2)
    for r, c in [(0, 0), (2, 3), (5, 6), (3, 4)]:
        nb = [(i, j) for i in range(r - 1, r + 2) for j in range(c - 1, c + 2)
              if 0 <= i < 6 and 0 <= j < 7]
        w = len(nb)
        num = sum(counts[i, j] for i, j in nb) - xbar * w
        den = s * math.sqrt((n * w - w * w) / (n - 1))
        assert z[r, c] == pytest.approx(num / den)
    assert z[2, 3] > 1.96


# -- the command line ---------------------------------------------------------------------


def test_cli_forecast_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    path = write_csv(tmp_path / "i.csv", [*cluster_rows(rng), (10.0, 10.0, "yesterday")])
    result = runner.invoke(app, [
        "hotspots", "forecast", str(path), "--x", "x", "--y", "y", "--date", "when",
        "--train-until", "2020-11-30", "--horizon", "14", "--cell-size", "200",
        "--model", "kde", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    top = report["cells"][0]
    assert top["cell_x"] % 200 == 0 and top["cell_y"] % 200 == 0
    assert top["cell_x"] <= 1234 < top["cell_x"] + 200
    assert top["cell_y"] <= 5678 < top["cell_y"] + 200
    scores_ = [c["score"] for c in report["cells"]]
    assert scores_ == sorted(scores_, reverse=True)
    assert report["rejected"] == [{"line": len(cluster_rows(np.random.default_rng(3))) + 2,
                                   "message": "bad date 'yesterday' (expected %Y-%m-%d)"}]
    assert {e["area_share"] for e in report["evaluation"]} == {0.01, 0.05}


def test_cli_forecast_lonlat_reports_degrees(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    proj = LocalProjection(-99.13, 19.43)
    rows = []
    for x, y, d in cluster_rows(rng, hot=(2500.0, 2500.0)):
        lon, lat = proj.inverse(np.array([float(x) - 2500]), np.array([float(y) - 2500]))
        rows.append((round(float(lon[0]), 6), round(float(lat[0]), 6), d))
    path = write_csv(tmp_path / "ll.csv", rows, header="lon,lat,day")
    result = runner.invoke(app, [
        "hotspots", "forecast", str(path), "--x", "lon", "--y", "lat", "--date", "day",
        "--lonlat", "--train-until", "2020-11-30", "--horizon", "7", "--cell-size", "150",
        "--model", "sepp", "--json", "--geojson", "--top", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    top = report["cells"][0]
    assert report["units"] == "degrees" and len(report["cells"]) == 3
    assert top["cell_x"] <= -99.13 < top["cell_x"] + report["cell_width"]
    assert top["cell_y"] <= 19.43 < top["cell_y"] + report["cell_height"]
    ring = report["geojson"]["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == [pytest.approx(top["cell_x"]), pytest.approx(top["cell_y"])]


def test_cli_knox_json_and_bad_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    path = write_csv(tmp_path / "i.csv", cluster_rows(rng))
    args = ["hotspots", "knox", str(path), "--x", "x", "--y", "y", "--date", "when",
            "--spatial-band", "100", "--spatial-bands", "2", "--temporal-band", "7",
            "--temporal-bands", "2", "--iterations", "19", "--seed", "5", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert len(report["ratios"]) == 4 and len(report["ratios"][0]) == 3
    assert report["spatial_bands"][0] == "same location"
    assert report["cells"][0]["p_value"] >= 0.05
    assert json.loads(runner.invoke(app, args).stdout)["cells"] == report["cells"]
    bad = runner.invoke(app, ["hotspots", "knox", str(path), "--x", "east", "--y", "y",
                              "--date", "when", "--spatial-band", "100", "--spatial-bands",
                              "2", "--temporal-band", "7", "--temporal-bands", "2"])
    assert bad.exit_code == 2
    assert "no column 'east'" in bad.output
    model = runner.invoke(app, ["hotspots", "forecast", str(path), "--x", "x", "--y", "y",
                                "--date", "when", "--train-until", "2020-06-01", "--horizon",
                                "7", "--cell-size", "100", "--model", "neural"])
    assert model.exit_code == 2 and "unknown model 'neural'" in model.output


def test_bench_reads_the_near_repeat_calculator_output(tmp_path: Path) -> None:
    from binational.homicide.bench import _windows, read_nrc

    verbose = tmp_path / "NRverbose.csv"
    verbose.write_text(
        "<<<<< Near Repeat Calculator 1.3 >>>>>,,,,\n,,,,\n"
        "Observed over mean expected frequencies,,,,\n,,0 to 2,3 to 4,More than 4\n"
        "v Row,Column >,1,2,3\n1, Same location,15.602,3.341,0.82\n"
        "2,More than 100,0.999,1,1\n,,,,\n"
        "Statistical significant table,,,,\n,,0 to 2,3 to 4,More than 4\n"
        "v Row,Column >,1,2,3\n1, Same location,0.05,0.05,1\n2,More than 100,1,1,0.05\n,,,,\n"
        "Observed frequencies distribution,,,,\n,,0 to 2,3 to 4,More than 4\n"
        "v Row,Column >,1,2,3\n1, Same location,202,51,1025\n2,More than 100,5,6,7\n")
    tables = read_nrc(verbose)
    assert tables["ratio"] == [[15.602, 3.341, 0.82], [0.999, 1.0, 1.0]]
    assert tables["p_value"][1] == [1.0, 1.0, 0.05]
    assert tables["observed"][0] == [202.0, 51.0, 1025.0]
    weekly, monthly = _windows("weekly"), _windows("monthly")
    assert len(weekly) == 52 and len(monthly) == 12
    assert sum(h for _, h in monthly) == 365
    assert weekly[1][0] - weekly[0][0] == 7
