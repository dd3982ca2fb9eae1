"""Group commit: many threads that each need "my writes are on disk" share one flush.

A caller of ``GroupSync`` returns once a run of ``flush`` that *started after the caller
arrived* has finished, so everything it wrote before calling is covered. While one flush
runs, newcomers queue up and the next flush serves all of them: under load the number of
fsyncs grows with the number of flushes the disk can do, not with the number of callers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


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
