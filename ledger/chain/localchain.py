"""Local chains for development and tests: anvil (default, persistent) and a Hardhat node.

``LocalChain`` starts one as a child process on 127.0.0.1, waits until it answers, and
stops it by PID. Anvil keeps its state in ``state.json`` under the chain folder and dumps it
every ``state_interval`` seconds, so a SIGKILL loses at most that much.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ledger.chain.compile import COMPILER
from ledger.chain.sender import connect
from ledger.config import PROJECT_ROOT
from ledger.datadir import PRIVATE_FILE, PRIVATE_UMASK, private_dir
from ledger.errors import ChainUnavailable

BIN = PROJECT_ROOT / "node_modules" / ".bin"
Kind = Literal["anvil", "hardhat"]
EVM_VERSION: str = COMPILER["settings"]["evmVersion"]


def anvil_binary() -> Path:
    """The native anvil of the npm package (its ``.bin`` entry is a Node shim around it)."""
    for native in sorted((PROJECT_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        return native
    return BIN / "anvil"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalChain:
    """One local chain process."""

    kind: Kind
    port: int
    folder: Path
    persistent: bool = True
    state_interval: int = 1
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    @property
    def log_file(self) -> Path:
        return self.folder / f"{self.kind}.log"

    def command(self) -> list[str]:
        if self.kind == "hardhat":
            return [
                str(BIN / "hardhat"),
                "node",
                "--hostname",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        cmd = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port)]
        # The hard fork the contracts are compiled for. anvil 1.7's default (Prague) fills the
        # EIP-2935 block-hash contract's storage every block and rebuilds the whole trie per
        # block, so mining slows as the chain grows (7x slower after 3,000 empty blocks; 2.8x on Cancun).
        cmd += ["--hardfork", EVM_VERSION]
        if self.persistent:
            # No --preserve-historical-states: it makes the state file grow by ~100 KB a
            # block (200 MB after 1,000 blocks), all rewritten every interval. Blocks and
            # logs survive a reload without it; only eth_call at old blocks does not.
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        return cmd

    def start(self, timeout: float = 60.0) -> None:
        """Start the chain and wait until it answers JSON-RPC."""
        if not (BIN / self.kind).exists():
            raise ChainUnavailable(f"{BIN / self.kind} is missing: run scripts/setup")
        private_dir(self.folder)
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        log = os.fdopen(fd, "ab")
        log_offset = os.fstat(fd).st_size
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=PRIVATE_UMASK,  # its state file: readable by the owner only
        )
        log.close()
        self._wait_until_answers(timeout, log_offset)

    def _wait_until_answers(self, timeout: float, log_offset: int) -> None:
        """Wait for the first JSON-RPC answer; a process that exits meanwhile (a state it
        cannot read, a port in use) is reported at once, with its own last words."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise ChainUnavailable(
                    f"{self.kind} exited at start (code {code}): "
                    f"{self._log_since(log_offset) or 'it printed nothing'} (log: {self.log_file})"
                )
            try:
                connect(self.url, timeout=1.0)
                return
            except ChainUnavailable:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ChainUnavailable(
                        f"{self.kind} did not answer on {self.url} within {timeout} s: "
                        f"see {self.log_file}"
                    ) from None
                time.sleep(0.05)

    def _log_since(self, offset: int, limit: int = 2000) -> str:
        """What the process wrote to its log after ``offset``, on one line (its tail)."""
        try:
            with self.log_file.open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
        return text if len(text) <= limit else "..." + text[-limit:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        """Stop the chain (SIGTERM lets anvil write its state; SIGKILL simulates a crash)."""
        if self.process is None:
            return
        stop_pid(self.process.pid, sig, timeout)
        self.process.wait()
        self.process = None


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Signal the process group led by ``pid`` and wait for the leader to exit."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            if _is_zombie(pid):
                return
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False
