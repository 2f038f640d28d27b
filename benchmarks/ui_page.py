"""The model page of a model with months of history: how long the UI takes to build it.

Run: ``.venv/bin/python benchmarks/ui_page.py`` (options: ``--days``, ``--per-day``,
``--features``, ``--repeats``, ``--keep FILE``; the issue's target is a 10-month model,
``--days 300``, under 0.5 s). Smoke run: ``--days 5 --per-day 200 --repeats 1``. ``--keep``
seeds ``FILE`` once and reuses it on later runs (seeding takes minutes).

It seeds a DuckDB file once: a model with ``--features`` numeric and categorical features, a
registered baseline (fitted once and stored as its ``Reference``), ``--per-day`` predictions a
day for ``--days`` days (drifting slowly), labels for a third of them, and runs the analysis
(daily windows) over the whole history. Then, ``--repeats`` times, it builds the model page
context over the whole range (``keeneye.server.ui.views.model_page``: stored reports, the
stored reference, one bucketed event count) and prints the median wall time.

The first render opens a new store: it parses and decodes every stored report of the range
(a *cold* page, as after a server start). Later renders find the parsed payloads of unchanged
reports in the store's memo (a *warm* page, as on every later view). Both are printed, with
the process CPU time (less sensitive than wall time to a machine shared with other work) and
the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline.register import register_baseline
from keeneye.config import Settings
from keeneye.server.ui import views
from keeneye.server.ui.timerange import TimeRange
from keeneye.store.duckdb import DuckDBStore
from keeneye.store.records import LabelEvent, ModelVersion, PredictionEvent

START = datetime(2026, 1, 5, tzinfo=UTC)
MODEL = "churn"


def seed(path: Path, days: int, per_day: int, features: int, rng: np.random.Generator) -> float:
    """Fill the store and run the analysis; returns the seconds it took."""
    began = time.perf_counter()
    clock = ManualClock(START)
    settings = Settings(analysis={"windows": ["daily"]})
    with DuckDBStore(path, clock=clock.now) as store:
        store.register_version(ModelVersion(MODEL, "1", START), live=True)
        baseline: dict[str, object] = {}
        for j in range(features):
            if j % 2:
                baseline[f"c{j}"] = rng.choice(["a", "b", "c", "d"], 5000)
            else:
                baseline[f"x{j}"] = rng.normal(0, 1, 5000)
        baseline["prediction"] = rng.uniform(0, 1, 5000)
        register_baseline(store, MODEL, "1", baseline, now=START)
        step = timedelta(days=1) / per_day
        for day in range(days):
            drift = day / max(days, 1)
            events = []
            for i in range(per_day):
                inputs: dict[str, object] = {}
                for j in range(features):
                    if j % 2:
                        inputs[f"c{j}"] = str(rng.choice(["a", "b", "c", "d"]))
                    else:
                        inputs[f"x{j}"] = float(rng.normal(drift, 1))
                when = START + timedelta(days=day) + i * step
                events.append(
                    PredictionEvent(f"d{day}-{i}", "1", when, inputs, float(rng.uniform()))
                )
            store.write_predictions(MODEL, events)
            labels = [LabelEvent(e.event_id, int(rng.integers(0, 2)), e.timestamp) for e in events]
            store.write_labels(MODEL, labels[: per_day // 3])
        clock.set(START + timedelta(days=days, hours=2))
        AnalysisRunner(store, settings, clock).run_once(backfill=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="seed once into this file")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "keeneye.duckdb"
        if not path.exists():
            seconds = seed(path, args.days, args.per_day, args.features, rng)
            print(f"seeded {args.days} days x {args.per_day} predictions in {seconds:.1f} s")
        measure(path, args.days, args.repeats)


def measure(path: Path, days: int, repeats: int) -> None:
    settings = Settings(analysis={"windows": ["daily"]})
    end = START + timedelta(days=days)
    tr = TimeRange(start=START, end=end, preset=None, window="daily", version=None)
    # Imports and first-use set-up (templates, plotly) are not the page's: one small render.
    with DuckDBStore(path) as store:
        views.model_page(store, settings, MODEL, replace(tr, start=end - timedelta(days=1)))
    walls, cpus = [], []
    with DuckDBStore(path) as store:  # a new store: nothing parsed yet
        for _ in range(repeats + 1):
            began, cpu = time.perf_counter(), time.process_time()
            page = views.model_page(store, settings, MODEL, tr)
            walls.append(time.perf_counter() - began)
            cpus.append(time.process_time() - cpu)
    windows = page["windows"]
    warm, warm_cpu = statistics.median(walls[1:]), statistics.median(cpus[1:])
    verdict = "within" if warm < 0.5 else "OVER"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"model page over {windows} daily windows: warm median {warm:.3f} s wall, "
        f"{warm_cpu:.3f} s CPU (min {min(walls[1:]):.3f} s, {repeats} runs; target < 0.5 s: "
        f"{verdict}); cold first render {walls[0]:.3f} s wall, {cpus[0]:.3f} s CPU; "
        f"load average {load} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
