"""The accuracy cost of differential privacy (``privacy.dp``): the error the noise adds to what
a window publishes, measured over many seeds with keeneye's own noiser.

One command::

    python benchmarks/dp_accuracy.py            # the table of docs/privacy.md
    python benchmarks/dp_accuracy.py --seeds 500

A window of ``events`` predictions with ``features`` features (each with a missing share of
10 % and a category holding 30 % of the values) goes through
:func:`keeneye.privacy.dp.privatize` with the default split (traffic and summary sections).
For each ε it prints the median absolute error of the event count, of a feature's missing
ratio (percentage points) and of a category's share (percentage points), and the Laplace scale
of one release. Figures are statistics of the noise, not timings: the machine's load does not
change them.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np

from keeneye.config import DifferentialPrivacySettings
from keeneye.privacy.dp import noise_scale, privatize
from keeneye.profile.report import (
    FeatureStats,
    Report,
    SummarySection,
    SummaryStats,
    TrafficSection,
)

START = datetime(2026, 3, 2, tzinfo=timezone.utc)


def window(events: int, features: int) -> Report:
    missing = events // 10
    present = events - missing
    stats = {
        f"f{j}": FeatureStats(
            kind="categorical",
            missing_ratio=missing / events,
            summary=SummaryStats(
                kind="categorical",
                count=present,
                missing=missing,
                top=(("a", 0.3), ("b", 0.7)),
            ),
        )
        for j in range(features)
    }
    return Report(
        traffic=TrafficSection(events=events, by_version={"1": events}),
        summary=SummarySection(events=events, features=stats),
    )


def measure(epsilon: float, events: int, features: int, seeds: int) -> dict[str, float]:
    exact = window(events, features)
    count, ratio, share = [], [], []
    for seed in range(seeds):
        settings = DifferentialPrivacySettings(enabled=True, epsilon=epsilon, seed=seed)
        noisy = privatize(exact, settings, sections=2, stream="m/1/summary", start=START)
        assert noisy.summary is not None
        f = noisy.summary.features["f0"]
        assert f.summary is not None
        count.append(abs(noisy.summary.events - events))
        # (all bins rounded to 0: no ratio published; counted as the largest error)
        missing = f.missing_ratio
        ratio.append(100.0 if missing is None else abs(missing - 0.1) * 100)
        share.append(abs(dict(f.summary.top)["a"] - 0.3) * 100)
    releases = 1 + 2 * features
    return {
        "scale": noise_scale("laplace", epsilon / 2 / releases),
        "count": float(np.median(count)),
        "ratio": float(np.median(ratio)),
        "share": float(np.median(share)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--features", type=int, default=10)
    args = parser.parse_args()
    print(
        f"| ε per window | events | Laplace scale b | count error | missing ratio error "
        f"| category share error |  ({args.features} features, {args.seeds} seeds, medians)"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for events in (1_000, 10_000, 100_000):
        for epsilon in (0.1, 0.5, 1.0, 2.0, 5.0):
            m = measure(epsilon, events, args.features, args.seeds)
            print(
                f"| {epsilon:g} | {events:,} | {m['scale']:.1f} | {m['count']:.0f} events "
                f"| {m['ratio']:.2f} pp | {m['share']:.2f} pp |"
            )


if __name__ == "__main__":
    main()
