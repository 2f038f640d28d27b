"""Seeded synthetic worlds for the estimation, multivariate and segment tests: a logistic
classifier and a heteroscedastic regressor whose inputs shift, written through the store's real
write path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from keeneye.store import EventStore
from keeneye.store.records import LabelEvent, PredictionEvent


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def classifier_rows(rng: np.random.Generator, n: int, spread: float = 1.0) -> dict[str, np.ndarray]:
    """Inputs, the model's score and class, and a label drawn from the true probability.

    The model is well specified (its score is the true P(y=1|x)), so the baseline's calibration
    holds wherever the inputs move: a covariate shift that narrows the inputs (``spread`` < 1)
    pushes scores towards 0.5 and lowers accuracy and AUC, labels or not.
    """
    x1 = rng.normal(0.0, spread, n)
    x2 = rng.normal(0.0, spread, n)
    score = sigmoid(2.0 * x1 + 1.0 * x2)
    label = (rng.uniform(size=n) < score).astype(int)
    return {
        "x1": x1,
        "x2": x2,
        "score": score,
        "prediction": (score >= 0.5).astype(int),
        "label": label,
    }


def regressor_rows(
    rng: np.random.Generator, n: int, noise_shift: float = 0.0
) -> dict[str, np.ndarray]:
    """A regressor predicting the mean of y; its error grows with |x2| (``noise_shift`` moves x2
    to where the model is less precise)."""
    x1 = rng.normal(0.0, 1.0, n)
    x2 = rng.normal(noise_shift, 1.0, n)
    prediction = 3.0 * x1
    label = prediction + rng.normal(0.0, 1.0, n) * (0.5 + np.abs(x2))
    return {"x1": x1, "x2": x2, "prediction": prediction, "label": label}


def write_window(
    store: EventStore,
    model: str,
    start: datetime,
    length: timedelta,
    rows: dict[str, np.ndarray],
    features: Sequence[str],
    *,
    prefix: str,
    probabilities: bool = False,
) -> list[tuple[str, object]]:
    """Write ``rows`` as predictions spread over the window; returns ``(event_id, label)``."""
    n = len(rows["prediction"])
    step = length / n
    events = []
    out: list[tuple[str, object]] = []
    for i in range(n):
        inputs = {f: _value(rows[f][i]) for f in features}
        probs = None
        if probabilities:
            s = float(rows["score"][i])
            probs = {"0": 1.0 - s, "1": s}
        event_id = f"{prefix}-{i}"
        events.append(
            PredictionEvent(
                event_id=event_id,
                version="1",
                timestamp=start + step * i,
                inputs=inputs,
                prediction=_value(rows["prediction"][i]),
                probabilities=probs,
            )
        )
        out.append((event_id, _value(rows["label"][i])))
    store.write_predictions(model, events)
    return out


def write_labels(
    store: EventStore, model: str, pairs: Sequence[tuple[str, object]], at: datetime
) -> None:
    store.write_labels(model, [LabelEvent(event_id, label, at) for event_id, label in pairs])


def _value(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.str_):
        return str(v)
    return v
