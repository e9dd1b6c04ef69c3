"""The score bound that lets a screening skip candidates: it must never be below the score.

Names are drawn from a small alphabet so that words are often alike (every branch of the
token similarity fires: equal words, equal phonetic keys, Jaro-Winkler, one edit, initials,
digits), and entities carry the other features (aliases, weak aliases, nicknames, dates,
countries, identifiers)."""

from __future__ import annotations

import numpy as np
import pytest
from followthemoney import model
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.screening import Query, service
from binational.screening.bounds import pair_bounds, score_bounds
from binational.screening.matching import CandidateView, QueryView, explain_views
from binational.screening.names import (
    TokenTable,
    align,
    align_bound,
    analyze,
    min_costs,
    similarity,
    similarity_matrix,
)

WORD = st.one_of(
    st.text(alphabet="aeiobcdgjlmnrsvxyzh", min_size=2, max_size=9),
    st.sampled_from(["j", "m", "1", "12", "de", "la", "sa", "cv", "ltd", "company", "garcia",
                     "garsia", "lopez", "lopes", "oseguera", "ozeguera", "ximena", "jimena"]),
)
NAME = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
COMMA_NAME = st.tuples(NAME, NAME).map(lambda p: f"{p[0]}, {p[1]}")
ANY_NAME = st.one_of(NAME, COMMA_NAME)


@given(st.lists(WORD, min_size=1, max_size=6), st.lists(WORD, min_size=1, max_size=8))
def test_similarity_matrix_is_the_token_similarity(left: list[str], right: list[str]) -> None:
    q = [t for w in left for t in analyze(w).tokens]
    words = [(t.text, t.phonetic) for w in right for t in analyze(w).tokens]
    matrix = similarity_matrix(q, words)
    assert matrix.shape == (len(q), len(words))
    for i, a in enumerate(q):
        for j, (text, phonetic) in enumerate(words):
            assert matrix[i, j] == pytest.approx(similarity(a.text, a.phonetic, text, phonetic),
                                                 abs=1e-12)


@settings(max_examples=300)
@given(ANY_NAME, ANY_NAME, st.booleans())
def test_alignment_never_beats_its_bound(a: str, b: str, person: bool) -> None:
    q, c = analyze(a, person), analyze(b, person)
    bound = align_bound(q, c, TokenTable())
    assert align(q, c).similarity <= bound + 1e-4  # (the similarity is rounded to 4 places)


@settings(max_examples=200, deadline=None)  # the first call loads the compiled bound
@given(ANY_NAME, st.lists(ANY_NAME, min_size=1, max_size=4), st.booleans())
def test_compiled_bound_is_the_reference_bound(a: str, names: list[str], person: bool) -> None:
    q = analyze(a, person)
    cands = [analyze(n, person) for n in names]
    words = sorted({(t.text, t.phonetic) for c in cands for t in c.tokens})
    index = {w: i for i, w in enumerate(words)}
    flat = np.asarray([index[(t.text, t.phonetic)] for c in cands for t in c.tokens],
                      dtype=np.int64)
    costs = np.asarray([x for c in cands for x in min_costs(c.tokens, person)])
    starts = np.cumsum([0, *(len(c.tokens) for c in cands)]).astype(np.int64)
    got = pair_bounds(similarity_matrix(q.tokens, words),
                      np.asarray(min_costs(q.tokens, person), dtype=np.float64),
                      flat, costs, starts)
    want = [align_bound(q, c, TokenTable()) for c in cands]
    assert got.tolist() == pytest.approx(want, abs=1e-9)


def entity(schema: str, name: str, aliases: list[str], weak: list[str], dob: str | None,
           country: str | None, ident: str | None) -> object:
    proxy = model.make_entity(schema)
    proxy.id = "x"
    proxy.add("name", name)
    proxy.add("alias", aliases)
    proxy.add("weakAlias", weak)
    if schema == "Person" and dob:
        proxy.add("birthDate", dob)
    if country:
        proxy.add("country", country)
    if ident:
        proxy.add("idNumber" if schema == "Person" else "registrationNumber", ident)
    return proxy


SCHEMA = st.sampled_from(["Person", "Company", "LegalEntity"])
DOB = st.one_of(st.none(), st.sampled_from(["1966-07-17", "1966", "1970-01-02"]))
COUNTRY = st.one_of(st.none(), st.sampled_from(["mx", "us"]))
IDENT = st.one_of(st.none(), st.sampled_from(["OECA580820HMNSRN04", "AB12345"]))


@settings(max_examples=300, deadline=None)
@given(SCHEMA, ANY_NAME, st.lists(ANY_NAME, max_size=2), st.one_of(st.none(), NAME), DOB,
       COUNTRY, IDENT,
       SCHEMA, ANY_NAME, st.lists(ANY_NAME, max_size=3), st.lists(NAME, max_size=2), DOB,
       COUNTRY, IDENT)
def test_score_never_beats_its_bound(
        q_schema: str, q_name: str, q_aliases: list[str], nickname: str | None,
        q_dob: str | None, q_country: str | None, q_ident: str | None,
        c_schema: str, c_name: str, c_aliases: list[str], c_weak: list[str],
        c_dob: str | None, c_country: str | None, c_ident: str | None) -> None:
    name = f'{q_name} "{nickname}"' if nickname else q_name
    query = Query(name=name, schema=q_schema, aliases=tuple(q_aliases),
                  birth_date=q_dob, countries=(q_country,) if q_country else (),
                  identifiers=(q_ident,) if q_ident else ())
    candidate = entity(c_schema, c_name, c_aliases, c_weak, c_dob, c_country, c_ident)
    schema = model.get(c_schema)
    assert schema is not None
    qv = service.query_view(query, schema)
    cv = CandidateView.make(candidate, qv.person)  # type: ignore[arg-type]
    assert isinstance(qv, QueryView)
    scored = explain_views(qv, cv)
    assert scored.score <= score_bounds(qv, [cv])[0]
