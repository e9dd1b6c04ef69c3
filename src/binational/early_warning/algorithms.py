"""Aberration detection on count series, with the defaults of the reference implementations.

- ``ears-c1``/``ears-c2``/``ears-c3``: R ``surveillance::earsC`` (baseline 7, minSigma 0,
  alpha 0.001 for C1 and C2 and 0.025 for C3).
- ``farrington``: R ``surveillance::farrington`` / ``algo.farrington`` (b=5, w=3, reweight,
  alpha 0.05 two-sided, trend when significant, limit54 = 5 cases in 4 periods, 2/3 power).
- ``farrington-flexible``: R ``surveillance::farringtonFlexible`` (b=5, w=3, weightsThreshold
  2.58, alpha 0.05 one-sided, pThresholdTrend 0.05, noPeriods 1, pastWeeksNotIncluded = w,
  thresholdMethod "delta").
- ``glrnb``: R ``surveillance::glrnb`` with only a range given: mu0 from a negative binomial
  GLM (intercept + one harmonic) on the periods before the range, alpha = 1/theta, c.ARL 5,
  Mtilde 1, M -1 (all past since the last alarm), increases only, ret "value".
- ``ewma`` and ``regression``: ESSENCE's EWMA (28-period baseline, 2-period guard band,
  smoothing 0.4 and 0.9) and adaptive multiple regression (trend plus day-of-week for daily
  series), red at p < 0.01 and yellow at p < 0.05; ``switch`` is ESSENCE's Regression/EWMA
  switch (regression while its adjusted R-squared is at least 0.6).

Every algorithm takes the counts (oldest first) and the number of periods per year, and
returns a ``Detection`` over the monitored periods: expected count, upper bound (the count
above which the period alarms), the alarm, and where defined a p-value. ``alarm`` is
undefined (``None`` in JSON) where R returns ``NA``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from binational.early_warning import _glm
from binational.early_warning._glm import Array

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class SeriesTooShort(ValueError):
    """The series has fewer periods than the algorithm needs."""


@dataclass
class Detection:
    algorithm: str
    index: IntArray          # 0-based positions of the monitored periods
    expected: Array          # NaN where undefined
    upperbound: Array        # NaN where undefined
    alarm: BoolArray
    defined: BoolArray       # False where the reference returns NA (grey)
    pvalue: Array | None = None
    notes: list[str] = field(default_factory=list)

    def levels(self, observed: Array) -> list[str]:
        """red / yellow / blue / grey per monitored period (see ``alert_level``)."""
        return [alert_level(bool(a), bool(d), float(e), float(u), float(observed[i]),
                            None if self.pvalue is None else float(self.pvalue[j]))
                for j, (i, a, d, e, u) in enumerate(zip(self.index, self.alarm, self.defined,
                                                        self.expected, self.upperbound,
                                                        strict=True))]


# A count is "yellow" (a warning) when it is past two thirds of the way from the expected
# count to the alarm threshold; ESSENCE's p-value based algorithms use their own documented
# levels (p < 0.05 yellow, p < 0.01 red) instead.
YELLOW_FRACTION = 2 / 3


def alert_level(alarm: bool, defined: bool, expected: float, upperbound: float, count: float,
                pvalue: float | None) -> str:
    if not defined:
        return "grey"
    if pvalue is not None and not np.isnan(pvalue):
        return "red" if pvalue < 0.01 else "yellow" if pvalue < 0.05 else "blue"
    if alarm:
        return "red"
    if (np.isfinite(expected) and np.isfinite(upperbound) and upperbound > expected
            and count > expected + YELLOW_FRACTION * (upperbound - expected)):
        return "yellow"
    return "blue"


def _need(n: int, first: int, name: str, what: str) -> None:
    if first >= n or first < 0:
        raise SeriesTooShort(f"{name} needs more than {first} periods ({what}); "
                             f"the series has {n}")


# -- EARS C1, C2, C3 (surveillance::earsC) -------------------------------------------------

def _ears_refs(x: Array, t: IntArray, lag_from: int, baseline: int) -> Array:
    offsets = np.arange(lag_from + baseline - 1, lag_from - 1, -1)  # e.g. 7..1 or 9..3
    return np.asarray(x[t[:, None] - offsets[None, :]], dtype=float)


def ears(x: Array, method: str, baseline: int = 7, min_sigma: float = 0.0,
         alpha: float | None = None) -> Detection:
    n = len(x)
    method = method.upper()
    if alpha is None:
        alpha = 0.025 if method == "C3" else 0.001
    z = float(stats.norm.ppf(1 - alpha))
    start = {"C1": baseline, "C2": baseline + 2, "C3": baseline + 4}[method]
    _need(n, start, f"EARS {method}", f"a baseline of {baseline} and its lag")
    t = np.arange(start, n)
    if method in ("C1", "C2"):
        refs = _ears_refs(x, t, 1 if method == "C1" else 3, baseline)
        mean = refs.mean(axis=1)
        sd = refs.std(axis=1, ddof=1)
        ub = mean + z * np.maximum(sd, min_sigma)
        expected = mean
    else:
        t2 = np.arange(start - 2, n)
        refs = _ears_refs(x, t2, 3, baseline)
        mean = refs.mean(axis=1)
        sd = np.maximum(refs.std(axis=1, ddof=1), min_sigma)
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = (x[t2] - mean) / sd
        lag2 = np.maximum(0.0, c2[:-2] - 1)
        lag1 = np.maximum(0.0, c2[1:-1] - 1)
        with np.errstate(invalid="ignore"):
            # As R does: the bound is built on the observed count (so a C3 alarm is decided
            # by the two lagged C2 terms), then floored at 0.
            ub = np.maximum(0.0, x[t] + sd[2:] * (z - (lag2 + lag1)))
        expected = mean[2:]
    defined = ~np.isnan(ub)
    with np.errstate(invalid="ignore"):
        alarm = np.where(defined, x[t] > ub, False)
    return Detection(f"ears-{method.lower()}", t, expected, ub, alarm, defined)


# -- Farrington (surveillance::algo.farrington) -------------------------------------------

def _design(wtime: Array, trend: BoolArray) -> Array:
    ones = np.ones_like(wtime)
    return np.stack([ones, np.where(trend[:, None], wtime, 0.0)], axis=2)


def _fit_reweighted(X: Array, y: Array, w: Array, reweight: bool,
                    threshold: float, flexible: bool = False) -> tuple[_glm.GlmFit, Array]:
    fit = _glm.fit_poisson(X, y, w)
    phi = np.maximum(fit.dispersion, 1.0)
    if reweight:
        omega = _glm.anscombe_weights(fit, X, y, w, phi, threshold)
        fit = _glm.fit_poisson(X, y, omega)
        phi = np.maximum(fit.dispersion, 1.0)
        if flexible:
            # farringtonFlexible then stores the Anscombe weights in ``model$weights`` (R's
            # slot for the IRLS weights), so every later summary.glm - the trend's p-value
            # and the prediction's standard error, not phi - uses sum(omega * r^2) / df with
            # the working residuals r = (y - mu) / mu. Reproduced as is.
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (y - fit.mu) / fit.mu
            fit.dispersion = np.sum(np.where(omega > 0, omega * r**2, 0.0), axis=1) \
                / fit.df_residual
    return fit, phi


def _intercept_only(X: Array) -> Array:
    return X[:, :, :1].copy()


def _fit_with_trend_choice(wtime: Array, y: Array, w: Array, k1: Array, b: int,
                           reweight: bool, threshold: float, p_trend: float,
                           flexible: bool) -> tuple[_glm.GlmFit, Array, Array,
                                                             BoolArray, BoolArray]:
    """Fit with a time trend, keep it only if significant, b >= 3 and not extrapolating;
    returns the fit, phi, the design row for the predicted period, which fits used a trend,
    and which failed to converge even without one."""
    B = len(y)
    Xt = np.stack([np.ones_like(wtime), wtime], axis=2)
    # First fit with the trend; where it does not converge, R drops the trend.
    first = _glm.fit_poisson(Xt, y, w)
    no_conv = ~first.converged
    failed = np.zeros(B, dtype=bool)
    fit_t, phi_t = _fit_reweighted(Xt, y, w, reweight, threshold, flexible)
    x0_t = np.stack([np.ones(B), k1], axis=1)
    mu_hat, _ = _glm.predict(fit_t, x0_t)
    pval = fit_t.coef_pvalue(1)
    maxresp = np.max(np.where(w > 0, y, -np.inf), axis=1)
    keep = (b >= 3) & (pval < p_trend) & (mu_hat <= maxresp) & ~no_conv
    X1 = np.ones((B, y.shape[1], 1))
    fit_0, phi_0 = _fit_reweighted(X1, y, w, reweight, threshold, flexible)
    if flexible:
        plain = _glm.fit_poisson(X1, y, w)
        failed = no_conv & ~plain.converged
    # Merge: trend fits where kept, intercept-only fits elsewhere (padded to 2 columns).
    beta = np.where(keep[:, None], fit_t.beta, np.column_stack([fit_0.beta[:, 0], np.zeros(B)]))
    cov = np.zeros((B, 2, 2))
    cov[keep] = fit_t.cov_unscaled[keep]
    cov[~keep, 0, 0] = fit_0.cov_unscaled[~keep, 0, 0]
    merged = _glm.GlmFit(beta=beta, mu=np.where(keep[:, None], fit_t.mu, fit_0.mu),
                         work_w=np.where(keep[:, None], fit_t.work_w, fit_0.work_w),
                         cov_unscaled=cov,
                         dispersion=np.where(keep, fit_t.dispersion, fit_0.dispersion),
                         df_residual=np.where(keep, fit_t.df_residual, fit_0.df_residual),
                         converged=np.where(keep, fit_t.converged, fit_0.converged))
    phi = np.where(keep, phi_t, phi_0)
    x0 = np.stack([np.ones(B), np.where(keep, k1, 0.0)], axis=1)
    return merged, phi, x0, keep, failed


def _windows(n: int, t: IntArray, freq: int, b: int, w: int) -> tuple[Array, Array, Array]:
    """Reference periods k-i*freq-w .. k-i*freq+w for i = b..1 (1-based ``wtime``, as R),
    padded with zero-weight rows where they fall before the series."""
    offs = np.concatenate([np.arange(-i * freq - w, -i * freq + w + 1) for i in range(b, 0, -1)])
    pos = t[:, None] + offs[None, :]            # 0-based
    ok = pos >= 0
    return (pos + 1).astype(float), np.where(ok, 1.0, 0.0), np.where(ok, pos, 0).astype(float)


def farrington(x: Array, freq: int, b: int = 5, w: int = 3, reweight: bool = True,
               alpha: float = 0.05, trend: bool = True, limit54: tuple[int, int] = (5, 4),
               start: int | None = None) -> Detection:
    n = len(x)
    first = (freq * b - w - 1) if start is None else start   # R: range (freq*b - w):n
    _need(n, max(first, limit54[1] - 1), "farrington", f"b={b} years of {freq} periods")
    t = np.arange(first, n)
    wtime, wts, posf = _windows(n, t, freq, b, w)
    pos = posf.astype(np.int64)
    y = np.where(wts > 0, x[pos], 0.0)
    k1 = (t + 1).astype(float)
    if trend:
        fit, phi, x0, _, _ = _fit_with_trend_choice(wtime, y, wts, k1, b, reweight, 1.0,
                                                    0.05, False)
    else:
        X1 = np.ones((len(t), y.shape[1], 1))
        f0, phi = _fit_reweighted(X1, y, wts, reweight, 1.0)
        fit, x0 = f0, np.ones((len(t), 1))
    mu0, se = _glm.predict(fit, x0, dispersion=phi)
    z = float(stats.norm.ppf(1 - alpha / 2))
    tau = phi + se**2 / mu0
    sd = np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau)
    upper = (mu0 ** (2 / 3) + z * sd) ** 1.5
    recent = np.array([x[max(0, k - limit54[1] + 1):k + 1].sum() for k in t])
    enough = recent >= limit54[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(enough, (x[t] - mu0) / (upper - mu0), 0.0)
    alarm = score > 1
    ub = np.where(enough, upper, 0.0)
    return Detection("farrington", t, mu0, ub, alarm, np.ones(len(t), dtype=bool))


def farrington_flexible(x: Array, freq: int, b: int = 5, w: int = 3, reweight: bool = True,
                        weights_threshold: float = 2.58, alpha: float = 0.05,
                        trend: bool = True, p_threshold_trend: float = 0.05,
                        limit54: tuple[int, int] = (5, 4),
                        past_weeks_not_included: int | None = None,
                        start: int | None = None) -> Detection:
    n = len(x)
    pwni = w if past_weeks_not_included is None else past_weeks_not_included
    first = (freq * b + w) if start is None else start       # R: range (freq*b + w + 1):n
    _need(n, max(first, freq * b + w), "farrington-flexible",
          f"b={b} years of {freq} periods and w={w}")
    t = np.arange(first, n)
    # Reference windows around k - i*freq, i = 1..b; the last pwni+1 periods are left out.
    offs = np.sort(np.concatenate([np.arange(-i * freq - w, -i * freq + w + 1)
                                   for i in range(1, b + 1)]))
    offs = offs[offs < -pwni]
    pos = t[:, None] + offs[None, :]
    wts = np.ones(pos.shape)
    y = x[pos].astype(float)
    wtime = (pos + 1).astype(float)
    k1 = (t + 1).astype(float)
    B = len(t)
    defined = np.ones(B, dtype=bool)
    if trend:
        fit, phi, x0, _, failed = _fit_with_trend_choice(wtime, y, wts, k1, b, reweight,
                                                         weights_threshold, p_threshold_trend,
                                                         True)
        defined &= ~failed
    else:
        X1 = np.ones((B, y.shape[1], 1))
        fit, phi = _fit_reweighted(X1, y, wts, reweight, weights_threshold, True)
        x0 = np.ones((B, 1))
    # R passes ``dispersion`` inside newdata here, so predict.glm uses the model's own
    # (unclamped) dispersion for the standard error; phi (>= 1) enters tau.
    mu0, se = _glm.predict(fit, x0)
    z = float(stats.norm.ppf(1 - alpha))
    tau = phi + se**2 / mu0
    sd = np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau)
    upper = (mu0 ** (2 / 3) + z * sd) ** 1.5
    recent = np.array([x[max(0, k - limit54[1] + 1):k + 1].sum() for k in t])
    enough = recent >= limit54[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (x[t] - mu0) / (upper - mu0)
    alarm = enough & (score > 1) & (x[t] != 0) & defined
    ub = np.where(enough & defined, upper, np.nan)
    exp_ = np.where(defined, mu0, np.nan)
    return Detection("farrington-flexible", t, exp_, ub, alarm, defined)


# -- GLR-CUSUM, negative binomial (surveillance::glrnb) -------------------------------------

def _theta_ml(y: Array, mu: Array, limit: int = 25) -> float:
    """MASS::theta.ml: Newton-Raphson for the negative binomial size (weights 1). The
    digamma/trigamma terms depend on y only through its distinct values (few, for counts),
    so they are evaluated once per distinct value."""
    n = len(y)
    uy, cnt = np.unique(y, return_counts=True)
    t0 = n / np.sum((y / mu - 1) ** 2)
    eps = np.finfo(float).eps ** 0.25
    it, delta = 0, 1.0
    while True:
        it += 1
        if not (it < limit and abs(delta) > eps):
            break
        t0 = abs(t0)
        score = (np.sum(cnt * special.digamma(t0 + uy)) - n * special.digamma(t0)
                 + n * (np.log(t0) + 1) - np.sum(np.log(t0 + mu) + (y + t0) / (mu + t0)))
        # trigamma(z) is the Hurwitz zeta(2, z)
        info = (-np.sum(cnt * special.zeta(2, t0 + uy)) + n * special.zeta(2, t0) - n / t0
                + np.sum(2 / (mu + t0) - (y + t0) / (mu + t0) ** 2))
        delta = score / info
        t0 = t0 + delta
    return float(max(t0, 0.0))


def _nb_glm(X: Array, y: Array, theta: float | None, eta_start: Array | None) -> Array:
    """glm.fit with a log link, Poisson (theta None) or negative binomial with fixed theta;
    returns the fitted means."""
    if eta_start is None:
        eta = np.log(y + 0.1) if theta is None else np.log(y + (y == 0) / 6)
    else:
        eta = eta_start.copy()
    mu = np.maximum(np.exp(eta), _glm.EPS)

    def dev(m: Array) -> float:
        if theta is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                yl = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / m), 0.0)
            return float(np.sum(2 * (yl - (y - m))))
        return float(np.sum(2 * (y * np.log(np.maximum(1, y) / m)
                                 - (y + theta) * np.log((y + theta) / (m + theta)))))

    devold = dev(mu)
    for _ in range(_glm.MAXIT):
        mu_eta = np.maximum(np.exp(eta), _glm.EPS)
        var = mu if theta is None else mu + mu**2 / theta
        z = eta + (y - mu) / mu_eta
        wt = mu_eta**2 / var
        beta = np.linalg.solve(X.T @ (wt[:, None] * X), X.T @ (wt * z))
        eta = X @ beta
        mu = np.maximum(np.exp(eta), _glm.EPS)
        d = dev(mu)
        if abs(d - devold) / (abs(d) + 0.1) < _glm.EPSILON:
            break
        devold = d
    return np.asarray(mu)


def _nb_loglik(theta: float, mu: Array, y: Array) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):   # theta 0: glrnb reports it
        return float(np.sum(special.gammaln(theta + y) - special.gammaln(theta)
                            - special.gammaln(y + 1) + theta * np.log(theta)
                            + y * np.log(mu + (y == 0)) - (theta + y) * np.log(theta + mu)))


def glm_nb(X: Array, y: Array) -> tuple[Array, float]:
    """MASS::glm.nb (log link, no weights): alternate the GLM for fixed theta and theta.ml
    until the log-likelihood and theta settle. Returns (beta-free) fitted means and theta."""
    mu = _nb_glm(X, y, None, None)
    th = _theta_ml(y, mu)
    it, d1, d2, delta = 0, np.sqrt(2 * max(1, len(y) - X.shape[1])), 1.0, 1.0
    lm = _nb_loglik(th, mu, y)
    lm0 = lm + 2 * d1
    while True:
        it += 1
        if not (it <= _glm.MAXIT and (abs(lm0 - lm) / d1 + abs(delta) / d2) > _glm.EPSILON):
            break
        eta = np.log(mu)
        new_mu = _nb_glm(X, y, th, eta)
        t0 = th
        th = _theta_ml(y, mu)   # as MASS does: theta from the previous iteration's means
        mu = new_mu
        delta = t0 - th
        lm0 = lm
        lm = _nb_loglik(th, mu, y)
    return mu, th


def _harmonic(t: Array, freq: int) -> Array:
    X = np.empty((len(t), 3))
    X[:, 0] = 1.0
    X[:, 1] = np.cos(2 * np.pi / freq * t)
    X[:, 2] = np.sin(2 * np.pi / freq * t)
    return X


def glrnb_baseline(x: Array, freq: int, start: int) -> tuple[Array, float]:
    """mu0 over the monitored periods and alpha, from glm.nb on the periods before them."""
    train = np.arange(1, start + 1, dtype=float)
    X = _harmonic(train, freq)
    mu_train, theta = glm_nb(X, x[:start].astype(float))
    # Refit coefficients from the fitted means (log-linear, exact) to predict the range.
    beta, *_ = np.linalg.lstsq(X, np.log(mu_train), rcond=None)
    if not theta > 0:
        # MASS::theta.ml gives up at 0 (R then runs the chart with alpha = Inf and returns
        # nothing usable); say so for this series instead.
        raise ValueError("glrnb: the negative binomial baseline could not be fitted "
                         "(theta estimate 0 on the training periods)")
    tr = np.arange(start + 1, len(x) + 1, dtype=float)
    return np.asarray(np.exp(_harmonic(tr, freq) @ beta)), 1.0 / theta


def _glr_block(x: Array, mu0: Array, alpha: float, n_lo: int, n_hi: int) -> Array:
    """GLR statistics max_k l_{n,k} for n_lo <= n < n_hi, all (n, k) pairs at once.

    For each (n, k) the C code runs Newton-Raphson on kappa. The log-likelihood is concave
    in kappa, so where its slope at 0 is not positive the increase-only MLE is 0 and
    l_{n,k} = 0: those pairs are skipped (the slopes at 0 are differences of one cumulative
    sum). The others run the same Newton-Raphson (start 0.5, stop below 1e-6 or at -18).
    """
    ia = 1.0 / alpha
    d0 = np.concatenate([[0.0], np.cumsum((x[:n_hi] - mu0[:n_hi]) / (1 + alpha * mu0[:n_hi]))])
    ns = np.arange(n_lo, n_hi)
    ks = np.arange(n_hi)
    slope0 = d0[ns[:, None] + 1] - d0[ks[None, :]]
    cand = (ks[None, :] <= ns[:, None]) & (slope0 > 0)
    glr = np.zeros(n_hi - n_lo)
    pn, pk = np.nonzero(cand)
    if pn.size == 0:
        return glr
    nn = ns[pn]
    cols = np.arange(n_hi)
    m = (cols[None, :] >= pk[:, None]) & (cols[None, :] <= nn[:, None])
    xs, ms = x[:n_hi][None, :], mu0[:n_hi][None, :]
    ams = alpha * ms
    axp1 = alpha * xs + 1
    kappa = np.full(pn.size, 0.5)
    old = np.full(pn.size, 0.4)
    for _ in range(1000):
        act = np.flatnonzero((kappa > -18) & (np.abs(kappa - old) > 1e-6))
        if act.size == 0:
            break
        ek = np.exp(kappa[act])[:, None]
        den = 1 + ams * ek
        ma = m[act]
        score = np.sum(np.where(ma, (xs - ek * ms) / den, 0.0), axis=1)
        fisher = ek[:, 0] * np.sum(np.where(ma, ms * axp1 / den**2, 0.0), axis=1)
        old[act] = kappa[act]
        kappa[act] = kappa[act] + score / fisher
    kml = np.maximum(0.0, kappa)[:, None]
    lnk = np.sum(np.where(m, kml * xs + (xs + ia) * (np.log1p(ams) - np.log1p(ams * np.exp(kml))),
                          0.0), axis=1)
    np.maximum.at(glr, pn, lnk)
    return glr


def _glr_nb_segment(x: Array, mu0: Array, alpha: float, c_arl: float) -> tuple[int, Array]:
    """One run of the GLR chart from the segment's start (C glr_nb_window with M=-1,
    Mtilde=1): the index of the first alarm (len(x) if none) and the statistic up to it.
    Computed in blocks of periods, stopping at the first block with an alarm."""
    lx = len(x)
    glr = np.zeros(lx)
    step = max(1, min(8, 400_000 // max(1, lx * lx)))
    for lo in range(0, lx, step):
        hi = min(lx, lo + step)
        block = _glr_block(x, mu0, alpha, lo, hi)
        glr[lo:hi] = block
        hit = np.flatnonzero(block >= c_arl)
        if hit.size:
            n = lo + int(hit[0])
            glr[n + 1:] = 0.0
            return n, glr
    return lx, glr


def glrnb(x: Array, freq: int, start: int | None = None, c_arl: float = 5.0,
          alpha: float | None = None) -> Detection:
    n = len(x)
    first = freq if start is None else start
    _need(n, max(first, 4), "glrnb", "a training period before the monitored range")
    mu0, alpha_est = glrnb_baseline(x, freq, first)
    det = _glr_run(x, first, mu0, alpha_est if alpha is None else alpha, c_arl)
    return det


def _glr_run(x: Array, first: int, mu0: Array, a: float, c_arl: float) -> Detection:
    """The GLR chart over x[first:], restarted after each alarm (as algo.glrnb does)."""
    n = len(x)
    xs = x[first:].astype(float)
    stat = np.zeros(len(xs))
    alarm = np.zeros(len(xs), dtype=bool)
    done = 0
    while done < len(xs):
        N, glr = _glr_nb_segment(xs[done:], mu0[done:], a, c_arl)
        stop = min(N + 1, len(xs) - done)
        stat[done:done + stop] = glr[:stop]
        if len(xs) - done > N:
            alarm[done + N] = True
        done += N + 1
    stat = np.where(np.isnan(stat) | (stat < 0), 0.0, stat)
    t = np.arange(first, n)
    det = Detection("glrnb", t, mu0, stat, alarm, np.ones(len(t), dtype=bool))
    det.notes.append(f"alpha={a:.6g}; upperbound is the GLR statistic (alarm at >= {c_arl})")
    return det


# -- ESSENCE EWMA and adaptive regression ------------------------------------------------------

ESSENCE_BASELINE = 28
ESSENCE_GUARD = 2
ESSENCE_MIN_BASELINE = 11


def _baseline_windows(n: int, baseline: int, guard: int) -> list[tuple[int, np.ndarray]]:
    """(test index, baseline indices) pairs, the baseline growing from 11 to ``baseline``
    periods and ending ``guard`` periods before the test period."""
    out = []
    for i in range(ESSENCE_MIN_BASELINE + guard, n):
        end = i - guard                          # exclusive
        length = min(baseline, end)
        out.append((i, np.arange(end - length, end)))
    return out


def ewma(x: Array, baseline: int = ESSENCE_BASELINE, guard: int = ESSENCE_GUARD,
         w1: float = 0.4, w2: float = 0.9, start: int | None = None) -> Detection:
    n = len(x)
    _need(n, ESSENCE_MIN_BASELINE + guard, "ewma", "a baseline of at least 11 periods")
    idx = np.arange(ESSENCE_MIN_BASELINE + guard, n, dtype=np.int64)
    end = idx - guard
    length = np.minimum(baseline, end)
    nb = length.astype(float)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x.astype(float) ** 2)])
    s1 = c1[end] - c1[end - length]
    s2 = c2[end] - c2[end - length]
    mean = s1 / nb
    sd = np.sqrt(np.maximum(s2 - s1 * s1 / nb, 0.0) / (nb - 1))
    dfree = nb - 1
    red = np.round(stats.t.ppf(0.99, dfree), 5)
    yellow = np.round(stats.t.ppf(0.95, dfree), 5)
    sigmas, consts = [], []
    for wgt in (w1, w2):
        corr = np.sqrt(wgt / (2 - wgt) + 1 / nb
                       - 2 * (1 - wgt) ** (guard + 1) * (1 - (1 - wgt) ** nb) / nb)
        min_sigma = wgt / yellow * (1 + 0.5 * (1 - wgt) ** 2)
        const = (0.1289 - (0.2414 - 0.1826 * (1 - wgt) ** 4) * np.log(10 * 0.05)) \
            * (wgt / yellow)
        sigmas.append(np.maximum(min_sigma, sd * corr + const))
        consts.append(const)
    # The recursion itself is scalar (each step's outlier cap feeds the next): plain floats.
    stat = np.zeros((2, len(idx)))
    bound = np.full(len(idx), np.inf)
    xs = [float(v) for v in x]
    means, reds = mean.tolist(), red.tolist()
    for k, wgt in enumerate((w1, w2)):
        zc = xs[0]
        for i in range(1, ESSENCE_MIN_BASELINE + guard):
            zc = wgt * xs[i] + (1 - wgt) * zc
        sig = sigmas[k].tolist()
        st_k, prevs = [], []
        for j, i in enumerate(idx.tolist()):
            prevs.append(zc)
            zc = wgt * xs[i] + (1 - wgt) * zc
            st = (zc - means[j]) / sig[j]
            st_k.append(st)
            if abs(st) > reds[j]:   # ESSENCE caps outliers so they do not swamp the EWMA
                zc = means[j] + (1.0 if st > 0 else -1.0) * reds[j] * sig[j]
        stat[k] = st_k
        # The count at which this smoothed statistic reaches the red threshold.
        bound = np.minimum(bound, (mean + red * sigmas[k] - (1 - wgt) * np.array(prevs)) / wgt)
    p_arr = np.minimum(stats.t.sf(stat[0], dfree), stats.t.sf(stat[1], dfree))
    keep = idx >= (start or 0)
    return Detection("ewma", idx[keep], mean[keep], bound[keep], (p_arr < 0.01)[keep],
                     np.ones(int(keep.sum()), dtype=bool), pvalue=p_arr[keep])


def regression(x: Array, periods: Sequence[date] | None = None, daily: bool = False,
               baseline: int = ESSENCE_BASELINE, guard: int = ESSENCE_GUARD,
               start: int | None = None) -> Detection:
    """ESSENCE adaptive multiple regression: a linear trend (plus day-of-week indicators for
    daily series) fitted to the baseline, forecast ``guard + 1`` periods ahead."""
    n = len(x)
    _need(n, ESSENCE_MIN_BASELINE + guard, "regression", "a baseline of at least 11 periods")
    dow = (np.array([d.isoweekday() for d in periods]) if daily and periods is not None
           else None)
    n_extra = 6 if dow is not None else 0
    idx: list[int] = []
    exp_l: list[float] = []
    sd_l: list[float] = []
    dfs: list[int] = []
    r2s: list[float] = []
    for i, base in _baseline_windows(n, baseline, guard):
        if i < (start or 0):
            continue
        nb = len(base)
        tt = np.arange(1, nb + 1, dtype=float)
        X = np.empty((nb, 2 + n_extra))
        X[:, 0] = 1.0
        X[:, 1] = tt
        if dow is not None:
            for d in range(1, 7):
                X[:, 1 + d] = dow[base] == d
        yb = x[base].astype(float)
        beta, _, rank, _ = np.linalg.lstsq(X, yb, rcond=None)
        fitted = X @ beta
        res = yb - fitted
        dfree = nb - 2 - n_extra
        rss = float(res @ res)
        mss = float(np.sum((fitted - fitted.mean()) ** 2))
        r2 = mss / (rss + mss) if rss + mss > 0 else float("nan")
        r2_adj = 1 - (1 - r2) * ((nb - 1) / (nb - rank))
        r2s.append(0.0 if np.isnan(r2_adj) else r2_adj)
        if dow is not None:
            infl = np.sqrt(((nb + 7) * (nb - 4)) / (nb * (nb - 7)))
        else:
            # Variance of a forecast guard+1 periods past a trend fitted on nb points.
            t0 = nb + guard + 1
            infl = np.sqrt(1 + 1 / nb + (t0 - tt.mean()) ** 2 / np.sum((tt - tt.mean()) ** 2))
        x0 = np.zeros(X.shape[1])
        x0[0], x0[1] = 1.0, nb + guard + 1
        if dow is not None and dow[i] < 7:
            x0[1 + dow[i]] = 1.0
        idx.append(i)
        exp_l.append(max(0.0, float(x0 @ beta)))
        sd_l.append(np.sqrt(rss / dfree) * infl)
        dfs.append(dfree)
    df_a = np.array(dfs, dtype=float)
    yellow = np.round(stats.t.ppf(0.95, df_a), 5)
    red = np.round(stats.t.ppf(0.99, df_a), 5)
    sigma = np.maximum(np.array(sd_l), 1.01 / yellow)
    expected = np.array(exp_l)
    ii = np.array(idx, dtype=np.int64)
    p_arr = stats.t.sf((x[ii] - expected) / sigma, df_a) if len(ii) else np.zeros(0)
    det = Detection("regression", ii, expected, expected + red * sigma, p_arr < 0.01,
                    np.ones(len(ii), dtype=bool), pvalue=p_arr)
    det.r2_adj = np.array(r2s)  # type: ignore[attr-defined]
    return det


def essence_switch(x: Array, periods: Sequence[date] | None = None,
                   daily: bool = False, start: int | None = None) -> Detection:
    """ESSENCE Regression/EWMA switch: regression where its adjusted R-squared is >= 0.6."""
    reg = regression(x, periods, daily, start=start)
    ew = ewma(x, start=start)
    use_reg = reg.r2_adj >= 0.6  # type: ignore[attr-defined]
    assert np.array_equal(reg.index, ew.index)

    def pick(a: Array, b: Array) -> Array:
        return np.where(use_reg, a, b)

    assert reg.pvalue is not None and ew.pvalue is not None
    return Detection("switch", reg.index, pick(reg.expected, ew.expected),
                     pick(reg.upperbound, ew.upperbound),
                     np.where(use_reg, reg.alarm, ew.alarm), reg.defined,
                     pvalue=pick(reg.pvalue, ew.pvalue))


# -- registry ------------------------------------------------------------------------------

FREQUENCIES = {"week": 52, "day": 365, "month": 12}

Runner = Callable[[Array, int, Sequence[date] | None, int | None], Detection]

ALGORITHMS: dict[str, Runner] = {
    "ears-c1": lambda x, f, p, s: ears(x, "C1"),
    "ears-c2": lambda x, f, p, s: ears(x, "C2"),
    "ears-c3": lambda x, f, p, s: ears(x, "C3"),
    "farrington": lambda x, f, p, s: farrington(x, f, start=s),
    "farrington-flexible": lambda x, f, p, s: farrington_flexible(x, f, start=s),
    "glrnb": lambda x, f, p, s: glrnb(x, f, start=s),
    "ewma": lambda x, f, p, s: ewma(x, start=s),
    "regression": lambda x, f, p, s: regression(x, p, daily=f == 365, start=s),
    "switch": lambda x, f, p, s: essence_switch(x, p, daily=f == 365, start=s),
}


def detect(algorithm: str, counts: Sequence[float] | Array, frequency: str = "week",
           periods: Sequence[date] | None = None, start: int | None = None) -> Detection:
    """Run one algorithm by name on a count series (oldest first)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected one of: "
                         f"{', '.join(ALGORITHMS)}")
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}; expected one of: "
                         f"{', '.join(FREQUENCIES)}")
    x = np.asarray(counts, dtype=float)
    return ALGORITHMS[algorithm](x, FREQUENCIES[frequency], periods, start)

