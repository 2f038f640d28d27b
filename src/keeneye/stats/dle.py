"""Direct loss estimation (DLE): a regressor's error on rows without labels.

A *loss model* — gradient-boosted trees (scikit-learn's ``HistGradientBoostingRegressor``) —
is fitted on the labelled baseline to predict each row's absolute error ``|y − ŷ|`` and its
squared error ``(y − ŷ)²`` from the features and the prediction. On a window the estimates are

* ``MAE ≈ mean(l̂₁(xᵢ, ŷᵢ))`` and ``RMSE ≈ sqrt(mean(l̂₂(xᵢ, ŷᵢ)))``,

which hold as long as the errors depend on the inputs the same way as in the baseline (covariate
shift). The sampling-error band of a window of ``n`` rows is the sd of the realized metric over
random chunks of ``n`` baseline rows (:func:`keeneye.stats.cbpe.sampling_error`).

References
----------
NannyML, "Direct Loss Estimation", https://nannyml.readthedocs.io (2023).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from keeneye.errors import InputError, require

#: Metrics estimated for a regressor (both lower-is-better).
REGRESSOR_METRICS = ("mae", "rmse")

Floats = npt.NDArray[np.float64]


def realized_regression(y_true: Floats, y_pred: Floats) -> dict[str, float | None]:
    """MAE and RMSE of finite pairs (``None`` without any)."""
    keep = np.isfinite(y_true) & np.isfinite(y_pred)
    if not keep.any():
        return dict.fromkeys(REGRESSOR_METRICS, None)
    error = y_true[keep] - y_pred[keep]
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error**2)))}


class DLE:
    """Loss models fitted on a labelled baseline.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(3000, 1))
    >>> y_pred = x[:, 0]
    >>> y = y_pred + rng.normal(size=3000) * (1 + np.abs(x[:, 0]))
    >>> model = DLE.fit(x, y_pred, y, seed=0)
    >>> calm = x[np.abs(x[:, 0]) < 0.5]
    >>> bool(model.estimate(calm, calm[:, 0])["mae"] < realized_regression(y, y_pred)["mae"])
    True
    """

    def __init__(self, absolute: Any, squared: Any) -> None:
        self._absolute = absolute
        self._squared = squared

    @staticmethod
    def _inputs(features: Floats, prediction: Floats) -> Floats:
        return np.column_stack([np.asarray(features, dtype=np.float64), prediction])

    @classmethod
    def fit(cls, features: Floats, y_pred: Floats, y_true: Floats, *, seed: int = 0) -> DLE:
        """Fit the two loss models on the baseline's finite labelled rows."""
        ensemble: Any = require("sklearn.ensemble", "estimate")
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        keep = np.isfinite(y_pred) & np.isfinite(y_true)
        if keep.sum() < 50:
            raise InputError(
                f"DLE needs at least 50 baseline rows with a finite prediction and label; "
                f"the baseline has {int(keep.sum())}"
            )
        x = cls._inputs(np.asarray(features, dtype=np.float64)[keep], y_pred[keep])
        error = y_true[keep] - y_pred[keep]

        def model(target: Floats) -> Any:
            fitted = ensemble.HistGradientBoostingRegressor(
                max_iter=150, learning_rate=0.05, min_samples_leaf=40, random_state=seed
            )
            return fitted.fit(x, target)

        return cls(model(np.abs(error)), model(error**2))

    def losses(self, features: Floats, y_pred: Floats) -> tuple[Floats, Floats]:
        """Each row's predicted absolute and squared error (rows with a finite prediction)."""
        y_pred = np.asarray(y_pred, dtype=np.float64)
        keep = np.isfinite(y_pred)
        x = self._inputs(np.asarray(features, dtype=np.float64)[keep], y_pred[keep])
        absolute = np.clip(self._absolute.predict(x), 0.0, None)
        squared = np.clip(self._squared.predict(x), 0.0, None)
        return np.asarray(absolute, dtype=np.float64), np.asarray(squared, dtype=np.float64)

    def conditional_sd(self, features: Floats, y_pred: Floats) -> dict[str, float]:
        """The sampling sd of MAE and RMSE on these very rows, from their predicted losses.

        Notes
        -----
        Given the inputs, rows' errors are independent: ``Var(MAE) = Σ (l̂₂ᵢ − l̂₁ᵢ²) / n²``;
        for the MSE a Gaussian error gives ``Var(eᵢ²) = 2 l̂₂ᵢ²``, and by the delta method
        ``sd(RMSE) = sd(MSE) / (2 RMSE)``. A window whose inputs moved to where the model errs
        more gets a wider band than baseline chunks would give.
        """
        absolute, squared = self.losses(features, y_pred)
        n = absolute.size
        if n == 0:
            return {}
        var_abs = np.clip(squared - absolute**2, 0.0, None)
        sd_mae = float(np.sqrt(var_abs.sum()) / n)
        mse = float(squared.mean())
        sd_mse = float(np.sqrt(2.0 * np.sum(squared**2)) / n)
        out = {"mae": sd_mae}
        if mse > 0:
            out["rmse"] = sd_mse / (2.0 * np.sqrt(mse))
        return out

    def estimate(self, features: Floats, y_pred: Floats) -> dict[str, float | None]:
        """Estimated MAE and RMSE of rows with ``features`` and predictions ``y_pred``."""
        y_pred = np.asarray(y_pred, dtype=np.float64)
        keep = np.isfinite(y_pred)
        if not keep.any():
            return dict.fromkeys(REGRESSOR_METRICS, None)
        x = self._inputs(np.asarray(features, dtype=np.float64)[keep], y_pred[keep])
        absolute = np.clip(self._absolute.predict(x), 0.0, None)
        squared = np.clip(self._squared.predict(x), 0.0, None)
        return {"mae": float(np.mean(absolute)), "rmse": float(np.sqrt(np.mean(squared)))}


__all__ = ["DLE", "REGRESSOR_METRICS", "realized_regression"]
