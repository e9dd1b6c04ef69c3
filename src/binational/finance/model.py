"""The learned part of an alert: LightGBM on per-account graph features.

Known outcomes (labels) only ever enter ``fit`` as the target; features come from the
transactions alone. Thresholds are chosen on out-of-fold predictions (accounts split in
folds by a hash of their id), never on the rows a model was fitted on. The alert score
combines the model's probability ``p`` and the rule score ``r`` as a noisy-OR,
``1 - (1 - p)(1 - r)``: either can raise an alert, and both together raise it further.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from binational.finance.cycles import CycleResult, temporal_cycles
from binational.finance.features import graph_features
from binational.finance.graph import DAY, FloatArray, Graph
from binational.finance.rules import RuleConfig, RuleResult, evaluate

BoolArray = npt.NDArray[np.bool_]
# One thread: the machine is shared, and on small frames threads cost more than they save.
PARAMS: dict[str, Any] = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31,
                          "min_data_in_leaf": 20, "feature_fraction": 0.8,
                          "bagging_fraction": 0.8, "bagging_freq": 1, "num_threads": 1,
                          "verbose": -1, "seed": 7, "deterministic": True}
ROUNDS = 200
FOLDS = 3


@dataclass
class Scored:
    """Everything known about a graph's accounts after rules and features."""

    names: list[str]
    features: FloatArray
    rules: RuleResult
    cycles: CycleResult


def score_graph(g: Graph, cfg: RuleConfig) -> Scored:
    """Features and rule results of every account (the cycle search is shared)."""
    cycles = temporal_cycles(g, window=int(cfg.cycle_window_days * DAY),
                             max_len=cfg.cycle_max_len)
    names, x = graph_features(g, cycles.as_feature())
    rules = evaluate(g, cfg, cycles)
    return Scored(names, x, rules, cycles)


def combine(p: FloatArray, r: FloatArray) -> FloatArray:
    return 1.0 - (1.0 - p) * (1.0 - r)


def best_threshold(y: BoolArray, score: FloatArray) -> tuple[float, float]:
    """The threshold with the best F1 (and that F1), over the observed scores."""
    if len(y) == 0 or not y.any():
        return 0.5, 0.0
    order = np.argsort(-score, kind="stable")
    ys = y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    f1 = 2 * tp / (k + ys.sum())
    best = int(np.argmax(f1))
    # midway to the next score, so that equal scores fall on one side
    nxt = score[order][best + 1] if best + 1 < len(order) else score[order][best] - 1e-6
    return float((score[order][best] + nxt) / 2), float(f1[best])


def prf(y: BoolArray, flagged: BoolArray) -> dict[str, float]:
    tp = int((y & flagged).sum())
    p = tp / max(int(flagged.sum()), 1)
    r = tp / max(int(y.sum()), 1)
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "flagged": int(flagged.sum()), "positives": int(y.sum())}


def fit(x: FloatArray, y: BoolArray, names: list[str], rounds: int = ROUNDS) -> lgb.Booster:
    data = lgb.Dataset(x, label=y.astype(np.float64), feature_name=names,
                       free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=rounds)


def folds(ids: list[str], k: int = FOLDS) -> npt.NDArray[np.int64]:
    """A stable fold per account (crc32 of its id), the same on every run."""
    return np.array([zlib.crc32(i.encode()) % k for i in ids], dtype=np.int64)


@dataclass
class TrainedModel:
    booster: lgb.Booster
    names: list[str]
    threshold: float
    combined_threshold: float
    metrics: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.booster.predict(x), dtype=np.float64)


def train(x: FloatArray, y: BoolArray, rule_score: FloatArray, names: list[str],
          ids: list[str]) -> TrainedModel:
    """Fit on every labelled account; thresholds from out-of-fold predictions."""
    if y.sum() == 0 or y.sum() == len(y):
        from binational.core.errors import InvalidInput

        raise InvalidInput("the known outcomes hold only one class: a model needs both "
                           "suspicious and ordinary accounts")
    fold = folds(ids)
    oof = np.zeros(len(y))
    for f in range(FOLDS):
        held = fold == f
        if held.all() or not held.any() or y[~held].sum() == 0:
            continue
        oof[held] = fit(x[~held], y[~held], names).predict(x[held])
    t_model, f_model = best_threshold(y, oof)
    t_both, f_both = best_threshold(y, combine(oof, rule_score))
    booster = fit(x, y, names)
    return TrainedModel(booster, names, t_model, t_both, {
        "accounts": len(y), "positives": int(y.sum()), "oof_f1_model": round(f_model, 4),
        "oof_f1_combined": round(f_both, 4)})
