"""Text and embedding features end to end: the SDK sends descriptors (never the raw text) to a
running ``keeneye server``, whose analysis loop tests them against a registered baseline; the
verdicts reach ``/metrics`` and the results API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from tests.modal.corpora import digits, paragraphs

from keeneye import Monitor

pytestmark = pytest.mark.e2e

KEENEYE = str(Path(sys.executable).with_name("keeneye"))


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "KEENEYE_ANALYSIS__INTERVAL_SECONDS": "0.2",
        "KEENEYE_ANALYSIS__WINDOWS": '["daily"]',
    }
    proc = subprocess.Popen(
        [KEENEYE, "server", "--store", str(tmp_path / "k.duckdb"), "--host", "127.0.0.1",
         "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=open(tmp_path / "stderr", "wb"),  # noqa: SIM115
        text=True,
        env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert "listening on " in first, first
    url = first.rsplit("listening on ", 1)[1].strip()
    deadline = time.monotonic() + 60
    while True:  # bounded readiness poll
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, "server not healthy"
        time.sleep(0.05)


def _drift_gauges(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    family = families.get("keeneye_feature_drifted")
    if family is None:
        return {}
    return {
        s.labels["feature"]: s.value
        for s in family.samples
        if s.labels.get("model") == "reviews" and s.labels.get("window") == "daily"
    }


def test_sdk_descriptors_through_a_running_server(tmp_path: Path) -> None:
    docs = paragraphs()
    vectors, classes = digits()
    proc, url = _start(tmp_path)
    try:
        baseline = [{"review": docs[i], "emb": [float(v) for v in vectors[i]]} for i in range(800)]
        put = httpx.put(f"{url}/v1/models/reviews/versions/1/baseline", json=baseline, timeout=60)
        assert put.status_code == 201, put.text

        yesterday = datetime.now(timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0
        ) - timedelta(days=1)
        monitor = Monitor(
            "reviews", "1", url, registry=CollectorRegistry(),
            modalities={"review": "text", "emb": "embedding"},
        )  # fmt: skip
        # Production: shorter reviews, and embeddings of only half the classes.
        current = [i for i in range(800, len(docs)) if i < len(classes) and classes[i] < 5]
        for n, i in enumerate(current[:300]):
            short = " ".join(docs[i].split()[:4])
            monitor.log(
                {"review": short, "emb": vectors[i]},
                0.5,
                timestamp=yesterday + timedelta(minutes=4 * n),
            )
        assert monitor.flush(timeout=30)
        monitor.close()

        deadline = time.monotonic() + 120
        gauges: dict[str, float] = {}
        while not {"review.chars", "emb"} <= set(gauges):
            gauges = _drift_gauges(url)
            assert time.monotonic() < deadline, f"no text/embedding drift on /metrics: {gauges}"
            time.sleep(0.2)
        assert gauges["review.chars"] == 1.0 and gauges["review.tokens"] == 1.0
        assert gauges["emb"] == 1.0 or gauges["emb.classifier"] == 1.0

        families = {
            f.name: f
            for f in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
        }
        auc = [s.value for s in families["keeneye_embedding_auc"].samples]
        assert auc and auc[0] > 0.6
        oov = [s.value for s in families["keeneye_text_oov_ratio"].samples]
        assert oov and 0 <= oov[0] < 1
        results = httpx.get(
            f"{url}/v1/models/reviews/results", params={"kind": "drift", "version": "1"}
        ).json()["results"]
        drift = results[-1]["payload"]["drift"]
        modal = drift["modal"]
        assert modal["texts"][0]["feature"] == "review"
        assert modal["texts"][0]["vocabulary_size"] > 500
        assert modal["embeddings"][0]["dimensions"] == 64
        assert modal["embeddings"][0]["drifted"] is True
        # the model page shows the vocabulary and the embedding tests
        page = httpx.get(f"{url}/models/reviews", timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert 'class="token-table" data-feature="review"' in page.text
        assert '<tr data-token="the">' in page.text
        assert 'id="embedding-table"' in page.text
        for feature in ("emb", "emb.classifier", "review.chars", "review.top_tokens"):
            detail = httpx.get(f"{url}/models/reviews/features/{feature}", timeout=30)
            assert detail.status_code == 200, (feature, detail.text[:500])
        # the raw text never left the SDK: the store holds the descriptors only
        summaries = httpx.get(
            f"{url}/v1/models/reviews/results", params={"kind": "summary", "version": "1"}
        ).json()["results"]
        stored = set(summaries[-1]["payload"]["summary"]["features"])
        assert {"review.chars", "review.tokens", "review.oov"} <= stored
        assert not stored & {"review", "review.token_sketch", "emb"}
        # the OOV rate derived from the sketches is summarised, not reported as missing
        oov_stats = summaries[-1]["payload"]["summary"]["features"]["review.oov"]
        assert oov_stats["absent"] is False and oov_stats["missing_ratio"] == 0.0
        assert oov_stats["quality"]["issues"] == []
        assert drift["absent_features"] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0


def test_short_texts_declared_by_the_sdk_are_monitored(tmp_path: Path) -> None:
    # Queries of 2-4 words are not inferred as text from a baseline; declared by the SDK, the
    # baseline and production both go out as descriptors and token sketches.
    words = [w for d in paragraphs() for w in d.split() if w.isalpha()]
    queries = [" ".join(words[3 * i : 3 * i + 2 + i % 3]) for i in range(1200)]
    proc, url = _start(tmp_path)
    try:
        monitor = Monitor(
            "reviews", "1", url, registry=CollectorRegistry(), modalities={"review": "text"}
        )
        answer = monitor.register_baseline([{"review": q} for q in queries[:600]])
        assert "review.token_sketch" in answer["columns"] and "review" not in answer["columns"]
        yesterday = datetime.now(timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0
        ) - timedelta(days=1)
        longer = [q + " " + q for q in queries[600:900]]
        report = monitor.log_batch(
            [{"review": q} for q in longer],
            [0.5] * len(longer),
            timestamps=[yesterday + timedelta(minutes=4 * n) for n in range(len(longer))],
        )
        assert report.stored == len(longer)
        monitor.close()
        deadline = time.monotonic() + 120
        gauges: dict[str, float] = {}
        while "review.chars" not in gauges:
            gauges = _drift_gauges(url)
            assert time.monotonic() < deadline, f"no text drift on /metrics: {gauges}"
            time.sleep(0.2)
        assert gauges["review.chars"] == 1.0 and gauges["review.tokens"] == 1.0
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
