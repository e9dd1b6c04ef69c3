"""Synthetic transaction graphs with planted laundering patterns, for tests and the scale run.

Ordinary accounts pay random others at random times; planted groups form fan-ins, cycles
(within hours) and pass-through chains, whose accounts are labelled suspicious. Deterministic
for a seed. Written as an AMLSim sample folder (``nodes.csv``, ``transactions.csv``) or kept
as columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from binational.finance.graph import DAY, FloatArray, Graph, IntArray

HOUR = 3_600


@dataclass(frozen=True)
class Synthetic:
    n_accounts: int
    src: IntArray
    dst: IntArray
    amount: FloatArray
    ts: IntArray  # seconds from the start
    fraud: npt.NDArray[np.bool_]

    def graph(self, epoch: int = 0) -> Graph:
        order = np.argsort(self.ts, kind="stable")
        n = len(self.src)
        return Graph(
            accounts=np.array([str(i) for i in range(self.n_accounts)], dtype=np.str_),
            src=self.src[order], dst=self.dst[order], amount=self.amount[order],
            ts=self.ts[order] + epoch, cash=np.zeros(n, dtype=np.int8),
            location=np.full(n, -1, dtype=np.int64),
            holder=np.full(self.n_accounts, -1, dtype=np.int64))

    def write_amlsim(self, folder: Path) -> None:
        """As an AMLSim sample: time in whole day steps, in time order."""
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "nodes.csv").open("w", encoding="utf-8") as fh:
            fh.write("nodeid,isFraud,init_balance,fraudStep\n")
            for i in range(self.n_accounts):
                fh.write(f"{i},{int(self.fraud[i])},100.00,-1\n")
        order = np.argsort(self.ts, kind="stable")
        steps = self.ts[order] // DAY
        with (folder / "transactions.csv").open("w", encoding="utf-8") as fh:
            fh.write("sourceNodeId,targetNodeId,value,time\n")
            for s, d, a, t in zip(self.src[order].tolist(), self.dst[order].tolist(),
                                  self.amount[order].tolist(), steps.tolist(), strict=True):
                fh.write(f"{s},{d},{a:.2f},{t}\n")


def synthetic(n_accounts: int, n_edges: int, *, days: int = 60, patterns: int | None = None,
              seed: int = 7) -> Synthetic:
    """About ``n_edges`` transactions among ``n_accounts`` accounts over ``days`` days."""
    rng = np.random.default_rng(seed)
    patterns = patterns if patterns is not None else max(3, n_accounts // 200)
    span = days * DAY
    parts_src: list[IntArray] = []
    parts_dst: list[IntArray] = []
    parts_amt: list[FloatArray] = []
    parts_ts: list[IntArray] = []
    fraud = np.zeros(n_accounts, dtype=bool)
    pool = rng.permutation(n_accounts)
    used = 0

    def take(k: int) -> IntArray:
        nonlocal used
        if used + k > n_accounts:
            return np.zeros(0, dtype=np.int64)
        out = pool[used:used + k].astype(np.int64)
        used += k
        return out

    planted = 0
    for p in range(patterns):
        kind = p % 3
        start = int(rng.integers(0, max(span - 3 * DAY, 1)))
        if kind == 0:  # fan-in: many mules pay one collector within two days
            group = take(12)
            if len(group) < 12:
                break
            mules, boss = group[:-1], group[-1]
            parts_src.append(mules)
            parts_dst.append(np.full(len(mules), boss))
            parts_amt.append(rng.uniform(900, 990, len(mules)))
            parts_ts.append(start + rng.integers(0, 2 * DAY, len(mules)))
        elif kind == 1:  # cycle: the money comes back within hours
            group = take(int(rng.integers(3, 7)))
            if len(group) < 3:
                break
            steps = np.sort(rng.integers(0, 12 * HOUR, len(group)))
            parts_src.append(group)
            parts_dst.append(np.roll(group, -1))
            parts_amt.append(np.full(len(group), float(rng.uniform(5_000, 9_000))))
            parts_ts.append(start + steps)
        else:  # pass-through chain: in and straight out again
            group = take(4)
            if len(group) < 4:
                break
            amt = float(rng.uniform(2_000, 8_000))
            parts_src.append(group[:-1])
            parts_dst.append(group[1:])
            parts_amt.append(amt * np.array([1.0, 0.98, 0.96]))
            parts_ts.append(start + np.array([0, 6 * HOUR, 12 * HOUR]))
        fraud[group] = True
        planted += int(sum(len(x) for x in parts_src[-1:]))
    rest = max(n_edges - planted, 0)
    src = rng.integers(0, n_accounts, rest)
    dst = rng.integers(0, n_accounts - 1, rest)
    dst = np.where(dst >= src, dst + 1, dst)  # no self-loops
    parts_src.append(src)
    parts_dst.append(dst)
    parts_amt.append(np.round(rng.lognormal(5.0, 1.0, rest), 2))
    parts_ts.append(rng.integers(0, span, rest))
    return Synthetic(n_accounts, np.concatenate(parts_src).astype(np.int64),
                     np.concatenate(parts_dst).astype(np.int64),
                     np.concatenate(parts_amt).astype(np.float64),
                     np.concatenate(parts_ts).astype(np.int64), fraud)
