"""The :class:`DriftReport`: per-feature drift verdicts, the dataset verdict and data quality.

A report is a :class:`keeneye.profile.Report` (its drift section) plus where both sides came
from and the per-feature summaries and chart data; immutable once built (by
:func:`keeneye.compare`). It renders as a plain-text table
(``str``/``repr``), as a rich table (``rich.print(report)``), as JSON-safe dicts, Arrow or
pandas, and as a self-contained HTML file (:meth:`DriftReport.save_html`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from keeneye.errors import require
from keeneye.profile.report import DriftSection, Report
from keeneye.report.charts import Chart, Histogram
from keeneye.stats import ColumnSummary, DriftOptions, FeatureDrift, QualityReport
from keeneye.stats.results import json_safe

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console, ConsoleOptions, RenderResult


@dataclass(frozen=True)
class DataSource:
    """Where one side of a comparison came from (a path or an object's type) and its size."""

    source: str
    rows: int
    columns: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows": self.rows, "columns": self.columns}


@dataclass(frozen=True)
class FeatureProfile:
    """Summaries of one feature on both sides and the current side's data-quality findings.

    Any part is ``None`` when it could not be computed (e.g. the column is missing on a side,
    or its kind has no summary).
    """

    reference: ColumnSummary | None = None
    current: ColumnSummary | None = None
    quality: QualityReport | None = None
    chart: Chart | None = None

    @property
    def issues(self) -> tuple[str, ...]:
        """The quality findings as sentences (empty when there are none)."""
        return self.quality.issues if self.quality is not None else ()

    def to_dict(self) -> dict[str, Any]:
        quality = None
        if self.quality is not None:
            # The current summary is listed once, beside the reference's.
            quality = {k: v for k, v in self.quality.to_dict().items() if k != "current"}
        chart = None
        if self.chart is not None:
            kind = "histogram" if isinstance(self.chart, Histogram) else "categories"
            chart = {"type": kind, **self.chart.to_dict()}
        return {
            "reference": self.reference.to_dict() if self.reference is not None else None,
            "current": self.current.to_dict() if self.current is not None else None,
            "quality": quality,
            "chart": chart,
        }


#: Column order and Arrow types of :meth:`DriftReport.to_arrow`.
ARROW_SCHEMA = pa.schema(
    [
        ("feature", pa.string()),
        ("kind", pa.string()),
        ("drifted", pa.bool_()),
        ("method", pa.string()),
        ("statistic", pa.float64()),
        ("p_value", pa.float64()),
        ("p_value_adjusted", pa.float64()),
        ("effect_size", pa.float64()),
        ("effect_method", pa.string()),
        ("threshold", pa.float64()),
        ("decided_by", pa.string()),
        ("drifted_adjusted", pa.bool_()),
        ("reason", pa.string()),
        ("n_reference", pa.int64()),
        ("n_current", pa.int64()),
        ("issues", pa.list_(pa.string())),
    ]
)


def _kind_name(kind: Any) -> str | None:
    return None if kind is None else str(getattr(kind, "value", kind))


@dataclass(frozen=True, repr=False)
class DriftReport:
    """Drift between a reference and a current dataset, feature by feature.

    ``features`` lists every feature: drifted first, then by effect size, then the features
    that were not tested (their ``reason`` says why). ``dataset_drifted`` is the dataset-level
    verdict after the multiple-testing ``correction``; ``drift_share`` is drifted / tested.

    >>> import numpy as np, keeneye
    >>> rng = np.random.default_rng(0)
    >>> ref = {"age": rng.normal(40, 10, 500), "city": rng.choice(["a", "b"], 500)}
    >>> cur = {"age": rng.normal(50, 10, 500), "city": rng.choice(["a", "b"], 500)}
    >>> report = keeneye.compare(ref, cur)
    >>> report.drifted, report.dataset_drifted, report.drift_share
    (('age',), True, 0.5)
    >>> report["age"].decided_by
    'p_value'
    """

    report: Report
    reference: DataSource
    current: DataSource
    profiles: Mapping[str, FeatureProfile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.report.drift is None:
            raise ValueError("a DriftReport needs a report with a drift section")
        object.__setattr__(self, "profiles", MappingProxyType(dict(self.profiles)))

    @property
    def drift(self) -> DriftSection:
        """The report's drift section (what the verdicts below read)."""
        assert self.report.drift is not None  # checked in __post_init__
        return self.report.drift

    @property
    def features(self) -> tuple[FeatureDrift, ...]:
        return self.drift.features

    @property
    def dataset_drifted(self) -> bool:
        return self.drift.dataset_drifted

    @property
    def drift_share(self) -> float:
        return self.drift.drift_share

    @property
    def n_tested(self) -> int:
        return self.drift.n_tested

    @property
    def n_drifted(self) -> int:
        return self.drift.n_drifted

    @property
    def correction(self) -> str:
        return self.drift.correction

    @property
    def alpha(self) -> float:
        return self.drift.alpha

    @property
    def options(self) -> DriftOptions:
        return self.drift.options

    # A read-only mapping proxy does not pickle: pickle a plain dict, restore the proxy.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "profiles": dict(self.profiles)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__post_init__()

    # ------------------------------------------------------------------ access

    def __getitem__(self, feature: str) -> FeatureDrift:
        for result in self.features:
            if result.feature == feature:
                return result
        raise KeyError(feature)

    def __iter__(self) -> Iterator[FeatureDrift]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def drifted(self) -> tuple[str, ...]:
        """Names of the features whose own test says they drifted, most drifted first."""
        return tuple(f.feature for f in self.features if f.drifted)

    @property
    def not_tested(self) -> Mapping[str, str]:
        """Feature → reason, for every feature that was not tested."""
        return {f.feature: f.reason or "not tested" for f in self.features if f.drifted is None}

    # ------------------------------------------------------------------ export

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-serialisable data (no NaN or infinity).

        >>> import json, keeneye
        >>> d = keeneye.compare({"x": [1.0, 2.0, 3.0]}, {"x": [1.0, 2.0, 3.5]}).to_dict()
        >>> sorted(d), d["dataset"]["drifted"]
        (['current', 'dataset', 'features', 'options', 'profiles', 'reference'], False)
        >>> json.loads(json.dumps(d, allow_nan=False)) == d
        True
        """
        data = {
            "dataset": {
                "drifted": self.dataset_drifted,
                "drift_share": self.drift_share,
                "n_features": len(self.features),
                "n_tested": self.n_tested,
                "n_drifted": self.n_drifted,
                "drifted_features": list(self.drifted),
                "correction": self.correction,
                "alpha": self.alpha,
            },
            "reference": self.reference.to_dict(),
            "current": self.current.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "profiles": {name: p.to_dict() for name, p in self.profiles.items()},
            "options": self.options.to_dict(),
        }
        # The optional sections (compare(estimate=..., multivariate=..., segments=...,
        # online=...)), in the report's typed JSON form, only when computed.
        payload = self.report.to_payload()
        for section in ("estimated", "multivariate", "segments", "online"):
            if payload.get(section) is not None:
                data[section] = payload[section]
        return dict(json_safe(data))

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_arrow(self) -> pa.Table:
        """One row per feature (see ``ARROW_SCHEMA``), in the report's order."""
        rows = [
            {
                "feature": f.feature,
                "kind": _kind_name(f.kind),
                "drifted": f.drifted,
                "method": f.method,
                "statistic": json_safe(f.statistic),
                "p_value": json_safe(f.p_value),
                "p_value_adjusted": json_safe(f.p_value_adjusted),
                "effect_size": json_safe(f.effect_size),
                "effect_method": f.effect_method,
                "threshold": json_safe(f.threshold),
                "decided_by": f.decided_by,
                "drifted_adjusted": f.drifted_adjusted,
                "reason": f.reason,
                "n_reference": f.n_reference,
                "n_current": f.n_current,
                "issues": list(self.issues(f.feature)),
            }
            for f in self.features
        ]
        return pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)

    def to_pandas(self) -> pd.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame (needs pandas: ``keeneye[pandas]``)."""
        require("pandas", "pandas")
        return self.to_arrow().to_pandas()

    def issues(self, feature: str) -> tuple[str, ...]:
        """Data-quality findings of one feature (empty when none or not checked)."""
        profile = self.profiles.get(feature)
        return profile.issues if profile is not None else ()

    # ------------------------------------------------------------------ rendering

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from keeneye.report.text import rich_renderable

        yield rich_renderable(self, styled=True, width=options.max_width)

    def __str__(self) -> str:
        from keeneye.report.text import plain_text

        return plain_text(self)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        from keeneye.report.html import render_html

        return render_html(self, full_page=False)

    def save_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML report (plotly's JavaScript inlined: opens offline)."""
        from keeneye.report.html import render_html

        target = Path(path)
        target.write_text(render_html(self, full_page=True), encoding="utf-8")
        return target
