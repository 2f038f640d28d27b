"""Per-call overhead of ``@monitor.watch`` on a trivial 20-feature predict function.

Run: ``.venv/bin/python benchmarks/sdk_overhead.py`` (options: ``--rate``, ``--seconds``,
``--json FILE``).

Three runs of the same paced loop (``--rate`` calls per second with sleeps between them, like
a model server under load waiting for requests, so the background sender ships what is logged):

* ``bare``            the undecorated function,
* ``collector up``    decorated, a real ``keeneye server`` subprocess receiving the events,
* ``collector down``  decorated, nothing listening (retries, a full queue and drops).

Each call is timed with ``perf_counter_ns``; the table shows p50 / p99 / mean of the call time
and the time added over ``bare`` (same percentile). Target: p50 <= 20 µs, p99 <= 100 µs added.
A tight unpaced loop is also timed (the enqueue cost without pauses between calls).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from keeneye.sdk import Monitor

FEATURES = [f"f{i:02d}" for i in range(20)]
WEIGHTS = [0.01 * (i + 1) for i in range(20)]


def bare_predict(record: dict[str, Any]) -> float:
    """A trivial model: a weighted sum of 20 features."""
    return sum(w * record[f] for f, w in zip(FEATURES, WEIGHTS, strict=True))


def records(n: int) -> list[dict[str, Any]]:
    return [{f: float((i * 7 + j) % 13) for j, f in enumerate(FEATURES)} for i in range(n)]


def timed_calls(fn: Callable[[dict], float], data: list[dict], rate: float | None) -> list[int]:
    """Call ``fn`` on each record, ``rate`` calls/s on average, and return ns per call.

    Between calls the loop sleeps (releasing the GIL, like a server waiting for requests), so
    the background sender runs when a real model server would let it.
    """
    out = [0] * len(data)
    clock = time.perf_counter_ns
    gap = 0 if rate is None else int(1e9 / rate)
    next_at = clock()
    for i, record in enumerate(data):
        if gap:
            wait = next_at - clock()
            if wait > 0:
                time.sleep(wait / 1e9)
            next_at += gap
        t0 = clock()
        fn(record)
        out[i] = clock() - t0
    return out


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def start_server(store: Path) -> tuple[subprocess.Popen[str], str]:
    keeneye = str(Path(sys.executable).with_name("keeneye"))
    proc = subprocess.Popen(
        [keeneye, "server", "--store", str(store), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    url = ""
    for _ in range(10):
        line = proc.stdout.readline()
        if "listening on " in line:
            url = line.rsplit("listening on ", 1)[1].strip()
            break
    if not url:
        proc.kill()
        raise SystemExit("keeneye server did not print its URL")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("keeneye server did not become healthy")


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run(
    url: str, data: list[dict], rate: float | None, *, up: bool = True
) -> tuple[list[int], dict[str, Any]]:
    monitor = Monitor("bench", "1", url=url, registry=CollectorRegistry(), max_retries=None)
    watched = monitor.watch(bare_predict)
    timed_calls(watched, data[:2000], rate)  # warm up: sender thread, connection, caches
    times = timed_calls(watched, data, rate)
    monitor.flush(timeout=30 if up else 0.5)
    stats = monitor.stats()
    monitor.close(timeout=1)
    return times, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0, help="paced calls per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each paced run")
    parser.add_argument(
        "--unpaced-calls", type=int, default=300_000, help="calls of the unpaced throughput run"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    n = int(args.rate * args.seconds)
    data = records(n)

    rate_name = f"{args.rate:.0f}/s"
    bare = timed_calls(bare_predict, data, args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.duckdb")
        try:
            up = run(url, data, args.rate)
            # Longer than the queue holds: what is not shipped in time is dropped (queue_full).
            cycled = [data[i % len(data)] for i in range(max(n, args.unpaced_calls))]
            tight_bare = timed_calls(bare_predict, cycled, None)
            tight_started = time.perf_counter()
            tight_up = run(url, cycled, None)
            tight_seconds = time.perf_counter() - tight_started
        finally:
            proc.terminate()
            proc.wait(30)
    down = run(dead_url(), data, args.rate, up=False)
    rows: list[tuple[str, list[int], dict[str, Any] | None, list[int]]] = [
        (f"bare, {rate_name}", bare, None, bare),
        (f"watch, collector up, {rate_name}", *up, bare),
        (f"watch, collector down, {rate_name}", *down, bare),
        ("bare, unpaced", tight_bare, None, tight_bare),
        ("watch, collector up, unpaced", *tight_up, tight_bare),
    ]

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {n} calls per run, "
        "20 features; µs per call; +p50/+p99: added over bare at the same percentile"
    )
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    header = f"{'run':<32}{'p50':>7}{'p99':>8}{'p99.9':>10}{'mean':>8}{'+p50':>7}{'+p99':>8}"
    header += "  events"
    print(header)
    print("-" * len(header))
    for name, times, stats, base in rows:
        line = f"{name:<32}{pct(times, 0.5):>7.2f}{pct(times, 0.99):>8.2f}"
        line += f"{pct(times, 0.999):>10.2f}{statistics.fmean(times) / 1000:>8.2f}"
        if stats is not None:
            line += f"{pct(times, 0.5) - pct(base, 0.5):>7.2f}"
            line += f"{pct(times, 0.99) - pct(base, 0.99):>8.2f}"
            drops = ", ".join(f"{k} {v}" for k, v in stats["dropped"].items() if v)
            line += f"  sent {stats['sent']}" + (f", dropped: {drops}" if drops else "")
        print(line)
    shipped = tight_up[1]["sent"] / tight_seconds
    print(f"unpaced, collector up: {shipped:,.0f} predictions/s shipped (incl. warm-up, flush)")
    if args.json is not None:
        summary: dict[str, Any] = {"rate": args.rate, "calls": n, "shipped_per_s": shipped}
        for name, times, stats, base in rows:
            summary[name] = {
                "p50_us": pct(times, 0.5),
                "p99_us": pct(times, 0.99),
                "added_p50_us": pct(times, 0.5) - pct(base, 0.5),
                "added_p99_us": pct(times, 0.99) - pct(base, 0.99),
                "sent": None if stats is None else stats["sent"],
                "dropped": None if stats is None else stats["dropped"],
            }
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
