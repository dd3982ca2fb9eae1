"""The fault script's short version: clients register while the chain and the service are
killed with SIGKILL (3 times each, and once both); nothing acknowledged is lost, registered
twice or stuck, and no answer says registered for what the chain does not hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.chain


def test_kills_lose_nothing_acknowledged() -> None:
    args = ["--chain-kills", "3", "--service-kills", "3", "--both-kills", "1"]
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "faults.py"), *args, "--clients", "4", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert run.stdout.strip(), run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["acknowledged"] > 0, result
    for count in ("lost", "duplicated", "stuck", "unreadable_state", "false_answers"):
        assert result[count] == 0, (count, result, run.stderr[-3000:])
    assert run.returncode == 0
