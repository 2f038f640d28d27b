"""What the demo planned against what keeneye found: the verdict per incident, the alerts that
no incident explains, and the timeline printed at the end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.table import Table

from keeneye.demo.scenario import Expectation, Incident, Scenario
from keeneye.notify import Alert, DeliveryStats, Message, MessageKind


@dataclass(frozen=True)
class Detection:
    """An alert as first reported by the analysis (simulated time of the run)."""

    alert: Alert
    reported_at: datetime


@dataclass(frozen=True)
class Sent:
    """A notification delivered to the demo's timeline channel."""

    message: Message
    at: datetime


@dataclass(frozen=True)
class IncidentOutcome:
    """Whether keeneye detected one planned incident in its window, and when."""

    incident: Incident
    detected: bool
    first_detection: datetime | None
    matches: tuple[Detection, ...]
    missing: tuple[Expectation, ...]
    note: str


@dataclass(frozen=True)
class DemoResult:
    """The structured result of a replay (what tests assert on)."""

    scenario: Scenario
    outcomes: tuple[IncidentOutcome, ...]
    detections: tuple[Detection, ...]
    unexplained: tuple[Detection, ...]
    notifications: tuple[Sent, ...]
    url: str
    store: str
    events: int
    labels: int
    dropped: int
    seconds: float
    delivery: DeliveryStats

    @property
    def ok(self) -> bool:
        """Every incident detected in its window and no alert that no incident explains."""
        return all(o.detected for o in self.outcomes) and not self.unexplained


def explains(incident: Incident, alert: Alert) -> bool:
    """Whether ``incident`` accounts for ``alert``: the alert's window overlaps the incident and
    its rule is one the incident is expected to cause."""
    rules = incident.side_effects | {e.rule for e in incident.expected}
    return alert.rule in rules and incident.overlaps(alert.window_start, alert.window_end)


def judge(
    scenario: Scenario,
    detections: Iterable[Detection],
    sent: Iterable[Sent],
    versions_seen: Mapping[tuple[str, str], datetime],
    *,
    url: str,
    store: str,
    events: int,
    labels: int,
    dropped: int,
    seconds: float,
    delivery: DeliveryStats,
) -> DemoResult:
    """Match the alerts reported during the replay against the incident plan."""
    found = sorted(detections, key=lambda d: (d.reported_at, d.alert.window_start))
    outcomes: list[IncidentOutcome] = []
    for incident in scenario.incidents:
        if incident.kind == "new_version":
            outcomes.append(_version_outcome(incident, versions_seen))
            continue
        matches: list[Detection] = []
        missing: list[Expectation] = []
        for expectation in incident.expected:
            hits = [
                d
                for d in found
                if d.alert.rule == expectation.rule
                and d.alert.subject == expectation.subject
                and incident.overlaps(d.alert.window_start, d.alert.window_end)
                and d.reported_at <= incident.detect_by
            ]
            if hits:
                matches.extend(hits)
            else:
                missing.append(expectation)
        first = min((d.reported_at for d in matches), default=None)
        note = (
            f"{len(matches)} alert(s), first at {_when(first)}"
            if not missing and first is not None
            else "not detected: " + ", ".join(f"{e.rule}/{e.subject}" for e in missing)
        )
        outcomes.append(
            IncidentOutcome(incident, not missing, first, tuple(matches), tuple(missing), note)
        )
    unexplained = tuple(
        d for d in found if not any(explains(i, d.alert) for i in scenario.incidents)
    )
    return DemoResult(
        scenario=scenario,
        outcomes=tuple(outcomes),
        detections=tuple(found),
        unexplained=unexplained,
        notifications=tuple(sent),
        url=url,
        store=store,
        events=events,
        labels=labels,
        dropped=dropped,
        seconds=seconds,
        delivery=delivery,
    )


def _version_outcome(
    incident: Incident, versions_seen: Mapping[tuple[str, str], datetime]
) -> IncidentOutcome:
    """A new version is 'detected' when keeneye computes its own results from its first hour
    (against its own baseline, so the switch itself raises no drift alert)."""
    version = str(incident.params["version"])
    seen = [
        at
        for (v, window_start), at in versions_seen.items()
        if v == version
        and incident.overlaps(
            datetime.fromisoformat(window_start),
            datetime.fromisoformat(window_start) + (incident.end - incident.start),
        )
    ]
    first = min(seen, default=None)
    detected = first is not None and first <= incident.detect_by
    note = (
        f"results for version {version} from its first hour, at {_when(first)}"
        if detected
        else f"no results for version {version} by {_when(incident.detect_by)}"
    )
    return IncidentOutcome(incident, detected, first, (), (), note)


# -- printing -----------------------------------------------------------------------------------
def render(result: DemoResult, console: Console) -> None:
    """Print the timeline (incidents, first detections, notifications) and the verdict."""
    start = result.scenario.start
    rows: list[tuple[datetime, int, str, str]] = []
    for outcome in result.outcomes:
        i = outcome.incident
        rows.append((i.start, 0, "[bold magenta]injected[/]", f"{i.name}: {i.title}"))
        rows.append((i.end, 1, "[magenta]ended[/]", i.name))
        if outcome.first_detection is not None:
            rows.append(
                (outcome.first_detection, 2, "[bold green]detected[/]", f"{i.name}: {outcome.note}")
            )
    for d in result.unexplained:
        rows.append((d.reported_at, 2, "[bold red]false alarm[/]", d.alert.summary))
    style = {
        MessageKind.FIRING: "[bold yellow]notified[/]",
        MessageKind.REMINDER: "[yellow]reminder[/]",
        MessageKind.RESOLVED: "[cyan]resolved[/]",
    }
    for s in result.notifications:
        a = s.message.alert
        rows.append((s.at, 3, style[s.message.kind], f"{a.rule} {a.subject}: {a.summary}"))
    rows.sort(key=lambda r: (r[0], r[1]))
    table = Table(title=f"keeneye demo — {result.scenario.days} simulated days")
    table.add_column("day", justify="right", no_wrap=True)
    table.add_column("sim time (UTC)", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("details", overflow="fold")
    for when, _, what, text in rows:
        day = (when - start).days
        table.add_row(str(day), when.strftime("%a %m-%d %H:%M"), what, text)
    console.print(table)

    verdict = Table(title="incidents planned vs detected")
    for column in ("incident", "window (UTC)", "detected", "how"):
        verdict.add_column(column, overflow="fold")
    for o in result.outcomes:
        i = o.incident
        verdict.add_row(
            i.name,
            f"{i.start:%m-%d %H:%M} → {i.end:%m-%d %H:%M}",
            "[green]yes[/]" if o.detected else "[red]NO[/]",
            o.note,
        )
    console.print(verdict)
    clean = "none" if not result.unexplained else f"[red]{len(result.unexplained)}[/]"
    console.print(
        f"{result.events} predictions and {result.labels} labels sent through the SDK "
        f"({result.dropped} dropped); {len(result.detections)} alert(s) found; false alarms on "
        f"clean windows: {clean}; notifications sent: {result.delivery.sent} "
        f"(failed: {result.delivery.failed}); replay took {result.seconds:.0f} s"
    )


def _when(t: datetime | None) -> str:
    return "never" if t is None else t.strftime("%a %m-%d %H:%M")
