"""Hot spots from geocoded incidents: forecasts and near-repeat tests as JSON-ready reports,
kernel density and Getis-Ord Gi* on a grid.

What ``binational hotspots`` prints and the API returns. Cells are reported by their
lower-left corner in the input's units (metres of the input projection, or longitude and
latitude with ``lonlat``), with a GeoJSON polygon on request for maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from binational.core.errors import InvalidInput
from binational.homicide.forecast import (
    ModelOptions,
    check_model,
    evaluate,
    ranking,
    scores,
)
from binational.homicide.grid import Grid
from binational.homicide.incidents import Incidents
from binational.homicide.knox import knox


def _date(day: float) -> str:
    return date.fromordinal(math.floor(day)).isoformat()


@dataclass(frozen=True)
class ForecastRequest:
    train_until: float  # day number of the last training day (inclusive)
    horizon: float
    cell_size: float
    model: str
    options: ModelOptions = field(default_factory=ModelOptions)
    top: int | None = None
    geojson: bool = False


def forecast_report(inc: Incidents, req: ForecastRequest) -> dict[str, Any]:
    """Rank the cells of the study area for [train_until + 1, + horizon); evaluate the ranking
    if the file holds incidents of that window. The study area is every cell that had at least
    one incident before the origin (a grid over a bounding box would count lakes and parks)."""
    check_model(req.model)
    origin = req.train_until + 1
    train = inc.t < origin
    if not train.any():
        raise InvalidInput(f"no usable incident on or before {_date(req.train_until)} to "
                           "train on")
    grid = Grid.covering(inc.x[train], inc.y[train], req.cell_size)
    score, params = scores(req.model, grid, inc.x, inc.y, inc.t, origin, req.horizon,
                           req.options)
    past = grid.counts(inc.x[train], inc.y[train])
    area = np.flatnonzero(past > 0)
    order = area[ranking(score[area])]
    if req.top is not None:
        order = order[: req.top]
    px, py = grid.corners(order)
    proj = inc.projection
    if proj is not None:
        cx, cy = proj.inverse(px, py)
        width, height = req.cell_size / proj.kx, req.cell_size / proj.ky
    else:
        cx, cy, width, height = px, py, req.cell_size, req.cell_size
    rows = [{"rank": r + 1, "cell_x": round(float(a), 7), "cell_y": round(float(b), 7),
             "score": round(float(s), 6), "training_incidents": int(p)}
            for r, (a, b, s, p) in enumerate(zip(cx, cy, score[order], past[order],
                                                 strict=True))]
    test = (inc.t >= origin) & (inc.t < origin + req.horizon)
    report: dict[str, Any] = {
        "model": req.model, "parameters": params, "train_until": _date(req.train_until),
        "horizon_days": req.horizon, "forecast_from": _date(origin),
        "forecast_to": _date(origin + req.horizon - 1), "cell_size_m": req.cell_size,
        "units": "degrees" if proj else "input", "cell_width": width, "cell_height": height,
        "projection": None if proj is None else {
            "kind": "local equirectangular", "lon0": proj.lon0, "lat0": proj.lat0},
        "date_format": inc.date_format, "rows": inc.rows, "incidents": len(inc),
        "training_incidents": int(train.sum()), "area_cells": len(area),
        "cells": rows, "rejected": inc.issues_json(), "rejected_count": len(inc.issues),
    }
    if test.any():
        actual = grid.counts(inc.x[test], inc.y[test])
        # RRI compares with the window of the same length just before the origin.
        prior = train & (inc.t >= origin - req.horizon)
        before = grid.counts(inc.x[prior], inc.y[prior])
        report["evaluation"] = [h.to_json() for h in evaluate(
            score[area], actual[area], int(test.sum()), before[area], int(prior.sum()))]
    if req.geojson:
        report["geojson"] = grid.geojson(rows, px, py, proj)
    return report


def knox_report(inc: Incidents, *, spatial_band: float, spatial_bands: int,
                temporal_band: float, temporal_bands: int, iterations: int = 99,
                seed: int = 1, metric: str = "euclidean") -> dict[str, Any]:
    result = knox(inc.x, inc.y, inc.t, spatial_band=spatial_band, spatial_bands=spatial_bands,
                  temporal_band=temporal_band, temporal_bands=temporal_bands,
                  iterations=iterations, seed=seed, metric=metric)
    return {
        "events": result.events, "pairs": result.pairs, "iterations": iterations,
        "seed": seed, "metric": metric, "date_format": inc.date_format, "rows": inc.rows,
        "spatial_bands": result.space_labels, "temporal_bands": result.time_labels,
        "cells": [c.to_json() for c in result.cells],
        "ratios": [[None if r is None else round(r, 4) for r in row]
                   for row in result.table("ratio")],
        "p_values": [[round(p, 4) for p in row] for row in result.table("p_value")],
        "observed": result.table("observed"),
        "rejected": inc.issues_json(), "rejected_count": len(inc.issues),
    }


def getis_ord(counts: NDArray[np.float64], radius: int = 1) -> NDArray[np.float64]:
    """Getis-Ord Gi* z-scores of a 2-D grid of counts, binary weights over the
    (2 * radius + 1)^2 square window around each cell, the cell itself included.

    Why not esda/libpysal: on a regular grid the weights are a fixed window, so the sums
    of Gi* are two box filters (scipy.ndimage) over the whole array, O(cells), without
    building a spatial-weights object of millions of neighbour lists.
    """
    if counts.ndim != 2:
        raise InvalidInput("Gi* needs a 2-D grid of counts")
    n = counts.size
    if n < 2:
        raise InvalidInput("Gi* needs at least two cells")
    size = 2 * radius + 1
    box = np.ones((size, size))
    local = ndimage.convolve(counts, box, mode="constant", cval=0.0)
    weights = ndimage.convolve(np.ones_like(counts), box, mode="constant", cval=0.0)
    mean = counts.mean()
    s = math.sqrt(float((counts**2).mean()) - mean**2)
    if s == 0:
        return np.zeros_like(counts)
    # For binary weights sum(w^2) == sum(w).
    denom = s * np.sqrt((n * weights - weights**2) / (n - 1))
    return np.asarray((local - mean * weights) / denom)


def gi_star_points(xy: NDArray[np.float64], values: NDArray[np.float64],
                   radius: float) -> NDArray[np.float64]:
    """Gi* z-scores of values at points (areas' centres), binary weights for the points within
    ``radius`` of each other, the point itself included (same formula as ``getis_ord``)."""
    from scipy.spatial import cKDTree

    n = len(values)
    if n < 2:
        raise InvalidInput("Gi* needs at least two areas")
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    local = values.astype(float).copy()
    weights = np.ones(n)
    np.add.at(local, pairs[:, 0], values[pairs[:, 1]])
    np.add.at(local, pairs[:, 1], values[pairs[:, 0]])
    np.add.at(weights, pairs[:, 0], 1)
    np.add.at(weights, pairs[:, 1], 1)
    mean = float(values.mean())
    s = math.sqrt(float((values**2).mean()) - mean**2)
    if s == 0:
        return np.zeros(n)
    denom = s * np.sqrt((n * weights - weights**2) / (n - 1))
    return np.asarray((local - mean * weights) / denom)


def hotspot_grid(inc: Incidents, cell_size: float, bandwidth: float | None = None
                 ) -> dict[str, Any]:
    """Counts, kernel density and Gi* per cell (the cells with any incident or a significant
    Gi*), as GeoJSON for a map."""
    grid = Grid.covering(inc.x, inc.y, cell_size)
    counts = grid.counts(inc.x, inc.y)
    density = grid.smoothed(inc.x, inc.y, None, bandwidth or cell_size)
    z = getis_ord(counts.reshape(grid.ny, grid.nx)).ravel()
    shown = np.flatnonzero((counts > 0) | (np.abs(z) >= 1.96))
    px, py = grid.corners(shown)
    proj = inc.projection
    cx, cy = proj.inverse(px, py) if proj is not None else (px, py)
    rows = [{"cell_x": round(float(a), 7), "cell_y": round(float(b), 7),
             "incidents": int(counts[i]), "density": round(float(density[i]), 5),
             "gi_star_z": round(float(z[i]), 3),
             "hot_spot": bool(z[i] >= 1.96), "cold_spot": bool(z[i] <= -1.96)}
            for a, b, i in zip(cx, cy, shown, strict=True)]
    return {"cell_size_m": cell_size, "incidents": len(inc), "cells": rows,
            "geojson": grid.geojson(rows, px, py, proj), "rejected": inc.issues_json()}
