"""The Spark engine computes the same per-account features as NumPy (local mode)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.finance.features import SMALL_SHARE_OF_MEDIAN, graph_features
from binational.finance.generate import synthetic
from binational.finance.graph import DAY, FloatArray, Graph
from binational.finance.spark import SPARK_FEATURES, spark_features

AMOUNT_FEATURES = tuple(f for f in SPARK_FEATURES if "small" in f or "min_amount" in f)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("binational-finance-test")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .getOrCreate())
    yield session
    session.stop()


def graph(edges: list[tuple[int, int, float, int]]) -> Graph:
    """A graph from (src, dst, amount, ts) tuples, sorted by time as ``Graph`` wants."""
    e = sorted(edges, key=lambda x: x[3])
    n = max([max(a, b) for a, b, _, _ in e] + [0]) + 1
    return Graph(accounts=np.array([str(i) for i in range(n)], dtype=np.str_),
                 src=np.array([x[0] for x in e], dtype=np.int64),
                 dst=np.array([x[1] for x in e], dtype=np.int64),
                 amount=np.array([x[2] for x in e], dtype=np.float64),
                 ts=np.array([x[3] for x in e], dtype=np.int64),
                 cash=np.zeros(len(e), dtype=np.int8),
                 location=np.full(len(e), -1, dtype=np.int64),
                 holder=np.full(n, -1, dtype=np.int64))


def assert_same(spark: object, g: Graph) -> dict[str, FloatArray]:
    """Spark's features equal NumPy's for every account with a transfer; NumPy's columns."""
    from pyspark.sql import SparkSession

    assert isinstance(spark, SparkSession)
    names, x = graph_features(g)
    rows = list(zip(g.src.tolist(), g.dst.tolist(), g.amount.tolist(), g.ts.tolist(),
                    strict=True))
    edges = spark.createDataFrame(rows, "src long, dst long, amount double, ts long")
    got = {int(r["account"]): r for r in spark_features(edges).collect()}
    active = np.flatnonzero((x[:, names.index("in_count")] + x[:, names.index("out_count")])
                            > 0)
    assert set(got) == set(active.tolist())
    cols: dict[str, FloatArray] = {}
    for feature in SPARK_FEATURES:
        col = x[:, names.index(feature)]
        theirs = np.array([got[int(i)][feature] for i in active], dtype=np.float64)
        np.testing.assert_allclose(theirs, col[active], rtol=1e-9, atol=1e-6,
                                   err_msg=feature)
        cols[feature] = col
    return cols


def test_spark_features_match_numpy(spark: object) -> None:
    g = synthetic(300, 3_000, days=20, patterns=9, seed=5).graph(epoch=1_700_000_123)
    cols = assert_same(spark, g)
    # the comparison means something only if the graph has small transfers at all
    assert cols["out_small_count"].sum() > 0 and cols["in_small_counterparties"].sum() > 0


T0 = 1_700_000_000
# Amounts 100 except where a case says: the median is 100 and the cut 25 unless noted.
CASES = {
    # nothing under the cut: every small column is 0, the ratios are amount / median
    "no small transfers": [(0, 1, 100.0, T0), (1, 2, 100.0, T0 + 60), (2, 0, 150.0, T0 + 90),
                           (3, 1, 80.0, T0 + DAY)],
    # account 3 sends only small transfers (share 1); 4 receives them from one counterparty
    "an account all small": [(0, 1, 100.0, T0), (1, 2, 100.0, T0 + 60),
                             (2, 0, 100.0, T0 + 120), (3, 4, 5.0, T0 + 180),
                             (3, 4, 7.5, T0 + 240), (3, 1, 2.0, T0 + 300)],
    # exactly at the cut (25 = 0.25 * 100) is not small, just under it is
    "ties at the cut": [(0, 1, 100.0, T0), (1, 2, 100.0, T0 + 1), (2, 0, 100.0, T0 + 2),
                        (3, 0, 25.0, T0 + 3), (4, 0, 24.999, T0 + 4),
                        (0, 5, 100.0, T0 + 5), (5, 3, 100.0, T0 + 6)],
    # an even count: the median is halfway between the two middle amounts (40 and 60 -> 50),
    # cut 12.5: 10 is small and 13 is not; the lower middle (cut 10) or the upper (cut 15), as
    # a rank-approximate median could give, would each decide one of them otherwise
    "even count, interpolated median": [(0, 1, 10.0, T0), (1, 2, 13.0, T0 + 1),
                                        (2, 3, 40.0, T0 + 2), (3, 0, 60.0, T0 + 3),
                                        (4, 0, 200.0, T0 + 4), (0, 4, 300.0, T0 + 5)],
    # a median of 0 (zero-amount transfers): the ratios use 1 and nothing is under 0
    "zero median": [(0, 1, 0.0, T0), (1, 2, 0.0, T0 + 1), (2, 0, 0.0, T0 + 2),
                    (0, 2, 40.0, T0 + 3), (3, 0, 0.0, T0 + 4)],
}


@pytest.mark.parametrize("name", list(CASES))
def test_amount_features_edge_cases(spark: object, name: str) -> None:
    edges = CASES[name]
    cols = assert_same(spark, graph(edges))
    amounts = sorted(a for _, _, a, _ in edges)
    cut = SMALL_SHARE_OF_MEDIAN * float(np.median(amounts))
    # the cases hold what their names say (NumPy's side, which Spark has just matched)
    assert cols["out_small_count"].sum() == sum(a < cut for a in amounts)
    if name == "no small transfers":
        assert not any(cols[f].any() for f in AMOUNT_FEATURES if "ratio" not in f)
    if name == "an account all small":
        assert cols["out_small_share"][3] == 1.0 and cols["in_small_counterparties"][4] == 1.0
    if name == "ties at the cut":
        assert cols["out_small_count"][3] == 0.0 and cols["out_small_count"][4] == 1.0
    if name == "even count, interpolated median":
        assert cut == 12.5 and cols["out_small_count"][0] == 1.0
        assert cols["out_small_count"][1] == 0.0


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5),
                          st.sampled_from([1.0, 2.5, 10.0, 24.0, 25.0, 99.0, 100.0, 250.0]),
                          st.integers(0, 3 * DAY)),
                min_size=1, max_size=25))
def test_spark_amount_features_match_numpy_generated(
        spark: object, edges: list[tuple[int, int, float, int]]) -> None:
    # amounts from a few values make ties at the median and at the cut likely
    assert_same(spark, graph([(s, d, a, T0 + t) for s, d, a, t in edges]))
