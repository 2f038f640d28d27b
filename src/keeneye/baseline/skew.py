"""Training-serving skew of a version whose baseline came from Feast: for a sample of the entity
keys it was trained on, the features Feast serves online (``get_online_features``) against the
offline store's latest values for the same keys at or before now
(``get_historical_features`` with ``event_timestamp`` = now), per feature: the share of keys
whose values differ and how far apart numeric values are.

Values are equal when both are missing, or numeric and within a relative 1e-6 (the online
store keeps ``Float32`` features as 32-bit floats), or otherwise ``==``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from keeneye.baseline.feast import (
    EVENT_TIMESTAMP,
    entity_rows,
    feast_errors,
    feature_service,
    open_store,
    parse_feast_uri,
)
from keeneye.errors import DataSourceError, InputError, KeeneyeError
from keeneye.store.base import EventStore
from keeneye.store.records import DataSource

#: Entity keys compared by default.
DEFAULT_SAMPLE = 200
_REL_TOL = 1e-6


@dataclass(frozen=True)
class FeatureSkew:
    """How one feature served online differs from the offline store."""

    feature: str
    #: Keys compared, and those whose online value differs from the offline one.
    compared: int
    mismatches: int
    #: Keys with an offline value that the online store has none for.
    missing_online: int
    #: Over keys with numeric values on both sides: online − offline.
    mean_difference: float | None
    mean_abs_difference: float | None
    max_abs_difference: float | None

    @property
    def mismatch_share(self) -> float:
        return self.mismatches / self.compared if self.compared else 0.0


@dataclass(frozen=True)
class SkewReport:
    """The skew check of one version against the Feast repository its baseline came from."""

    model: str
    version: str
    uri: str
    feature_service: str
    checked_at: datetime
    entity_keys: tuple[str, ...]
    #: Entity keys compared (a sample of those in the baseline's range).
    sampled: int
    features: tuple[FeatureSkew, ...]

    def skewed(self) -> tuple[FeatureSkew, ...]:
        """The features with at least one mismatch."""
        return tuple(f for f in self.features if f.mismatches)


def feast_source(store: EventStore, model: str, version: str) -> DataSource:
    """The Feast registration the version's current baseline came from."""
    from keeneye.lineage.build import build_lineage

    lineage = build_lineage(store, model, version, run_lookup=None)
    current = lineage.current_source
    if current is None or current.kind != "feast":
        came = "has no baseline" if current is None else f"came from {current.kind} {current.uri}"
        raise InputError(
            f"the baseline of {model!r} v{version} {came}, not from Feast: register it with "
            f"`keeneye baseline register {model} {version} 'feast://REPO?feature_service=…'`"
        )
    return current


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _equal(offline: Any, online: Any) -> bool:
    if offline is None or online is None:
        return offline is None and online is None
    a, b = _number(offline), _number(online)
    if a is not None and b is not None:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=_REL_TOL)
    return bool(offline == online)


def compare_feature(name: str, offline: list[Any], online: list[Any]) -> FeatureSkew:
    """The skew of one feature given its offline and online values, key by key.

    >>> s = compare_feature("x", [1.0, 2.0, None, 4.0], [1.0, 2.5, None, None])
    >>> (s.compared, s.mismatches, s.missing_online, s.mean_difference, s.max_abs_difference)
    (4, 2, 1, 0.25, 0.5)
    """
    mismatches = missing = 0
    differences: list[float] = []
    for off, on in zip(offline, online, strict=True):
        if not _equal(off, on):
            mismatches += 1
            missing += on is None and off is not None
        a, b = _number(off), _number(on)
        if a is not None and b is not None and not (math.isnan(a) or math.isnan(b)):
            differences.append(b - a)
    return FeatureSkew(
        feature=name,
        compared=len(offline),
        mismatches=mismatches,
        missing_online=missing,
        mean_difference=sum(differences) / len(differences) if differences else None,
        mean_abs_difference=sum(map(abs, differences)) / len(differences) if differences else None,
        max_abs_difference=max(map(abs, differences)) if differences else None,
    )


def check_skew(
    store: EventStore,
    model: str,
    version: str,
    *,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    now: datetime | None = None,
) -> SkewReport:
    """Compare online and offline feature values for ``sample`` entity keys of the version's
    Feast baseline (drawn with ``seed`` from the keys in its range)."""
    if sample < 1:
        raise InputError(f"sample must be at least 1 entity key, not {sample}")
    source = feast_source(store, model, version)
    ref = parse_feast_uri(source.uri)
    at = now or datetime.now(timezone.utc)
    feast = open_store(ref.repo)
    service = feature_service(feast, ref.repo, ref.feature_service)
    keys = list(service.join_keys)
    try:
        rows = entity_rows(feast, service, ref.start, ref.end).select(keys)
        distinct = rows.group_by(keys).aggregate([]).to_pylist()
        distinct.sort(key=lambda r: tuple(str(r[k]) for k in keys))
        picked = random.Random(seed).sample(distinct, min(sample, len(distinct)))
        if not picked:
            raise DataSourceError(
                f"feature service {ref.feature_service!r} has no entity keys between "
                f"{ref.start.isoformat()} and {ref.end.isoformat()} to compare"
            )
        entities = pa.Table.from_pylist(picked).append_column(
            EVENT_TIMESTAMP, pa.array([at] * len(picked), pa.timestamp("us", tz="UTC"))
        )
        offline = (
            feast.get_historical_features(entity_df=entities.to_pandas(), features=service.service)
            .to_arrow()
            .to_pylist()
        )
        online = feast.get_online_features(features=service.service, entity_rows=picked).to_dict()
    except KeeneyeError:
        raise
    except feast_errors() as exc:
        raise DataSourceError(
            f"Feast cannot compare feature service {ref.feature_service!r} of {ref.repo!r}: {exc}"
        ) from exc
    # the offline job's rows come back in any order: line them up with the picked keys
    by_key = {tuple(r[k] for k in keys): r for r in offline}
    lined = [by_key.get(tuple(r[k] for k in keys), {}) for r in picked]
    features = tuple(
        compare_feature(name, [r.get(name) for r in lined], list(online[name]))
        for name in service.features
    )
    return SkewReport(
        model=model,
        version=version,
        uri=source.uri,
        feature_service=ref.feature_service,
        checked_at=at,
        entity_keys=tuple(keys),
        sampled=len(picked),
        features=features,
    )


def report_payload(report: SkewReport) -> dict[str, Any]:
    """JSON form of a report (what ``GET …/skew`` answers)."""
    return {
        "model": report.model,
        "version": report.version,
        "uri": report.uri,
        "feature_service": report.feature_service,
        "checked_at": report.checked_at.isoformat(),
        "entity_keys": list(report.entity_keys),
        "sampled": report.sampled,
        "features": [
            {
                "feature": f.feature,
                "compared": f.compared,
                "mismatches": f.mismatches,
                "mismatch_share": f.mismatch_share,
                "missing_online": f.missing_online,
                "mean_difference": f.mean_difference,
                "mean_abs_difference": f.mean_abs_difference,
                "max_abs_difference": f.max_abs_difference,
            }
            for f in report.features
        ],
    }


def report_from_payload(payload: dict[str, Any]) -> SkewReport:
    """The report back from :func:`report_payload`'s output."""

    def opt(value: Any) -> float | None:
        return None if value is None else float(value)

    return SkewReport(
        model=str(payload["model"]),
        version=str(payload["version"]),
        uri=str(payload["uri"]),
        feature_service=str(payload["feature_service"]),
        checked_at=datetime.fromisoformat(str(payload["checked_at"])),
        entity_keys=tuple(str(k) for k in payload["entity_keys"]),
        sampled=int(payload["sampled"]),
        features=tuple(
            FeatureSkew(
                feature=str(f["feature"]),
                compared=int(f["compared"]),
                mismatches=int(f["mismatches"]),
                missing_online=int(f["missing_online"]),
                mean_difference=opt(f["mean_difference"]),
                mean_abs_difference=opt(f["mean_abs_difference"]),
                max_abs_difference=opt(f["max_abs_difference"]),
            )
            for f in payload["features"]
        ),
    )
