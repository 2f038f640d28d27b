"""Per-call overhead of ``@monitor.watch`` and the predictions/s one process ships.

Run: ``.venv/bin/python benchmarks/sdk_overhead.py`` (options: ``--rate``, ``--seconds``,
``--sustain-rate``, ``--sustain-seconds``, ``--unpaced-calls``, ``--json FILE``).

The model is a trivial 20-feature predict function; every run logs through a real
:class:`~keeneye.Monitor` and, unless said otherwise, a real ``keeneye server`` subprocess.

1. **Overhead at ``--rate`` calls/s** (default 5,000; sleeps between calls, like a model server
   waiting for requests, so the background sender ships what is logged): the undecorated
   function (``bare``), decorated with the collector up, and decorated with nothing listening
   (retries, a full queue and drops). Each call is timed with ``perf_counter_ns``; the table
   shows p50 / p99 / mean and the time added over ``bare`` at the same percentile. Bare and
   watched runs alternate (``--paced-rounds``, default 3 pairs, pooled): each watched run is
   compared with bare runs made under the same machine state.
   Targets: +p50 <= 5 µs and +p99 <= 25 µs, collector up and down.
2. **Sustained ``--sustain-rate`` calls/s** (default 50,000) for ``--sustain-seconds``: calls in
   bursts of one millisecond's worth, sleeping to the next millisecond, against (a) the real
   collector and (b) a null receiver — a stdlib HTTP server in another process that reads each
   body and answers 200 — which shows what the SDK alone ships when the collector keeps up.
   Reported: the call rate achieved, events acknowledged by the end of the loop per second of
   loop, drops by reason, the backlog left and how long it took to drain; CPU per event of the
   predicting thread (added over the bare function in the same paced loop), of the SDK's two
   sender threads (encoding, HTTP), and of the receiving process. Target: the SDK sustains the
   rate with the collector up and no ``queue_full`` drops.
3. **Unpaced**: a tight loop of ``--unpaced-calls`` calls (the enqueue cost with no pauses:
   the predicting thread and the sender threads share one GIL, the collector the cores).
4. **Where the SDK's time goes**: the predicting thread's CPU per call, and the sender's two
   per-event costs measured alone — packing a batch of 2,000 queued events as MessagePack and
   counting 2,000 predictions in the Prometheus metrics.

CPU figures are CPU time (per thread: ``pthread_getcpuclockid``; per process: ``/proc``), so
other load on the machine slows the wall figures more than these. The load average is printed
with the figures; on a shared machine, compare CPU per event.

``--json FILE`` writes: ``"bare, 5000/s"``, ``"watch, collector up, 5000/s"``, ``"watch,
collector down, 5000/s"``, ``"bare, unpaced"`` (each ``p50_us``, ``p99_us``, ``added_p50_us``,
``added_p99_us``, ``sent``, ``dropped``); ``"sustained_collector"``,
``"sustained_null_receiver"`` and ``"unpaced_collector"`` (each ``calls_per_s``,
``shipped_per_s``, ``shipped_with_drain_per_s``, ``sent``, ``dropped`` by reason,
``backlog_at_end``, ``drain_s``, ``added_p50_us``, ``added_p99_us``,
``caller_cpu_us_per_call``, ``caller_added_cpu_us_per_call``, ``sender_cpu_us_per_event``,
``receiver_cpu_us_per_event``, ``load_average``, ``meets_target``, …); ``"sender_costs"``
(``pack_us_per_event``, ``count_us_per_event``); ``load_average_start``/``_end``; and, as
before, ``"shipped_per_s"`` (the unpaced run, drain included) and ``"watch, collector up,
unpaced"``.
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
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from keeneye.sdk import Monitor, wire
from keeneye.sdk.metrics import ModelMetrics

FEATURES = [f"f{i:02d}" for i in range(20)]
WEIGHTS = [0.01 * (i + 1) for i in range(20)]
SENDER_THREADS = "keeneye-sender"  # the encoding thread and keeneye-sender-http

# A receiver that keeps up with anything: reads each body, answers 200 and says it reads
# MessagePack (so the SDK sends what it sends to the real collector). Not a collector.
NULL_RECEIVER = r"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as uvicorn (asyncio) does: no 40 ms delayed-ACK stalls
    wbufsize = 1 << 16  # the status line, headers and body leave in one write

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"accepted":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Keeneye-Accept-Formats", "application/msgpack, application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
"""


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


def burst_calls(fn: Callable[[dict], float], data: list[dict], rate: float) -> list[int]:
    """Like :func:`timed_calls` at ``rate`` calls/s, in bursts of one millisecond's worth.

    Sleeping between single calls cannot pace 50,000 calls/s (a sleep alone takes ~60 µs);
    this loop makes the calls due in each millisecond back to back, then sleeps to the next
    millisecond. When it falls behind it does not sleep, so the achieved rate says whether the
    predicting thread kept up.
    """
    out = [0] * len(data)
    clock = time.perf_counter_ns
    per_tick = max(1, round(rate / 1000))
    tick = int(1e9 * per_tick / rate)
    next_at = clock()
    for start in range(0, len(data), per_tick):
        wait = next_at - clock()
        if wait > 0:
            time.sleep(wait / 1e9)
        next_at += tick
        for i in range(start, min(start + per_tick, len(data))):
            t0 = clock()
            fn(data[i])
            out[i] = clock() - t0
    return out


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def threads_cpu(threads: list[threading.Thread]) -> float:
    """CPU seconds the live ones of ``threads`` have used."""
    return sum(
        time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        for t in threads
        if t.ident is not None and t.is_alive()
    )


def sender_threads(known: set[threading.Thread]) -> list[threading.Thread]:
    """The SDK's sender threads started since ``known`` was taken."""
    return [
        t for t in threading.enumerate() if t.name.startswith(SENDER_THREADS) and t not in known
    ]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def start_process(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start a server that prints ``listening on URL``; return it and its URL."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    url = ""
    for _ in range(10):
        line = proc.stdout.readline()
        if "listening on " in line:
            url = line.rsplit("listening on ", 1)[1].strip()
            break
    if not url:
        proc.kill()
        raise SystemExit(f"{cmd[0]} did not print its URL")
    return proc, url


def start_server(store: Path) -> tuple[subprocess.Popen[str], str]:
    keeneye = str(Path(sys.executable).with_name("keeneye"))
    proc, url = start_process([keeneye, "server", "--store", str(store), "--port", "0"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("keeneye server did not become healthy")


def start_null_receiver() -> tuple[subprocess.Popen[str], str]:
    return start_process([sys.executable, "-c", NULL_RECEIVER])


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(30)


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


def paired(
    url: str, data: list[dict], rate: float, rounds: int, *, up: bool = True
) -> tuple[list[int], list[int], dict[str, Any]]:
    """``rounds`` times: the bare function, then the watched one, at the same pace.

    Each watched round is compared with the bare round just before it, under the same
    machine state: a stall of the machine in one round (another process taking the core)
    would otherwise land in one side's p99 only. Returns the pooled bare and watched call
    times and the watched rounds' delivery counts added up.
    """
    bare: list[int] = []
    watched: list[int] = []
    sent = 0
    dropped: dict[str, int] = {}
    for _ in range(rounds):
        bare += timed_calls(bare_predict, data, rate)
        times, stats = run(url, data, rate, up=up)
        watched += times
        sent += stats["sent"]
        for reason, count in stats["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + count
    return bare, watched, {"sent": sent, "dropped": dropped}


@dataclass
class Sustained:
    """One run at a fixed call rate (or unpaced): what was shipped and what it cost."""

    receiver: str
    rate_target: float | None
    calls: int
    seconds: float
    calls_per_s: float
    shipped_per_s: float  # acknowledged by the end of the loop, per second of loop
    shipped_with_drain_per_s: float  # acknowledged after the final flush, per second of both
    sent: int  # acknowledged after the final flush
    dropped: dict[str, int]
    backlog_at_end: int  # queued or in flight when the loop ended
    drain_s: float  # time the final flush took
    added_p50_us: float
    added_p99_us: float
    caller_cpu_us_per_call: float  # the predicting thread, watched calls
    caller_added_cpu_us_per_call: float  # minus the bare function in the same loop
    sender_cpu_us_per_event: float
    receiver_cpu_us_per_event: float
    load_average: list[float] = field(default_factory=list)

    def meets_target(self) -> bool:
        """Every call made at the target rate, every event shipped, nothing dropped."""
        return (
            self.rate_target is not None
            and self.calls_per_s >= 0.99 * self.rate_target
            and self.sent == self.calls
            and sum(self.dropped.values()) == 0
        )


def sustained(
    url: str,
    receiver: str,
    receiver_pid: int,
    data: list[dict],
    rate: float | None,
) -> Sustained:
    """Log ``data`` at ``rate`` calls/s (``None``: as fast as possible) and account for it."""
    loop = timed_calls if rate is None else burst_calls
    warm = data[:2000]
    bare_data = data[:100_000]  # enough for the percentiles and the CPU per call
    started = time.thread_time()
    bare_times = loop(bare_predict, bare_data, rate)
    bare_cpu_per_call = (time.thread_time() - started) / len(bare_data)

    known = set(threading.enumerate())
    monitor = Monitor(
        "bench", "1", url=url, registry=CollectorRegistry(), max_retries=None, timeout=30
    )
    watched = monitor.watch(bare_predict)
    loop(watched, warm, rate)  # warm up: sender thread, connection, MessagePack negotiated
    monitor.flush(timeout=30)
    sender = sender_threads(known)
    before = monitor.stats()
    sender_before = threads_cpu(sender)
    receiver_before = cpu_seconds(receiver_pid)
    cpu_started = time.thread_time()
    wall_started = time.perf_counter()
    times = loop(watched, data, rate)
    seconds = time.perf_counter() - wall_started
    caller_cpu = time.thread_time() - cpu_started
    at_end = monitor.stats()
    drain_started = time.perf_counter()
    monitor.flush(timeout=60)
    drain = time.perf_counter() - drain_started
    after = monitor.stats()
    sender_cpu = threads_cpu(sender) - sender_before
    receiver_cpu = cpu_seconds(receiver_pid) - receiver_before
    monitor.close(timeout=1)
    calls = len(data)
    sent = after["sent"] - before["sent"]
    return Sustained(
        receiver=receiver,
        rate_target=rate,
        calls=calls,
        seconds=seconds,
        calls_per_s=calls / seconds,
        shipped_per_s=(at_end["sent"] - before["sent"]) / seconds,
        shipped_with_drain_per_s=sent / (seconds + drain),
        sent=sent,
        dropped={k: n for k, v in after["dropped"].items() if (n := v - before["dropped"][k])},
        backlog_at_end=at_end["pending"],
        drain_s=drain,
        added_p50_us=pct(times, 0.5) - pct(bare_times, 0.5),
        added_p99_us=pct(times, 0.99) - pct(bare_times, 0.99),
        caller_cpu_us_per_call=caller_cpu / calls * 1e6,
        caller_added_cpu_us_per_call=(caller_cpu / calls - bare_cpu_per_call) * 1e6,
        sender_cpu_us_per_event=sender_cpu / max(sent, 1) * 1e6,
        receiver_cpu_us_per_event=receiver_cpu / max(sent, 1) * 1e6,
        load_average=load_average(),
    )


def sender_costs(data: list[dict]) -> dict[str, float]:
    """CPU µs per event of the sender's two per-event jobs, each measured alone."""
    batch = data[:2000]
    items = [("p", f"{i:032x}", 1.7e9 + i, dict(r), 0.5, None, 1e-5) for i, r in enumerate(batch)]
    best_pack = best_count = float("inf")
    for _ in range(5):
        started = time.thread_time()
        wire.prediction_body("1", items)
        best_pack = min(best_pack, time.thread_time() - started)
        metrics = ModelMetrics(CollectorRegistry(), "bench", "1")
        metrics.pending.extend((1e-5, 0.5 + i % 7, None) for i in range(len(items)))
        started = time.thread_time()
        metrics.apply_pending()
        best_count = min(best_count, time.thread_time() - started)
    return {
        "pack_us_per_event": best_pack / len(items) * 1e6,
        "count_us_per_event": best_count / len(items) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0, help="paced calls per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each paced run")
    parser.add_argument(
        "--sustain-rate", type=float, default=50_000.0, help="calls per second of the sustained run"
    )
    parser.add_argument(
        "--sustain-seconds", type=float, default=10.0, help="length of each sustained run"
    )
    parser.add_argument(
        "--unpaced-calls", type=int, default=300_000, help="calls of the unpaced throughput run"
    )
    parser.add_argument(
        "--paced-rounds",
        type=int,
        default=3,
        help="rounds of (bare, watched) at --rate, each pair under the same machine state",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    load_at_start = load_average()
    n = int(args.rate * args.seconds)
    data = records(n)
    sustain_data = records(int(args.sustain_rate * args.sustain_seconds))
    unpaced_data = [data[i % len(data)] for i in range(max(n, args.unpaced_calls))]

    rate_name = f"{args.rate:.0f}/s"
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.duckdb")
        try:
            bare, up_times, up_stats = paired(url, data, args.rate, args.paced_rounds)
            at_rate = sustained(url, "collector", proc.pid, sustain_data, args.sustain_rate)
            # Longer than the queue holds: what is not shipped in time is dropped (queue_full).
            tight_bare = timed_calls(bare_predict, unpaced_data, None)
            unpaced = sustained(url, "collector", proc.pid, unpaced_data, None)
        finally:
            stop(proc)
    null_proc, null_url = start_null_receiver()
    try:
        at_rate_null = sustained(
            null_url, "null receiver", null_proc.pid, sustain_data, args.sustain_rate
        )
    finally:
        stop(null_proc)
    bare_down, down_times, down_stats = paired(
        dead_url(), data, args.rate, args.paced_rounds, up=False
    )
    costs = sender_costs(data)

    rows: list[tuple[str, list[int], dict[str, Any] | None, list[int]]] = [
        (f"bare, {rate_name}", bare, None, bare),
        (f"watch, collector up, {rate_name}", up_times, up_stats, bare),
        (f"watch, collector down, {rate_name}", down_times, down_stats, bare_down),
        ("bare, unpaced", tight_bare, None, tight_bare),
    ]

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {n} calls per paced run, "
        "20 features; µs per call; +p50/+p99: added over bare at the same percentile"
    )
    print(f"load average (1, 5, 15 min) at start: {load_at_start}, at end: {load_average()}")
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

    print()
    print("sustained runs (CPU: µs per event; caller: added over the bare function)")
    head = (
        f"{'run':<34}{'calls/s':>9}{'shipped/s':>11}{'backlog':>9}{'drain s':>9}"
        f"{'+p50':>7}{'+p99':>8}{'caller':>8}{'sender':>8}{'receiver':>10}  dropped"
    )
    print(head)
    print("-" * len(head))
    for run_ in (at_rate, at_rate_null, unpaced):
        pace = "unpaced" if run_.rate_target is None else f"{run_.rate_target:,.0f}/s"
        drops = ", ".join(f"{k} {v}" for k, v in run_.dropped.items()) or "none"
        print(
            f"{run_.receiver + ', ' + pace:<34}{run_.calls_per_s:>9,.0f}"
            f"{run_.shipped_per_s:>11,.0f}{run_.backlog_at_end:>9,}{run_.drain_s:>9.2f}"
            f"{run_.added_p50_us:>7.2f}{run_.added_p99_us:>8.2f}"
            f"{run_.caller_added_cpu_us_per_call:>8.2f}{run_.sender_cpu_us_per_event:>8.2f}"
            f"{run_.receiver_cpu_us_per_event:>10.2f}  {drops}  (load {run_.load_average[0]})"
        )
    print(
        f"sender alone: packing {costs['pack_us_per_event']:.2f} µs/event, counting metrics "
        f"{costs['count_us_per_event']:.2f} µs/event (CPU, batch of 2,000)"
    )
    verdict = "met" if at_rate.meets_target() else "NOT met"
    print(
        f"target: {args.sustain_rate:,.0f} predictions/s with the collector up, no drops: "
        f"{verdict} ({at_rate.sent:,} of {at_rate.calls:,} shipped)"
    )
    if args.json is not None:
        summary: dict[str, Any] = {
            "rate": args.rate,
            "calls": n,
            "shipped_per_s": unpaced.shipped_with_drain_per_s,
            "load_average_start": load_at_start,
            "load_average_end": load_average(),
        }
        for name, times, stats, base in rows:
            summary[name] = {
                "p50_us": pct(times, 0.5),
                "p99_us": pct(times, 0.99),
                "added_p50_us": pct(times, 0.5) - pct(base, 0.5),
                "added_p99_us": pct(times, 0.99) - pct(base, 0.99),
                "sent": None if stats is None else stats["sent"],
                "dropped": None if stats is None else stats["dropped"],
            }
        summary["watch, collector up, unpaced"] = {
            "added_p50_us": unpaced.added_p50_us,
            "added_p99_us": unpaced.added_p99_us,
            "sent": unpaced.sent,
            "dropped": unpaced.dropped,
        }
        for key, run_ in (
            ("sustained_collector", at_rate),
            ("sustained_null_receiver", at_rate_null),
            ("unpaced_collector", unpaced),
        ):
            summary[key] = {**asdict(run_), "meets_target": run_.meets_target()}
        summary["sender_costs"] = costs
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
