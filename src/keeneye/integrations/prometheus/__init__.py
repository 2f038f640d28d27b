"""keeneye for Prometheus and Alertmanager: scrape config, recording and alerting rules (with
promtool unit tests) and an Alertmanager config, generated from keeneye's settings."""

from __future__ import annotations

from keeneye.integrations.prometheus.configs import alertmanager_config, prometheus_config
from keeneye.integrations.prometheus.export import write_prometheus_files
from keeneye.integrations.prometheus.options import ExportOptions, ReceiverOptions
from keeneye.integrations.prometheus.rules import (
    AlertRule,
    RecordedNames,
    alerting_rules,
    recording_rules,
)

__all__ = [
    "AlertRule",
    "ExportOptions",
    "ReceiverOptions",
    "RecordedNames",
    "alerting_rules",
    "alertmanager_config",
    "prometheus_config",
    "recording_rules",
    "write_prometheus_files",
]
