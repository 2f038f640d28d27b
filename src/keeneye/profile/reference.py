"""The :class:`Reference`: a baseline fitted once — each column's kind and type, the drift
engine's :class:`~keeneye.stats.ReferenceProfile`, the column summaries the quality checks
compare with, and the digest of the data it came from — and :meth:`Reference.compare`, the one
comparison that ``keeneye.compare`` and the analysis window jobs both run.

A reference serialises to a versioned binary form (:meth:`Reference.to_bytes`, an ``.npz``
archive: the sorted reference values as float64 arrays and a JSON header with format number
:data:`REFERENCE_FORMAT`), which the store keeps beside the baseline so that no process re-fits
it and no page re-reads the raw baseline.

>>> ref = Reference.fit(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]}))
>>> report = ref.compare(pa.table({"x": [1.5, 2.5, 3.5, 4.5], "c": ["a", "a", "b", "b"]}))
>>> sorted((f.feature, f.drifted) for f in report.drift.features)
[('c', False), ('x', False)]
>>> Reference.from_bytes(ref.to_bytes()).compare(pa.table({"x": [9.0]})).drift["c"].reason
'not tested: column missing in current data'
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from keeneye.errors import InputError
from keeneye.kinds import KINDS, descriptor_name, numeric, untested_reason
from keeneye.profile import modal as _modal
from keeneye.profile._codec import decode, encode
from keeneye.profile._passes import casting_size, first_pass, inference_size
from keeneye.profile.classes import class_labels, is_class_column
from keeneye.profile.modal_compare import compare_modal, modal_from_header, modal_header
from keeneye.profile.report import DriftSection, Report
from keeneye.schema import FeatureKind
from keeneye.stats import ColumnSummary, DriftOptions, FeatureDrift, ReferenceProfile, summarize
from keeneye.stats._clean import (
    CategoryCounts,
    NumericCounts,
    SortedNumbers,
    category_counts,
    counts_from_value_counts,
    sorted_numbers,
)
from keeneye.stats._kernels import with_sentinel
from keeneye.stats._parallel import map_columns
from keeneye.stats.distance import DEFAULT_BINS
from keeneye.stats.drift import ColumnHook, detect_drift_with
from keeneye.stats.methods import names_for
from keeneye.stats.profile import (
    CategoricalReference,
    ColumnReference,
    NumericReference,
    UntestedReference,
    numeric_reference,
)
from keeneye.stats.summary import summarize_sorted
from keeneye.tables import KindGuess, as_kind, infer_kind, non_numbers, type_family

#: The binary format :meth:`Reference.to_bytes` writes.
REFERENCE_FORMAT = 1
#: ``methods`` / ``thresholds`` key that applies to every feature not named otherwise.
ALL_FEATURES = "*"
AUTO = "auto"
#: A baseline column with this name holds the model's predictions on the training data; it is
#: the reference of prediction drift, not a feature.
PREDICTION_COLUMN = "prediction"
#: Baseline columns with these names are the training target, not features.
TARGET_COLUMNS = frozenset({"label", "target"})


@dataclass(frozen=True)
class ColumnPlan:
    """What the reference knows of one column before seeing the current data."""

    name: str
    kind: FeatureKind | None  # None with family "null": decided from the current data
    arrow_type: str
    family: str
    pinned: bool = False  # the caller set the kind: no type-mismatch check
    problem: str | None = None  # why it cannot be compared at all (reference side)
    length: int = 0
    nulls: int = 0

    @property
    def all_missing(self) -> bool:
        return self.length > 0 and self.nulls == self.length


@dataclass(frozen=True)
class CompareOptions:
    """How :meth:`Reference.compare` compares.

    ``methods``/``thresholds`` pin a method or threshold per feature (the key ``"*"`` for
    every feature it applies to); ``features`` limits the comparison (default: every column
    of either side, or only the reference's with ``reference_features_only``);
    ``check_types`` refuses a current column of another type family than the reference's
    (the window jobs cast the store's columns to the reference's kinds instead).
    """

    drift: DriftOptions = field(default_factory=DriftOptions)
    #: Options of the prediction's own test (default: ``drift``); the window jobs give it its
    #: share of the window's alert-budget level.
    prediction_drift: DriftOptions | None = None
    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    features: Sequence[str] | None = None
    reference_features_only: bool = False
    check_types: bool = True
    unconvertible: Mapping[str, str] = field(default_factory=dict)
    role: str = "current"
    #: Seeds the embedding tests' samples and permutations.
    seed: int = 0


#: A column as the engine takes it: numeric columns sorted (reference columns stay in Arrow
#: until the profile sorts them), categorical columns counted.
EngineValues: TypeAlias = pa.ChunkedArray | CategoryCounts | SortedNumbers


@dataclass(frozen=True)
class PreparedColumn:
    """A feature ready for the engine and the summaries: kind, current values, null count."""

    kind: FeatureKind
    current: EngineValues
    current_nulls: int
    untested: FeatureDrift | None = None


@dataclass(frozen=True)
class Prepared:
    """The current data of one comparison, column by column (see :meth:`Reference.prepare`)."""

    rows: int
    columns: Mapping[str, PreparedColumn]  # summarised (tested unless ``untested`` is set)
    untested: tuple[FeatureDrift, ...]  # every row that is not handed to the engine
    #: Text, image and embedding columns expanded (``keeneye.profile.modal``).
    modal: _modal.Expanded | None = None


class Reference:
    """A fitted baseline (see the module docstring). Build with :meth:`fit` or
    :meth:`from_bytes`; immutable afterwards."""

    __slots__ = (
        "bins", "digest", "modal", "plans", "prediction", "profile", "rows", "summaries",
    )  # fmt: skip

    def __init__(
        self,
        plans: Mapping[str, ColumnPlan],
        profile: ReferenceProfile,
        summaries: Mapping[str, ColumnSummary],
        rows: int,
        *,
        digest: str | None = None,
        prediction: Reference | None = None,
        bins: int = DEFAULT_BINS,
        modal: Sequence[_modal.ModalProfile] = (),
    ) -> None:
        self.modal = tuple(modal)
        self.plans = dict(plans)
        self.profile = profile
        self.summaries = dict(summaries)
        self.rows = rows
        self.digest = digest
        self.prediction = prediction
        self.bins = bins

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls,
        table: pa.Table,
        *,
        kinds: Mapping[str, FeatureKind] | None = None,
        unconvertible: Mapping[str, str] | None = None,
        digest: str | None = None,
        prediction_column: str | None = None,
        exclude: Sequence[str] = (),
        bins: int = DEFAULT_BINS,
        role: str = "reference",
    ) -> Reference:
        """Fit every column of ``table`` (except ``exclude`` and the prediction column, which
        gets its own nested reference in :attr:`prediction`)."""
        overrides = dict(kinds or {})
        problems_in = dict(unconvertible or {})
        skip = set(exclude) | ({prediction_column} if prediction_column else set())
        # Each column's kind is inferred once, the columns on several threads (a string
        # column's inference hashes it: its value counts are then reused for its categories),
        # in one pass with the sorting of the float columns, which fills the threads.
        guesses, presorted = first_pass(
            table, [n for n in table.column_names if n not in skip], overrides, role
        )
        # Text, image and embedding columns are tested through descriptor columns.
        modal_kinds, modal_problems = _modal.detect(
            table, overrides, [*skip, *problems_in], guesses=guesses
        )
        modal_profiles, expanded = _modal.fit(table, modal_kinds)
        if modal_problems:
            problems_in.update(modal_problems)
            table = table.drop_columns(list(modal_problems))
        table = expanded.table
        overrides.update(expanded.kinds)
        replaced = {*modal_kinds, *expanded.kinds, *expanded.counts}
        guesses = {n: g for n, g in guesses.items() if n not in replaced}
        presorted = {n: v for n, v in presorted.items() if n not in replaced}
        names = [n for n in table.column_names if n not in skip]
        names += [n for n in problems_in if n not in skip and n not in names]

        def plan_one(name: str) -> tuple[ColumnPlan, _Cast | None]:
            override, problem = overrides.get(name), problems_in.get(name)
            return _plan(name, table, override, problem, role, guesses.get(name))

        planned = map_columns(plan_one, names, inference_size(table, names, guesses))
        plans: dict[str, ColumnPlan] = {}
        cast: dict[str, _Cast] = {}
        for name, (plan, values) in zip(names, planned, strict=True):
            plans[name] = plan
            if values is not None:
                cast[name] = values

        def engine_values(name: str) -> EngineValues:
            kind = plans[name].kind
            assert kind is not None  # cast columns have a kind
            if kind is FeatureKind.NUMERIC and name in presorted:
                return presorted[name]
            column, value_counts = cast[name]
            return _engine_values(column, kind, role, value_counts)

        # Only categorical columns without value counts still need a pass here.
        counting = sum(
            len(column)
            for name, (column, counted) in cast.items()
            if counted is None and KINDS[plans[name].kind or FeatureKind.NUMERIC].drift != "numeric"
        )
        converted = map_columns(engine_values, list(cast), counting)
        engine = dict(zip(cast, converted, strict=True))
        for name, counts in expanded.counts.items():
            plans[name] = _counted_plan(name, counts)
            engine[name] = counts
        # Columns with a value are fitted (every engine column has a kind).
        fit_kinds: dict[str, FeatureKind | str] = {
            n: kind
            for n in engine
            if not plans[n].all_missing and (kind := plans[n].kind) is not None
        }
        profile = ReferenceProfile.fit({n: engine[n] for n in fit_kinds}, fit_kinds, bins=bins)
        summarised = map_columns(
            lambda item: _summary(plans[item[0]], item[1], profile),
            list(engine.items()),
            # Only columns not fitted already (not sorted, not counted) need a pass here.
            sum(
                len(values)
                for name, values in engine.items()
                if isinstance(values, pa.ChunkedArray)
                and not (
                    name in profile.features and isinstance(profile.column(name), NumericReference)
                )
            ),
        )
        summaries = dict(zip(engine, summarised, strict=True))
        prediction = None
        if prediction_column and prediction_column in table.column_names:
            prediction = cls.fit(table.select([prediction_column]), bins=bins, role=role)
        return cls(
            plans, profile, summaries, table.num_rows, digest=digest, prediction=prediction,
            bins=bins, modal=modal_profiles,
        )  # fmt: skip

    @classmethod
    def fit_baseline(cls, table: pa.Table, *, digest: str | None = None) -> Reference:
        """A registered baseline: its features, and its ``prediction`` column as the
        reference of prediction drift (``label``/``target`` are neither). A prediction that
        holds classes (strings, booleans, at most 20 integer values) is fitted as categorical,
        with integral numbers as class names (``1.0`` → ``"1"``); a regressor's stays numeric."""
        if PREDICTION_COLUMN in table.column_names:
            column = table.column(PREDICTION_COLUMN)
            if is_class_column(column) and not pa.types.is_string(column.type):
                index = table.column_names.index(PREDICTION_COLUMN)
                table = table.set_column(index, PREDICTION_COLUMN, class_labels(column))
        return cls.fit(
            table, digest=digest, prediction_column=PREDICTION_COLUMN, exclude=tuple(TARGET_COLUMNS)
        )

    # ------------------------------------------------------------------ what it holds

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.plans)

    @property
    def kinds(self) -> dict[str, FeatureKind | None]:
        """Each feature's kind (``None``: no kind keeneye tests, or not known yet)."""
        return {n: (p.kind if p.problem is None else None) for n, p in self.plans.items()}

    @property
    def tested(self) -> dict[str, FeatureKind]:
        """The features whose kind the drift tests and summaries take."""
        return {n: k for n, k in self.kinds.items() if k is not None and k.testable}

    @property
    def derived(self) -> frozenset[str]:
        """Tested features computed from other columns of the current data — a text's OOV
        rate and token distribution, from its raw values or its token sketch — and so never
        columns of a window themselves."""
        return frozenset(
            descriptor_name(p.feature, suffix)
            for p in self.modal
            if isinstance(p, _modal.TextProfile)
            for suffix in ("oov", "top_tokens")
        )

    @property
    def row_names(self) -> tuple[str, ...]:
        """The name of every drift row a comparison with this reference gives: its features
        (descriptors included) and each embedding's two tests (``emb``, ``emb.classifier``)."""
        tests = tuple(
            name
            for p in self.modal
            if isinstance(p, _modal.EmbeddingProfile)
            for name in (p.feature, descriptor_name(p.feature, _modal.CLASSIFIER))
        )
        return (*self.features, *tests)

    @property
    def counted(self) -> frozenset[str]:
        """Tested features that exist only as counts, never as a column (a text's token
        distribution)."""
        return frozenset(n for n in self.derived if n.endswith(".top_tokens"))

    def expand(self, table: pa.Table) -> pa.Table:
        """``table`` with its text, image and embedding columns as the descriptor columns the
        reference tests (see :mod:`keeneye.profile.modal`); the token distributions, which
        are counts, are not columns."""
        return _modal.expand(table, self.modal).table if self.modal else table

    def sorted_values(self, feature: str) -> np.ndarray:
        """The finite reference values of a numeric feature, sorted (for histograms)."""
        fitted = self.profile.column(feature) if feature in self.profile.features else None
        if isinstance(fitted, NumericReference):
            return fitted.sorted_values
        summary = self.summaries.get(feature)
        if summary is None or summary.min is None or not summary.valid:
            return np.empty(0)
        # Not fitted: constant (every finite value is the minimum) or empty.
        return np.full(summary.valid, float(summary.min))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reference):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Reference(features={list(self.plans)!r}, rows={self.rows}, digest={self.digest!r})"

    # ------------------------------------------------------------------ comparing

    def prepare(self, table: pa.Table, options: CompareOptions | None = None) -> Prepared:
        """Plan every feature against ``table``: cast it to the reference's kind, or say why
        it cannot be compared (missing on a side, type mismatch, every value missing …)."""
        options = options or CompareOptions()
        expanded = _modal.expand(table, self.modal) if self.modal else None
        counted: dict[str, PreparedColumn] = {}
        if expanded is not None:
            table = expanded.table
            counted = {
                n: PreparedColumn(FeatureKind.CATEGORICAL, c, 0) for n, c in expanded.counts.items()
            }
        names = _names(options, self.plans, table)
        if self.modal:
            names = _with_descriptors(names, self.modal, self.plans)
        names += [n for n in counted if n not in names]
        untested: list[FeatureDrift] = []
        columns: dict[str, PreparedColumn] = {}
        cast = [n for n in names if n not in counted]
        done = map_columns(
            lambda name: self._prepare_one(name, table, options), cast, casting_size(table, cast)
        )
        prepared = dict(zip(cast, done, strict=True))
        for name in names:
            if name in counted:
                columns[name] = counted[name]
                continue
            planned = prepared[name]
            if isinstance(planned, FeatureDrift):
                untested.append(planned)
                continue
            columns[name] = planned
            if planned.untested is not None:
                untested.append(planned.untested)

        # Numeric columns stay in Arrow: the engine sorts each one in its own job (and hands it
        # to the summaries there), so a wide window is never held sorted all at once;
        # categorical ones are counted there too, in the same pass over the columns.
        return Prepared(table.num_rows, columns, tuple(untested), expanded)

    def compare(self, table: pa.Table, options: CompareOptions | None = None) -> Report:
        """Drift of ``table`` against this reference, feature by feature (and of its
        ``prediction`` column when the reference has one), as a :class:`Report`."""
        options = options or CompareOptions()
        return self.compare_prepared(self.prepare(table, options), options, table)

    def compare_prepared(
        self,
        prepared: Prepared,
        options: CompareOptions,
        table: pa.Table | None = None,
        *,
        after_column: ColumnHook | None = None,
    ) -> Report:
        """:meth:`compare` for data that :meth:`prepare` planned already.

        ``after_column`` is called on the engine's worker thread with each tested column's
        name and values (numeric ones sorted) right after its test (see
        :func:`keeneye.stats.drift.detect_drift_with`)."""
        tested = {n: c for n, c in prepared.columns.items() if c.untested is None}
        modal = compare_modal(self, prepared, options, len(tested))
        options = modal.options
        profile = ReferenceProfile(
            {n: self._fitted(n, c.kind) for n, c in tested.items()},
            {n: c.kind for n, c in tested.items()},
            self.bins,
        )
        results = detect_drift_with(
            profile,
            {n: c.current for n, c in tested.items()},
            _pins_for(options.methods, tested),
            _thresholds_for(options.thresholds, tested),
            options.drift,
            after_column,
        )
        ordered = sorted((*results.features, *prepared.untested, *modal.rows), key=sort_key)
        n_tested = results.n_tested + sum(1 for r in modal.rows if r.tested)
        n_drifted = results.n_drifted + sum(1 for r in modal.rows if r.drifted)
        prediction: FeatureDrift | None = None
        if self.prediction is not None and table is not None:
            column = self.prediction.features[0] if self.prediction.features else None
            if column is not None and column in table.column_names:
                nested = self.prediction.compare(
                    table.select([column]),
                    CompareOptions(
                        drift=options.prediction_drift or options.drift, check_types=False
                    ),
                )
                if nested.drift is not None and nested.drift.features:
                    prediction = nested.drift.features[0]
        section = DriftSection(
            features=tuple(ordered),
            dataset_drifted=results.dataset_drifted or any(r.drifted for r in modal.rows),
            drift_share=n_drifted / n_tested if n_tested else 0.0,
            n_tested=n_tested,
            n_drifted=n_drifted,
            correction=results.correction,
            alpha=results.alpha,
            options=options.drift,
            events=prepared.rows,
            n_current=prepared.rows,
            prediction=prediction,
            modal=modal.section,
        )
        return Report(drift=section)

    def _fitted(self, name: str, kind: FeatureKind) -> ColumnReference:
        if name in self.profile.features and self.profile.kind(name) is kind:
            return self.profile.column(name)
        return UntestedReference("no fitted reference for this column", 0)

    def _prepare_one(
        self, name: str, table: pa.Table, options: CompareOptions
    ) -> PreparedColumn | FeatureDrift:
        role = options.role
        plan = self.plans.get(name)
        if plan is None:
            return _untested(name, None, "column missing in reference data")
        if name not in table.column_names and name not in options.unconvertible:
            return _untested(name, plan.kind, f"column missing in {role} data")
        if plan.problem is not None:
            return _untested(name, plan.kind, plan.problem)
        if name in options.unconvertible:
            return _untested(name, plan.kind, f"{options.unconvertible[name]} in the {role} data")
        column = table.column(name)
        kind = plan.kind
        if kind is None:  # nothing in the reference: the current data says which kind
            guess = infer_kind(column)
            if guess.kind is None or guess.untested is not None:
                return _untested(name, guess.kind, guess.untested or "unsupported type")
            kind = guess.kind
        elif options.check_types and not plan.pinned:
            mismatch = _type_mismatch(plan, column)
            if mismatch is not None:
                return _untested(name, kind, mismatch)
        cast = as_kind(column, kind)
        if isinstance(cast, str):
            return _untested(name, kind, f"{cast} in the {role} data")
        untested = None
        n_ref = plan.length - plan.nulls
        n_cur = cast.length() - cast.null_count
        if plan.all_missing or plan.kind is None:
            reason = f"every value is missing in the reference data ({plan.length} rows)"
            untested = _untested(name, kind, reason, n_ref, n_cur)
        elif len(cast) and cast.null_count == len(cast):
            # Still summarised: the quality check shows the jump in missing values.
            reason = f"every value is missing in the {role} data ({len(cast)} rows)"
            untested = _untested(name, kind, reason, n_ref, n_cur)
        return PreparedColumn(kind, cast, cast.null_count, untested)

    # ------------------------------------------------------------------ serialising

    def to_bytes(self) -> bytes:
        """The versioned binary form (an ``.npz`` archive; see the module docstring)."""
        arrays: dict[str, np.ndarray] = {}
        header = self._header(arrays, "")
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        sink = io.BytesIO()
        np.savez(sink, **arrays)  # type: ignore[arg-type]
        return sink.getvalue()

    def _header(self, arrays: dict[str, np.ndarray], prefix: str) -> dict[str, Any]:
        fitted: dict[str, Any] = {}
        for i, name in enumerate(self.profile.features):
            column = self.profile.column(name)
            if isinstance(column, NumericReference):
                key = f"{prefix}v{i}"
                arrays[key] = column.sorted_values
                fitted[name] = {"type": "numeric", "values": key, "counts": encode(column.counts)}
            elif isinstance(column, CategoricalReference):
                fitted[name] = {
                    "type": "categorical",
                    "counts": [[encode(k), int(v)] for k, v in column.counts.items()],
                    "missing": column.missing,
                    "total": column.total,
                    "main_type": column.main_type,
                }
            else:
                fitted[name] = {"type": "untested", "reason": column.reason, "n": column.n}
        return {
            "format": REFERENCE_FORMAT,
            "rows": self.rows,
            "digest": self.digest,
            "bins": self.bins,
            "plans": [encode(p) for p in self.plans.values()],
            "kinds": {n: self.profile.kind(n).value for n in self.profile.features},
            "fitted": fitted,
            "summaries": {n: encode(s) for n, s in self.summaries.items()},
            "prediction": (
                None if self.prediction is None else self.prediction._header(arrays, prefix + "p")
            ),
            "modal": modal_header(self.modal, arrays, prefix),
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> Reference:
        """Read :meth:`to_bytes` back; a newer format is refused with the fix."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        header = json.loads(arrays.pop("header").tobytes().decode())
        return cls._from_header(header, arrays)

    @classmethod
    def _from_header(cls, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Reference:
        version = header.get("format")
        if version != REFERENCE_FORMAT:
            raise InputError(
                f"stored reference has format {version!r}, this keeneye reads format "
                f"{REFERENCE_FORMAT}; register the baseline again (or upgrade keeneye)"
            )
        bins = int(header["bins"])
        columns: dict[str, ColumnReference] = {}
        for name, info in header["fitted"].items():
            if info["type"] == "numeric":
                # Stored with the merge's +inf behind it: the merge then reads it in place
                # (no second, padded copy of every reference column on the first comparison).
                stored = np.asarray(arrays[info["values"]], dtype=np.float64)
                ordered = with_sentinel(stored)[: stored.size]
                columns[name] = _numeric_from_sorted(
                    ordered, decode(NumericCounts, info["counts"]), bins
                )
            elif info["type"] == "categorical":
                counts = {k: int(v) for k, v in info["counts"]}
                columns[name] = CategoricalReference(
                    counts=counts,
                    count_vector=np.fromiter(counts.values(), np.float64, len(counts)),
                    missing=int(info["missing"]),
                    total=int(info["total"]),
                    main_type=str(info["main_type"]),
                )
            else:
                columns[name] = UntestedReference(str(info["reason"]), int(info["n"]))
        kinds = {n: FeatureKind(k) for n, k in header["kinds"].items()}
        plans = {p["name"]: decode(ColumnPlan, p) for p in header["plans"]}
        summaries = {n: decode(ColumnSummary, s) for n, s in header["summaries"].items()}
        prediction = header.get("prediction")
        return cls(
            plans,
            ReferenceProfile(columns, kinds, bins),
            summaries,
            int(header["rows"]),
            digest=header.get("digest"),
            prediction=None if prediction is None else cls._from_header(prediction, arrays),
            bins=bins,
            modal=modal_from_header(header.get("modal") or [], arrays),
        )


# --------------------------------------------------------------------------- helpers


def with_nulls(summary: ColumnSummary, nulls: int) -> ColumnSummary:
    """Split the engine's NaN count into Arrow nulls (missing) and real NaN values.

    Numeric columns reach the engine as float64 with nulls written as NaN (the fast path);
    Arrow knows how many of those NaN were nulls.
    """
    if not numeric(summary.kind) or not nulls:
        return summary
    return replace(summary, missing=summary.missing + nulls, nan=summary.nan - nulls)


def sort_key(result: FeatureDrift) -> tuple[int, float, str]:
    """The engine's order: drifted, then by effect size, then not tested."""
    rank = {True: 0, False: 1, None: 2}[result.drifted]
    effect = result.effect_size if result.effect_size is not None else -math.inf
    return rank, -effect, result.feature


def sorted_finite(values: object) -> tuple[np.ndarray, NumericCounts]:
    """Sorted finite values of a numeric column and the counts of the rest."""
    numbers = sorted_numbers(values, "values")
    return numbers.values, numbers.counts


#: A column cast to its kind, with the value counts kind inference took of a string column.
_Cast: TypeAlias = tuple[pa.ChunkedArray, pa.StructArray | None]


def _plan(
    name: str,
    table: pa.Table,
    override: FeatureKind | None,
    unconvertible: str | None,
    role: str,
    guess: KindGuess | None = None,
) -> tuple[ColumnPlan, _Cast | None]:
    """The column's plan and, when it can be fitted, its values cast to its kind (with the
    value counts kind inference took of a string column, for counting its categories).
    ``guess``: the column's :func:`~keeneye.tables.infer_kind`, when already made."""
    if unconvertible is not None or name not in table.column_names:
        reason = f"{unconvertible or 'not readable'} in the {role} data"
        return ColumnPlan(name, override, "object", "object", override is not None, reason), None
    column = table.column(name)
    family = type_family(column.type)
    base = ColumnPlan(
        name,
        override,
        str(column.type),
        family,
        pinned=override is not None,
        length=len(column),
        nulls=column.null_count,
    )
    value_counts = None
    if override is not None:
        if not override.testable:
            return replace(base, problem=untested_reason(override)), None
        kind = override
    elif family == "null":
        return replace(base, kind=None), None
    else:
        guess = guess or infer_kind(column)
        if guess.kind is None or guess.untested is not None:
            problem = guess.untested or "unsupported type"
            return replace(base, kind=guess.kind, problem=problem), None
        kind, value_counts = guess.kind, guess.value_counts
    cast = as_kind(column, kind)
    if isinstance(cast, str):
        return replace(base, kind=kind, problem=f"{cast} in the {role} data"), None
    return replace(base, kind=kind), (cast, value_counts)


def _with_descriptors(
    names: Sequence[str], profiles: Sequence[_modal.ModalProfile], plans: Mapping[str, ColumnPlan]
) -> list[str]:
    """``names`` with each text or image feature replaced by its descriptor columns (an
    embedding is tested as a whole, outside the engine)."""
    by_feature = {p.feature: p for p in profiles}
    out: list[str] = []
    for name in names:
        profile = by_feature.get(name)
        if profile is None:
            out.append(name)
        else:
            out.extend(n for n in _modal.descriptor_kinds(profile) if n in plans)
    return list(dict.fromkeys(out))


def _counted_plan(name: str, counts: CategoryCounts) -> ColumnPlan:
    """The plan of a column that exists only as counts (a text's token distribution)."""
    return ColumnPlan(
        name, FeatureKind.CATEGORICAL, "string", "string", pinned=True, length=counts.total
    )


def _summary(
    plan: ColumnPlan, values: pa.ChunkedArray | CategoryCounts, profile: ReferenceProfile
) -> ColumnSummary:
    assert plan.kind is not None  # planned columns have a kind
    if KINDS[plan.kind].summary == "numeric":  # the table of kinds (keeneye.kinds)
        fitted = profile.column(plan.name) if plan.name in profile.features else None
        if isinstance(fitted, NumericReference):
            summary = summarize_sorted(fitted.sorted_values, fitted.counts, moments=fitted.moments)
        else:
            summary = summarize_sorted(*sorted_finite(values))
        return with_nulls(summary, plan.nulls)
    return summarize(values, plan.kind)


def _numeric_from_sorted(ordered: np.ndarray, counts: NumericCounts, bins: int) -> NumericReference:
    """A fitted numeric column from its sorted finite values (what ``ReferenceProfile.fit``
    computes after sorting)."""
    return numeric_reference(ordered, counts, bins)


def _engine_values(
    column: pa.ChunkedArray,
    kind: FeatureKind,
    role: str,
    value_counts: pa.StructArray | None = None,
    *,
    sort: bool = False,
) -> EngineValues:
    # Numeric reference columns stay in Arrow (float64): the profile sorts each one as it fits
    # it; current columns are sorted here, once, for the engine and the summaries. Categories
    # are counted once in Arrow (or taken from the count kind inference made).
    if KINDS[kind].drift == "numeric":
        return sorted_numbers(column, f"the {role} column") if sort else column
    if value_counts is not None and KINDS[kind].arrow_type == pa.string():
        return counts_from_value_counts(value_counts, len(column))
    return category_counts(column, f"the {role} column")


def _untested(
    name: str, kind: FeatureKind | None, reason: str, n_ref: int = 0, n_cur: int = 0
) -> FeatureDrift:
    return FeatureDrift.not_tested(name, kind, AUTO, reason, n_ref, n_cur)


def _type_mismatch(plan: ColumnPlan, cur: pa.ChunkedArray) -> str | None:
    ref_family, cur_family = plan.family, type_family(cur.type)
    if ref_family == cur_family or "null" in (ref_family, cur_family):
        return None
    detail = ""
    if ref_family == "numeric" and cur_family == "string":
        n_bad, total, example = non_numbers(cur)
        if n_bad:
            detail = f" ({n_bad} of {total} current values are not numbers, e.g. {example!r})"
    return (
        f"type mismatch: {plan.arrow_type} in the reference, {cur.type} in the current data"
        f"{detail}; fix the data or set the column's kind"
    )


def _names(options: CompareOptions, plans: Mapping[str, ColumnPlan], table: pa.Table) -> list[str]:
    if options.features is not None:
        return list(options.features)
    names = list(plans)
    if options.reference_features_only:
        return names
    extra = [*table.column_names, *options.unconvertible]
    return names + [c for c in dict.fromkeys(extra) if c not in plans]


def _pins_for(methods: Mapping[str, str], columns: Mapping[str, PreparedColumn]) -> dict[str, str]:
    """Per-feature methods of the tested columns; the ``"*"`` default applies where its kind
    allows (a numeric-only method leaves categorical features on their default)."""
    default = methods.get(ALL_FEATURES)
    pinned = {n: m for n, m in methods.items() if n != ALL_FEATURES and n in columns}
    if default is None:
        return pinned
    applies = [
        name
        for name, column in columns.items()
        if default == AUTO or default in names_for(column.kind)
    ]
    if columns and not applies:
        kinds = ", ".join(sorted({c.kind.value for c in columns.values()}))
        raise InputError(f"method {default!r} applies to none of the tested features ({kinds})")
    return {**dict.fromkeys(applies, default), **pinned}


def _thresholds_for(
    thresholds: Mapping[str, float], columns: Mapping[str, PreparedColumn]
) -> dict[str, float]:
    default = thresholds.get(ALL_FEATURES)
    everyone = dict.fromkeys(columns, default) if default is not None else {}
    pinned = {n: v for n, v in thresholds.items() if n != ALL_FEATURES and n in columns}
    return {**everyone, **pinned}


__all__ = [
    "PREDICTION_COLUMN",
    "REFERENCE_FORMAT",
    "TARGET_COLUMNS",
    "CompareOptions",
    "Prepared",
    "PreparedColumn",
    "Reference",
    "sort_key",
    "sorted_finite",
    "with_nulls",
]
