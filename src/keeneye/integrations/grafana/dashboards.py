"""keeneye's Grafana dashboards, built in code with ``grafana-foundation-sdk``.

Two dashboards: a fleet overview (every model: traffic, errors, latency, drift share, firing
alerts) and a per-model dashboard (``model`` and ``version`` variables; traffic with its day-
and week-ago overlays, latency, errors, prediction distribution, per-feature drift as a heatmap
over time, data quality, performance and label coverage, SDK health, version changes as
annotations). The queries use the recording rules of
:mod:`keeneye.integrations.prometheus.rules`, so both are generated from the same options.

>>> from keeneye.integrations.prometheus.options import ExportOptions
>>> board = model_dashboard(ExportOptions())
>>> board["uid"], [v["name"] for v in board["templating"]["list"]]
('keeneye-model', ['model', 'version'])
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from keeneye.errors import require
from keeneye.integrations.prometheus import metrics as m
from keeneye.integrations.prometheus.options import ExportOptions
from keeneye.integrations.prometheus.rules import RecordedNames

DATASOURCE_UID = "keeneye-prometheus"
SEL = 'model=~"$model", version=~"$version"'
#: keeneye's model-level results (traffic is counted across versions) carry ``version="*"``:
#: filtering them on ``$version`` would empty the panel whenever a version is picked.
MODEL_SEL = 'model=~"$model", version="*"'
ALL = ".*"


@dataclass(frozen=True)
class PanelSpec:
    """One panel: its title, kind, unit and PromQL targets as (expression, legend)."""

    title: str
    targets: tuple[tuple[str, str], ...]
    kind: str = "timeseries"  # timeseries | heatmap | stat
    unit: str = "short"
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    rows: tuple[RowSpec, ...]
    variables: bool = False
    annotations: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (name, expr)

    def expressions(self) -> Iterator[str]:
        """Every PromQL expression of the dashboard (panels, then annotations)."""
        for row in self.rows:
            for panel in row.panels:
                for expr, _ in panel.targets:
                    yield expr
        for _, expr in self.annotations:
            yield expr


def fleet_spec(options: ExportOptions) -> DashboardSpec:
    n = RecordedNames.of(options)
    q = options.latency_quantile
    return DashboardSpec(
        uid="keeneye-fleet",
        title="keeneye / Fleet overview",
        description="Every model watched by keeneye: traffic, errors, latency, drift, alerts.",
        rows=(
            RowSpec(
                "Fleet",
                (
                    PanelSpec(
                        "Models served",
                        (("count(count by (model) (keeneye_model_info == 1))", "models"),),
                        kind="stat",
                        width=6,
                    ),
                    PanelSpec(
                        "Versions served",
                        (
                            (
                                "count(count by (model, version) (keeneye_model_info == 1))",
                                "versions",
                            ),
                        ),
                        kind="stat",
                        width=6,
                    ),
                    PanelSpec(
                        "Firing keeneye alerts",
                        (
                            (
                                'count by (alertname, model) (ALERTS{source="keeneye", '
                                'alertstate="firing"})',
                                "{{alertname}} {{model}}",
                            ),
                        ),
                        description="Alerts of keeneye's rules currently firing in Prometheus.",
                    ),
                ),
            ),
            RowSpec(
                "Traffic and health",
                (
                    PanelSpec(
                        "Predictions per second",
                        ((f"sum by (model) ({n.requests})", "{{model}}"),),
                        unit="reqps",
                    ),
                    PanelSpec(
                        "Traffic change against a week ago",
                        ((n.change_1w, "{{model}}"),),
                        unit="percentunit",
                        description=f"Rate over {options.traffic_window} against the same "
                        "time a week ago (what KeeneyeTrafficChange compares).",
                    ),
                    PanelSpec(
                        "Error ratio",
                        ((n.error_ratio, "{{model}} v{{version}}"),),
                        unit="percentunit",
                    ),
                    PanelSpec(
                        f"Latency {q:g} quantile",
                        ((n.latency[q], "{{model}} v{{version}}"),),
                        unit="s",
                    ),
                ),
            ),
            RowSpec(
                "Drift",
                (
                    PanelSpec(
                        "Dataset drift share",
                        ((m.DATASET_DRIFT_SHARE, "{{model}} v{{version}}"),),
                        unit="percentunit",
                        width=24,
                    ),
                ),
            ),
        ),
    )


def model_spec(options: ExportOptions) -> DashboardSpec:
    n = RecordedNames.of(options)
    rw = options.rate_window

    def sel(name: str) -> str:
        return f"{name}{{{SEL}}}"

    latency = tuple((sel(name), f"{_q(q)} v{{{{version}}}}") for q, name in n.latency.items())
    return DashboardSpec(
        uid="keeneye-model",
        title="keeneye / Model",
        description="One model (and version) watched by keeneye.",
        variables=True,
        annotations=(
            (
                "Version changes",
                f'{m.MODEL_INFO}{{model=~"$model"}} == 1 unless '
                f'{m.MODEL_INFO}{{model=~"$model"}} offset 10m',
            ),
        ),
        rows=(
            RowSpec(
                "Traffic",
                (
                    PanelSpec(
                        "Predictions per second (now, a day ago, a week ago)",
                        (
                            (f"sum by (model) ({sel(n.traffic)})", "now"),
                            (f"sum by (model) ({sel(n.traffic_1d)})", "a day ago"),
                            (f"sum by (model) ({sel(n.traffic_1w)})", "a week ago"),
                        ),
                        unit="reqps",
                        description=f"Rate over {options.traffic_window}; overlays are the same "
                        "rate a day and a week earlier.",
                    ),
                    PanelSpec(
                        "Traffic change of the model (keeneye's windows, all versions)",
                        (
                            (
                                f"{m.TRAFFIC_CHANGE}{{{MODEL_SEL}}}",
                                "{{window}} vs {{compared_to}}",
                            ),
                        ),
                        unit="percentunit",
                    ),
                ),
            ),
            RowSpec(
                "Latency and errors",
                (
                    PanelSpec("Predict latency", latency, unit="s"),
                    PanelSpec(
                        "Errors per second by exception",
                        (
                            (
                                f"sum by (exception) (rate({m.ERRORS}{{{SEL}}}[{rw}]))",
                                "{{exception}}",
                            ),
                        ),
                        unit="reqps",
                    ),
                    PanelSpec(
                        "Error ratio", ((sel(n.error_ratio), "v{{version}}"),), unit="percentunit"
                    ),
                    PanelSpec(
                        "Non-finite predictions per second",
                        ((sel(n.nonfinite), "v{{version}}"),),
                        unit="reqps",
                    ),
                ),
            ),
            RowSpec(
                "Predictions",
                (
                    PanelSpec(
                        "Predicted classes per second",
                        (
                            (
                                f"sum by (class) (rate({m.PREDICTED_CLASS}{{{SEL}}}[{rw}]))",
                                "{{class}}",
                            ),
                        ),
                        unit="reqps",
                    ),
                    PanelSpec(
                        "Predicted values (regression)",
                        (
                            (
                                f"sum by (le) (rate({m.PREDICTION_VALUE_BUCKET}{{{SEL}}}[{rw}]))",
                                "{{le}}",
                            ),
                        ),
                        kind="heatmap",
                    ),
                    PanelSpec(
                        "Confidence (largest class probability)",
                        ((f"sum by (le) (rate({m.CONFIDENCE_BUCKET}{{{SEL}}}[{rw}]))", "{{le}}"),),
                        kind="heatmap",
                    ),
                ),
            ),
            RowSpec(
                "Drift",
                (
                    PanelSpec(
                        "Drift score per feature",
                        ((sel(m.FEATURE_DRIFT_SCORE), "{{feature}}"),),
                        kind="heatmap",
                        description="Each row is a feature; colour is its drift score in the "
                        "latest analysed window (effect size or statistic of its method).",
                    ),
                    PanelSpec(
                        "Dataset drift share",
                        ((sel(m.DATASET_DRIFT_SHARE), "v{{version}}"),),
                        unit="percentunit",
                    ),
                    PanelSpec(
                        "Drift p-value per feature",
                        ((sel(m.FEATURE_DRIFT_PVALUE), "{{feature}} ({{method}})"),),
                    ),
                ),
            ),
            RowSpec(
                "Data quality",
                (
                    PanelSpec(
                        "Missing share per feature",
                        ((sel(m.FEATURE_MISSING), "{{feature}}"),),
                        unit="percentunit",
                    ),
                    PanelSpec(
                        "Out-of-range share per feature",
                        ((sel(m.FEATURE_OUT_OF_RANGE), "{{feature}}"),),
                        unit="percentunit",
                    ),
                ),
            ),
            RowSpec(
                "Performance and labels",
                (
                    PanelSpec(
                        "Performance on labelled events", ((sel(m.PERFORMANCE), "{{metric}}"),)
                    ),
                    PanelSpec(
                        "Label coverage",
                        ((sel(m.LABEL_COVERAGE), "v{{version}}"),),
                        unit="percentunit",
                        width=6,
                    ),
                    PanelSpec(
                        "Prediction bias", ((sel(m.PREDICTION_BIAS), "v{{version}}"),), width=6
                    ),
                ),
            ),
            RowSpec(
                "keeneye SDK",
                (
                    PanelSpec(
                        "Events queued in the SDK",
                        ((sel(m.SDK_QUEUE), "v{{version}}"),),
                    ),
                    PanelSpec(
                        "Events sent and dropped per second",
                        (
                            (f"sum(rate({m.SDK_SENT}{{{SEL}}}[{rw}]))", "sent"),
                            (
                                f"sum by (reason) (rate({m.SDK_DROPPED}{{{SEL}}}[{rw}]))",
                                "dropped: {{reason}}",
                            ),
                        ),
                        unit="reqps",
                    ),
                ),
            ),
        ),
    )


def _q(q: float) -> str:
    return f"p{q * 100:g}"


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The provisioning JSON of ``spec`` (through grafana-foundation-sdk's builders)."""
    require("grafana_foundation_sdk", "grafana")
    from grafana_foundation_sdk.builders import dashboard, heatmap, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos

    ds = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
    board = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["keeneye"])
        .refresh("1m")
        .time("now-24h", "now")
        .timezone("browser")
    )
    if spec.variables:
        model = (
            dashboard.QueryVariable("model")
            .label("Model")
            .query(f"label_values({m.MODEL_INFO}, model)")
            .datasource(ds)
            .include_all(True)
            .all_value(ALL)
            .multi(True)
        )
        version = (
            dashboard.QueryVariable("version")
            .label("Version")
            .query(f'label_values({m.MODEL_INFO}{{model=~"$model"}}, version)')
            .datasource(ds)
            .include_all(True)
            .all_value(ALL)
            .multi(True)
        )
        board = board.with_variable(model).with_variable(version)
    for name, expr in spec.annotations:
        board = board.annotation(
            dashboard.AnnotationQuery()
            .name(name)
            .datasource(ds)
            .expr(expr)
            .enable(True)
            .icon_color("purple")
        )
    y, panel_id = 0, 1
    kinds: dict[str, Any] = {
        "timeseries": timeseries.Panel,
        "heatmap": heatmap.Panel,
        "stat": stat.Panel,
    }
    for row in spec.rows:
        board = board.with_row(
            dashboard.Row(row.title).id(panel_id).grid_pos(GridPos(h=1, w=24, x=0, y=y))
        )
        panel_id, y, x = panel_id + 1, y + 1, 0
        for p in row.panels:
            if x + p.width > 24:
                x, y = 0, y + 8
            panel: Any = kinds[p.kind]().title(p.title).id(panel_id).datasource(ds).unit(p.unit)
            if p.description:
                panel = panel.description(p.description)
            for i, (expr, legend) in enumerate(p.targets):
                query = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(65 + i))
                panel = panel.with_target(query)
            board = board.with_panel(panel.grid_pos(GridPos(h=8, w=p.width, x=x, y=y)))
            panel_id, x = panel_id + 1, x + p.width
        y += 8
    built = board.build()
    return dict(json.loads(json.dumps(built, cls=JSONEncoder)))


def fleet_dashboard(options: ExportOptions) -> dict[str, Any]:
    """The fleet overview's provisioning JSON."""
    return build(fleet_spec(options))


def model_dashboard(options: ExportOptions) -> dict[str, Any]:
    """The per-model dashboard's provisioning JSON."""
    return build(model_spec(options))


def dashboard_expressions(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression inside a dashboard's JSON (panel targets and annotations), as
    Grafana would send them with ``$model``/``$version`` still to be substituted."""
    exprs = [
        target["expr"]
        for panel in board.get("panels", [])
        for target in panel.get("targets", []) or []
        if target.get("expr")
    ]
    exprs += [a["expr"] for a in board.get("annotations", {}).get("list", []) if a.get("expr")]
    return exprs
