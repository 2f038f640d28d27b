"""Differential privacy of what keeneye publishes: noise on a window's counts and histograms
(``privacy.dp``, off by default).

Mechanisms (one person is one event; neighbouring windows differ by one event):

* **Laplace** (ε-DP): a count or a histogram whose bins partition the events changes by at
  most 1 in L1 when one event is added or removed (sensitivity ``Δ₁ = 1``); adding
  ``Laplace(0, b)`` noise with ``b = Δ₁ / ε`` to each bin is ε-differentially private.
* **Gaussian** ((ε, δ)-DP): ``N(0, σ²)`` with ``σ = Δ₂ · sqrt(2 ln(1.25 / δ)) / ε`` and
  ``Δ₂ = 1`` (Dwork and Roth, Theorem A.1; the bound holds for ε ≤ 1, which every single release
  satisfies once a window's budget is split).

A window's budget ε is split by sequential composition: equally among the sections that
publish counts (traffic, summary, outliers), and inside a section equally among its releases
(one per histogram). Summaries of different versions hold disjoint events, so each gets the
summary's full share (parallel composition). Noisy counts are rounded and clipped at 0 —
post-processing, which keeps the guarantee — and ratios are recomputed from the noisy counts.
The noise is drawn once, when the window is computed, and stored: reading a report again
spends nothing.

Not covered (published as computed): means, quantiles, min/max, drift statistics and p-values.

References
----------
C. Dwork, A. Roth (2014), The Algorithmic Foundations of Differential Privacy, §3.3 and App. A.

>>> round(noise_scale("laplace", 0.5), 6), round(noise_scale("gaussian", 0.5, 1e-6), 4)
(2.0, 10.5976)
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace
from datetime import datetime

import numpy as np

from keeneye.config import DifferentialPrivacySettings
from keeneye.profile.report import (
    FeatureStats,
    OutliersSection,
    Report,
    SummarySection,
    SummaryStats,
    TrafficSection,
)

MECHANISMS = ("laplace", "gaussian")


def noise_scale(
    mechanism: str, epsilon: float, delta: float = 1e-6, sensitivity: float = 1.0
) -> float:
    """The Laplace scale ``b`` or the Gaussian ``σ`` of one release at ``epsilon``."""
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon!r} must be > 0")
    if mechanism == "laplace":
        return sensitivity / epsilon
    if mechanism == "gaussian":
        if not 0 < delta < 1:
            raise ValueError(f"delta={delta!r} must be in (0, 1)")
        return sensitivity * math.sqrt(2 * math.log(1.25 / delta)) / epsilon
    raise ValueError(f"mechanism {mechanism!r} is unknown; use one of {MECHANISMS}")


def noise(
    size: int, mechanism: str, epsilon: float, rng: np.random.Generator, delta: float = 1e-6
) -> np.ndarray:
    """``size`` draws of the mechanism's noise for one release at ``epsilon``."""
    scale = noise_scale(mechanism, epsilon, delta)
    if mechanism == "laplace":
        return rng.laplace(0.0, scale, size)
    return rng.normal(0.0, scale, size)


def window_rng(seed: int | None, stream: str, start: datetime) -> np.random.Generator:
    """The generator of one window's noise: fresh OS entropy, or (tests) derived from ``seed``,
    ``stream`` (model, version and section: each release its own noise) and the window, so
    that a recomputation draws the same noise."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([seed, zlib.crc32(stream.encode()), int(start.timestamp())])


class Noiser:
    """Adds the noise of ``settings`` to the sections of one window's reports."""

    def __init__(self, settings: DifferentialPrivacySettings, rng: np.random.Generator) -> None:
        self.settings = settings
        self.rng = rng

    def _counts(self, values: list[float], epsilon: float) -> list[int]:
        s = self.settings
        noisy = np.asarray(values, dtype=float) + noise(
            len(values), s.mechanism, epsilon, self.rng, s.delta
        )
        return [max(0, round(v)) for v in noisy]

    def report(self, report: Report, sections: int) -> Report:
        """``report`` with noisy counts; ``sections`` is how many sections of this window
        publish counts (the budget's first split)."""
        share = self.settings.epsilon / max(sections, 1)
        if report.traffic is not None:
            report = replace(report, traffic=self.traffic(report.traffic, share))
        if report.summary is not None:
            report = replace(report, summary=self.summary(report.summary, share))
        if report.outliers is not None:
            report = replace(report, outliers=self.outliers(report.outliers, share))
        return report

    def traffic(self, section: TrafficSection, epsilon: float) -> TrafficSection:
        versions = sorted(section.by_version)
        each = epsilon / 2  # the total and the histogram by version
        total = self._counts([section.events], each)[0]
        by_version = self._counts([section.by_version[v] for v in versions], each)
        return replace(
            section, events=total, by_version=dict(zip(versions, by_version, strict=True))
        )

    def summary(self, section: SummarySection, epsilon: float) -> SummarySection:
        features = sorted(section.features)
        releases = 1 + 2 * len(features)  # events; per feature its counts and its categories
        each = epsilon / releases
        events = self._counts([section.events], each)[0]
        noisy: dict[str, FeatureStats] = {}
        for name in features:
            noisy[name] = self._feature(section.features[name], each)
        return replace(section, events=events, features=noisy)

    def _feature(self, stats: FeatureStats, epsilon: float) -> FeatureStats:
        summary = stats.summary
        if summary is None:
            return stats
        bins = [summary.count, summary.missing, summary.nan, summary.pos_inf, summary.neg_inf]
        count, missing, nan, pos_inf, neg_inf = self._counts([float(b) for b in bins], epsilon)
        top = summary.top
        if top:
            present = max(summary.count, 1)
            counted = self._counts([share * present for _, share in top], epsilon)
            denominator = max(count, sum(counted), 1)
            top = tuple(
                (label, n / denominator) for (label, _), n in zip(top, counted, strict=True)
            )
        new_summary: SummaryStats = replace(
            summary,
            count=count,
            missing=missing,
            nan=nan,
            pos_inf=pos_inf,
            neg_inf=neg_inf,
            top=top,
        )
        # the ratio from the noisy bins themselves (post-processing: no budget spent)
        total = count + missing + nan + pos_inf + neg_inf
        ratio = (missing + nan) / total if total else None
        return replace(
            stats,
            summary=new_summary,
            missing_ratio=ratio if stats.missing_ratio is not None else None,
        )

    def outliers(self, section: OutliersSection, epsilon: float) -> OutliersSection:
        events, outliers = self._counts([section.events, section.outliers], epsilon / 2)
        outliers = min(outliers, events)
        return replace(
            section, events=events, outliers=outliers, share=outliers / events if events else 0.0
        )


def privatize(
    report: Report,
    settings: DifferentialPrivacySettings,
    *,
    sections: int,
    stream: str,
    start: datetime,
) -> Report:
    """``report`` with the noise of ``settings`` (unchanged when DP is off)."""
    if not settings.enabled:
        return report
    return Noiser(settings, window_rng(settings.seed, stream, start)).report(report, sections)


__all__ = ["MECHANISMS", "Noiser", "noise", "noise_scale", "privatize", "window_rng"]
