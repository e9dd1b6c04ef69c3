"""Typology rules: explainable, each with its thresholds in a per-jurisdiction configuration.

A rule looks at the whole graph at once (NumPy over columns) and returns, for the accounts it
fires on, a reason in English and Spanish that quotes the measured value and the threshold.
The rule score of an account is the noisy-OR of the weights of the rules that fired.

Thresholds that are law (US currency transaction reports over $10,000 of cash per person
per business day, 31 CFR 1010.311; Mexico's limits on US-dollar cash deposits, $4,000 a month
for an individual account holder, and relevant-operation reports from the equivalent of
$7,500 in cash, per the CNBV's general provisions on Article 115 of the Ley de Instituciones
de Crédito) are defaults of the jurisdiction's configuration; the behavioural thresholds
(fan-in, pass-through...) are tuning, set per deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from binational.core.errors import InvalidInput
from binational.finance.cycles import CycleResult, temporal_cycles
from binational.finance.features import (
    PASS_THROUGH_WINDOW,
    Ordered,
    pass_through,
    unique_counts,
    unique_ints,
)
from binational.finance.graph import DAY, FloatArray, Graph, IntArray

BoolArray = npt.NDArray[np.bool_]
CHUNK = 200_000  # first hops per step of the scatter-gather join


DEFAULT_WEIGHTS = {
    "ctr": 0.3, "structuring": 0.6, "mx-usd-cash": 0.5, "mx-relevant-operation": 0.3,
    "funnel": 0.6, "pass-through": 0.5, "cycle": 0.7, "fan-in": 0.5, "fan-out": 0.5,
    "scatter-gather": 0.6, "gather-scatter": 0.6, "rapid-movement": 0.4, "designated": 0.9,
}

@dataclass(frozen=True)
class RuleConfig:
    jurisdiction: str = "US"
    ctr_threshold_usd: float = 10_000.0
    structuring_floor: float = 0.8  # cash deposits between 80% and 100% of the CTR threshold
    structuring_min: int = 2  # ... at least this many within structuring_days
    structuring_days: int = 7
    mx_usd_cash_month_limit: float = 4_000.0
    mx_relevant_operation_usd: float = 7_500.0
    funnel_min_locations: int = 3
    funnel_min_senders: int = 10
    funnel_outflow_share: float = 0.8
    pass_through_share: float = 0.9
    pass_through_min_inflow: float = 500.0
    fan_min: int = 10
    fan_days: int = 7
    scatter_min: int = 4
    scatter_days: int = 7
    rapid_hops_days: int = 1
    rapid_share: float = 0.8
    cycle_window_days: float = 10.0
    cycle_max_len: int = 6
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Rule -> weight in the noisy-OR rule score; 0 switches a rule off."""
    flag_at: float = 0.5


JURISDICTIONS = {
    "US": RuleConfig(jurisdiction="US"),
    # Mexico reports relevant operations and caps US-dollar cash; it has no $10,000 CTR.
    "MX": RuleConfig(jurisdiction="MX", weights={**DEFAULT_WEIGHTS, "ctr": 0.0}),
}


def config_for(jurisdiction: str, **overrides: float | int) -> RuleConfig:
    base = JURISDICTIONS.get(jurisdiction.upper())
    if base is None:
        raise InvalidInput(f"unknown jurisdiction {jurisdiction!r}; known: "
                           f"{', '.join(sorted(JURISDICTIONS))}")
    unknown = sorted(set(overrides) - set(RuleConfig.__dataclass_fields__))
    if unknown:
        raise InvalidInput(f"unknown rule setting(s): {', '.join(unknown)}")
    return replace(base, **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    text_es: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "text": self.text, "text_es": self.text_es}


@dataclass
class RuleResult:
    hits: dict[str, BoolArray]
    reasons: list[list[Reason]]
    score: FloatArray
    cycles: CycleResult | None = None

    def matrix(self) -> tuple[list[str], FloatArray]:
        """Rule hits as 0/1 columns (the model may learn from them)."""
        names = sorted(self.hits)
        if not names:
            return [], np.zeros((len(self.score), 0))
        return [f"rule_{n}" for n in names], np.column_stack(
            [self.hits[n].astype(np.float64) for n in names])


def _by_day_and(key: IntArray, ts: IntArray, amount: FloatArray, mask: BoolArray,
                days: int = 1) -> tuple[IntArray, IntArray, FloatArray]:
    """Sum of ``amount`` per (key, period of ``days`` days) over the rows in ``mask``."""
    k = key[mask]
    period = ts[mask] // (days * DAY)
    if len(k) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    width = int(period.max()) + 1
    combo = k * width + period
    uniq, _, inverse = unique_counts(combo)
    sums: FloatArray = np.bincount(inverse, weights=amount[mask]).astype(np.float64)
    return (uniq // width).astype(np.int64), (uniq % width).astype(np.int64), sums


def _holder_or_account(g: Graph, account: IntArray) -> IntArray:
    """Per-person aggregation: the holder's code when known, else the account itself."""
    holder = g.holder[account]
    return np.where(holder >= 0, holder, -1 - account)


def _accounts_of(g: Graph, who: IntArray) -> dict[int, list[int]]:
    owner = np.where(g.holder >= 0, g.holder, -1 - np.arange(g.n_accounts))
    groups: dict[int, list[int]] = {}
    wanted = set(int(x) for x in who)
    for i, o in enumerate(owner.tolist()):
        if o in wanted:
            groups.setdefault(o, []).append(i)
    return groups


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def evaluate(g: Graph, cfg: RuleConfig, cycles: CycleResult | None = None) -> RuleResult:
    """Run every rule of the configuration on the graph."""
    n = g.n_accounts
    reasons: list[list[Reason]] = [[] for _ in range(n)]
    hits: dict[str, BoolArray] = {}

    def fire(rule: str, mask: BoolArray, text: Callable[[int], tuple[str, str]]) -> None:
        if cfg.weights.get(rule, 0.0) <= 0:
            return
        hits[rule] = mask
        for i in np.flatnonzero(mask).tolist():
            en, es = text(i)
            reasons[i].append(Reason(rule, en, es))

    cash_in = g.cash == 1
    cash_out = g.cash == 2
    cash_acct = np.where(cash_in, g.dst, g.src)
    cash_any = cash_in | cash_out
    # -- US: currency transaction reports and structuring below them --------------------------
    who = _holder_or_account(g, cash_acct)
    owners, _, sums = _by_day_and(who, g.ts, g.amount, cash_any)
    over = sums > cfg.ctr_threshold_usd
    mask = np.zeros(n, dtype=bool)
    ctr_amount = np.zeros(n)
    for owner, total in zip(owners[over].tolist(), sums[over].tolist(), strict=True):
        for acct in _accounts_of(g, np.array([owner])).get(owner, []):
            mask[acct] = True
            ctr_amount[acct] = max(ctr_amount[acct], total)
    fire("ctr", mask, lambda i: (
        f"cash of {_usd(ctr_amount[i])} in one business day by the same person, over the "
        f"{_usd(cfg.ctr_threshold_usd)} currency-report threshold",
        f"efectivo por {_usd(ctr_amount[i])} en un día hábil por la misma persona, arriba del "
        f"umbral de reporte de {_usd(cfg.ctr_threshold_usd)}"))
    band = cash_in & (g.amount >= cfg.structuring_floor * cfg.ctr_threshold_usd) & (
        g.amount <= cfg.ctr_threshold_usd)
    owners_s, _, cnts = _by_day_and(g.dst, g.ts, np.ones(g.n_edges), band,
                                    cfg.structuring_days)
    near = np.zeros(n, dtype=np.int64)
    np.maximum.at(near, owners_s, cnts.astype(np.int64))
    mask = near >= cfg.structuring_min
    fire("structuring", mask, lambda i: (
        f"{near[i]} cash deposits just under the {_usd(cfg.ctr_threshold_usd)} report "
        f"threshold within {cfg.structuring_days} days (threshold {cfg.structuring_min})",
        f"{near[i]} depósitos en efectivo justo debajo del umbral de "
        f"{_usd(cfg.ctr_threshold_usd)}"))
    # -- Mexico: US-dollar cash limits and relevant operations --------------------------------
    if cfg.jurisdiction == "MX":
        owners_m, _, month_sums = _by_day_and(g.dst, g.ts, g.amount, cash_in, 30)
        mask = np.zeros(n, dtype=bool)
        worst = np.zeros(n)
        big = month_sums > cfg.mx_usd_cash_month_limit
        mask[owners_m[big]] = True
        np.maximum.at(worst, owners_m[big], month_sums[big])
        fire("mx-usd-cash", mask, lambda i: (
            f"{_usd(worst[i])} of cash deposited in 30 days, over Mexico's "
            f"{_usd(cfg.mx_usd_cash_month_limit)} monthly limit on US-dollar cash",
            f"{_usd(worst[i])} depositados en efectivo en 30 días, arriba del límite mensual "
            f"de {_usd(cfg.mx_usd_cash_month_limit)} en dólares en efectivo"))
        relevant = cash_any & (g.amount >= cfg.mx_relevant_operation_usd)
        n_rel = np.bincount(cash_acct[relevant], minlength=n)
        fire("mx-relevant-operation", n_rel > 0, lambda i: (
            f"{n_rel[i]} cash operation(s) of at least {_usd(cfg.mx_relevant_operation_usd)}: "
            "relevant-operation report due",
            f"{n_rel[i]} operación(es) en efectivo de al menos "
            f"{_usd(cfg.mx_relevant_operation_usd)}: reporte de operación relevante"))
    # -- behaviour ------------------------------------------------------------------------
    ts0 = g.ts - (g.ts[0] if g.n_edges else 0)
    span = int(ts0[-1]) + 40 * DAY + 1 if g.n_edges else 1
    in_o = Ordered(g.dst, g.src, ts0, g.amount, n, span)
    out_o = Ordered(g.src, g.dst, ts0, g.amount, n, span)
    fan_w = cfg.fan_days * DAY
    in_cp = _distinct_in_window(in_o, fan_w)
    out_cp = _distinct_in_window(out_o, fan_w)
    fire("fan-in", in_cp >= cfg.fan_min, lambda i: (
        f"money from {int(in_cp[i])} different accounts within {cfg.fan_days} days "
        f"(threshold {cfg.fan_min})",
        f"dinero de {int(in_cp[i])} cuentas distintas en {cfg.fan_days} días "
        f"(umbral {cfg.fan_min})"))
    fire("fan-out", out_cp >= cfg.fan_min, lambda i: (
        f"money to {int(out_cp[i])} different accounts within {cfg.fan_days} days "
        f"(threshold {cfg.fan_min})",
        f"dinero a {int(out_cp[i])} cuentas distintas en {cfg.fan_days} días "
        f"(umbral {cfg.fan_min})"))
    inflow = np.bincount(g.dst, weights=g.amount, minlength=n)
    share = pass_through(in_o, out_o, PASS_THROUGH_WINDOW)
    mask = (share >= cfg.pass_through_share) & (inflow >= cfg.pass_through_min_inflow)
    fire("pass-through", mask, lambda i: (
        f"{share[i]:.0%} of {_usd(inflow[i])} received left again within 48 hours "
        f"(threshold {cfg.pass_through_share:.0%})",
        f"{share[i]:.0%} de {_usd(inflow[i])} recibidos salió de nuevo en 48 horas "
        f"(umbral {cfg.pass_through_share:.0%})"))
    rapid = pass_through(in_o, out_o, cfg.rapid_hops_days * DAY)
    onward = _onward_rapid(g, rapid >= cfg.rapid_share)
    mask = (rapid >= cfg.rapid_share) & onward & (inflow >= cfg.pass_through_min_inflow)
    fire("rapid-movement", mask, lambda i: (
        f"{rapid[i]:.0%} of inflow moved on within {cfg.rapid_hops_days} day(s), to an "
        "account that moved it on just as fast",
        f"{rapid[i]:.0%} de lo recibido siguió en {cfg.rapid_hops_days} día(s) hacia una "
        "cuenta que lo movió igual de rápido"))
    # gather-scatter: many in, then many out, through the same account in one window.
    mask = (in_cp >= cfg.scatter_min) & (out_cp >= cfg.scatter_min) & (share >= 0.5)
    fire("gather-scatter", mask, lambda i: (
        f"gathered from {int(in_cp[i])} accounts and scattered to {int(out_cp[i])} within "
        f"{cfg.fan_days} days, passing on {share[i]:.0%}",
        f"reunió de {int(in_cp[i])} cuentas y dispersó a {int(out_cp[i])} en "
        f"{cfg.fan_days} días, pasando {share[i]:.0%}"))
    sg_src, sg_dst, sg_mid = scatter_gather(g, cfg.scatter_days * DAY, cfg.scatter_min)
    mask = np.zeros(n, dtype=bool)
    mask[sg_src] = True
    mask[sg_dst] = True
    mids = np.zeros(n, dtype=np.int64)
    np.maximum.at(mids, sg_src, sg_mid)
    np.maximum.at(mids, sg_dst, sg_mid)
    fire("scatter-gather", mask, lambda i: (
        f"money split across {int(mids[i])} intermediaries and gathered again within "
        f"{cfg.scatter_days} days",
        f"dinero repartido entre {int(mids[i])} intermediarios y reunido de nuevo en "
        f"{cfg.scatter_days} días"))
    # funnel: deposits in many places (or from many senders), out elsewhere
    funnel, places, located = _funnel(g, cfg)
    fire("funnel", funnel, lambda i: (
        f"cash deposited at {int(places[i])} different places, withdrawn at another"
        if located[i] else
        f"money from {int(places[i])} different senders, most of it sent on to a few",
        f"efectivo depositado en {int(places[i])} lugares distintos, retirado en otro"
        if located[i] else
        f"dinero de {int(places[i])} remitentes distintos, casi todo reenviado a pocos"))
    if cycles is None and cfg.weights.get("cycle", 0) > 0:
        cycles = temporal_cycles(g, window=int(cfg.cycle_window_days * DAY),
                                 max_len=cfg.cycle_max_len)
    if cycles is not None:
        on = cycles.per_account
        fire("cycle", on > 0, lambda i: (
            f"on {int(on[i])} time-ordered cycle(s) of at most {cfg.cycle_max_len} transfers "
            f"within {cfg.cycle_window_days:g} days: the money came back",
            f"en {int(on[i])} ciclo(s) en orden temporal de a lo más {cfg.cycle_max_len} "
            f"transferencias en {cfg.cycle_window_days:g} días: el dinero regresó"))
    score = np.zeros(n)
    for rule, mask in hits.items():
        w = cfg.weights.get(rule, 0.0)
        score = 1.0 - (1.0 - score) * (1.0 - w * mask)
    return RuleResult(hits, reasons, score, cycles)


def add_designated(result: RuleResult, cfg: RuleConfig, designated: dict[int, str]) -> None:
    """Counterparties (or holders) on a designation list, found by screening."""
    w = cfg.weights.get("designated", 0.0)
    if w <= 0 or not designated:
        return
    mask = np.zeros(len(result.score), dtype=bool)
    for i, why in designated.items():
        mask[i] = True
        result.reasons[i].append(Reason(
            "designated", f"designation list: {why}",
            f"lista de designados: {why}"))
    result.hits["designated"] = mask
    result.score = 1.0 - (1.0 - result.score) * (1.0 - w * mask)


def _distinct_in_window(o: Ordered, window: int) -> FloatArray:
    """Most distinct counterparties of an account within any trailing window (counted as
    the first edge to each counterparty inside the window)."""
    n = o.n
    if len(o.key) == 0:
        return np.zeros(n)
    # For each edge, whether the same (account, counterparty) pair occurred within the
    # window before it: then it adds no new counterparty.
    pair = o.acc * (int(o.other.max()) + 1) + o.other
    order = np.lexsort((o.ts, pair))
    p, t = pair[order], o.ts[order]
    repeat = np.zeros(len(p), dtype=bool)
    repeat[1:] = (p[1:] == p[:-1]) & (t[1:] - t[:-1] < window)
    new = np.empty(len(p), dtype=np.float64)
    new[order] = ~repeat
    csum = np.concatenate(([0.0], np.cumsum(new)))
    hi = np.searchsorted(o.key, o.key, side="right")
    lo = np.searchsorted(o.key, o.key - window, side="right")
    return o.per_account_max(csum[hi] - csum[lo])


def _onward_rapid(g: Graph, fast: BoolArray) -> BoolArray:
    """Accounts that sent money to an account that is itself a fast mover."""
    out = np.zeros(g.n_accounts, dtype=bool)
    out[g.src[fast[g.dst]]] = True
    return out


def scatter_gather(g: Graph, window: int, minimum: int) -> tuple[IntArray, IntArray, IntArray]:
    """Pairs (a, b) with at least ``minimum`` distinct intermediaries m such that a -> m
    and then m -> b within ``window``. Intermediaries with more than 50 edges either way
    are skipped (a hub is not a mule): it bounds the two-hop join."""
    if g.n_edges == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    deg_in = np.bincount(g.dst, minlength=g.n_accounts)
    deg_out = np.bincount(g.src, minlength=g.n_accounts)
    small = (deg_in <= 50) & (deg_out <= 50)
    first = np.flatnonzero(small[g.dst])  # a -> m
    second = np.flatnonzero(small[g.src])  # m -> b
    order2 = second[np.argsort(g.src[second], kind="stable")]
    mids2 = g.src[order2]
    n = g.n_accounts
    found: list[IntArray] = []
    # In chunks of first hops, so that the two-hop join never holds more than a few
    # million candidate paths at once (memory stays flat on graphs of millions of edges).
    for start in range(0, len(first), CHUNK):
        part = first[start:start + CHUNK]
        lo = np.searchsorted(mids2, g.dst[part], side="left")
        hi = np.searchsorted(mids2, g.dst[part], side="right")
        lengths = hi - lo
        total = int(lengths.sum())
        if total == 0:
            continue
        rep = np.repeat(part, lengths)
        offsets = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        idx2 = order2[np.arange(total) + offsets]
        ok = ((g.ts[idx2] >= g.ts[rep]) & (g.ts[idx2] - g.ts[rep] <= window)
              & (g.src[rep] != g.dst[idx2]))
        a, m, b = g.src[rep[ok]], g.dst[rep[ok]], g.dst[idx2[ok]]
        found.append(unique_ints((a * n + b) * n + m))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    triples = unique_ints(np.concatenate(found))
    pairs, counts, _ = unique_counts(triples // n)
    keep = counts >= minimum
    return pairs[keep] // n, pairs[keep] % n, counts[keep].astype(np.int64)


def _funnel(g: Graph, cfg: RuleConfig) -> tuple[BoolArray, FloatArray, BoolArray]:
    n = g.n_accounts
    deposits = g.cash == 1
    places = np.zeros(n)
    has_loc = deposits & (g.location >= 0)
    if has_loc.any():
        width = int(g.location.max()) + 1
        pairs = unique_ints(g.dst[has_loc] * width + g.location[has_loc])
        places = np.bincount(pairs // width, minlength=n).astype(np.float64)
        withdraw = (g.cash == 2) & (g.location >= 0)
        dep_pairs = set(pairs.tolist())
        elsewhere = np.zeros(n, dtype=bool)
        for acct, loc in zip(g.src[withdraw].tolist(), g.location[withdraw].tolist(),
                             strict=True):
            if acct * width + loc not in dep_pairs:
                elsewhere[acct] = True
        located = (places >= cfg.funnel_min_locations) & elsewhere
    else:
        located = np.zeros(n, dtype=bool)
    # Without places: many distinct senders, most of the money sent on to few receivers.
    senders = np.zeros(n)
    if g.n_edges:
        width = n
        senders = np.bincount(unique_ints(g.dst * width + g.src) // width,
                              minlength=n).astype(np.float64)
    receivers = np.zeros(n)
    if g.n_edges:
        receivers = np.bincount(unique_ints(g.src * n + g.dst) // n,
                                minlength=n).astype(np.float64)
    inflow = np.bincount(g.dst, weights=g.amount, minlength=n)
    outflow = np.bincount(g.src, weights=g.amount, minlength=n)
    by_senders = ((senders >= cfg.funnel_min_senders) & (receivers >= 1)
                  & (receivers * 3 <= senders)
                  & (outflow >= cfg.funnel_outflow_share * np.maximum(inflow, 1e-9)))
    return (located | by_senders, np.where(located, places, senders * by_senders),
            located)
