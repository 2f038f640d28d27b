"""Store backends side by side: DuckDB (embedded) and PostgreSQL (shared), in one run.

    python benchmarks/store_backends.py                 # the full run: a 1M-event day
    python benchmarks/store_backends.py --events 20000  # a quick smoke run

Reports, for each backend: ingest throughput (events/s through ``write_predictions`` in
collector-sized batches), the time to read one day of events (``read_window``, all features);
then the analysis throughput (hourly drift windows/s) on PostgreSQL with 1 and 2
``keeneye worker drift`` processes sharing the windows through leases; and, for the choice of
the PostgreSQL layout, the write and read time of the same events as typed arrays (the
layout used), one JSONB document per event, and long rows (one row per value).

PostgreSQL is the Debian package's server, started in a temp directory on loopback (as in the
tests) and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests._postgres import start_postgres  # noqa: E402

from keeneye.baseline.register import register_baseline  # noqa: E402
from keeneye.store import PredictionEvent, open_store  # noqa: E402

DAY = datetime(2026, 11, 2, tzinfo=UTC)
FEATURES = 10
BATCH = 1000


def make_events(n: int, seed: int = 0) -> list[PredictionEvent]:
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, (n, FEATURES - 2))
    plans = rng.choice(["basic", "pro", "team"], n)
    step = timedelta(days=1) / n
    return [
        PredictionEvent(
            f"e{i}",
            "1",
            DAY + step * i,
            {
                **{f"x{k}": float(values[i, k]) for k in range(FEATURES - 2)},
                "plan": str(plans[i]),
                "active": bool(i % 3),
            },
            float(values[i, 0] > 0),
        )
        for i in range(n)
    ]


def ingest_and_read(url: str, events: list[PredictionEvent]) -> dict[str, float]:
    store = open_store(url)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), BATCH):
            store.write_predictions("m", events[i : i + BATCH])
        ingest = time.perf_counter() - started
        started = time.perf_counter()
        window = store.read_window("m", DAY, DAY + timedelta(days=1))
        read = time.perf_counter() - started
        assert window.events.num_rows == len(events)
    finally:
        store.close()
    return {"ingest_events_per_s": len(events) / ingest, "read_day_s": read}


def layouts(url: str, events: list[PredictionEvent]) -> dict[str, dict[str, float]]:
    """Write and read the same events in three candidate PostgreSQL layouts."""
    names = list(events[0].inputs)
    out: dict[str, dict[str, float]] = {}
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE l_arrays (id text, ts timestamptz, nums float8[], strs text[], "
            "bools boolean[])"
        )
        con.execute("CREATE TABLE l_jsonb (id text, ts timestamptz, doc jsonb)")
        con.execute(
            "CREATE TABLE l_long (id text, ts timestamptz, feature text, num float8, "
            "str text, bool boolean)"
        )
        nums = [n for n in names if isinstance(events[0].inputs[n], float)]
        started = time.perf_counter()
        with con.cursor().copy("COPY l_arrays FROM STDIN") as copy:
            for e in events:
                copy.write_row(
                    [
                        e.event_id,
                        e.timestamp,
                        [e.inputs[n] for n in nums],
                        [e.inputs["plan"]],
                        [e.inputs["active"]],
                    ]
                )
        write_arrays = time.perf_counter() - started
        started = time.perf_counter()
        with con.cursor().copy("COPY l_jsonb FROM STDIN") as copy:
            for e in events:
                copy.write_row([e.event_id, e.timestamp, json.dumps(dict(e.inputs))])
        write_jsonb = time.perf_counter() - started
        started = time.perf_counter()
        with con.cursor().copy("COPY l_long FROM STDIN") as copy:
            for e in events:
                for n, v in e.inputs.items():
                    copy.write_row(
                        [
                            e.event_id,
                            e.timestamp,
                            n,
                            v if isinstance(v, float) else None,
                            v if isinstance(v, str) else None,
                            v if isinstance(v, bool) else None,
                        ]
                    )
        write_long = time.perf_counter() - started

        def read(sql: str, convert: object) -> float:
            started = time.perf_counter()
            with con.cursor(binary=True) as cur:
                rows = cur.execute(sql).fetchall()  # type: ignore[arg-type]
            convert(rows)  # type: ignore[operator]
            return time.perf_counter() - started

        cols = ", ".join(f"nums[{i + 1}]" for i in range(len(nums)))
        read_arrays = read(
            f"SELECT id, ts, {cols}, strs[1], bools[1] FROM l_arrays ORDER BY ts",
            lambda rows: [pa.array(list(c)) for c in zip(*rows, strict=True)],
        )
        read_jsonb = read(
            "SELECT id, ts, doc::text FROM l_jsonb ORDER BY ts",
            lambda rows: pa.Table.from_pylist([json.loads(r[2]) for r in rows]),
        )

        def pivot(rows: list[tuple[object, ...]]) -> None:
            by_feature: dict[object, list[object]] = {}
            for _, _, feature, num, text, flag in rows:
                by_feature.setdefault(feature, []).append(
                    num if num is not None else text if text is not None else flag
                )
            [pa.array(v) for v in by_feature.values()]

        read_long = read("SELECT * FROM l_long ORDER BY ts, id, feature", pivot)
        sizes = {
            t: con.execute(f"SELECT pg_total_relation_size('{t}')").fetchone()[0]  # type: ignore[index]
            for t in ("l_arrays", "l_jsonb", "l_long")
        }
    for name, w, r, t in (
        ("typed arrays", write_arrays, read_arrays, "l_arrays"),
        ("jsonb", write_jsonb, read_jsonb, "l_jsonb"),
        ("long rows", write_long, read_long, "l_long"),
    ):
        out[name] = {"write_s": w, "read_s": r, "mib": sizes[t] / 2**20}
    return out


def analysis_throughput(url: str, workers: int, hours: int, per_hour: int) -> float:
    """Hourly drift windows per second with ``workers`` drift worker processes."""
    store = open_store(url)
    rng = np.random.default_rng(1)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours)
    events = [
        PredictionEvent(
            f"a{i}",
            "1",
            start + timedelta(seconds=i * 3600 / per_hour),
            {"x": float(rng.normal()), "plan": str(rng.choice(["a", "b"]))},
            0.5,
        )
        for i in range(hours * per_hour)
    ]
    for i in range(0, len(events), BATCH):
        store.write_predictions("m", events[i : i + BATCH])
    register_baseline(
        store,
        "m",
        "1",
        pa.table({"x": rng.normal(size=2000), "plan": rng.choice(["a", "b"], 2000)}),
    )
    env = {
        **os.environ,
        "KEENEYE_ANALYSIS__WINDOWS": '["hourly"]',
        "KEENEYE_ANALYSIS__GRACE_SECONDS": "0",
    }
    keeneye = shutil.which("keeneye") or str(Path(sys.executable).with_name("keeneye"))
    procs = [
        subprocess.Popen(
            [keeneye, "worker", "drift", "--store", url, "--interval", "0.2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(workers)
    ]
    for p in procs:  # timed from when every worker runs (process start-up is not analysis)
        assert p.stdout is not None
        p.stdout.readline()
    started = time.perf_counter()
    try:
        while len(store.load_results("m", kind="drift_window", version="*")) < hours:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        store.close()
    return hours / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Events in the day.")
    parser.add_argument("--hours", type=int, default=48, help="Hourly windows for analysis.")
    parser.add_argument("--per-hour", type=int, default=2000, help="Events per hourly window.")
    args = parser.parse_args()
    events = make_events(args.events)
    server = start_postgres()
    directory = Path(tempfile.mkdtemp(prefix="keeneye-bench-"))
    try:
        rows = {
            "duckdb": ingest_and_read(f"duckdb://{directory / 'bench.duckdb'}", events),
            "postgresql": ingest_and_read(server.create_database("bench"), events),
        }
        print(f"{len(events):,} events, {FEATURES} features, batches of {BATCH}")
        print(f"{'backend':<12}{'ingest events/s':>18}{'read the day (s)':>20}")
        for name, row in rows.items():
            print(f"{name:<12}{row['ingest_events_per_s']:>18,.0f}{row['read_day_s']:>20.2f}")
        print(f"\nPostgreSQL layouts, {len(events):,} events")
        print(f"{'layout':<14}{'write (s)':>11}{'read (s)':>10}{'size MiB':>10}")
        for name, row in layouts(server.create_database("layout"), events).items():
            print(f"{name:<14}{row['write_s']:>11.2f}{row['read_s']:>10.2f}{row['mib']:>10.1f}")
        print(
            f"\nAnalysis on PostgreSQL: {args.hours} hourly drift windows, "
            f"{args.per_hour:,} events each"
        )
        for workers in (1, 2):
            rate = analysis_throughput(
                server.create_database(f"w{workers}"), workers, args.hours, args.per_hour
            )
            print(f"{workers} drift worker(s): {rate:.2f} windows/s")
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
