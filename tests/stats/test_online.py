"""River's online detectors as keeneye runs them: an injected error-rate jump is flagged within
the delay docs/statistics.md states, and clean windows stay within a daily alert budget."""

from __future__ import annotations

import numpy as np
import pytest

from keeneye.errors import InputError
from keeneye.stats.budget import DAY, AlertBudget
from keeneye.stats.online import DETECTORS, detect

WINDOWS = 60
N = 1000
JUMP_AT = 500


def _errors(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return (rng.uniform(size=n) < rate).astype(float)


def test_clean_windows_stay_within_the_alert_budget() -> None:
    rng = np.random.default_rng(100)
    flagged = dict.fromkeys(DETECTORS, 0)
    for _ in range(WINDOWS):
        base = _errors(rng, 3000, 0.2)
        clean = _errors(rng, N, 0.2)
        for method in DETECTORS:
            flagged[method] += detect(method, base, clean).detected
    # the default budget allows 1 false alert a quarter at the daily cadence: 60 windows → 0.66
    allowed = AlertBudget().window_level(DAY) * WINDOWS
    assert sum(flagged.values()) <= max(1, round(allowed)), flagged


@pytest.mark.parametrize(("method", "to", "max_delay", "share"), [
    ("adwin", 0.45, 300, 0.95),
    ("page_hinkley", 0.45, 200, 0.95),
    ("ddm", 0.7, 400, 0.8),
])  # fmt: skip
def test_an_error_rate_jump_is_flagged_within_the_documented_delay(
    method: str, to: float, max_delay: int, share: float
) -> None:
    rng = np.random.default_rng(7)
    delays = []
    for _ in range(40):
        base = _errors(rng, 3000, 0.2)
        stream = np.r_[_errors(rng, JUMP_AT, 0.2), _errors(rng, N - JUMP_AT, to)]
        after = [i - JUMP_AT for i in detect(method, base, stream).detections if i >= JUMP_AT]
        delays.append(after[0] if after else None)
    found = [d for d in delays if d is not None and d <= max_delay]
    assert len(found) >= share * len(delays), (method, delays)


def test_numeric_streams_and_bad_input() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=3000)
    shifted = np.r_[rng.normal(size=400), rng.normal(1.0, 1.0, size=600)]
    for method in ("adwin", "page_hinkley"):
        result = detect(method, base, shifted, name="x")
        assert result.stream == "x" and result.detections and result.detections[0] >= 400
        assert not detect(method, base, rng.normal(size=1000)).detected
    ddm = detect("ddm", base, shifted)
    assert ddm.problem == "DDM needs a 0/1 error stream" and not ddm.detected
    with pytest.raises(InputError, match="unknown online detector 'cusum'"):
        detect("cusum", base, shifted)
