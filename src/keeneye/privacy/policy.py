"""Per-field privacy policies: what of an event may leave the model server and be stored.

A :class:`PrivacyPolicy` is built from one model's ``privacy.models.<model>`` settings and the
HMAC secret in the environment variable they name. The SDK (:class:`keeneye.Monitor`) applies it
before an event is queued; the collector applies it again to every batch it receives, so an SDK
without the policy cannot store a raw value. Applying it twice is the same as once: a hashed
value (``h:`` and 32 hex digits) is left as it is, bucketed values are their own bucket.

>>> from keeneye.config import ModelPrivacySettings
>>> settings = ModelPrivacySettings(
...     fields={"email": "drop", "user": "hash",
...             "age": {"policy": "bucket", "edges": [0, 18, 65]}},
...     pii="detect")
>>> policy = PrivacyPolicy.from_settings(settings, secret="a secret of 16+ chars")
>>> out = policy.inputs({"email": "a@b.org", "user": "ada", "age": 42, "note": "+1 555 0100"})
>>> sorted(out), out["age"], out["user"][:2], out["note"] == policy.hash("+1 555 0100")
(['age', 'note', 'user'], 18.0, 'h:', True)
>>> policy.inputs(out) == out   # idempotent: the collector may apply it again
True
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keeneye.config import FieldPolicySettings, ModelPrivacySettings, PrivacySettings
from keeneye.errors import ConfigError
from keeneye.privacy.pii import detect

#: A value the policy hashed: ``h:`` and the first 128 bits of HMAC-SHA256, in hex.
HASHED = re.compile(r"^h:[0-9a-f]{32}$")
#: What ``bucket`` turns a category outside the kept ones into.
OTHER = "other"
#: Shortest HMAC secret accepted.
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class FieldRule:
    """One field's policy, resolved (``edges`` sorted, ``categories`` a set)."""

    policy: str
    edges: tuple[float, ...] = ()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PrivacyPolicy:
    """The privacy policy of one model. Build it with :meth:`from_settings` (or
    :meth:`for_model`); :meth:`inputs`, :meth:`event_id` and :meth:`baseline` apply it."""

    rules: Mapping[str, FieldRule] = field(default_factory=dict)
    pii: bool = False
    pii_action: str = "hash"
    hash_event_ids: bool = False
    unlisted: str = "keep"
    #: The HMAC key; kept out of ``repr`` so it cannot reach a log line.
    _key: bytes = field(default=b"", repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: ModelPrivacySettings,
        *,
        secret: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> PrivacyPolicy:
        """The policy ``settings`` describe, keyed with ``secret`` (default: read from the
        environment variable ``settings.secret_env``).

        Raises :class:`~keeneye.errors.ConfigError` when a rule is malformed, or when something
        is hashed and the secret is unset or shorter than 16 characters (the message names the
        variable, never its value).
        """
        rules: dict[str, FieldRule] = {}
        for name, spec in settings.fields.items():
            rules[name] = _rule(name, spec)
        needs_key = (
            settings.event_id == "hash"
            or (settings.pii == "detect" and settings.pii_action == "hash")
            or any(r.policy == "hash" for r in rules.values())
        )
        key = b""
        if needs_key:
            env = os.environ if environ is None else environ
            value = secret if secret is not None else env.get(settings.secret_env)
            if not value:
                raise ConfigError(
                    f"the privacy policy hashes values but the environment variable "
                    f"{settings.secret_env} is not set; set it to a random secret of at least "
                    f"{MIN_SECRET_LENGTH} characters, the same for the SDK and the collector"
                )
            if len(value) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    f"the HMAC secret in {settings.secret_env} is shorter than "
                    f"{MIN_SECRET_LENGTH} characters; use a longer random secret"
                )
            key = value.encode()
        return cls(
            rules=rules,
            pii=settings.pii == "detect",
            pii_action=settings.pii_action,
            hash_event_ids=settings.event_id == "hash",
            unlisted=settings.unlisted,
            _key=key,
        )

    @classmethod
    def for_model(
        cls, settings: PrivacySettings, model: str, *, environ: Mapping[str, str] | None = None
    ) -> PrivacyPolicy | None:
        """The policy of ``model`` in the ``privacy`` settings, or ``None`` if it has none."""
        found = settings.models.get(model)
        return None if found is None else cls.from_settings(found, environ=environ)

    def __repr__(self) -> str:  # the dataclass repr would be fine; this one is shorter
        listed = ", ".join(f"{k}={r.policy}" for k, r in sorted(self.rules.items()))
        return f"PrivacyPolicy({listed}; pii={self.pii}, event_id_hashed={self.hash_event_ids})"

    # -- applying it ---------------------------------------------------------------------------
    def hash(self, value: Any) -> str:
        """The keyed hash of ``value`` (a value already hashed is returned unchanged)."""
        if isinstance(value, str):
            if HASHED.match(value):
                return value
            text = "s:" + value
        else:
            text = f"{type(value).__name__}:{value!r}"
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
        return "h:" + digest[:32]

    def event_id(self, event_id: str) -> str:
        """The id stored for ``event_id``: hashed when ``event_id: hash`` or when ``pii: detect``
        flags it (labels go through the same function, so they still join)."""
        if self.hash_event_ids or (self.pii and detect(event_id) is not None):
            return self.hash(event_id)
        return event_id

    def inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs of one event as they may be stored."""
        out: dict[str, Any] = {}
        for name, value in inputs.items():
            rule = self.rules.get(name)
            policy = rule.policy if rule is not None else self.unlisted
            if policy == "drop":
                continue
            if policy == "hash":
                out[name] = None if value is None else self.hash(value)
                continue
            if policy == "bucket" and rule is not None:
                out[name] = _bucket(rule, value)
                continue
            if self.pii and isinstance(value, str) and detect(value) is not None:
                if self.pii_action == "drop":
                    continue
                value = self.hash(value)
            out[name] = value
        return out

    def column_values(self, name: str, values: list[Any]) -> list[Any] | None:
        """A baseline column as it may be stored, or ``None`` when the column is dropped."""
        rule = self.rules.get(name)
        policy = rule.policy if rule is not None else self.unlisted
        if policy == "drop":
            return None
        if policy == "keep" and not self.pii:
            return values
        out = [self.inputs({name: v}).get(name, _DROPPED) for v in values]
        if self.pii_action == "drop" and any(v is _DROPPED for v in out):
            # one flagged value drops the value, not the row: it becomes missing
            out = [None if v is _DROPPED else v for v in out]
        return out


_DROPPED = object()


def _rule(name: str, spec: str | FieldPolicySettings) -> FieldRule:
    if isinstance(spec, str):
        spec = FieldPolicySettings.model_validate({"policy": spec})
    if spec.policy != "bucket":
        return FieldRule(spec.policy)
    if spec.edges and spec.categories:
        raise ConfigError(
            f"privacy field {name!r}: bucket takes `edges` (numbers) or `categories`, not both"
        )
    if spec.edges:
        edges = tuple(float(e) for e in spec.edges)
        if any(not math.isfinite(e) for e in edges) or list(edges) != sorted(set(edges)):
            raise ConfigError(
                f"privacy field {name!r}: bucket edges must be finite and strictly ascending"
            )
        return FieldRule("bucket", edges=edges)
    if spec.categories:
        return FieldRule("bucket", categories=frozenset(str(c) for c in spec.categories))
    raise ConfigError(
        f"privacy field {name!r}: bucket needs `edges` (numeric ranges) or `categories` "
        "(the categories kept, others become 'other')"
    )


def _bucket(rule: FieldRule, value: Any) -> Any:
    if value is None:
        return None
    if rule.edges:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None  # not a number: nothing of it may be stored
        if not math.isfinite(value):
            return float(value)
        # the lower edge of the value's range; below the first edge: the first edge
        index = max(bisect.bisect_right(rule.edges, float(value)) - 1, 0)
        return rule.edges[index]
    text = str(value)
    return text if text in rule.categories else OTHER


def policies(
    settings: PrivacySettings, environ: Mapping[str, str] | None = None
) -> dict[str, PrivacyPolicy]:
    """Every model's policy (model -> policy); raises :class:`ConfigError` on a bad one, so a
    collector with a missing secret refuses to start instead of storing raw values."""
    out: dict[str, PrivacyPolicy] = {}
    for model, found in settings.models.items():
        try:
            out[model] = PrivacyPolicy.from_settings(found, environ=environ)
        except ConfigError as exc:
            raise ConfigError(f"privacy.models.{model}: {exc}") from None
    return out


def apply_to_table(policy: PrivacyPolicy, table: Any) -> Any:
    """A baseline table (``pyarrow.Table``) with the policy applied column by column: dropped
    columns removed, hashed and bucketed ones rewritten, flagged personal data hashed or made
    missing. Columns the policy keeps unchanged are passed through untouched."""
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        rule = policy.rules.get(name)
        kept = (rule.policy if rule is not None else policy.unlisted) == "keep"
        if kept and not (policy.pii and pa.types.is_string(column.type)):
            columns[name] = column
            continue
        values = policy.column_values(name, column.to_pylist())
        if values is not None:
            columns[name] = pa.array(values)
    return pa.table(columns)


__all__ = [
    "HASHED",
    "MIN_SECRET_LENGTH",
    "OTHER",
    "FieldRule",
    "PrivacyPolicy",
    "apply_to_table",
    "policies",
]
