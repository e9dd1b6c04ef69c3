"""The transaction graph in memory: dense account indices and NumPy columns.

Every feature, rule and the cycle search read this one shape, so that they vectorise (NumPy
and polars work on whole columns) and compile (numba loops over plain arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

DAY = 86_400
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Graph:
    """Edges ``src -> dst`` with amount (in USD) and time (epoch seconds), sorted by time.

    ``accounts[i]`` is the source id of account ``i``; ``cash`` marks cash deposits
    (``src`` is the depositor's own account) and withdrawals; ``location`` is a branch or
    place code (-1 unknown) for the funnel rule; ``holder`` groups accounts by their person or
    company (-1 unknown) for per-person aggregation.
    """

    accounts: npt.NDArray[np.str_]
    src: IntArray
    dst: IntArray
    amount: FloatArray
    ts: IntArray
    cash: npt.NDArray[np.int8]  # 0 transfer, 1 cash deposit (to dst), 2 cash withdrawal (src)
    location: IntArray
    holder: IntArray

    @property
    def n_accounts(self) -> int:
        return len(self.accounts)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def window(self, start: int | None, end: int | None) -> Graph:
        """The edges with ``start <= ts < end`` (same account indices)."""
        lo = 0 if start is None else int(np.searchsorted(self.ts, start, side="left"))
        hi = self.n_edges if end is None else int(np.searchsorted(self.ts, end, side="left"))
        return Graph(self.accounts, self.src[lo:hi], self.dst[lo:hi], self.amount[lo:hi],
                     self.ts[lo:hi], self.cash[lo:hi], self.location[lo:hi],
                     self.holder)


def from_frame(frame: pl.DataFrame, accounts: list[str] | None = None,
               holders: dict[str, str] | None = None) -> Graph:
    """Build a graph from a frame with ``source``, ``target`` (str), ``amount_usd`` (float),
    ``ts`` (int seconds) and optionally ``channel`` (str), ``location`` (str) columns.

    ``accounts`` fixes the account order (e.g. every account of the dataset, including those
    without transactions); accounts seen only in the edges are appended. ``holders`` maps an
    account to its holder's id (a person or company), for per-person aggregation.
    """
    known = list(accounts or [])
    ids = pl.concat([frame["source"], frame["target"]]).unique(maintain_order=True)
    if known:
        ids = ids.filter(~ids.is_in(known))
    names = known + [str(x) for x in ids.to_list()]
    index = pl.DataFrame({"account": names, "idx": np.arange(len(names), dtype=np.int64)})
    frame = frame.sort("ts", maintain_order=True)
    src = frame.select("source").join(index, left_on="source", right_on="account",
                                      how="left", maintain_order="left")["idx"].to_numpy()
    dst = frame.select("target").join(index, left_on="target", right_on="account",
                                      how="left", maintain_order="left")["idx"].to_numpy()
    cols = frame.columns
    if "channel" in cols:
        channel = frame["channel"].fill_null("")
        cash = np.where(channel == "cash-deposit", 1,
                        np.where(channel == "cash-withdrawal", 2, 0)).astype(np.int8)
    else:
        cash = np.zeros(frame.height, dtype=np.int8)
    if "location" in cols:
        loc = frame["location"].fill_null("").cast(pl.Categorical).to_physical()
        location = np.where(frame["location"].is_null().to_numpy(), -1,
                            loc.to_numpy().astype(np.int64))
    else:
        location = np.full(frame.height, -1, dtype=np.int64)
    return Graph(
        accounts=np.array(names, dtype=np.str_),
        src=np.ascontiguousarray(src, dtype=np.int64),
        dst=np.ascontiguousarray(dst, dtype=np.int64),
        amount=np.ascontiguousarray(frame["amount_usd"].to_numpy(), dtype=np.float64),
        ts=np.ascontiguousarray(frame["ts"].to_numpy(), dtype=np.int64),
        cash=cash,
        location=np.ascontiguousarray(location, dtype=np.int64),
        holder=_holders(names, holders or {}),
    )


def _holders(names: list[str], holders: dict[str, str]) -> IntArray:
    codes: dict[str, int] = {}
    out = np.full(len(names), -1, dtype=np.int64)
    for i, name in enumerate(names):
        who = holders.get(name)
        if who is not None:
            out[i] = codes.setdefault(who, len(codes))
    return out
