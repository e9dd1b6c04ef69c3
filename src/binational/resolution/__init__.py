"""Entity resolution across agencies, and the investigative network.

The public surface: ``link_files`` / ``dedupe_file`` (CSV files, no platform), ``link`` (the
Splink pipeline on standard frames, DuckDB or Spark), ``Resolver`` (runs, review queue,
judgements and resolved entities on the platform, in the reader's policy scope) and
``Investigator`` (the network of relationships across resolved entities).
"""

from __future__ import annotations

from binational.resolution.files import dedupe_file, link_files, write_pairs
from binational.resolution.pipeline import DEFAULT_THRESHOLD, Result, link

__all__ = ["DEFAULT_THRESHOLD", "Result", "dedupe_file", "link", "link_files", "write_pairs"]
