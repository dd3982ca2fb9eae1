"""What the benchmark scripts share: timed progress lines on stderr, and the end of a run
(the report as a table or as JSON, and an exit status of 1 when a target is missed)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any


class Progress:
    """``progress("message")`` prints ``[  12.3 s] message`` on stderr unless quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(
                f"[{time.monotonic() - self.started:6.1f} s] {message}", file=sys.stderr, flush=True
            )


def finish(
    report: Any,
    targets: Mapping[str, float],
    as_json: bool,
    table: Callable[[Any], str],
    progress: Progress,
) -> int:
    """Print ``report`` (a dataclass with ``targets_met``); the script's exit status."""
    progress("done")
    if as_json:
        body = {
            **asdict(report),
            "targets": targets,
            "targets_met": report.targets_met,
            "seconds": round(time.monotonic() - progress.started, 1),
        }
        print(json.dumps(body, indent=1))
    else:
        print(table(report))
    return 0 if report.targets_met else 1
