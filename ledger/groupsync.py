"""Group commit: many threads that each need the same slow step share one run of it.

A caller of ``GroupSync`` returns once a run of ``flush`` that *started after the caller
arrived* has finished, so everything it wrote before calling is covered. While one flush
runs, newcomers queue up and the next flush serves all of them: under load the number of
fsyncs grows with the number of flushes the disk can do, not with the number of callers.

``Batcher`` does the same for work with an answer per caller (sending transactions,
reading receipts): one caller, the leader, hands every queued item to ``handle`` at once
and gives each caller its own result or exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupSync:
    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._cv = threading.Condition()
        self._started = 0  # flushes begun
        self._finished = 0  # flushes completed (a flush completes only after all earlier ones)
        self._running = False

    def __call__(self) -> None:
        with self._cv:
            needed = self._started + 1  # the first flush that may start after this point
            while self._finished < needed:
                if self._running:
                    self._cv.wait()
                    continue
                self._running = True
                self._started += 1
                mine = self._started
                self._cv.release()
                try:
                    self._flush()
                finally:
                    self._cv.acquire()
                    self._running = False
                    self._cv.notify_all()
                self._finished = mine


class _Slot:
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.outcome: Any = None
        self.done = False


class Batcher(Generic[T, R]):
    """Callers queue an item; one of them runs ``handle`` on all queued items (at most
    ``max_items``) while newcomers queue for the next run. ``handle`` answers one result
    or exception per item, in order; an exception it raises is every item's answer."""

    def __init__(
        self,
        handle: Callable[[list[T]], Sequence[R | BaseException]],
        max_items: int | None = None,
    ) -> None:
        self._handle = handle
        self._max = max_items
        self._cv = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False

    def __call__(self, item: T) -> R:
        slot = _Slot(item)
        with self._cv:
            self._queue.append(slot)
            while not slot.done:
                if self._busy:
                    self._cv.wait()
                    continue
                self._busy = True
                count = len(self._queue) if self._max is None else self._max
                group, self._queue = self._queue[:count], self._queue[count:]
                self._cv.release()
                try:
                    outcomes: Sequence[Any] = self._handle([s.item for s in group])
                    if len(outcomes) != len(group):
                        raise RuntimeError(f"{len(outcomes)} answers for {len(group)} items")
                except BaseException as exc:
                    outcomes = [exc] * len(group)
                finally:
                    self._cv.acquire()
                for member, outcome in zip(group, outcomes, strict=True):
                    member.outcome, member.done = outcome, True
                self._busy = False
                self._cv.notify_all()
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        result: R = slot.outcome
        return result
