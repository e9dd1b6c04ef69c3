"""Attribute matching of unidentified remains against missing-person reports (NamUs style).

Hard exclusions: incompatible sex; remains found before the disappearance; estimated age or
stature outside the remains' range by more than the tolerance. Everything else adds points:

=====================  =====================================================================
sex agrees             +1 (both known)
age                    +2 inside the range, falling linearly to 0 at the tolerance
stature                +2 inside the range, falling linearly to 0 at the tolerance
same state             +1
exclusive description  +1 per agreeing category (hair, eyes, build), -3 per conflicting one
shared marks           the category weight per shared code (implant 4, tattoo 3, dental 3,
                       scar 2, clothing 1)
=====================  =====================================================================

The missing person's age is carried forward to the date the remains were found. All pairs
are scored at once with NumPy, a block of remains against every report at a time, and the
best ``top`` per remains kept (``argpartition``), so 10,000 x 10,000 runs in seconds. The
reasons of a kept candidate are recomputed for that pair alone (``explain``), in the same
terms, so the score and its explanation cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binational.identification.codes import (
    EXCLUSIVE,
    EXCLUSIVE_INDEX,
    MARK_WEIGHT,
    MARKS,
    label,
)

AGE_TOLERANCE = 5.0  # years beyond the remains' estimated range
STATURE_TOLERANCE = 7.5  # cm: reported statures are often rounded or self-reported
EXCLUDED = -math.inf
_EPOCH = date(1970, 1, 1)
_SEX = {"M": 1, "F": 2}


@dataclass
class Description:
    """What matching needs of a report or of remains (age and stature as ranges)."""

    id: str
    sex: str = "U"
    age_min: float | None = None
    age_max: float | None = None
    stature_min: float | None = None
    stature_max: float | None = None
    on: date | None = None  # disappeared on (missing) or found on (remains)
    state: str | None = None
    codes: list[str] = field(default_factory=list)


@dataclass
class Candidate:
    id: str
    score: float
    reasons: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 3), "reasons": self.reasons}


class _Columns:
    def __init__(self, rows: Sequence[Description]) -> None:
        n = len(rows)
        self.ids = [r.id for r in rows]
        self.sex = np.array([_SEX.get(r.sex, 0) for r in rows], dtype=np.int8)
        nan = float("nan")
        f32 = np.float32
        self.age_lo = np.array([r.age_min if r.age_min is not None else nan for r in rows], f32)
        self.age_hi = np.array([r.age_max if r.age_max is not None else nan for r in rows], f32)
        self.st_lo = np.array(
            [r.stature_min if r.stature_min is not None else nan for r in rows], f32
        )
        self.st_hi = np.array(
            [r.stature_max if r.stature_max is not None else nan for r in rows], f32
        )
        # Dates as years since 1970 (float32 keeps a day's precision over centuries).
        self.year = np.array([(r.on - _EPOCH).days / 365.25 if r.on else nan for r in rows], f32)
        self.state_of = [r.state for r in rows]
        self.exclusive = np.zeros((len(EXCLUSIVE), n), dtype=np.int8)
        self.marks: list[list[tuple[int, float]]] = []
        for j, r in enumerate(rows):
            marks = []
            for code in r.codes:
                cat, _, val = code.partition(":")
                if cat in EXCLUSIVE_INDEX:
                    self.exclusive[list(EXCLUSIVE).index(cat), j] = EXCLUSIVE_INDEX[cat][val]
                elif cat in MARKS:
                    marks.append((_MARK_CODE[code], MARK_WEIGHT[cat]))
            self.marks.append(marks)


_MARK_CODE = {f"{c}:{v}": i for i, (c, vals) in enumerate(MARKS.items()) for v in vals}
_MARK_CODE = {code: i for i, code in enumerate(_MARK_CODE)}


class _Target:
    """Per-value score vectors over the missing persons, so that scoring a block of remains
    is a few gathers and adds instead of comparisons of every pair."""

    def __init__(self, mis: _Columns) -> None:
        self.cols = mis
        n = len(mis.ids)
        f32 = np.float32
        ninf = f32(-np.inf)
        ms = mis.sex
        sex = [
            np.zeros(n, f32),
            np.where(ms == 2, ninf, (ms == 1).astype(f32)),
            np.where(ms == 1, ninf, (ms == 2).astype(f32)),
        ]
        states = sorted({s for s in mis.state_of if s})
        self.state_index = {s: i + 1 for i, s in enumerate(states)}
        codes = np.array([self.state_index.get(s or "", 0) for s in mis.state_of])
        state = [np.zeros(n, f32)] + [(codes == i + 1).astype(f32) for i in range(len(states))]
        self.n_states = len(state)
        # Gather tables of combined categories: (sex, state), (hair, eyes), (build).
        self.sex_state = np.stack([a + b for a in sex for b in state])
        excl = []
        for c, cat in enumerate(EXCLUSIVE):
            b = mis.exclusive[c]
            vecs = [np.zeros(n, f32)]
            for v in range(1, len(EXCLUSIVE[cat]) + 1):
                vecs.append(np.where(b == 0, f32(0), np.where(b == v, f32(1), f32(-3))))
            excl.append(vecs)
        self.n_eyes = len(excl[1])
        self.hair_eyes = np.stack([a + b for a in excl[0] for b in excl[1]])
        self.build = np.stack(excl[2])
        # Age carried to the date found: age + (found - gone) = base + found (gone known).
        gone = mis.year
        known = ~np.isnan(gone)
        self.age_base = np.where(known, mis.age_lo - np.nan_to_num(gone), mis.age_lo).astype(f32)
        self.age_gone_known = known.astype(f32)
        self.gone = np.where(known, gone, f32(-np.inf)).astype(f32)
        self.age_known = (~np.isnan(mis.age_lo)).astype(f32)
        self.st_known = (~np.isnan(mis.st_lo)).astype(f32)
        inv: dict[int, list[int]] = {}
        weight: dict[int, float] = {}
        for j, marks in enumerate(mis.marks):
            for code, w in marks:
                inv.setdefault(code, []).append(j)
                weight[code] = w
        self.by_mark = {c: (np.array(js, dtype=np.intp), weight[c]) for c, js in inv.items()}


class _Work:
    """Preallocated block-sized arrays: the scorer works in place (no per-op allocation)."""

    def __init__(self, rows: int, cols: int) -> None:
        self.score = np.empty((rows, cols), np.float32)
        self.t1 = np.empty((rows, cols), np.float32)
        self.t2 = np.empty((rows, cols), np.float32)
        self.t3 = np.empty((rows, cols), np.float32)
        self.mask = np.empty((rows, cols), np.bool_)


def _add_range_points(
    score: NDArray[np.float32],
    x: NDArray[np.float32],
    lo: NDArray[np.float32],
    hi: NDArray[np.float32],
    tol: float,
    known_r: NDArray[np.float32],
    known_m: NDArray[np.float32],
    t1: NDArray[np.float32],
    t2: NDArray[np.float32],
    mask: NDArray[np.bool_],
) -> None:
    """score += 2 inside the range, falling to 0 at the tolerance, -inf beyond; 0 unknown."""
    np.subtract(lo, x, out=t1)
    np.subtract(x, hi, out=t2)
    np.fmax(t1, t2, out=t1)
    np.fmax(t1, np.float32(0), out=t1)  # fmax drops NaN: an unknown side gives distance 0
    np.greater(t1, np.float32(tol), out=mask)
    np.multiply(t1, np.float32(-2 / tol), out=t1)
    t1 += np.float32(2)
    t1 *= known_r
    t1 *= known_m
    score += t1
    score[mask] = -np.inf


def score_block(
    rem: _Columns,
    tgt: _Target,
    rows: slice,
    age_tol: float = AGE_TOLERANCE,
    stature_tol: float = STATURE_TOLERANCE,
    work: _Work | None = None,
) -> NDArray[np.float32]:
    """Scores of remains ``rows`` (first axis) against every missing person (second axis)."""
    n = rows.stop - rows.start
    m = len(tgt.cols.ids)
    if work is None or work.score.shape[1] != m or work.score.shape[0] < n:
        work = _Work(n, m)
    score, t1, t2, t3 = (a[:n] for a in (work.score, work.t1, work.t2, work.t3))
    mask = work.mask[:n]
    st = np.array([tgt.state_index.get(s or "", 0) for s in rem.state_of[rows]], dtype=np.intp)
    sex = rem.sex[rows].astype(np.intp)
    np.take(tgt.sex_state, sex * tgt.n_states + st, axis=0, out=score)
    ex = rem.exclusive[:, rows].astype(np.intp)
    np.take(tgt.hair_eyes, ex[0] * tgt.n_eyes + ex[1], axis=0, out=t1)
    score += t1
    np.take(tgt.build, ex[2], axis=0, out=t1)
    score += t1
    found = rem.year[rows]
    found_known = ~np.isnan(found)
    # Found before the disappearance: excluded (NaN compares false: unknown dates pass).
    np.less(found[:, None], tgt.gone[None, :], out=mask)
    score[mask] = -np.inf
    np.multiply(np.nan_to_num(found)[:, None], tgt.age_gone_known[None, :], out=t3)
    t3 += tgt.age_base[None, :]
    if not found_known.all():
        t3[~found_known] = tgt.cols.age_lo[None, :]
    age_r = (~np.isnan(rem.age_lo[rows]) & ~np.isnan(rem.age_hi[rows])).astype(np.float32)
    _add_range_points(
        score,
        t3,
        rem.age_lo[rows, None],
        rem.age_hi[rows, None],
        age_tol,
        age_r[:, None],
        tgt.age_known[None, :],
        t1,
        t2,
        mask,
    )
    st_r = (~np.isnan(rem.st_lo[rows]) & ~np.isnan(rem.st_hi[rows])).astype(np.float32)
    _add_range_points(
        score,
        tgt.cols.st_lo[None, :],
        rem.st_lo[rows, None],
        rem.st_hi[rows, None],
        stature_tol,
        st_r[:, None],
        tgt.st_known[None, :],
        t1,
        t2,
        mask,
    )
    for i, marks in enumerate(rem.marks[rows]):
        for code, w in marks:
            hit = tgt.by_mark.get(code)
            if hit is not None:
                score[i, hit[0]] += np.float32(w)
    return score


def rank(
    remains: Sequence[Description],
    missing: Sequence[Description],
    top: int = 10,
    block: int = 256,
    age_tol: float = AGE_TOLERANCE,
    stature_tol: float = STATURE_TOLERANCE,
    explain_all: bool = True,
) -> dict[str, list[Candidate]]:
    """The best ``top`` missing persons for each remains, best first (ties by id)."""
    rem, mis = _Columns(remains), _Columns(missing)
    tgt = _Target(mis)
    work = _Work(min(block, len(remains)), len(missing))
    out: dict[str, list[Candidate]] = {}
    by_id = {m.id: m for m in missing}
    k = min(top, len(missing))
    if k == 0:
        return {r.id: [] for r in remains}
    for start in range(0, len(remains), block):
        rows = slice(start, min(start + block, len(remains)))
        s = score_block(rem, tgt, rows, age_tol, stature_tol, work)
        part = (
            np.argpartition(-s, k - 1, axis=1)[:, :k]
            if k < s.shape[1]
            else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
        )
        for i, cols in enumerate(part):
            r = remains[start + i]
            picked = [(float(s[i, j]), mis.ids[j]) for j in cols if s[i, j] > EXCLUDED]
            picked.sort(key=lambda x: (-x[0], x[1]))
            out[r.id] = [
                Candidate(
                    mid, sc, explain(r, by_id[mid], age_tol, stature_tol) if explain_all else []
                )
                for sc, mid in picked
            ]
    return out


def _exclusive_of(d: Description) -> dict[str, str]:
    return {c.partition(":")[0]: c for c in d.codes if c.partition(":")[0] in EXCLUSIVE}


def explain(
    rem: Description,
    mis: Description,
    age_tol: float = AGE_TOLERANCE,
    stature_tol: float = STATURE_TOLERANCE,
) -> list[dict[str, Any]]:
    """The reasons of a pair's score, each with its points and an English/Spanish label."""
    reasons: list[dict[str, Any]] = []

    def add(key: str, points: float, en: str, es: str) -> None:
        reasons.append({"reason": key, "points": round(points, 3), "en": en, "es": es})

    if rem.sex in _SEX and rem.sex == mis.sex:
        add("sex", 1.0, f"sex {mis.sex}", f"sexo {mis.sex}")
    if mis.age_min is not None and rem.age_min is not None and rem.age_max is not None:
        years = (rem.on - mis.on).days / 365.25 if rem.on and mis.on else 0.0
        age = mis.age_min + years
        dist = max(rem.age_min - age, age - rem.age_max, 0.0)
        if dist <= age_tol:
            add(
                "age",
                2 * (1 - dist / age_tol),
                f"age {age:.0f} at the date found; remains {rem.age_min:g}-{rem.age_max:g}",
                f"edad {age:.0f} a la fecha del hallazgo; restos {rem.age_min:g}-{rem.age_max:g}",
            )
    if mis.stature_min is not None and rem.stature_min is not None and rem.stature_max is not None:
        dist = max(rem.stature_min - mis.stature_min, mis.stature_min - rem.stature_max, 0.0)
        if dist <= stature_tol:
            add(
                "stature",
                2 * (1 - dist / stature_tol),
                f"stature {mis.stature_min:.0f} cm; remains "
                f"{rem.stature_min:.0f}-{rem.stature_max:.0f} cm",
                f"estatura {mis.stature_min:.0f} cm; restos "
                f"{rem.stature_min:.0f}-{rem.stature_max:.0f} cm",
            )
    if rem.state and rem.state == mis.state:
        add("state", 1.0, f"same state {rem.state}", f"mismo estado {rem.state}")
    rcodes, mcodes = set(rem.codes), set(mis.codes)
    rex, mex = _exclusive_of(rem), _exclusive_of(mis)
    for cat in EXCLUSIVE:
        a, b = rex.get(cat), mex.get(cat)
        if a and b:
            la = label(a)
            if a == b:
                add(a, 1.0, la["en"], la["es"])
            else:
                lb = label(b)
                add(f"{a}!={b}", -3.0, f"{la['en']} vs {lb['en']}", f"{la['es']} vs {lb['es']}")
    for code in sorted(rcodes & mcodes):
        cat = code.partition(":")[0]
        if cat in MARKS:
            lc = label(code)
            add(code, MARK_WEIGHT[cat], lc["en"], lc["es"])
    return reasons
