"""keeneye's settings: one typed object, read from ``keeneye.yaml`` and ``KEENEYE_*`` variables.

Precedence (highest first): explicit arguments, ``KEENEYE_*`` environment variables (nested keys
with ``__``, e.g. ``KEENEYE_SERVER__PORT=9000``), the YAML file, the defaults below.

>>> Settings().server.port
8765
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, PositiveInt, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from keeneye.errors import ConfigError

DEFAULT_CONFIG_FILE = "keeneye.yaml"


class ServerSettings(BaseModel):
    """The collector / API / UI process (``keeneye server``)."""

    host: str = Field("127.0.0.1", description="Interface to bind; loopback unless a token is set.")
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0 picks a free one).")
    store: str = Field(
        "keeneye.duckdb",
        description="The store: a DuckDB file (or ':memory:'), or a postgresql://user@host/db "
        "URL shared by several collectors and workers.",
    )
    token: SecretStr | None = Field(
        None, description="Bearer token required by the ingestion API and the UI when set."
    )
    max_batch_events: int = Field(
        10_000, ge=1, description="Largest batch of events one request may carry."
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    public_url: str | None = Field(
        None, description="URL people use to reach the UI; used for links in notifications."
    )
    max_features_per_event: int = Field(
        2000, ge=1, description="Most input features one event may carry."
    )
    max_new_features_per_hour: int = Field(
        2000,
        ge=1,
        description="Most features a model may gain in one hour (each is a schema change).",
    )
    max_name_length: int = Field(
        256, ge=1, le=4096, description="Longest feature name accepted, in characters."
    )
    max_event_age_days: float = Field(
        3650.0, gt=0, description="Oldest plausible event or label timestamp, in days before now."
    )
    max_event_future_seconds: float = Field(
        86400.0, ge=0, description="Latest plausible timestamp, in seconds after now."
    )
    min_free_disk_bytes: int = Field(
        1024**3,
        ge=0,
        description="Below this much free space on the store's disk, /v1/health warns.",
    )
    retention_days: float | None = Field(
        None,
        gt=0,
        description="`keeneye retention` deletes raw events (and their labels) older than this "
        "many days; reports, references and alert history stay. None keeps everything.",
    )


class NotifySettings(BaseModel):
    """Where alerts go (apprise URLs) and how often the same alert may be repeated."""

    urls: list[SecretStr] = Field(
        default_factory=list,
        description="Apprise URLs (slack://…, mailtos://…, msteams://…, pagerduty://…, jsons://…);"
        " they carry tokens, so they are kept secret and redacted in logs.",
    )
    cooldown_seconds: float = Field(
        3600.0, ge=0, description="An alert that stays active is not re-sent within this time."
    )
    send_resolved: bool = Field(
        True, description="Send a 'resolved' message when a firing alert is no longer active."
    )
    group: bool = Field(
        True,
        description="One message per model and evaluation listing its alerts (not one each).",
    )
    timeout: float = Field(
        10.0, gt=0, le=300, description="Connect and read timeout of one delivery, in seconds."
    )


WindowName = Literal["hourly", "daily", "weekly", "monthly"]
DEFAULT_WINDOWS: tuple[WindowName, ...] = ("hourly", "daily")


class AlertBudgetSettings(BaseModel):
    """How many false drift alerts a user accepts per model (``analysis.alert_budget``); the
    per-window, per-feature decision level is derived from it (``keeneye.stats.budget``)."""

    false_alerts: float = Field(
        1.0, gt=0, description="Expected false drift alerts accepted per model and period."
    )
    period_days: float = Field(
        365.25 / 4, gt=0, description="The period of the budget in days (default a quarter)."
    )
    split: Literal["bonferroni", "sidak"] = Field(
        "bonferroni", description="How a window's level is shared among its tests."
    )


class AnalysisSettings(BaseModel):
    """The statistics and drift jobs (``keeneye.analysis``)."""

    windows: list[WindowName] = Field(
        default_factory=lambda: list(DEFAULT_WINDOWS),
        description="Tumbling window sizes computed for every model (UTC-aligned): hourly, "
        "daily, weekly (ISO weeks, from Monday) or monthly (calendar months).",
    )
    model_windows: dict[str, list[WindowName]] = Field(
        default_factory=dict,
        description="model -> window sizes computed for that model instead of `windows`.",
    )
    count_windows: dict[str, PositiveInt] = Field(
        default_factory=dict,
        description="model -> N: also compute windows of every N predictions for that model "
        "(in event-time order, all versions together), next to its time windows.",
    )
    interval_seconds: float = Field(
        60.0, gt=0, description="How often the embedded analysis runs inside `keeneye server`."
    )
    enabled: bool = Field(True, description="Run the analysis inside `keeneye server`.")
    grace_seconds: float = Field(
        60.0, ge=0, description="A window is complete this long after its end (in-flight events)."
    )
    recheck_days: float = Field(
        14.0,
        ge=0,
        description=(
            "How far back the active performance alert looks for the latest labelled window "
            "(late labels re-open their window at any age)."
        ),
    )
    backfill_days: float = Field(
        35.0, ge=0, description="How far back the first run (and `analyze`) computes windows."
    )
    baseline_versions: dict[str, str] = Field(
        default_factory=dict,
        description="model -> version whose baseline to use (default: each version's own, "
        "else the live version's).",
    )
    rolling_reference: list[str] = Field(
        default_factory=list,
        description="Models whose drift reference is the same window a week earlier "
        "instead of the training baseline.",
    )
    drift_methods: dict[str, str] = Field(
        default_factory=dict, description="feature -> drift method pinned for that feature."
    )
    drift_thresholds: dict[str, float] = Field(
        default_factory=dict, description="feature -> threshold pinned for that feature."
    )
    correction: Literal["holm", "bonferroni", "bh", "none"] = Field(
        "holm", description="Multiple-testing correction of the dataset drift verdict."
    )
    alert_budget: AlertBudgetSettings | None = Field(
        default_factory=lambda: AlertBudgetSettings.model_validate({}),
        description="False drift alerts accepted per model and period; each window size gets "
        "the level budget / windows per period. null: a fixed per-window alpha (`alpha`).",
    )
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Per-window significance level, used only when `alert_budget` is null.",
    )
    tasks: dict[str, Literal["auto", "classification", "regression"]] = Field(
        default_factory=dict, description="model -> task; 'auto' guesses from labels."
    )
    positive_class: dict[str, str] = Field(
        default_factory=dict, description="model -> positive class of a binary classifier."
    )
    weekend_days: list[int] = Field(
        default_factory=lambda: [5, 6],
        description="Weekdays (Monday=0) that form the weekend for seasonal traffic rules.",
    )


def _daily_only() -> list[WindowName]:
    return ["daily"]


class AlertSettings(BaseModel):
    """Alert rules evaluated over every computed window (``keeneye.analysis.rules``)."""

    traffic_change: float = Field(
        0.4, gt=0, description="Relative change of traffic vs a day and a week ago that alerts."
    )
    traffic_min_events: int = Field(
        20, ge=0, description="Windows compared for traffic need this many events in the past."
    )
    traffic_min_z: float = Field(
        3.0,
        ge=0,
        description="A traffic change must also exceed this many Poisson standard deviations "
        "(|now - then| / sqrt(now + then)), so small hourly counts do not alert on noise; "
        "the cut of a daily window, raised for hourly ones (3 -> 3.86).",
    )
    nonfinite_predictions: int = Field(
        0, ge=0, description="Alert when more than this many predictions are NaN or infinite."
    )
    drift_share: float = Field(
        0.5, gt=0, le=1, description="Alert when this share of features drifted (or more)."
    )
    drift_features: list[str] = Field(
        default_factory=list,
        description="Features whose drift alone alerts; '*' means any feature.",
    )
    drift_windows: list[WindowName] = Field(
        default_factory=_daily_only,
        description="Window sizes whose drift results raise alerts. Hourly drift is still "
        "computed and exported as metrics, but hundreds of small windows a week would raise "
        "false alarms at any fixed significance level.",
    )
    missing_increase: float = Field(
        0.1,
        gt=0,
        le=1,
        description="Alert when a feature's missing share rises this much "
        "above the baseline's (absolute).",
    )
    out_of_range: float = Field(
        0.1,
        gt=0,
        le=1,
        description="Alert when this share of a feature is outside the baseline's range.",
    )
    performance_min: dict[str, float] = Field(
        default_factory=dict, description="metric -> lowest acceptable value (e.g. accuracy)."
    )
    performance_max: dict[str, float] = Field(
        default_factory=dict, description="metric -> highest acceptable value (e.g. rmse)."
    )
    min_labels: int = Field(
        30, ge=1, description="Performance and bias rules need this many labelled events."
    )
    prediction_bias: float = Field(
        0.1, gt=0, description="Alert when |normalised prediction bias| exceeds this."
    )
    prediction_bias_min_z: float = Field(
        3.0,
        ge=0,
        description="The bias must also be this many standard errors from 0 (a daily "
        "window's cut; shorter windows get a stricter one), so small windows do not alert on "
        "a few misclassified rows.",
    )
    min_events: int = Field(
        30, ge=1, description="Drift and quality rules need this many events in the window."
    )


class Settings(BaseSettings):
    """All of keeneye's settings."""

    model_config = SettingsConfigDict(
        env_prefix="KEENEYE_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerSettings = Field(default_factory=lambda: ServerSettings.model_validate({}))
    analysis: AnalysisSettings = Field(default_factory=lambda: AnalysisSettings.model_validate({}))
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings.model_validate({}))
    notify: NotifySettings = Field(default_factory=lambda: NotifySettings.model_validate({}))


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (default ``keeneye.yaml`` when it exists) and the environment.

    Raises :class:`keeneye.errors.ConfigError` naming the key and the value on invalid input.
    """
    data: dict[str, Any] = {}
    # (Path("") is "." — test the variable's text, not the path, for "unset".)
    file = (
        Path(path)
        if path is not None
        else Path(os.environ.get("KEENEYE_CONFIG", "") or DEFAULT_CONFIG_FILE)
    )
    if path is not None and not file.exists():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    if file.is_file():
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            # not ``{exc}``: PyYAML quotes the offending line, which may hold a secret
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            raise ConfigError(
                f"config file {str(file)!r} is not valid YAML{where}: {problem}"
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {str(file)!r} must hold a mapping at the top level")
        data = loaded
    try:
        # pydantic-settings lets init kwargs beat the environment, so merge the layers here:
        # file, then environment, then explicit overrides.
        env_only = Settings()
        merged = _deep_merge(data, env_only.model_dump(exclude_unset=True))
        _deep_update(merged, overrides)
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(f"invalid keeneye settings: {problems}") from None
    except SettingsError as exc:
        # e.g. a KEENEYE_* variable that is not the JSON a list or mapping needs (the
        # message names the field and the source, not the value)
        raise ConfigError(
            f"invalid keeneye settings: {exc}; nested values in KEENEYE_* variables are JSON, "
            "e.g. KEENEYE_NOTIFY__URLS='[\"slack://…\"]'"
        ) from None


#: Key names whose values are secret even when typed as plain strings (DSNs carry passwords,
#: notifier URLs carry tokens): errors name the key and the problem, never the value.
_SECRET_NAME = re.compile(r"token|password|passwd|secret|dsn|urls?$|hmac|api_key|_key$", re.I)


def is_secret_key(loc: tuple[int | str, ...] | list[int | str]) -> bool:
    """Whether the setting at ``loc`` holds a secret (typed ``SecretStr`` or named like one).

    >>> is_secret_key(("server", "token")), is_secret_key(("notify", "urls", 0))
    (True, True)
    >>> is_secret_key(("server", "port"))
    False
    """
    model: Any = Settings
    for part in loc:
        if isinstance(part, str) and _SECRET_NAME.search(part):
            return True
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            continue
        annotation = fields[part].annotation
        if "SecretStr" in repr(annotation):
            return True
        model = next(
            (
                a
                for a in (annotation, *getattr(annotation, "__args__", ()))
                if hasattr(a, "model_fields")
            ),
            None,
        )
        if model is None:
            break
    return False


def _problem(err: Any) -> str:
    loc = tuple(err.get("loc", ()))
    key = ".".join(str(p) for p in loc)
    if is_secret_key(loc):
        # the value is secret: name the key and the kind of problem only
        kind = type(err.get("input")).__name__
        return f"{key}: {err['msg']} (got a {kind}; the value is secret and not shown)"
    return f"{key}={err.get('input')!r}: {err['msg']}"


def _deep_update(target: dict[str, Any], updates: dict[str, Any]) -> None:
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    _deep_update(out, top)
    return out
