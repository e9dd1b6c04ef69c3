"""The per-account features on Spark, for graphs that outgrow one machine.

The same definitions as ``features.plain_features`` and the window, counterparty and
active-day columns of ``features.windowed_features``, written as Spark SQL aggregations and
range windows over a DataFrame of edges (``src``, ``dst``, ``amount``, ``ts`` in seconds).
The names match, so a model trained on the NumPy features scores Spark's output. Tested in
local mode against the NumPy result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from binational.finance.features import WINDOWS
from binational.finance.graph import DAY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SPARK_FEATURES = tuple(
    [f"{d}_{s}" for d in ("out", "in") for s in ("count", "sum", "mean", "std", "max")]
    + ["net_flow"]
    + [f"{d}_max_{k}_{w // DAY}d" for d in ("out", "in") for w in WINDOWS
       for k in ("count", "sum")]
    + [f"{d}_{s}" for d in ("out", "in") for s in ("counterparties", "active_days")])


def spark_features(edges: DataFrame) -> DataFrame:
    """One row per account (column ``account``) with the ``SPARK_FEATURES`` columns."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # Days are counted from the first transaction, as on the NumPy side.
    t0 = edges.agg(F.min("ts")).first()
    start = int(t0[0]) if t0 is not None and t0[0] is not None else 0
    parts = []
    for direction, acc, other in (("out", "src", "dst"), ("in", "dst", "src")):
        e = edges.select(F.col(acc).alias("account"), F.col(other).alias("other"),
                         F.col("amount").cast("double").alias("amount"),
                         (F.col("ts").cast("long") - F.lit(start)).alias("ts"))
        for w in WINDOWS:
            # (t - w, t], ties at t included: the NumPy side searches with side="right".
            frame = Window.partitionBy("account").orderBy("ts").rangeBetween(-(w - 1), 0)
            label = f"{w // DAY}d"
            e = e.withColumn(f"c_{label}", F.count("*").over(frame)).withColumn(
                f"s_{label}", F.sum("amount").over(frame))
        aggs = [
            F.count("*").cast("double").alias(f"{direction}_count"),
            F.sum("amount").alias(f"{direction}_sum"),
            F.avg("amount").alias(f"{direction}_mean"),
            F.stddev_pop("amount").alias(f"{direction}_std"),
            F.max("amount").alias(f"{direction}_max"),
            F.countDistinct("other").cast("double").alias(f"{direction}_counterparties"),
            F.countDistinct(F.floor(F.col("ts") / DAY)).cast("double")
            .alias(f"{direction}_active_days"),
        ]
        for w in WINDOWS:
            label = f"{w // DAY}d"
            aggs.append(F.max(f"c_{label}").cast("double")
                        .alias(f"{direction}_max_count_{label}"))
            aggs.append(F.max(f"s_{label}").alias(f"{direction}_max_sum_{label}"))
        parts.append(e.groupBy("account").agg(*aggs))
    out = parts[0].join(parts[1], on="account", how="full").fillna(0.0)
    out = out.withColumn("net_flow", F.col("in_sum") - F.col("out_sum"))
    return out.select("account", *SPARK_FEATURES)
