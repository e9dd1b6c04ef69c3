"""The Knox test for near repeats, with the Monte Carlo expectation of the Near Repeat Calculator.

Every pair of incidents falls in one cell of a space x time table: spatial bands of width
``spatial_band`` (band 0 is "same location", distance exactly 0; then [0, w), [w, 2w), ...,
and "more than" the last), temporal bands of ``temporal_band`` days ([0, d), [d, 2d), ... and
"more than"). The expectation of each cell under "no space-time interaction" is the mean count
over ``iterations`` random permutations of the dates over the locations, and the p-value is the
rank of the observed count among them, ``(1 + #{simulated >= observed}) / (iterations + 1)``:
as Ratcliffe's Near Repeat Calculator does. Band edges are half-open as the Calculator counts
them (its "0 to 2 days" is a gap of 0 or 1 day; checked against its published counts).

Only pairs closer than the outer spatial edge are enumerated (a k-d tree): the margins of the
table (pairs per spatial band, and per temporal band over all pairs) do not change under a
permutation of the dates, so the "more than" row and column follow by subtraction. This makes
the test O(close pairs x iterations) instead of O(n^2 x iterations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from binational.core.errors import InvalidInput
from binational.core.vocab import check_choice

METRICS = {"euclidean": 2.0, "manhattan": 1.0}


@dataclass(frozen=True)
class KnoxCell:
    space: int
    time: int
    space_label: str
    time_label: str
    observed: int
    expected: float
    exact_expected: float
    p_value: float
    simulated_min: int
    simulated_max: int

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None

    def to_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {"spatial_band": self.space, "temporal_band": self.time,
                "space": self.space_label, "time": self.time_label,
                "observed": self.observed, "expected": round(self.expected, 4),
                "ratio": None if ratio is None else round(ratio, 4),
                "p_value": round(self.p_value, 4), "significant": self.p_value <= 0.05,
                "exact_expected": round(self.exact_expected, 4),
                "simulated_min": self.simulated_min, "simulated_max": self.simulated_max}


@dataclass(frozen=True)
class KnoxResult:
    cells: list[KnoxCell]
    space_labels: list[str]
    time_labels: list[str]
    events: int
    pairs: int
    iterations: int
    seed: int
    metric: str

    def cell(self, space: int, time: int) -> KnoxCell:
        return self.cells[space * len(self.time_labels) + time]

    def table(self, attr: str) -> list[list[Any]]:
        return [[getattr(self.cell(s, t), attr) for t in range(len(self.time_labels))]
                for s in range(len(self.space_labels))]


def band_labels(spatial_band: float, spatial_bands: int, temporal_band: float,
                temporal_bands: int) -> tuple[list[str], list[str]]:
    def num(v: float) -> str:
        return f"{v:g}"

    space = ["same location"] + [
        f"{num(k * spatial_band)} to {num((k + 1) * spatial_band)} m"
        for k in range(spatial_bands)] + [f"more than {num(spatial_bands * spatial_band)} m"]
    time = [f"{num(k * temporal_band)} to {num((k + 1) * temporal_band)} days"
            for k in range(temporal_bands)] + [
        f"more than {num(temporal_bands * temporal_band)} days"]
    return space, time


def _pairs_below(ts: NDArray[np.float64], gap: float) -> int:
    """Unordered pairs of (sorted) times less than ``gap`` apart."""
    if gap <= 0:
        return 0
    ahead = np.searchsorted(ts, ts + gap, side="left") - np.arange(1, len(ts) + 1)
    return int(ahead.sum())


def knox(x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64], *,
         spatial_band: float, spatial_bands: int, temporal_band: float, temporal_bands: int,
         iterations: int = 99, seed: int = 0, metric: str = "euclidean") -> KnoxResult:
    if spatial_band <= 0 or temporal_band <= 0:
        raise InvalidInput("band widths must be positive")
    if spatial_bands < 1 or temporal_bands < 1:
        raise InvalidInput("give at least one spatial and one temporal band")
    if not 1 <= iterations <= 100_000:
        raise InvalidInput("iterations must be between 1 and 100,000")
    check_choice(metric, METRICS, "metric")
    n = len(x)
    if n < 2:
        raise InvalidInput("the Knox test needs at least two incidents")
    s_n, t_n = spatial_bands + 2, temporal_bands + 1  # with "same location" and "more than"
    reach = spatial_bands * spatial_band
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(reach, p=METRICS[metric], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if metric == "euclidean":
        dist = np.hypot(x[i] - x[j], y[i] - y[j])
    else:
        dist = np.abs(x[i] - x[j]) + np.abs(y[i] - y[j])
    close = dist < reach
    i, j, dist = i[close], j[close], dist[close]
    sband = np.where(dist == 0, 0, 1 + np.floor(dist / spatial_band).astype(np.int64))
    row_totals = np.bincount(sband, minlength=s_n - 1)[: s_n - 1]
    total = n * (n - 1) // 2
    ts = np.sort(t)
    below = [_pairs_below(ts, k * temporal_band) for k in range(temporal_bands + 1)]
    col_totals = np.diff(np.asarray(below))

    def table(times: NDArray[np.float64]) -> NDArray[np.int64]:
        gap = np.abs(times[i] - times[j])
        tband = np.minimum(np.floor(gap / temporal_band).astype(np.int64), temporal_bands)
        inner = np.bincount(sband * t_n + tband, minlength=(s_n - 1) * t_n)
        out = np.zeros((s_n, t_n), dtype=np.int64)
        out[: s_n - 1] = inner.reshape(s_n - 1, t_n)
        out[: s_n - 1, temporal_bands] = row_totals - out[: s_n - 1, :temporal_bands].sum(1)
        out[s_n - 1, :temporal_bands] = col_totals - out[: s_n - 1, :temporal_bands].sum(0)
        out[s_n - 1, temporal_bands] = total - out.sum()
        return out

    observed = table(t)
    rng = np.random.default_rng(seed)
    sims = np.stack([table(rng.permutation(t)) for _ in range(iterations)])
    expected = sims.mean(axis=0)
    at_least = (sims >= observed[None]).sum(axis=0)
    p_values = (1 + at_least) / (iterations + 1)
    # Under a uniform permutation every pair of locations gets a uniform pair of distinct
    # dates, so the exact expectation is (pairs in the spatial band) x (share of date pairs in
    # the temporal band): reported next to the Monte Carlo mean to show its noise.
    rows = np.append(row_totals, total - row_totals.sum()).astype(float)
    cols = np.append(col_totals, total - col_totals.sum()).astype(float)
    exact = np.outer(rows, cols) / total
    space_labels, time_labels = band_labels(spatial_band, spatial_bands, temporal_band,
                                            temporal_bands)
    cells = [KnoxCell(s, k, space_labels[s], time_labels[k], int(observed[s, k]),
                      float(expected[s, k]), float(exact[s, k]), float(p_values[s, k]),
                      int(sims[:, s, k].min()), int(sims[:, s, k].max()))
             for s in range(s_n) for k in range(t_n)]
    return KnoxResult(cells, space_labels, time_labels, n, total, iterations, seed, metric)
