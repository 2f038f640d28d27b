"""``keeneye compare`` (and ``keeneye report``): drift between two tables, as a CI gate.

Exit codes: 0 no drift, 1 drift, 2 usage or input error (one line on stderr, no traceback) —
including inputs of which no feature could be tested — 3 a bug in keeneye (with traceback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer

from keeneye.errors import InputError, KeeneyeError

EXIT_NO_DRIFT = 0
EXIT_DRIFT = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3

_T = TypeVar("_T")


class OutputFormat(str, Enum):
    """What ``keeneye compare`` prints on stdout."""

    table = "table"
    json = "json"


def parse_assignments(
    values: Sequence[str], option: str, convert: Callable[[str], _T]
) -> tuple[_T | None, dict[str, _T]]:
    """Split ``["ks", "age=psi"]`` into a default (``"ks"``) and per-feature values.

    >>> parse_assignments(["ks", "age=psi"], "--method", str)
    ('ks', {'age': 'psi'})
    >>> parse_assignments(["a=1", "b"], "--threshold", float)
    Traceback (most recent call last):
    ...
    keeneye.errors.InputError: --threshold 'b': expected a number, got 'b'
    """
    default: _T | None = None
    per_feature: dict[str, _T] = {}
    for raw in values:
        feature, sep, value = raw.partition("=")
        if not sep:
            feature, value = "", raw
        feature, value = feature.strip(), value.strip()
        if sep and not feature:
            raise InputError(f"{option} {raw!r}: name the feature before '=', e.g. age={value}")
        if not value:
            raise InputError(f"{option} {raw!r}: give a value after '='")
        converted = _convert(convert, value, option, raw)
        if feature:
            per_feature[feature] = converted
        elif default is not None:
            raise InputError(f"{option} {raw!r}: only one value may apply to all features")
        else:
            default = converted
    return default, per_feature


def _convert(convert: Callable[[str], _T], value: str, option: str, raw: str) -> _T:
    try:
        return convert(value)
    except ValueError:
        what = "a number" if convert is float else "a valid value"
        raise InputError(f"{option} {raw!r}: expected {what}, got {value!r}") from None


def _split_features(features: str | None) -> list[str] | None:
    if features is None:
        return None
    names = [name.strip() for name in features.split(",") if name.strip()]
    if not names:
        raise InputError("--features: give column names separated by commas, e.g. age,city")
    return names


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_INPUT_ERROR)


def _nothing_tested(report: Any) -> str:
    reasons = report.not_tested
    if not reasons:
        return "the two inputs have no columns to compare"
    feature, reason = next(iter(reasons.items()))
    return (
        f"none of the {len(reasons)} features could be tested "
        f"(e.g. {feature!r}: {reason}); see the report"
    )


_MULTIVARIATE_HELP = (
    "Also test the numeric features jointly (PCA reconstruction error, domain classifier): "
    "drift that only changes how features vary together."
)
_ESTIMATE_HELP = (
    "Also estimate the model's performance on CURRENT without labels (CBPE for classifiers, "
    "DLE for regressors); REFERENCE needs prediction, label and score columns."
)

_SEGMENT_HELP = (
    "A column to segment by (repeatable): drift and performance per value (top 5 and "
    "'other') against the same segment of REFERENCE."
)
_ONLINE_HELP = (
    "A stream for the online change detectors (repeatable): 'error' (prediction vs label), "
    "'score' or a numeric column, over CURRENT's rows in file order."
)


def _run_compare(
    reference: str,
    current: str,
    method: list[str],
    threshold: list[str],
    features: str | None,
    kind: list[str],
    correction: str | None,
    alpha: float | None,
    test_ids: bool = False,
    multivariate: bool = False,
    estimate: bool = False,
    segments: list[str] | None = None,
    online: list[str] | None = None,
) -> Any:
    from keeneye.compare import ALL_FEATURES, compare

    default_method, methods = parse_assignments(method, "--method", str)
    default_threshold, thresholds = parse_assignments(threshold, "--threshold", float)
    kind_default, kinds = parse_assignments(kind, "--kind", str)
    if kind_default is not None:
        raise InputError(f"--kind {kind_default!r}: use COLUMN=KIND, e.g. zip=categorical")
    if default_method is not None:
        methods[ALL_FEATURES] = default_method
    if default_threshold is not None:
        thresholds[ALL_FEATURES] = default_threshold
    options = {
        name: value
        for name, value in (("correction", correction), ("alpha", alpha))
        if value is not None
    }
    return compare(
        reference,
        current,
        features=_split_features(features),
        methods=methods or None,
        thresholds=thresholds or None,
        kinds=kinds or None,
        options=options,
        test_identifiers=test_ids,
        multivariate=multivariate,
        estimate=estimate,
        segments=segments or (),
        online=online or (),
    )


_METHOD_HELP = (
    "Test to use: METHOD for every feature it applies to, or FEATURE=METHOD for one feature. "
    "Repeatable. Numeric: ks, anderson_darling, cramer_von_mises, wasserstein, psi, "
    "jensen_shannon, hellinger, kl_divergence; categorical: chi_square, g_test, psi, "
    "jensen_shannon, hellinger, proportion_z."
)
_CORRECTION_HELP = (
    "Multiple-testing correction of the dataset verdict: holm (default), bonferroni, bh or none."
)
_ALPHA_HELP = "Significance level (default 0.05)."
_FEATURES_HELP = "Comma-separated columns to compare (default: every column)."
_TEST_IDS_HELP = (
    "Also test identifier-like columns (named id/uuid/*_id, timestamps, or unique per row with "
    "no value shared between the inputs); by default they are listed as not tested."
)
_KIND_HELP = (
    "Override a column's inferred kind: COLUMN=KIND, KIND one of numeric, categorical, boolean, "
    "text, datetime. Repeatable."
)
_THRESHOLD_HELP = (
    "Decision threshold: VALUE for every feature or FEATURE=VALUE for one (a p-value level for "
    "tests, an effect-size level for distances). Repeatable."
)


def register(app: typer.Typer) -> None:
    """Add ``compare`` (and ``report``) to the ``keeneye`` command line."""

    @app.command(
        "compare",
        epilog=(
            "Exit codes: 0 no drift, 1 drift found, 2 usage or input error. "
            "Example: keeneye compare train.parquet today.csv --format json"
        ),
    )
    def compare_command(
        reference: str = typer.Argument(
            ...,
            metavar="REFERENCE",
            help="Reference (baseline) data: a .parquet, .pq, .csv or .csv.gz file.",
            show_default=False,
        ),
        current: str = typer.Argument(
            ..., metavar="CURRENT", help="Current data, in the same formats.", show_default=False
        ),
        output_format: OutputFormat = typer.Option(
            OutputFormat.table, "--format", "-f", help="Print a table or JSON on stdout."
        ),
        method: list[str] = typer.Option(
            [], "--method", "-m", metavar="[FEATURE=]METHOD", help=_METHOD_HELP
        ),
        threshold: list[str] = typer.Option(
            [], "--threshold", "-t", metavar="[FEATURE=]VALUE", help=_THRESHOLD_HELP
        ),
        features: str | None = typer.Option(
            None, "--features", metavar="A,B,...", help=_FEATURES_HELP
        ),
        kind: list[str] = typer.Option([], "--kind", "-k", metavar="COLUMN=KIND", help=_KIND_HELP),
        correction: str | None = typer.Option(
            None, "--correction", metavar="NAME", help=_CORRECTION_HELP
        ),
        alpha: float | None = typer.Option(None, "--alpha", metavar="LEVEL", help=_ALPHA_HELP),
        test_ids: bool = typer.Option(False, "--test-ids", help=_TEST_IDS_HELP),
        multivariate: bool = typer.Option(False, "--multivariate", help=_MULTIVARIATE_HELP),
        estimate: bool = typer.Option(False, "--estimate", help=_ESTIMATE_HELP),
    ) -> None:
        """Compare two tables column by column and report which features drifted.

        Each column's kind is inferred from its type and values (numeric, categorical,
        boolean; text and datetime columns are listed as not tested). By default KS tests
        numbers and chi-square tests categories; above the sample-size cut-over an effect
        size decides. Drifted features are listed first.
        """
        try:
            report = _run_compare(
                reference,
                current,
                method,
                threshold,
                features,
                kind,
                correction,
                alpha,
                test_ids,
                multivariate,
                estimate,
            )
        except KeeneyeError as exc:
            raise _fail(str(exc)) from None
        except Exception:  # a bug, not bad input: keep the traceback, and do not exit 1 ("drift")
            import traceback

            traceback.print_exc()
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None
        if output_format is OutputFormat.json:
            typer.echo(report.to_json())
        else:
            from rich.console import Console

            from keeneye.report.text import PLAIN_WIDTH

            console = Console()
            if not console.is_terminal:  # CI logs and pipes: do not squeeze into 80 columns
                console = Console(width=PLAIN_WIDTH)
            console.print(report)
        if report.n_tested == 0:
            # A gate that passes because nothing could be checked would hide broken data.
            raise _fail(_nothing_tested(report))
        raise typer.Exit(EXIT_DRIFT if report.dataset_drifted else EXIT_NO_DRIFT)

    _register_report(app)


def _register_report(app: typer.Typer) -> None:
    @app.command(
        "report",
        epilog="Exit codes: 0 report written, 2 usage or input error.",
    )
    def report_command(
        reference: str = typer.Argument(
            ..., metavar="REFERENCE", help="Reference (baseline) data file.", show_default=False
        ),
        current: str = typer.Argument(
            ..., metavar="CURRENT", help="Current data file.", show_default=False
        ),
        output: Path = typer.Option(
            ..., "--output", "-o", help="Where to write the self-contained HTML report."
        ),
        method: list[str] = typer.Option(
            [], "--method", "-m", metavar="[FEATURE=]METHOD", help=_METHOD_HELP
        ),
        threshold: list[str] = typer.Option(
            [], "--threshold", "-t", metavar="[FEATURE=]VALUE", help=_THRESHOLD_HELP
        ),
        features: str | None = typer.Option(
            None, "--features", metavar="A,B,...", help=_FEATURES_HELP
        ),
        kind: list[str] = typer.Option([], "--kind", "-k", metavar="COLUMN=KIND", help=_KIND_HELP),
        correction: str | None = typer.Option(
            None, "--correction", metavar="NAME", help=_CORRECTION_HELP
        ),
        alpha: float | None = typer.Option(None, "--alpha", metavar="LEVEL", help=_ALPHA_HELP),
        multivariate: bool = typer.Option(False, "--multivariate", help=_MULTIVARIATE_HELP),
        estimate: bool = typer.Option(False, "--estimate", help=_ESTIMATE_HELP),
        segment: list[str] = typer.Option([], "--segment", metavar="COLUMN", help=_SEGMENT_HELP),
        online: list[str] = typer.Option([], "--online", metavar="STREAM", help=_ONLINE_HELP),
    ) -> None:
        """Write a self-contained HTML drift report (opens without network)."""
        try:
            report = _run_compare(
                reference,
                current,
                method,
                threshold,
                features,
                kind,
                correction,
                alpha,
                multivariate=multivariate,
                estimate=estimate,
                segments=segment,
                online=online,
            )
            report.save_html(output)
        except KeeneyeError as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:
            raise _fail(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None
        except Exception:  # a bug, not bad input: keep the traceback
            import traceback

            traceback.print_exc()
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None
        typer.echo(f"wrote {output}", err=True)
