"""``keeneye demo``: a model, three weeks of production traffic with incidents, and what keeneye
makes of them — through the real SDK, collector, analysis and notifier."""

from keeneye.demo.replay import DemoOptions, demo_settings, run_demo
from keeneye.demo.scenario import Incident, Scenario, default_scenario
from keeneye.demo.timeline import DemoResult, IncidentOutcome, render

__all__ = [
    "DemoOptions",
    "DemoResult",
    "Incident",
    "IncidentOutcome",
    "Scenario",
    "default_scenario",
    "demo_settings",
    "render",
    "run_demo",
]
