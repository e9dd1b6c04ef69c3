"""Designation screening: is this person or company on a list the reader may see?

A capability on the core (the core never imports it). Lists are loaded as FtM entities by
the ingest formats of ``binational.screening.lists``; ``Screener.index_dataset`` builds the
candidate index of a loaded list; ``Screener.screen`` retrieves candidates within the
caller's policy scope, scores them with ``score`` (a transparent, hand-weighted model tuned
for Hispanic names) and audits the screening.

Public API::

    Query(name, schema="LegalEntity", birth_date=None, countries=(), gender=None,
          identifiers=(), aliases=())
    Query.from_properties(schema, properties)        # yente's request shape
    score(query, candidate) -> (float, list[Feature])
    Feature(name, weight, value, detail)
    Match(entity, score, match, features, sanctions, names)  # .id .caption .datasets
                                                             # .explanation()
    Screener(platform).index_dataset(dataset) -> int
                      .candidates(scope, query, limit=50) -> list[str]
                      .screen(caller, query, *, datasets=None, threshold=DEFAULT_THRESHOLD,
                              limit=10, cutoff=0.5) -> list[Match]
                      .screen_many(caller, queries, *, ...) -> Iterator[list[Match]]
    DEFAULT_THRESHOLD
"""

from __future__ import annotations

from binational.screening.matching import DEFAULT_THRESHOLD, Feature, Match, Query, score
from binational.screening.service import Screener

__all__ = ["DEFAULT_THRESHOLD", "Feature", "Match", "Query", "Screener", "score"]
