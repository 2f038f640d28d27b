"""Connection settings of the event log: ``opensearch://[user:password@]host:port[?options]``.

``opensearch+https://`` (or ``tls=true``) speaks TLS; options: ``ca=/path/ca.pem``,
``verify=false`` (self-signed test clusters only), ``namespace=`` (index name prefix, default
``keeneye``), ``replicas=``, ``shards=``, ``retention_days=``, ``rest=`` (the store of everything
else, a DuckDB path or ``postgresql://`` URL). The password may come from
``KEENEYE_OPENSEARCH_PASSWORD`` instead of the URL; it never appears in ``repr`` or in errors.

>>> settings = parse_url("opensearch://bob:s3cret@127.0.0.1:9200?namespace=t1&replicas=1")
>>> settings.hosts, settings.namespace, settings.replicas
(['http://127.0.0.1:9200'], 't1', 1)
>>> "s3cret" in repr(settings)
False
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from keeneye.errors import ConfigError


@dataclass(frozen=True)
class OpenSearchSettings:
    hosts: list[str]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    verify_certs: bool = True
    namespace: str = "keeneye"
    shards: int = 1
    replicas: int | None = None
    retention_days: int | None = None
    rest: str | None = None
    timeout: float = 30.0

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"hosts": self.hosts, "timeout": self.timeout}
        if self.username is not None:
            options["http_auth"] = (self.username, self.password or "")
        if any(h.startswith("https://") for h in self.hosts):
            options["use_ssl"] = True
            options["verify_certs"] = self.verify_certs
            options["ssl_show_warn"] = False
            if self.ca_certs:
                options["ca_certs"] = self.ca_certs
        return options

    def redacted_url(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        host = self.hosts[0].split("://", 1)[1]
        scheme = "opensearch+https" if self.hosts[0].startswith("https") else "opensearch"
        return f"{scheme}://{user}{host}"


def _int(query: dict[str, list[str]], key: str) -> int | None:
    if key not in query:
        return None
    try:
        return int(query[key][-1])
    except ValueError as exc:
        raise ConfigError(f"OpenSearch URL option {key}= must be an integer") from exc


def parse_url(url: str) -> OpenSearchSettings:
    """Settings from an ``opensearch://`` URL (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme not in ("opensearch", "opensearch+https", "elasticsearch"):
        raise ConfigError(
            f"not an OpenSearch URL: use opensearch://host:9200 (got {parts.scheme}://)"
        )
    query = parse_qs(parts.query)
    tls = parts.scheme == "opensearch+https" or query.get("tls", ["false"])[-1] == "true"
    try:
        port = parts.port or 9200
    except ValueError as exc:
        raise ConfigError("OpenSearch URL has an invalid port; use opensearch://host:9200") from exc
    hostname = parts.hostname
    if not hostname:
        raise ConfigError("OpenSearch URL has no host; use opensearch://host:9200")
    hosts = [f"{'https' if tls else 'http'}://{hostname}:{port}"]
    password = unquote(parts.password) if parts.password else None
    if password is None:
        password = os.environ.get("KEENEYE_OPENSEARCH_PASSWORD")
    username = (
        unquote(parts.username) if parts.username else os.environ.get("KEENEYE_OPENSEARCH_USER")
    )
    namespace = query.get("namespace", ["keeneye"])[-1]
    if not namespace or namespace.lower() != namespace or "-" in namespace:
        raise ConfigError(
            f"OpenSearch namespace {namespace!r} must be lowercase without '-', e.g. keeneye"
        )
    return OpenSearchSettings(
        hosts=hosts,
        username=username,
        password=password,
        ca_certs=query.get("ca", [None])[-1],
        verify_certs=query.get("verify", ["true"])[-1] != "false",
        namespace=namespace,
        shards=_int(query, "shards") or 1,
        replicas=_int(query, "replicas"),
        retention_days=_int(query, "retention_days"),
        rest=query.get("rest", [None])[-1],
    )
