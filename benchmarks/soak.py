"""Bounded loopback soak with faults: is every acknowledged event stored, and how fast does the
collector recover?

Run (as root for the disk fault): ``python benchmarks/soak.py --minutes 10 --out soak.json``
(options: ``--producers`` 3, ``--rate`` 300 events/s each, ``--stop-seconds`` 20, ``--gap``
seconds between faults, ``--disk-mb`` tmpfs size, ``--postgres URL``).

* ``--producers`` SDK producer processes (``keeneye.Monitor``) send ``--rate`` events/s each to
  a real ``keeneye server`` subprocess; ``on_delivery`` records every acknowledged event id.
* Faults, in turn, each once the previous one is recovered from and ``--gap`` seconds passed:
  SIGKILL (then a restart on the same store and port), a full disk (the DuckDB store lives on
  a tmpfs mounted here; a ballast file fills it until a write answers 503, ``--disk-hold``
  seconds later the ballast is deleted) and SIGSTOP for ``--stop-seconds`` (then SIGCONT).
  With ``--postgres`` the disk fault is skipped; use an empty database (the stored count is
  every event of the model).
* Reported: offered / acknowledged / stored (read from the store after the run) / dropped by
  reason (the SDK counters), acknowledged-but-lost (must be 0), the recovery time after each
  fault (fault end to the first acknowledged batch) and the server RSS sampled every
  ``--rss-every`` seconds (flat within 20 % after each server process's first minute?).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

MODEL = "soak"
KEENEYE = str(Path(sys.executable).parent / "keeneye")
#: RSS may grow at most this much after a server process's first minute.
RSS_TOLERANCE = 0.20
RSS_WARMUP_SECONDS = 60.0


# ---- producers (each in its own process) ---------------------------------------------------


def produce(index: int, url: str, seconds: float, rate: float, workdir: str) -> None:
    """Log ``rate`` events/s for ``seconds``, then flush; write acks and stats to ``workdir``."""
    from prometheus_client import CollectorRegistry

    import keeneye

    with Path(workdir, f"acks-{index}.tsv").open("w", buffering=1) as acks:
        lock = threading.Lock()

        def delivered(outcome: str, ids: Sequence[str]) -> None:
            with lock:
                acks.write(f"{time.time():.3f}\t{outcome}\t{','.join(ids)}\n")

        rng = random.Random(index)
        plans = ("basic", "pro", "team")
        monitor = keeneye.Monitor(
            MODEL,
            f"p{index}",
            url=url,
            registry=CollectorRegistry(),
            max_retries=None,  # retry until closed: a fault must not drop acknowledged-to-be events
            flush_interval=0.5,
            batch_size=500,
            seed=index,
            on_delivery=delivered,
        )
        start = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - start) < seconds:
            while sent < rate * elapsed:
                monitor.log(
                    {"x": rng.gauss(0, 1), "y": rng.random(), "plan": rng.choice(plans)},
                    rng.random(),
                    event_id=f"p{index}-{sent:09d}",
                    latency_seconds=0.001,
                )
                sent += 1
            time.sleep(0.01)
        flushed = monitor.flush(timeout=120)
        monitor.close(timeout=5)
        stats = {**monitor.stats(), "flushed": flushed}
        Path(workdir, f"stats-{index}.json").write_text(json.dumps(stats))


# ---- the collector ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collector:
    """A ``keeneye server`` on a fixed port and store, restartable after a SIGKILL."""

    def __init__(self, store: str, port: int, workdir: Path) -> None:
        self.store = store
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.incarnation = 0
        self.started_at = 0.0

    def start(self) -> None:
        self.incarnation += 1
        log = (self.workdir / f"server-{self.incarnation}.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEENEYE_")}
        self.proc = subprocess.Popen(
            [KEENEYE, "server", "--store", self.store, "--port", str(self.port), "--no-analysis"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=env,
        )
        self.started_at = time.time()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"keeneye server exited with {self.proc.returncode}; see "
                    f"{self.workdir}/server-{self.incarnation}.log"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v1/health/live", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise SystemExit(f"keeneye server on port {self.port} was not live within 60 s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class RssSample:
    at: float  # seconds since the run started
    incarnation: int
    uptime: float
    rss_mb: float


def sample_rss(
    collector: Collector, every: float, t0: float, out: list[RssSample], done: threading.Event
) -> None:
    while not done.wait(every):
        kb = rss_kb(collector.pid)
        if kb is not None:
            now = time.time()
            out.append(
                RssSample(
                    round(now - t0, 1),
                    collector.incarnation,
                    round(now - collector.started_at, 1),
                    round(kb / 1024, 1),
                )
            )


def rss_verdict(samples: Sequence[RssSample]) -> dict[str, Any]:
    """Per server process: growth after its first minute (max over the first sample then)."""
    growth: dict[str, float] = {}
    for inc in sorted({s.incarnation for s in samples}):
        late = [
            s.rss_mb for s in samples if s.incarnation == inc and s.uptime >= RSS_WARMUP_SECONDS
        ]
        if len(late) >= 2:
            growth[str(inc)] = round(max(late) / late[0] - 1, 3)
    return {
        "growth_after_first_minute": growth,
        "flat": None if not growth else all(g <= RSS_TOLERANCE for g in growth.values()),
        "min_mb": min((s.rss_mb for s in samples), default=None),
        "max_mb": max((s.rss_mb for s in samples), default=None),
    }


# ---- faults ----------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    started: float  # epoch seconds
    ended: float = 0.0
    note: str = ""
    recovery_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def fault_kill(collector: Collector) -> Fault:
    fault = Fault("sigkill", time.time())
    collector.signal(signal.SIGKILL)
    assert collector.proc is not None
    collector.proc.wait(10)
    collector.start()
    fault.ended = collector.started_at  # restart issued; producers retry meanwhile
    fault.extra["restart_seconds"] = round(time.time() - fault.ended, 2)
    fault.note = f"restarted, live {fault.extra['restart_seconds']} s later"
    return fault


def fault_stop(collector: Collector, seconds: float) -> Fault:
    fault = Fault("sigstop", time.time())
    collector.signal(signal.SIGSTOP)
    time.sleep(seconds)
    collector.signal(signal.SIGCONT)
    fault.ended = time.time()
    fault.note = f"{seconds:g} s"
    return fault


def fault_disk(collector: Collector, disk: Path, hold: float) -> Fault:
    """Fill ``disk`` with a ballast file until a write answers 503; hold; delete the ballast."""
    fault = Fault("disk_full", time.time())
    ballast = disk / "ballast"
    chunk = b"\xa5" * (1024 * 1024)
    with ballast.open("wb") as sink:
        try:
            while True:
                sink.write(chunk)
                sink.flush()
        except OSError:
            pass
    probe = 0
    status: int | None = None
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=collector.url, timeout=10) as client:
        while time.monotonic() < deadline:
            body = {
                "version": "probe",
                "events": [
                    {"event_id": f"probe-{probe}-{i}", "inputs": {"t": os.urandom(300).hex()}}
                    for i in range(50)
                ],
            }
            probe += 1
            with contextlib.suppress(httpx.TransportError):
                status = client.post(f"/v1/models/{MODEL}-probe/predictions", json=body).status_code
            if status == 503:
                break
            time.sleep(0.2)
    fault.extra["first_failing_status"] = status
    fault.note = "503 seen" if status == 503 else f"no 503 within 60 s (last {status})"
    time.sleep(hold)
    ballast.unlink()
    fault.ended = time.time()
    return fault


def first_ack_after(moment: float, workdir: Path) -> float | None:
    first: float | None = None
    for path in workdir.glob("acks-*.tsv"):
        for line in path.read_text().splitlines():
            at, outcome, _ = line.split("\t", 2)
            if outcome == "sent" and float(at) >= moment and (first is None or float(at) < first):
                first = float(at)
    return first


def wait_for_ack(moment: float, workdir: Path, until: float) -> None:
    """Let the collector recover before the next fault: wait for an acknowledgement after
    ``moment`` (or the end of the load), so that recovery times do not overlap."""
    while time.time() < until and first_ack_after(moment, workdir) is None:
        time.sleep(0.5)


# ---- the run ---------------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, megabytes: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"mounting a {megabytes} MB tmpfs on {path} failed ({exc.stderr.strip()}): run as "
            "root, or pass --postgres URL to soak a PostgreSQL store without the disk fault"
        ) from exc
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def stored_ids(store: str, t0: float) -> set[str]:
    from keeneye.store import open_store

    opened = open_store(store)
    try:
        start = datetime.fromtimestamp(t0, UTC) - timedelta(hours=1)
        end = datetime.now(UTC) + timedelta(hours=1)
        window = opened.read_window(MODEL, start, end, features=[])
        return {str(e) for e in window.events.column("event_id").to_pylist()}
    finally:
        opened.close()


def run(args: argparse.Namespace, workdir: Path, store: str, disk: Path | None) -> dict[str, Any]:
    seconds = args.minutes * 60
    collector = Collector(store, free_port(), workdir)
    collector.start()
    t0 = time.time()
    samples: list[RssSample] = []
    done = threading.Event()
    sampler = threading.Thread(
        target=sample_rss, args=(collector, args.rss_every, t0, samples, done), daemon=True
    )
    sampler.start()
    ctx = multiprocessing.get_context("spawn")
    producers = [
        ctx.Process(target=produce, args=(i, collector.url, seconds, args.rate, str(workdir)))
        for i in range(args.producers)
    ]
    for proc in producers:
        proc.start()
    faults: list[Fault] = []
    kinds = ["sigkill"] + ([] if disk is None else ["disk_full"]) + ["sigstop"]
    skipped: list[str] = [] if disk is not None else ["disk_full (PostgreSQL store)"]
    time.sleep(args.warmup)
    turn = 0
    while time.time() - t0 + args.gap < seconds:
        kind = kinds[turn % len(kinds)]
        if kind == "sigstop" and time.time() - t0 + args.stop_seconds + args.gap > seconds:
            break
        print(f"[{time.time() - t0:6.1f} s] fault: {kind}", flush=True)
        if kind == "sigkill":
            faults.append(fault_kill(collector))
        elif kind == "sigstop":
            faults.append(fault_stop(collector, args.stop_seconds))
        else:
            assert disk is not None
            faults.append(fault_disk(collector, disk, args.disk_hold))
        turn += 1
        wait_for_ack(faults[-1].ended, workdir, until=t0 + seconds)
        time.sleep(args.gap)
    for proc in producers:
        proc.join(seconds + 300)
        if proc.exitcode != 0:
            raise SystemExit(f"producer {proc.pid} exited with {proc.exitcode}; see {workdir}")
    done.set()
    sampler.join()
    collector.stop()
    for fault in faults:
        first = first_ack_after(fault.ended, workdir)
        fault.recovery_seconds = None if first is None else round(first - fault.ended, 2)
    return summarise(args, workdir, store, t0, faults, skipped, samples)


def summarise(
    args: argparse.Namespace,
    workdir: Path,
    store: str,
    t0: float,
    faults: Sequence[Fault],
    skipped: Sequence[str],
    samples: Sequence[RssSample],
) -> dict[str, Any]:
    acked: set[str] = set()
    for path in workdir.glob("acks-*.tsv"):
        for line in path.read_text().splitlines():
            _, outcome, ids = line.split("\t", 2)
            if outcome == "sent":
                acked.update(ids.split(","))
    stats = [json.loads(p.read_text()) for p in sorted(workdir.glob("stats-*.json"))]
    dropped: dict[str, int] = {}
    for s in stats:
        for reason, n in s["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + n
    stored = stored_ids(store, t0)
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {
            "minutes": args.minutes,
            "producers": args.producers,
            "rate_per_producer": args.rate,
            "store": "postgresql" if args.postgres else "duckdb on tmpfs",
        },
        "offered": sum(s["offered"] for s in stats),
        "acked": len(acked),
        "stored": len(stored),
        "dropped": dropped,
        "pending_at_end": sum(s["pending"] for s in stats),
        "acked_but_lost": len(acked - stored),
        "faults": [
            {**asdict(f), "started": round(f.started - t0, 1), "ended": round(f.ended - t0, 1)}
            for f in faults
        ],
        "skipped_faults": list(skipped),
        "rss": {**rss_verdict(samples), "samples": [asdict(s) for s in samples]},
    }


def markdown(result: dict[str, Any]) -> str:
    rss = result["rss"]
    rows = [
        ("offered", result["offered"]),
        ("acknowledged", result["acked"]),
        ("stored", result["stored"]),
        ("dropped", ", ".join(f"{k} {v}" for k, v in result["dropped"].items()) or "0"),
        ("acknowledged but lost (must be 0)", result["acked_but_lost"]),
    ]
    for f in result["faults"]:
        rec = "no ack after it" if f["recovery_seconds"] is None else f"{f['recovery_seconds']} s"
        note = f" ({f['note']})" if f["note"] else ""
        rows.append((f"recovery after {f['kind']} at {f['started']} s{note}", rec))
    for s in result["skipped_faults"]:
        rows.append((f"skipped: {s}", "—"))
    flat = {None: "n/a (no process ran past its first minute)", True: "yes", False: "NO"}
    rows.append(("server RSS min / max (MB)", f"{rss['min_mb']} / {rss['max_mb']}"))
    rows.append(("RSS flat within 20 % after the first minute", flat[rss["flat"]]))
    lines = ["| measure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--producers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=300.0, help="events/s per producer")
    parser.add_argument("--stop-seconds", type=float, default=20.0)
    parser.add_argument("--gap", type=float, default=20.0, help="seconds between faults")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before the first")
    parser.add_argument("--disk-mb", type=int, default=512, help="tmpfs size for the store")
    parser.add_argument("--disk-hold", type=float, default=5.0, help="seconds the disk stays full")
    parser.add_argument("--rss-every", type=float, default=3.0)
    parser.add_argument("--postgres", metavar="URL", help="postgresql:// store instead")
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.postgres is not None and not args.postgres.startswith(("postgresql://", "postgres://")):
        raise SystemExit(f"--postgres {args.postgres!r}: expected a postgresql:// URL")
    with tempfile.TemporaryDirectory(prefix="keeneye-soak-") as tmp:
        workdir = Path(tmp)
        if args.postgres is not None:
            result = run(args, workdir, args.postgres, None)
        else:
            with tmpfs(workdir / "disk", args.disk_mb) as disk:
                result = run(args, workdir, str(disk / "soak.duckdb"), disk)
    print(markdown(result))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
    return 0 if result["acked_but_lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
