"""A real local Feast repository for the lineage tests: a Parquet file offline store, a SQLite
online store, one entity (``customer_id``), one feature view (``age``, ``income``,
``tenure``) and a feature service, applied and materialised through Feast's Python API."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PROJECT = "keeneye_lineage"
SERVICE = "churn_features"
VIEW = "customer_stats"
FEATURES = ("age", "income", "tenure")
CUSTOMERS = 300
#: One row per customer on each of these days (the training range) …
TRAIN_DAYS = 5
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=TRAIN_DAYS)
#: … and one later row each, outside it (the latest values, materialised online).
LATER = datetime(2026, 2, 10, tzinfo=UTC)

YAML = """\
project: {project}
registry: {root}/data/registry.db
provider: local
online_store:
  type: sqlite
  path: {root}/data/online.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


@dataclass(frozen=True)
class FeastRepo:
    """The repository folder, its source rows and Feast's ``FeatureStore`` on it."""

    root: Path
    rows: pd.DataFrame

    def uri(self, start: datetime = START, end: datetime = END) -> str:
        return (
            f"feast://{self.root}?feature_service={SERVICE}"
            f"&start={start.isoformat()}&end={end.isoformat()}"
        )

    def training_rows(self) -> pd.DataFrame:
        """The source rows in [START, END)."""
        times = self.rows["event_timestamp"]
        return self.rows[(times >= START) & (times < END)]

    def store(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from feast import FeatureStore

            return FeatureStore(repo_path=str(self.root))

    def write_online(self, rows: pd.DataFrame) -> None:
        """Write ``rows`` (customer_id, event_timestamp and every feature) to the online
        store directly, as a serving pipeline that drifted from the offline one would."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.store().write_to_online_store(VIEW, rows)


def make_repo(root: Path, seed: int = 17) -> FeastRepo:
    """Create, apply and materialise the repository in ``root``."""
    rng = np.random.default_rng(seed)
    frames = []
    for when in [START + timedelta(days=d, hours=12) for d in range(TRAIN_DAYS)] + [LATER]:
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(CUSTOMERS, dtype="int64"),
                    "event_timestamp": pd.Timestamp(when),
                    "age": rng.normal(40.0, 10.0, CUSTOMERS),
                    "income": rng.normal(50_000.0, 8_000.0, CUSTOMERS),
                    "tenure": rng.integers(0, 120, CUSTOMERS).astype("int64"),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    (root / "data").mkdir(parents=True)
    rows.to_parquet(root / "data" / "customers.parquet", index=False)
    (root / "feature_store.yaml").write_text(YAML.format(project=PROJECT, root=root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from feast import (
            Entity,
            FeatureService,
            FeatureStore,
            FeatureView,
            Field,
            FileSource,
            ValueType,
        )
        from feast.types import Float64, Int64

        customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
        source = FileSource(
            name="customers",
            path=str(root / "data" / "customers.parquet"),
            timestamp_field="event_timestamp",
        )
        view = FeatureView(
            name=VIEW,
            entities=[customer],
            ttl=timedelta(days=3650),
            schema=[
                Field(name="age", dtype=Float64),
                Field(name="income", dtype=Float64),
                Field(name="tenure", dtype=Int64),
            ],
            source=source,
            online=True,
        )
        service = FeatureService(name=SERVICE, features=[view])
        store = FeatureStore(repo_path=str(root))
        store.apply([customer, view, service])
        store.materialize(START - timedelta(days=1), datetime.now(UTC))
    return FeastRepo(root, rows)
