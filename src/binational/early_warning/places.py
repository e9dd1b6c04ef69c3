"""Places: ISO 3166-2 style codes (``US``, ``US-AZ``, ``MX-SON``; a county or municipality
adds a third part, ``US-AZ-04013``, ``MX-SON-030``), their neighbours across and along the
border, and roll-ups (county -> state -> country)."""

from __future__ import annotations

# States along the border and their neighbours (both sides); enough for the alert map's
# "neighbouring jurisdictions". Symmetric by construction below.
_EDGES = [
    ("US-CA", "US-AZ"), ("US-CA", "US-NV"), ("US-CA", "US-OR"), ("US-AZ", "US-NV"),
    ("US-AZ", "US-UT"), ("US-AZ", "US-NM"), ("US-NM", "US-CO"), ("US-NM", "US-OK"),
    ("US-NM", "US-TX"), ("US-TX", "US-OK"), ("US-TX", "US-AR"), ("US-TX", "US-LA"),
    ("US-CA", "MX-BCN"), ("US-AZ", "MX-BCN"), ("US-AZ", "MX-SON"), ("US-NM", "MX-SON"),
    ("US-NM", "MX-CHH"), ("US-TX", "MX-CHH"), ("US-TX", "MX-COA"), ("US-TX", "MX-NLE"),
    ("US-TX", "MX-TAM"), ("MX-BCN", "MX-SON"), ("MX-BCN", "MX-BCS"), ("MX-SON", "MX-CHH"),
    ("MX-SON", "MX-SIN"), ("MX-CHH", "MX-COA"), ("MX-CHH", "MX-DUR"), ("MX-CHH", "MX-SIN"),
    ("MX-COA", "MX-NLE"), ("MX-COA", "MX-DUR"), ("MX-COA", "MX-ZAC"), ("MX-NLE", "MX-TAM"),
    ("MX-NLE", "MX-SLP"), ("MX-TAM", "MX-SLP"), ("MX-TAM", "MX-VER"),
]
NEIGHBOURS: dict[str, frozenset[str]] = {}
for _a, _b in _EDGES:
    NEIGHBOURS[_a] = NEIGHBOURS.get(_a, frozenset()) | {_b}
    NEIGHBOURS[_b] = NEIGHBOURS.get(_b, frozenset()) | {_a}

COUNTRY_NAMES = {"US": ("United States", "Estados Unidos"), "MX": ("Mexico", "México")}


def parent(place: str) -> str | None:
    """The next level up: ``US-AZ-04013`` -> ``US-AZ`` -> ``US`` -> None."""
    parts = place.split("-")
    return "-".join(parts[:-1]) if len(parts) > 1 else None


def ancestors(place: str) -> list[str]:
    out = []
    p = parent(place)
    while p:
        out.append(p)
        p = parent(p)
    return out


def neighbours(place: str) -> frozenset[str]:
    """Neighbouring jurisdictions at the same level (a county's are its state's)."""
    parts = place.split("-")
    return NEIGHBOURS.get("-".join(parts[:2]), frozenset())


def covers(area: str, place: str, include_neighbours: bool = False) -> bool:
    """Does a subscription to ``area`` cover an alert in ``place`` (the place itself, any
    place within it, or - if asked - a neighbour of it)?"""
    if place == area or area in ancestors(place):
        return True
    if include_neighbours:
        near = neighbours(area)
        return place in near or any(a in near for a in ancestors(place))
    return False
