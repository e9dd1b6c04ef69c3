"""The linkage pipeline: one Splink (Fellegi-Sunter) model definition, any Splink backend.

``link(frames, backend=...)`` takes one frame (deduplicate) or two (link) in the standard
columns of ``records`` and returns the scored pairs. The same settings, blocking and training
run on DuckDB (the default, in process) and on Spark (``backend="spark"`` or a ``SparkAPI``):
the comparisons use Splink's own comparison levels, which Splink translates to each engine's
SQL, plus custom levels written in plain SQL that both engines read.

Blocking is on derived keys (``bk_*`` columns) computed here rather than in SQL, for two
reasons: a block larger than ``max_block`` records is cut (its key set to null) and reported,
so one very common name cannot blow up the run; and each rule's pair count is known exactly
before anything is compared.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from binational.core.errors import InvalidInput
from binational.resolution import splink_cache

log = logging.getLogger("binational.resolution")

DEFAULT_THRESHOLD = 0.9
DEFAULT_MAX_BLOCK = 2000  # records sharing one blocking key; beyond this the block is cut
UNIQUE_ID = "unique_id"
LEFT, RIGHT = "left_input", "right_input"  # input names in link results (sorted: left first)


@dataclass(frozen=True)
class BlockingRule:
    """Records are compared when they agree on all ``fields`` (none of them empty)."""

    name: str
    fields: tuple[str, ...]
    prefix: dict[str, int] = field(default_factory=dict)  # field -> leading characters used

    @property
    def column(self) -> str:
        return f"bk_{self.name}"

    def key(self, frame: pd.DataFrame) -> pd.Series:
        parts = []
        for f in self.fields:
            s = frame[f]
            if f in self.prefix:
                s = s.str[: self.prefix[f]]
            parts.append(s)
        out = parts[0].astype(object)
        for p in parts[1:]:
            out = out + "|" + p
        return out.where(pd.concat(parts, axis=1).notna().all(axis=1), None)


# Each rule catches pairs the others miss when one field has a typo or is empty.
BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("identifier", ("identifier",)),
    BlockingRule("name", ("given", "surname1", "surname_last")),
    BlockingRule("surname_dob", ("surname1_ph", "dob")),
    BlockingRule("given_dob", ("given_ph", "dob")),
    BlockingRule("last_surname_dob", ("surname_last", "dob")),
    BlockingRule("address", ("postcode", "street_number")),
    BlockingRule("phone", ("phone",)),
    BlockingRule("dob_locality", ("dob", "locality")),
    BlockingRule("initials_postcode", ("given", "surname1", "postcode"),
                 {"given": 1, "surname1": 1}),
)


@dataclass(frozen=True)
class BlockReport:
    rule: str
    pairs: int  # pairs this rule generates (before the union with other rules)
    capped_blocks: int
    capped_records: int
    largest_capped: list[tuple[str, int]]


@dataclass
class Result:
    """Scored pairs (``left_id, right_id, match_probability`` and the comparison levels)."""

    pairs: pd.DataFrame
    blocking: list[BlockReport]
    features: list[str]
    seconds: dict[str, float]
    records: int

    @property
    def capped(self) -> list[BlockReport]:
        return [b for b in self.blocking if b.capped_blocks]


# -- backends -----------------------------------------------------------------------------------


SMALL = 100_000  # records: below this DuckDB runs on one thread (see ``db_api``)


def db_api(backend: Any = "duckdb", threads: int | None = None) -> Any:
    """A Splink database API: ``"duckdb"``, ``"spark"`` (a local session), or an instance.

    ``threads``: DuckDB's worker threads (None: all cores). On inputs of a few thousand
    records a second thread costs more CPU in coordination than it saves (FEBRL4: 0.67 s
    of CPU on two threads, 0.54 s on one, and no slower by the clock)."""
    if not isinstance(backend, str):
        return backend
    if backend == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect()
        if threads is not None:
            con.execute(f"set threads = {int(threads)}")
        return DuckDBAPI(connection=con)
    if backend == "spark":
        from splink.backends.spark import SparkAPI

        # Small inputs on one machine: few partitions, lineage cut in memory (not parquet).
        return SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=local_spark(), break_lineage_method="persist",
            num_partitions_on_repartition=2)
    raise InvalidInput(f"unknown backend {backend!r} (duckdb or spark)")


def local_spark() -> Any:
    """A small local Spark session (two cores, quiet logs) for tests and single machines."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (SparkSession.builder.master("local[2]").appName("binational-resolution")
             # Splink's string-similarity UDFs (Jaro-Winkler, Damerau-Levenshtein) for Spark.
             .config("spark.jars", similarity_jar_location())
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.adaptive.enabled", "true")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "2g")
             # Local mode talks to itself: on loopback, whatever the host name resolves to.
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="binational-spark-"))
    return spark


# -- model --------------------------------------------------------------------------------------


def _present(frames: Sequence[pd.DataFrame], column: str) -> bool:
    """A field is used only when every input has some values in it (columns both share)."""
    return all(f[column].notna().any() for f in frames)


def _levels(column: str, levels: Sequence[tuple[Any, float, float]]) -> Any:
    """A comparison from (level, prior m, prior u) triples, a null level first. The priors
    are what small inputs are scored with (too few records to estimate anything); larger
    inputs re-estimate them (u by random sampling, m by expectation maximisation)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    configured = [cll.NullLevel(column) if column else None]
    for level, m, u in levels:
        configured.append(level.configure(m_probability=m, u_probability=u))
    return cl.CustomComparison(output_column_name=column or "surname",
                               comparison_levels=[c for c in configured if c is not None])


def comparisons(features: set[str]) -> list[Any]:
    """The comparisons for the fields present; names always."""
    import splink.comparison_level_library as cll

    def custom(sql: str, label: str) -> Any:
        return cll.CustomLevel(sql, label)

    def exact(column: str, tf: bool = False) -> Any:
        level = cll.ExactMatchLevel(column)
        return level.configure(tf_adjustment_column=column, tf_adjustment_weight=0.5) if tf \
            else level

    surname_null = custom("(surname1_l is null and surname2_l is null) or "
                          "(surname1_r is null and surname2_r is null)", "null")
    out: list[Any] = [
        _levels("given", [
            (exact("given", tf=True), 0.80, 0.01),
            # First and second given names swapped or one dropped (José Luis / Luis).
            (custom("given_l = given2_r or given2_l = given_r", "other given name"), 0.03,
             0.001),
            # Given name and surname swapped (a common error of data entry).
            (custom("given_l = surname1_r and surname1_l = given_r", "name parts swapped"),
             0.01, 0.00001),
            (cll.JaroWinklerLevel("given", 0.92), 0.08, 0.005),
            (custom("given_ph_l = given_ph_r", "same Spanish sound"), 0.02, 0.005),
            (cll.JaroWinklerLevel("given", 0.8), 0.03, 0.03),
            (cll.ElseLevel(), 0.03, 0.95),
        ]),
        _levels("", [
            (surname_null.configure(is_null_level=True), 0.0, 0.0),
            (cll.And(cll.ExactMatchLevel("surname1"), cll.ExactMatchLevel("surname2"))
             .configure(label_for_charts="both surnames"), 0.45, 0.0002),
            (exact("surname1", tf=True), 0.35, 0.005),
            # The paternal surname dropped on one side: its maternal one is the other's first.
            (custom("surname1_l = surname2_r or surname2_l = surname1_r",
                    "one surname dropped"), 0.05, 0.0005),
            (cll.JaroWinklerLevel("surname1", 0.92), 0.08, 0.003),
            (custom("surname1_ph_l = surname1_ph_r", "same Spanish sound"), 0.02, 0.003),
            (cll.JaroWinklerLevel("surname1", 0.8), 0.02, 0.03),
            (cll.ElseLevel(), 0.03, 0.96),
        ]),
    ]
    strings = [(cll.ExactMatchLevel, None, 0.87, 0.001),
               (cll.DamerauLevenshteinLevel, 1, 0.08, 0.005),
               (cll.DamerauLevenshteinLevel, 2, 0.03, 0.03),
               (cll.ElseLevel, None, 0.02, 0.964)]

    def edits(column: str) -> Any:
        levels = []
        for kind, arg, m, u in strings:
            level = kind() if kind is cll.ElseLevel else (
                kind(column) if arg is None else kind(column, arg))
            levels.append((level, m, u))
        return _levels(column, levels)

    for column in ("dob", "identifier", "phone"):
        if column in features:
            out.append(edits(column))
    for column in ("street", "locality"):
        if column in features:
            out.append(_levels(column, [
                (exact(column), 0.8, 0.002),
                (cll.JaroWinklerLevel(column, 0.92), 0.1, 0.002),
                (cll.JaroWinklerLevel(column, 0.8), 0.04, 0.02),
                (cll.ElseLevel(), 0.06, 0.976)]))
    if "postcode" in features:
        out.append(_levels("postcode", [
            (exact("postcode"), 0.85, 0.002),
            (cll.DamerauLevenshteinLevel("postcode", 1), 0.08, 0.02),
            (cll.ElseLevel(), 0.07, 0.978)]))
    for column, u in (("street_number", 0.01), ("state", 0.2)):
        if column in features:
            out.append(_levels(column, [(exact(column), 0.9, u), (cll.ElseLevel(), 0.1, 1 - u)]))
    return out


PERSON_OPTIONAL = ("dob", "identifier", "street_number", "street", "locality", "postcode",
                   "state", "phone")


@dataclass(frozen=True)
class Model:
    """What is linked: the comparisons, the blocking rules and the fields they may use.

    ``optional`` fields take part only when every input has values in them; ``always`` are
    derived from the name, which every record has. ``prepare`` runs SQL on the keyed union
    (``__bn_keyed``, one DuckDB table of every input) before the blocking keys are made, for
    keys that depend on all records at once (a token's frequency, say)."""

    name: str
    rules: tuple[BlockingRule, ...]
    always: frozenset[str]
    optional: tuple[str, ...]
    comparisons: Callable[[set[str]], list[Any]]
    em_blocks: Callable[[set[str]], list[str]]  # columns of the EM training sessions
    prepare: Callable[[Any], None] | None = None


def _person_em_blocks(features: set[str]) -> list[str]:
    # Two EM sessions so every comparison's m is estimated (each is blind to the fields it
    # blocks on).
    return ["bk_name", "dob" if "dob" in features else "given"]


PERSON = Model("person", BLOCKING_RULES,
               frozenset({"given", "surname1", "surname2", "given_ph", "surname1_ph",
                          "surname_last"}),
               PERSON_OPTIONAL, lambda f: comparisons(f), _person_em_blocks)


def model_for(kind: str | Model) -> Model:
    """``person`` (the default) or ``company`` (any organisation), or a ``Model``."""
    if isinstance(kind, Model):
        return kind
    if kind == "person":
        return PERSON
    if kind == "company":
        from binational.resolution.companies import COMPANY

        return COMPANY
    raise InvalidInput(f"unknown kind of record {kind!r} (person or company)")


def features_of(frames: Sequence[pd.DataFrame], model: Model = PERSON) -> set[str]:
    return {n for n in model.optional if n in frames[0].columns and _present(frames, n)}


def _rules_for(features: set[str], model: Model = PERSON) -> list[BlockingRule]:
    usable = features | model.always
    return [r for r in model.rules if all(f in usable for f in r.fields)]


def _key_sql(rule: BlockingRule) -> str:
    parts = [f"substr({f}, 1, {rule.prefix[f]})" if f in rule.prefix else f for f in rule.fields]
    present = " and ".join(f"{f} is not null" for f in rule.fields)
    return f"case when {present} then concat_ws('|', {', '.join(parts)}) end as {rule.column}"


def key_tables(con: Any, frames: Sequence[pd.DataFrame], rules: Sequence[BlockingRule],
               max_block: int, prepare: Callable[[Any], None] | None = None
               ) -> tuple[list[str], list[BlockReport]]:
    """Tables ``__bn_input_<i>`` in a DuckDB connection: the inputs with each rule's key
    column, blocks beyond ``max_block`` records (all inputs together) cut; and the pairs each
    rule generates. In DuckDB rather than pandas: a million records take seconds."""
    for i, frame in enumerate(frames):
        con.register(f"__bn_frame_{i}", frame)
    union = " union all ".join(f"select {i} as __src, * from __bn_frame_{i}"
                               for i in range(len(frames)))
    keys = ", ".join(_key_sql(r) for r in rules)
    if prepare is None:
        con.execute(f"create or replace temp table __bn_keyed as select *, {keys} "
                    f"from ({union})")
    else:
        con.execute(f"create or replace temp table __bn_keyed as {union}")
        prepare(con)
        con.execute(f"create or replace temp table __bn_keyed as select *, {keys} "
                    "from __bn_keyed")
    # Every rule's block sizes in one pass (UNPIVOT drops the empty keys), rather than
    # three queries per rule: on small inputs each query's fixed cost is what counts.
    cols = ", ".join(r.column for r in rules)
    con.execute(f"create or replace temp table __bn_counts as select rule, key, "
                f"count(*) as c, count(*) filter (where __src = 0) as c0 from (unpivot "
                f"(select __src, {cols} from __bn_keyed) on {cols} into name rule value key) "
                f"group by rule, key")
    big: dict[str, list[tuple[str, int]]] = {}
    for rule_col, key, c in con.execute(
            "select rule, key, c from __bn_counts where c > ? order by rule, c desc, key",
            [max_block]).fetchall():
        big.setdefault(rule_col, []).append((str(key), int(c)))
    for rule_col in big:
        con.execute(f"update __bn_keyed set {rule_col} = null where {rule_col} in (select key "
                    f"from __bn_counts where rule = ? and c > ?)", [rule_col, max_block])
    pairs_sql = "c * (c - 1) // 2" if len(frames) == 1 else "c0 * (c - c0)"
    counts = dict(con.execute(f"select rule, coalesce(sum({pairs_sql}), 0) from __bn_counts "
                              f"where c <= ? group by rule", [max_block]).fetchall())
    con.execute("drop table __bn_counts")
    reports: list[BlockReport] = []
    for rule in rules:
        cut = big.get(rule.column, [])
        reports.append(BlockReport(rule.name, int(counts.get(rule.column, 0)), len(cut),
                                   int(sum(c for _, c in cut)), cut[:5]))
    names = []
    for i in range(len(frames)):
        name = f"__bn_input_{i}"
        con.execute(f"create or replace temp table {name} as select * exclude (__src) "
                    f"from __bn_keyed where __src = {i}")
        con.unregister(f"__bn_frame_{i}")
        names.append(name)
    con.execute("drop table __bn_keyed")
    return names, reports


def add_blocking_keys(frames: list[pd.DataFrame], rules: Sequence[BlockingRule],
                      max_block: int, model: Model = PERSON
                      ) -> tuple[list[pd.DataFrame], list[BlockReport]]:
    """The inputs as frames with their key columns (see ``key_tables``)."""
    import duckdb

    con = duckdb.connect()
    try:
        names, reports = key_tables(con, frames, rules, max_block, model.prepare)
        return [con.execute(f"select * from {n}").df() for n in names], reports
    finally:
        con.close()


MIN_TRAIN = 1000  # fewer records than this: scored with the priors (too few to estimate)


LinkType = Literal["link_only", "dedupe_only"]


def settings(link_type: LinkType, features: set[str], rules: Sequence[BlockingRule],
             prior: float, evidence: bool = False, model: Model = PERSON) -> Any:
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name=UNIQUE_ID,
        probability_two_random_records_match=prior,
        comparisons=model.comparisons(features),
        blocking_rules_to_generate_predictions=[block_on(r.column) for r in rules],
        # The comparison levels of each pair (the evidence an analyst reviews), on request.
        retain_intermediate_calculation_columns=evidence,
        retain_matching_columns=False,
    )


def link(frames: Sequence[pd.DataFrame], *, backend: Any = "duckdb",
         threshold: float = DEFAULT_THRESHOLD, max_block: int = DEFAULT_MAX_BLOCK,
         max_pairs_u: float = 2e5, train: bool = False,
         evidence: bool = False, kind: str | Model = "person") -> Result:
    """Deduplicate one frame or link two; pairs at or above ``threshold``.

    ``kind``: ``person`` (frames of ``records``' columns) or ``company`` (frames of
    ``companies``' columns).

    ``train``: estimate u by random sampling and m by expectation maximisation from the
    data (needs at least ``MIN_TRAIN`` records); otherwise the priors set in
    ``comparisons`` score the pairs (with term-frequency adjustments from the data). On FEBRL
    the priors do as well as the trained model in a fraction of the time (BENCHMARKS.md)."""
    from splink import Linker, block_on

    if not 1 <= len(frames) <= 2:
        raise InvalidInput("give one table to deduplicate or two to link")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput("threshold is a probability between 0 and 1")
    if max_block < 2:
        raise InvalidInput("max_block must be at least 2 records")
    for i, f in enumerate(frames):
        if f.empty:
            raise InvalidInput(f"input {i + 1} has no records")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    n = sum(len(f) for f in frames)
    model = model_for(kind)
    features = features_of(frames, model)
    rules = _rules_for(features, model)
    api = db_api(backend, threads=1 if n < SMALL else None)
    spark = _is_spark(api)
    import duckdb

    # On DuckDB the keyed inputs are tables of Splink's own connection (no copy, and scans
    # of native tables rather than of Python objects); on Spark they are shipped once.
    con = duckdb.connect() if spark else api._con
    names, reports = key_tables(con, frames, rules, max_block, model.prepare)
    if sum(r.pairs for r in reports) == 0:
        empty = pd.DataFrame(columns=["left_id", "right_id", "match_probability"])
        return Result(empty, reports, sorted(features), {"total": 0.0}, n)
    link_type: LinkType = "dedupe_only" if len(frames) == 1 else "link_only"
    # Each record has about one match: the prior odds that two random records match.
    total_pairs = len(frames[0]) * (len(frames[0]) - 1) / 2 if len(frames) == 1 \
        else len(frames[0]) * len(frames[1])
    prior = min(0.5, max(len(f) for f in frames) / max(total_pairs, 1))
    inputs: list[Any] = list(names)
    if spark:
        inputs = [_to_spark(api, con.execute(f"select * from {n}").df()) for n in names]
        con.close()
        # One Spark session serves every run of the process: the previous run's input views
        # would make Splink refuse to register this run's.
        for alias in (LEFT, RIGHT):
            api.spark.catalog.dropTempView(alias)
    _quiet()
    splink_cache.apply()
    linker = Linker(inputs if len(inputs) == 2 else inputs[0],
                    settings(link_type, features, rules, prior, evidence, model), api,
                    input_table_aliases=[LEFT, RIGHT][: len(inputs)],
                    # The settings are ours, made in code: Splink's check of every column
                    # they name costs a fixed share of each run and only logs.
                    set_up_basic_logging=False, validate_settings=False)
    seconds["setup"] = time.perf_counter() - started
    t0 = time.perf_counter()
    if train and n < MIN_TRAIN:
        raise InvalidInput(f"too few records to train a model ({n:,}; at least {MIN_TRAIN:,})")
    if train:
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_u, seed=1)
        for column in model.em_blocks(features):
            rule = block_on(column)
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, fix_probability_two_random_records_match=True)
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pairs = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    seconds["predict"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    log.debug("prediction columns: %s", list(pairs.columns))
    out = pairs.rename(columns={"unique_id_l": "left_id", "unique_id_r": "right_id"})
    keep = ["left_id", "right_id", "match_probability", "match_weight", "source_dataset_l"]
    if evidence:
        # Each comparison's match weight (log2 of its Bayes factor, term frequency included):
        # positive supports the match, negative speaks against it.
        for col in [c for c in out.columns if c.startswith("bf_") and
                    not c.startswith("bf_tf_adj_")]:
            name = col[3:]
            bf = out[col].astype(float)
            if f"bf_tf_adj_{name}" in out.columns:
                bf = bf * out[f"bf_tf_adj_{name}"].astype(float)
            out[f"weight_{name}"] = np.log2(bf.clip(lower=1e-300)).round(2)
            keep.append(f"weight_{name}")
    out = out[[c for c in keep if c in out.columns]]
    out = out.sort_values("match_probability", ascending=False, kind="stable")
    return Result(out.reset_index(drop=True), reports, sorted(features), seconds, n)


def _is_spark(api: Any) -> bool:
    return type(api).__name__ == "SparkAPI"


def _to_spark(api: Any, frame: pd.DataFrame) -> Any:
    from pyspark.sql.types import ArrayType, StringType, StructField, StructType

    # Strings, and lists of strings (a company name's tokens) where DuckDB made lists.
    lists = {c for c in frame.columns
             if frame[c].map(lambda v: isinstance(v, (list, np.ndarray))).any()}
    schema = StructType([StructField(c, ArrayType(StringType()) if c in lists else StringType(),
                                     True) for c in frame.columns])
    frame = frame.astype(object).where(frame.notna(), None)
    for c in lists:
        frame[c] = frame[c].map(lambda v: None if v is None else [str(x) for x in v])
    return api.spark.createDataFrame(frame.values.tolist(), schema)


def _quiet() -> None:
    # Splink logs every training step at INFO; the CLI prints its own summary.
    logging.getLogger("splink").setLevel(logging.ERROR)
