"""A real git + DVC repository for the lineage tests: a Parquet file tracked by DVC at two
tagged revisions, pushed to a local DVC remote, with the local cache emptied so every read
goes through the remote (as on a machine that only cloned the repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

BIN = Path(sys.executable).parent
DATA = "data/train.parquet"


@dataclass(frozen=True)
class DvcRepo:
    root: Path
    tables: dict[str, pa.Table]  # tag -> the table committed at that tag

    def uri(self, rev: str) -> str:
        return f"dvc://{self.root / DATA}@{rev}"

    def commit(self, rev: str) -> str:
        return _run(["git", "rev-parse", f"{rev}^{{commit}}"], self.root).strip()

    def md5(self, rev: str) -> str:
        """DVC's md5 of the file as its .dvc file records it at ``rev``."""
        text = _run(["git", "show", f"{rev}:{DATA}.dvc"], self.root)
        return str(yaml.safe_load(text)["outs"][0]["md5"])


def _run(args: list[str], cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "DVC_NO_ANALYTICS": "1",
    }
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


def table(seed: int, rows: int, shift: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "age": rng.normal(40.0 + shift, 8.0, rows),
            "income": rng.normal(50.0, 12.0, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows),
        }
    )


def make_repo(where: Path) -> DvcRepo:
    """Two revisions ``v1`` and ``v2`` of ``data/train.parquet`` (v2 shifted and longer)."""
    root, remote = where / "repo", where / "dvc-remote"
    (root / "data").mkdir(parents=True)
    remote.mkdir()
    _run(["git", "init", "-q", "-b", "main"], root)
    _run(["dvc", "init", "-q"], root)
    _run(["dvc", "remote", "add", "-d", "local", str(remote)], root)
    tables = {"v1": table(1, 120, 0.0), "v2": table(2, 150, 15.0)}
    for tag, data in tables.items():
        pq.write_table(data, root / DATA)
        _run(["dvc", "add", "-q", DATA], root)
        _run(["git", "add", "-A"], root)
        _run(["git", "commit", "-q", "-m", f"training data {tag}"], root)
        _run(["git", "tag", tag], root)
    _run(["dvc", "push", "-q", "--all-tags"], root)
    shutil.rmtree(root / ".dvc" / "cache")  # reads must come from the remote
    return DvcRepo(root, tables)
