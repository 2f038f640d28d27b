"""Ingest throughput: events/s the collector durably stores, next to a bare Arrow bulk insert.

Run: ``python benchmarks/ingest.py`` (options: ``--events``, ``--clients``, ``--batch``,
``--repeats``, ``--format json|msgpack`` — MessagePack by default, as the SDK sends it —
``--timestamps epoch|iso`` — epoch seconds by default, as the SDK sends them —
``--backend duckdb|postgresql``, ``--json FILE``).

* collector — a real ``keeneye server`` subprocess on a free port and a fresh store (a DuckDB
  file, or a database on a PostgreSQL server started in a temp directory as the tests do);
  ``--clients`` threads POST pre-serialised batches (20 features per event: 15 numeric,
  5 categorical; the SDK's document: batch-level version, per-event id, epoch timestamp,
  inputs, prediction, latency) over keep-alive HTTP; an event counts once the server has
  acknowledged it, which it does only after COMMIT.
* bare insert — the same rows as Arrow tables inserted into a table of the same shape (event
  id primary key, typed feature columns), one committed transaction per batch: DuckDB's
  ``INSERT … SELECT`` from the Arrow table, or PostgreSQL's ADBC ingest (binary COPY). The
  limit of the database with no collector in front.

The two are measured alternately ``--repeats`` times and the medians are reported, with the
ratio ``bare / collector`` (targets: >= 100,000 events/s, within 2x of the bare insert). On a
shared machine wall-clock rates swing with other load, so CPU time per event is reported too —
of the collector process, of the benchmark's HTTP clients (same machine, same cores) and, on
PostgreSQL, of the database server's processes — with the load average around the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
ROOT = Path(__file__).resolve().parent.parent


def make_events(n: int, seed: int, timestamps: str = "epoch") -> list[dict[str, Any]]:
    """Events as the SDK sends them: a 32-hex-digit id, the time as epoch seconds (or ISO 8601
    with ``timestamps="iso"``), the inputs, the prediction and the latency."""
    rng = random.Random(seed)
    plans = ["basic", "pro", "team", "enterprise"]
    events = []
    for i in range(n):
        inputs: dict[str, Any] = {f"num_{j}": rng.gauss(0, 1) for j in range(N_NUMERIC)}
        inputs.update({f"cat_{j}": rng.choice(plans) for j in range(N_CATEGORICAL)})
        at = T0 + timedelta(milliseconds=i)
        events.append(
            {
                "event_id": f"{seed:08x}{i:024x}",
                "timestamp": at.timestamp() if timestamps == "epoch" else at.isoformat(),
                "inputs": inputs,
                "prediction": rng.random(),
                "latency_seconds": 0.001,
            }
        )
    return events


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def start_server(store: str) -> tuple[subprocess.Popen[str], str]:
    keeneye = str(Path(sys.executable).parent / "keeneye")
    proc = subprocess.Popen(
        [keeneye, "server", "--port", "0", "--store", store],
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


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``): a figure that other load on a
    shared machine disturbs far less than wall-clock rates."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process, of its live children and of the children it has reaped (a
    PostgreSQL server: the postmaster and its backends)."""
    fields = _stat(pid)
    ticks = sum(int(fields[k]) for k in (11, 12, 13, 14))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(child[1]) == pid:
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def encode(document: dict[str, Any], wire: str) -> bytes:
    """A request body in the wire format (``json`` or ``msgpack``, what the SDK negotiates)."""
    if wire == "msgpack":
        import msgpack

        return msgpack.packb(document)
    return json.dumps(document).encode()


CONTENT_TYPES = {"json": "application/json", "msgpack": "application/msgpack"}


def run_collector(
    bodies: list[bytes], per_batch: int, clients: int, url: str, wire: str = "json"
) -> tuple[float, float]:
    """Events per second acknowledged by the collector, and the CPU seconds the clients (this
    process) spent per event meanwhile."""
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
    cpu_started = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if errors:
        raise SystemExit(f"collector rejected a batch: {errors[0]}")
    total = sum(stored)
    if total != len(bodies) * per_batch:
        raise SystemExit(f"collector stored {total} of {len(bodies) * per_batch} events")
    return total / elapsed, cpu / total


def _moment(value: float | str) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return datetime.fromtimestamp(value, UTC)


def arrow_batch(batch: list[dict[str, Any]]) -> pa.Table:
    columns: dict[str, Any] = {
        "event_id": [e["event_id"] for e in batch],
        "version": ["1"] * len(batch),
        "ts": pa.array([_moment(e["timestamp"]) for e in batch], pa.timestamp("us", tz="UTC")),
        "prediction": [e["prediction"] for e in batch],
        "latency_seconds": [e["latency_seconds"] for e in batch],
    }
    for j in range(N_NUMERIC):
        columns[f"num_{j}"] = pa.array([e["inputs"][f"num_{j}"] for e in batch], pa.float64())
    for j in range(N_CATEGORICAL):
        columns[f"cat_{j}"] = pa.array([e["inputs"][f"cat_{j}"] for e in batch], pa.string())
    return pa.table(columns)


def _bare_table_sql(number: str, text: str, stamp: str) -> str:
    features = ", ".join(
        [f"num_{j} {number}" for j in range(N_NUMERIC)]
        + [f"cat_{j} {text}" for j in range(N_CATEGORICAL)]
    )
    return (
        f"CREATE TABLE events (event_id {text} PRIMARY KEY, version {text}, ts {stamp}, "
        f"prediction {number}, latency_seconds {number}, {features})"
    )


def run_bare_duckdb(tables: list[pa.Table], path: Path) -> tuple[float, float]:
    """Events per second of Arrow → DuckDB inserts, one committed transaction per batch, and
    the CPU seconds per event they took (this process, DuckDB's threads included)."""
    con = duckdb.connect(str(path))
    con.execute(_bare_table_sql("DOUBLE", "VARCHAR", "TIMESTAMPTZ"))
    started = time.perf_counter()
    cpu_started = time.process_time()
    for table in tables:
        con.begin()
        con.from_arrow(table).insert_into("events")  # the cheapest way in (no view to register)
        con.commit()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rows = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    con.close()
    if rows != sum(t.num_rows for t in tables):
        raise SystemExit("bare insert lost rows")
    return rows / elapsed, cpu / rows


def run_bare_postgres(tables: list[pa.Table], url: str, server_pid: int) -> tuple[float, float]:
    """Events per second of Arrow → PostgreSQL inserts (ADBC: binary COPY), one committed
    transaction per batch, and the CPU seconds per event of this process plus the server's."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as con:
        with con.cursor() as cur:
            cur.execute(_bare_table_sql("float8", "text", "timestamptz"))
        con.commit()
        started = time.perf_counter()
        cpu_started = time.process_time() + tree_cpu_seconds(server_pid)
        for table in tables:
            with con.cursor() as cur:
                cur.adbc_ingest("events", table, mode="append")
            con.commit()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() + tree_cpu_seconds(server_pid) - cpu_started
        with con.cursor() as cur:
            cur.execute("SELECT count(*) FROM events")
            row = cur.fetchone()
            rows = int(row[0]) if row else 0
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
    parser.add_argument(
        "--timestamps", choices=("epoch", "iso"), default="epoch", help="event times as sent"
    )
    parser.add_argument(
        "--backend",
        choices=("duckdb", "postgresql", "postgres"),
        default="duckdb",
        help="the collector's store (and the bare insert's database)",
    )
    parser.add_argument("--json", type=Path, help="also write the medians to this JSON file")
    args = parser.parse_args()
    backend = "postgresql" if args.backend == "postgres" else args.backend

    collector_rates: list[float] = []
    bare_rates: list[float] = []
    cpu_per_event: list[float] = []
    db_cpu_per_event: list[float] = []
    client_cpu: list[float] = []
    bare_cpu: list[float] = []
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="keeneye-bench-")))
        postgres = None
        if backend == "postgresql":
            sys.path.insert(0, str(ROOT))
            from tests._postgres import start_postgres

            postgres = start_postgres()
            stack.callback(postgres.stop)
            store = postgres.create_database("collector")
        else:
            store = str(tmp / "collector.duckdb")
        proc, url = start_server(store)
        try:
            warm = make_events(5 * args.batch, seed=0, timestamps=args.timestamps)
            warm_bodies = [
                encode({"version": "1", "events": g}, args.format)
                for g in batches(warm, args.batch)
            ]
            run_collector(warm_bodies, args.batch, args.clients, url, args.format)
            # Alternate the two measurements so that load from elsewhere hits both alike.
            for repeat in range(args.repeats):
                events = make_events(args.events, seed=repeat + 1, timestamps=args.timestamps)
                groups = batches(events, args.batch)
                bodies = [encode({"version": "1", "events": g}, args.format) for g in groups]
                tables = [arrow_batch(group) for group in groups]
                del groups, events
                if postgres is not None:
                    rate, cpu = run_bare_postgres(
                        tables, postgres.create_database("bare"), postgres.process.pid
                    )
                else:
                    rate, cpu = run_bare_duckdb(tables, tmp / f"bare-{repeat}.duckdb")
                bare_rates.append(rate)
                bare_cpu.append(cpu)
                cpu_before = cpu_seconds(proc.pid)
                db_before = tree_cpu_seconds(postgres.process.pid) if postgres else 0.0
                rate, clients_cpu = run_collector(
                    bodies, args.batch, args.clients, url, args.format
                )
                collector_rates.append(rate)
                client_cpu.append(clients_cpu)
                cpu_per_event.append((cpu_seconds(proc.pid) - cpu_before) / args.events)
                db_after = tree_cpu_seconds(postgres.process.pid) if postgres else 0.0
                db_cpu_per_event.append((db_after - db_before) / args.events)
                print(
                    f"  run {repeat + 1}: collector {collector_rates[-1]:,.0f} events/s, "
                    f"bare {bare_rates[-1]:,.0f} events/s",
                    flush=True,
                )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    load_after = os.getloadavg()
    collector = statistics.median(collector_rates)
    bare = statistics.median(bare_rates)
    cpu = statistics.median(cpu_per_event)
    cpu_db = statistics.median(db_cpu_per_event)
    cpu_clients = statistics.median(client_cpu)
    cpu_bare = statistics.median(bare_cpu)
    bare_name = "bare PostgreSQL ADBC insert:" if postgres else "bare DuckDB Arrow insert:"
    print(
        f"ingest on {backend}: {args.events:,} events x {args.repeats} runs, 20 features, "
        f"batches of {args.batch}, {args.clients} clients, {args.format} bodies (medians)"
    )
    print(f"  collector (HTTP, durable ack):  {collector:12,.0f} events/s")
    print(f"  {bare_name:<30} {bare:12,.0f} events/s")
    print(f"  ratio bare / collector:         {bare / collector:12.2f} x")
    print(f"  collector CPU per event:        {cpu * 1e6:12.1f} µs ({1 / cpu:,.0f} events/CPU-s)")
    if postgres:
        print(f"  PostgreSQL server CPU per event:{cpu_db * 1e6:12.1f} µs")
    print(f"  HTTP clients' CPU per event:    {cpu_clients * 1e6:12.1f} µs (same cores)")
    print(f"  bare insert CPU per event:      {cpu_bare * 1e6:12.1f} µs")
    print(f"  ratio of CPU per event:         {(cpu + cpu_db) / cpu_bare:12.2f} x")
    print(
        f"  load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    if args.json is not None:
        summary = {
            "backend": backend,
            "events": args.events,
            "batch": args.batch,
            "clients": args.clients,
            "repeats": args.repeats,
            "format": args.format,
            "timestamps": args.timestamps,
            "collector_events_per_s": collector,
            "bare_events_per_s": bare,
            "ratio_bare_to_collector": bare / collector,
            "collector_cpu_us_per_event": cpu * 1e6,
            "database_cpu_us_per_event": cpu_db * 1e6,
            "clients_cpu_us_per_event": cpu_clients * 1e6,
            "bare_cpu_us_per_event": cpu_bare * 1e6,
            "cpu_ratio_collector_to_bare": (cpu + cpu_db) / cpu_bare,
            "collector_events_per_s_runs": collector_rates,
            "bare_events_per_s_runs": bare_rates,
            "load_average_before": load_before[0],
            "load_average_after": load_after[0],
            "cores": os.cpu_count(),
        }
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
