"""Analysis-side store operations: ``save_results`` (bulk upsert) and ``load_results``.

Run: ``.venv/bin/python benchmarks/store_ops.py`` (options: ``--stored``, ``--repeats``).

A fresh DuckDB file holds ``--stored`` analysis results (payloads of about 3 kB, like the
demo's summaries); then, ``--repeats`` times each, the median wall time of:

* ``save_results`` of 5 results (one window's results: the analysis's usual call) and of 300
  (a backfill group), half of them replacing stored keys and half new;
* ``load_results`` of 500 window markers (what every analysis run loads).

The time includes encoding the payloads as JSON (a few tens of µs per payload).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from keeneye.store.duckdb import DuckDBStore
from keeneye.store.records import StoredResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ("summary", "drift", "performance", "traffic", "drift_window")


def payload(i: int, kind: str) -> dict[str, object]:
    """About the demo's sizes: summaries ~9 kB, drift ~6 kB, markers a few hundred bytes."""
    body: dict[str, object] = {"window": "hourly", "fingerprint": {"events": i, "labels": 0}}
    features = {"summary": 30, "drift": 20, "performance": 3}.get(kind, 0)
    for j in range(features):
        body[f"feature_{j}"] = {
            "kind": "numeric",
            "summary": {"mean": i + j / 7, "std": 1.5, "min": -3.25, "max": 4.5},
            "quantiles": [0.1 * q + i for q in range(11)],
        }
    return body


def results(first_window: int, windows: int) -> list[StoredResult]:
    return [
        StoredResult(
            "m",
            "*" if kind in ("traffic", "drift_window") else "1",
            kind,
            T0 + timedelta(hours=w),
            T0 + timedelta(hours=w + 1),
            T0,
            payload(w, kind),
        )
        for w in range(first_window, first_window + windows)
        for kind in KINDS
    ]


def timed(call: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=2500, help="results stored beforehand")
    parser.add_argument("--repeats", type=int, default=15, help="measurements (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keeneye-store-ops-") as tmp:
        store = DuckDBStore(Path(tmp) / "ops.duckdb")
        stored_windows = max(args.stored // len(KINDS), 1)
        store.save_results(results(0, stored_windows))
        # Prepared outside the timing; half of each call's windows are stored already
        # (replaced), half are new.
        batches = {n: [] for n in (1, 60)}  # type: dict[int, list[list[StoredResult]]]
        cursor = stored_windows - 1
        for windows in (1, 60):
            for _ in range(args.repeats):
                start = cursor - windows // 2
                batches[windows].append(results(start, windows))
                cursor = start + windows
        save_5 = timed(lambda: store.save_results(batches[1].pop(0)), args.repeats)
        save_300 = timed(lambda: store.save_results(batches[60].pop(0)), args.repeats)
        since = T0 + timedelta(hours=cursor - 500)
        load = timed(
            lambda: store.load_results("m", kind="traffic", version="*", start=since), args.repeats
        )
        markers = len(store.load_results("m", kind="traffic", version="*", start=since))
        store.close()
    print(f"store ops: {stored_windows * len(KINDS):,} results stored, medians of {args.repeats}")
    print(f"  save_results, 5 results:    {save_5 * 1000:8.1f} ms")
    print(f"  save_results, 300 results:  {save_300 * 1000:8.1f} ms")
    print(f"  load_results, {markers} markers: {load * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
