"""keeneye's settings: one typed object, read from ``keeneye.yaml`` and ``KEENEYE_*`` variables.

Precedence (highest first): explicit arguments, ``KEENEYE_*`` environment variables (nested keys
with ``__``, e.g. ``KEENEYE_SERVER__PORT=9000``), the YAML file, the defaults below.

>>> Settings().server.port
8765
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from keeneye.errors import ConfigError

DEFAULT_CONFIG_FILE = "keeneye.yaml"


class ServerSettings(BaseModel):
    """The collector / API / UI process (``keeneye server``)."""

    host: str = Field("127.0.0.1", description="Interface to bind; loopback unless a token is set.")
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0 picks a free one).")
    store: str = Field(
        "keeneye.duckdb", description="Path of the embedded DuckDB store file (or ':memory:')."
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


class Settings(BaseSettings):
    """All of keeneye's settings."""

    model_config = SettingsConfigDict(
        env_prefix="KEENEYE_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerSettings = Field(default_factory=ServerSettings)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (default ``keeneye.yaml`` when it exists) and the environment.

    Raises :class:`keeneye.errors.ConfigError` naming the key and the value on invalid input.
    """
    data: dict[str, Any] = {}
    file = Path(path) if path is not None else Path(os.environ.get("KEENEYE_CONFIG", ""))
    if path is None and not str(file):
        file = Path(DEFAULT_CONFIG_FILE)
    if path is not None and not file.exists():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    if file.is_file():
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {str(file)!r} is not valid YAML: {exc}") from exc
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
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}={err.get('input')!r}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid keeneye settings: {problems}") from exc


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
