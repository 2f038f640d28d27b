"""Run ONE contestant of the drift benchmark in this interpreter (its own virtual env).

Started by ``drift_compare.py`` as a subprocess; talks back with JSON lines on stdout
prefixed by ``@@ `` (anything else a library prints is ignored).

Protocol per contestant:

1. read both Parquet files with pyarrow and ``prepare`` them (not timed);
2. warm up once on the first ``--warmup-rows`` rows (imports, lazy initialisation; not timed);
3. repeat ``run`` up to ``--repeats`` times, stopping early once ``--budget`` seconds of
   timed work are spent (at least one repeat always runs). Before each repeat: ``gc.collect()``,
   then the kernel's peak-RSS mark is reset (``echo 5 > /proc/self/clear_refs``), so that
   ``VmHWM - VmRSS(before)`` afterwards is the extra resident memory the computation needed at
   its peak, whatever allocator the library uses (numpy, Arrow, pandas, C extensions).
   Where the mark cannot be reset, ``ru_maxrss`` after minus ``VmRSS`` before is used and the
   report says so.

Only the standard library and pyarrow are imported here; the contestant imports its own.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift_contestants import CONTESTANTS


def emit(event: str, **payload: Any) -> None:
    sys.stdout.write("@@ " + json.dumps({"event": event, **payload}) + "\n")
    sys.stdout.flush()


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _profile_with_py_spy(py_spy: Path, out: Path, work: Callable[[], object]) -> None:
    """Sample this process (every thread, native frames off) while ``work`` runs.

    py-spy attaches by pid and writes collapsed stacks ("frame;frame;... count" lines)
    when interrupted; a short sleep lets it attach before the work starts.
    """
    import signal
    import subprocess

    command = [str(py_spy), "record", "--pid", str(os.getpid()), "--rate", "250", "--threads"]
    command += ["--format", "raw", "--output", str(out)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    try:
        for _ in range(3):  # several runs: enough samples for short computations
            work()
    finally:
        sampler.send_signal(signal.SIGINT)
        _, err = sampler.communicate(timeout=60)
    if not out.exists():
        raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contestant", required=True, choices=sorted(CONTESTANTS))
    parser.add_argument("--reference", required=True, type=Path)
    parser.add_argument("--current", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--warmup-rows", type=int, default=5_000)
    parser.add_argument("--profile", type=Path, help="after timing, profile one more run here")
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="profile with this py-spy binary (all threads, collapsed stacks) instead of cProfile",
    )
    args = parser.parse_args()
    contestant = CONTESTANTS[args.contestant]

    import pyarrow.parquet as pq

    emit("versions", versions=_versions(contestant.packages))
    reference = pq.read_table(args.reference)
    current = pq.read_table(args.current)

    emit("phase", phase="warm-up")
    rows = args.warmup_rows
    contestant.run(contestant.prepare(reference.slice(0, rows), current.slice(0, rows)))

    emit("phase", phase="load")
    started = time.perf_counter()
    prepared = contestant.prepare(reference, current)
    del reference, current
    emit("loaded", seconds=time.perf_counter() - started)

    spent = 0.0
    for repeat in range(args.repeats):
        gc.collect()
        exact_peak = _reset_peak()
        rss_before = _status_kib("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        drifted = contestant.run(prepared)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if exact_peak:
            peak = _status_kib("VmHWM")
        else:  # ru_maxrss is KiB on Linux and never resets: an upper bound
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        spent += wall
        emit(
            "repeat",
            index=repeat,
            seconds=wall,
            cpu_seconds=cpu,
            peak_extra_mib=max(peak - rss_before, 0) / 1024,
            rss_before_mib=rss_before / 1024,
            memory_method="VmHWM reset" if exact_peak else "ru_maxrss",
            drifted=sorted(drifted),
        )
        if spent >= args.budget:
            break
    if args.profile is not None:
        if args.py_spy is not None:
            _profile_with_py_spy(args.py_spy, args.profile, lambda: contestant.run(prepared))
        else:
            import cProfile

            # CPU time: steadier on a busy machine; sees the calling thread only.
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(contestant.run, prepared)
            profiler.dump_stats(args.profile)
        emit("profile", path=str(args.profile))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DO_NOT_TRACK", "1")
    try:
        sys.exit(main())
    except Exception as error:  # report any library failure as a result, not a crash
        emit("error", error=f"{type(error).__name__}: {error}", trace=traceback.format_exc())
        sys.exit(1)
