"""The Spark engine computes the same per-account features as NumPy (local mode)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from binational.finance.features import graph_features
from binational.finance.generate import synthetic
from binational.finance.spark import SPARK_FEATURES, spark_features


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


def test_spark_features_match_numpy(spark: object) -> None:
    from pyspark.sql import SparkSession

    assert isinstance(spark, SparkSession)
    g = synthetic(300, 3_000, days=20, patterns=9, seed=5).graph(epoch=1_700_000_123)
    names, x = graph_features(g)
    rows = list(zip(g.src.tolist(), g.dst.tolist(), g.amount.tolist(), g.ts.tolist(),
                    strict=True))
    edges = spark.createDataFrame(rows, "src long, dst long, amount double, ts long")
    got = {int(r["account"]): r for r in spark_features(edges).collect()}
    active = np.flatnonzero((x[:, names.index("in_count")] + x[:, names.index("out_count")])
                            > 0)
    assert set(got) == set(active.tolist())
    for feature in SPARK_FEATURES:
        col = x[:, names.index(feature)]
        theirs = np.array([got[int(i)][feature] for i in active], dtype=np.float64)
        np.testing.assert_allclose(theirs, col[active], rtol=1e-9, atol=1e-6,
                                   err_msg=feature)
