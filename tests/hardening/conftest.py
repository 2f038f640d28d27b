"""Real ``keeneye server`` / ``keeneye serve-model`` processes for the hardening tests, each on a
free 127.0.0.1 port in a temp dir, stopped by PID."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.modelserver.conftest import start_listening, stop, wait_for
from tests.server.conftest import clock, store  # noqa: F401  (fixtures)

KEENEYE = str(Path(sys.executable).parent / "keeneye")


@contextmanager
def keeneye_server(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[str, object]]:
    """``keeneye server --port 0 ARGS``; yields its URL and the process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEENEYE_")}
    proc, url = start_listening(
        [KEENEYE, "server", "--port", "0", *args], cwd=cwd, env={**clean, **(env or {})}
    )
    try:
        wait_for("server ready", lambda: httpx.get(f"{url}/v1/health", timeout=2).is_success, 30)
        yield url, proc
    finally:
        stop(proc)


@contextmanager
def serve_model(model_path: Path, *args: str, cwd: Path) -> Iterator[str]:
    """``keeneye serve-model MODEL --port 0 ARGS`` (no collector); yields its URL."""
    proc, url = start_listening(
        [KEENEYE, "serve-model", str(model_path), "--port", "0", *args], cwd=cwd
    )
    try:
        wait_for("model ready", lambda: httpx.get(f"{url}/v2/health/ready").is_success, 60)
        yield url
    finally:
        stop(proc)
