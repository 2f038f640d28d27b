"""End to end with a real git + DVC repository (local remote, empty cache) and a real
``keeneye server`` process: baselines registered from two DVC revisions through the CLI
(``--url``) and the SDK, both kept in the version's lineage with revision, commit and md5."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.lineage.dvc_repo import DvcRepo, make_repo
from tests.modelserver.conftest import BIN, spawn, stop, url_of

from keeneye import Monitor
from keeneye.baseline.register import table_digest
from keeneye.errors import CollectorError

MODEL = "churn"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "keeneye"), *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> DvcRepo:
    return make_repo(tmp_path_factory.mktemp("dvc"))


@pytest.mark.e2e
def test_baselines_from_two_dvc_revisions_in_the_lineage(
    repo: DvcRepo, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server, log = spawn(
        [str(BIN / "keeneye"), "server", "--store", str(tmp_path / "k.duckdb"), "--port", "0"],
        cwd=tmp_path,
    )
    request.addfinalizer(lambda: halt(server))
    url = url_of(server, log)

    first = cli("baseline", "register", MODEL, "1", repo.uri("v1"), "--url", url)
    assert first.returncode == 0, first.stderr
    assert "120 rows, 3 columns" in first.stdout
    second = cli("baseline", "register", MODEL, "1", repo.uri("v2"), "--url", url)
    assert second.returncode == 0, second.stderr
    assert "150 rows" in second.stdout
    monitor = Monitor(model=MODEL, version="2", url=url, registry=CollectorRegistry())
    try:
        answer = monitor.register_baseline(repo.uri("v1"))
        with pytest.raises(CollectorError, match="v9"):
            monitor.register_baseline(repo.uri("v9"), version="3")
    finally:
        monitor.close()
    assert answer["rows"] == 120

    lineage = httpx.get(f"{url}/v1/models/{MODEL}/versions/1/lineage", timeout=30).json()
    sources = lineage["data_sources"]
    assert [s["revision"] for s in sources] == ["v1", "v2"]
    for source, rev in zip(sources, ("v1", "v2"), strict=True):
        assert source["kind"] == "dvc"
        assert source["uri"] == repo.uri(rev)
        assert source["commit"] == repo.commit(rev)
        assert source["file_hash"] == repo.md5(rev)
        assert source["rows"] == repo.tables[rev].num_rows
        assert source["digest"] == table_digest(repo.tables[rev])
    assert repo.commit("v1") != repo.commit("v2") and repo.md5("v1") != repo.md5("v2")
    assert [s["current"] for s in sources] == [False, True]
    # the stored baseline is revision v2's table, as read from the DVC remote
    assert lineage["baseline"]["rows"] == 150
    assert lineage["baseline"]["digest"] == table_digest(repo.tables["v2"])
    assert lineage["baseline"]["reference_kinds"] == {
        "age": "numeric",
        "income": "numeric",
        "plan": "categorical",
    }
    other = httpx.get(f"{url}/v1/models/{MODEL}/versions/2/lineage", timeout=30).json()
    assert [(s["revision"], s["current"]) for s in other["data_sources"]] == [("v1", True)]

    # a wrong revision or path: a clear error, nothing registered
    bad = cli("baseline", "register", MODEL, "1", repo.uri("v9"), "--url", url)
    assert bad.returncode != 0 and "v9" in bad.stderr and bad.stderr.startswith("error:")
    missing = cli(
        "baseline", "register", MODEL, "1", f"dvc://{repo.root}/data/none.parquet@v1", "--url", url
    )
    assert missing.returncode != 0 and "data/none.parquet" in missing.stderr
    outside = httpx.put(
        f"{url}/v1/models/{MODEL}/versions/1/baseline/source",
        json={"source": f"dvc://{tmp_path}/x.parquet@v1"},
        timeout=30,
    )
    assert outside.status_code in (400, 422), outside.text
    assert "no DVC repository" in outside.json()["error"]["message"]
    again = httpx.get(f"{url}/v1/models/{MODEL}/versions/1/lineage", timeout=30).json()
    assert len(again["data_sources"]) == 2


def halt(proc: subprocess.Popen[str]) -> None:
    stop(proc)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.mark.e2e
def test_the_cli_reads_a_dvc_revision_into_a_stopped_store(repo: DvcRepo, tmp_path: Path) -> None:
    from keeneye.store.duckdb import DuckDBStore

    path = tmp_path / "k.duckdb"
    done = cli("baseline", "register", MODEL, "7", repo.uri("v2"), "--store", str(path), "--create")
    assert done.returncode == 0, done.stderr
    with DuckDBStore(path) as store:
        [source] = store.data_sources(MODEL, "7")
        baseline = store.load_baseline(MODEL, "7")
    assert (source.revision, source.commit, source.file_hash) == (
        "v2",
        repo.commit("v2"),
        repo.md5("v2"),
    )
    assert baseline is not None and baseline.equals(repo.tables["v2"])
