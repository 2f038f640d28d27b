"""The column-vectorised drift engine: ``detect_drift(profile, current)``.

The decision rule (documented in docs/statistics.md):

* the effective sample size n_eff = n_ref·n_cur/(n_ref+n_cur) is at most
  ``options.effect_size_from_n`` → the p-value decides: drifted when p < alpha
  (KS for numeric, chi-square for categorical/boolean features);
* above it → the effect size decides: drifted when the distance (normed Wasserstein for
  numeric, Jensen–Shannon for categorical) is at least its threshold, and — with
  ``require_significance`` — the test is also significant;
* a pinned p-value method always decides by its p-value, a pinned distance by its value;
  a pinned threshold replaces alpha or the distance threshold of the rule that decides.

Work per window: sort each numeric current column once, locate its distinct values in the
stored sorted reference with one binary search (O(m log n)), read KS, Wasserstein and bin
counts from those counts and the stored ECDF integral; count categories with a hash table.
KS p-values of all asymptotic columns come from one vectorised ``kstwo.sf`` call.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import ColumnError, InputError
from keeneye.schema import FeatureKind
from keeneye.stats._clean import (
    ColumnValues,
    SortedNumbers,
    category_counts,
    column_size,
    sorted_numbers,
)
from keeneye.stats._ecdf import compare
from keeneye.stats._parallel import map_columns
from keeneye.stats.contingency import aligned_counts, proportion_z_from_counts, table_test
from keeneye.stats.correction import adjust_p_values
from keeneye.stats.distance import FROM_COUNTS, bin_counts
from keeneye.stats.ecdf_tests import anderson_darling_arrays, cramer_von_mises_arrays
from keeneye.stats.ks import ks_p_values
from keeneye.stats.methods import BUILTIN, METHODS, names_for, p_value_methods
from keeneye.stats.options import AUTO, DriftOptions
from keeneye.stats.profile import (
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    UntestedReference,
    categorical_problem,
    numeric_problem,
)
from keeneye.stats.results import (
    DECIDED_BY_EFFECT_SIZE,
    DECIDED_BY_P_VALUE,
    DriftResults,
    FeatureDrift,
)

FloatArray = NDArray[np.float64]


@dataclass
class _Pending:
    """A feature's numbers before p-values are batched and the rule is applied."""

    feature: str
    kind: FeatureKind
    rule: str  # "auto" or "pinned"
    method: str
    n_reference: int
    n_current: int
    effect_method: str
    effect_size: float
    statistic: float | None = None
    p_value: float | None = None
    ks_pending: bool = False  # statistic is a raw KS D awaiting its p-value
    details: dict[str, Any] = field(default_factory=dict)


def _not_tested(
    feature: str, kind: FeatureKind, method: str, reason: str, n_ref: int = 0, n_cur: int = 0
) -> FeatureDrift:
    return FeatureDrift.not_tested(feature, kind, method, reason, n_ref, n_cur)


def _allowed_methods(kind: FeatureKind) -> tuple[str, ...]:
    return names_for(kind)


def _check_pins(
    profile: ReferenceProfile,
    methods: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> None:
    for name, method in methods.items():
        kind = profile.kind(name) if name in profile.features else None
        if kind is None:
            raise ColumnError(name, "has a pinned method but is not in the reference profile")
        allowed = _allowed_methods(kind)
        if method != AUTO and method not in allowed:
            raise ColumnError(
                name,
                f"method {method!r} does not apply to {kind.value} features; "
                f"use one of {', '.join((AUTO, *allowed))}",
            )
    for name, value in thresholds.items():
        if name not in profile.features:
            raise ColumnError(name, "has a pinned threshold but is not in the reference profile")
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ColumnError(name, f"threshold must be a number > 0, got {value!r}")


def _numeric_pending(
    feature: str,
    ref: NumericReference,
    values: ColumnValues,
    method: str,
    options: DriftOptions,
) -> _Pending | FeatureDrift:
    kind = FeatureKind.NUMERIC
    checked = numeric_problem(values, "current", sort=True)
    if isinstance(checked, str):
        return _not_tested(feature, kind, method, checked, ref.sorted_values.size)
    b, counts = checked
    a = ref.sorted_values
    details: dict[str, Any] = {}
    if counts.dropped:
        details["dropped_current"] = counts.to_dict()
    if ref.counts.dropped:
        details["dropped_reference"] = ref.counts.to_dict()
    rule = AUTO if method == AUTO else "pinned"
    effect_method = (
        method if method in FROM_COUNTS or method == "wasserstein" else (options.numeric_effect)
    )
    merged = compare(ref.prepared, b)
    if effect_method == "wasserstein":
        # W₁ / σ in the comparison's units: exact, and finite even for huge values.
        effect = merged.wasserstein_scaled / (ref.std / merged.scale)
        details["wasserstein_raw"] = merged.wasserstein
    else:
        effect = FROM_COUNTS[effect_method](ref.bin_counts, bin_counts(b, ref.edges))
        details["bins"] = int(ref.edges.size + 1)
    pending = _Pending(feature, kind, rule, "ks", a.size, b.size, effect_method, effect)
    pending.details = details
    if method in (AUTO, "ks") or method not in p_value_methods():
        # KS is also computed for pinned distances: it is free here and feeds the report.
        pending.statistic, pending.ks_pending = merged.ks, True
    if method == "anderson_darling":
        pending.statistic, pending.p_value, extra = anderson_darling_arrays(a, b)
        pending.method = method
        details.update(extra)
    elif method == "cramer_von_mises":
        if min(a.size, b.size) < 2:
            reason = "cramer_von_mises needs at least 2 finite values on each side"
            return _not_tested(feature, kind, method, reason, a.size, b.size)
        pending.statistic, pending.p_value, extra = cramer_von_mises_arrays(a, b)
        pending.method = method
        details.update(extra)
    return pending


def _categorical_pending(
    feature: str,
    kind: FeatureKind,
    ref: CategoricalReference,
    values: ColumnValues,
    method: str,
    options: DriftOptions,
) -> _Pending | FeatureDrift:
    checked = categorical_problem(values, "current")
    n_ref = ref.total - ref.missing
    if isinstance(checked, str):
        return _not_tested(feature, kind, method, checked, n_ref)
    cur_type = next(iter(checked.types))
    if cur_type != ref.main_type:
        return _not_tested(
            feature,
            kind,
            method,
            f"type mismatch: reference values are {ref.main_type}, current values are {cur_type}",
            n_ref,
            checked.present,
        )
    categories, ref_counts, cur_counts, new = aligned_counts(ref.counts, checked.counts)
    if len(categories) == 1:
        return _not_tested(
            feature,
            kind,
            method,
            f"constant column (only {categories[0]!r} on both sides)",
            n_ref,
            checked.present,
        )
    details: dict[str, Any] = {"categories": len(categories), "new_categories": new}
    if ref.missing or checked.missing:
        details["missing_reference"] = ref.missing
        details["missing_current"] = checked.missing
    rule = AUTO if method == AUTO else "pinned"
    effect_method = method if method in FROM_COUNTS else options.categorical_effect
    effect = FROM_COUNTS[effect_method](ref_counts, cur_counts)
    test = "chi_square" if method in (AUTO, *FROM_COUNTS) else method
    if test == "proportion_z":
        if len(categories) > 2:
            return _not_tested(
                feature,
                kind,
                method,
                f"proportion_z needs a binary column, got {len(categories)} categories",
                n_ref,
                checked.present,
            )
        result = proportion_z_from_counts(ref.counts, checked.counts)
        statistic, p_value = result.statistic, result.p_value
        details.update(result.details)
    else:
        statistic, p_value, dof = table_test(
            ref_counts,
            cur_counts,
            log_likelihood=test == "g_test",
            correction=options.chi_square_correction,
        )
        details["dof"] = dof
    pending = _Pending(feature, kind, rule, test, n_ref, checked.present, effect_method, effect)
    pending.statistic, pending.p_value, pending.details = statistic, p_value, details
    return pending


def _registered(
    feature: str,
    kind: FeatureKind,
    ref: NumericReference | CategoricalReference,
    values: ColumnValues,
    method: str,
    threshold: float | None,
    options: DriftOptions,
) -> FeatureDrift:
    """A method added to the table (no fast path): its function over both sides' finite
    values (numeric) or labels (categorical), decided by its own output and threshold."""
    spec = METHODS[method]
    if isinstance(ref, NumericReference):
        checked = numeric_problem(values, "current")
        if isinstance(checked, str):
            return _not_tested(feature, kind, method, checked, ref.sorted_values.size)
        reference: Any = ref.sorted_values
        current: Any = checked[0]
    else:
        counted = categorical_problem(values, "current")
        if isinstance(counted, str):
            return _not_tested(feature, kind, method, counted, ref.total - ref.missing)
        reference = np.repeat(np.array(list(ref.counts), dtype=object), list(ref.counts.values()))
        current = np.repeat(
            np.array(list(counted.counts), dtype=object), list(counted.counts.values())
        )
    result = spec.function(kind)(reference, current)
    details = {"rule": "pinned", **dict(result.details)}
    if spec.output == "p_value":
        limit = options.alpha if threshold is None else threshold
        p_value = result.p_value
        if p_value is None or not math.isfinite(p_value) or not math.isfinite(result.statistic):
            return _not_tested(feature, kind, method, "the statistic is not finite")
        drifted, decided_by, effect, effect_method = p_value < limit, DECIDED_BY_P_VALUE, None, None
    else:
        limit = spec.default_threshold if threshold is None else threshold
        if not math.isfinite(result.statistic):
            return _not_tested(feature, kind, method, "the statistic is not finite")
        p_value, decided_by = None, DECIDED_BY_EFFECT_SIZE
        drifted, effect, effect_method = result.statistic >= limit, result.statistic, method
        details["requires_significance"] = False
    return FeatureDrift(
        feature=feature,
        kind=kind,
        method=method,
        statistic=float(result.statistic),
        p_value=p_value,
        effect_size=effect,
        effect_method=effect_method,
        threshold=float(limit),
        decided_by=decided_by,
        drifted=bool(drifted),
        reason=None,
        n_reference=result.n_reference,
        n_current=result.n_current,
        details=details,
    )


def _finish(
    pending: _Pending, method: str, threshold: float | None, options: DriftOptions
) -> FeatureDrift:
    n1, n2 = pending.n_reference, pending.n_current
    n_eff = n1 * n2 / (n1 + n2)
    details = dict(pending.details)
    details["rule"] = pending.rule
    details["n_effective"] = n_eff
    p_value = pending.p_value
    statistic = pending.statistic
    result_method = pending.method
    if method == AUTO:
        by_effect = n_eff > options.effect_size_from_n
    else:
        by_effect = method not in p_value_methods()
    if not by_effect:
        limit = options.alpha if threshold is None else threshold
        if limit >= 1.0:
            raise ColumnError(pending.feature, f"a p-value threshold must be < 1, got {limit}")
        assert p_value is not None  # every p-value method produced one
        drifted = p_value < limit
        decided_by = DECIDED_BY_P_VALUE
    else:
        limit = options.threshold_for(pending.effect_method) if threshold is None else threshold
        gate = method == AUTO and options.require_significance
        drifted = pending.effect_size >= limit and (
            not gate or (p_value is not None and p_value < options.alpha)
        )
        details["requires_significance"] = gate
        decided_by = DECIDED_BY_EFFECT_SIZE
        if method != AUTO:  # a pinned distance is the method itself
            details["test"] = {"method": result_method, "statistic": statistic, "p_value": p_value}
            result_method, statistic, p_value = method, pending.effect_size, None
    for number in (statistic, p_value, pending.effect_size):
        if number is not None and not math.isfinite(number):
            return _not_tested(
                pending.feature, pending.kind, method, "the statistic is not finite", n1, n2
            )
    return FeatureDrift(
        feature=pending.feature,
        kind=pending.kind,
        method=result_method,
        statistic=statistic,
        p_value=p_value,
        effect_size=pending.effect_size,
        effect_method=pending.effect_method,
        threshold=float(limit),
        decided_by=decided_by,
        drifted=bool(drifted),
        reason=None,
        n_reference=n1,
        n_current=n2,
        details=details,
    )


def _sort_key(result: FeatureDrift) -> tuple[int, float, str]:
    rank = {True: 0, False: 1, None: 2}[result.drifted]
    effect = result.effect_size if result.effect_size is not None else -math.inf
    return rank, -effect, result.feature


def _with_correction(results: list[FeatureDrift], options: DriftOptions) -> list[FeatureDrift]:
    family = [
        i
        for i, r in enumerate(results)
        if r.tested
        and r.p_value is not None
        and (r.decided_by == DECIDED_BY_P_VALUE or r.details.get("requires_significance"))
    ]
    adjusted = adjust_p_values([results[i].p_value or 0.0 for i in family], options.correction)
    out = list(results)
    for i, p_adj in zip(family, adjusted, strict=True):
        r = results[i]
        assert r.threshold is not None
        if r.decided_by == DECIDED_BY_P_VALUE:
            verdict = bool(p_adj < r.threshold)
        else:
            assert r.effect_size is not None
            verdict = bool(r.effect_size >= r.threshold and p_adj < options.alpha)
        out[i] = replace(r, p_value_adjusted=float(p_adj), drifted_adjusted=verdict)
    for i, r in enumerate(out):
        if r.tested and r.drifted_adjusted is None:
            out[i] = replace(r, drifted_adjusted=r.drifted)
    return out


#: Called with each tested column's name and the values the engine read (numeric columns as
#: their :class:`~keeneye.stats._clean.SortedNumbers`), on the worker thread, right after the
#: column's test: callers summarise the column there while its sorted values are at hand.
ColumnHook = Callable[[str, ColumnValues], None]


def detect_drift(
    profile: ReferenceProfile,
    current: Mapping[str, ColumnValues],
    *,
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    options: DriftOptions | None = None,
) -> DriftResults:
    """Test every feature of ``profile`` for drift in ``current``.

    Parameters
    ----------
    profile
        The fitted reference (:meth:`ReferenceProfile.fit`), reused across windows.
    current
        Column name → 1-D array, same conventions as the reference. Columns missing on one
        side are reported as not tested.
    methods
        Pinned method per feature (``"auto"``, a test such as ``"ks"``/``"chi_square"`` or a
        distance such as ``"psi"``).
    thresholds
        Pinned threshold per feature: alpha for a p-value decision, the distance threshold
        for an effect-size decision.
    options
        The rule's settings, :class:`DriftOptions` by default.

    Returns
    -------
    DriftResults
        Drifted features first, then by effect size; never a NaN verdict.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> profile = ReferenceProfile.fit({"x": rng.normal(0, 1, 20_000)}, {"x": "numeric"})
    >>> shifted = detect_drift(profile, {"x": rng.normal(0.5, 1, 10_000)})
    >>> r = shifted["x"]
    >>> r.drifted, r.decided_by, r.effect_method, r.threshold
    (True, 'effect_size', 'wasserstein', 0.1)
    >>> detect_drift(profile, {"x": rng.normal(0, 1, 300)})["x"].decided_by
    'p_value'
    """
    return detect_drift_with(profile, current, methods, thresholds, options, None)


def detect_drift_with(
    profile: ReferenceProfile,
    current: Mapping[str, ColumnValues],
    methods: Mapping[str, str] | None,
    thresholds: Mapping[str, float] | None,
    options: DriftOptions | None,
    after_column: ColumnHook | None,
) -> DriftResults:
    """:func:`detect_drift`, calling ``after_column`` for every column the engine tests.

    Each numeric column is sorted once, in its worker's job, and handed to the hook; it is
    dropped when the job ends, so a wide window is never held sorted all at once.
    """
    options = options or DriftOptions()
    methods = dict(methods or {})
    thresholds = dict(thresholds or {})
    _check_pins(profile, methods, thresholds)
    finished: list[FeatureDrift] = []
    jobs: list[tuple[str, FeatureKind, Any, str]] = []
    for name in profile.features:
        kind = profile.kind(name)
        ref = profile.column(name)
        method = methods.get(name, AUTO)
        if isinstance(ref, UntestedReference):
            finished.append(_not_tested(name, kind, method, ref.reason, ref.n))
        elif name not in current:
            finished.append(_not_tested(name, kind, method, "missing in the current data"))
        else:
            jobs.append((name, kind, ref, method))

    # One sort buffer per worker thread, reused column after column: the built-in tests and
    # the hook keep numbers, never the arrays (a registered method might: it gets its own).
    buffers: dict[int, FloatArray] = {}

    def run(job: tuple[str, FeatureKind, Any, str]) -> _Pending | FeatureDrift:
        name, kind, ref, method = job
        values = current[name]
        reuse = method == AUTO or method in BUILTIN
        thread = threading.get_ident()
        if isinstance(ref, NumericReference) and (reuse or after_column is not None):
            # Sorted once, for the test and the hook; if it cannot be, the test says why.
            with contextlib.suppress(InputError):
                buffer = buffers.pop(thread, None) if reuse else None
                values = sorted_numbers(
                    values, "the current column", buffer=buffer, moments=after_column is not None
                )
        elif isinstance(ref, CategoricalReference) and after_column is not None:
            with contextlib.suppress(InputError):  # counted once, for the test and the hook
                values = category_counts(values, "the current column")
        outcome = _run_one(name, kind, ref, values, method, thresholds, options)
        if after_column is not None:
            after_column(name, values)
        sorted_here = isinstance(values, SortedNumbers) and values is not current[name]
        if reuse and sorted_here:  # storage this job allocated: the next column's buffer
            assert isinstance(values, SortedNumbers)
            base = values.values.base
            if isinstance(base, np.ndarray) and (
                thread not in buffers or base.size > buffers[thread].size
            ):
                buffers[thread] = base
        return outcome

    total = sum(column_size(current[name]) for name, _, _, _ in jobs)
    pending: list[tuple[_Pending, str]] = []
    for job, outcome in zip(jobs, map_columns(run, jobs, total), strict=True):
        if isinstance(outcome, FeatureDrift):
            finished.append(outcome)
        else:
            pending.append((outcome, job[3]))
    for name in current:
        if name not in profile.features:
            guessed = (
                FeatureKind.NUMERIC
                if np.asarray(current[name]).dtype.kind in "biuf"
                else FeatureKind.CATEGORICAL
            )
            finished.append(_not_tested(name, guessed, AUTO, "missing in the reference data"))
    _fill_ks_p_values([p for p, _ in pending])
    for item, method in pending:
        finished.append(_finish(item, method, thresholds.get(item.feature), options))
    results = sorted(_with_correction(finished, options), key=_sort_key)
    tested = [r for r in results if r.tested]
    n_drifted = sum(1 for r in tested if r.drifted)
    share = n_drifted / len(tested) if tested else 0.0
    if options.dataset_drift_share is not None:
        dataset_drifted = bool(tested) and share >= options.dataset_drift_share
    else:
        dataset_drifted = any(r.drifted_adjusted for r in tested)
    return DriftResults(
        features=tuple(results),
        dataset_drifted=dataset_drifted,
        drift_share=share,
        n_tested=len(tested),
        n_drifted=n_drifted,
        correction=options.correction,
        alpha=options.alpha,
        options=options,
    )


def _run_one(
    name: str,
    kind: FeatureKind,
    ref: NumericReference | CategoricalReference,
    values: ColumnValues,
    method: str,
    thresholds: Mapping[str, float],
    options: DriftOptions,
) -> _Pending | FeatureDrift:
    if method != AUTO and method not in BUILTIN:
        return _registered(name, kind, ref, values, method, thresholds.get(name), options)
    if isinstance(ref, NumericReference):
        return _numeric_pending(name, ref, values, method, options)
    return _categorical_pending(name, kind, ref, values, method, options)


def _fill_ks_p_values(pending: list[_Pending]) -> None:
    waiting = [p for p in pending if p.ks_pending]
    if not waiting:
        return
    statistics, p_values, exact = ks_p_values(
        [float(p.statistic or 0.0) for p in waiting],
        [p.n_reference for p in waiting],
        [p.n_current for p in waiting],
    )
    for item, d, p, is_exact in zip(waiting, statistics, p_values, exact, strict=True):
        item.statistic, item.p_value = float(d), float(p)
        item.details["exact"] = bool(is_exact)
