"""``keeneye.compare``: drift between two tables, in one call.

Reads both inputs into Arrow (:mod:`keeneye.tables`), fits the reference side as a
:class:`keeneye.profile.reference.Reference` and compares the current side with it — the same
call the analysis window jobs make — then wraps the :class:`~keeneye.profile.Report` with
summaries and data-quality findings in a :class:`~keeneye.report.DriftReport`.
Columns that cannot be tested become rows saying why; they never stop the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.identifiers import identifier_reason
from keeneye.profile.reference import (
    ALL_FEATURES,
    AUTO,
    CompareOptions,
    PreparedColumn,
    Reference,
    sort_key,
    sorted_finite,
    with_nulls,
)
from keeneye.report.charts import chart_for, histogram
from keeneye.report.drift_report import DataSource, DriftReport, FeatureProfile
from keeneye.schema import FeatureKind
from keeneye.stats import (
    ColumnSummary,
    DriftOptions,
    FeatureDrift,
    check_quality,
    check_quality_sorted,
    summarize,
)
from keeneye.stats._clean import ColumnValues, SortedNumbers, column_size
from keeneye.stats._parallel import map_columns
from keeneye.stats.methods import METHODS
from keeneye.tables import LoadedTable, load_table, parse_kind


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
    multivariate: bool = False,
    estimate: bool = False,
    segments: Sequence[str] = (),
    online: Sequence[str] = (),
) -> DriftReport:
    """Compare a current dataset with a reference one, feature by feature.

    Parameters
    ----------
    reference, current
        pandas or polars DataFrames, pyarrow Tables or RecordBatches, dicts of equal-length
        arrays or lists, or paths to ``.parquet``/``.pq``/``.csv``/``.csv.gz`` files.
    features
        Columns to compare. Default: every column of either side; columns present on one
        side only are reported as not tested (but ``prediction``, ``label`` and ``target``
        are left out when one side lacks them).
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
    multivariate
        Also test the numeric features jointly: PCA reconstruction error and a domain
        classifier, each at half of ``alpha`` (``report.report.multivariate``).
    estimate
        Also estimate the model's performance on the current rows without their labels (CBPE
        for a classifier, DLE for a regressor) from a reference with ``prediction``, ``label``
        and scores (``report.report.estimated``); needs ``keeneye[estimate]``.
    segments
        Columns to segment by: drift and performance per value (top 5 and ``other``) against
        the same segment of the reference (``report.report.segments``).
    online
        Streams of the current rows (file order) for the online change detectors: ``error``
        (needs prediction and label), ``score`` or numeric columns (``report.report.online``;
        needs ``keeneye[online]``).

    Raises
    ------
    DataSourceError
        An input cannot be read (unknown type, missing or unreadable file).
    InputError
        An argument names an unknown column, kind or method, or holds an invalid value.

    Notes
    -----
    The reference side is fitted as a :class:`keeneye.profile.reference.Reference` and the
    comparison is :meth:`Reference.compare <keeneye.profile.reference.Reference.compare>`, the
    same call the analysis window jobs make.

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
    identifiers = [] if test_identifiers else _identifiers(names, features, overrides, ref, cur)
    names = [n for n in names if n not in {f.feature for f in identifiers}]

    fitted = Reference.fit(
        ref.table.select([n for n in names if n in ref.table.column_names]),
        kinds=overrides,
        unconvertible={n: r for n, r in ref.unconvertible.items() if n in names},
    )
    compare_options = CompareOptions(
        drift=drift_options,
        methods=_as_pins(pinned_methods),
        thresholds=_as_pins(pinned_thresholds),
        features=names,
        unconvertible=cur.unconvertible,
    )
    prepared = fitted.prepare(cur.table, compare_options)
    profiles: dict[str, FeatureProfile] = {}

    def summarise(name: str, values: ColumnValues) -> None:
        # On the engine's worker thread, while the column's sorted values are at hand.
        column = prepared.columns[name]
        profiles[name] = _profile(name, replace(column, current=values), fitted)

    hook = summarise if summaries else None
    report = fitted.compare_prepared(prepared, compare_options, after_column=hook)
    if identifiers and report.drift is not None:
        rows = tuple(sorted((*report.drift.features, *identifiers), key=sort_key))
        report = replace(report, drift=replace(report.drift, features=rows))
    if segments or online:
        from keeneye.report.peers import online_of, segments_of

        if segments:
            report = replace(
                report,
                segments=segments_of(ref.table, cur.table, list(segments), drift_options.alpha),
            )
        if online:
            report = replace(report, online=online_of(ref.table, cur.table, list(online)))
    if multivariate or estimate:
        from keeneye.report.peers import estimated_of, multivariate_of

        fitted_kinds = fitted.kinds
        if multivariate:
            section = multivariate_of(ref.table, cur.table, fitted_kinds, drift_options.alpha)
            report = replace(report, multivariate=section)
        if estimate:
            estimated = estimated_of(ref.table, cur.table, fitted_kinds, drift_options.alpha)
            report = replace(report, estimated=estimated)
    if summaries:  # the columns the engine did not test (constant, all missing …)
        rest = {n: c for n, c in prepared.columns.items() if n not in profiles}
        profiles.update(_profiles(rest, fitted))
        profiles = {n: profiles[n] for n in prepared.columns}
    return DriftReport(
        report=report,
        reference=DataSource(ref.source, ref.num_rows, len(ref.columns)),
        current=DataSource(cur.source, cur.num_rows, len(cur.columns)),
        profiles=profiles,
    )


def _identifiers(
    names: Sequence[str],
    features: Sequence[str] | None,
    overrides: Mapping[str, FeatureKind],
    ref: LoadedTable,
    cur: LoadedTable,
) -> list[FeatureDrift]:
    """Not-tested rows of the identifier-like columns on both sides (row ids, keys, time
    stamps) that the caller did not name in ``features`` or ``kinds``."""
    explicit = set(features or ()) | set(overrides)
    out = []
    for name in names:
        if name in explicit:
            continue
        if name not in ref.table.column_names or name not in cur.table.column_names:
            continue
        why = identifier_reason(name, ref.table.column(name), cur.table.column(name))
        if why is not None:
            reason = f"identifier-like column ({why}); name it in features (--features) to test it"
            out.append(FeatureDrift.not_tested(name, None, "auto", reason))
    return out


def _as_pins(pins: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    default, per_feature = pins
    return {**({ALL_FEATURES: default} if default is not None else {}), **per_feature}


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


#: The model's output and the ground truth: compared when both sides carry them, left out
#: (not listed as "not tested" features) when one side lacks them — training data has labels
#: that production data does not, production data has predictions a raw training set lacks.
ONE_SIDED_OK = frozenset({"prediction", "label", "target"})


def _feature_names(features: Sequence[str] | None, ref: LoadedTable, cur: LoadedTable) -> list[str]:
    everything = list(ref.columns) + [c for c in cur.columns if c not in ref.columns]
    if features is None:
        both = set(ref.columns) & set(cur.columns)
        return [c for c in everything if c in both or c not in ONE_SIDED_OK]
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
    valid = (AUTO, *METHODS)
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


# --------------------------------------------------------------------------- summaries


def _profiles(
    columns: Mapping[str, PreparedColumn], fitted: Reference
) -> dict[str, FeatureProfile]:
    items = list(columns.items())
    total = sum(column_size(column.current) for _, column in items)
    done = map_columns(lambda item: _profile(*item, fitted), items, total)
    return dict(zip(columns, done, strict=True))


def _profile(name: str, column: PreparedColumn, fitted: Reference) -> FeatureProfile:
    reference = fitted.summaries.get(name) or _empty_summary(fitted, name, column.kind)
    if column.kind is FeatureKind.NUMERIC:
        return _numeric_profile(name, column, fitted, reference)
    quality = check_quality(reference, column.current)
    return FeatureProfile(
        reference=reference,
        current=quality.current,
        quality=quality,
        chart=chart_for(None, None, reference, quality.current),
    )


def _empty_summary(fitted: Reference, name: str, kind: FeatureKind) -> ColumnSummary:
    """The summary of a reference column that holds no value at all (not fitted)."""
    rows = fitted.plans[name].length
    values = pa.chunked_array([pa.nulls(rows, pa.float64())])
    if kind is not FeatureKind.NUMERIC:
        values = pa.chunked_array([pa.nulls(rows, pa.string())])
        return summarize(values, kind)
    return with_nulls(summarize(values, kind), rows)


def _numeric_profile(
    name: str, column: PreparedColumn, fitted: Reference, reference: ColumnSummary
) -> FeatureProfile:
    """Summary, quality and histogram of a numeric feature, each side sorted once (the
    reference's sorted values come from the fitted reference)."""
    ref_sorted = fitted.sorted_values(name)
    values = column.current
    moments = values.moments if isinstance(values, SortedNumbers) else None
    cur_sorted, cur_counts = sorted_finite(values)
    quality = check_quality_sorted(reference, cur_sorted, cur_counts, moments=moments)
    current = with_nulls(quality.current, column.current_nulls)
    return FeatureProfile(
        reference=reference,
        current=current,
        quality=replace(quality, current=current),
        chart=histogram(ref_sorted, cur_sorted, reference, current, is_sorted=True),
    )


#: Kept for callers of the old private name.
_with_nulls = with_nulls
