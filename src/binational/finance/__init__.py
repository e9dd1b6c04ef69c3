"""Illicit finance: transaction monitoring, laundering typologies, and the exchange of cases
between the two countries' financial intelligence units.

A capability on the core (the core never imports it). Transactions arrive through the ingest
formats of ``binational.finance.formats`` (``amlsim``, ``transactions``); accounts become FtM
``BankAccount`` entities, transactions rows of ``finance_transaction``.

Public API::

    Finance(platform).train(caller, datasets) -> dict           # model stored for the agency
                     .alerts(caller, dataset) -> list[AccountAlert]
                     .open_case / assign / annotate / escalate / close / case / cases
                     .share(caller, case_id, recipient) -> dict  # under a live grant
                     .shared_with_me(caller) / package(caller, case_id)
    RuleConfig, config_for(jurisdiction, **overrides)           # typology thresholds
    temporal_cycles(graph, window, max_len)                     # compiled cycle search
    graph_features(graph) / plain_features(graph)               # vectorised features
"""

from __future__ import annotations

from binational.finance.cycles import temporal_cycles
from binational.finance.features import graph_features, plain_features
from binational.finance.rules import RuleConfig, config_for
from binational.finance.service import AccountAlert, Finance

__all__ = ["AccountAlert", "Finance", "RuleConfig", "config_for", "graph_features",
           "plain_features", "temporal_cycles"]
