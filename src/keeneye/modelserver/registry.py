"""What the keeneye collector knows of a served model (``GET /v1/models/{model}``): its
registered versions and the drift reference of each — so that ``serve-model`` can take the
version registered for a model file, and warn at start-up when the live version's drift has
no baseline to compare with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

import httpx

log = logging.getLogger("keeneye.modelserver")


@dataclass(frozen=True)
class DriftReference:
    """What one version's drift is compared with (see ``keeneye.baseline.resolve``)."""

    reference: str  # "baseline" | "rolling" | "none"
    baseline_version: str | None
    reason: str


@dataclass(frozen=True)
class RegistryView:
    """A model's versions (with their tags), live version and drift references."""

    tags: dict[str, dict[str, str]]
    live_version: str | None
    references: dict[str, DriftReference]


def fetch(url: str, token: str | None, name: str) -> RegistryView | None:
    """The collector's view of model ``name``; None when it does not know the model or cannot
    answer (serving goes on; the reason is logged)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/v1/models/{quote(name, safe='')}", headers=headers, timeout=10.0
        )
    except httpx.HTTPError as exc:
        log.warning("could not ask keeneye at %s about %s: %s", url, name, exc)
        return None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        log.warning("keeneye answered %s about model %s", response.status_code, name)
        return None
    body = response.json()
    tags = {
        str(v["version"]): {str(k): str(t) for k, t in (v.get("tags") or {}).items()}
        for v in body.get("version_details", [])
    }
    references = {
        str(r["version"]): DriftReference(
            str(r["reference"]),
            None if r.get("baseline_version") is None else str(r["baseline_version"]),
            str(r.get("reason", "")),
        )
        for r in body.get("drift_references", [])  # absent from collectors before 0.2
    }
    live = body.get("live_version")
    return RegistryView(tags, None if live is None else str(live), references)


def version_for_tag(view: RegistryView | None, tag: str, value: str) -> str | None:
    """The newest registered version whose tag ``tag`` is ``value`` (e.g. a file's hash)."""
    if view is None:
        return None
    found = [v for v, t in view.tags.items() if t.get(tag) == value]
    return found[-1] if found else None


def reference_warning(view: RegistryView | None, name: str, version: str) -> str | None:
    """A start-up warning when version ``version`` will not be compared with its own
    baseline; None when it is (or the collector does not say)."""
    if view is None or version not in view.references:
        return None
    ref = view.references[version]
    if ref.reference == "none":
        others = sorted(v for v, r in view.references.items() if r.baseline_version == v)
        known = f"; baselines exist for versions {others}" if others else ""
        return (
            f"no baseline for {name} version {version}: drift is not computed for the live "
            f"version{known}. Register its training data (keeneye baseline register {name} "
            f"{version} DATA --url …), serve the version that has one (--version), or set "
            f"analysis.baseline_versions"
        )
    if ref.reference == "baseline" and ref.baseline_version != version:
        return (
            f"{name} version {version} has no baseline of its own: its drift is compared with "
            f"version {ref.baseline_version}'s ({ref.reason})"
        )
    return None
