"""Drift detection benchmark: keeneye side by side with its peers (issue 2, "Performance").

One command does everything::

    python benchmarks/drift_compare.py                      # 100k and 1M rows, all contestants
    python benchmarks/drift_compare.py --rows 100k --only 'keeneye*,scipy-loop' --repeats 3
    python benchmarks/drift_compare.py --list

It (1) creates each peer's virtual environment under ``benchmarks/.venvs/<peer>`` from
``benchmarks/requirements-peers-<peer>.txt`` with the system ``python3`` when missing or
out of date (peers are never keeneye dependencies); (2) writes seeded reference/current
Parquet files once into a cache directory (``drift_data.py``); (3) runs every contestant in
its own subprocess with its own venv's python (``drift_runner.py``), which times compute only
and measures peak memory; (4) prints a table with the ratios to keeneye and checks the issue's
targets. Results are saved as JSON under ``benchmarks/results/`` (git-ignored); ``--markdown``
writes the tables for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KEENEYE_PYTHON = ROOT / ".venv" / "bin" / "python"


def _reexec_in_project_venv() -> None:
    """The harness needs rich + pyarrow + numpy: run it with the project's venv if needed."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        in_project_venv = Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()
        if KEENEYE_PYTHON.exists() and not in_project_venv:
            os.execv(str(KEENEYE_PYTHON), [str(KEENEYE_PYTHON), __file__, *sys.argv[1:]])
        raise


_reexec_in_project_venv()

# ruff: noqa: E402  (imports follow the interpreter check above)
import argparse
import fnmatch
import hashlib
import json
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

sys.path.insert(0, str(BENCH))

from drift_contestants import CONTESTANTS
from drift_data import INJECTED, ensure_dataset

VENVS = BENCH / ".venvs"
RESULTS = BENCH / "results"
REFERENCE_CONTESTANTS = ("keeneye", "keeneye-engine")  # the ratios' denominator, first found

# Telemetry off for every library (the network is closed; a phone-home could stall a run).
PEER_ENV = {
    "DO_NOT_TRACK": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
    "WHYLOGS_NO_ANALYTICS": "True",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore",
}


@dataclass
class Outcome:
    contestant: str
    rows: int
    env: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_extra_mib: list[float] = field(default_factory=list)
    rss_before_mib: float | None = None
    memory_method: str | None = None
    load_seconds: float | None = None
    drifted: list[str] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    profile: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def median_cpu(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    @property
    def peak(self) -> float | None:
        # The largest over repeats: memory must be available for the worst repeat.
        return max(self.peak_extra_mib) if self.peak_extra_mib else None


# --- environments -------------------------------------------------------------------------


def _system_python() -> str:
    candidate = Path(sys.base_prefix) / "bin" / "python3"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("python3")
    if found is None:
        raise SystemExit("no system python3 found to create the peers' virtual environments")
    return found


def env_python(env: str) -> Path:
    return KEENEYE_PYTHON if env == "keeneye" else VENVS / env / "bin" / "python"


def ensure_env(env: str, console: Console, timeout: float, log_dir: Path) -> None:
    """Create or update ``benchmarks/.venvs/<env>`` from its requirements file."""
    if env == "keeneye":
        if not KEENEYE_PYTHON.exists():
            raise SystemExit(f"{KEENEYE_PYTHON} is missing: create the project venv first")
        return
    requirements = BENCH / f"requirements-peers-{env}.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = VENVS / env / ".requirements.sha256"
    python = env_python(env)
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    log = log_dir / f"install-{env}.log"
    steps = []
    if not python.exists():
        steps.append([_system_python(), "-m", "venv", str(VENVS / env)])
    steps.append(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ]
    )
    started = time.monotonic()
    with (
        console.status(f"installing peer environment [bold]{env}[/] (log: {log})"),
        log.open("w") as out,
    ):
        for step in steps:
            remaining = timeout - (time.monotonic() - started)
            try:
                result = subprocess.run(
                    step,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=max(remaining, 1),
                    env={**os.environ, **PEER_ENV},
                )
            except subprocess.TimeoutExpired:
                raise SystemExit(
                    f"installing {env} took over {timeout:.0f} s (--install-timeout); see {log}"
                ) from None
            if result.returncode != 0:
                raise SystemExit(f"installing {env} failed (exit {result.returncode}); see {log}")
    stamp.write_text(digest)
    console.print(f"installed [bold]{env}[/] in {time.monotonic() - started:.0f} s")


# --- running one contestant ---------------------------------------------------------------


def run_contestant(
    name: str,
    rows: int,
    data: Any,
    args: argparse.Namespace,
    progress: Progress,
    task: Any,
    log_dir: Path,
) -> Outcome:
    contestant = CONTESTANTS[name]
    outcome = Outcome(contestant=name, rows=rows, env=contestant.env)
    command = [
        str(env_python(contestant.env)),
        str(BENCH / "drift_runner.py"),
        "--contestant",
        name,
        "--reference",
        str(data.reference),
        "--current",
        str(data.current),
        "--repeats",
        str(args.repeats),
        "--budget",
        str(args.budget),
    ]
    if args.profile and fnmatch.fnmatch(name, args.profile):
        if args.profiler == "py-spy":
            command += ["--profile", str(log_dir / f"profile-{name}-{rows}.collapsed")]
            command += ["--py-spy", str(VENVS / "profiling" / "bin" / "py-spy")]
        else:
            command += ["--profile", str(log_dir / f"profile-{name}-{rows}.pstats")]
    if args.nice:
        command = ["nice", "-n", str(args.nice), *command]
    label = f"{_rows_label(rows)} · {name}"
    stderr_log = (log_dir / f"{name}-{rows}.stderr").open("w")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=stderr_log,
        text=True,
        env={**os.environ, **PEER_ENV},
        start_new_session=True,
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        os.killpg(process.pid, signal.SIGKILL)  # the runner's own process group

    timer = threading.Timer(args.timeout, kill)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if not line.startswith("@@ "):
                continue
            event = json.loads(line[3:])
            kind = event["event"]
            if kind == "versions":
                outcome.versions = event["versions"]
            elif kind == "phase":
                progress.update(task, description=f"{label}: {event['phase']}")
            elif kind == "loaded":
                outcome.load_seconds = event["seconds"]
            elif kind == "repeat":
                outcome.seconds.append(event["seconds"])
                outcome.cpu_seconds.append(event["cpu_seconds"])
                outcome.peak_extra_mib.append(event["peak_extra_mib"])
                outcome.rss_before_mib = event["rss_before_mib"]
                outcome.memory_method = event["memory_method"]
                outcome.drifted = event["drifted"]
                progress.update(
                    task,
                    description=f"{label}: repeat {event['index'] + 1}/{args.repeats} "
                    f"({event['seconds']:.2f} s)",
                )
            elif kind == "profile":
                outcome.profile = event["path"]
            elif kind == "error":
                outcome.error = event["error"]
                stderr_log.write(event["trace"])
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # interrupted (Ctrl-C): do not leave the runner behind
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stderr_log.close()
    if timed_out.is_set():
        outcome.error = f"killed after the {args.timeout:.0f} s timeout"
    elif process.returncode != 0 and outcome.error is None:
        outcome.error = f"exit code {process.returncode} (see {stderr_log.name})"
    return outcome


# --- reporting ----------------------------------------------------------------------------


def _rows_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def _parse_rows(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        number = part[:-1] if scale != 1 else part
        try:
            value = int(float(number) * scale)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a row count like 100k") from None
        if value < 1_000:
            raise argparse.ArgumentTypeError(f"{value} is too small (use >= 1000)")
        out.append(value)
    return out


def _select(only: str | None, skip: str | None) -> list[str]:
    names = list(CONTESTANTS)
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        unknown = [p for p in patterns if not fnmatch.filter(names, p)]
        if unknown:
            raise SystemExit(f"--only: no contestant matches {unknown}; see --list")
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if skip:
        patterns = [p.strip() for p in skip.split(",") if p.strip()]
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)]
    return names


def _found(drifted: list[str] | None) -> str:
    if drifted is None:
        return "-"
    found = [c for c in INJECTED if c in drifted]
    extra = sorted(set(drifted) - set(INJECTED))
    text = f"{len(found)}/{len(INJECTED)}"
    missed = [c for c in INJECTED if c not in drifted]
    if missed:
        text += " missed " + ",".join(missed)
    if extra:
        text += f" +{len(extra)} ({','.join(extra)})"
    return text


def _reference(outcomes: list[Outcome]) -> Outcome | None:
    by_name = {o.contestant: o for o in outcomes if o.median is not None}
    for name in REFERENCE_CONTESTANTS:
        if name in by_name:
            return by_name[name]
    return None


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return value / base


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def table_rows(outcomes: list[Outcome]) -> list[list[str]]:
    reference = _reference(outcomes)
    ordered = sorted(outcomes, key=lambda o: (o.median is None, o.median or 0.0))
    rows = []
    for o in ordered:
        time_ratio = _ratio(o.median, reference.median if reference else None)
        cpu_ratio = _ratio(o.median_cpu, reference.median_cpu if reference else None)
        mem_ratio = _ratio(o.peak, reference.peak if reference else None)
        rows.append(
            [
                o.contestant,
                _fmt(o.median, 3),
                _fmt(o.median_cpu, 3),
                str(len(o.seconds)),
                _fmt(time_ratio, 1, "x"),
                _fmt(cpu_ratio, 1, "x"),
                _fmt(o.peak, 0),
                _fmt(mem_ratio, 1, "x"),
                _found(o.drifted),
                (o.error or "")[:60],
            ]
        )
    return rows


HEADERS = [
    "contestant",
    "median s",
    "CPU s",
    "runs",
    "time vs keeneye",
    "CPU vs keeneye",
    "peak MiB",
    "mem vs keeneye",
    "drifted found",
    "error",
]


def _speedup(slow: Outcome, fast: Outcome) -> tuple[float, float]:
    """How many times faster ``fast`` is than ``slow``: by wall time, and by CPU time."""
    wall = (slow.median or 0.0) / (fast.median or float("inf"))
    cpu = (slow.median_cpu or 0.0) / (fast.median_cpu or float("inf"))
    return wall, cpu


def targets(outcomes: list[Outcome]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets: (target, measured, met?); None when not measurable.

    Checked for ``keeneye.compare`` and for the bare engine, on median wall time (the CPU-time
    ratio is shown beside it: on a shared machine it is the steadier of the two).
    """
    by = {o.contestant: o for o in outcomes if o.median is not None}
    keeneyes = [by[name] for name in REFERENCE_CONTESTANTS if name in by]
    if not keeneyes:
        return [("keeneye ran", "no keeneye result", None)]
    checks: list[tuple[str, str, bool | None]] = []
    # Peers are the libraries in their own venvs; the plain scipy/numpy baselines are not.
    peers = [o for o in by.values() if o.env != "keeneye"]
    fastest = min(peers, key=lambda o: o.median or 0.0) if peers else None
    for keeneye in keeneyes:
        who = keeneye.contestant
        for peer, factor in (
            ("evidently-default", 30),
            ("scipy-loop", 2),
            ("nannyml-ks-chi2", 2),
        ):
            target = f"{who} >= {factor}x faster than {peer}"
            if peer not in by:
                checks.append((target, "not run", None))
                continue
            wall, cpu = _speedup(by[peer], keeneye)
            checks.append((target, f"{wall:.1f}x (CPU {cpu:.1f}x)", wall >= factor))
        if fastest is not None and keeneye.peak is not None and fastest.peak is not None:
            checks.append(
                (
                    f"{who} peak memory <= the fastest peer's ({fastest.contestant})",
                    f"{keeneye.peak:.0f} vs {fastest.peak:.0f} MiB",
                    keeneye.peak <= fastest.peak,
                )
            )
    if "keeneye-2nd-window" in by:
        for first in keeneyes:
            wall, cpu = _speedup(first, by["keeneye-2nd-window"])
            checks.append(
                (
                    f"2nd window >= 2x cheaper than the first ({first.contestant})",
                    f"{wall:.1f}x (CPU {cpu:.1f}x)",
                    wall >= 2,
                )
            )
    return checks


def _frame_name(frame: str) -> str:
    """'compare (keeneye/stats/_ecdf.py:92)' -> 'keeneye/stats/_ecdf.py:compare'."""
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{function}"


def profile_summary(outcome: Outcome, top: int = 12) -> str:
    """Where the time went: the leaf functions, and the deepest keeneye function on the stack."""
    path = Path(outcome.profile or "")
    if path.suffix == ".pstats":
        import io
        import pstats

        buffer = io.StringIO()
        pstats.Stats(str(path), stream=buffer).sort_stats("tottime").print_stats(top)
        return f"profile of {outcome.contestant} ({path}):\n{buffer.getvalue()}"
    leaves: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        if not frames:
            continue
        leaf = _frame_name(frames[-1])
        if leaf.startswith("threading.py:") or "py-spy" in stack:
            continue  # a thread waiting for its workers (or for the profiler) is idle
        total += count
        leaves[leaf] = leaves.get(leaf, 0) + count
        inside = [f for f in frames if "keeneye/" in f or "drift_contestants" in f]
        owner = _frame_name(inside[-1]) if inside else "(other)"
        ours[owner] = ours.get(owner, 0) + count
    lines = [
        f"profile of {outcome.contestant} at {_rows_label(outcome.rows)} ({path}), "
        f"{total} samples over all threads:"
    ]
    for title, table in (
        ("leaf functions", leaves),
        ("deepest keeneye (or contestant) frame", ours),
    ):
        lines.append(f"  by {title}:")
        for name, count in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * count / max(total, 1):5.1f}%  {name}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_gib, 1),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Command: `{results['command']}`", ""]
    m = results["machine"]
    lines += [
        f"Machine: {m['cpus']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['platform']}; "
        f"load average {m['loadavg_start'][0]:.1f} at start, {m['loadavg_end'][0]:.1f} at end "
        f"(the machine is shared). Started {results['started']} UTC.",
        "",
    ]
    for rows, outcomes_raw in results["sizes"].items():
        outcomes = [Outcome(**o) for o in outcomes_raw]
        lines += [f"#### {_rows_label(int(rows))} + {_rows_label(int(rows))} rows x 25 columns", ""]
        lines.append("| " + " | ".join(h for h in HEADERS if h != "error") + " |")
        lines.append("|" + "---|" * (len(HEADERS) - 1))
        for row in table_rows(outcomes):
            cells = row[:-1]
            if row[-1]:
                cells[1] = f"failed: {row[-1]}"
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Targets:", ""]
        for target, measured, ok in targets(outcomes):
            verdict = {True: "met", False: "**MISSED**", None: "not measured"}[ok]
            lines.append(f"- {target}: {measured} — {verdict}")
        lines.append("")
    lines += ["Versions:", ""]
    for name, versions in results["versions"].items():
        lines.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=_parse_rows,
        default=[100_000, 1_000_000],
        help="rows per window, comma-separated (default: 100k,1M)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed repeats per contestant and size (median reported)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="stop repeating once a contestant spent this many seconds "
        "(at least one repeat always runs; default 60)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="kill a contestant's run after this many seconds (default 900)",
    )
    parser.add_argument("--only", help="comma-separated contestant names or globs")
    parser.add_argument("--skip", help="comma-separated contestant names or globs to leave out")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--cache-dir", type=Path, help="where the Parquet files are kept")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the contestants")
    parser.add_argument("--install-timeout", type=float, default=1200.0)
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--json", type=Path, help="results file (default: benchmarks/results/)")
    parser.add_argument(
        "--profile",
        metavar="GLOB",
        help="profile extra runs of the matching contestants (e.g. 'keeneye*') after timing; "
        "files go to benchmarks/results/logs/ and the top functions are printed",
    )
    parser.add_argument(
        "--profiler",
        choices=("py-spy", "cprofile"),
        default="py-spy",
        help="py-spy samples every thread (default); cProfile sees the main thread only",
    )
    parser.add_argument("--list", action="store_true", help="list the contestants and exit")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    # Wide enough for the table when the output is a pipe or a log file, not a terminal.
    console = Console(width=None if sys.stdout.isatty() else 150)
    if args.list:
        listing = Table("contestant", "venv", "what is timed")
        for c in CONTESTANTS.values():
            listing.add_row(c.name, c.env, c.description)
        console.print(listing)
        return 0

    names = _select(args.only, args.skip)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    envs = [CONTESTANTS[n].env for n in names]
    if args.profile and args.profiler == "py-spy":
        envs.append("profiling")
    for env in dict.fromkeys(envs):
        ensure_env(env, console, args.install_timeout, log_dir)

    results: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/drift_compare.py", *sys.argv[1:]]),
        "started": started,
        "machine": machine(),
        "injected": list(INJECTED),
        "sizes": {},
        "versions": {},
    }
    all_outcomes: dict[int, list[Outcome]] = {}
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("drift benchmark", total=len(args.rows) * len(names))
        for rows in args.rows:
            progress.update(overall, description=f"{_rows_label(rows)}: writing data")
            data = ensure_dataset(rows, seed=args.seed, cache_dir=args.cache_dir)
            outcomes = []
            for name in names:
                outcome = run_contestant(name, rows, data, args, progress, overall, log_dir)
                outcomes.append(outcome)
                if outcome.versions:
                    results["versions"].setdefault(CONTESTANTS[name].env, outcome.versions)
                status = outcome.error or f"{_fmt(outcome.median, 3)} s"
                progress.console.print(f"  {_rows_label(rows)} {name}: {status}")
                progress.advance(overall)
            all_outcomes[rows] = outcomes
            results["sizes"][str(rows)] = [asdict(o) for o in outcomes]
    results["machine"]["loadavg_end"] = os.getloadavg()

    for rows, outcomes in all_outcomes.items():
        table = Table(
            *HEADERS,
            title=f"{_rows_label(rows)} + {_rows_label(rows)} rows x 25 "
            "columns (compute only; peak extra = resident memory above the loaded data)",
        )
        for row in table_rows(outcomes):
            table.add_row(*row)
        console.print(table)
        for target, measured, ok in targets(outcomes):
            mark = {True: "[green]met[/]", False: "[bold red]MISSED[/]", None: "[yellow]n/a[/]"}
            console.print(f"  {mark[ok]}  {target}: {measured}")
        for o in outcomes:
            if o.error:
                console.print(f"  [red]{o.contestant} failed:[/] {o.error}", markup=True)

    for outcomes in all_outcomes.values():
        for o in outcomes:
            if o.profile:
                console.print(profile_summary(o))

    out = args.json or RESULTS / f"drift-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    console.print(f"results: {out}")
    if args.markdown:
        args.markdown.write_text(markdown(results))
        console.print(f"markdown: {args.markdown}")
    failed = [o for outs in all_outcomes.values() for o in outs if o.error]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
