"""Real processes for the model-server tests: an MLflow tracking server, ``keeneye server`` and
``keeneye serve-model``, each on a free 127.0.0.1 port in a temp dir, stopped by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tests.conftest import free_port

BIN = Path(sys.executable).parent
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float, proc: Any = None) -> T:
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except httpx.TransportError:
            value = None
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if the process does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def spawn(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """Start a keeneye command that prints ``listening on URL`` first (stderr to a log file)."""
    log = cwd / f"{Path(args[0]).name}-{args[1]}-{time.monotonic_ns()}.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    return proc, log


def url_of(proc: subprocess.Popen[str], log: Path, timeout: float = 60) -> str:
    """The URL a :func:`spawn`-ed process prints; fails (and stops it) if none comes in time."""
    assert proc.stdout is not None
    found: list[str] = []

    def read() -> None:
        for line in proc.stdout or ():
            match = re.search(r"listening on (http://\S+)", line)
            if match is not None:
                found.append(match.group(1))
                return

    import threading

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)  # bounded: the line comes, the process exits, or time runs out
    if not found:
        stop(proc)
        raise AssertionError(f"{proc.args!r} printed no URL; {log}: {log.read_text()[-3000:]}")
    return found[0]


def start_listening(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[subprocess.Popen[str], str]:
    """:func:`spawn` and wait for the URL."""
    proc, log = spawn(args, cwd=cwd, env=env)
    return proc, url_of(proc, log, timeout)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` with a sqlite backend and a local artifact store; yields its URL."""
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root}/mlflow.db",
            "--artifacts-destination",
            str(root / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        # no background job runner: it starts more processes that the tests never use
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "mlflow server ready",
            lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200,
            120,
            proc,
        )
        import mlflow

        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(url)
        yield url
        mlflow.set_tracking_uri(previous)
    finally:
        stop(proc)


@pytest.fixture
def quiet_mlflow() -> Iterator[None]:
    """MLflow's client emits deprecation and future warnings that are not ours to fix."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class ThreadServer:
    """An ASGI app served by uvicorn in a thread on a free 127.0.0.1 port, with a client."""

    def __init__(self, app: Any) -> None:
        import threading

        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for("app started", lambda: self._server.started or not self._thread.is_alive(), 20)
        if not self._server.started:
            raise AssertionError("the app did not start")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def __enter__(self) -> httpx.Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.client.close()
        self._server.should_exit = True
        self._thread.join(20)
