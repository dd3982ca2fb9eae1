"""Local chains for development and tests: anvil (default, persistent) and a Hardhat node.

``LocalChain`` starts one as a child process on 127.0.0.1, waits until it answers (or says
at once why it exited), and stops it by PID. A persistent anvil runs under its supervisor
(``ledger.chain.supervisor``), which takes atomic snapshots of its state; ``start`` first
picks the newest good snapshot (``ledger.chain.snapshots``), says which in ``recovery``,
and refuses a state that is unreadable or another chain's, deleting nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ledger.chain import snapshots
from ledger.chain.compile import COMPILER
from ledger.chain.sender import connect
from ledger.config import PROJECT_ROOT
from ledger.datadir import PRIVATE_FILE, PRIVATE_UMASK, private_dir
from ledger.errors import ChainStateError, ChainUnavailable

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
    snapshot_chunk_pause: float = 0.0  # tests only: slow snapshot writes down, to kill one midway
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    recovery: str = ""  # what the last start loaded, in a sentence

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def supervised(self) -> bool:
        """A persistent anvil runs under the supervisor that takes its snapshots."""
        return self.kind == "anvil" and self.persistent

    @property
    def node_pid(self) -> int | None:
        """The PID of the node itself (anvil under its supervisor), e.g. to freeze it."""
        if self.process is None:
            return None
        if not self.supervised:
            return self.process.pid
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    @property
    def state_file(self) -> Path:
        """anvil's own state file, as older versions kept it: loaded when no snapshot exists."""
        return self.folder / "state.json"

    @property
    def snapshot_dir(self) -> Path:
        return snapshots.snapshot_dir(self.folder)

    @property
    def load_file(self) -> Path:
        return self.folder / "load.json"

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
        return cmd

    def _launch(self) -> list[str]:
        """The command to run: anvil or Hardhat, or for a persistent anvil its supervisor,
        after choosing the state to load (no --preserve-historical-states: it makes the state
        grow by ~100 KB a block; blocks and logs survive a reload without it, only eth_call
        at old blocks does not)."""
        if not self.supervised:
            return self.command()
        try:
            chosen = snapshots.choose(self.folder)
        except snapshots.SnapshotError as exc:
            raise ChainStateError(str(exc)) from None
        anvil = self.command()
        if chosen.state_json is not None:
            _write_private(self.load_file, chosen.state_json)
            anvil += ["--load-state", str(self.load_file)]
            self.recovery = chosen.message
        elif self.state_file.exists():
            anvil += ["--load-state", str(self.state_file)]
            self.recovery = (
                f"restored anvil's own state file {self.state_file.name} (kept as it is): "
                "snapshots from now on"
            )
        else:
            self.recovery = chosen.message
        restored = ["--restored"] if "--load-state" in anvil else []
        return [
            sys.executable,
            "-m",
            "ledger.chain.supervisor",
            "--folder",
            str(self.folder),
            "--port",
            str(self.port),
            "--interval",
            str(self.state_interval),
            "--chunk-pause",
            str(self.snapshot_chunk_pause),
            *restored,
            "--",
            *anvil,
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the chain and wait until it answers JSON-RPC (``recovery`` says from what)."""
        if not (BIN / self.kind).exists():
            raise ChainUnavailable(f"{BIN / self.kind} is missing: run scripts/setup")
        private_dir(self.folder)
        wait_port_free(self.port, 5.0)  # a chain just killed may still be letting go of it
        command = self._launch()
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        log = os.fdopen(fd, "ab")
        log_offset = os.fstat(fd).st_size
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=PRIVATE_UMASK,  # its state file: readable by the owner only
        )
        log.close()
        try:
            self._wait_until_answers(timeout, log_offset)
        finally:
            self.load_file.unlink(missing_ok=True)
        if self.supervised:
            self._check_identity(restored="--restored" in command)

    def _check_identity(self, restored: bool) -> None:
        """A restored chain is this folder's: same chain id and genesis block as
        ``identity.json``, which a new chain (re)writes."""
        w3 = connect(self.url, timeout=10.0)
        live = snapshots.Identity(
            w3.eth.chain_id,
            w3.eth.get_block(0)["hash"].to_0x_hex(),
        )
        try:
            known = snapshots.read_identity(self.folder)
        except snapshots.SnapshotError as exc:
            self.stop()
            raise ChainStateError(str(exc)) from None
        if known is None or not restored:
            snapshots.write_identity(self.folder, live)
        elif known != live:
            self.stop()
            raise ChainStateError(
                f"the state loaded is another chain's ({live.describe()}) than this data "
                f"folder's ({known.describe()}, in {snapshots.identity_file(self.folder)}): "
                "move the state out of the folder, or point TRADELEDGER_DATA_DIR at the folder "
                "it belongs to; nothing was deleted"
            )

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

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Stop the chain (SIGTERM lets the supervisor take a last snapshot; SIGKILL of the
        whole process group simulates a crash). Returns once the port is free again."""
        if self.process is None:
            return
        stop_chain(self.process.pid, self.supervised, sig, timeout)
        self.process.wait()
        self.process = None
        wait_port_free(self.port)


def stop_chain(
    pid: int, supervised: bool, sig: int = signal.SIGTERM, timeout: float = 60.0
) -> None:
    """Stop a chain started by ``LocalChain``: a supervised anvil gets SIGTERM alone (so its
    supervisor takes the last snapshot and stops anvil), anything else its whole group."""
    if supervised and sig == signal.SIGTERM:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if _wait_exit(pid, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # anything left of the group
            return
    stop_pid(pid, sig, timeout)


def wait_port_free(port: int, timeout: float = 10.0) -> None:
    """Wait until nothing accepts connections on 127.0.0.1:``port`` (a killed child may
    still be closing it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.02)


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Signal the process group led by ``pid`` and wait for the leader to exit."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    if not _wait_exit(pid, timeout):
        os.killpg(pid, signal.SIGKILL)


def _wait_exit(pid: int, timeout: float) -> bool:
    """True once ``pid`` has exited (or is a zombie), False if it still runs at ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            if _is_zombie(pid):
                return True
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False
