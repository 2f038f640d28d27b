"""Every performance target of issue 14 in one run: drift, ingest, SDK, start-up, a day of analysis.

One command::

    python benchmarks/all.py            # the issue's sizes (1M + 1M rows, 100k events, …)
    python benchmarks/all.py --quick    # a small smoke run of the same steps (~2 minutes)

It runs, each in its own subprocess so that one does not warm the next:

1. **drift** — ``drift_compare.py`` at 1M + 1M rows × 25 columns: keeneye (Arrow and pandas
   input, a second window against a fitted baseline) next to NannyML's KS + chi-square (its
   venv is created from ``requirements-peers-nannyml.txt`` when missing) and the plain
   baselines (scipy loop, hand-vectorised numpy), all in the same run;
2. **ingest** — ``ingest.py``: events/s durably stored by a real collector (20 features,
   batches of 500, 4 clients, MessagePack bodies as the SDK sends them) next to a bare DuckDB
   Arrow insert of the same rows, and the CPU time per event of both; then the same against
   PostgreSQL (next to a bare ADBC binary COPY);
3. **SDK** — ``sdk_overhead.py``: +p50/+p99 per watched call at 5,000 calls/s with the
   collector up and down, and a paced loop of 50,000 calls/s for 10 s against the collector
   and against a receiver that keeps up (the SDK's own ceiling), counting what is shipped and
   what is dropped;
4. **start-up** — ``keeneye --help`` and ``keeneye compare`` on two 500-row CSV files, median
   wall time of fresh processes;
5. **day** — ``day_analysis.py``: every analysis job of one model's daily window of 1M events
   × 25 features on DuckDB, store read included (the store is seeded once and kept).

It prints one table — each target, the measured figure, the ratio to the peer or baseline
measured in the same run, met or not — and writes it as Markdown (``--out``, default
``benchmarks/results/all-<time>.md``) for ``docs/benchmarks.md``. Raw results of each step
are kept next to it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DRIFT_CONTESTANTS = (
    "keeneye",
    "keeneye-pandas",
    "keeneye-2nd-window",
    "scipy-loop",
    "numpy-vectorised",
    "nannyml-ks-chi2",
)


@dataclass
class Row:
    """One line of the summary: a target, what was measured, and the verdict."""

    area: str
    target: str
    measured: str
    versus: str = ""
    met: bool | None = None  # None: not measured (the note says why)


def _python() -> str:
    return sys.executable


def _keeneye() -> str:
    found = shutil.which("keeneye", path=str(Path(sys.executable).parent))
    return found or "keeneye"


def _run(cmd: list[str], log: Path, timeout: float) -> int:
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, cwd=ROOT, check=False
        )
    return proc.returncode


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


# --- steps ----------------------------------------------------------------------------------


def drift(args: argparse.Namespace, work: Path) -> list[Row]:
    rows = "100k" if args.quick else "1M"
    out = work / "drift.json"
    only = ",".join(c for c in DRIFT_CONTESTANTS if not (args.no_peers and "nannyml" in c))
    cmd = [_python(), str(BENCH / "drift_compare.py"), "--rows", rows, "--only", only]
    cmd += ["--repeats", "1" if args.quick else "5", "--json", str(out)]
    code = _run(cmd, work / "drift.log", timeout=3600)
    if not out.exists():
        return [Row("drift", "drift benchmark", f"failed (exit {code}, see drift.log)")]
    results = json.loads(out.read_text())
    outcomes = next(iter(results["sizes"].values()))
    median: dict[str, float] = {}
    cpu: dict[str, float] = {}
    peak: dict[str, float] = {}
    for o in outcomes:
        if o["seconds"]:
            median[o["contestant"]] = statistics.median(o["seconds"])
        if o.get("cpu_seconds"):
            cpu[o["contestant"]] = statistics.median(o["cpu_seconds"])
        if o["peak_extra_mib"]:
            peak[o["contestant"]] = statistics.median(o["peak_extra_mib"])
    scale = 1.0 if not args.quick else 10.0  # --quick: 100k rows, targets scaled linearly

    def row(name: str, target: str, limit: float) -> Row:
        seconds = median.get(name)
        if seconds is None:
            return Row("drift", target, "not measured (see drift.log)")
        return Row(
            "drift",
            target,
            f"{seconds:.3f} s",
            f"CPU {cpu.get(name, float('nan')):.3f} s (2 cores: wall ≥ CPU / 2)",
            met=seconds <= limit / scale,
        )

    summary = [
        row("keeneye", "keeneye.compare, 1M + 1M × 25, Arrow input ≤ 0.30 s", 0.30),
        row("keeneye-pandas", "keeneye.compare, pandas input ≤ 0.40 s", 0.40),
        row("keeneye-2nd-window", "second window against a stored reference ≤ 0.15 s", 0.15),
    ]
    ours = median.get("keeneye")
    for peer, factor in (("nannyml-ks-chi2", 3.0), ("scipy-loop", 7.0), ("numpy-vectorised", 1.0)):
        theirs = median.get(peer)
        target = f"≥ {factor:g}x {peer}" if factor > 1 else f"faster than {peer}"
        if ours is None or theirs is None:
            summary.append(Row("drift", target, "not measured", met=None))
            continue
        ratio = theirs / ours
        cpu_ratio = cpu.get(peer, float("nan")) / cpu.get("keeneye", float("nan"))
        versus = f"{peer} {theirs:.3f} s; CPU {cpu_ratio:.1f}x"
        summary.append(Row("drift", target, f"{ratio:.1f}x", versus, ratio >= factor))
    if "keeneye" in peak:
        window = _window_mib(rows)
        summary.append(
            Row(
                "drift",
                "peak extra memory ≤ 1.5x the current window's Arrow size",
                f"{peak['keeneye']:.0f} MiB ({peak['keeneye'] / window:.2f}x)",
                f"window {window:.0f} MiB in Arrow",
                peak["keeneye"] <= 1.5 * window,
            )
        )
    return summary


def _window_mib(rows: str) -> float:
    """The current window's size in Arrow memory (the drift benchmark's cached data)."""
    import pyarrow.parquet as pq

    sys.path.insert(0, str(BENCH))
    from drift_data import ensure_dataset

    count = 100_000 if rows == "100k" else 1_000_000
    return pq.read_table(ensure_dataset(count).current).nbytes / 2**20


def _ingest_run(args: argparse.Namespace, work: Path, backend: str) -> dict[str, float] | None:
    out = work / f"ingest-{backend}.json"
    events = "5000" if args.quick else "100000"
    cmd = [_python(), str(BENCH / "ingest.py"), "--events", events, "--batch", "500"]
    cmd += ["--clients", "4", "--repeats", "1" if args.quick else "3", "--json", str(out)]
    cmd += ["--backend", backend]
    _run(cmd, work / f"ingest-{backend}.log", timeout=1800)
    return json.loads(out.read_text()) if out.exists() else None


def ingest(args: argparse.Namespace, work: Path) -> list[Row]:
    r = _ingest_run(args, work, "duckdb")
    if r is None:
        return [Row("ingest", "ingest benchmark", "failed (see ingest-duckdb.log)")]
    rate, bare = r["collector_events_per_s"], r["bare_events_per_s"]
    cpu, cpu_bare = r["collector_cpu_us_per_event"], r["bare_cpu_us_per_event"]
    summary = [
        Row(
            "ingest",
            "≥ 100,000 events/s durable (20 features, batches of 500, 4 clients)",
            f"{_fmt_rate(rate)} events/s",
            f"bare DuckDB {_fmt_rate(bare)} events/s",
            rate >= 100_000,
        ),
        Row(
            "ingest",
            "within 2x of the bare DuckDB Arrow insert",
            f"{bare / rate:.2f}x",
            "bare / collector",
            bare / rate <= 2.0,
        ),
        Row(
            "ingest",
            "CPU per event (DuckDB)",
            f"{cpu:.1f} µs collector",
            f"bare insert {cpu_bare:.1f} µs ({cpu / cpu_bare:.1f}x); "
            f"clients {r.get('clients_cpu_us_per_event', float('nan')):.1f} µs",
        ),
    ]
    pg = _ingest_run(args, work, "postgresql")
    if pg is None:
        summary.append(
            Row("ingest", "the same on PostgreSQL", "failed (see ingest-postgresql.log)")
        )
        return summary
    pg_rate, pg_bare = pg["collector_events_per_s"], pg["bare_events_per_s"]
    summary.append(
        Row(
            "ingest",
            "the same benchmark on PostgreSQL",
            f"{_fmt_rate(pg_rate)} events/s",
            f"bare ADBC COPY {_fmt_rate(pg_bare)} events/s ({pg_bare / pg_rate:.1f}x); CPU "
            f"{pg['collector_cpu_us_per_event']:.1f} µs collector + "
            f"{pg.get('database_cpu_us_per_event', float('nan')):.1f} µs database",
        )
    )
    return summary


def sdk(args: argparse.Namespace, work: Path) -> list[Row]:
    out = work / "sdk.json"
    cmd = [_python(), str(BENCH / "sdk_overhead.py"), "--rate", "5000"]
    cmd += ["--seconds", "1" if args.quick else "4", "--json", str(out)]
    cmd += ["--unpaced-calls", "20000" if args.quick else "300000"]
    cmd += ["--sustain-rate", "50000", "--sustain-seconds", "2" if args.quick else "10"]
    code = _run(cmd, work / "sdk.log", timeout=1800)
    if not out.exists():
        return [Row("sdk", "SDK benchmark", f"failed (exit {code}, see sdk.log)")]
    r = json.loads(out.read_text())
    summary = []
    for name, label in (
        ("watch, collector up, 5000/s", "collector up"),
        ("watch, collector down, 5000/s", "collector down"),
    ):
        run = r[name]
        ok = run["added_p50_us"] <= 5.0 and run["added_p99_us"] <= 25.0
        summary.append(
            Row(
                "sdk",
                f"+p50 ≤ 5 µs, +p99 ≤ 25 µs per watched call at 5,000 calls/s, {label}",
                f"+{run['added_p50_us']:.1f} / +{run['added_p99_us']:.1f} µs",
                f"bare p50 {r['bare, 5000/s']['p50_us']:.1f} µs",
                ok,
            )
        )
    for key, label in (
        ("sustained_collector", "with the collector up"),
        ("sustained_null_receiver", "the SDK alone (a receiver that keeps up)"),
    ):
        run = r[key]
        dropped = sum((run["dropped"] or {}).values())
        summary.append(
            Row(
                "sdk",
                f"50,000 predictions/s sustained, no queue_full drops, {label}",
                f"{_fmt_rate(run['shipped_per_s'])}/s shipped, {dropped:,} dropped",
                f"{_fmt_rate(run['calls_per_s'])} calls/s; CPU per event: caller "
                f"+{run['caller_added_cpu_us_per_call']:.1f} µs, sender "
                f"{run['sender_cpu_us_per_event']:.1f} µs, receiver "
                f"{run['receiver_cpu_us_per_event']:.1f} µs",
                bool(run["meets_target"]),
            )
        )
    return summary


def day(args: argparse.Namespace, work: Path) -> list[Row]:
    out = work / "day.json"
    cmd = [_python(), str(BENCH / "day_analysis.py"), "--json", str(out)]
    cmd += ["--rows", "50000", "--repeat", "1"] if args.quick else ["--repeat", "3"]
    code = _run(cmd, work / "day.log", timeout=1800)
    if not out.exists():
        return [Row("day", "day of analysis benchmark", f"failed (exit {code}, see day.log)")]
    r = json.loads(out.read_text())

    def top(phases: dict[str, dict[str, float]]) -> str:
        largest = sorted(phases.items(), key=lambda kv: -kv[1]["cpu_s"])[:4]
        return ", ".join(f"{name} {phase['cpu_s']:.2f}" for name, phase in largest)

    size = f"{r['rows']:,} events × 25"
    steady = r["steady"]
    return [
        Row(
            "day",
            f"all jobs of a daily window of {size}, store read included, ≤ 1.5 s (DuckDB): "
            "a running worker's next day",
            f"{steady['wall_s']:.2f} s",
            f"CPU {steady['cpu_s']:.2f} s; store read {steady['store_read_s']:.2f} s; "
            f"most CPU: {top(steady['phases'])}",
            r["steady_met"],
        ),
        Row(
            "day",
            "the same, the first day after a worker starts (baseline not yet loaded)",
            f"{r['wall_s']:.2f} s",
            f"CPU {r['cpu_s']:.2f} s; store read {r['store_read_s']:.2f} s; "
            f"most CPU: {top(r['phases'])}",
            r["met"],
        ),
        Row(
            "day",
            "a day re-opened by 1,000 late labels",
            f"{r['reopened_wall_s']:.2f} s",
            f"CPU {r['reopened_cpu_s']:.2f} s",
        ),
    ]


def _small_files(work: Path) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(14)
    paths = []
    for name, shift in (("ref", 0.0), ("cur", 0.3)):
        table = pa.table({"x": rng.normal(shift, 1, 500), "y": rng.choice(["a", "b"], 500)})
        path = work / f"{name}.csv"
        pacsv.write_csv(table, path)
        paths.append(path)
    return paths[0], paths[1]


def _median_wall(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of fresh processes."""
    times, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, cwd=ROOT, timeout=300)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpus)


def startup(args: argparse.Namespace, work: Path) -> list[Row]:
    runs = 2 if args.quick else 7
    ref, cur = _small_files(work)
    bare, bare_cpu = _median_wall([_python(), "-c", "pass"], runs)
    summary = []
    for label, cmd in (
        ("keeneye --help", [_keeneye(), "--help"]),
        ("keeneye compare on two 500-row CSV files", [_keeneye(), "compare", str(ref), str(cur)]),
    ):
        seconds, cpu = _median_wall(cmd, runs)
        versus = f"CPU {cpu:.2f} s; bare python {bare:.2f} s (CPU {bare_cpu:.2f} s)"
        summary.append(Row("start-up", f"{label} ≤ 0.30 s", f"{seconds:.2f} s", versus))
        summary[-1].met = seconds <= 0.30
    return summary


STEPS: dict[str, Callable[[argparse.Namespace, Path], list[Row]]] = {
    "drift": drift,
    "ingest": ingest,
    "sdk": sdk,
    "start-up": startup,
    "day": day,
}


def markdown(rows: list[Row], header: str) -> str:
    mark = {True: "met", False: "**missed**", None: "n/a"}
    lines = [header, "", "| area | target | measured | versus | |", "|" + " --- |" * 5]
    for r in rows:
        lines.append(f"| {r.area} | {r.target} | {r.measured} | {r.versus} | {mark[r.met]} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", help="comma-separated steps: " + ", ".join(STEPS))
    parser.add_argument("--no-peers", action="store_true", help="leave NannyML out")
    parser.add_argument("--out", type=Path, help="the Markdown table (default: results/)")
    args = parser.parse_args()
    names = [s.strip() for s in args.only.split(",")] if args.only else list(STEPS)
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        parser.error(f"unknown step(s) {unknown}; choose from {', '.join(STEPS)}")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    began = time.monotonic()
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"all-{stamp}-", dir=RESULTS))
    console = Console()
    rows: list[Row] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmarks", total=len(names))
        for name in names:
            progress.update(task, description=f"{name} (log: {work.name}/{name}.log)")
            try:
                rows += STEPS[name](args, work)
            except Exception as exc:  # one failing step must not hide the others' figures
                rows.append(Row(name, f"{name} benchmark", f"failed: {exc}"))
            progress.advance(task)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    header = (
        f"keeneye benchmarks{' (--quick)' if args.quick else ''}, {time.strftime('%Y-%m-%d')}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average {load_before} "
        f"before and {load} after, {time.monotonic() - began:.0f} s"
    )
    table = Table("area", "target", "measured", "versus", "", title=header)
    style = {True: "[green]met[/]", False: "[bold red]missed[/]", None: "[yellow]n/a[/]"}
    for r in rows:
        table.add_row(r.area, r.target, r.measured, r.versus, style[r.met])
    console.print(table)
    out = args.out or RESULTS / f"all-{stamp}.md"
    out.write_text(markdown(rows, header))
    console.print(f"markdown: {out}   raw results and logs: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
