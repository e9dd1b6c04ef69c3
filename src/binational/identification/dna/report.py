"""The JSON shape of a DVI solution (the CLI's ``--json`` and the API answer the same)."""

from __future__ import annotations

import math
from typing import Any

from binational.identification.dna.dvi import DviResult

# Ratios and probabilities are printed to 12 significant digits: the last bits of a double
# after exp(log-likelihood differences) are noise (250.0000000000008 is 250).
SIGNIFICANT = 12


def finite(x: float | None) -> float | None:
    """JSON has no infinities: an infinite GLR (pairing in every row) is reported as null."""
    if x is None or math.isinf(x) or math.isnan(x):
        return None
    return float(f"{float(x):.{SIGNIFICANT}g}")


def result_json(result: DviResult, top: int = 10) -> dict[str, Any]:
    post = result.posteriors()
    rows = []
    for k, row in enumerate(result.rows[:top]):
        rows.append(
            {
                **row,
                "loglik": result.logliks[k],
                "LR_vs_null": finite(result.lr(k)),
                "posterior": finite(post[k]),
            }
        )
    return {
        "case": result.case,
        "best_assignment": dict(result.best),
        "loglik": result.best_loglik,
        "lr_vs_null": finite(result.lr(0)),
        "posterior": finite(post[0]),
        "loglik_null": result.loglik_null,
        # dvir's count: every assignment the pairings allow, impossible ones included.
        "n_assignments": result.n_total,
        "n_rows": result.n_assignments,
        "assignments": rows,
        "pairwise_lr": {
            v: {m: finite(x) for m, x in r.items()} for v, r in result.pairwise.items()
        },
        "posterior_pairing": {
            v: {m: finite(x) for m, x in r.items()} for v, r in result.posterior.items()
        },
        "glr": {v: {m: finite(x) for m, x in r.items()} for v, r in result.glr.items()},
        "undisputed": [{**u.as_dict(), "LR": finite(u.lr)} for u in result.undisputed],
        "excluded": [{"sample": v, "missing": m} for v, m in result.excluded],
        "reduced_by_undisputed": result.reduced_by_undisputed,
        "seconds": round(result.seconds, 4),
        "warnings": result.warnings,
    }
