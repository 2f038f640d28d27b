"""Several collectors on one PostgreSQL store: an event id is stored once whichever collector
gets it, features added concurrently get distinct slots, a label may reach another collector
than its prediction, and migrations run once when stores open together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests._postgres import PostgresServer
from tests.store.conftest import T0

from keeneye.store import LabelEvent, PredictionEvent
from keeneye.store.postgres import PostgresStore


def test_two_collectors_share_one_store(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(url), range(4)))
    try:
        assert {s.schema_version() for s in stores} == {3}

        def send(index: int) -> int:
            store = stores[index]
            stored = 0
            for batch in range(10):
                events = [
                    PredictionEvent(
                        f"e{batch}-{i}",
                        "1",
                        T0 + timedelta(seconds=batch * 100 + i),
                        {"x": float(i), f"only_{index}": "v", "shared": i % 2 == 0},
                        0.5,
                    )
                    for i in range(50)
                ]
                stored += store.write_predictions("m", events).stored
            return stored

        # Every collector sends the same ids (retries, a load balancer's replays).
        totals = list(ThreadPoolExecutor(4).map(send, range(4)))
        assert sum(totals) == 500
        reader = stores[0]
        data = reader.read_window("m", T0, T0 + timedelta(days=1))
        assert data.events.num_rows == 500
        assert len(set(data.events.column("event_id").to_pylist())) == 500
        assert data.features.column("x").to_pylist()[:3] == [0.0, 1.0, 2.0]
        types = reader.feature_types("m")
        assert types["shared"] == "boolean" and types["x"] == "numeric"
        # The prediction came through collector 1, its label through collector 3.
        report = stores[3].write_labels("m", [LabelEvent("e0-1", 1, T0 + timedelta(days=2))])
        assert report.pending == 0
        assert stores[1].model_summary("m").labels == 1
    finally:
        for store in stores:
            store.close()
