"""The generated alertmanager.yml with an e-mail receiver delivers keeneye alerts (and their
resolution) through a real Alertmanager to a local SMTP server."""

from __future__ import annotations

import email
import subprocess
import time
from datetime import datetime, timedelta, timezone
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from keeneye.integrations.prometheus import ExportOptions, ReceiverOptions
from keeneye.integrations.prometheus.configs import alertmanager_config
from keeneye.integrations.prometheus.export import dump_yaml
from keeneye.integrations.stack import free_port, wait_ready


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _wait(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_email_receiver_delivers_firing_and_resolved(
    prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    options = ExportOptions(
        group_wait="1s",
        group_interval="1s",
        receiver=ReceiverOptions(
            email_to="ml-team@example.com",
            email_from="keeneye@example.com",
            smarthost=f"127.0.0.1:{smtp.port}",
            smtp_require_tls=False,
        ),
    )
    (tmp_path / "alertmanager.yml").write_text(dump_yaml(alertmanager_config(options)))
    port = free_port()
    proc = subprocess.Popen(
        [prometheus_tools["alertmanager"], f"--config.file={tmp_path / 'alertmanager.yml'}",
         f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/-/ready", 15, proc)
        labels = {"alertname": "KeeneyeDatasetDrift", "source": "keeneye", "model": "churn",
                  "version": "3", "severity": "critical"}  # fmt: skip
        now = datetime.now(timezone.utc)
        alert = {"labels": labels, "annotations": {"summary": "67% of the features drifted"},
                 "startsAt": now.isoformat()}  # fmt: skip
        assert httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
        other = {**alert, "labels": {**labels, "source": "someone-else"}}
        assert httpx.post(f"{url}/api/v2/alerts", json=[other], timeout=5).status_code == 200
        _wait("the firing e-mail", lambda: inbox.messages, 30)
        first = inbox.messages[0]
        assert first["To"] == "ml-team@example.com"
        assert "KeeneyeDatasetDrift" in first["Subject"] and "FIRING" in first["Subject"]
        ended = {**alert, "endsAt": (now + timedelta(seconds=1)).isoformat()}
        httpx.post(f"{url}/api/v2/alerts", json=[ended], timeout=5)
        _wait(
            "the resolved e-mail",
            lambda: any("RESOLVED" in m["Subject"] for m in inbox.messages),
            30,
        )
        # only keeneye's alerts are routed to keeneye's receiver
        assert all("someone-else" not in m.as_string() for m in inbox.messages)
    finally:
        proc.terminate()
        proc.wait(10)
        smtp.stop()
