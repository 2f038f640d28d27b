"""Ingest throughput: events/s the collector durably stores, next to a bare DuckDB bulk insert.

Run: ``python benchmarks/ingest.py`` (options: ``--events``, ``--clients``, ``--batch``,
``--repeats``, ``--format json|msgpack`` — MessagePack by default, as the SDK sends it —
``--json FILE``).

* collector — a real ``keeneye server`` subprocess on a free port and a fresh DuckDB file;
  ``--clients`` threads POST pre-serialised batches (20 features per event: 15 numeric,
  5 categorical) over keep-alive HTTP; an event counts once the server has acknowledged it,
  which it does only after COMMIT.
* bare DuckDB — the same rows as Arrow tables inserted into a table of the same shape (event id
  primary key, typed feature columns), one transaction per batch: the limit of the store.

The two are measured alternately ``--repeats`` times and the medians are reported, with the
ratio ``bare / collector`` (target: >= 20,000 events/s and within 3x of the bare insert). On a
shared machine wall-clock rates swing with other load, so the CPU time per event of the server
process and of the bare insert are reported too: they are the steadier figures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa

N_NUMERIC = 15
N_CATEGORICAL = 5
T0 = datetime(2026, 11, 27, tzinfo=UTC)


def make_events(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    plans = ["basic", "pro", "team", "enterprise"]
    events = []
    for i in range(n):
        inputs: dict[str, Any] = {f"num_{j}": rng.gauss(0, 1) for j in range(N_NUMERIC)}
        inputs.update({f"cat_{j}": rng.choice(plans) for j in range(N_CATEGORICAL)})
        events.append(
            {
                "event_id": f"{seed}-{i:09d}",
                "timestamp": (T0 + timedelta(milliseconds=i)).isoformat(),
                "inputs": inputs,
                "prediction": rng.random(),
                "latency_seconds": 0.001,
            }
        )
    return events


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def start_server(store: Path) -> tuple[subprocess.Popen[str], str]:
    keeneye = str(Path(sys.executable).parent / "keeneye")
    proc = subprocess.Popen(
        [keeneye, "server", "--port", "0", "--store", str(store)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    match = re.search(r"listening on (http://\S+)", proc.stdout.readline())
    if match is None:
        proc.kill()
        raise SystemExit("keeneye server did not start")
    url = match.group(1)
    for _ in range(300):
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("keeneye server did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``): a figure that other load on a
    shared machine disturbs far less than wall-clock rates."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def encode(document: dict[str, Any], wire: str) -> bytes:
    """A request body in the wire format (``json`` or ``msgpack``, what the SDK negotiates)."""
    if wire == "msgpack":
        import msgpack

        return msgpack.packb(document)
    return json.dumps(document).encode()


CONTENT_TYPES = {"json": "application/json", "msgpack": "application/msgpack"}


def run_collector(
    bodies: list[bytes], per_batch: int, clients: int, url: str, wire: str = "json"
) -> float:
    """Events per second acknowledged by the collector."""
    queue = list(range(len(bodies)))
    lock = threading.Lock()
    stored = [0] * clients
    errors: list[str] = []

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop()
                response = http.post(
                    "/v1/models/bench/predictions",
                    content=bodies[index],
                    headers={"Content-Type": CONTENT_TYPES[wire]},
                )
                if response.status_code != 200:
                    errors.append(response.text[:200])
                    return
                stored[k] += response.json()["stored"]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"collector rejected a batch: {errors[0]}")
    total = sum(stored)
    if total != len(bodies) * per_batch:
        raise SystemExit(f"collector stored {total} of {len(bodies) * per_batch} events")
    return total / elapsed


def arrow_batch(batch: list[dict[str, Any]]) -> pa.Table:
    columns: dict[str, Any] = {
        "event_id": [e["event_id"] for e in batch],
        "version": ["1"] * len(batch),
        "ts": pa.array(
            [datetime.fromisoformat(e["timestamp"]) for e in batch], pa.timestamp("us", tz="UTC")
        ),
        "prediction": [e["prediction"] for e in batch],
        "latency_seconds": [e["latency_seconds"] for e in batch],
    }
    for j in range(N_NUMERIC):
        columns[f"num_{j}"] = pa.array([e["inputs"][f"num_{j}"] for e in batch], pa.float64())
    for j in range(N_CATEGORICAL):
        columns[f"cat_{j}"] = pa.array([e["inputs"][f"cat_{j}"] for e in batch], pa.string())
    return pa.table(columns)


def run_bare(tables: list[pa.Table], path: Path) -> tuple[float, float]:
    """Events per second of Arrow → DuckDB inserts, one committed transaction per batch, and
    the CPU seconds per event they took (this process, DuckDB's threads included)."""
    con = duckdb.connect(str(path))
    features = ", ".join(
        [f"num_{j} DOUBLE" for j in range(N_NUMERIC)]
        + [f"cat_{j} VARCHAR" for j in range(N_CATEGORICAL)]
    )
    con.execute(
        "CREATE TABLE events (event_id VARCHAR PRIMARY KEY, version VARCHAR, ts TIMESTAMPTZ, "
        f"prediction DOUBLE, latency_seconds DOUBLE, {features})"
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    for table in tables:
        con.begin()
        con.register("batch", table)
        con.execute("INSERT INTO events SELECT * FROM batch")
        con.unregister("batch")
        con.commit()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rows = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    if rows != sum(t.num_rows for t in tables):
        raise SystemExit("bare insert lost rows")
    return rows / elapsed, cpu / rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per measurement")
    parser.add_argument("--batch", type=int, default=500, help="events per request / insert")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each (median)")
    parser.add_argument(
        "--format", choices=sorted(CONTENT_TYPES), default="msgpack", help="request bodies"
    )
    parser.add_argument("--json", type=Path, help="also write the medians to this JSON file")
    args = parser.parse_args()

    collector_rates: list[float] = []
    bare_rates: list[float] = []
    cpu_per_event: list[float] = []
    bare_cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="keeneye-bench-") as tmp:
        proc, url = start_server(Path(tmp) / "collector.duckdb")
        try:
            warm = make_events(5 * args.batch, seed=0)
            warm_bodies = [
                encode({"version": "1", "events": g}, args.format)
                for g in batches(warm, args.batch)
            ]
            run_collector(warm_bodies, args.batch, args.clients, url, args.format)
            # Alternate the two measurements so that load from elsewhere hits both alike.
            for repeat in range(args.repeats):
                groups = batches(make_events(args.events, seed=repeat + 1), args.batch)
                bodies = [encode({"version": "1", "events": g}, args.format) for g in groups]
                tables = [arrow_batch(group) for group in groups]
                del groups
                rate, cpu = run_bare(tables, Path(tmp) / f"bare-{repeat}.duckdb")
                bare_rates.append(rate)
                bare_cpu.append(cpu)
                cpu_before = cpu_seconds(proc.pid)
                collector_rates.append(
                    run_collector(bodies, args.batch, args.clients, url, args.format)
                )
                cpu_per_event.append((cpu_seconds(proc.pid) - cpu_before) / args.events)
                print(
                    f"  run {repeat + 1}: collector {collector_rates[-1]:,.0f} events/s, "
                    f"bare {bare_rates[-1]:,.0f} events/s",
                    flush=True,
                )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    collector = statistics.median(collector_rates)
    bare = statistics.median(bare_rates)
    cpu = statistics.median(cpu_per_event)
    cpu_bare = statistics.median(bare_cpu)
    print(
        f"ingest: {args.events:,} events x {args.repeats} runs, 20 features, "
        f"batches of {args.batch}, {args.clients} clients (medians)"
    )
    print(f"  collector (HTTP, durable ack): {collector:12,.0f} events/s")
    print(f"  bare DuckDB Arrow insert:      {bare:12,.0f} events/s")
    print(f"  ratio bare / collector:        {bare / collector:12.2f} x")
    print(f"  collector CPU per event:       {cpu * 1e6:12.1f} µs ({1 / cpu:,.0f} events/CPU-s)")
    print(f"  bare insert CPU per event:     {cpu_bare * 1e6:12.1f} µs")
    print(f"  ratio of CPU per event:        {cpu / cpu_bare:12.2f} x")
    if args.json is not None:
        summary = {
            "events": args.events,
            "batch": args.batch,
            "clients": args.clients,
            "format": args.format,
            "collector_events_per_s": collector,
            "bare_events_per_s": bare,
            "collector_cpu_us_per_event": cpu * 1e6,
            "bare_cpu_us_per_event": cpu_bare * 1e6,
        }
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
