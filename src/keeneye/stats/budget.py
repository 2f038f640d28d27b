"""An alert budget instead of a per-window alpha.

A monitor tests every window, so a per-window significance level of 0.05 means about one false
alarm every 20 windows — at the daily cadence two a month per model. Users state instead how
many false alerts they accept per model and period (default: at most one per quarter at the
daily cadence); the per-window family-wise level follows from the number of windows in the
period, and the per-test level from the number of tests in a window:

* windows per period ``W = period / window length`` (a quarter of daily windows: 91.3);
* per-window level ``α_w = budget / W`` — the expected number of windows with a false alert in
  the period is ``W · α_w = budget`` when each window's family-wise error is ``α_w``
  (Bonferroni across windows; exact for an expectation, no independence needed);
* per-test level for ``m`` tests in a window: ``α_w / m`` (Bonferroni) or
  ``1 - (1 - α_w)^(1/m)`` (Šidák, exact for independent tests). The drift engine applies Holm's
  step-down at ``α_w`` to the features of a window, whose first step is this Bonferroni level.

Pure functions; :mod:`keeneye.analysis.drift` turns the ``analysis.alert_budget`` setting into
the engine's ``alpha``.

>>> budget = AlertBudget()
>>> round(budget.windows_per_period(DAY), 4)
91.3125
>>> round(budget.window_level(DAY), 6)
0.010951
>>> round(budget.test_level(DAY, 10), 7)
0.0010951
>>> round(expected_false_alerts_per_month(DAY, 0.05), 2)
1.52
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from keeneye.errors import InputError

DAY = timedelta(days=1)
#: A quarter and a month of the Gregorian calendar on average, in days.
QUARTER_DAYS = 365.25 / 4
MONTH_DAYS = 365.25 / 12
#: How per-test levels are split inside one window.
SPLITS = ("bonferroni", "sidak")


@dataclass(frozen=True)
class AlertBudget:
    """The false alerts a user accepts per model per period.

    Attributes
    ----------
    false_alerts
        Expected false alerts (windows with at least one false drift flag) per model and
        period; default 1.
    period_days
        Length of the period in days; default a quarter (91.3125 days).
    split
        How a window's level is shared among its tests: ``"bonferroni"`` (``α_w / m``) or
        ``"sidak"`` (``1 - (1 - α_w)^(1/m)``).
    """

    false_alerts: float = 1.0
    period_days: float = QUARTER_DAYS
    split: str = "bonferroni"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.false_alerts) and self.false_alerts > 0):
            raise InputError(
                f"alert budget false_alerts must be a number > 0, got {self.false_alerts!r}"
            )
        if not (math.isfinite(self.period_days) and self.period_days > 0):
            raise InputError(
                f"alert budget period_days must be a number of days > 0, got {self.period_days!r}"
            )
        if self.split not in SPLITS:
            raise InputError(f"alert budget split {self.split!r} unknown; use one of {SPLITS}")

    def windows_per_period(self, window: timedelta) -> float:
        """How many windows of length ``window`` the period holds."""
        seconds = window.total_seconds()
        if seconds <= 0:
            raise InputError(f"window length must be positive, got {window!r}")
        return self.period_days * 86400.0 / seconds

    def window_level(self, window: timedelta) -> float:
        """The family-wise level of one window, so that the expected false alerts per period
        equal the budget (capped below 0.5: a budget of a false alert every other window is
        no budget)."""
        return min(self.false_alerts / self.windows_per_period(window), 0.5)

    def test_level(self, window: timedelta, tests: int) -> float:
        """The level of each of ``tests`` tests in one window."""
        return split_level(self.window_level(window), tests, self.split)

    def expected_per_month(self, window: timedelta) -> float:
        """Expected false alerts per model per month at this window length."""
        return expected_false_alerts_per_month(window, self.window_level(window))


@dataclass(frozen=True)
class WindowBudget:
    """What one window's decision level came from: ``window_level`` is the family-wise level of
    the window; the rest is ``None`` without a budget (a fixed per-window alpha)."""

    window_level: float
    false_alerts: float | None = None
    period_days: float | None = None
    windows_per_period: float | None = None
    expected_false_alerts_per_month: float | None = None

    @classmethod
    def of(cls, budget: AlertBudget | None, window: timedelta, fixed_alpha: float) -> WindowBudget:
        if budget is None:
            return cls(window_level=fixed_alpha)
        return cls(
            window_level=budget.window_level(window),
            false_alerts=budget.false_alerts,
            period_days=budget.period_days,
            windows_per_period=budget.windows_per_period(window),
            expected_false_alerts_per_month=budget.expected_per_month(window),
        )


def split_level(level: float, tests: int, split: str = "bonferroni") -> float:
    """The per-test level of ``tests`` tests that share a family-wise ``level``.

    >>> split_level(0.01, 4), round(split_level(0.01, 4, "sidak"), 8)
    (0.0025, 0.00250943)
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"a family-wise level must be in (0, 1), got {level!r}")
    if tests < 1:
        return level
    if split == "sidak":
        return float(-math.expm1(math.log1p(-level) / tests))
    if split != "bonferroni":
        raise InputError(f"split {split!r} unknown; use one of {SPLITS}")
    return level / tests


def share_level(level: float, family_sizes: Sequence[int]) -> list[float]:
    """Split a window's family-wise ``level`` across families of tests run separately (e.g.
    the features, then the prediction) in proportion to their sizes, so that the union keeps
    ``level`` (Bonferroni across families; each family corrects within itself).

    >>> share_level(0.01, [9, 1])
    [0.009, 0.001]
    """
    total = sum(max(s, 0) for s in family_sizes)
    if total == 0:
        return [level for _ in family_sizes]
    return [level * max(s, 0) / total for s in family_sizes]


def expected_false_alerts(window: timedelta, level: float, days: float) -> float:
    """Expected windows with a false alert in ``days`` days at a per-window family-wise
    ``level`` (windows of length ``window``)."""
    return days * 86400.0 / window.total_seconds() * level


def expected_false_alerts_per_month(window: timedelta, level: float) -> float:
    """Expected false alerts per month (365.25/12 days) at a per-window ``level``."""
    return expected_false_alerts(window, level, MONTH_DAYS)


def holm_family_error(level: float, tests: int) -> float:
    """Family-wise error of Holm's procedure at ``level`` over ``tests`` independent tests with
    uniform p-values under H0: the first step rejects when the smallest p is below
    ``level / tests``, i.e. ``1 - (1 - level/tests)^tests`` (≤ ``level``)."""
    if tests < 1:
        return 0.0
    return float(-math.expm1(tests * math.log1p(-level / tests)))
