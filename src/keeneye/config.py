"""keeneye's settings: one typed object, read from ``keeneye.yaml`` and ``KEENEYE_*`` variables.

Precedence (highest first): explicit arguments, ``KEENEYE_*`` environment variables (nested keys
with ``__``, e.g. ``KEENEYE_SERVER__PORT=9000``), the YAML file, the defaults below.

>>> Settings().server.port
8765
"""

from __future__ import annotations

import difflib
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from keeneye.errors import ConfigError

DEFAULT_CONFIG_FILE = "keeneye.yaml"


class Section(BaseModel):
    """Base of every nested settings model: an unknown key is an error, never ignored (a typo
    such as ``notify: {url: …}`` would otherwise start a server that never notifies).
    ``tests/test_config.py`` checks that every model under :class:`Settings` forbids extras."""

    model_config = ConfigDict(extra="forbid")


class ServerSettings(Section):
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


class NotifySettings(Section):
    """Where alerts go (apprise URLs) and how often the same alert may be repeated."""

    urls: list[SecretStr] = Field(
        default_factory=list,
        description="Apprise URLs (slack://…, mailtos://…, workflows://… (Teams), pagerduty://…, jsons://…);"
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
#: Metrics a performance rule can bound (``keeneye.analysis.performance``'s scalar metrics).
MetricName = Literal[
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "mae",
    "rmse",
    "mape",
    "r2",
    "mean_error",
]
DEFAULT_WINDOWS: tuple[WindowName, ...] = ("hourly", "daily")


class AlertBudgetSettings(Section):
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


class OutlierSettings(Section):
    """Outlier scores per event against the baseline, and probe bursts (``analysis.outliers``)."""

    enabled: bool = Field(
        False, description="Score every event against its baseline in the drift job."
    )
    quantile: float = Field(
        0.99,
        gt=0.5,
        lt=1,
        description="An event is an outlier when its Mahalanobis distance exceeds this quantile "
        "of held-out baseline rows' distances.",
    )
    rare_share: float = Field(
        0.001,
        ge=0,
        lt=1,
        description="A category rarer than this share of the baseline (or new) makes an outlier.",
    )
    client_key: str | None = Field(
        None,
        description="Input field naming the client (hash it by policy); enables the burst "
        "detector.",
    )
    burst_min_outliers: int = Field(
        10,
        ge=1,
        description="A client is flagged with at least this many outliers (and a "
        "binomial test against the baseline rate at the budget's level).",
    )
    burst_min_duplicates: int = Field(
        20,
        ge=2,
        description="A client is flagged when this many of its events are near-duplicates of "
        "its earlier events in the window.",
    )
    duplicate_resolution: float = Field(
        0.1,
        gt=0,
        description="Two events are near-duplicates when their standardized numeric values "
        "round to the same grid cell of this many baseline standard deviations.",
    )


MultivariateMethod = Literal["pca_reconstruction", "domain_classifier"]


def _multivariate_methods() -> list[MultivariateMethod]:
    return ["pca_reconstruction", "domain_classifier"]


OnlineDetector = Literal["adwin", "page_hinkley", "ddm"]


def _online_detectors() -> list[OnlineDetector]:
    return ["adwin", "page_hinkley", "ddm"]


class AnalysisSettings(Section):
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
    outliers: OutlierSettings = Field(
        default_factory=lambda: OutlierSettings.model_validate({}),
        description="Outlier share per window and probe bursts per client.",
    )
    weekend_days: list[int] = Field(
        default_factory=lambda: [5, 6],
        description="Weekdays (Monday=0) that form the weekend for seasonal traffic rules.",
    )
    estimate_performance: list[str] = Field(
        default_factory=list,
        description="Models whose performance is estimated without labels (CBPE for "
        "classifiers, DLE for regressors) from a baseline with labels (and scores); '*' means "
        "every model. Needs keeneye[estimate].",
    )
    multivariate: list[str] = Field(
        default_factory=list,
        description="Models whose windows get multivariate drift tests; '*' means every model.",
    )
    segments: dict[str, list[str]] = Field(
        default_factory=dict,
        description="model -> segment columns (categorical features): drift, summaries and "
        "performance per segment value; the tests share the window's alert budget.",
    )
    segment_top_k: int = Field(
        5, ge=1, description="Segments per column: the baseline's most frequent values."
    )
    segment_min_size: int = Field(
        50,
        ge=2,
        description="Rows a segment needs in the baseline (else it joins 'other') and in a "
        "window (else it is reported, not tested).",
    )
    online: dict[str, list[str]] = Field(
        default_factory=dict,
        description="model -> streams watched by online change detectors: 'error' (per-"
        "prediction errors once labels land), 'score', or numeric feature names. Needs "
        "keeneye[online].",
    )
    online_detectors: list[OnlineDetector] = Field(
        default_factory=_online_detectors,
        description="Online change detectors run on every stream (DDM on 0/1 errors only).",
    )
    multivariate_methods: list[MultivariateMethod] = Field(
        default_factory=_multivariate_methods,
        description="Multivariate drift tests run (the domain classifier needs keeneye[estimate]).",
    )


def _daily_only() -> list[WindowName]:
    return ["daily"]


class AlertSettings(Section):
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
    performance_min: dict[MetricName, float] = Field(
        default_factory=dict, description="metric -> lowest acceptable value (e.g. accuracy)."
    )
    performance_max: dict[MetricName, float] = Field(
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


FieldPolicyName = Literal["keep", "drop", "hash", "bucket"]


class FieldPolicySettings(Section):
    """What happens to one input field before it is stored (``privacy.models.M.fields.F``).

    Written in YAML either as the policy name (``email: drop``) or as a mapping
    (``age: {policy: bucket, edges: [0, 18, 30, 50, 70]}``).
    """

    policy: FieldPolicyName = Field(
        "keep",
        description="keep: store as sent; drop: never stored; hash: HMAC-SHA256 with the "
        "secret (equal values stay equal, so joins and category counts still work); "
        "bucket: numeric values floored to `edges`, categories outside `categories` -> "
        "'other'.",
    )
    edges: list[float] | None = Field(
        None, description="bucket: ascending range edges; a number becomes its range's lower edge."
    )
    categories: list[str] | None = Field(
        None, description="bucket: the categories kept (e.g. the top-k); others become 'other'."
    )


class ModelPrivacySettings(Section):
    """The privacy policy of one model, applied by the SDK and enforced again by the collector."""

    fields: dict[str, FieldPolicyName | FieldPolicySettings] = Field(
        default_factory=dict, description="input field -> policy (keep, drop, hash, bucket)."
    )
    pii: Literal["off", "detect"] = Field(
        "off",
        description="detect: string inputs (and event ids) that look like an e-mail address, "
        "a phone number or a card number (Luhn) get `pii_action`.",
    )
    pii_action: Literal["hash", "drop"] = Field(
        "hash", description="What `pii: detect` does to a value it flags."
    )
    event_id: Literal["keep", "hash"] = Field(
        "keep",
        description="hash: event ids are HMAC-hashed (labels are hashed the same way, so they "
        "still join).",
    )
    unlisted: Literal["keep", "drop"] = Field(
        "keep", description="What happens to input fields not named in `fields`."
    )
    secret_env: str = Field(
        "KEENEYE_PRIVACY_SECRET",
        description="Environment variable holding the HMAC secret (the same in the SDK and the "
        "collector); never written to logs or errors.",
    )


class DifferentialPrivacySettings(Section):
    """Noise on the counts and histograms keeneye publishes (``privacy.dp``); off by default."""

    enabled: bool = Field(False, description="Add noise to published counts and histograms.")
    mechanism: Literal["laplace", "gaussian"] = Field(
        "laplace", description="laplace: ε-DP; gaussian: (ε, δ)-DP."
    )
    epsilon: float = Field(
        1.0, gt=0, description="Privacy budget ε of one window, shared by all its released counts."
    )
    delta: float = Field(
        1e-6, gt=0, lt=1, description="δ of the Gaussian mechanism (ignored by Laplace)."
    )
    seed: int | None = Field(
        None,
        description="Seed of the noise (tests only: a known seed lets anyone remove the noise).",
    )


class PrivacySettings(Section):
    """Per-model field policies and differential privacy of published results."""

    models: dict[str, ModelPrivacySettings] = Field(
        default_factory=dict, description="model -> its privacy policy."
    )
    dp: DifferentialPrivacySettings = Field(
        default_factory=lambda: DifferentialPrivacySettings.model_validate({}),
        description="Differential privacy of published counts and histograms.",
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
    privacy: PrivacySettings = Field(default_factory=lambda: PrivacySettings.model_validate({}))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # highest first: explicit arguments, KEENEYE_* variables, the YAML file
        sources: list[PydanticBaseSettingsSource] = [init_settings, _EnvSource(settings_cls)]
        file = _YAML_FILE.get()
        if file is not None:
            sources.append(_YamlSource(settings_cls, yaml_file=file))
        return tuple(sources)


#: The YAML file :func:`load_settings` is reading (pydantic-settings builds its sources inside
#: ``Settings()``; this is how the path reaches them).
_YAML_FILE: ContextVar[Path | None] = ContextVar("keeneye_yaml_file", default=None)


class _YamlSource(YamlConfigSettingsSource):
    """pydantic-settings' YAML source, with errors that name the file and the line but never
    quote it (PyYAML quotes the offending line, which may hold a secret)."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            loaded = super()._read_file(file_path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            raise ConfigError(
                f"config file {str(file_path)!r} is not valid YAML{where}: {problem}"
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"config file {str(file_path)!r} must hold a mapping at the top level"
            )
        return loaded


class _EnvSource(EnvSettingsSource):
    """``KEENEYE_*`` variables; a list or mapping that is not JSON reaches validation as text,
    so it gets the same one-line message as the file (not a ``SettingsError`` traceback)."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (default ``keeneye.yaml`` when it exists) and the environment.

    Raises :class:`keeneye.errors.ConfigError` naming the key and the value on invalid input,
    and, for an unknown key, the closest valid name.
    """
    # (Path("") is "." — test the variable's text, not the path, for "unset".)
    file = (
        Path(path)
        if path is not None
        else Path(os.environ.get("KEENEYE_CONFIG", "") or DEFAULT_CONFIG_FILE)
    )
    if path is not None and not file.exists():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    token = _YAML_FILE.set(file if file.is_file() else None)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(f"invalid keeneye settings: {problems}") from None
    except SettingsError as exc:
        raise ConfigError(f"invalid keeneye settings: {exc}") from None
    finally:
        _YAML_FILE.reset(token)
    _check_notify_urls(settings.notify)
    return settings


def _check_notify_urls(notify: NotifySettings) -> None:
    """Every ``notify.urls`` entry is a URL apprise can use (one line naming it, redacted)."""
    if not notify.urls:
        return
    import apprise

    from keeneye.notify.redact import private_url

    for i, secret in enumerate(notify.urls):
        url = secret.get_secret_value()
        if not apprise.Apprise().add(url):
            raise ConfigError(
                f"notify.urls.{i}: {private_url(url)!r} is not an apprise URL apprise can use; "
                "see https://github.com/caronc/apprise/wiki for the formats"
            )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``keeneye.yaml`` (``keeneye config schema``), for editors."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "keeneye.yaml"
    return schema


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
        model = _nested_model(annotation)
        if model is None:
            break
    return False


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``), if any."""
    for a in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The settings model that holds the keys at ``loc`` (None inside a list or mapping)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _nested_model(model.model_fields[part].annotation)
    return model


def _env_name(loc: tuple[int | str, ...]) -> str:
    return "KEENEYE_" + "__".join(str(p).upper() for p in loc)


def _problem(err: Any) -> str:
    loc = tuple(err.get("loc", ()))
    key = ".".join(str(p) for p in loc)
    if err.get("type") == "extra_forbidden":
        return _unknown_key(loc)
    if loc and loc[-1] == "[key]" and err.get("type") == "literal_error":
        # an unknown key of a mapping with fixed key names (e.g. alerts.performance_min)
        where = ".".join(str(p) for p in loc[:-2])
        name = str(loc[-2])
        expected = re.findall(r"'([^']+)'", str(err.get("msg", "")))
        close = difflib.get_close_matches(name, expected, n=1)
        hint = f"did you mean {where}.{close[0]}? " if close else ""
        return f"unknown key {where}.{name} ({hint}valid: {', '.join(expected)})"
    env = _env_name(loc)
    via_env = f" (from {env}; lists and mappings there are JSON)" if env in os.environ else ""
    if is_secret_key(loc):
        # the value is secret: name the key and the kind of problem only
        kind = type(err.get("input")).__name__
        return f"{key}: {err['msg']} (got a {kind}; the value is secret and not shown){via_env}"
    return f"{key}={err.get('input')!r}: {err['msg']}{via_env}"


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """``unknown key analysis.windos; did you mean analysis.windows?``"""
    parent, name = loc[:-1], str(loc[-1])
    key = ".".join(str(p) for p in loc)
    model = _model_at(parent)
    valid = sorted(model.model_fields) if model is not None else []
    close = difflib.get_close_matches(name, valid, n=1)
    prefix = "".join(f"{p}." for p in parent)
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    env = _env_name(loc)
    via_env = f" (from {env})" if env in os.environ else ""
    return f"unknown key {key}{via_env}{hint}"
