"""An instrumented model server for the end-to-end test (run as its own process).

Two models share one registry served by ``prometheus_client.start_http_server``: "churn"
(a classifier logged with ``Monitor.log``, labels sent for half of its events) and "price"
(a regression watched with ``@monitor.watch``). A control file switches the mode:

- ``normal``: 20 calls per second per model, inputs as in the baseline;
- ``incident``: 4 calls per second (a traffic drop), ``age`` and ``income`` shifted (drift),
  a fifth of the price predictions NaN and a fifth of its calls raising ``ValueError``.

Usage: python model_process.py SERVER_URL CONTROL_FILE PORT_FILE
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from keeneye.sdk import Monitor


def main() -> None:
    url, control, port_file = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    registry = CollectorRegistry()
    kw: dict[str, Any] = {"registry": registry, "flush_interval": 0.2}
    churn = Monitor("churn", "1", url=url, task="classification", **kw)
    price = Monitor("price", "1", url=url, task="regression", **kw)
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    port_file.write_text(str(server.server_port))
    rng = random.Random(7)
    mode = "normal"
    next_call = time.monotonic()

    @price.watch
    def predict_price(record: dict[str, Any]) -> float:
        if mode == "incident":
            if rng.random() < 0.2:
                raise ValueError("feature pipeline returned garbage")
            if rng.random() < 0.25:
                return math.nan
        return 2.0 * record["income"] + 0.5 * record["age"]

    while True:
        with contextlib.suppress(OSError):  # the test rewrites it; a torn read waits a loop
            mode = control.read_text().strip() or mode
        if mode == "stop":
            break
        shift = 30.0 if mode == "incident" else 0.0
        record = {
            "age": rng.gauss(40 + shift, 10),
            "income": rng.gauss(50 + shift, 10),
            "plan": rng.choice(["basic", "pro", "team"]),
        }
        p = 1 / (1 + math.exp(-(record["age"] - 40) / 10))
        predicted = "yes" if p >= 0.5 else "no"
        eid = churn.log(record, predicted, probabilities={"no": 1 - p, "yes": p},
                        latency_seconds=0.002 + rng.random() * 0.003)  # fmt: skip
        if rng.random() < 0.5:
            churn.log_label(eid, "yes" if rng.random() < p else "no")
        with contextlib.suppress(ValueError):  # the server would answer 500; the SDK counted it
            predict_price(record)
        # Paced by a schedule, not a fixed sleep, so the rate holds whatever a call costs.
        next_call += 1 / (4 if mode == "incident" else 20)
        time.sleep(max(0.0, next_call - time.monotonic()))
    churn.close()
    price.close()


if __name__ == "__main__":
    main()
