"""Scoring a screening query against a candidate entity: a hand-weighted linear model.

``score(query, candidate)`` adds up ``weight * value`` of the features that fired and clips
the sum to [0, 1]. The weights are in ``WEIGHTS``, chosen by hand and checked against OFAC
data (see ``DEFAULT_THRESHOLD``); every feature that fired is returned with its weight, value
and a line of detail, so a score explains itself:

=====================  =======  ==============================================================
feature                weight   fires when
=====================  =======  ==============================================================
name_match             +0.85    always: best token alignment of a query name with a candidate
                                name (value = alignment similarity, ``names.align``)
alias_match            +0.85    instead of name_match, when the best name was an alias, or the
                                query equals a weak alias / abbreviation ("El Mencho")
name_exact             +0.10    the best names are the same words (folded, any order)
identifier_match       +0.60    a query identifier equals a candidate's (normalised)
identifier_mismatch    -0.50    both sides have valid CURPs and none is shared
dob_match              +0.10    birth dates agree (1.0 same day; 0.5 same year/month only)
dob_mismatch           -0.25    both sides have birth dates and none agree
country_match          +0.05    a query country is among the candidate's
country_mismatch       -0.10    both sides name countries and none is shared
gender_mismatch        -0.15    both sides have a gender and they differ
schema_mismatch        -1.00    the query's kind of entity cannot be the candidate's
                                (a Company query and a Person candidate)
=====================  =======  ==============================================================
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from followthemoney import StatementEntity, model, registry
from followthemoney.schema import Schema
from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc

from binational.core.access import Disclosed
from binational.core.errors import InvalidInput
from binational.screening.names import (
    AnalyzedName,
    TokenTable,
    Words,
    align,
    analyze,
    analyze_parts,
    min_costs,
    same_tokens,
    with_joined,
)

MAX_NAME = 300
MAX_VALUES = 20
MAX_IDENTIFIER = 64
# Chosen from data (OFAC SDN 2021-07-07, primary names indexed; 3,020 queries built by
# ``binational.screening.bench.build_queries``: OFAC aliases, Hispanic variants of listed
# people, and FEBRL / common Mexican / recombined-listed / company names as negatives). Top-1
# F1 by threshold: 0.60 → 0.847 (precision 0.947), 0.65 → 0.840 (0.966), 0.70 → 0.836
# (0.985, recall 0.726), 0.75 → 0.778. At 0.70 every kind of Hispanic variant is found at
# 98.5-100% and at most 1.3% of any kind of negative passes; what 0.60 would add is mostly
# OFAC's transliterated aliases, at three times the false positives. Same value as yente's.
DEFAULT_THRESHOLD = 0.7

WEIGHTS: dict[str, float] = {
    "name_match": 0.85,
    "alias_match": 0.85,
    "name_exact": 0.10,
    "identifier_match": 0.60,
    "identifier_mismatch": -0.50,
    "dob_match": 0.10,
    "dob_mismatch": -0.25,
    "country_match": 0.05,
    "country_mismatch": -0.10,
    "gender_mismatch": -0.15,
    "schema_mismatch": -1.00,
}

FULL_NAME_PROPS = ("name", "alias", "previousName")
WEAK_NAME_PROPS = ("weakAlias", "abbreviation")
GIVEN_PROPS = ("firstName", "secondName", "middleName")
SURNAME_PROPS = ("fatherName", "motherName", "lastName")
COUNTRY_PROPS = ("nationality", "citizenship", "country", "jurisdiction")
# Identifier properties that do not identify the entity itself.
NOT_IDENTITY = frozenset({"programId"})
ID_CHARS = re.compile(r"[^0-9A-Z]")
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _bad_text(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text)


def _clean_name(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    text = " ".join(value.split())
    if not text:
        raise InvalidInput(f"{what} is empty: a screening query needs a name")
    if len(text) > MAX_NAME:
        raise InvalidInput(f"{what} has {len(text)} characters; at most {MAX_NAME} are allowed")
    if _bad_text(value.replace("\t", " ").replace("\n", " ").replace("\r", " ")) \
            or "\x00" in value:
        raise InvalidInput(f"{what} contains control characters")
    if not any(ch.isalnum() for ch in text):
        raise InvalidInput(f"{what} {text[:40]!r} has no letters or digits")
    return text


def normalize_identifier(value: str) -> str:
    """Upper-case letters and digits only: ``oeca-580820-hmnsrn04`` → ``OECA580820HMNSRN04``."""
    return ID_CHARS.sub("", value.upper())


def identifier_kind(value: str) -> str | None:
    """``CURP`` or ``RFC`` when the (normalised) value is a valid one, else None."""
    if mx_curp.is_valid(value):
        return "CURP"
    if mx_rfc.is_valid(value):
        return "RFC"
    return None


@dataclass(frozen=True)
class Query:
    """What is screened: a name and what else is known. Validated on construction."""

    name: str
    schema: str = "LegalEntity"
    birth_date: str | None = None
    countries: tuple[str, ...] = ()
    gender: str | None = None
    identifiers: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        schema = model.get(self.schema) if isinstance(self.schema, str) else None
        if schema is None or not schema.matchable:
            raise InvalidInput(f"unknown or unmatchable schema {self.schema!r} (use Person, "
                               "Company, Organization, LegalEntity, Vessel or Airplane)")
        object.__setattr__(self, "schema", schema.name)
        object.__setattr__(self, "name", _clean_name(self.name, "name"))
        aliases = tuple(self.aliases)
        if len(aliases) > MAX_VALUES:
            raise InvalidInput(f"at most {MAX_VALUES} aliases per query")
        object.__setattr__(self, "aliases",
                           tuple(_clean_name(a, "alias") for a in aliases))
        if self.birth_date is not None:
            raw = str(self.birth_date).strip()
            cleaned = registry.date.clean(raw[:10]) if raw else None
            if cleaned is None or not DATE.match(cleaned[:10]):
                raise InvalidInput(f"birth date {raw[:40]!r} is not a date: use YYYY, "
                                   "YYYY-MM or YYYY-MM-DD")
            object.__setattr__(self, "birth_date", cleaned[:10])
        countries: list[str] = []
        for value in tuple(self.countries)[:MAX_VALUES]:
            code = registry.country.clean(str(value))
            if code is None:
                raise InvalidInput(f"unknown country {str(value)[:40]!r}: use ISO codes "
                                   "such as mx or us")
            if code not in countries:
                countries.append(code)
        object.__setattr__(self, "countries", tuple(countries))
        if self.gender is not None:
            gender = registry.gender.clean(str(self.gender))
            if gender is None:
                raise InvalidInput(f"unknown gender {str(self.gender)[:20]!r}: use male, "
                                   "female or other")
            object.__setattr__(self, "gender", gender)
        identifiers: list[str] = []
        if len(tuple(self.identifiers)) > MAX_VALUES:
            raise InvalidInput(f"at most {MAX_VALUES} identifiers per query")
        for value in self.identifiers:
            if not isinstance(value, str) or _bad_text(value) or len(value) > MAX_IDENTIFIER:
                raise InvalidInput(f"identifiers are text of at most {MAX_IDENTIFIER} "
                                   "characters without control characters")
            norm = normalize_identifier(value)
            if norm and norm not in identifiers:
                identifiers.append(norm)
        object.__setattr__(self, "identifiers", tuple(identifiers))

    @classmethod
    def from_properties(cls, schema: str, properties: Mapping[str, Any]) -> Query:
        """A query from yente's request shape (``{"schema": ..., "properties": {...}}``):
        ``name`` (the first is the name, the others aliases; built from firstName/lastName
        etc. when absent), ``alias``/``weakAlias``, ``birthDate``, ``nationality``/``country``,
        ``gender`` and any identifier property (``idNumber``, ``taxNumber``, ...)."""
        obj = model.get(schema) if isinstance(schema, str) else None
        if obj is None:
            raise InvalidInput(f"unknown schema {schema!r}")
        if not isinstance(properties, Mapping):
            raise InvalidInput("properties must be an object of property names to lists")

        def values(prop: str) -> list[str]:
            raw = properties.get(prop)
            if raw is None:
                return []
            items = [raw] if isinstance(raw, str) else list(raw)
            return [str(v) for v in items if v is not None and str(v).strip()]

        unknown = [p for p in properties if p not in obj.properties]
        if unknown:
            raise InvalidInput(f"{obj.name} has no propert{'y' if len(unknown) == 1 else 'ies'} "
                               f"{', '.join(sorted(unknown)[:5])}")
        names = values("name")
        if not names:
            parts = [v for p in (*GIVEN_PROPS, *SURNAME_PROPS) for v in values(p)]
            names = [" ".join(parts)] if parts else []
        if not names:
            raise InvalidInput("a screening query needs a name (or firstName and lastName)")
        aliases = [*names[1:], *values("alias"), *values("weakAlias"), *values("previousName")]
        identifiers = [v for p, prop in obj.properties.items()
                       if prop.type == registry.identifier and p not in NOT_IDENTITY
                       for v in values(p)]
        countries = [v for p in COUNTRY_PROPS for v in values(p)]
        dates = values("birthDate")
        genders = values("gender")
        return cls(name=names[0], schema=obj.name, birth_date=dates[0] if dates else None,
                   countries=tuple(countries), gender=genders[0] if genders else None,
                   identifiers=tuple(identifiers), aliases=tuple(aliases))

    def summary(self) -> dict[str, Any]:
        """What the audit trail keeps of a query: no dates of birth or identifiers, only
        whether they were given."""
        return {"name": self.name, "schema": self.schema,
                "birth_date_given": self.birth_date is not None,
                "identifiers_given": bool(self.identifiers)}


@dataclass(frozen=True)
class Feature:
    """One piece of evidence: it adds ``weight * value`` to the score."""

    name: str
    weight: float
    value: float
    detail: str

    @property
    def contribution(self) -> float:
        return self.weight * self.value


@dataclass
class Match:
    """A scored candidate. ``match`` says whether the score reached the threshold."""

    entity: StatementEntity
    score: float
    match: bool
    features: list[Feature]
    sanctions: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, Any] = field(default_factory=dict)
    # The Sanction records behind ``sanctions`` (audited as disclosed with the match).
    sanction_entities: list[Disclosed] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return str(self.entity.id)

    @property
    def caption(self) -> str:
        return str(self.entity.caption)

    @property
    def datasets(self) -> list[str]:
        return sorted(self.entity.datasets)

    def explanation(self) -> dict[str, Any]:
        return {
            "id": self.id, "caption": self.caption, "schema": self.entity.schema.name,
            "datasets": self.datasets, "score": self.score, "match": self.match,
            "features": [{**asdict(f), "contribution": round(f.contribution, 4)}
                         for f in self.features],
            "names": self.names,
            "designations": self.sanctions,
        }


@dataclass(frozen=True)
class Scored:
    score: float
    features: list[Feature]
    names: dict[str, Any]


class Candidate(Protocol):
    """What scoring reads of a candidate: an ``EntityProxy``, or a list's in-memory profile
    (``screening.compiled.Profile``)."""

    @property
    def schema(self) -> Schema: ...

    def get(self, prop: str, quiet: bool = False) -> list[str]: ...


@cache
def identifier_props(schema: Schema) -> tuple[str, ...]:
    """The identifier properties of a schema that identify the entity itself."""
    return tuple(name for name, prop in schema.properties.items()
                 if prop.type == registry.identifier and name not in NOT_IDENTITY)


def _values(entity: Candidate, props: Iterable[str]) -> list[str]:
    out: list[str] = []
    for prop in props:
        if prop in entity.schema.properties:
            out.extend(entity.get(prop, quiet=True))
    return out


def _candidate_names(entity: Candidate, person: bool
                     ) -> tuple[list[tuple[str, AnalyzedName]], list[AnalyzedName]]:
    """Full names (fuzzy-matched, with the property they came from) and weak names
    (matched only when equal)."""
    full: list[tuple[str, AnalyzedName]] = []
    for prop in FULL_NAME_PROPS:
        for value in _values(entity, [prop]):
            full.append((prop, analyze(value, person)))
    if person:
        given = _values(entity, GIVEN_PROPS)
        surnames = _values(entity, SURNAME_PROPS)
        if given and surnames:
            full.append(("name", analyze_parts(tuple(given), tuple(surnames))))
    weak = [analyze(v, person) for v in _values(entity, WEAK_NAME_PROPS)]
    full = [(p, n) for p, name in full for n in with_joined([name])]
    return [(p, n) for p, n in full if not n.empty], [n for n in weak if not n.empty]


def _dates_agree(a: str, b: str) -> float:
    """1.0 same day, 0.5 agreeing at the coarser precision (1966 vs 1966-07-17), else 0."""
    n = min(len(a), len(b))
    if a[:n] != b[:n]:
        return 0.0
    return 1.0 if len(a) >= 10 and len(b) >= 10 else 0.5


def _is_person(q_schema: Schema, c_schema: Schema) -> bool:
    person = c_schema.is_a("Person") or q_schema.is_a("Person")
    return person and not (c_schema.is_a("Organization") or q_schema.is_a("Organization"))


def word_key(name: AnalyzedName) -> tuple[str, ...]:
    """What ``same_tokens`` compares: the sorted words."""
    return tuple(sorted(name.texts))


@dataclass(frozen=True)
class QueryView:
    """What scoring reads of a query, worked out once per query (and per reading of its
    names as a person's or not), not once per candidate."""

    query: Query
    schema: Schema
    person: bool
    full: tuple[AnalyzedName, ...]
    nicknames: tuple[AnalyzedName, ...]
    birth_date: str | None
    date_source: str
    gender: str | None
    curps: frozenset[str]
    # For the score bound: the most the features other than the name can add.
    extra: float

    @classmethod
    def make(cls, query: Query, person: bool) -> QueryView:
        schema = model.get(query.schema)
        assert schema is not None
        full = with_joined([analyze(query.name, person),
                            *(analyze(a, person) for a in query.aliases)])
        nicknames = [analyze(n, person) for q in (query.name, *query.aliases)
                     for n in analyze(q, person).nicknames]
        q_date, source, q_gender = query.birth_date, "query", query.gender
        curps = frozenset(i for i in query.identifiers if identifier_kind(i) == "CURP")
        if q_date is None or q_gender is None:
            for ident in query.identifiers:
                if ident in curps:
                    if q_date is None:
                        q_date, source = mx_curp.get_birth_date(ident).isoformat(), "CURP"
                    if q_gender is None:
                        q_gender = {"M": "female", "H": "male"}.get(ident[10])
                    break
        extra = (WEIGHTS["identifier_match"] if query.identifiers else 0.0) \
            + (WEIGHTS["dob_match"] if q_date else 0.0) \
            + (WEIGHTS["country_match"] if query.countries else 0.0)
        return cls(query, schema, person, tuple(n for n in full if not n.empty),
                   tuple(n for n in nicknames if not n.empty), q_date, source, q_gender,
                   curps, extra)


@dataclass(frozen=True)
class CandidateView:
    """What scoring reads of a candidate, worked out once per candidate (a list's in-memory
    profiles keep theirs: see ``screening.compiled.Profile``)."""

    schema: Schema
    full: tuple[tuple[str, AnalyzedName], ...]
    weak: tuple[AnalyzedName, ...]
    identifiers: dict[str, str]  # normalised value -> property
    dates: tuple[str, ...]
    countries: frozenset[str]
    genders: frozenset[str]
    # For the score bound: the word keys a nickname or a weak alias can equal, and the full
    # names as arrays (``bounds.pair_bounds``): the distinct words, then for each word of each
    # name its index in ``words`` and the least it costs unmatched, names split at ``starts``.
    alias_keys: frozenset[tuple[str, ...]]
    weak_keys: frozenset[tuple[str, ...]]
    words: Words
    flat: npt.NDArray[np.int64]
    costs: npt.NDArray[np.float64]
    starts: npt.NDArray[np.int64]

    @classmethod
    def make(cls, candidate: Candidate, person: bool) -> CandidateView:
        full, weak = _candidate_names(candidate, person)
        ids: dict[str, str] = {}
        for prop in identifier_props(candidate.schema):
            for value in candidate.get(prop, quiet=True):
                norm = normalize_identifier(value)
                if len(norm) >= 4:
                    ids.setdefault(norm, prop)
        dates = tuple(d[:10] for d in _values(candidate, ["birthDate"]) if DATE.match(d[:10]))
        local: dict[tuple[str, str], int] = {}
        flat: list[int] = []
        costs: list[float] = []
        starts = [0]
        for _, name in full:
            for tok in name.tokens:
                flat.append(local.setdefault((tok.text, tok.phonetic), len(local)))
            costs.extend(min_costs(name.tokens, person))
            starts.append(len(flat))
        return cls(candidate.schema, tuple(full), tuple(weak), ids, dates,
                   frozenset(_values(candidate, COUNTRY_PROPS)),
                   frozenset(_values(candidate, ["gender"])),
                   frozenset(word_key(n) for p, n in full if p != "name"),
                   frozenset(word_key(n) for n in weak),
                   Words.of(list(local)), np.asarray(flat, dtype=np.int64),
                   np.asarray(costs, dtype=np.float64), np.asarray(starts, dtype=np.int64))


def candidate_view(candidate: Candidate, person: bool) -> CandidateView:
    """A candidate's view for this reading, kept on candidates that have a ``views`` dict (a
    list's in-memory profiles), made afresh for others (an entity read from the store)."""
    views: dict[bool, CandidateView] | None = getattr(candidate, "views", None)
    if views is None:
        return CandidateView.make(candidate, person)
    found = views.get(person)
    if found is None:
        found = views[person] = CandidateView.make(candidate, person)
    return found


def explain(query: Query | QueryView, candidate: Candidate) -> Scored:
    """``score`` with the names that aligned (for ``Match.explanation``)."""
    if isinstance(query, Query):
        c_schema = candidate.schema
        q_schema = model.get(query.schema)
        assert q_schema is not None
        query = QueryView.make(query, _is_person(q_schema, c_schema))
    cv = candidate_view(candidate, query.person)
    return explain_views(query, cv)


def query_view(query: Query, candidate_schema: Schema) -> QueryView:
    q_schema = model.get(query.schema)
    assert q_schema is not None
    return QueryView.make(query, _is_person(q_schema, candidate_schema))


def explain_views(qv: QueryView, cv: CandidateView, table: TokenTable | None = None,
                  pair_bounds: npt.NDArray[np.float64] | None = None) -> Scored:
    """The score of a candidate for a query, with every feature that fired (``table``: the
    query's token similarities, shared across its candidates; ``pair_bounds``: an upper bound
    of the similarity of each query name (rows) with each of the candidate's full names, to
    skip aligning pairs that cannot be the best)."""
    features: list[Feature] = []
    query = qv.query
    q_schema, c_schema = qv.schema, cv.schema
    if not (q_schema.is_a(c_schema) or c_schema.is_a(q_schema)):
        features.append(Feature("schema_mismatch", WEIGHTS["schema_mismatch"], 1.0,
                                f"a {q_schema.name} cannot be a {c_schema.name}"))

    # -- names
    best: tuple[float, str, AnalyzedName | None, AnalyzedName | None, str] = (
        0.0, "name_match", None, None, "no name in common")
    for qi, q_name in enumerate(qv.full):
        for ci, (prop, c_name) in enumerate(cv.full):
            # (a pair whose bound is below the best so far cannot replace it; the margin
            # covers the rounding of similarities to four places)
            if pair_bounds is not None and pair_bounds[qi, ci] + 1e-4 < best[0]:
                continue
            al = align(q_name, c_name, table)
            kind = "name_match" if prop == "name" else "alias_match"
            if al.similarity > best[0] or (al.similarity == best[0] and best[2] is None
                                           and al.similarity > 0):
                best = (al.similarity, kind, q_name, c_name, al.describe())
    for q_name in (*qv.full, *qv.nicknames):
        for c_name in cv.weak:
            if same_tokens(q_name, c_name) and best[0] < 1.0:
                best = (1.0, "alias_match", q_name, c_name, "equals the weak alias")
    sim, feature, qn, cn, how = best
    for nick in qv.nicknames:
        for prop, c_alias in cv.full:
            if prop != "name" and same_tokens(nick, c_alias) and sim < 1.0:
                sim, feature, qn, cn, how = 1.0, "alias_match", nick, c_alias, "nickname"
    detail = (f"{qn.original!r} ~ {cn.original!r}: {how}" if qn is not None and cn is not None
              else how)
    features.append(Feature(feature, WEIGHTS[feature], round(sim, 4), detail))
    if (qn is not None and cn is not None and feature == "name_match"
            and same_tokens(qn, cn)):
        features.append(Feature("name_exact", WEIGHTS["name_exact"], 1.0,
                                f"same words as {cn.original!r}"))
    names = {"query": qn.original if qn else None, "candidate": cn.original if cn else None,
             "aligned": how, "similarity": round(sim, 4)}

    # -- identifiers
    c_ids = cv.identifiers
    shared = [i for i in query.identifiers if i in c_ids and len(i) >= 5]
    if shared:
        kinds = ", ".join(f"{identifier_kind(i) or c_ids[i]} {i}" for i in shared)
        features.append(Feature("identifier_match", WEIGHTS["identifier_match"], 1.0,
                                f"same identifier: {kinds}"))
    elif qv.curps:
        # (validating the candidate's identifiers is the dear part: only when it can matter)
        c_curps = {i for i in c_ids if identifier_kind(i) == "CURP"}
        if c_curps:
            features.append(Feature("identifier_mismatch", WEIGHTS["identifier_mismatch"], 1.0,
                                    f"different CURPs: {', '.join(sorted(qv.curps))} vs "
                                    f"{', '.join(sorted(c_curps))}"))

    # -- birth date (from the query, or else from its CURP)
    q_date, source = qv.birth_date, qv.date_source
    if q_date and cv.dates:
        agree = max(_dates_agree(q_date, d) for d in cv.dates)
        if agree > 0:
            features.append(Feature("dob_match", WEIGHTS["dob_match"], agree,
                                    f"{q_date} ({source}) agrees with {', '.join(cv.dates)}"))
        else:
            features.append(Feature("dob_mismatch", WEIGHTS["dob_mismatch"], 1.0,
                                    f"{q_date} ({source}) vs {', '.join(cv.dates)}"))

    # -- countries and gender
    if query.countries and cv.countries:
        common = sorted(set(query.countries) & cv.countries)
        if common:
            features.append(Feature("country_match", WEIGHTS["country_match"], 1.0,
                                    f"both {', '.join(common)}"))
        else:
            features.append(Feature("country_mismatch", WEIGHTS["country_mismatch"], 1.0,
                                    f"{', '.join(query.countries)} vs "
                                    f"{', '.join(sorted(cv.countries))}"))
    if qv.gender and cv.genders and qv.gender not in cv.genders:
        features.append(Feature("gender_mismatch", WEIGHTS["gender_mismatch"], 1.0,
                                f"{qv.gender} vs {', '.join(sorted(cv.genders))}"))

    total = sum(f.contribution for f in features)
    return Scored(round(min(1.0, max(0.0, total)), 4), features, names)


def score(query: Query, candidate: Candidate) -> tuple[float, list[Feature]]:
    """The match score of a candidate for a query in [0, 1], and the features that fired."""
    scored = explain(query, candidate)
    return scored.score, scored.features


def make_match(query: Query, candidate: StatementEntity, threshold: float) -> Match:
    scored = explain(query, candidate)
    return Match(candidate, scored.score, scored.score >= threshold, scored.features,
                 names=scored.names)


def rank(matches: Sequence[Match]) -> list[Match]:
    return sorted(matches, key=lambda m: (-m.score, m.caption, m.id))
