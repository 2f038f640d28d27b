"""Event log on OpenSearch vs DuckDB and PostgreSQL: bulk ingest and window reads, one run.

Run: ``python benchmarks/opensearch_store.py --events 100k,1M`` — starts a real OpenSearch
node (built from Maven Central once, like ``keeneye stack up --opensearch``) and a PostgreSQL
server on loopback unless ``--opensearch URL`` / ``--postgres URL`` name running ones.
Smoke run: ``--events 20k``.

For each backend the largest window's worth of events (12 features) is written in batches of
``--batch``: the ingest figure is events/s over the first ``--ingest-events`` of them (wall
time of ``write_predictions``; acknowledged = durable on that backend), the rest is loaded in
batches of ``--fill-batch`` (not timed) so that a 1M window does not take an hour to set up.
Then each window (the first N events) is read with ``read_window`` ``--repeat`` times; the best
and the median are printed. ``--backends`` picks a subset; ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keeneye.store import PredictionEvent, open_store  # noqa: E402
from keeneye.store.base import EventStore  # noqa: E402

T0 = datetime(2026, 1, 5, tzinfo=UTC)
STEP = timedelta(milliseconds=50)  # 1M events span ~14 h: one daily index


def count(text: str) -> int:
    """``20k`` → 20000, ``1M`` → 1000000, ``5000`` → 5000."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    try:
        return int(float(digits) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an event count: {text!r} (e.g. 100k, 1M)") from None


def batches(n: int, size: int, first: int = 0, seed: int = 0) -> Iterator[list[PredictionEvent]]:
    """Events ``first .. n-1`` (deterministic per position), ``size`` a batch."""
    plans = np.array(["basic", "pro", "team", "enterprise"])
    for start in range(first, n, size):
        m = min(size, n - start)
        rng = np.random.default_rng([seed, start])
        num = rng.normal(size=(m, 8))
        cat = plans[rng.integers(0, 4, size=(m, 4))]
        pred = rng.uniform(size=m)
        yield [
            PredictionEvent(
                f"ev{start + i:08d}",
                "1",
                T0 + STEP * (start + i),
                {
                    **{f"n{j}": float(num[i, j]) for j in range(8)},
                    **{f"c{j}": str(cat[i, j]) for j in range(4)},
                },
                float(pred[i]),
            )
            for i in range(m)
        ]


@dataclass
class Figures:
    backend: str
    ingest_events: int = 0
    ingest_seconds: float = 0.0
    fill_seconds: float = 0.0
    reads: dict[int, list[float]] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.ingest_events / self.ingest_seconds if self.ingest_seconds else 0.0


def measure(name: str, store: EventStore, windows: list[int], args: argparse.Namespace) -> Figures:
    figures = Figures(name)
    total = max(windows)
    timed = min(args.ingest_events, total)
    start = time.perf_counter()
    for batch in batches(timed, args.batch):
        store.write_predictions("bench", batch)
    figures.ingest_events, figures.ingest_seconds = timed, time.perf_counter() - start
    print(
        f"{name:<11} ingest {timed:>9,} events in batches of {args.batch:,}: "
        f"{figures.events_per_second:>8,.0f} events/s ({figures.ingest_seconds:.1f} s)",
        flush=True,
    )
    if total > timed:
        start = time.perf_counter()
        for batch in batches(total, args.fill_batch, first=timed):
            store.write_predictions("bench", batch)
        figures.fill_seconds = time.perf_counter() - start
        print(
            f"{name:<11} loaded the other {total - timed:,} events in batches of "
            f"{args.fill_batch:,} ({figures.fill_seconds:.1f} s, not the ingest figure)",
            flush=True,
        )
    for w in windows:
        took = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            data = store.read_window("bench", T0, T0 + STEP * w)
            took.append(time.perf_counter() - start)
            if data.events.num_rows != w or data.features.num_columns != 12:
                raise SystemExit(f"{name}: read {data.events.num_rows} rows, expected {w}")
            del data
        figures.reads[w] = took
        print(
            f"{name:<11} read window of {w:>9,} events: best {min(took):.2f} s, "
            f"median {statistics.median(took):.2f} s",
            flush=True,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--events",
        default="100k,1M",
        type=lambda text: [count(part) for part in text.split(",") if part.strip()],
        help="window sizes to read, e.g. 100k,1M (default) or 20k for a smoke run",
    )
    parser.add_argument("--batch", type=int, default=2000, help="events per timed write")
    parser.add_argument("--ingest-events", type=count, default=count("100k"))
    parser.add_argument("--fill-batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="reads per window")
    parser.add_argument("--backends", default="duckdb,postgresql,opensearch")
    parser.add_argument("--opensearch", help="URL of a running node (default: start one)")
    parser.add_argument("--postgres", help="postgresql:// URL (default: start a server)")
    parser.add_argument("--heap", default="1g", help="heap of the started OpenSearch node")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    windows = sorted(set(args.events))
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="keeneye-bench-"))
    nodes: list[object] = []
    pg_server = None
    results: list[Figures] = []
    began = time.perf_counter()
    try:
        backends: dict[str, Callable[[], EventStore]] = {}
        if "duckdb" in chosen:
            backends["duckdb"] = lambda: open_store(str(work / "bench.duckdb"))
        if "postgresql" in chosen:
            pg_url = args.postgres
            if pg_url is None:
                from tests._postgres import start_postgres

                pg_server = start_postgres()
                pg_url = pg_server.create_database("bench")
            backends["postgresql"] = lambda: open_store(pg_url)
        if "opensearch" in chosen:
            os_url = args.opensearch
            if os_url is None:
                from keeneye.integrations.opensearch_node import start_cluster

                t = time.perf_counter()
                nodes = list(start_cluster(work / "opensearch", nodes=1, heap=args.heap))
                os_url = nodes[0].url  # type: ignore[attr-defined]
                print(f"OpenSearch node started in {time.perf_counter() - t:.0f} s", flush=True)
            host = os_url.split("://")[1]
            backends["opensearch"] = lambda: open_store(
                f"opensearch://{host}?namespace=b{uuid.uuid4().hex[:8]}",
                rest=str(work / "rest.duckdb"),
            )
        for name, opener in backends.items():
            store = opener()
            try:
                results.append(measure(name, store, windows, args))
            finally:
                store.close()
    finally:
        if nodes:
            from keeneye.integrations.opensearch_node import stop_nodes

            stop_nodes(nodes)  # type: ignore[arg-type]
        if pg_server is not None:
            pg_server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwhole run {time.perf_counter() - began:.0f} s; best read per window:")
    print(f"{'backend':<11} {'ingest ev/s':>12} " + " ".join(f"{w:>10,}" for w in windows))
    for fig in results:
        reads = " ".join(f"{min(fig.reads[w]):>9.2f}s" for w in windows)
        print(f"{fig.backend:<11} {fig.events_per_second:>12,.0f} {reads}")
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in results], indent=2))


if __name__ == "__main__":
    main()
