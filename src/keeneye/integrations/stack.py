"""``keeneye stack``: a local Prometheus and Alertmanager for one machine.

``stack_up`` writes keeneye's generated configuration under a data folder, starts Alertmanager
and then Prometheus (so that no alert is fired before Alertmanager listens) on 127.0.0.1,
waits until both answer, and records their PIDs in ``stack.json``; ``stack_down`` stops exactly
those processes. Both binaries come from Debian's ``prometheus`` and
``prometheus-alertmanager`` packages (or any install on ``PATH``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from keeneye.errors import KeeneyeError
from keeneye.integrations.prometheus.export import write_prometheus_files
from keeneye.integrations.prometheus.options import ExportOptions

STATE_FILE = "stack.json"
HOST = "127.0.0.1"
_BINARIES = {
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "prometheus": ("prometheus",),
}


class StackError(KeeneyeError):
    """The local stack could not be started or stopped."""


def find_binary(name: str) -> str:
    """Path of the ``prometheus`` or ``alertmanager`` executable, or a StackError saying how to
    install it."""
    for candidate in _BINARIES[name]:
        found = shutil.which(candidate)
        if found:
            return found
    package = "prometheus" if name == "prometheus" else "prometheus-alertmanager"
    raise StackError(
        f"{name} is not installed: apt-get install -y --no-install-recommends {package} "
        "(or put its binary on PATH)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child has exited: it only waits to be reaped
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _ours(pid: int, binary: str) -> bool:
    """Whether ``pid`` still runs ``binary`` (a recycled PID belongs to someone else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return _alive(pid)
    return os.path.basename(cmdline) == os.path.basename(binary)


def wait_ready(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{url}: the process exited with code {proc.returncode}")
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise StackError(f"{url} not ready after {timeout:g}s ({last})")


def _start(
    name: str, args: list[str], logs: Path, ready_url: str, timeout: float
) -> dict[str, Any]:
    log = (logs / f"{name}.log").open("ab")
    try:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the shell that ran `stack up` does not stop it
        )  # fmt: skip
    finally:
        log.close()
    try:
        wait_ready(ready_url, timeout, proc)
    except StackError as exc:
        _stop(proc.pid, args[0], timeout=5.0)
        tail = (logs / f"{name}.log").read_text(errors="replace")[-2000:]
        raise StackError(f"{name} did not start: {exc}\n{tail}") from exc
    return {"pid": proc.pid, "binary": args[0], "url": ready_url.rsplit("/-/", 1)[0]}


def stack_up(
    data: Path,
    options: ExportOptions,
    *,
    prometheus_port: int = 9090,
    alertmanager_port: int = 9093,
    timeout: float = 15.0,
) -> dict[str, dict[str, Any]]:
    """Start Alertmanager, then Prometheus, with keeneye's config under ``data``; return what
    runs (name → pid, url). Prometheus keeps its TSDB in ``data/prometheus`` across restarts."""
    data = data.resolve()
    if stack_status(data):
        running = [n for n, info in stack_status(data).items() if info["running"]]
        if running:
            raise StackError(
                f"a stack already runs from {data} ({', '.join(running)}): keeneye stack down"
            )
    binaries = {name: find_binary(name) for name in _BINARIES}
    am_port = alertmanager_port or free_port()
    prom_port = prometheus_port or free_port()
    options = options.model_copy(update={"alertmanager_targets": [f"{HOST}:{am_port}"]})
    config = data / "config"
    write_prometheus_files(config, options)
    logs = data / "logs"
    for folder in (logs, data / "prometheus", data / "alertmanager"):
        folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, dict[str, Any]] = {}
    state["alertmanager"] = _start(
        "alertmanager",
        [
            binaries["alertmanager"],
            f"--config.file={config / 'alertmanager.yml'}",
            f"--storage.path={data / 'alertmanager'}",
            f"--web.listen-address={HOST}:{am_port}",
            "--cluster.listen-address=",  # no gossip port on 0.0.0.0
        ],
        logs,
        f"http://{HOST}:{am_port}/-/ready",
        timeout,
    )
    _save(data, state)
    try:
        state["prometheus"] = _start(
            "prometheus",
            [
                binaries["prometheus"],
                f"--config.file={config / 'prometheus.yml'}",
                f"--storage.tsdb.path={data / 'prometheus'}",
                f"--web.listen-address={HOST}:{prom_port}",
                "--web.enable-lifecycle",
                "--rules.alert.resend-delay=1s",
            ],
            logs,
            f"http://{HOST}:{prom_port}/-/ready",
            timeout,
        )
    except StackError:
        stack_down(data)
        raise
    _save(data, state)
    return state


def _save(data: Path, state: dict[str, dict[str, Any]]) -> None:
    (data / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")


def stack_status(data: Path) -> dict[str, dict[str, Any]]:
    """What ``stack.json`` under ``data`` records, each with ``running``; empty when none."""
    path = data / STATE_FILE
    if not path.is_file():
        return {}
    try:
        state: dict[str, dict[str, Any]] = json.loads(path.read_text())
    except ValueError as exc:
        raise StackError(
            f"{path} is not valid JSON: delete it after stopping the processes"
        ) from exc
    return {
        name: {**info, "running": _ours(int(info["pid"]), str(info["binary"]))}
        for name, info in state.items()
    }


def _reap(pid: int) -> bool:
    """Collect ``pid``'s exit status when it is our child (stack up and down in one process,
    as in tests); whether it has exited."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:  # not our child: its parent (or init) reaps it
        return not _alive(pid)


def _stop(pid: int, binary: str, timeout: float) -> None:
    if not _ours(pid, binary):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reap(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while not _reap(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)


def opensearch_up(data: Path, *, port: int = 9200, heap: str = "512m") -> dict[str, Any]:
    """Start one OpenSearch node on 127.0.0.1 (data under ``data/opensearch``), built once from
    Maven Central with ``mvn`` and cached; record it in ``stack.json`` beside the others."""
    from keeneye.integrations.opensearch_node import OpenSearchNodeError, start_cluster

    data = data.resolve()
    current = stack_status(data)
    if current.get("opensearch", {}).get("running"):
        raise StackError(f"OpenSearch already runs from {data}: keeneye stack down")
    state = {n: {k: v for k, v in i.items() if k != "running"} for n, i in current.items()}
    try:
        (node,) = start_cluster(data / "opensearch", nodes=1, http_port=port, heap=heap)
    except OpenSearchNodeError as exc:
        raise StackError(str(exc)) from exc
    assert node.proc is not None
    state["opensearch"] = {
        "pid": node.pid,
        "binary": node.proc.args[0],  # type: ignore[index]
        "url": node.url,
        "data": str(node.folder),
    }
    data.mkdir(parents=True, exist_ok=True)
    _save(data, state)
    return state["opensearch"]


def stack_down(data: Path, timeout: float = 15.0) -> list[str]:
    """Stop the processes recorded under ``data`` (Prometheus first); return their names."""
    found = stack_status(data)
    stopped = []
    for name in ("prometheus", "alertmanager", "opensearch"):
        info = found.get(name)
        if info is None:
            continue
        _stop(int(info["pid"]), str(info["binary"]), timeout)
        stopped.append(name)
    (data / STATE_FILE).unlink(missing_ok=True)
    return stopped
