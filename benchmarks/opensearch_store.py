"""Event log on OpenSearch vs DuckDB (and PostgreSQL): bulk ingest and window reads.

Run: ``python benchmarks/opensearch_store.py`` — starts a real OpenSearch node on loopback
(built from Maven Central once, like ``keeneye stack up --opensearch``) unless ``--opensearch
URL`` names a running one; ``--postgres postgresql://…`` adds PostgreSQL to the same run.
``--events`` (default 1,000,000) events of 12 features are written in batches of ``--batch``
(default 2,000), then windows of 100k and 1M events (those that fit in ``--events``) are read.
Smoke run: ``--events 20000``.

Printed per backend: ingest events/s (wall time of ``write_predictions`` over every batch,
acknowledged = durable on that backend), and the wall time of ``read_window`` for each window.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from keeneye.store import PredictionEvent, open_store
from keeneye.store.base import EventStore

T0 = datetime(2026, 1, 5, tzinfo=UTC)
STEP = timedelta(milliseconds=50)  # 1M events span ~14 h: one daily index


def batches(n: int, size: int, seed: int = 0) -> Iterator[list[PredictionEvent]]:
    rng = np.random.default_rng(seed)
    plans = np.array(["basic", "pro", "team", "enterprise"])
    for first in range(0, n, size):
        m = min(size, n - first)
        num = rng.normal(size=(m, 8))
        cat = plans[rng.integers(0, 4, size=(m, 4))]
        pred = rng.uniform(size=m)
        yield [
            PredictionEvent(
                f"ev{first + i:08d}",
                "1",
                T0 + STEP * (first + i),
                {
                    **{f"n{j}": float(num[i, j]) for j in range(8)},
                    **{f"c{j}": str(cat[i, j]) for j in range(4)},
                },
                float(pred[i]),
            )
            for i in range(m)
        ]


def measure(name: str, store: EventStore, n: int, size: int, windows: list[int]) -> None:
    start = time.perf_counter()
    for batch in batches(n, size):
        store.write_predictions("bench", batch)
    ingest = time.perf_counter() - start
    print(f"{name:<11} ingest {n:>9,} events: {n / ingest:>10,.0f} events/s ({ingest:.1f} s)")
    for w in windows:
        start = time.perf_counter()
        data = store.read_window("bench", T0, T0 + STEP * w)
        took = time.perf_counter() - start
        assert data.events.num_rows == w, (data.events.num_rows, w)
        print(f"{name:<11} read window of {w:>9,} events: {took:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--opensearch", help="URL of a running node (default: start one)")
    parser.add_argument("--postgres", help="postgresql:// URL to include PostgreSQL")
    parser.add_argument("--heap", default="1g", help="heap of the started node")
    args = parser.parse_args()
    windows = [w for w in (100_000, 1_000_000) if w <= args.events] or [args.events]
    work = Path(tempfile.mkdtemp(prefix="keeneye-bench-"))
    nodes = []
    try:
        url = args.opensearch
        if url is None:
            from keeneye.integrations.opensearch_node import start_cluster

            t = time.perf_counter()
            nodes = start_cluster(work / "opensearch", nodes=1, heap=args.heap)
            url = nodes[0].url
            print(f"OpenSearch node started in {time.perf_counter() - t:.0f} s at {url}")
        backends = {
            "duckdb": lambda: open_store(str(work / "bench.duckdb")),
            "opensearch": lambda: open_store(
                f"opensearch://{url.split('://')[1]}?namespace=b{uuid.uuid4().hex[:8]}",
                rest=str(work / "rest.duckdb"),
            ),
        }
        if args.postgres:
            backends["postgresql"] = lambda: open_store(args.postgres)
        for name, opener in backends.items():
            store = opener()
            try:
                measure(name, store, args.events, args.batch, windows)
            finally:
                store.close()
    finally:
        if nodes:
            from keeneye.integrations.opensearch_node import stop_nodes

            stop_nodes(nodes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
