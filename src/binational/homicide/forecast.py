"""Place-based forecasts on a grid, and how to judge them (PAI, PEI*, RRI at shares of area).

Models (each scores a cell with the expected number of incidents in the horizon):

- ``last-period``: the incidents of the last ``periods`` horizons before the origin, per
  horizon (the last-W-periods baseline of the forecasting literature);
- ``kde``: a Gaussian kernel density of the incidents of the last ``lookback_days``, scaled to
  the recent rate;
- ``sepp``: a self-exciting point process in the style of Mohler et al. (2011, JASA),
  ``lambda(t, x, y) = mu(x, y) + sum_i theta * omega * exp(-omega (t - t_i)) * N(x - x_i,
  y - y_i; sigma)``, fitted by expectation-maximisation (stochastic declustering): each
  incident's probability of being background or triggered by an earlier one; the background
  is a kernel density of the background probabilities, the trigger parametric (exponential
  in time, Gaussian in space) so that the EM steps are closed-form and vectorised.

Place-based only: inputs are points and dates; nothing about people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.special import ndtr

from binational.core.errors import InvalidInput
from binational.core.vocab import check_choice
from binational.homicide.grid import Grid

MODELS = ("last-period", "kde", "sepp")
SHARES = (0.01, 0.05)


@dataclass(frozen=True)
class ModelOptions:
    periods: int = 1
    bandwidth: float | None = None  # metres; default: the cell size
    lookback_days: float = 365.0
    trigger_days: float = 120.0
    trigger_metres: float = 1_000.0
    em_iterations: int = 40

    def kde_bandwidth(self, grid: Grid) -> float:
        return self.bandwidth if self.bandwidth is not None else grid.size


def check_model(name: str) -> str:
    check_choice(name, MODELS, "model")
    return name


def last_period(grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64],
                t: NDArray[np.float64], origin: float, horizon: float,
                periods: int = 1) -> NDArray[np.float64]:
    if periods < 1:
        raise InvalidInput("--periods must be at least 1")
    recent = (t < origin) & (t >= origin - periods * horizon)
    return grid.counts(x[recent], y[recent]) / periods


def kde(grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64],
        origin: float, horizon: float, options: ModelOptions) -> NDArray[np.float64]:
    recent = (t < origin) & (t >= origin - options.lookback_days)
    if not recent.any():
        return np.zeros(grid.cells)
    mass = grid.smoothed(x[recent], y[recent], None, options.kde_bandwidth(grid))
    rate = recent.sum() / options.lookback_days  # incidents per day, recently
    total = mass.sum()
    return mass / total * rate * horizon if total > 0 else mass


@dataclass
class Sepp:
    """A fitted self-exciting point process (see the module docstring)."""

    grid: Grid
    background: NDArray[np.float64]  # expected background incidents per cell per day
    theta: float  # mean number of incidents each one triggers
    omega: float  # trigger decay rate, per day
    sigma: float  # trigger spatial spread, metres
    iterations: int
    trigger_days: float
    log: list[dict[str, float]] = field(default_factory=list)

    def params(self) -> dict[str, Any]:
        return {"theta": round(self.theta, 5), "omega_per_day": round(self.omega, 5),
                "sigma_m": round(self.sigma, 2), "em_iterations": self.iterations,
                "background_per_day": round(float(self.background.sum()), 4)}

    def predict(self, x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64],
                origin: float, horizon: float) -> NDArray[np.float64]:
        """Expected incidents per cell in [origin, origin + horizon), given the incidents
        before the origin (whose triggering has not died out)."""
        g = self.grid
        scores = self.background * horizon
        age = origin - t
        # The fit truncated triggering at trigger_days: so does the forecast.
        live = (age > 0) & (age <= self.trigger_days)
        if self.theta <= 0 or not live.any():
            return scores
        a = age[live]
        weight = self.theta * (np.exp(-self.omega * a) - np.exp(-self.omega * (a + horizon)))
        xe = g.x0 + np.arange(g.nx + 1) * g.size
        ye = g.y0 + np.arange(g.ny + 1) * g.size
        # The Gaussian's mass over each column and row of cells: separable, so the cell
        # masses of all incidents are one matrix product (rows x incidents x columns).
        cx = np.diff(ndtr((xe[None, :] - x[live][:, None]) / self.sigma), axis=1)
        cy = np.diff(ndtr((ye[None, :] - y[live][:, None]) / self.sigma), axis=1)
        trig = (cy * weight[:, None]).T @ cx
        return np.asarray(scores + trig.ravel(), dtype=float)


def fit_sepp(grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64],
             t: NDArray[np.float64], end: float, options: ModelOptions) -> Sepp:
    """Fit by EM on the incidents before ``end`` (the end of the observation window)."""
    use = t < end
    x, y, t = x[use], y[use], t[use]
    n = len(t)
    if n == 0:
        raise InvalidInput("no incidents before the end of training to fit the model on")
    span = max(end - float(t.min()), 1.0)
    bandwidth = max(options.kde_bandwidth(grid), 1.0)
    fine = Grid(grid.x0, grid.y0, grid.size / 4, grid.nx * 4, grid.ny * 4)
    fidx, _ = fine.index(x, y)
    # Candidate parent -> child pairs: close in space, earlier and close in time.
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(options.trigger_metres, output_type="ndarray")
    pi, pj = pairs[:, 0], pairs[:, 1]
    swap = t[pi] > t[pj]
    parent = np.where(swap, pj, pi)
    child = np.where(swap, pi, pj)
    dt = t[child] - t[parent]
    keep = (dt > 0) & (dt <= options.trigger_days)  # same-day pairs have no order
    parent, child, dt = parent[keep], child[keep], dt[keep]
    d2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    remaining = np.minimum(end - t, options.trigger_days)
    theta, omega, sigma = 0.1, 0.1, min(100.0, options.trigger_metres / 5)
    p_bg = np.ones(n)
    log: list[dict[str, float]] = []
    it = 0
    for it in range(1, options.em_iterations + 1):
        bg_mass = fine.smoothed(x, y, p_bg, bandwidth, oversample=1)
        mu = bg_mass[fidx] / (span * fine.size**2)  # per day per square metre at each event
        g = (theta * omega * np.exp(-omega * dt)
             * np.exp(-d2 / (2 * sigma**2)) / (2 * math.pi * sigma**2))
        lam = mu + np.bincount(child, weights=g, minlength=n)
        lam = np.maximum(lam, 1e-300)
        p_trig = g / lam[child]
        p_bg = mu / lam
        s = float(p_trig.sum())
        new_theta = min(s / float((1 - np.exp(-omega * remaining)).sum()), 0.95)
        if s > 1e-9:
            new_omega = float(np.clip(s / float((p_trig * dt).sum()),
                                      1 / options.trigger_days, 10.0))
            new_sigma = float(np.clip(math.sqrt(float((p_trig * d2).sum()) / (2 * s)),
                                      1.0, options.trigger_metres / 3))
        else:
            new_omega, new_sigma = omega, sigma
        change = abs(new_theta - theta) + abs(new_omega - omega) / omega + abs(
            new_sigma - sigma) / sigma
        theta, omega, sigma = new_theta, new_omega, new_sigma
        log.append({"iteration": it, "theta": theta, "omega": omega, "sigma": sigma,
                    "background_share": float(p_bg.sum() / n)})
        if change < 1e-4:
            break
    bg_cells = grid.smoothed(x, y, p_bg, bandwidth) / span
    return Sepp(grid, bg_cells, theta, omega, sigma, it, options.trigger_days, log)


def scores(model: str, grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64],
           t: NDArray[np.float64], origin: float, horizon: float,
           options: ModelOptions) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """One model's cell scores for [origin, origin + horizon), fitted on incidents before the
    origin; with the fitted parameters (for the report)."""
    check_model(model)
    if horizon <= 0:
        raise InvalidInput("--horizon must be a positive number of days")
    if model == "last-period":
        return last_period(grid, x, y, t, origin, horizon, options.periods), {
            "periods": options.periods}
    if model == "kde":
        return kde(grid, x, y, t, origin, horizon, options), {
            "bandwidth_m": options.kde_bandwidth(grid), "lookback_days": options.lookback_days}
    fitted = fit_sepp(grid, x, y, t, origin, options)
    return fitted.predict(x, y, t, origin, horizon), fitted.params()


# -- evaluation ---------------------------------------------------------------------------


def ranking(score: NDArray[np.float64]) -> NDArray[np.int64]:
    """Positions by score, best first; ties by position (stable), so runs repeat exactly."""
    return np.argsort(-score, kind="stable")


@dataclass(frozen=True)
class Hits:
    share: float
    cells: int
    hits: int
    total: int
    pai: float
    pei: float
    pei_star: float
    rri: float | None

    def to_json(self) -> dict[str, Any]:
        return {"area_share": self.share, "cells": self.cells, "hits": self.hits,
                "incidents": self.total, "hit_rate": round(self.hits / self.total, 4)
                if self.total else 0.0, "pai": round(self.pai, 3),
                "pei": round(self.pei, 3), "pei_star": round(self.pei_star, 3),
                "rri": None if self.rri is None else round(self.rri, 3)}


def evaluate(score: NDArray[np.float64], actual: NDArray[np.float64], total: int,
             past: NDArray[np.float64], past_total: int,
             shares: tuple[float, ...] = SHARES) -> list[Hits]:
    """Judge a forecast over the cells of the study area.

    ``score``/``actual``/``past`` are per area cell; ``total`` counts every incident of the
    test window (those outside the area are misses), ``past_total`` those of the training
    window. At each share of area a, the top ceil(a * cells) cells by score are flagged:

    - PAI = (n / N) / (a / A) (Chainey et al. 2008);
    - PEI = n / n_max, n_max the most any a cells held (Hunt 2016);
    - PEI* = a* / a, a* the fewest cells that would have held n incidents in hindsight, i.e.
      PAI / PAI* (Hunt 2016's area-adjusted index);
    - RRI = (n / N) / (n_past / N_past), the recapture rate index (Levine 2008), where
      ``past`` counts the incidents of an earlier window (the one of the same length just
      before the origin) and n_past those of the flagged cells.
    """
    cells = len(score)
    order = ranking(score)
    best = np.sort(actual)[::-1]
    best_cum = np.cumsum(best)
    out: list[Hits] = []
    for share in shares:
        k = max(1, math.ceil(share * cells))
        flagged = order[:k]
        hits = int(actual[flagged].sum())
        pai = (hits / total) / (k / cells) if total else 0.0
        n_max = int(best_cum[k - 1]) if cells else 0
        pei = hits / n_max if n_max else 0.0
        a_star = int(np.searchsorted(best_cum, hits, side="left")) + 1 if hits else 0
        pei_star = a_star / k
        past_hits = float(past[flagged].sum())
        rri = ((hits / total) / (past_hits / past_total)
               if total and past_total and past_hits else None)
        out.append(Hits(share, k, hits, total, pai, pei, pei_star, rri))
    return out
