"""The drift job's outlier section: fit the outlier rule on a version's baseline once (cached by
the baseline's digest), score the window's events, test their share against the baseline's rate
at the alert budget's level, and flag clients sending bursts (``analysis.outliers``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pyarrow as pa

from keeneye.analysis.drift import window_alpha
from keeneye.analysis.reference import Reference, feature_table
from keeneye.config import AnalysisSettings, OutlierSettings
from keeneye.profile.report import OutliersSection
from keeneye.schema import FeatureKind
from keeneye.stats.outliers import ClientBurst, OutlierModel, bursts, fit_outliers, share_test

_NUMERIC = (FeatureKind.NUMERIC,)
_CATEGORICAL = (FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN)


class OutlierModels:
    """Fitted outlier rules by ``(model, version, digest)``; thread-safe; keeps the newest few."""

    def __init__(self, size: int = 16) -> None:
        self._items: dict[tuple[str, str, str], OutlierModel | None] = {}
        self._size = size
        self._lock = threading.Lock()

    def get_or_fit(
        self,
        key: tuple[str, str, str],
        load: Callable[[], pa.Table | None],
        reference: Reference,
        settings: OutlierSettings,
    ) -> OutlierModel | None:
        """The cached rule of ``key``, else the one fitted on ``load()``'s baseline."""
        with self._lock:
            if key in self._items:
                return self._items[key]
        baseline = load()
        model = None if baseline is None else fit_model(baseline, reference, settings)
        with self._lock:
            self._items[key] = model
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))
        return model


def fit_model(
    baseline: pa.Table, reference: Reference, settings: OutlierSettings
) -> OutlierModel | None:
    """The outlier rule of a baseline's features (``None`` when it has fewer than 40 rows or
    no numeric or categorical feature)."""
    table = feature_table(baseline)
    numeric: dict[str, list[object]] = {}
    categorical: dict[str, list[object]] = {}
    for name, kind in reference.kinds.items():
        if name not in table.column_names or name == settings.client_key:
            continue
        if kind in _NUMERIC:
            numeric[name] = table.column(name).to_pylist()
        elif kind in _CATEGORICAL:
            categorical[name] = table.column(name).to_pylist()
    if table.num_rows < 40 or not (numeric or categorical):
        return None
    return fit_outliers(
        numeric, categorical, quantile=settings.quantile, rare_share=settings.rare_share
    )


def outliers_section(
    model: OutlierModel,
    features: pa.Table,
    settings: AnalysisSettings,
    length: timedelta,
) -> OutliersSection:
    """Score the window's rows (``features`` in arrival order) and test the share."""
    n = features.num_rows
    names = set(features.column_names)
    columns = {c: features.column(c).to_pylist() for c in (*model.numeric, *model.categorical)}
    columns = {c: v for c, v in columns.items() if c in names}
    flags, z = model.flag(columns, n)
    alpha = window_alpha(settings, length)
    test = share_test(int(flags.sum()), n, model.baseline_outliers, model.baseline_rows, alpha)
    rare = {
        name: int(model.rare({name: columns[name]}, n).sum())
        for name in model.categorical
        if name in columns
    }
    options = settings.outliers
    found: tuple[ClientBurst, ...] = ()
    key = options.client_key
    if key is not None and key in names:
        found = bursts(
            features.column(key).to_pylist(),
            flags,
            z,
            # a client's rate against a smoothed p₀ (never 0 when no calibration row was flagged)
            (model.baseline_outliers + 1) / (model.baseline_rows + 1),
            alpha,
            min_outliers=options.burst_min_outliers,
            min_duplicates=options.burst_min_duplicates,
            resolution=options.duplicate_resolution,
        )
    return OutliersSection(
        events=n,
        outliers=test.outliers,
        share=test.share,
        expected_share=test.expected,
        p_value=test.p_value,
        alpha=alpha,
        alert=test.alert,
        baseline_outliers=model.baseline_outliers,
        baseline_rows=model.baseline_rows,
        threshold=model.threshold,
        quantile=model.quantile,
        numeric_features=model.numeric,
        categorical_features=tuple(model.categorical),
        rare_categories={k: v for k, v in rare.items() if v},
        client_key=key,
        bursts=found,
    )


__all__ = ["OutlierModels", "fit_model", "outliers_section"]
