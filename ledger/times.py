"""Times: one convention for every answer, export and filter.

Out, a time is ISO 8601 in UTC with a ``Z`` (``2026-10-01T08:30:00Z``); the chain and the
index keep Unix seconds. In, a time may carry an offset (honoured) or none (read as UTC,
whatever the server's time zone), or be a date (midnight UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from ledger.errors import InvalidInput


def iso(ts: int | None) -> str | None:
    """Unix seconds as ISO 8601 UTC with ``Z``; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_utc(moment: datetime) -> datetime:
    """``moment`` with its offset honoured, or read as UTC when it has none; a time whose
    offset takes it outside the years 1-9999 is ``InvalidInput``."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{moment.isoformat()} is outside the years 1 to 9999 once its offset is applied"
        ) from None


@overload
def unix(moment: datetime) -> int: ...
@overload
def unix(moment: None) -> None: ...
@overload
def unix(moment: datetime | None) -> int | None: ...
def unix(moment: datetime | None) -> int | None:
    """Unix seconds of ``moment`` (a bare time counts as UTC); None stays None."""
    return None if moment is None else int(as_utc(moment).timestamp())


def parse(text: str) -> int:
    """Unix seconds of an ISO 8601 time or date (offset honoured, bare = UTC) or of Unix
    seconds given as digits."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(
            f"not an ISO 8601 time or date: {text[:40]!r}; write e.g. 2026-10-01 or "
            "2026-10-01T08:30:00Z (a time without an offset is read as UTC)"
        ) from None
    return unix(moment)
