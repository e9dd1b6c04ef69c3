"""Attribute matching: the vectorised scores equal their explanations; codes are checked."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.core.errors import InvalidInput
from binational.identification.codes import EXCLUSIVE, MARKS, check_codes, label
from binational.identification.matching import (
    AGE_TOLERANCE,
    STATURE_TOLERANCE,
    Description,
    _Columns,
    _Target,
    explain,
    rank,
    score_block,
)

ALL_CODES = [f"{c}:{v}" for c, vals in {**EXCLUSIVE, **MARKS}.items() for v in vals]


def excluded(r: Description, m: Description) -> bool:
    """The hard exclusions, written out plainly."""
    if r.sex in "MF" and m.sex in "MF" and r.sex != m.sex:
        return True
    if r.on and m.on and r.on < m.on:
        return True
    if m.age_min is not None and r.age_min is not None and r.age_max is not None:
        age = m.age_min + ((r.on - m.on).days / 365.25 if r.on and m.on else 0)
        if max(r.age_min - age, age - r.age_max) > AGE_TOLERANCE:
            return True
    if m.stature_min is not None and r.stature_min is not None and r.stature_max is not None:
        s = m.stature_min
        if max(r.stature_min - s, s - r.stature_max) > STATURE_TOLERANCE:
            return True
    return False


def one_code_per_category(codes: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    out = []
    for c in codes:
        cat = c.partition(":")[0]
        if cat in EXCLUSIVE:
            if cat in seen:
                continue
            seen[cat] = c
        out.append(c)
    return sorted(set(out))


maybe_date = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2025, 1, 1)))


@st.composite
def remains(draw: st.DrawFn) -> Description:
    age = draw(st.one_of(st.none(), st.integers(0, 90)))
    stature = draw(st.one_of(st.none(), st.integers(140, 195)))
    return Description(
        "R", draw(st.sampled_from("MFU")), age, None if age is None else age + draw(
            st.integers(0, 15)), stature, None if stature is None else stature + 10,
        draw(maybe_date), draw(st.sampled_from([None, "MX-JAL", "US-AZ"])),
        one_code_per_category(draw(st.lists(st.sampled_from(ALL_CODES), max_size=5))))


@st.composite
def reports(draw: st.DrawFn) -> Description:
    age = draw(st.one_of(st.none(), st.integers(0, 90)))
    stature = draw(st.one_of(st.none(), st.integers(140, 200)))
    return Description(
        "M", draw(st.sampled_from("MFU")), age, age, stature, stature, draw(maybe_date),
        draw(st.sampled_from([None, "MX-JAL", "US-AZ", "MX-SON"])),
        one_code_per_category(draw(st.lists(st.sampled_from(ALL_CODES), max_size=5))))


@settings(max_examples=150, deadline=None)
@given(remains(), reports())
def test_vectorised_score_equals_its_explanation(r: Description, m: Description) -> None:
    rem, tgt = _Columns([r]), _Target(_Columns([m]))
    score = float(score_block(rem, tgt, slice(0, 1))[0, 0])
    if excluded(r, m):
        assert score == -math.inf
    else:
        points = sum(x["points"] for x in explain(r, m))
        assert score == pytest.approx(points, abs=2e-3)


def test_planted_match_ranks_first_and_excluded_never_appear() -> None:
    gone = date(2018, 5, 1)
    target = Description("M-1", "F", 30, 30, 158, 158, gone, "MX-JAL",
                         ["hair:black", "tattoo:forearm-left", "dental:gold-crown-upper"])
    decoys = [Description(f"M-{i}", "F", 30 + i, 30 + i, 160, 160, gone, "MX-SON",
                          ["hair:black"]) for i in range(2, 8)]
    male = Description("M-9", "M", 30, 30, 158, 158, gone, "MX-JAL", target.codes)
    later = Description("M-10", "F", 30, 30, 158, 158, gone + timedelta(days=3000), "MX-JAL",
                        target.codes)
    rem = Description("R-1", "F", 30, 40, 153, 163, gone + timedelta(days=900), "MX-JAL",
                      ["tattoo:forearm-left", "dental:gold-crown-upper", "hair:black"])
    out = rank([rem], [*decoys, target, male, later], top=5)["R-1"]
    assert out[0].id == "M-1"
    assert {c.id for c in out}.isdisjoint({"M-9", "M-10"})
    reasons = {x["reason"] for x in out[0].reasons}
    assert {"tattoo:forearm-left", "dental:gold-crown-upper", "age", "stature"} <= reasons


def test_codes_are_controlled() -> None:
    assert check_codes([" Hair:Black ", "tattoo:chest", "tattoo:chest"]) == [
        "hair:black", "tattoo:chest"]
    with pytest.raises(InvalidInput, match="unknown code category"):
        check_codes(["shoe:red"])
    with pytest.raises(InvalidInput, match="two values for hair"):
        check_codes(["hair:black", "hair:red"])
    with pytest.raises(InvalidInput, match="category:value"):
        check_codes(["tattoo"])
    assert label("scar:hand-left") == {"en": "scar: left hand", "es": "cicatriz: mano izquierda"}
