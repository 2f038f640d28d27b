"""Render the small subset of Prometheus's Go templates that keeneye's annotations use, to
write the expected annotations of promtool unit tests.

Supported: ``{{ $labels.NAME }}`` and ``{{ $value | F }}`` with F one of ``humanize``,
``humanizePercentage`` and ``humanizeDuration``, formatted as Prometheus 2.x formats them
(Go's ``%.4g``). Anything else is an error, so a new template construct cannot slip into a test
expectation unrendered.

>>> render("{{ $labels.model }}: {{ $value | humanizePercentage }}", {"model": "churn"}, -0.45)
'churn: -45%'
>>> humanize_duration(14400.0), humanize_duration(0.975), humanize(2500.0)
('4h 0m 0s', '975ms', '2.5k')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

_ACTION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_LABEL = re.compile(r"^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$")
_VALUE = re.compile(r"^\$value(?:\s*\|\s*([A-Za-z]+))?$")
_SMALL_PREFIXES = ("m", "u", "n", "p", "f", "a", "z", "y")
_LARGE_PREFIXES = ("k", "M", "G", "T", "P", "E", "Z", "Y")


def _g4(value: float) -> str:
    """Go's ``%.4g`` (Python's ``g`` format follows the same rules)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def humanize(value: float) -> str:
    """Prometheus's ``humanize``: SI prefixes, four significant digits."""
    if value == 0 or not math.isfinite(value):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for p in _LARGE_PREFIXES:
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
    else:
        for p in _SMALL_PREFIXES:
            if abs(value) >= 1:
                break
            prefix, value = p, value * 1000
    return f"{_g4(value)}{prefix}"


def humanize_percentage(value: float) -> str:
    """Prometheus's ``humanizePercentage``: a ratio as a percentage."""
    return f"{_g4(value * 100)}%"


def humanize_duration(value: float) -> str:
    """Prometheus's ``humanizeDuration``: seconds as ``1d 2h 3m 4s`` or ``975ms``."""
    if not math.isfinite(value):
        return _g4(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1:
        whole = int(value)
        days, rest = divmod(whole, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(value)}s"
    if value == 0:
        return f"{sign}0s"
    prefix = ""
    for p in _SMALL_PREFIXES:
        if value >= 1:
            break
        prefix, value = p, value * 1000
    return f"{sign}{_g4(value)}{prefix}s"


FUNCTIONS: Mapping[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    """``template`` with its actions replaced as Prometheus would for ``labels`` and ``value``."""

    def action(match: re.Match[str]) -> str:
        body = match.group(1)
        label = _LABEL.match(body)
        if label:
            return labels.get(label.group(1), "")
        ref = _VALUE.match(body)
        if ref:
            name = ref.group(1)
            if name in FUNCTIONS:  # a bare $value prints Go's %v, which keeneye does not use
                return FUNCTIONS[name](value)
        raise ValueError(f"template action {{{{ {body} }}}} is not supported by render()")

    return _ACTION.sub(action, template)
