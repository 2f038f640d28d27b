"""Training data and scikit-learn models shared by the model-server tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FEATURES = ["age", "income", "plan"]


def training_frame(seed: int = 0, rows: int = 300) -> pd.DataFrame:
    """Features ``age`` (int64), ``income`` (float64), ``plan`` (string) and a 0/1 ``label``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype("int64"),
            "income": rng.normal(50.0, 12.0, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows).astype(object),
        }
    )
    score = 0.05 * (frame["age"] - 45) + 0.1 * (frame["income"] - 50) + (frame["plan"] == "pro")
    frame["label"] = (score + rng.normal(0, 0.5, rows) > 0).astype("int64")
    return frame


def pipeline(c: float = 1.0) -> Pipeline:
    """Scaling and one-hot encoding, then a logistic regression."""
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=c))])


def fit(frame: pd.DataFrame, c: float = 1.0, flip: bool = False) -> Pipeline:
    """A fitted pipeline; ``flip`` learns the opposite label (clearly different predictions)."""
    target = 1 - frame["label"] if flip else frame["label"]
    return pipeline(c).fit(frame[FEATURES], target)


def v2_inputs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The V2 input tensors of ``frame``'s features, one per column."""
    n = len(frame)
    return [
        {"name": "age", "shape": [n], "datatype": "INT64", "data": frame["age"].tolist()},
        {"name": "income", "shape": [n], "datatype": "FP64", "data": frame["income"].tolist()},
        {"name": "plan", "shape": [n], "datatype": "BYTES", "data": frame["plan"].tolist()},
    ]
