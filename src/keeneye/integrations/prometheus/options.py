"""What the generated Prometheus / Alertmanager files depend on: thresholds, timings, targets.

The alert thresholds are keeneye's own (:class:`keeneye.config.AlertSettings`, the ``alerts``
section of ``keeneye.yaml``), so that a Prometheus alert and a keeneye notification fire on the
same condition. What only Prometheus can see (latency, error ratio, scrape health) has its
thresholds here.

>>> opts = ExportOptions()
>>> opts.thresholds.traffic_change, opts.latency_slo_seconds, opts.rate_window
(0.4, 0.5, '5m')
>>> duration_seconds("1h30m")
5400.0
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator, model_validator

from keeneye.config import AlertSettings, Settings
from keeneye.errors import ConfigError

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)
_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


def duration_seconds(text: str) -> float:
    """Seconds in a Prometheus duration such as ``"5m"``, ``"1h30m"`` or ``"0s"``.

    >>> duration_seconds("1w"), duration_seconds("90s")
    (604800.0, 90.0)
    """
    match = _DURATION.match(text)
    if not text or match is None:
        raise ConfigError(
            f"duration {text!r} is not a Prometheus duration; write e.g. '30s', '5m', '1h30m'"
        )
    return float(
        sum(int(g or 0) * unit for g, unit in zip(match.groups(), _UNIT_SECONDS, strict=True))
    )


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for a whole number of seconds.

    >>> format_duration(5400), format_duration(0), format_duration(86400 * 7)
    ('1h30m', '0s', '1w')
    """
    left = int(seconds)
    if left != seconds or left < 0:
        raise ConfigError(f"duration of {seconds!r} seconds must be a whole, non-negative number")
    parts = []
    for unit, suffix in zip(_UNIT_SECONDS, "wdhms", strict=True):
        count, left = divmod(left, unit)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts) or "0s"


def _check_duration(value: str) -> str:
    duration_seconds(value)
    return value


class ReceiverOptions(BaseModel):
    """Where Alertmanager sends keeneye's alerts: a webhook, e-mail, or both."""

    webhook_url: str | None = Field(
        None, description="URL that receives Alertmanager's webhook JSON (e.g. keeneye, a bot)."
    )
    email_to: str | None = Field(None, description="Address that receives alert e-mails.")
    email_from: str = Field("keeneye@localhost", description="Sender of alert e-mails.")
    smarthost: str = Field("localhost:25", description="SMTP server host:port for e-mails.")
    smtp_require_tls: bool = Field(True, description="Refuse to send e-mail without STARTTLS.")

    @field_validator("smarthost")
    @classmethod
    def _smarthost(cls, value: str) -> str:
        if not _HOST_PORT.match(value):
            raise ValueError(f"smarthost {value!r} must be host:port, e.g. 'smtp.example.com:587'")
        return value


class ExportOptions(BaseModel):
    """Everything the generated Prometheus rules and configs depend on."""

    thresholds: AlertSettings = Field(
        default_factory=lambda: AlertSettings.model_validate({}),
        description="keeneye's own alert thresholds (the `alerts` section of keeneye.yaml).",
    )
    server_targets: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:8765"],
        description="host:port of keeneye servers whose /metrics carry the analysis gauges.",
    )
    model_targets: list[str] = Field(
        default_factory=list,
        description="host:port of instrumented model servers (their keeneye.Monitor metrics).",
    )
    alertmanager_targets: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9093"],
        description="host:port of the Alertmanagers Prometheus sends alerts to.",
    )
    scrape_interval: str = Field("15s", description="How often Prometheus scrapes the targets.")
    evaluation_interval: str = Field("15s", description="How often rules are evaluated.")
    rate_window: str = Field(
        "5m", description="Window of rate()s for request, error, latency and non-finite rules."
    )
    traffic_window: str = Field(
        "1h", description="Window whose prediction rate is compared with a day and a week ago."
    )
    traffic_for: str = Field("15m", description="How long a traffic change lasts before alerting.")
    latency_quantile: float = Field(0.95, gt=0, lt=1, description="Latency quantile of the SLO.")
    latency_slo_seconds: float = Field(
        0.5, gt=0, description="Alert when that latency quantile stays above this many seconds."
    )
    latency_for: str = Field("10m", description="How long the latency SLO may be broken.")
    error_ratio: float = Field(
        0.05, gt=0, le=1, description="Alert when this share of predict calls raise."
    )
    error_for: str = Field("5m", description="How long the error ratio may stay above it.")
    drift_for: str = Field(
        "0s",
        description="How long drift gauges stay above threshold before alerting "
        "(they change once per analysed window, so 0s alerts on the first bad window).",
    )
    stale_events_after: str = Field(
        "30m", description="Alert when a model that served traffic logs no prediction this long."
    )
    stale_analysis_after: str = Field(
        "3h", description="Alert when keeneye's analysis has not run for this long."
    )
    target_down_for: str = Field("2m", description="How long a scrape target may be down.")
    group_wait: str = Field("30s", description="Alertmanager: wait to batch a new group's alerts.")
    group_interval: str = Field("5m", description="Alertmanager: wait before updating a group.")
    repeat_interval: str = Field("4h", description="Alertmanager: re-send a firing alert after.")
    weekend_days: list[int] = Field(
        default_factory=lambda: [5, 6],
        description="Weekdays (Monday=0) of the weekend: a day-ago traffic comparison counts "
        "only between days of the same kind (keeneye's `analysis.weekend_days`).",
    )
    receiver: ReceiverOptions = Field(default_factory=lambda: ReceiverOptions.model_validate({}))
    runbook_base_url: str = Field(
        "https://github.com/keeneye/keeneye/blob/main/docs/prometheus.md",
        description="Runbook annotations link to this page, one anchor per alert.",
    )

    @field_validator(
        "scrape_interval",
        "evaluation_interval",
        "rate_window",
        "traffic_window",
        "traffic_for",
        "latency_for",
        "error_for",
        "drift_for",
        "stale_events_after",
        "stale_analysis_after",
        "target_down_for",
        "group_wait",
        "group_interval",
        "repeat_interval",
    )
    @classmethod
    def _duration(cls, value: str) -> str:
        return _check_duration(value)

    @field_validator("server_targets", "model_targets", "alertmanager_targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for target in value:
            if not _HOST_PORT.match(target):
                raise ValueError(f"target {target!r} must be host:port, e.g. '127.0.0.1:8000'")
        return value

    @field_validator("weekend_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        bad = [d for d in value if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"weekend_days {bad} must be weekdays 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _windows(self) -> ExportOptions:
        if duration_seconds(self.rate_window) < 2 * duration_seconds(self.scrape_interval):
            raise ValueError(
                f"rate_window {self.rate_window!r} must cover at least two scrapes "
                f"(scrape_interval {self.scrape_interval!r}); rate() needs two samples"
            )
        return self

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> ExportOptions:
        """Options whose thresholds are ``settings.alerts`` and whose server target is
        ``settings.server``; ``overrides`` set any other field."""
        host = settings.server.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"  # a wildcard bind is reached on loopback from the same machine
        values: dict[str, object] = {
            "thresholds": settings.alerts,
            "server_targets": [f"{host}:{settings.server.port}"],
            "weekend_days": list(settings.analysis.weekend_days),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
