"""The statistics service and the drift detector: windows, jobs, alert rules.

``AnalysisRunner(store, settings, clock).run_once()`` computes every complete window that is
not computed yet (or that late events or labels re-opened) for every model, saves the results
through the store and returns what the alert rules found.
"""

from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import ALL_VERSIONS, AnalysisRunner, RunReport
from keeneye.analysis.service import AnalysisService
from keeneye.analysis.windows import Window, complete_windows, window_at
from keeneye.clock import Clock, ManualClock, SystemClock

__all__ = [
    "ALL_VERSIONS",
    "AnalysisRunner",
    "AnalysisService",
    "Clock",
    "ManualClock",
    "RunReport",
    "SystemClock",
    "Window",
    "complete_windows",
    "evaluate",
    "window_at",
]
