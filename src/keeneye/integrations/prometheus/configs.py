"""The Prometheus scrape configuration and the Alertmanager configuration keeneye generates.

>>> from keeneye.integrations.prometheus.options import ExportOptions, ReceiverOptions
>>> opts = ExportOptions(receiver=ReceiverOptions(webhook_url="http://127.0.0.1:9000/hook"))
>>> [job["job_name"] for job in prometheus_config(opts)["scrape_configs"]]
['keeneye', 'keeneye-models']
>>> alertmanager_config(opts)["receivers"][1]["webhook_configs"][0]["url"]
'http://127.0.0.1:9000/hook'
"""

from __future__ import annotations

from typing import Any

from keeneye.integrations.prometheus import metrics as m
from keeneye.integrations.prometheus.options import ExportOptions
from keeneye.integrations.prometheus.rules import SOURCE_LABEL

RULES_DIR = "rules"
TARGETS_GLOB = "targets/*.yml"
RECEIVER = "keeneye"
NULL_RECEIVER = "default"


def prometheus_config(
    options: ExportOptions, rule_files: list[str] | None = None
) -> dict[str, Any]:
    """``prometheus.yml``: scrape the keeneye server(s) and the instrumented model servers, load
    keeneye's rules, send alerts to Alertmanager. Model targets can also be added without
    editing it, as file_sd files under ``targets/`` (relative to the config file)."""
    files = rule_files or [
        f"{RULES_DIR}/keeneye-recording.rules.yml",
        f"{RULES_DIR}/keeneye-alerts.rules.yml",
    ]
    models: dict[str, Any] = {
        "job_name": m.MODELS_JOB,
        "file_sd_configs": [{"files": [TARGETS_GLOB]}],
    }
    if options.model_targets:
        models["static_configs"] = [{"targets": list(options.model_targets)}]
    return {
        "global": {
            "scrape_interval": options.scrape_interval,
            "evaluation_interval": options.evaluation_interval,
        },
        "rule_files": files,
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": list(options.alertmanager_targets)}]}]
        },
        "scrape_configs": [
            {
                "job_name": m.SERVER_JOB,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": list(options.server_targets)}],
            },
            models,
        ],
    }


def alertmanager_config(options: ExportOptions) -> dict[str, Any]:
    """``alertmanager.yml``: keeneye's alerts (label ``source="keeneye"``) grouped per alert,
    model and version, sent to the webhook and/or e-mail receiver with "resolved" messages;
    a critical alert silences the warning of the same name, model and version."""
    r = options.receiver
    receiver: dict[str, Any] = {"name": RECEIVER}
    if r.webhook_url:
        receiver["webhook_configs"] = [{"url": r.webhook_url, "send_resolved": True}]
    if r.email_to:
        receiver["email_configs"] = [
            {
                "to": r.email_to,
                "from": r.email_from,
                "smarthost": r.smarthost,
                "require_tls": r.smtp_require_tls,
                "send_resolved": True,
            }
        ]
    source = f'{SOURCE_LABEL[0]}="{SOURCE_LABEL[1]}"'
    return {
        "route": {
            "receiver": NULL_RECEIVER,
            "group_by": ["alertname", "model", "version"],
            "group_wait": options.group_wait,
            "group_interval": options.group_interval,
            "repeat_interval": options.repeat_interval,
            "routes": [{"receiver": RECEIVER, "matchers": [source]}],
        },
        "receivers": [{"name": NULL_RECEIVER}, receiver],
        "inhibit_rules": [
            {
                "source_matchers": [source, 'severity="critical"'],
                "target_matchers": [source, 'severity="warning"'],
                "equal": ["alertname", "model", "version"],
            }
        ],
    }
