"""Pedigrees: who is whose father and mother, checked before any likelihood is computed.

A pedigree that cannot be right (a person their own ancestor, a mother recorded as male, a
parent who is not in the pedigree) is refused with the reason, never computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from binational.core.errors import InvalidInput

MALE, FEMALE, UNKNOWN_SEX = 1, 2, 0

Genotype = tuple[str, str]


def parse_sex(value: object) -> int:
    """1 male, 2 female, 0 unknown, from the spellings the case files use."""
    if value is None:
        return UNKNOWN_SEX
    text = str(value).strip().lower()
    if text in ("1", "m", "male", "masculino", "h", "hombre"):
        return MALE
    if text in ("2", "f", "female", "femenino", "mujer"):
        return FEMALE
    if text in ("0", "", "u", "unknown", "desconocido"):
        return UNKNOWN_SEX
    raise InvalidInput(f"unknown sex {value!r} (use M, F or 0)")


@dataclass
class Person:
    id: str
    father: str | None = None
    mother: str | None = None
    sex: int = UNKNOWN_SEX
    genotypes: dict[str, Genotype] = field(default_factory=dict)

    @property
    def is_founder(self) -> bool:
        return self.father is None and self.mother is None


class Pedigree:
    """Persons in an order where parents come before their children.

    A person listed with one parent gets the other added as an untyped founder
    (``added_<n>``), as pedFamilias does, so each non-founder has exactly two parents.
    """

    def __init__(self, persons: Iterable[Person], name: str = "") -> None:
        self.name = name
        people = [Person(p.id, p.father, p.mother, p.sex, dict(p.genotypes)) for p in persons]
        by_id: dict[str, Person] = {}
        for p in people:
            if not p.id:
                raise InvalidInput(f"pedigree {name}: a person has no id")
            if p.id in by_id:
                raise InvalidInput(f"pedigree {name}: person {p.id!r} appears twice")
            by_id[p.id] = p
        added = 0
        for p in list(people):
            for role in ("father", "mother"):
                parent = getattr(p, role)
                if parent is not None and parent not in by_id:
                    raise InvalidInput(
                        f"pedigree {name}: {role} {parent!r} of {p.id!r} is not in the pedigree"
                    )
                if parent == p.id:
                    raise InvalidInput(f"pedigree {name}: {p.id!r} is recorded as their own {role}")
            if (p.father is None) != (p.mother is None):
                added += 1
                extra = Person(f"added_{added}", sex=MALE if p.father is None else FEMALE)
                while extra.id in by_id:
                    added += 1
                    extra.id = f"added_{added}"
                by_id[extra.id] = extra
                people.append(extra)
                if p.father is None:
                    p.father = extra.id
                else:
                    p.mother = extra.id
        for p in people:
            if p.father is not None and by_id[p.father].sex != MALE:
                raise InvalidInput(
                    f"pedigree {name}: {p.father!r} is the father of {p.id!r} "
                    "but is not recorded as male"
                )
            if p.mother is not None and by_id[p.mother].sex != FEMALE:
                raise InvalidInput(
                    f"pedigree {name}: {p.mother!r} is the mother of {p.id!r} "
                    "but is not recorded as female"
                )
        self.persons = _parents_first(people, name)
        self.by_id = {p.id: p for p in self.persons}
        self.index = {p.id: i for i, p in enumerate(self.persons)}

    def __contains__(self, pid: object) -> bool:
        return pid in self.by_id

    def __len__(self) -> int:
        return len(self.persons)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.persons]

    def typed(self) -> list[str]:
        return [p.id for p in self.persons if p.genotypes]

    def children(self, pid: str) -> list[str]:
        return [p.id for p in self.persons if pid in (p.father, p.mother)]

    def with_genotypes(self, extra: Mapping[str, Mapping[str, Genotype]]) -> Pedigree:
        """A copy with genotypes placed on persons (a victim at a missing person's position)."""
        people = []
        for p in self.persons:
            g = dict(p.genotypes)
            if p.id in extra:
                g = dict(extra[p.id])
            people.append(Person(p.id, p.father, p.mother, p.sex, g))
        return Pedigree(people, self.name)

    def components(self) -> list[set[str]]:
        """Connected components (by parent-child links)."""
        adj: dict[str, set[str]] = {p.id: set() for p in self.persons}
        for p in self.persons:
            for q in (p.father, p.mother):
                if q is not None:
                    adj[p.id].add(q)
                    adj[q].add(p.id)
        seen: set[str] = set()
        out = []
        for start in adj:
            if start in seen:
                continue
            comp = {start}
            stack = [start]
            while stack:
                for nb in adj[stack.pop()]:
                    if nb not in comp:
                        comp.add(nb)
                        stack.append(nb)
            seen |= comp
            out.append(comp)
        return out


def _parents_first(people: list[Person], name: str) -> list[Person]:
    """Topological order; a cycle means someone is their own ancestor."""
    by_id = {p.id: p for p in people}
    state: dict[str, int] = {}
    order: list[Person] = []
    for root in people:
        if root.id in state:
            continue
        stack: list[tuple[str, bool]] = [(root.id, False)]
        while stack:
            pid, done = stack.pop()
            if done:
                state[pid] = 2
                order.append(by_id[pid])
                continue
            if state.get(pid) == 2:
                continue
            if state.get(pid) == 1:
                raise InvalidInput(f"pedigree {name}: {pid!r} is their own ancestor (a cycle)")
            state[pid] = 1
            stack.append((pid, True))
            p = by_id[pid]
            for parent in (p.father, p.mother):
                if parent is not None:
                    if state.get(parent) == 1:
                        raise InvalidInput(
                            f"pedigree {name}: {parent!r} is their own ancestor (a cycle)"
                        )
                    if state.get(parent) != 2:
                        stack.append((parent, False))
    return order
