"""The contestants of the drift benchmark: how each library is fed and what is timed.

Every contestant has two halves:

* ``prepare(reference, current)`` (not timed) turns the two ``pyarrow.Table`` s into the
  library's natural input: a dict of numpy arrays (float64; categorical columns as object
  arrays of ``str``) for keeneye and the plain baselines, pandas DataFrames for the peers.
  Encodings a library *cannot* do itself (alibi-detect needs integer category codes) are
  done here too, which favours that library slightly.
* ``run(prepared)`` (timed) does the library's whole drift computation for one reference and
  one current window and returns the names of the columns it flags as drifted, using that
  library's own decision rule.

This module is imported inside each peer's own virtual environment: only the standard
library at module level; each contestant imports its library lazily.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ALPHA = 0.05

NUMERIC_PREFIX = "num_"
CATEGORICAL_PREFIX = "cat_"


@dataclass(frozen=True)
class Contestant:
    name: str
    env: str  # which virtual environment runs it: "keeneye" is /work/main/.venv
    description: str
    prepare: Callable[[Any, Any], Any]
    run: Callable[[Any], set[str]]
    packages: tuple[str, ...]  # distributions whose versions the report shows


def _columns(table: Any) -> tuple[list[str], list[str]]:
    names = list(table.column_names)
    return (
        [c for c in names if c.startswith(NUMERIC_PREFIX)],
        [c for c in names if c.startswith(CATEGORICAL_PREFIX)],
    )


def _arrays(table: Any) -> dict[str, Any]:
    """float64 arrays for numeric columns, object arrays of str for categorical ones."""
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _prepare_arrays(reference: Any, current: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return _arrays(reference), _arrays(current)


def _prepare_pandas(reference: Any, current: Any) -> tuple[Any, Any]:
    return reference.to_pandas(), current.to_pandas()


# --- keeneye ------------------------------------------------------------------------------


def _keeneye_kinds(columns: Mapping[str, Any]) -> dict[str, Any]:
    from keeneye.schema import FeatureKind

    return {
        name: FeatureKind.NUMERIC if name.startswith(NUMERIC_PREFIX) else FeatureKind.CATEGORICAL
        for name in columns
    }


def _drifted_keeneye(results: Any) -> set[str]:
    return {f.feature for f in results.features if f.drifted}


def _prepare_tables(reference: Any, current: Any) -> tuple[Any, Any]:
    """keeneye.compare reads Arrow natively: it gets the tables as read from Parquet."""
    return reference, current


def _keeneye_compare(**options: Any) -> Callable[[tuple[Any, Any]], set[str]]:
    def run(prepared: tuple[Any, Any]) -> set[str]:
        import keeneye

        reference, current = prepared
        return _drifted_keeneye(keeneye.compare(reference, current, **options))

    return run


def _run_keeneye_engine(prepared: tuple[Any, Any]) -> set[str]:
    from keeneye.stats import ReferenceProfile, detect_drift

    reference, current = prepared
    profile = ReferenceProfile.fit(reference, _keeneye_kinds(reference))
    return _drifted_keeneye(detect_drift(profile, current))


def _prepare_keeneye_second(reference: Any, current: Any) -> tuple[Any, Any]:
    """The baseline is fitted once and stored (``Reference.to_bytes``), outside the timed
    part; it is read back as a window job does, and only the new window is timed."""
    from keeneye.profile.reference import Reference

    stored = Reference.fit(reference).to_bytes()
    return Reference.from_bytes(stored), current


def _run_keeneye_second(prepared: tuple[Any, Any]) -> set[str]:
    reference, current = prepared
    report = reference.compare(current)
    assert report.drift is not None
    return _drifted_keeneye(report.drift)


def _prepare_keeneye_second_engine(reference: Any, current: Any) -> tuple[Any, Any]:
    """The engine alone against a fitted profile, on numpy arrays (strings as objects)."""
    from keeneye.stats import ReferenceProfile

    ref, cur = _prepare_arrays(reference, current)
    return ReferenceProfile.fit(ref, _keeneye_kinds(ref)), cur


def _run_keeneye_second_engine(prepared: tuple[Any, Any]) -> set[str]:
    from keeneye.stats import detect_drift

    profile, current = prepared
    return _drifted_keeneye(detect_drift(profile, current))


# --- plain baselines ----------------------------------------------------------------------


def _counts_table(reference: Any, current: Any) -> list[list[int]]:
    """2 x k contingency table of category counts (categories seen in either sample)."""
    ref_counts, cur_counts = Counter(reference), Counter(current)
    categories = sorted(ref_counts.keys() | cur_counts.keys())
    return [[ref_counts[c] for c in categories], [cur_counts[c] for c in categories]]


def _run_scipy_loop(prepared: tuple[dict[str, Any], dict[str, Any]]) -> set[str]:
    """What a careful user writes by hand: one scipy call per column."""
    from scipy.stats import chi2_contingency, ks_2samp

    reference, current = prepared
    drifted = set()
    for name, ref in reference.items():
        if name.startswith(NUMERIC_PREFIX):
            p_value = ks_2samp(ref, current[name]).pvalue
        else:
            p_value = chi2_contingency(_counts_table(ref, current[name]), correction=False).pvalue
        if p_value < ALPHA:
            drifted.add(name)
    return drifted


def _ks_one_side(x: Any, y: Any) -> float:
    """max |F_x - F_y| over the points of sorted ``x`` (at the last of each run of ties)."""
    import numpy as np

    last = np.empty(x.size, dtype=bool)
    last[-1] = True
    np.not_equal(x[1:], x[:-1], out=last[:-1])
    rank = np.flatnonzero(last) + 1.0
    return float(np.max(np.abs(rank / x.size - np.searchsorted(y, x[last], "right") / y.size)))


def _run_numpy_vectorised(prepared: tuple[dict[str, Any], dict[str, Any]]) -> set[str]:
    """KS and chi-square written with numpy, p-values vectorised over columns.

    Same statistics and asymptotic p-values as scipy's ``ks_2samp(method="asymp")`` and
    ``chi2_contingency(correction=False)``; the ECDFs are compared only at each sample's own
    points (the supremum of two step functions is reached there), half the searching of
    ``ks_2samp``. Columns are sorted one at a time: stacking them first buys no speed and
    doubles the memory.
    """
    import numpy as np
    from scipy.stats import chi2, kstwo

    reference, current = prepared
    numeric = [c for c in reference if c.startswith(NUMERIC_PREFIX)]
    categorical = [c for c in reference if c.startswith(CATEGORICAL_PREFIX)]
    drifted: set[str] = set()
    if numeric:
        d = np.empty(len(numeric))
        for i, c in enumerate(numeric):
            ref, cur = np.sort(reference[c]), np.sort(current[c])
            d[i] = max(_ks_one_side(ref, cur), _ks_one_side(cur, ref))
        n, m = reference[numeric[0]].size, current[numeric[0]].size
        p = np.clip(kstwo.sf(d, np.round(n * m / (n + m))), 0.0, 1.0)
        drifted.update(c for c, pv in zip(numeric, p, strict=True) if pv < ALPHA)
    stats, dofs = [], []
    for c in categorical:
        table = np.asarray(_counts_table(reference[c], current[c]), dtype=np.float64)
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
        stats.append(float(((table - expected) ** 2 / expected).sum()))
        dofs.append(table.shape[1] - 1)
    if categorical:
        p = chi2.sf(np.asarray(stats), np.asarray(dofs))
        drifted.update(c for c, pv in zip(categorical, p, strict=True) if pv < ALPHA)
    return drifted


# --- Evidently ----------------------------------------------------------------------------


def _prepare_evidently(reference: Any, current: Any) -> tuple[Any, Any]:
    from evidently import DataDefinition, Dataset

    numeric, categorical = _columns(reference)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref, cur = _prepare_pandas(reference, current)
    return (
        Dataset.from_pandas(ref, data_definition=definition),
        Dataset.from_pandas(cur, data_definition=definition),
    )


def _evidently(**preset_options: str) -> Callable[[tuple[Any, Any]], set[str]]:
    def run(prepared: tuple[Any, Any]) -> set[str]:
        from evidently import Report
        from evidently.presets import DataDriftPreset

        reference, current = prepared
        snapshot = Report([DataDriftPreset(**preset_options)]).run(current, reference)
        drifted = set()
        for metric in snapshot.dict()["metrics"]:
            config = metric["config"]
            if not config["type"].endswith(":ValueDrift"):
                continue
            value, threshold = float(metric["value"]), float(config["threshold"])
            # Evidently's rule: p-value tests drift below the threshold, distances at or above.
            is_distance = "distance" in config["method"].lower() or "psi" in config["method"]
            if (value >= threshold) if is_distance else (value < threshold):
                drifted.add(config["column"])
        return drifted

    return run


# --- alibi-detect -------------------------------------------------------------------------


def _prepare_alibi(reference: Any, current: Any) -> tuple[Any, Any, dict[int, None]]:
    """alibi-detect takes one float array; categories must be integer codes (done here)."""
    import numpy as np

    numeric, categorical = _columns(reference)
    order = numeric + categorical
    ref_cols, cur_cols = [], []
    for name in order:
        ref = reference.column(name).to_numpy(zero_copy_only=False)
        cur = current.column(name).to_numpy(zero_copy_only=False)
        if name in categorical:
            codes = {v: i for i, v in enumerate(sorted(set(ref) | set(cur)))}
            ref = np.fromiter((codes[v] for v in ref), dtype=np.float64, count=len(ref))
            cur = np.fromiter((codes[v] for v in cur), dtype=np.float64, count=len(cur))
        ref_cols.append(ref)
        cur_cols.append(cur)
    categories = {order.index(name): None for name in categorical}
    return np.column_stack(ref_cols), np.column_stack(cur_cols), categories


def _run_alibi(prepared: tuple[Any, Any, dict[int, None]]) -> set[str]:
    from alibi_detect.cd import TabularDrift

    x_ref, x_cur, categories = prepared
    numeric, categorical = len(x_ref[0]) - len(categories), len(categories)
    names = [f"num_{i:02d}" for i in range(numeric)] + [f"cat_{i}" for i in range(categorical)]
    detector = TabularDrift(x_ref, p_val=ALPHA, categories_per_feature=dict(categories))
    data = detector.predict(x_cur)["data"]  # Bonferroni over features (its default)
    return {n for n, p in zip(names, data["p_val"], strict=True) if p < data["threshold"]}


# --- NannyML ------------------------------------------------------------------------------


def _nannyml(
    continuous: list[str], categorical: list[str]
) -> Callable[[tuple[Any, Any]], set[str]]:
    def run(prepared: tuple[Any, Any]) -> set[str]:
        import nannyml as nml
        from nannyml.thresholds import ConstantThreshold

        reference, current = prepared
        numeric = [c for c in reference.columns if c.startswith(NUMERIC_PREFIX)]
        cats = [c for c in reference.columns if c.startswith(CATEGORICAL_PREFIX)]
        n, m = len(reference), len(current)
        # One chunk = one comparison, like every other contestant. NannyML's default KS
        # threshold (3 sigma over reference chunks) is 0 with a single chunk, so the KS
        # statistic's critical value at alpha = 0.05 is pinned instead.
        d_critical = math.sqrt(-0.5 * math.log(ALPHA / 2)) * math.sqrt((n + m) / (n * m))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calculator = nml.UnivariateDriftCalculator(
                column_names=numeric + cats,
                treat_as_categorical=cats,
                continuous_methods=continuous,
                categorical_methods=categorical,
                chunk_number=1,
                thresholds={"kolmogorov_smirnov": ConstantThreshold(upper=d_critical)},
            )
            calculator.fit(reference)
            frame = calculator.calculate(current).filter(period="analysis").to_df()
        drifted = set()
        for column, method in [(c, "kolmogorov_smirnov") for c in numeric] + [
            (c, "chi2") for c in cats
        ]:
            if bool(frame[(column, method, "alert")].iloc[0]):
                drifted.add(column)
        return drifted

    return run


# --- whylogs ------------------------------------------------------------------------------


def _run_whylogs(prepared: tuple[Any, Any]) -> set[str]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    reference, current = prepared
    reference_view = why.log(reference).view()
    current_view = why.log(current).view()
    scores = calculate_drift_scores(
        target_view=current_view, reference_view=reference_view, with_thresholds=True
    )
    return {name for name, s in scores.items() if s and s.get("drift_category") == "DRIFT"}


# --- frouros ------------------------------------------------------------------------------


def _run_frouros(prepared: tuple[dict[str, Any], dict[str, Any]]) -> set[str]:
    from frouros.detectors.data_drift import ChiSquareTest, KSTest

    reference, current = prepared
    drifted = set()
    for name, ref in reference.items():
        detector = KSTest() if name.startswith(NUMERIC_PREFIX) else ChiSquareTest()
        detector.fit(X=ref)
        result, _ = detector.compare(X=current[name])
        if result.p_value < ALPHA:
            drifted.add(name)
    return drifted


_NML_ALL_CONTINUOUS = ["kolmogorov_smirnov", "jensen_shannon", "wasserstein", "hellinger"]
_NML_ALL_CATEGORICAL = ["chi2", "jensen_shannon", "l_infinity", "hellinger"]

CONTESTANTS: dict[str, Contestant] = {
    c.name: c
    for c in (
        Contestant(
            "keeneye",
            "keeneye",
            "keeneye.compare(ref, cur) on the Arrow tables: kinds, conversion, fit + test, "
            "summaries and quality checks",
            _prepare_tables,
            _keeneye_compare(),
            ("keeneye", "numpy", "scipy", "pyarrow", "numba"),
        ),
        Contestant(
            "keeneye-pandas",
            "keeneye",
            "keeneye.compare(ref, cur) on pandas DataFrames (what most users pass)",
            _prepare_pandas,
            _keeneye_compare(),
            ("keeneye", "numpy", "scipy", "pyarrow", "pandas", "numba"),
        ),
        Contestant(
            "keeneye-nosummary",
            "keeneye",
            "keeneye.compare(ref, cur, summaries=False): drift tests only",
            _prepare_tables,
            _keeneye_compare(summaries=False),
            ("keeneye", "numpy", "scipy", "pyarrow"),
        ),
        Contestant(
            "keeneye-engine",
            "keeneye",
            "ReferenceProfile.fit + detect_drift (the engine under keeneye.compare)",
            _prepare_arrays,
            _run_keeneye_engine,
            ("keeneye", "numpy", "scipy"),
        ),
        Contestant(
            "keeneye-2nd-window",
            "keeneye",
            "Reference.compare(window) against a stored Reference (read back from its bytes, "
            "as the window jobs do) on the Arrow table",
            _prepare_keeneye_second,
            _run_keeneye_second,
            ("keeneye", "numpy", "scipy", "pyarrow", "numba"),
        ),
        Contestant(
            "keeneye-2nd-window-engine",
            "keeneye",
            "detect_drift against an already-fitted ReferenceProfile, numpy arrays (categories "
            "as Python strings)",
            _prepare_keeneye_second_engine,
            _run_keeneye_second_engine,
            ("keeneye", "numpy", "scipy"),
        ),
        Contestant(
            "scipy-loop",
            "keeneye",
            "per column: scipy ks_2samp / chi2_contingency (counts via collections.Counter)",
            _prepare_arrays,
            _run_scipy_loop,
            ("numpy", "scipy"),
        ),
        Contestant(
            "numpy-vectorised",
            "keeneye",
            "hand-written numpy KS + chi-square, p-values vectorised over columns",
            _prepare_arrays,
            _run_numpy_vectorised,
            ("numpy", "scipy"),
        ),
        Contestant(
            "evidently-default",
            "evidently",
            "Evidently Report([DataDriftPreset()]) (its default: distances above 1,000 rows)",
            _prepare_evidently,
            _evidently(),
            ("evidently", "pandas", "numpy", "scipy"),
        ),
        Contestant(
            "evidently-ks-chi2",
            "evidently",
            'Evidently DataDriftPreset(num_method="ks", cat_method="chisquare")',
            _prepare_evidently,
            _evidently(num_method="ks", cat_method="chisquare"),
            ("evidently", "pandas", "numpy", "scipy"),
        ),
        Contestant(
            "alibi-tabular",
            "alibi",
            "alibi-detect TabularDrift (KS + chi-square, Bonferroni): fit + predict",
            _prepare_alibi,
            _run_alibi,
            ("alibi-detect", "numpy", "scipy"),
        ),
        Contestant(
            "nannyml-ks-chi2",
            "nannyml",
            "NannyML UnivariateDriftCalculator(KS, chi2), one chunk: fit + calculate",
            _prepare_pandas,
            _nannyml(["kolmogorov_smirnov"], ["chi2"]),
            ("nannyml", "pandas", "numpy", "scipy"),
        ),
        Contestant(
            "nannyml-all",
            "nannyml",
            "NannyML UnivariateDriftCalculator, all 4 + 4 methods, one chunk",
            _prepare_pandas,
            _nannyml(_NML_ALL_CONTINUOUS, _NML_ALL_CATEGORICAL),
            ("nannyml", "pandas", "numpy", "scipy"),
        ),
        Contestant(
            "whylogs",
            "whylogs",
            "whylogs: profile both (why.log) + calculate_drift_scores (sketch KS, chi2)",
            _prepare_pandas,
            _run_whylogs,
            ("whylogs", "pandas", "numpy", "scipy"),
        ),
        Contestant(
            "frouros-ks-chi2",
            "frouros",
            "frouros KSTest / ChiSquareTest per column: fit + compare",
            _prepare_arrays,
            _run_frouros,
            ("frouros", "numpy", "scipy"),
        ),
    )
}
