"""One notification per model and evaluation: the messages one :meth:`Notifier.process` call
decided on are combined per model, so a bad day that raises eight alerts sends one message
listing them (worst first), not eight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from keeneye.notify.alert import Severity
from keeneye.notify.message import Message, MessageKind

_KIND_ORDER = {MessageKind.FIRING: 0, MessageKind.REMINDER: 1, MessageKind.RESOLVED: 2}


def _rank(message: Message) -> tuple[int, int]:
    severe = 0 if message.alert.severity is Severity.CRITICAL else 1
    return (_KIND_ORDER[message.kind], severe)


def group_messages(messages: Sequence[Message]) -> list[Message]:
    """Messages combined per model (a model with one message keeps it unchanged).

    The combined message takes the kind and alert of its most urgent part (firing before
    reminder before resolved, critical before warning); ``parts`` holds every part.
    """
    by_model: dict[str, list[Message]] = {}
    for message in messages:
        by_model.setdefault(message.alert.model, []).append(message)
    out: list[Message] = []
    for model, parts in by_model.items():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        parts = sorted(parts, key=_rank)
        lead = parts[0]
        counts = {kind: sum(1 for p in parts if p.kind is kind) for kind in MessageKind}
        said = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
        head = (
            "RESOLVED" if lead.kind is MessageKind.RESOLVED else lead.alert.severity.value.upper()
        )
        title = f"[keeneye] {head} {model}: {len(parts)} alerts ({said})"
        body = "\n\n".join(f"{p.title.removeprefix('[keeneye] ')}\n{p.body}" for p in parts)
        out.append(replace(lead, title=title, body=body, parts=tuple(parts)))
    return out


__all__ = ["group_messages"]
