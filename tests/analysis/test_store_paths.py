"""``--store`` commands refuse a store file that does not exist (a typo would create an empty
store and report "no models") unless ``--create`` is given."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from keeneye.cli import app


def test_missing_store_is_refused_unless_created(tmp_path: Path) -> None:
    runner = CliRunner()
    typo = tmp_path / "kenye.duckdb"
    for args in (
        ["analyze", "--store", str(typo)],
        ["status", "--store", str(typo)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)  # an input error
        assert "does not exist" in result.output and "--create" in result.output
        assert not typo.exists()
    train = tmp_path / "train.parquet"
    pq.write_table(pa.table({"age": [30.0, 40.0, 50.0]}), train)
    refused = runner.invoke(
        app, ["baseline", "register", "m", "1", str(train), "--store", str(typo)]
    )
    assert refused.exit_code == 2 and "does not exist" in refused.output
    assert not typo.exists()
    created = runner.invoke(
        app, ["baseline", "register", "m", "1", str(train), "--store", str(typo), "--create"]
    )
    assert created.exit_code == 0, created.output
    assert typo.exists()
    assert runner.invoke(app, ["analyze", "--store", str(typo)]).exit_code == 0
    status = runner.invoke(app, ["status", "--store", str(typo)])
    assert status.exit_code == 0 and "m" in status.output
    both = runner.invoke(app, ["analyze", "--store", str(typo), "--url", "http://127.0.0.1:1"])
    assert both.exit_code != 0
