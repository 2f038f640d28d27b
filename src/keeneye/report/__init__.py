"""What :func:`keeneye.compare` returns: a :class:`DriftReport`, and its renderings."""

from __future__ import annotations

from keeneye.report.drift_report import DataSource, DriftReport, FeatureProfile

__all__ = ["DataSource", "DriftReport", "FeatureProfile"]
