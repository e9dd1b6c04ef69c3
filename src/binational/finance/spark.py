"""The per-account features on Spark, for graphs that outgrow one machine.

The same definitions as ``features.plain_features``, the window, counterparty and
active-day columns of ``features.windowed_features`` and the small-transfer columns of
``features.amount_features``, written as Spark SQL aggregations and range windows over a
DataFrame of edges (``src``, ``dst``, ``amount``, ``ts`` in seconds). The names match, so a
model trained on the NumPy features scores Spark's output. Tested in local mode against the
NumPy result.

The small-transfer cut needs the median of the whole graph's amounts, exactly as
``np.median`` gives it: Spark's ``percentile_approx`` (and ``approxQuantile``) return a
value within a rank error, which can move edges across the cut, so the median comes from
``percentile`` (exact; for an even count it interpolates halfway between the two middle
values, the same double as NumPy's mean of the two). ``percentile`` keeps a count per
distinct amount in one aggregation buffer: memory grows with the number of distinct
amounts, not edges, which is the price of exactness here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from binational.finance.features import SMALL_SHARE_OF_MEDIAN, WINDOWS
from binational.finance.graph import DAY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SPARK_FEATURES = tuple(
    [f"{d}_{s}" for d in ("out", "in") for s in ("count", "sum", "mean", "std", "max")]
    + ["net_flow"]
    + [f"{d}_max_{k}_{w // DAY}d" for d in ("out", "in") for w in WINDOWS
       for k in ("count", "sum")]
    + [f"{d}_{s}" for d in ("out", "in") for s in ("counterparties", "active_days")]
    + [f"{d}_{s}" for d in ("out", "in") for s in (
        "min_amount_ratio", "small_count", "small_share", "small_counterparties")])


def spark_features(edges: DataFrame) -> DataFrame:
    """One row per account (column ``account``) with the ``SPARK_FEATURES`` columns."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # Days are counted from the first transaction, as on the NumPy side; the median is exact
    # (see the module's doc), and the cut is multiplied in Python as NumPy multiplies it.
    first = edges.agg(F.min("ts"),
                      F.percentile(F.col("amount").cast("double"), F.lit(0.5))).first()
    start = int(first[0]) if first is not None and first[0] is not None else 0
    median = float(first[1]) if first is not None and first[1] is not None else 0.0
    scale = median if median > 0 else 1.0
    cut = SMALL_SHARE_OF_MEDIAN * median
    small = F.col("amount").cast("double") < F.lit(cut)
    # Accounts on either end of a small transfer: counterparties that are part of a pattern.
    touches = (edges.where(small).select(F.col("src").alias("touching"))
               .union(edges.where(small).select(F.col("dst").alias("touching")))
               .distinct())
    parts = []
    for direction, acc, other in (("out", "src", "dst"), ("in", "dst", "src")):
        e = edges.select(F.col(acc).alias("account"), F.col(other).alias("other"),
                         F.col("amount").cast("double").alias("amount"),
                         (F.col("ts").cast("long") - F.lit(start)).alias("ts"))
        e = (e.join(touches, e["other"] == touches["touching"], how="left")
             .withColumn("is_small", (F.col("amount") < F.lit(cut)).cast("double")))
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
            F.min(F.col("amount") / F.lit(scale)).alias(f"{direction}_min_amount_ratio"),
            F.sum("is_small").alias(f"{direction}_small_count"),
            # every grouped account has a transfer in this direction: no zero count here
            (F.sum("is_small") / F.count("*")).alias(f"{direction}_small_share"),
            # countDistinct skips the nulls left by the join for untouched counterparties
            F.countDistinct("touching").cast("double")
            .alias(f"{direction}_small_counterparties"),
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
