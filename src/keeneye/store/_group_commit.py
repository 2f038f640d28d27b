"""Group commit: the writes that arrive while one transaction commits share the next one.

A store whose writes are serialised (one writer, one lock) pays a fixed price per transaction:
the statement set-up, the commit and its flush of the write-ahead log. Under concurrent load,
writers queue behind that lock anyway; here the first of them to find no transaction running
becomes the *leader*, takes every write queued so far and runs them as one group, while the
others (*followers*) wait for their own write's outcome. Each caller still returns only once
its rows are committed, and gets its own result or its own exception.

>>> group = GroupCommit()
>>> group.submit(3, lambda items: [item * 2 for item in items])
6
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.outcome: R | BaseException | None = None


class GroupCommit(Generic[T, R]):
    """A queue of writes run in groups by whichever caller finds no group running."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Slot[T, R]] = []
        self._running = False

    def submit(self, item: T, run: Callable[[Sequence[T]], Sequence[R | BaseException]]) -> R:
        """Queue ``item``; return its result once a group holding it ran.

        ``run`` gets the items of one group in arrival order and returns one outcome per item
        (a result, or an exception instance that is raised in that item's caller). It runs in
        the leader's thread, never in two threads at once.
        """
        slot: _Slot[T, R] = _Slot(item)
        with self._cond:
            self._queue.append(slot)
            while not slot.done and self._running:
                self._cond.wait()
            if not slot.done:
                self._running = True
                group, self._queue = self._queue, []
        if not slot.done:
            self._lead(group, run)
        outcome = slot.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    def _lead(
        self, group: list[_Slot[T, R]], run: Callable[[Sequence[T]], Sequence[R | BaseException]]
    ) -> None:
        try:
            outcomes: Sequence[R | BaseException] = run([slot.item for slot in group])
            if len(outcomes) != len(group):  # pragma: no cover - a runner bug
                raise RuntimeError(f"group runner gave {len(outcomes)} outcomes for {len(group)}")
        except BaseException as exc:  # the whole group failed: every caller sees why
            outcomes = [exc] * len(group)
        with self._cond:
            for slot, outcome in zip(group, outcomes, strict=True):
                slot.outcome = outcome
                slot.done = True
            self._running = False
            self._cond.notify_all()
