"""Finance engine without a database: input checks, cycle search, features, rules, model."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.core.errors import InvalidInput
from binational.finance.cycles import temporal_cycles
from binational.finance.features import (
    SMALL_SHARE_OF_MEDIAN,
    Ordered,
    amount_features,
    graph_features,
    pass_through,
    plain_features,
)
from binational.finance.formats import check_transactions, read_amlsim, read_transactions
from binational.finance.generate import synthetic
from binational.finance.graph import DAY, Graph, from_frame
from binational.finance.model import best_threshold, combine, score_graph, train
from binational.finance.rules import config_for, evaluate, scatter_gather

HOUR = 3600


def graph(edges: list[tuple[int, int, float, int]], n: int | None = None,
          cash: list[int] | None = None, location: list[int] | None = None,
          holders: list[int] | None = None) -> Graph:
    """A graph from (src, dst, amount, ts) tuples (sorted by time here)."""
    order = sorted(range(len(edges)), key=lambda i: edges[i][3])
    e = [edges[i] for i in order]
    n = n if n is not None else max([max(a, b) for a, b, _, _ in e] + [0]) + 1
    return Graph(
        accounts=np.array([str(i) for i in range(n)], dtype=np.str_),
        src=np.array([x[0] for x in e], dtype=np.int64),
        dst=np.array([x[1] for x in e], dtype=np.int64),
        amount=np.array([x[2] for x in e], dtype=np.float64),
        ts=np.array([x[3] for x in e], dtype=np.int64),
        cash=np.array([cash[i] for i in order] if cash else [0] * len(e), dtype=np.int8),
        location=np.array([location[i] for i in order] if location else [-1] * len(e),
                          dtype=np.int64),
        holder=np.array(holders if holders else [-1] * n, dtype=np.int64))


# -- input checks ---------------------------------------------------------------------------


def write(folder: Path, nodes: str, txns: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
    (folder / "transactions.csv").write_text(txns, encoding="utf-8")
    return folder


NODES = "nodeid,isFraud,init_balance,fraudStep\n0,0,1,-1\n1,1,1,3\n2,0,1,-1\n"


def test_amlsim_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", NODES + "2,0,1,-1\n3,maybe,1,-1\n",
                   "sourceNodeId,targetNodeId,value,time\n"
                   "0,1,10.5,1\n"      # 2 fine
                   "1,2,abc,1\n"       # 3 not a number
                   "2,0,-4,2\n"        # 4 negative
                   "1,1,5,2\n"         # 5 self-loop
                   "0,9,5,3\n"         # 6 unknown account
                   "2,1,7,1\n"         # 7 out of time order
                   "0,2,8,x\n"         # 8 not a time
                   "1,0,9,3\n")        # 9 fine
    loaded = read_amlsim(folder)
    errors = {(f, line): msg for f, line, msg in loaded.errors}
    assert errors[("nodes.csv", 5)].startswith("duplicate account 2 (first at line 4)")
    assert "isFraud maybe is not 0 or 1" in errors[("nodes.csv", 6)]
    assert "amount abc is not a number" in errors[("transactions.csv", 3)]
    assert "negative amount -4" in errors[("transactions.csv", 4)]
    assert "self-loop" in errors[("transactions.csv", 5)]
    assert "unknown target account 9" in errors[("transactions.csv", 6)]
    assert "out of time order" in errors[("transactions.csv", 7)]
    assert "time x is not a valid time" in errors[("transactions.csv", 8)]
    assert loaded.transactions["line"].to_list() == [2, 9]
    assert loaded.accounts["account"].to_list() == ["0", "1", "2"]
    assert loaded.accounts["is_fraud"].to_list() == [False, True, False]


def test_amlsim_whole_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        read_amlsim(write(tmp_path / "a", "id,label\n1,0\n", "sourceNodeId\n1\n"))
    with pytest.raises(InvalidInput, match="folder"):
        read_amlsim(tmp_path / "nowhere")


def test_transactions_csv_with_mapping(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  txn_id: ref\n  source: from\n  target: to\n"
                       "  timestamp: when\n  source_holder: payer\n", encoding="utf-8")
    data = tmp_path / "t.csv"
    data.write_text("ref,from,to,amount,currency,when,payer,channel\n"
                    "t1,A1,B1,100,MXN,2024-01-02T10:00:00,Juan,transfer\n"
                    "t1,A1,B1,100,MXN,2024-01-02,Juan,transfer\n"
                    "t3,A1,B1,100,XXX,2024-01-02,Juan,transfer\n"
                    "t4,A1,B1,100,USD,yesterday,Juan,transfer\n"
                    "t5,A1,B1,100,USD,2024-01-01,Juan,teleport\n"
                    "t6,B1,A1,50,usd,2024-01-03 09:30:00,,cash-deposit\n", encoding="utf-8")
    loaded = read_transactions(data, {"mapping": str(mapping)})
    errors = {line: msg for _, line, msg in loaded.errors}
    assert "duplicate transaction id t1 (first at line 2)" in errors[3]
    assert "unknown currency XXX" in errors[4]
    assert "time yesterday is not a valid time" in errors[5]
    assert "unknown channel teleport" in errors[6]
    good = loaded.transactions
    assert good["txn_id"].to_list() == ["t1", "t6"]
    assert good["amount_usd"][0] == pytest.approx(5.5)
    assert good["currency"].to_list() == ["MXN", "USD"]
    assert dict(zip(loaded.accounts["account"], loaded.accounts["holder"],
                    strict=True)) == {"A1": "Juan", "B1": None}
    with pytest.raises(InvalidInput, match="unknown field"):
        mapping.write_text("columns:\n  nonsense: x\n", encoding="utf-8")
        read_transactions(data, {"mapping": str(mapping)})


rows = st.lists(st.tuples(
    st.sampled_from(["a", "b", "c", "", "id1"]),
    st.sampled_from(["A", "B", "C", ""]), st.sampled_from(["A", "B", "D"]),
    st.one_of(st.sampled_from(["1", "-1", "x", "", "nan", "inf", "1e3"]),
              st.floats(allow_nan=True).map(str)),
    st.sampled_from(["USD", "MXN", "ABC", "usd"]),
    st.one_of(st.none(), st.integers(-5, 5))), max_size=30)


@given(rows)
@settings(max_examples=60, deadline=None)
def test_no_row_is_dropped_silently(data: list[tuple[str, str, str, str, str, int | None]]
                                    ) -> None:
    """Every input row is either kept or reported (once), and what is kept is clean."""
    frame = pl.DataFrame(
        {"txn_id": [r[0] for r in data], "source": [r[1] for r in data],
         "target": [r[2] for r in data], "amount": [r[3] for r in data],
         "currency": [r[4] for r in data],
         "ts": [None if r[5] is None else r[5] * DAY for r in data],
         "ts_raw": [str(r[5]) for r in data], "channel": [None] * len(data),
         "location": [None] * len(data), "line": list(range(2, len(data) + 2))},
        schema={"txn_id": pl.Utf8, "source": pl.Utf8, "target": pl.Utf8, "amount": pl.Utf8,
                "currency": pl.Utf8, "ts": pl.Int64, "ts_raw": pl.Utf8, "channel": pl.Utf8,
                "location": pl.Utf8, "line": pl.Int64})
    good, errors = check_transactions(frame, "f.csv", None)
    bad_lines = [line for _, line, _ in errors]
    assert len(bad_lines) == len(set(bad_lines))
    assert sorted(good["line"].to_list() + bad_lines) == list(range(2, len(data) + 2))
    assert (good["amount"] >= 0).all() and good["amount"].is_finite().all()
    assert (good["source"] != good["target"]).all()
    assert good["txn_id"].n_unique() == good.height
    assert good["ts"].is_sorted()


# -- cycles ---------------------------------------------------------------------------------


def test_cycles_respect_time_window_and_length() -> None:
    ring = [(0, 1, 10.0, 0), (1, 2, 10.0, HOUR), (2, 0, 10.0, 2 * HOUR)]
    found = temporal_cycles(graph(ring))
    assert found.cycles == 1 and found.per_account.tolist() == [1, 1, 1]
    assert sorted(found.examples[0]) == [0, 1, 2]
    backwards = [(0, 1, 10.0, 2 * HOUR), (1, 2, 10.0, HOUR), (2, 0, 10.0, 3 * HOUR)]
    assert temporal_cycles(graph(backwards)).cycles == 0  # 0->1 comes after 1->2
    slow = [(0, 1, 10.0, 0), (1, 2, 10.0, HOUR), (2, 0, 10.0, 2 * DAY)]
    assert temporal_cycles(graph(slow)).cycles == 0
    assert temporal_cycles(graph(slow), window=3 * DAY).cycles == 1
    long_ring = [(i, (i + 1) % 7, 1.0, i * 60) for i in range(7)]
    assert temporal_cycles(graph(long_ring), max_len=6).cycles == 0
    assert temporal_cycles(graph(long_ring), max_len=7).cycles == 1


def brute_cycles(edges: list[tuple[int, int, float, int]], window: int, max_len: int) -> int:
    """Every (start edge, simple closed walk) with non-decreasing times within the window."""
    count = 0
    by_src: dict[int, list[tuple[int, int, float, int]]] = {}
    for e in edges:
        by_src.setdefault(e[0], []).append(e)

    def walk(start: tuple[int, int, float, int], node: int, t: int, seen: set[int],
             length: int) -> None:
        nonlocal count
        for e in by_src.get(node, []):
            if e[3] < t or e[3] > start[3] + window:
                continue
            if e[1] == start[0]:
                count += 1
            elif e[1] not in seen and length + 1 < max_len:
                walk(start, e[1], e[3], seen | {e[1]}, length + 1)

    for e in edges:
        if e[0] != e[1]:
            walk(e, e[1], e[3], {e[0], e[1]}, 1)
    return count


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.just(1.0),
                          st.integers(0, 10)), max_size=25),
       st.integers(1, 6), st.integers(2, 5))
@settings(max_examples=80, deadline=None)
def test_cycle_search_matches_brute_force(edges: list[tuple[int, int, float, int]],
                                          window: int, max_len: int) -> None:
    g = graph(edges, n=6)
    # brute force on the graph's own (time-sorted) edge order
    sorted_edges = list(zip(g.src.tolist(), g.dst.tolist(), g.amount.tolist(), g.ts.tolist(),
                            strict=True))
    assert temporal_cycles(g, window=window, max_len=max_len).cycles == brute_cycles(
        sorted_edges, window, max_len)


# -- features -------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.floats(0, 100),
                          st.integers(0, 5 * DAY)), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_windowed_counts_match_a_loop(edges: list[tuple[int, int, float, int]]) -> None:
    g = graph(edges, n=5)
    names, x = graph_features(g)
    col = dict(zip(names, x.T, strict=True))
    for acct in range(5):
        times = [t for _, d, _, t in edges if d == acct]
        best = max((sum(1 for u in times if t - DAY < u <= t) for t in times), default=0)
        assert col["in_max_count_1d"][acct] == best
        senders = {s for s, d, _, _ in edges if d == acct}
        assert col["in_counterparties"][acct] == len(senders)
    pnames, px = plain_features(g)
    assert px[:, pnames.index("out_sum")].sum() == pytest.approx(sum(e[2] for e in edges))


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5),
                          st.sampled_from([1.0, 3.5, 120.0, 250.0, 599.0]),
                          st.integers(0, 3 * DAY)), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_small_transfer_features_match_a_loop(edges: list[tuple[int, int, float, int]]
                                               ) -> None:
    g = graph(edges, n=6)
    names, x = amount_features(g)
    col = dict(zip(names, x.T, strict=True))
    cut = SMALL_SHARE_OF_MEDIAN * float(np.median([e[2] for e in edges]))
    small_accounts = {a for s, d, amt, _ in edges if amt < cut for a in (s, d)}
    for acct in range(6):
        for name, mine, other in (("out", 0, 1), ("in", 1, 0)):
            own = [e for e in edges if e[mine] == acct]
            n_small = sum(1 for e in own if e[2] < cut)
            assert col[f"{name}_small_count"][acct] == n_small
            assert col[f"{name}_small_share"][acct] == pytest.approx(
                n_small / len(own) if own else 0.0)
            assert col[f"{name}_small_counterparties"][acct] == len(
                {e[other] for e in own} & small_accounts)
            median = float(np.median([e[2] for e in edges]))
            assert col[f"{name}_min_amount_ratio"][acct] == pytest.approx(
                min(e[2] for e in own) / median if own else 0.0)
    assert "out_small_count" in graph_features(g)[0]


def test_small_transfers_without_edges() -> None:
    names, x = amount_features(graph([], n=3))
    assert x.shape == (3, len(names)) and not x.any()


def test_pass_through_share() -> None:
    g = graph([(0, 1, 100.0, 0), (1, 2, 95.0, DAY), (3, 4, 100.0, 0), (4, 5, 95.0, 3 * DAY)])
    ts = g.ts - g.ts[0]
    span = int(ts[-1]) + 8 * DAY + 1
    inn = Ordered(g.dst, g.src, ts, g.amount, g.n_accounts, span)
    out = Ordered(g.src, g.dst, ts, g.amount, g.n_accounts, span)
    share = pass_through(inn, out, 2 * DAY)
    assert share[1] == pytest.approx(0.95)
    assert share[4] == 0.0  # left after three days


# -- rules ----------------------------------------------------------------------------------


def test_ctr_aggregates_cash_per_person_per_day_and_structuring() -> None:
    # accounts 0 and 1 belong to one person (holder 0); cash deposits to each on one day
    edges = [(9, 0, 6_000.0, 10 * HOUR), (9, 1, 5_000.0, 11 * HOUR),
             (9, 2, 9_500.0, 0), (9, 2, 9_400.0, DAY), (9, 2, 9_900.0, 2 * DAY)]
    g = graph(edges, n=10, cash=[1] * 5, holders=[0, 0, 1] + [-1] * 7)
    result = evaluate(g, config_for("US"))
    assert result.hits["ctr"][[0, 1, 2]].tolist() == [True, True, False]
    assert "$11,000" in result.reasons[0][0].text
    assert result.hits["structuring"][2]
    assert "ctr" not in evaluate(g, config_for("MX", ctr_threshold_usd=10_000)).hits


def test_mexico_usd_cash_limit_and_relevant_operations() -> None:
    g = graph([(9, 0, 2_500.0, 0), (9, 0, 2_000.0, 5 * DAY), (9, 1, 8_000.0, 0)], n=10,
              cash=[1, 1, 1])
    result = evaluate(g, config_for("MX"))
    assert result.hits["mx-usd-cash"][[0, 1]].tolist() == [True, True]
    assert result.hits["mx-relevant-operation"][[0, 1]].tolist() == [False, True]
    assert "límite mensual" in result.reasons[0][0].text_es
    assert "mx-usd-cash" not in evaluate(g, config_for("US")).hits


def test_fan_in_pass_through_funnel_and_scatter_gather() -> None:
    fan = [(i, 20, 100.0, i * HOUR) for i in range(1, 12)]
    out = [(20, 21, 1_050.0, 13 * HOUR)]
    scatter = [(30, m, 500.0, 0) for m in range(31, 36)] + [(m, 40, 490.0, HOUR)
                                                              for m in range(31, 36)]
    g = graph(fan + out + scatter, n=41)
    result = evaluate(g, config_for("US", fan_min=10, scatter_min=4))
    assert result.hits["fan-in"][20] and not result.hits["fan-in"][21]
    assert result.hits["pass-through"][20]
    assert result.hits["funnel"][20]
    assert result.hits["scatter-gather"][[30, 40]].tolist() == [True, True]
    src, dst, mids = scatter_gather(g, 7 * DAY, 4)
    assert (src.tolist(), dst.tolist(), mids.tolist()) == ([30], [40], [5])
    assert result.score[20] > result.score[5]


def test_funnel_by_location() -> None:
    edges = [(9, 0, 100.0, i * HOUR) for i in range(3)] + [(0, 9, 280.0, 5 * HOUR)]
    g = graph(edges, n=10, cash=[1, 1, 1, 2], location=[1, 2, 3, 4])
    assert evaluate(g, config_for("US")).hits["funnel"][0]
    g2 = graph(edges, n=10, cash=[1, 1, 1, 2], location=[1, 2, 3, 3])
    assert not evaluate(g2, config_for("US")).hits["funnel"][0]


def test_unknown_jurisdiction_and_setting() -> None:
    with pytest.raises(InvalidInput, match="jurisdiction"):
        config_for("FR")
    with pytest.raises(InvalidInput, match="setting"):
        config_for("US", nonsense=1)


# -- model ----------------------------------------------------------------------------------


def test_model_learns_planted_patterns() -> None:
    syn = synthetic(1_500, 15_000, patterns=60, seed=3)
    g = syn.graph()
    cfg = config_for("US")
    scored = score_graph(g, cfg)
    ids = [str(i) for i in range(g.n_accounts)]
    trained = train(scored.features, syn.fraud, scored.rules.score, scored.names, ids)
    test = synthetic(1_500, 15_000, patterns=60, seed=4)
    ts = score_graph(test.graph(), cfg)
    p = combine(trained.predict(ts.features), ts.rules.score)
    flagged = p >= trained.combined_threshold
    tp = int((flagged & test.fraud).sum())
    assert tp / max(int(flagged.sum()), 1) > 0.8
    assert tp / int(test.fraud.sum()) > 0.7


def test_best_threshold() -> None:
    y = np.array([True, True, False, False])
    t, f1 = best_threshold(y, np.array([0.9, 0.8, 0.3, 0.1]))
    assert 0.3 < t < 0.8 and f1 == 1.0


def test_from_frame_keeps_account_order() -> None:
    frame = pl.DataFrame({"source": ["b", "c"], "target": ["c", "b"],
                          "amount_usd": [1.0, 2.0], "ts": [5, 1]})
    g = from_frame(frame, ["a", "b", "c"], {"b": "p1", "c": "p1"})
    assert g.accounts.tolist() == ["a", "b", "c"]
    assert g.ts.tolist() == [1, 5] and g.src.tolist() == [2, 1]
    assert g.holder.tolist() == [-1, 0, 0]
    assert list(itertools.chain(g.dst.tolist())) == [1, 2]


def test_amlsim_output_layout_with_cash_at_branches(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "ACCOUNT_ID,PRIMARY_CUSTOMER_ID,isFraud\n0,C_0,false\n1,C_1,true\n", encoding="utf-8")
    (folder / "tx.csv").write_text(
        "TXN_ID,ACCOUNT_ID,COUNTER_PARTY_ACCOUNT_NUM,TXN_SOURCE_TYPE_CODE,tx_count,"
        "TXN_AMOUNT_ORIG,start,end\n2,0,1,WIRE,1,10.5,1,1\n4,1,1,CHECK,1,3,2,2\n",
        encoding="utf-8")
    (folder / "cash_tx.csv").write_text(
        "TXN_ID,ACCOUNT_ID,BRANCH_ID,TXN_SOURCE_TYPE_CODE,tx_count,TXN_AMOUNT_ORIG,RUN_DATE,"
        "end\n1,0,11,CASH-IN,1,99.87,1,1\n3,1,12,CASH-OUT,1,44,2,2\n2,1,12,CASH-OUT,1,1,3,3\n",
        encoding="utf-8")
    loaded = read_amlsim(folder)
    assert {(f, line) for f, line, _ in loaded.errors} == {("tx.csv", 3), ("cash_tx.csv", 4)}
    tx = loaded.transactions.sort("txn_id")
    assert tx.select("txn_id", "source", "target", "channel", "location").rows() == [
        ("1", "cash-branch-11", "0", "cash-deposit", "11"),
        ("2", "0", "1", "wire", None),
        ("3", "1", "cash-branch-12", "cash-withdrawal", "12")]
    assert loaded.accounts["account"].to_list() == ["0", "1", "cash-branch-11",
                                                    "cash-branch-12"]
    assert loaded.accounts["holder"].to_list()[:2] == ["C_0", "C_1"]


def test_bench_quality_scores_the_same_test_accounts_under_both_protocols(tmp_path: Path
                                                                         ) -> None:
    from binational.finance.bench import quality

    syn = synthetic(1_500, 15_000, patterns=40, seed=5)
    syn.write_amlsim(tmp_path / "sample")
    q = quality(tmp_path / "sample")
    # the halves are disjoint, and both protocols judge the same labelled test accounts
    assert q["train_accounts"] + q["test_accounts"] <= q["accounts"]
    for res in (q, q["test_window_only"]):
        for method in ("rules", "model", "both", "baseline_plain_lgbm"):
            assert res[method]["positives"] == q["test_positives"]
            assert 0.0 <= res[method]["f1"] <= 1.0
    # ordinary amounts are log-normal, so some accounts on each side make small transfers
    assert 0 < q["test_positives_with_small_transfers"] <= q["test_positives"]
    assert 0 < q["test_negatives_with_small_transfers"] <= (q["test_accounts"]
                                                           - q["test_positives"])
