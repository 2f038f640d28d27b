"""``keeneye.compare``: drift between two tables, in one call.

Reads both inputs into Arrow (:mod:`keeneye.tables`), decides each column's kind, converts the
testable columns to the arrays the statistics engine takes, runs the engine
(:class:`keeneye.stats.ReferenceProfile` + :func:`keeneye.stats.detect_drift`) and wraps the
result with summaries and data-quality findings in a :class:`~keeneye.report.DriftReport`.
Columns that cannot be tested become rows saying why; they never stop the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pyarrow as pa

from keeneye.errors import InputError
from keeneye.identifiers import identifier_reason
from keeneye.report.charts import chart_for, histogram
from keeneye.report.drift_report import DataSource, DriftReport, FeatureProfile
from keeneye.schema import FeatureKind
from keeneye.stats import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    ColumnSummary,
    DriftOptions,
    FeatureDrift,
    ReferenceProfile,
    check_quality,
    check_quality_sorted,
    detect_drift,
    summarize,
    summarize_sorted,
)
from keeneye.stats._clean import CategoryCounts, NumericCounts, category_counts, numeric_values
from keeneye.stats.profile import NumericReference
from keeneye.tables import (
    KindGuess,
    LoadedTable,
    as_kind,
    infer_kind,
    load_table,
    non_numbers,
    parse_kind,
    type_family,
)

AUTO = "auto"
#: Key of ``methods`` / ``thresholds`` that applies to every feature not named otherwise.
ALL_FEATURES = "*"


@dataclass(frozen=True)
class _Column:
    """A feature ready for the engine: its kind, both sides, and the null counts.

    Numeric sides are float64 Arrow columns; categorical and boolean sides are their category
    counts, taken once from Arrow (no Python object per row) and shared by the drift tests,
    the summaries and the quality checks.
    """

    kind: FeatureKind
    reference: pa.ChunkedArray | CategoryCounts
    current: pa.ChunkedArray | CategoryCounts
    reference_nulls: int
    current_nulls: int
    #: Set when the column is summarised but not handed to the drift tests.
    untested: FeatureDrift | None = None


def compare(
    reference: object,
    current: object,
    *,
    features: Sequence[str] | None = None,
    methods: Mapping[str, str] | str | None = None,
    thresholds: Mapping[str, float] | float | None = None,
    kinds: Mapping[str, FeatureKind | str] | None = None,
    options: DriftOptions | Mapping[str, Any] | None = None,
    summaries: bool = True,
    test_identifiers: bool = False,
) -> DriftReport:
    """Compare a current dataset with a reference one, feature by feature.

    Parameters
    ----------
    reference, current
        pandas or polars DataFrames, pyarrow Tables or RecordBatches, dicts of equal-length
        arrays or lists, or paths to ``.parquet``/``.pq``/``.csv``/``.csv.gz`` files.
    features
        Columns to compare. Default: every column of either side; columns present on one
        side only are reported as not tested.
    methods
        A method per feature (``{"age": "psi"}``), or one method for every feature it applies
        to (``"psi"``, or the key ``"*"``: ``{"*": "psi", "age": "ks"}``). ``"auto"`` is the
        default rule: KS (numeric) or chi-square (categorical/boolean), decided by effect size
        above the sample-size cut-over. Numeric-only methods (``"ks"``) given for all
        features leave categorical features on their default, and vice versa.
    thresholds
        A threshold per feature, or one for all (a number, or the key ``"*"``): the p-value
        level when a test decides, the effect-size level when a distance does.
    kinds
        Overrides of the inferred kinds, e.g. ``{"zip": "categorical"}``.
    options
        :class:`keeneye.stats.DriftOptions` (or a dict of its fields): alpha, correction,
        sample-size cut-over, effect-size thresholds …
    test_identifiers
        Also test identifier-like columns (row ids, keys, timestamps: see
        :mod:`keeneye.identifiers`). By default they are reported as not tested, unless named
        in ``features`` or ``kinds``.
    summaries
        Also summarise every readable column on both sides, check the current data's
        quality against the reference and keep chart data for the HTML report (turn off to
        only test for drift).

    Raises
    ------
    DataSourceError
        An input cannot be read (unknown type, missing or unreadable file).
    InputError
        An argument names an unknown column, kind or method, or holds an invalid value.

    >>> reference = {"x": [1.0, 2.0, 3.0, 4.0]}
    >>> report = compare(reference, {"x": [1.5, 2.5, 3.5, 4.5], "y": [1, 2, 3, 4]})
    >>> report["y"].reason
    'not tested: column missing in reference data'
    >>> report.dataset_drifted
    False
    """
    drift_options = _options(options)
    ref = load_table(reference, role="reference")
    cur = load_table(current, role="current")
    names = _feature_names(features, ref, cur)
    overrides = {name: parse_kind(name, kind) for name, kind in (kinds or {}).items()}
    _check_known("kinds", overrides, ref, cur)
    pinned_methods = _methods(methods, ref, cur)
    pinned_thresholds = _thresholds(thresholds, ref, cur)

    untested: list[FeatureDrift] = []
    columns: dict[str, _Column] = {}  # handed to the drift engine
    summarised: dict[str, _Column] = {}  # converted, hence summarised
    explicit = set(features or ()) | set(overrides)
    for name in names:
        if not test_identifiers and name not in explicit:
            why = _identifier(name, ref, cur)
            if why is not None:
                untested.append(
                    _untested(
                        name,
                        None,
                        f"identifier-like column ({why}); name it in features "
                        "(--features) to test it",
                    )
                )
                continue
        planned = _plan(name, ref, cur, overrides.get(name))
        if isinstance(planned, FeatureDrift):
            untested.append(planned)
            continue
        summarised[name] = planned
        if planned.untested is not None:
            untested.append(planned.untested)
        else:
            columns[name] = planned

    profile = ReferenceProfile.fit(
        {name: c.reference for name, c in columns.items()},
        {name: c.kind for name, c in columns.items()},
    )
    results = detect_drift(
        profile,
        {name: c.current for name, c in columns.items()},
        methods=_pins_for(pinned_methods, columns),
        thresholds=_thresholds_for(pinned_thresholds, columns),
        options=drift_options,
    )
    ordered = sorted((*results.features, *untested), key=_sort_key)
    profiles = _profiles(summarised, profile) if summaries else {}
    return DriftReport(
        features=tuple(ordered),
        dataset_drifted=results.dataset_drifted,
        drift_share=results.drift_share,
        n_tested=results.n_tested,
        n_drifted=results.n_drifted,
        correction=results.correction,
        alpha=results.alpha,
        options=drift_options,
        reference=DataSource(ref.source, ref.num_rows, len(ref.columns)),
        current=DataSource(cur.source, cur.num_rows, len(cur.columns)),
        profiles=profiles,
    )


# --------------------------------------------------------------------------- arguments


def _options(options: DriftOptions | Mapping[str, Any] | None) -> DriftOptions:
    if options is None:
        return DriftOptions()
    if isinstance(options, DriftOptions):
        return options
    if isinstance(options, Mapping):
        known = {f.name for f in fields(DriftOptions)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise InputError(f"unknown drift option(s) {unknown}: use {', '.join(sorted(known))}")
        return DriftOptions(**options)
    raise InputError(
        f"options must be a keeneye.stats.DriftOptions or a dict, got {type(options).__name__}"
    )


def _feature_names(features: Sequence[str] | None, ref: LoadedTable, cur: LoadedTable) -> list[str]:
    everything = list(ref.columns) + [c for c in cur.columns if c not in ref.columns]
    if features is None:
        return everything
    if isinstance(features, str):
        raise InputError(f"features must be a list of column names, got the string {features!r}")
    names = [str(name) for name in features]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"features lists {duplicated} more than once")
    _check_known("features", names, ref, cur)
    return names


def _check_known(argument: str, names: Iterable[str], ref: LoadedTable, cur: LoadedTable) -> None:
    known = set(ref.columns) | set(cur.columns)
    unknown = [name for name in names if name not in known]
    if unknown:
        shown = ", ".join(sorted(known)[:20]) + (" …" if len(known) > 20 else "")
        raise InputError(
            f"{argument} names {unknown}, which is in neither the reference nor the current "
            f"data; columns are: {shown or '(none)'}"
        )


def _valid_method(method: object, where: str) -> str:
    valid = (AUTO, *NUMERIC_METHODS, *[m for m in CATEGORICAL_METHODS if m not in NUMERIC_METHODS])
    if not isinstance(method, str) or method not in valid:
        raise InputError(f"unknown method {method!r} {where}: use one of {', '.join(valid)}")
    return method


def _split_default(
    values: Mapping[str, Any] | Any, ref: LoadedTable, cur: LoadedTable, argument: str
) -> tuple[Any, dict[str, Any]]:
    """``"psi"`` / ``{"*": "psi", "age": "ks"}`` → (default for all, per-feature values)."""
    if values is None:
        return None, {}
    if not isinstance(values, Mapping):
        return values, {}
    per_feature = {str(k): v for k, v in values.items() if k != ALL_FEATURES}
    _check_known(argument, per_feature, ref, cur)
    return values.get(ALL_FEATURES), per_feature


def _methods(
    methods: Mapping[str, str] | str | None, ref: LoadedTable, cur: LoadedTable
) -> tuple[str | None, dict[str, str]]:
    default, per_feature = _split_default(methods, ref, cur, "methods")
    if default is not None:
        default = _valid_method(default, "for all features")
    return default, {k: _valid_method(v, f"for feature {k!r}") for k, v in per_feature.items()}


def _pins_for(
    pins: tuple[str | None, dict[str, str]], columns: Mapping[str, _Column]
) -> dict[str, str]:
    """Per-feature methods of the tested columns; the default applies where its kind allows."""
    default, per_feature = pins
    pinned = {name: method for name, method in per_feature.items() if name in columns}
    if default is None:
        return pinned
    applies = [
        name
        for name, column in columns.items()
        if default == AUTO
        or default
        in (NUMERIC_METHODS if column.kind is FeatureKind.NUMERIC else CATEGORICAL_METHODS)
    ]
    if columns and not applies:
        kinds = ", ".join(sorted({c.kind.value for c in columns.values()}))
        raise InputError(f"method {default!r} applies to none of the tested features ({kinds})")
    return {**dict.fromkeys(applies, default), **pinned}


def _valid_threshold(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"threshold {where} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"threshold {where} must be a finite number > 0, got {value!r}")
    return float(value)


def _thresholds(
    thresholds: Mapping[str, float] | float | None, ref: LoadedTable, cur: LoadedTable
) -> tuple[float | None, dict[str, float]]:
    default, per_feature = _split_default(thresholds, ref, cur, "thresholds")
    if default is not None:
        default = _valid_threshold(default, "for all features")
    checked = {k: _valid_threshold(v, f"for feature {k!r}") for k, v in per_feature.items()}
    return default, checked


def _thresholds_for(
    pins: tuple[float | None, dict[str, float]], columns: Mapping[str, _Column]
) -> dict[str, float]:
    default, per_feature = pins
    everyone = dict.fromkeys(columns, default) if default is not None else {}
    return {**everyone, **{k: v for k, v in per_feature.items() if k in columns}}


# --------------------------------------------------------------------------- planning


def _identifier(name: str, ref: LoadedTable, cur: LoadedTable) -> str | None:
    """Why a column on both sides looks like a row id or a timestamp (else ``None``)."""
    if name not in ref.table.column_names or name not in cur.table.column_names:
        return None
    return identifier_reason(name, ref.table.column(name), cur.table.column(name))


def _untested(
    name: str, kind: FeatureKind | None, reason: str, n_ref: int = 0, n_cur: int = 0
) -> FeatureDrift:
    return FeatureDrift.not_tested(name, kind, AUTO, reason, n_ref, n_cur)


def _plan(
    name: str, ref: LoadedTable, cur: LoadedTable, override: FeatureKind | None
) -> _Column | FeatureDrift:
    """Decide a feature's kind and convert both sides, or say why it cannot be tested."""
    if name not in ref.columns or name not in cur.columns:
        missing_in = "reference" if name not in ref.columns else "current"
        return _untested(name, override, f"column missing in {missing_in} data")
    for table in (ref, cur):
        if name in table.unconvertible:
            return _untested(
                name, override, f"{table.unconvertible[name]} in the {table.role} data"
            )
    ref_column = ref.table.column(name)
    cur_column = cur.table.column(name)
    if override is not None:
        if not override.testable:
            return _untested(name, override, f"{override.value} columns are not tested for drift")
        kind = override
    else:
        # A reference with no values at all says nothing about the kind; the current may.
        source = cur_column if type_family(ref_column.type) == "null" else ref_column
        guess: KindGuess = infer_kind(source)
        if guess.kind is None or guess.untested is not None:
            return _untested(name, guess.kind, guess.untested or "unsupported type")
        kind = guess.kind
        mismatch = _type_mismatch(ref_column, cur_column)
        if mismatch is not None:
            return _untested(name, kind, mismatch)
    arrays = []
    empty: FeatureDrift | None = None
    for table, column in ((ref, ref_column), (cur, cur_column)):
        cast = as_kind(column, kind)
        if isinstance(cast, str):
            return _untested(name, kind, f"{cast} in the {table.role} data")
        if empty is None and len(column) and column.null_count == len(column):
            # Still summarised: the quality check shows the jump in missing values.
            reason = f"every value is missing in the {table.role} data ({len(column)} rows)"
            empty = _untested(
                name,
                kind,
                reason,
                ref_column.length() - ref_column.null_count,
                cur_column.length() - cur_column.null_count,
            )
        arrays.append(cast)
    return _Column(
        kind=kind,
        reference=_engine_values(arrays[0], kind, ref.role),
        current=_engine_values(arrays[1], kind, cur.role),
        reference_nulls=arrays[0].null_count,
        current_nulls=arrays[1].null_count,
        untested=empty,
    )


def _engine_values(
    column: pa.ChunkedArray, kind: FeatureKind, role: str
) -> pa.ChunkedArray | CategoryCounts:
    # Numeric columns stay in Arrow (float64): the engine converts each one where it sorts it,
    # so the table is never held as numpy all at once.
    if kind is FeatureKind.NUMERIC:
        return column
    return category_counts(column, f"the {role} column")


def _type_mismatch(ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> str | None:
    ref_family, cur_family = type_family(ref.type), type_family(cur.type)
    if ref_family == cur_family or "null" in (ref_family, cur_family):
        return None
    detail = ""
    if ref_family == "numeric" and cur_family == "string":
        n_bad, total, example = non_numbers(cur)
        if n_bad:
            detail = f" ({n_bad} of {total} current values are not numbers, e.g. {example!r})"
    return (
        f"type mismatch: {ref.type} in the reference, {cur.type} in the current data{detail}; "
        "fix the data or set the column's kind"
    )


def _sort_key(result: FeatureDrift) -> tuple[int, float, str]:
    # Same order as the engine: drifted, then by effect size, then not tested.
    rank = {True: 0, False: 1, None: 2}[result.drifted]
    effect = result.effect_size if result.effect_size is not None else -math.inf
    return rank, -effect, result.feature


# --------------------------------------------------------------------------- summaries


def _with_nulls(summary: ColumnSummary, nulls: int) -> ColumnSummary:
    """Split the engine's NaN count into Arrow nulls (missing) and real NaN values.

    Numeric columns reach the engine as float64 with nulls written as NaN (the fast path);
    Arrow knows how many of those NaN were nulls.
    """
    if summary.kind is not FeatureKind.NUMERIC or not nulls:
        return summary
    return replace(summary, missing=summary.missing + nulls, nan=summary.nan - nulls)


def _profiles(
    columns: Mapping[str, _Column], profile: ReferenceProfile
) -> dict[str, FeatureProfile]:
    profiles: dict[str, FeatureProfile] = {}
    for name, column in columns.items():
        if column.kind is FeatureKind.NUMERIC:
            profiles[name] = _numeric_profile(name, column, profile)
            continue
        reference = summarize(column.reference, column.kind)
        quality = check_quality(reference, column.current)
        profiles[name] = FeatureProfile(
            reference=reference,
            current=quality.current,
            quality=quality,
            chart=chart_for(column.reference, column.current, reference, quality.current),
        )
    return profiles


def _numeric_profile(name: str, column: _Column, profile: ReferenceProfile) -> FeatureProfile:
    """Summary, quality and histogram of a numeric feature, each side sorted once.

    The reference's sorted values come from the fitted profile when the engine kept them.
    """
    fitted = profile.column(name) if name in profile.features else None
    if isinstance(fitted, NumericReference):
        ref_sorted, ref_counts = fitted.sorted_values, fitted.counts
    else:
        ref_sorted, ref_counts = _sorted_finite(column.reference)
    cur_sorted, cur_counts = _sorted_finite(column.current)
    reference = _with_nulls(summarize_sorted(ref_sorted, ref_counts), column.reference_nulls)
    quality = check_quality_sorted(reference, cur_sorted, cur_counts)
    current = _with_nulls(quality.current, column.current_nulls)
    return FeatureProfile(
        reference=reference,
        current=current,
        quality=replace(quality, current=current),
        chart=histogram(ref_sorted, cur_sorted, reference, current, is_sorted=True),
    )


def _sorted_finite(values: object) -> tuple[np.ndarray, NumericCounts]:
    finite, counts = numeric_values(values, "values")
    return np.sort(finite), counts
