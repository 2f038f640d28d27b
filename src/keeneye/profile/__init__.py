"""The comparison core's typed objects: :class:`Report` (what a comparison found, with a
versioned JSON form) and :class:`Reference` (a fitted, serialisable baseline profile)."""

from __future__ import annotations

from keeneye.profile.report import PREDICTION_FEATURE, REPORT_FORMAT, DriftSection, Report

__all__ = ["PREDICTION_FEATURE", "REPORT_FORMAT", "DriftSection", "Report"]
