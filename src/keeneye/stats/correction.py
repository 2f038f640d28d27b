"""Multiple-testing correction of p-values (several features tested at once).

Benjamini–Hochberg is scipy's ``scipy.stats.false_discovery_control``; scipy has no Holm or
Bonferroni adjustment of p-values (statsmodels does, but is not a dependency), so those two
are the few lines below, checked against their definitions in ``tests/stats``."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError

#: Accepted names of correction methods ("none" leaves p-values as they are).
CORRECTIONS = ("bonferroni", "holm", "bh", "none")


def adjust_p_values(p_values: ArrayLike, method: str = "holm") -> NDArray[np.float64]:
    """Adjusted p-values: reject H0ᵢ when the adjusted pᵢ ≤ α.

    Parameters
    ----------
    p_values
        1-D p-values in [0, 1].
    method
        ``"bonferroni"`` (m·p, family-wise error ≤ α), ``"holm"`` (step-down Bonferroni,
        FWER ≤ α, never less powerful than Bonferroni), ``"bh"`` (Benjamini–Hochberg step-up,
        false-discovery rate ≤ α for independent or positively dependent tests; equals
        ``scipy.stats.false_discovery_control(p, method="bh")``), or ``"none"``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scand. J. Statist. 6, 65–70. Benjamini, Y. & Hochberg, Y. (1995). Controlling the false
    discovery rate. J. R. Statist. Soc. B 57, 289–300.

    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(6).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise InputError(f"p_values must be 1-D, got shape {p.shape}")
    if p.size and (np.isnan(p).any() or p.min() < 0.0 or p.max() > 1.0):
        raise InputError("p_values must all be in [0, 1] (no NaN)")
    if method not in CORRECTIONS:
        raise InputError(f"unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}")
    m = p.size
    if m == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    adjusted = np.empty(m)
    if method == "holm":
        steps = ranked * (m - np.arange(m))
        adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    else:  # bh
        from scipy.stats import false_discovery_control

        return np.asarray(false_discovery_control(p, method="bh"), dtype=np.float64)
    return adjusted
