"""The mapping and lifecycle the event log picks from a server's ``GET /`` answer.

Only OpenSearch can run on this project's machines (tests/opensearch/test_eventlog.py runs the
event log on a real node); Elasticsearch's side is checked here on the answers its servers
give and on the bodies keeneye would send them — not against an Elasticsearch server."""

from __future__ import annotations

from typing import Any

import pytest

from keeneye.errors import StoreError
from keeneye.store.opensearch import indices as ix

OPENSEARCH_2_19 = {
    "name": "node-1",
    "cluster_name": "opensearch",
    "version": {"distribution": "opensearch", "number": "2.19.6", "lucene_version": "9.12.2"},
    "tagline": "The OpenSearch Project: https://opensearch.org/",
}
ELASTICSEARCH_8 = {
    "name": "es-1",
    "cluster_name": "elasticsearch",
    "version": {"number": "8.15.0", "build_flavor": "default", "lucene_version": "9.11.1"},
    "tagline": "You Know, for Search",
}
ELASTICSEARCH_7_10 = {"version": {"number": "7.10.2", "build_flavor": "default"}}


@pytest.mark.parametrize(
    ("info", "distribution", "flat_type", "lifecycle"),
    [
        (OPENSEARCH_2_19, "opensearch", "flat_object", "ism"),
        ({"version": {"distribution": "opensearch", "number": "3.1.0"}}, "opensearch",
         "flat_object", "ism"),
        (ELASTICSEARCH_8, "elasticsearch", "flattened", "ilm"),
        (ELASTICSEARCH_7_10, "elasticsearch", "flattened", "ilm"),
    ],
)  # fmt: skip
def test_the_distribution_picks_the_feature_field_type_and_the_lifecycle_api(
    info: dict[str, Any], distribution: str, flat_type: str, lifecycle: str
) -> None:
    kind = ix.server_kind(info)
    assert (kind.distribution, kind.flat_type, kind.lifecycle) == (
        distribution,
        flat_type,
        lifecycle,
    )
    mapping = ix.templates("k", flat_type=kind.flat_type, shards=1, replicas=0)["k-events"]
    assert mapping["template"]["mappings"]["properties"]["f"] == {"type": flat_type}


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({"version": {"number": "7.2.1"}}, r"elasticsearch 7.2.1 has no flattened .* 7.3 or newer"),
        ({"version": {"distribution": "opensearch", "number": "1.3.20"}},
         r"opensearch 1.3.20 has no flat_object .* 2.7 or newer"),
        ({"version": {"distribution": "solr", "number": "9.0"}}, r"unknown .* 'solr'"),
    ],
)  # fmt: skip
def test_a_server_without_a_flat_field_type_is_refused_with_the_version_needed(
    info: dict[str, Any], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        ix.server_kind(info)


def test_elasticsearch_templates_carry_only_settings_elasticsearch_knows() -> None:
    bodies = ix.templates("k", flat_type="flattened", shards=2, replicas=1, ilm_policy_id="k-ret")
    for name, body in bodies.items():
        settings = body["template"]["settings"]
        assert not any(key.startswith(("plugins.", "opendistro.")) for key in settings), name
        assert body["template"]["mappings"]["dynamic"] == "strict"
    assert bodies["k-events"]["template"]["settings"]["index.lifecycle.name"] == "k-ret"
    assert bodies["k-invalid"]["template"]["settings"]["index.lifecycle.name"] == "k-ret"
    assert "index.lifecycle.name" not in bodies["k-labels"]["template"]["settings"]
    types = {
        field["type"]
        for body in bodies.values()
        for field in body["template"]["mappings"]["properties"].values()
    }
    # every field type is one Elasticsearch 7.3+ knows (no flat_object)
    assert types <= {"keyword", "long", "double", "date", "boolean", "object", "flattened",
                     "integer"}  # fmt: skip


def test_lifecycle_policies_delete_only_daily_event_and_invalid_indices_after_the_days() -> None:
    ism = ix.ism_policy("k", 7)["policy"]
    assert ism["states"][0]["transitions"] == [
        {"state_name": "delete", "conditions": {"min_index_age": "7d"}}
    ]
    assert ism["states"][1]["actions"] == [{"delete": {}}]
    assert ism["ism_template"][0]["index_patterns"] == ["k-events-*", "k-invalid-*"]
    assert ix.ilm_policy(7) == {
        "policy": {"phases": {"delete": {"min_age": "7d", "actions": {"delete": {}}}}}
    }
