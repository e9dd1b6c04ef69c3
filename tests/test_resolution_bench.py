"""The resolution benchmark's parts: the seeded generator, truth and scoring, and one FEBRL
row next to recordlinkage (on the FEBRL1 fixture)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from binational.resolution.bench import bench_febrl, febrl_truth, quality
from binational.resolution.generate import generate, to_raw
from binational.resolution.records import standardise

FIXTURES = Path(__file__).parent / "fixtures" / "resolution"


def test_the_generator_is_seeded_and_its_duplicates_are_known() -> None:
    a, b = generate(2000, seed=7), generate(2000, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not generate(2000, seed=8).equals(a)
    assert len(a) == 2000 and a["id"].is_unique
    copies = a[~a["id"].str.endswith("-0")]
    assert len(copies) == 400  # a fifth are corrupted copies
    originals = a.set_index("entity")
    # A copy differs from its original somewhere (or is at least a second record of it).
    assert (copies["entity"].isin(originals.index)).all()
    frame = standardise(to_raw(a))
    assert frame["given"].notna().all() and frame["surname1"].notna().all()
    assert set(frame["given"]) <= {w.lower() for w in set(frame["given"])}  # folded


def test_truth_and_quality() -> None:
    assert febrl_truth([["rec-1-org", "rec-1-dup-0", "rec-1-dup-1", "rec-2-org"]]) == {
        ("rec-1-dup-0", "rec-1-org"), ("rec-1-dup-1", "rec-1-org"),
        ("rec-1-dup-0", "rec-1-dup-1")}
    assert febrl_truth([["rec-1-org", "rec-2-org"], ["rec-2-dup-0", "rec-3-dup-0"]]) == {
        ("rec-2-org", "rec-2-dup-0")}
    q = quality({("a", "b"), ("c", "d")}, {("a", "b"), ("e", "f"), ("g", "h")})
    assert (q["precision"], q["recall"], q["f1"]) == (0.5, 0.3333, 0.4)


def test_a_febrl_row_with_recordlinkage(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "dataset1.csv").write_bytes((FIXTURES / "febrl1.csv").read_bytes())
    row = bench_febrl(folder, "febrl1", peers=True, train=False)
    ours, rule = row["binational"], row["recordlinkage-rule"]
    assert ours["true_pairs"] == rule["true_pairs"] == 500
    assert ours["f1"] > rule["f1"]
    assert row["blocking"]["recall"] >= ours["recall"]
    assert set(row["blocking"]["per_rule"]) >= {"name", "surname_dob", "given_dob"}
    assert row["speedup_vs_recordlinkage"] > 0


def test_company_bench_truth_aliases_and_scoring() -> None:
    from followthemoney import model

    from binational.resolution import companies
    from binational.resolution.bench_companies import alias_rows, exact_baseline, score

    def company(eid: str, name: str, *aliases: str) -> object:
        proxy = model.make_entity("Company")
        proxy.id = eid
        proxy.add("name", name)
        for alias in aliases:
            proxy.add("alias", alias)
        return proxy

    old = {"ofac-1": company("ofac-1", "Banco Nacional de Cuba", "National Bank of Cuba",
                             "BANCO NACIONAL DE CUBA, S.A."),
           "ofac-2": company("ofac-2", "Cimex S.A.", "Cimex")}
    rows = alias_rows(old)
    # An alias whose words are the primary name's (legal form aside) is not a variant.
    assert [r["name"] for r in rows] == ["National Bank of Cuba"]
    assert rows[0]["unique_id"].startswith("ofac-1#")
    left = companies.from_rows([{"unique_id": "ofac-1", "name": "Banco Nacional de Cuba"},
                                {"unique_id": "ofac-3", "name": "National Bank of Cuba"}])
    right = companies.from_rows(rows)
    assert exact_baseline(left, right) == {("ofac-3", rows[0]["unique_id"])}
    q = score(exact_baseline(left, right), left, right)
    # The only equal name is another entry's: a false pair, counted as one of equal names.
    assert (q["precision"], q["recall"], q["true_pairs"]) == (0.0, 0.0, 1)
    assert q["false_pairs_same_name"] == 1
    assert q["true_pairs_sharing_a_word"] == 1  # "cuba"
