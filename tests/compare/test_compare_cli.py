"""``keeneye compare``: through typer's CliRunner, and once as the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from keeneye.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare_cli")
    rng = np.random.default_rng(21)
    n = 800

    def table(shift: float) -> pa.Table:
        return pa.table(
            {
                "age": rng.normal(40 + shift, 10, n),
                "city": rng.choice(["Oslo", "Rome", "Lima"], n),
                "clicks": rng.poisson(3, n),
            }
        )

    reference, same, shifted = table(0.0), table(0.0), table(6.0)
    paths = {
        "ref.parquet": reference,
        "same.parquet": same,
        "shifted.parquet": shifted,
        "ref.csv": reference,
        "shifted.csv": shifted,
    }
    for name, data in paths.items():
        if name.endswith(".parquet"):
            pq.write_table(data, root / name)
        else:
            pcsv.write_csv(data, root / name)
    (root / "broken.parquet").write_bytes(b"PAR1 definitely not a parquet file")
    (root / "notes.txt").write_text("hello")
    return {name: root / name for name in [*paths, "broken.parquet", "notes.txt"]} | {
        "missing.parquet": root / "missing.parquet"
    }


def _run(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_no_drift_exits_0_with_json(files: dict[str, Path]) -> None:
    code, out, err = _run(
        "compare", files["ref.parquet"], files["same.parquet"], "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["dataset"]["drifted"] is False
    assert {f["feature"] for f in data["features"]} == {"age", "city", "clicks"}
    assert data["reference"]["source"] == str(files["ref.parquet"])


def test_drift_exits_1_and_lists_drifted_features_first(files: dict[str, Path]) -> None:
    code, out, _ = _run("compare", files["ref.parquet"], files["shifted.parquet"], "-f", "json")
    assert code == 1
    data = json.loads(out)
    assert data["dataset"]["drifted_features"] == ["age"]
    assert data["features"][0]["feature"] == "age" and data["features"][0]["drifted"] is True


def test_csv_against_parquet_table_output(files: dict[str, Path]) -> None:
    code, out, _ = _run("compare", files["ref.csv"], files["shifted.parquet"])
    assert code == 1
    assert out.startswith("DRIFT DETECTED: 1 of 3 tested features drifted")
    table_rows = [line for line in out.splitlines() if line.strip().startswith(("age", "city"))]
    assert table_rows[0].strip().startswith("age") and "DRIFT" in table_rows[0]
    same_code, _, _ = _run("compare", files["ref.csv"], files["ref.parquet"])
    assert same_code == 0


def test_options_reach_the_report(files: dict[str, Path]) -> None:
    code, out, err = _run(
        "compare",
        files["ref.parquet"],
        files["shifted.parquet"],
        "--format=json",
        "--method",
        "psi",
        "-m",
        "clicks=cramer_von_mises",
        "--threshold",
        "city=0.5",
        "--features",
        "age, city,clicks",
        "--kind",
        "clicks=numeric",
        "--correction",
        "bonferroni",
        "--alpha",
        "0.01",
    )
    assert code == 1, err
    data = json.loads(out)
    by_name = {f["feature"]: f for f in data["features"]}
    assert by_name["age"]["method"] == "psi" and by_name["city"]["method"] == "psi"
    assert by_name["clicks"]["method"] == "cramer_von_mises"
    assert by_name["clicks"]["threshold"] == 0.01
    assert by_name["city"]["threshold"] == 0.5
    assert data["dataset"]["correction"] == "bonferroni" and data["dataset"]["alpha"] == 0.01


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.parquet"], r"^error: current file '.*missing\.parquet' does not exist$"),
        (["broken.parquet"], r"^error: cannot read current file '.*broken\.parquet' as Parquet: "),
        (["notes.txt"], r"^error: cannot read current file '.*notes\.txt': unknown file type"),
        (["same.parquet", "--method", "nope"], r"^error: unknown method 'nope' for all features"),
        (["same.parquet", "-t", "age=x"], r"^error: --threshold 'age=x': expected a number"),
        (["same.parquet", "--kind", "age"], r"^error: --kind 'age': use COLUMN=KIND"),
        (["same.parquet", "--kind", "age=ordinal"], r"^error: unknown kind 'ordinal' for column"),
        (["same.parquet", "--features", "age,nope"], r"^error: features names \['nope'\]"),
        (["same.parquet", "--features", ","], r"^error: --features: give column names"),
        (["same.parquet", "--correction", "sidak"], r"^error: unknown correction 'sidak'"),
        (["same.parquet", "--alpha", "2"], r"^error: alpha must be in \(0, 1\), got 2.0$"),
    ],
)
def test_input_errors_exit_2_with_one_line(
    files: dict[str, Path], args: list[str], message: str
) -> None:
    import re

    current, *rest = args
    code, out, err = _run("compare", files["ref.parquet"], files[current], *rest)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert re.match(message, err.strip()), err
    assert "Traceback" not in err


def test_nothing_testable_exits_2_after_the_report(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": pa.array([], pa.float64())}), tmp_path / "empty.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0]}), tmp_path / "two.parquet")
    code, out, err = _run(
        "compare", tmp_path / "two.parquet", tmp_path / "empty.parquet", "--format=json"
    )
    assert code == 2
    assert json.loads(out)["dataset"]["n_tested"] == 0  # the report still says why
    assert err.strip() == (
        "error: none of the 1 features could be tested (e.g. 'a': not tested: no finite values "
        "in the current data (no rows)); see the report"
    )


def test_usage_errors_exit_2(files: dict[str, Path]) -> None:
    code, _, err = _run("compare", files["ref.parquet"], files["same.parquet"], "--format", "xml")
    assert code == 2 and "xml" in err
    code, _, _ = _run("compare", files["ref.parquet"])
    assert code == 2


def test_help_explains_the_command() -> None:
    result = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for text in (
        "REFERENCE",
        "CURRENT",
        "--format",
        "--method",
        "--threshold",
        "--kind",
        "--features",
        "Exit codes: 0 no drift, 1 drift found, 2 usage or input error",
    ):
        assert text in result.stdout, text


def test_installed_console_script(files: dict[str, Path]) -> None:
    script = Path(sys.executable).parent / "keeneye"
    assert script.exists(), f"{script} is not installed: pip install -e ."

    def run(*args: Path | str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "compare", *map(str, args), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
        )

    drift = run(files["ref.parquet"], files["shifted.parquet"])
    assert drift.returncode == 1, drift.stderr
    assert json.loads(drift.stdout)["dataset"]["drifted_features"] == ["age"]
    same = run(files["ref.parquet"], files["same.parquet"])
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["dataset"]["drifted"] is False
    missing = run(files["ref.parquet"], files["missing.parquet"])
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert (
        missing.stderr.strip() == f"error: current file '{files['missing.parquet']}' does not exist"
    )
    broken = run(files["broken.parquet"], files["same.parquet"])
    assert broken.returncode == 2
    assert broken.stderr.startswith(
        f"error: cannot read reference file '{files['broken.parquet']}'"
    )
    assert "Traceback" not in broken.stderr
