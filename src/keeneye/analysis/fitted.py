"""Models fitted on a baseline for the jobs beyond the profile: the performance estimator
(:mod:`keeneye.analysis.estimation`) and the multivariate drift model
(:mod:`keeneye.analysis.multivariate`). Each is fitted once per baseline content (its digest)
and kept in a small process-wide cache, like the fitted references."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from keeneye.analysis.estimation import Estimator, enabled, estimated_section, fit_estimator
from keeneye.analysis.multivariate import MultivariateModel, fit_multivariate, multivariate_section
from keeneye.analysis.online import baseline_streams, online_section
from keeneye.analysis.segments import SegmentModel, configured, fit_segments, segments_section
from keeneye.baseline.resolve import ReferenceChoice
from keeneye.config import AnalysisSettings
from keeneye.profile.reference import Reference
from keeneye.profile.report import (
    EstimatedSection,
    MultivariateSection,
    OnlineSection,
    SegmentsSection,
)
from keeneye.stats.budget import share_level
from keeneye.store.base import EventStore

log = logging.getLogger("keeneye.analysis")


class FittedCache:
    """Fitted objects by key; thread-safe; keeps the newest few."""

    def __init__(self, size: int = 32) -> None:
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._items.get(key, _MISSING)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_MISSING = object()
#: The process-wide cache shared by the runners of a process.
SHARED_FITTED = FittedCache()


class BaselineModels:
    """The runner's access to baseline-fitted models, by model, reference choice and digest."""

    def __init__(self, store: EventStore, settings: AnalysisSettings, cache: FittedCache) -> None:
        self.store = store
        self.settings = settings
        self.cache = cache

    def _fit(
        self, what: str, model: str, choice: ReferenceChoice | None, reference: Reference | None
    ) -> Any:
        if choice is None or choice.kind != "baseline" or choice.version is None:
            return None
        if reference is None:
            return None
        key = (what, model, choice.version, reference.digest)
        found = self.cache.get(key)
        if found is not _MISSING:
            return found
        table = self.store.load_baseline(model, choice.version)
        fitted: Any = None
        if table is not None:
            fitted = self._build(what, model, table, reference)
        self.cache.put(key, fitted)
        return fitted

    def _build(self, what: str, model: str, table: pa.Table, reference: Reference) -> Any:
        if what == "online":
            return baseline_streams(
                table, self._online_sources(model), self.settings.tasks.get(model, "auto")
            )
        if what == "segments":
            return fit_segments(
                table,
                configured(self.settings, model),
                top_k=self.settings.segment_top_k,
                min_size=self.settings.segment_min_size,
                task=self.settings.tasks.get(model, "auto"),
                positive_class=self.settings.positive_class.get(model),
            )
        if what == "estimator":
            return fit_estimator(
                table,
                reference.kinds,
                task=self.settings.tasks.get(model, "auto"),
                positive_class=self.settings.positive_class.get(model),
            )
        return fit_multivariate(table, reference.kinds)

    # -- estimated performance ---------------------------------------------------------------
    def estimated(
        self,
        model: str,
        choice: ReferenceChoice | None,
        reference: Reference | None,
        features: pa.Table,
        events: pa.Table,
        level: float,
    ) -> EstimatedSection | None:
        """The window's estimated performance (``None`` when not configured for ``model`` or
        its baseline has no labels and scores)."""
        if not enabled(self.settings.estimate_performance, model):
            return None
        estimator: Estimator | None = self._fit("estimator", model, choice, reference)
        if estimator is None:
            return None
        return estimated_section(
            estimator, features, events, level, self.settings.positive_class.get(model)
        )

    # -- multivariate drift ------------------------------------------------------------------
    def multivariate_methods(self, model: str, choice: ReferenceChoice | None) -> tuple[str, ...]:
        """The multivariate tests a window of ``model`` gets (none on a rolling reference)."""
        if not enabled(self.settings.multivariate, model):
            return ()
        if choice is None or choice.kind != "baseline":
            return ()
        return tuple(self.settings.multivariate_methods)

    def multivariate(
        self,
        model: str,
        choice: ReferenceChoice | None,
        reference: Reference | None,
        features: pa.Table,
        level: float,
        methods: Sequence[str],
    ) -> MultivariateSection | None:
        """The window's multivariate tests at their share of the window's ``level``."""
        if not methods or reference is None:
            return None
        fitted: MultivariateModel | None = self._fit("multivariate", model, choice, reference)
        if fitted is None:
            return None
        each = self.shares(model, choice, reference, level)[1]
        return multivariate_section(fitted, features, each, methods)

    # -- segments ----------------------------------------------------------------------------
    def segment_model(
        self, model: str, choice: ReferenceChoice | None, reference: Reference | None
    ) -> SegmentModel | None:
        if not configured(self.settings, model):
            return None
        found: SegmentModel | None = self._fit("segments", model, choice, reference)
        return found

    def segment_tests(
        self, model: str, choice: ReferenceChoice | None, reference: Reference | None
    ) -> int:
        fitted = self.segment_model(model, choice, reference)
        return 0 if fitted is None else fitted.tests

    def reserve(
        self, model: str, choice: ReferenceChoice | None, reference: Reference | None
    ) -> int:
        """Tests of a window beyond the univariate ones (multivariate and segment tests)."""
        methods = self.multivariate_methods(model, choice)
        return len(methods) + self.segment_tests(model, choice, reference)

    def shares(
        self,
        model: str,
        choice: ReferenceChoice | None,
        reference: Reference | None,
        level: float,
    ) -> tuple[float, float, float]:
        """The window's ``level`` split in proportion to the tests of each family: (the
        univariate family's, each multivariate test's, the segment family's)."""
        univariate = 0
        if reference is not None:
            univariate = len(reference.tested) + (reference.prediction is not None)
        methods = len(self.multivariate_methods(model, choice))
        segments = self.segment_tests(model, choice, reference)
        sizes = [max(univariate, 1), methods, segments]
        uni, multi, seg = share_level(level, sizes)
        return uni, (multi / methods if methods else 0.0), seg

    def segments(
        self,
        model: str,
        choice: ReferenceChoice | None,
        reference: Reference | None,
        features: pa.Table,
        events: pa.Table,
        level: float,
    ) -> SegmentsSection | None:
        """The window's segments at the segment family's share of ``level``."""
        fitted = self.segment_model(model, choice, reference)
        if fitted is None or not fitted.plans:
            return None
        family = self.shares(model, choice, reference, level)[2]
        return segments_section(
            fitted,
            features,
            events,
            family,
            self.settings,
            task=self.settings.tasks.get(model, "auto"),
            positive_class=self.settings.positive_class.get(model),
        )

    # -- online detectors ---------------------------------------------------------------------
    def _online_sources(self, model: str) -> list[str]:
        """The streams configured for ``model`` (the key ``'*'``: for every model)."""
        online = self.settings.online
        return list(online.get(model, online.get("*", [])))

    def online(
        self,
        model: str,
        choice: ReferenceChoice | None,
        reference: Reference | None,
        features: pa.Table,
        events: pa.Table,
    ) -> OnlineSection | None:
        """The window's online detectors over the model's configured streams."""
        sources = self._online_sources(model)
        if not sources:
            return None
        warm = self._fit("online", model, choice, reference)
        if warm is None:
            return None
        return online_section(
            warm,
            sources,
            self.settings.online_detectors,
            features,
            events,
            self.settings.tasks.get(model, "auto"),
        )


__all__ = ["SHARED_FITTED", "BaselineModels", "FittedCache"]
