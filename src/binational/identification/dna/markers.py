"""STR markers: alleles, frequencies and mutation models.

The mutation models follow pedmut (Vigeland, R; the models Familias uses), row ``i`` being the
allele a parent carries and column ``j`` the allele it transmits:

* ``equal``: ``1 - rate`` on the diagonal, ``rate / (n - 1)`` elsewhere.
* ``proportional``: ``(1 - a) I + a p_j`` with ``a = rate / sum_i p_i (1 - p_i)``, so the
  expected mutation rate is ``rate``.
* ``stepwise``: between alleles of the same microvariant group (same decimal part) the
  weights ``range ** |x_i - x_j|`` normalised to ``rate``; to alleles of another group
  ``rate2`` shared equally; the diagonal ``1 - rate - rate2`` (``1 - rate`` when every allele
  is in one group, ``1 - rate2`` when the allele is alone in its group).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from binational.core.errors import InvalidInput

FloatArray = NDArray[np.float64]

MODELS = ("equal", "proportional", "stepwise")

# Frequency given to an allele a database does not list (NRC II recommends 5/2N; 0.001 is
# that floor for a database of 2,500 alleles and the usual Familias "minor allele frequency").
MIN_ALLELE_FREQUENCY = 0.001

# Frequencies must sum to 1 within this (pedtools rounds to 3 decimals before checking).
FREQUENCY_SUM_TOLERANCE = 5e-3


@dataclass(frozen=True)
class MutationModel:
    model: str
    rate: float
    rate2: float = 0.0
    range: float = 0.1

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise InvalidInput(
                f"unknown mutation model {self.model!r} (one of {', '.join(MODELS)})"
            )
        if not 0 <= self.rate <= 1 or not 0 <= self.rate2 <= 1 or self.rate + self.rate2 > 1:
            raise InvalidInput(f"mutation rates must lie in [0, 1]: {self.rate}, {self.rate2}")
        if self.model == "stepwise" and self.range <= 0:
            raise InvalidInput(f"the stepwise range must be positive: {self.range}")

    @property
    def lumpable(self) -> bool:
        """Whether unobserved alleles may be merged into one (exact for these two models)."""
        return self.model in ("equal", "proportional")

    def matrix(self, alleles: Sequence[str], freqs: FloatArray) -> FloatArray:
        n = len(alleles)
        if n == 1:
            return np.ones((1, 1))
        if self.model == "equal":
            m = np.full((n, n), self.rate / (n - 1))
            np.fill_diagonal(m, 1 - self.rate)
            return m
        if self.model == "proportional":
            alpha = self.rate / float(np.sum(freqs * (1 - freqs)))
            m = (1 - alpha) * np.eye(n) + alpha * freqs[None, :]
            if np.any(m > 1) or np.any(m < 0):
                raise InvalidInput(
                    f"proportional mutation rate {self.rate} too high for these frequencies"
                )
            return m
        return _stepwise(alleles, self.rate, self.rate2, self.range)


def _stepwise(alleles: Sequence[str], rate: float, rate2: float, rng: float) -> FloatArray:
    try:
        x = np.array([float(a) for a in alleles])
    except ValueError as e:
        raise InvalidInput(f"the stepwise model needs numeric allele names: {e}") from None
    if np.any(np.round(x, 1) != x):
        raise InvalidInput("stepwise model: microvariants must have one decimal (like 9.3)")
    group = np.round((x - np.round(x)) * 10).astype(int)
    n = len(x)
    m = np.zeros((n, n))
    for i in range(n):
        same = group == group[i]
        n_same = int(same.sum())
        for j in range(n):
            if i == j:
                m[i, j] = (
                    1 - rate if n_same == n else (1 - rate2 if n_same == 1 else 1 - rate - rate2)
                )
            elif same[j]:
                m[i, j] = rng ** abs(x[i] - x[j])
            else:
                m[i, j] = rate2 / (n - n_same)
        others = same.copy()
        others[i] = False
        if others.any():
            m[i, others] = m[i, others] / m[i, others].sum() * rate
    return m


@dataclass
class Marker:
    """One STR locus: allele labels, their frequencies, and sex-specific mutation models."""

    name: str
    alleles: list[str]
    freqs: FloatArray
    female: MutationModel | None = None
    male: MutationModel | None = None
    # Alleles added at MIN_ALLELE_FREQUENCY because a genotype carried them (reported).
    added: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.freqs = np.asarray(self.freqs, dtype=np.float64)
        if not self.alleles:
            raise InvalidInput(f"marker {self.name}: no alleles")
        if len(set(self.alleles)) != len(self.alleles):
            raise InvalidInput(f"marker {self.name}: duplicate allele labels")
        if self.freqs.shape != (len(self.alleles),):
            raise InvalidInput(
                f"marker {self.name}: {len(self.alleles)} alleles but {self.freqs.size} frequencies"
            )
        if np.any(~np.isfinite(self.freqs)) or np.any(self.freqs < 0):
            raise InvalidInput(f"marker {self.name}: frequencies must be non-negative numbers")
        total = float(self.freqs.sum())
        if abs(total - 1) > FREQUENCY_SUM_TOLERANCE:
            raise InvalidInput(f"marker {self.name}: frequencies sum to {total:.6f}, not 1")
        self._index = {a: i for i, a in enumerate(self.alleles)}
        self._mats: dict[int, FloatArray | None] = {}

    def index(self, allele: str) -> int:
        i = self._index.get(allele)
        if i is None:
            raise InvalidInput(
                f"marker {self.name}: allele {allele!r} is not in the frequency database"
            )
        return i

    def ensure_allele(self, allele: str, min_frequency: float = MIN_ALLELE_FREQUENCY) -> None:
        """Add an allele the database lacks at ``min_frequency``, scaling the others down.

        Mutation models are rebuilt from their parameters, so they include the new allele.
        """
        if allele in self._index:
            return
        self.freqs = np.append(self.freqs * (1 - min_frequency), min_frequency)
        self.alleles.append(allele)
        self._index[allele] = len(self.alleles) - 1
        self.added.append(allele)
        self._mats.clear()

    def mutation_matrix(self, sex: int) -> FloatArray | None:
        """The matrix for a parent of this sex (1 male, 2 female), or None without mutation."""
        if sex not in self._mats:
            model = self.male if sex == 1 else self.female
            if model is None or model.rate + model.rate2 == 0:
                self._mats[sex] = None
            else:
                self._mats[sex] = model.matrix(self.alleles, self.freqs)
        return self._mats[sex]

    @property
    def has_mutation(self) -> bool:
        return any(m is not None and m.rate + m.rate2 > 0 for m in (self.female, self.male))

    @property
    def lumpable(self) -> bool:
        return all(m is None or m.lumpable for m in (self.female, self.male))

    def without_mutation(self) -> Marker:
        return Marker(
            self.name, list(self.alleles), self.freqs.copy(), None, None, list(self.added)
        )
