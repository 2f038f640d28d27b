"""Group commit: writes queued while one group runs share the next group; each caller gets its
own outcome."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from keeneye.store._group_commit import GroupCommit


def test_writes_queued_behind_a_running_group_run_together_with_their_own_outcomes() -> None:
    group: GroupCommit[int, int] = GroupCommit()
    release = threading.Event()
    groups: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int | BaseException]:
        groups.append(list(items))
        if items == [0]:
            release.wait(timeout=30)  # the first group "commits" until the others are queued
        return [ValueError(f"item {i} refused") if i == 2 else i * 10 for i in items]

    results: dict[int, object] = {}

    def submit(item: int) -> None:
        try:
            results[item] = group.submit(item, run)
        except ValueError as exc:
            results[item] = exc

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    while not groups:  # the first group is running
        threading.Event().wait(0.001)
    others = [threading.Thread(target=submit, args=(i,)) for i in (1, 2, 3)]
    for thread in others:
        thread.start()
    while len(group._queue) < 3:  # all three wait behind the running group
        threading.Event().wait(0.001)
    release.set()
    for thread in (first, *others):
        thread.join()

    assert groups[0] == [0]
    assert sorted(groups[1]) == [1, 2, 3]  # one group for everything queued meanwhile
    assert results[0] == 0 and results[1] == 10 and results[3] == 30
    assert isinstance(results[2], ValueError) and "item 2 refused" in str(results[2])


def test_a_runner_that_fails_fails_every_write_of_its_group_and_not_the_next() -> None:
    group: GroupCommit[int, int] = GroupCommit()

    def broken(items: Sequence[int]) -> list[int | BaseException]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        group.submit(1, broken)
    assert group.submit(2, lambda items: [i + 1 for i in items]) == 3
