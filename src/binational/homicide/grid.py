"""Square grid cells over a plane in metres: binning, smoothing, cell corners and GeoJSON.

Cells are aligned on multiples of the cell size (origin at 0, 0 of the plane), so the same
cell has the same corner whatever the extent of the data, and two runs can be compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from binational.core.errors import InvalidInput
from binational.homicide.incidents import LocalProjection

MAX_CELLS = 4_000_000


@dataclass(frozen=True)
class Grid:
    x0: float
    y0: float
    size: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, x: NDArray[np.float64], y: NDArray[np.float64], size: float) -> Grid:
        if size <= 0 or not math.isfinite(size):
            raise InvalidInput("the cell size must be a positive number of metres")
        if len(x) == 0:
            raise InvalidInput("no usable incidents to lay a grid over")
        x0 = math.floor(float(x.min()) / size) * size
        y0 = math.floor(float(y.min()) / size) * size
        nx = math.floor((float(x.max()) - x0) / size) + 1
        ny = math.floor((float(y.max()) - y0) / size) + 1
        if nx * ny > MAX_CELLS:
            raise InvalidInput(f"a {size:g} m grid over this area has {nx * ny:,} cells (more "
                               f"than {MAX_CELLS:,}); choose a larger --cell-size")
        return cls(x0, y0, size, nx, ny)

    @property
    def cells(self) -> int:
        return self.nx * self.ny

    def index(self, x: NDArray[np.float64], y: NDArray[np.float64]
              ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Flat cell index (row-major, ``iy * nx + ix``) of each point, and which fall inside."""
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1), inside

    def counts(self, x: NDArray[np.float64], y: NDArray[np.float64],
               weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Counts (or summed weights) per cell, as a flat array."""
        idx, inside = self.index(x, y)
        w = None if weights is None else weights[inside]
        return np.bincount(idx[inside], weights=w, minlength=self.cells).astype(float)

    def smoothed(self, x: NDArray[np.float64], y: NDArray[np.float64],
                 weights: NDArray[np.float64] | None, bandwidth: float,
                 oversample: int = 4) -> NDArray[np.float64]:
        """A Gaussian kernel density (bandwidth in metres) integrated over each cell: points
        binned on a grid ``oversample`` times finer, blurred, and summed back per cell.
        A binned KDE (as in KDEpy's FFT method) costs O(cells), not O(cells x points)."""
        k = max(1, oversample)
        fine = Grid(self.x0, self.y0, self.size / k, self.nx * k, self.ny * k)
        dens = fine.counts(x, y, weights).reshape(fine.ny, fine.nx)
        if bandwidth > 0:
            dens = ndimage.gaussian_filter(dens, bandwidth / fine.size, mode="constant",
                                           truncate=4.0)
        return np.asarray(dens.reshape(self.ny, k, self.nx, k).sum(axis=(1, 3)).ravel(),
                          dtype=float)

    def corners(self, flat: NDArray[np.int64]) -> tuple[NDArray[np.float64],
                                                         NDArray[np.float64]]:
        """Lower-left corners (plane metres) of cells given by flat index."""
        xs = self.x0 + (flat % self.nx).astype(float) * self.size
        ys = self.y0 + (flat // self.nx).astype(float) * self.size
        return xs.astype(np.float64), ys.astype(np.float64)

    def polygon(self, x: float, y: float,
                projection: LocalProjection | None = None) -> list[list[list[float]]]:
        """A GeoJSON polygon ring of the cell whose lower-left corner (plane metres) is x, y."""
        xs = np.array([x, x + self.size, x + self.size, x, x])
        ys = np.array([y, y, y + self.size, y + self.size, y])
        if projection is not None:
            xs, ys = projection.inverse(xs, ys)
        return [[[round(float(a), 7), round(float(b), 7)] for a, b in zip(xs, ys, strict=True)]]

    def geojson(self, rows: list[dict[str, Any]], plane_x: NDArray[np.float64],
                plane_y: NDArray[np.float64], projection: LocalProjection | None
                ) -> dict[str, Any]:
        features = [{"type": "Feature", "id": i,
                     "geometry": {"type": "Polygon",
                                  "coordinates": self.polygon(float(px), float(py), projection)},
                     "properties": row}
                    for i, (row, px, py) in enumerate(zip(rows, plane_x, plane_y, strict=True))]
        return {"type": "FeatureCollection", "features": features}
