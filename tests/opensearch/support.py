"""A `keeneye server` child process for the OpenSearch tests (URL read from its first line)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

KEENEYE = str(Path(sys.executable).with_name("keeneye"))


class Server:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self._log = open(log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [KEENEYE, "server", "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        lines: queue.Queue[str] = queue.Queue()
        out = self.proc.stdout
        assert out is not None
        self.output: list[str] = []

        def pump() -> None:
            try:
                for line in out:
                    self.output.append(line)
                    lines.put(line)
            except (ValueError, OSError):
                pass

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 90
        self.url = ""
        while not self.url:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(
                    f"keeneye server printed no URL: {log.read_text()[-2000:]}"
                ) from None
            if "listening on " in line:
                self.url = line.rsplit("listening on ", 1)[1].strip()
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"keeneye server not healthy: {log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self._log.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
