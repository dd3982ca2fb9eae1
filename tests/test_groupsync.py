"""GroupSync: every caller is covered by a flush that started after it arrived."""

from __future__ import annotations

import threading
import time

from ledger.groupsync import GroupSync


def test_each_caller_sees_a_later_flush_and_flushes_are_shared() -> None:
    written: list[int] = []
    flushed_upto = [0]
    calls = [0]

    def flush() -> None:
        calls[0] += 1
        upto = len(written)
        time.sleep(0.01)  # a slow disk
        flushed_upto[0] = max(flushed_upto[0], upto)

    sync = GroupSync(flush)
    errors: list[str] = []

    def writer(i: int) -> None:
        written.append(i)
        mine = len(written)
        sync()
        if flushed_upto[0] < mine:
            errors.append(f"caller {i} returned before its write was flushed")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert calls[0] < 64  # callers shared flushes


def test_a_failed_flush_raises_and_the_next_caller_flushes_again() -> None:
    attempts = [0]

    def flush() -> None:
        attempts[0] += 1
        if attempts[0] == 1:
            raise OSError("disk full")

    sync = GroupSync(flush)
    try:
        sync()
    except OSError:
        pass
    else:
        raise AssertionError("the first flush should have failed")
    sync()
    assert attempts[0] == 2
