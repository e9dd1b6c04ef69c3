"""The judgement log: what analysts decided about pairs of records, and what follows from it.

Like nomenklatura's resolver, decisions are edges between source record ids: ``positive``
(the same entity), ``negative`` (different), ``unsure``. Unlike it, the log is strictly
append-only: an undo is a new row naming the row it undoes, so who decided what, when and why
is never lost, including the decisions later taken back. Source records are never rewritten;
canonical ids are derived from the positive edges a reader may see.

Pure functions over rows; the service reads the rows in the reader's scope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from binational.core.errors import InvalidInput


class Judgement(StrEnum):
    POSITIVE = "positive"  # the same entity / la misma entidad
    NEGATIVE = "negative"  # different entities / entidades distintas
    UNSURE = "unsure"  # cannot tell / no se puede determinar
    UNDO = "undo"  # takes back the decision it names


LABELS = {
    Judgement.POSITIVE: ("same", "la misma"),
    Judgement.NEGATIVE: ("different", "distintas"),
    Judgement.UNSURE: ("unsure", "dudoso"),
    Judgement.UNDO: ("undone", "deshecho"),
}
ALIASES = {"same": Judgement.POSITIVE, "positive": Judgement.POSITIVE, "yes": Judgement.POSITIVE,
           "different": Judgement.NEGATIVE, "negative": Judgement.NEGATIVE,
           "no": Judgement.NEGATIVE, "unsure": Judgement.UNSURE}


def parse_judgement(value: str) -> Judgement:
    try:
        return ALIASES[value.strip().lower()]
    except KeyError:
        raise InvalidInput(f"unknown judgement {value!r}; expected one of: same, different, "
                           "unsure") from None


def pair_key(a: str, b: str) -> tuple[str, str]:
    """Pairs are stored with the smaller id on the left (one row shape per pair)."""
    if a == b:
        raise InvalidInput("a record cannot be judged against itself")
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Decision:
    id: str
    seq: int
    left_id: str
    right_id: str
    judgement: Judgement
    undoes: str | None
    reason: str | None
    actor: str
    agency: str
    created_at: datetime
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        en, es = LABELS[self.judgement]
        return {"id": self.id, "left_id": self.left_id, "right_id": self.right_id,
                "judgement": self.judgement.value, "label_en": en, "label_es": es,
                "undoes": self.undoes, "reason": self.reason, "actor": self.actor,
                "agency": self.agency, "created_at": self.created_at.isoformat(),
                "score": self.score}


def current(decisions: Iterable[Decision]) -> dict[tuple[str, str], Decision]:
    """The judgement in force for each pair: the latest decision not undone."""
    by_pair: dict[tuple[str, str], list[Decision]] = {}
    undone: set[str] = set()
    for d in sorted(decisions, key=lambda d: d.seq):
        if d.judgement is Judgement.UNDO:
            if d.undoes:
                undone.add(d.undoes)
            continue
        by_pair.setdefault((d.left_id, d.right_id), []).append(d)
    out: dict[tuple[str, str], Decision] = {}
    for pair, ds in by_pair.items():
        live = [d for d in ds if d.id not in undone]
        if live:
            out[pair] = live[-1]
    return out


class Clusters:
    """Union-find over positive edges: the entity each record belongs to."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return {k: sorted(v) for k, v in out.items()}


def clusters(positive: Iterable[tuple[str, str]],
             negative: Iterable[tuple[str, str]] = ()) -> Clusters:
    """Clusters from positive edges; a positive edge that would join two records judged
    different is left out (the negative judgement wins)."""
    forbidden = {pair_key(a, b) for a, b in negative}
    c = Clusters()
    for a, b in sorted(positive):
        ra, rb = c.find(a), c.find(b)
        if ra == rb:
            continue
        group_a = [x for x in list(c.parent) if c.find(x) == ra]
        group_b = [x for x in list(c.parent) if c.find(x) == rb]
        if any(pair_key(x, y) in forbidden for x in group_a for y in group_b if x != y):
            continue
        c.union(a, b)
    return c


def canonical_id(members: Sequence[str]) -> str:
    """A stable id for a cluster, derived from its members (never stored, never reused by
    another set of members): ``bn-`` and a hash of the sorted member ids."""
    if len(members) == 1:
        return members[0]
    digest = hashlib.sha1("\n".join(sorted(members)).encode(), usedforsecurity=False)
    return f"bn-{digest.hexdigest()[:20]}"


def conflict(positive: Iterable[tuple[str, str]], negative: Iterable[tuple[str, str]],
             left: str, right: str, judgement: Judgement) -> str | None:
    """Why a new judgement contradicts the ones in force (``None`` if it does not)."""
    pos = list(positive)
    neg = list(negative)
    c = clusters(pos, neg)
    # A judgement of this very pair is replaced, not contradicted: only the other positive
    # judgements can hold the two records together.
    others = clusters([p for p in pos if pair_key(*p) != pair_key(left, right)], neg)
    if judgement is Judgement.NEGATIVE and others.find(left) == others.find(right):
        return (f"{left} and {right} are already judged the same entity through other "
                "records; split one of them off first (or undo the linking judgement)")
    if judgement is Judgement.POSITIVE:
        ra, rb = c.find(left), c.find(right)
        ga = {x for x in list(c.parent) if c.find(x) == ra}
        gb = {x for x in list(c.parent) if c.find(x) == rb}
        for a, b in neg:
            if (a in ga and b in gb) or (a in gb and b in ga):
                if pair_key(a, b) == pair_key(left, right):
                    continue  # replacing the judgement of this very pair
                return (f"{a} and {b} were judged different entities; joining {left} and "
                        f"{right} would make them one: undo that judgement first")
    return None
