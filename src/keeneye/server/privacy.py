"""The collector's enforcement of the models' privacy policies (``privacy.models``).

Every batch is rewritten by its model's policy before it is stored, whatever the sender did:
an SDK without the policy (or a plain HTTP client) cannot store a raw value of a dropped,
hashed or bucketed field. Applying a policy to values the SDK already rewrote changes nothing
(``keeneye.privacy.policy``), so a configured SDK costs the collector one pass over the batch.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa

from keeneye.privacy.policy import PrivacyPolicy, apply_to_table
from keeneye.store.records import LabelEvent, PredictionColumns


def enforce_on_predictions(
    policy: PrivacyPolicy | None, events: PredictionColumns
) -> PredictionColumns:
    """The events as they may be stored (unchanged when the model has no policy)."""
    if policy is None:
        return events
    return PredictionColumns(
        event_ids=[policy.event_id(event_id) for event_id in events.event_ids],
        versions=events.versions,
        timestamps=events.utc_stamps if events.utc_stamps is not None else events.timestamps,
        inputs=[policy.inputs(inputs) for inputs in events.inputs],
        predictions=events.predictions,
        probabilities=events.probabilities,
        latencies=events.latencies,
    )


def enforce_on_labels(policy: PrivacyPolicy | None, labels: list[LabelEvent]) -> list[LabelEvent]:
    """Labels with their event ids hashed as their predictions' were."""
    if policy is None:
        return labels
    return [replace(label, event_id=policy.event_id(label.event_id)) for label in labels]


def enforce_on_baseline(policy: PrivacyPolicy | None, table: pa.Table) -> pa.Table:
    """A baseline upload with the policy applied to its columns."""
    return table if policy is None else apply_to_table(policy, table)
