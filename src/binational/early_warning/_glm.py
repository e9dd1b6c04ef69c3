"""Batched Poisson/quasi-Poisson GLM fits that reproduce R's ``glm.fit`` step for step.

Why not statsmodels: the Farrington procedures fit one small GLM (35-50 rows, 1-2 columns) per
monitored week, several times; statsmodels' per-model overhead (formula, results object) costs
~1 ms each, and its IRLS starts and stops differently from R's, so edge cases (all-zero
windows, non-convergence after 25 iterations) would disagree with the reference. Here a whole
series' windows are fitted at once as a batch of weighted least-squares problems, with R's
start (``mu = y + 0.1``), convergence test (relative deviance change below 1e-8) and iteration
limit (25); each batch member stops updating as soon as it has converged, as R's loop does.
Rows with prior weight 0 are padding (R's "not good" observations): they do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

EPS = float(np.finfo(float).eps)
EPSILON = 1e-8
MAXIT = 25

Array = NDArray[np.float64]


@dataclass
class GlmFit:
    beta: Array          # (B, p)
    mu: Array            # (B, n) fitted means
    work_w: Array        # (B, n) IRLS weights of the last iteration (R's ``fit$weights``)
    cov_unscaled: Array  # (B, p, p) (X' W X)^-1 of the last iteration
    dispersion: Array    # (B,) Pearson dispersion as summary.glm computes it
    df_residual: Array   # (B,)
    converged: NDArray[np.bool_]

    def hat(self, X: Array) -> Array:
        """Diagonal of the hat matrix (R's ``hatvalues`` on a glm)."""
        q = np.einsum("bni,bij,bnj->bn", X, self.cov_unscaled, X)
        return np.asarray(self.work_w * q, dtype=float)

    def coef_pvalue(self, j: int) -> Array:
        """Two-sided t-test p-value of coefficient ``j`` with the estimated dispersion
        (summary.glm for a quasi family)."""
        from scipy import stats

        se = np.sqrt(self.dispersion * self.cov_unscaled[:, j, j])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.beta[:, j] / se
        return np.asarray(2 * stats.t.sf(np.abs(t), self.df_residual), dtype=float)


def _poisson_dev(y: Array, mu: Array, w: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return np.asarray(np.sum(2 * w * (ylogy - (y - mu)), axis=1), dtype=float)


def fit_poisson(X: Array, y: Array, w: Array) -> GlmFit:
    """Fit log-link Poisson GLMs for a batch: X (B, n, p), y and prior weights w (B, n)."""
    B, n, p = X.shape
    good = w > 0
    eta = np.log(y + 0.1)
    mu = np.maximum(np.exp(eta), EPS)
    devold = _poisson_dev(y, mu, w)
    beta = np.zeros((B, p))
    work_w = np.zeros((B, n))
    cov = np.zeros((B, p, p))
    conv = np.zeros(B, dtype=bool)
    active = np.ones(B, dtype=bool)
    for _ in range(MAXIT):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        e, m, yy, ww = eta[idx], mu[idx], y[idx], w[idx]
        mu_eta = np.maximum(np.exp(e), EPS)
        z = e + (yy - m) / mu_eta
        wt = np.where(good[idx], ww * mu_eta**2 / m, 0.0)
        Xa = X[idx]
        xtwx = np.einsum("bni,bn,bnj->bij", Xa, wt, Xa)
        xtwz = np.einsum("bni,bn,bn->bi", Xa, wt, z)
        inv = np.linalg.inv(xtwx)
        b_new = np.einsum("bij,bj->bi", inv, xtwz)
        eta_new = np.einsum("bni,bi->bn", Xa, b_new)
        mu_new = np.maximum(np.exp(eta_new), EPS)
        dev = _poisson_dev(yy, mu_new, ww)
        beta[idx], eta[idx], mu[idx] = b_new, eta_new, mu_new
        work_w[idx], cov[idx] = wt, inv
        done = np.abs(dev - devold[idx]) / (np.abs(dev) + 0.1) < EPSILON
        conv[idx[done]] = True
        active[idx[done]] = False
        devold[idx] = dev
    with np.errstate(divide="ignore", invalid="ignore"):
        res = (y - mu) / np.maximum(np.exp(eta), EPS)
    df_r = good.sum(axis=1) - p
    disp = np.sum(np.where(work_w > 0, work_w * res**2, 0.0), axis=1) / df_r
    return GlmFit(beta, mu, work_w, cov, disp, df_r.astype(float), conv)


def predict(fit: GlmFit, x0: Array, dispersion: Array | None = None) -> tuple[Array, Array]:
    """Response-scale prediction and its standard error at x0 (B, p), as predict.glm does
    (``dispersion`` defaults to the fit's own, like R when none is passed)."""
    disp = fit.dispersion if dispersion is None else dispersion
    eta0 = np.einsum("bi,bi->b", x0, fit.beta)
    with np.errstate(over="ignore"):   # a wild trend extrapolation; the caller rejects it
        mu0 = np.maximum(np.exp(eta0), EPS)
    se_link = np.sqrt(np.einsum("bi,bij,bj->b", x0, fit.cov_unscaled, x0) * disp)
    return mu0, se_link * mu0


def predict_link(fit: GlmFit, x0: Array, dispersion: Array | None = None) -> tuple[Array, Array]:
    disp = fit.dispersion if dispersion is None else dispersion
    eta0 = np.einsum("bi,bi->b", x0, fit.beta)
    se_link = np.sqrt(np.einsum("bi,bij,bj->b", x0, fit.cov_unscaled, x0) * disp)
    return eta0, se_link


def anscombe_weights(fit: GlmFit, X: Array, y: Array, w: Array, phi: Array,
                     threshold: float) -> Array:
    """Farrington's down-weighting of past outbreaks: standardised Anscombe residuals s,
    weight gamma * s^-2 above the threshold and gamma otherwise, normalised to mean 1."""
    h = fit.hat(X)
    mu = fit.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.5 * (y ** (2 / 3) * mu ** (-1 / 6) - np.sqrt(mu))
        s = a / np.sqrt(phi[:, None] * (1 - h))
    good = w > 0
    high = s > threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        inv2 = np.where(high, s, 1.0) ** -2.0
        terms = np.where(good, np.where(high, inv2, 1.0), 0.0)
        gamma = good.sum(axis=1) / terms.sum(axis=1)
        omega = np.where(high, gamma[:, None] * inv2, gamma[:, None])
    return np.where(good, omega, 0.0)
