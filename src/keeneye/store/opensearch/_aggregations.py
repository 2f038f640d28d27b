"""Invalid and missing values per window as two aggregations, and their answers read back.

Invalid values are counted from their markers (``range`` per window → ``version`` → ``feature``
→ ``reason``); missing values are the events of versions that send a feature minus the events
whose ``present`` list names it, minus those counted invalid. Every terms aggregation is checked
to be exact: a bucket left out would be a silent undercount.

>>> exact({"buckets": [{"key": "x", "doc_count": 2}], "sum_other_doc_count": 0})
[{'key': 'x', 'doc_count': 2}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keeneye.errors import StoreError
from keeneye.store._values import REASON_MISSING, REASON_TYPE, REASON_UNSUPPORTED

TERMS = 10000
NONE_KEY = "\u0000none"  # the version bucket of label markers (labels have no version)

# per window: {version or None: {feature: {reason: count}}}
Counts = list[dict[str | None, dict[str, dict[str, int]]]]


def exact(agg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The buckets of a terms aggregation, refusing an inexact one."""
    if agg.get("sum_other_doc_count", 0) or agg.get("doc_count_error_upper_bound", 0):
        raise StoreError("an OpenSearch terms aggregation was not exact; narrow the window")
    return list(agg["buckets"])


def marker_counts_body(
    filters: list[dict[str, Any]], ranges: list[dict[str, Any]]
) -> dict[str, Any]:
    """Invalid-value markers per window, version, feature and reason."""
    reasons = {"terms": {"field": "reason", "size": 100}}
    features = {"terms": {"field": "feature", "size": TERMS}, "aggs": {"r": reasons}}
    versions = {
        "terms": {"field": "version", "size": TERMS, "missing": NONE_KEY},
        "aggs": {"f": features},
    }
    windows = {
        "range": {"field": "ts_us", "keyed": True, "ranges": ranges},
        "aggs": {"v": versions},
    }
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"w": windows}}


def add_marker_counts(result: Mapping[str, Any], out: Counts, *, by_version: bool) -> None:
    for key, window_bucket in result["aggregations"]["w"]["buckets"].items():
        groups = out[int(key)]
        for vb in exact(window_bucket["v"]):
            group = (None if vb["key"] == NONE_KEY else vb["key"]) if by_version else None
            for fb in exact(vb["f"]):
                for rb in exact(fb["r"]):
                    reasons = groups.setdefault(group, {}).setdefault(fb["key"], {})
                    reasons[rb["key"]] = reasons.get(rb["key"], 0) + int(rb["doc_count"])


def present_counts_body(
    filters: list[dict[str, Any]], ranges: list[dict[str, Any]]
) -> dict[str, Any]:
    """Events per window and version, and how many of them have each feature."""
    present = {"terms": {"field": "present", "size": TERMS}}
    versions = {"terms": {"field": "version", "size": TERMS}, "aggs": {"p": present}}
    windows = {
        "range": {"field": "ts_us", "keyed": True, "ranges": ranges},
        "aggs": {"v": versions},
    }
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"w": windows}}


def add_missing_counts(
    result: Mapping[str, Any], out: Counts, seen: Mapping[str, set[str]], *, by_version: bool
) -> None:
    """Add ``missing`` counts: ``seen`` maps each feature to the versions that send it; values
    already counted as invalid (wrong type, unsupported) are not missing as well."""
    for key, window_bucket in result["aggregations"]["w"]["buckets"].items():
        groups = out[int(key)]
        nulls: dict[str | None, dict[str, int]] = {}
        for vb in exact(window_bucket["v"]):
            group = vb["key"] if by_version else None
            present = {b["key"]: int(b["doc_count"]) for b in exact(vb["p"])}
            for name, versions in seen.items():
                if vb["key"] in versions:
                    found = int(vb["doc_count"]) - present.get(name, 0)
                    nulls.setdefault(group, {})[name] = nulls.get(group, {}).get(name, 0) + found
        for group, by_name in nulls.items():
            for name, found in by_name.items():
                known = groups.get(group, {}).get(name, {})
                found -= known.get(REASON_TYPE, 0) + known.get(REASON_UNSUPPORTED, 0)
                if found > 0:
                    groups.setdefault(group, {}).setdefault(name, {})[REASON_MISSING] = found
