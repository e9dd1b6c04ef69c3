"""The closed vocabularies of the platform: countries, roles, actions, purposes, TLP markings.

Kept as data (enums with bilingual labels) so the API, the CLI and the web pages list the same
choices, and an unknown value is rejected at the edge with the list of valid ones.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import TypeVar

from binational.core.errors import InvalidInput


class Country(StrEnum):
    US = "US"
    MX = "MX"


COUNTRY_NAMES: dict[Country, tuple[str, str]] = {
    Country.US: ("United States", "Estados Unidos"),
    Country.MX: ("Mexico", "México"),
}


class Role(StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    AGENCY_ADMIN = "agency-admin"
    AUDITOR = "auditor"
    SYNC = "sync"


class Action(StrEnum):
    """What a user does with records. Grants name the actions they allow."""

    READ = "read"
    SEARCH = "search"
    EXPORT = "export"


class Purpose(StrEnum):
    """Why a query is made. A grant is bound to purposes; every query names one."""

    COUNTER_NARCOTICS = "counter-narcotics"
    ILLICIT_FINANCE = "illicit-finance"
    ARMS_TRAFFICKING = "arms-trafficking"
    HOMICIDE_INVESTIGATION = "homicide-investigation"
    PUBLIC_HEALTH = "public-health"
    MISSING_PERSONS = "missing-persons"
    CYBER = "cyber"
    HUMAN_SMUGGLING = "human-smuggling"
    PRECURSOR_CONTROL = "precursor-control"
    SANCTIONS_SCREENING = "sanctions-screening"
    AUDIT = "audit"


PURPOSE_LABELS: dict[Purpose, tuple[str, str]] = {
    Purpose.COUNTER_NARCOTICS: ("Counter-narcotics", "Combate al narcotráfico"),
    Purpose.ILLICIT_FINANCE: ("Illicit finance", "Finanzas ilícitas"),
    Purpose.ARMS_TRAFFICKING: ("Arms trafficking", "Tráfico de armas"),
    Purpose.HOMICIDE_INVESTIGATION: ("Homicide investigation", "Investigación de homicidios"),
    Purpose.PUBLIC_HEALTH: ("Public health", "Salud pública"),
    Purpose.MISSING_PERSONS: ("Missing persons", "Personas desaparecidas"),
    Purpose.CYBER: ("Cyber", "Ciberseguridad"),
    Purpose.HUMAN_SMUGGLING: ("Human smuggling", "Tráfico de personas"),
    Purpose.PRECURSOR_CONTROL: ("Precursor control", "Control de precursores"),
    Purpose.SANCTIONS_SCREENING: ("Sanctions screening", "Revisión de listas de sanciones"),
    Purpose.AUDIT: ("Audit", "Auditoría"),
}


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 markings (FIRST)."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: str, what: str) -> E:
    """Parse a closed-vocabulary value or fail with the list of valid choices."""
    try:
        return enum(value.strip())
    except ValueError:
        check_choice(value, [m.value for m in enum], what)
        raise


def check_choice(value: object, choices: Collection[str], what: str) -> None:
    """Fail (``InvalidInput``) unless ``value`` is one of ``choices``, naming them all."""
    if value not in choices:
        raise InvalidInput(f"unknown {what} {value!r}; expected one of: {', '.join(choices)}")
