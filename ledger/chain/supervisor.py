"""The process that owns a persistent local anvil and takes its snapshots.

``LocalChain.start`` runs ``python -m ledger.chain.supervisor`` in its own session; the
supervisor starts anvil as its child (same process group, and killed by the kernel if the
supervisor dies: ``PR_SET_PDEATHSIG``), so a kill -9 of the group, of the supervisor or of
anvil takes the whole chain down, and ``tradeledger chain start`` brings it back from the
newest good snapshot.

After a restart it first makes time move forward: anvil starts with mining off, the next
block's timestamp is set to no earlier than the restored head's, then mining goes on (and a
transaction that arrived meanwhile is mined at once).

Then, every ``interval`` seconds, if the head moved, it asks anvil for its whole state
(``anvil_dumpState``) and writes it atomically (``ledger.chain.snapshots``). anvil reads
the head, the blocks and the accounts for a dump one after another while it goes on mining,
so under load a dump's accounts (the contracts' storage) often hold a block its block list
lacks (measured: 15 of 30 dumps with 4 senders); restored, such a state says "registered"
for a record with no block, receipt or log. So mining is paused for the dump (transactions
wait in the pool), and a dump is kept only if the head did not move while it was taken. A dump costs
time in proportion to the blocks anvil holds, so a snapshot waits at least ``PACE`` times
as long as the previous one took: at most about 1/PACE of the time goes to snapshots, and
the loss window is ``max(interval, PACE x the last snapshot's duration)``, written to
``snapshot.status`` after each one. On SIGTERM or SIGINT it takes a last snapshot, then
stops anvil.

Standard library only (and ``snapshots``): it starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ledger.chain.snapshots import Identity, SnapshotError, best_block_number, write_snapshot

DUMP_TRIES = 3  # dumps tried before a snapshot round gives up (the next round tries again)
SETTLE = 0.02  # seconds the head must stay still before a dump
PACE = 5  # a snapshot waits at least PACE x the time the previous one took
STATUS = "snapshot.status"
_PR_SET_PDEATHSIG = 1


class Anvil:
    """JSON-RPC to the child anvil over loopback."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def call(self, method: str, params: list[Any] | None = None, timeout: float = 120.0) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        request = urllib.request.Request(
            self.url, body.encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def answers(self) -> bool:
        try:
            self.call("eth_chainId", timeout=1.0)
            return True
        except (OSError, urllib.error.URLError, RuntimeError):
            return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(f"{stamp} [supervisor] {message}", file=sys.stderr, flush=True)


class Supervisor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.folder = Path(args.folder)
        self.interval: float = args.interval
        self.chunk_pause: float = args.chunk_pause
        self.anvil_cmd: list[str] = args.anvil
        self.restored = args.restored
        self.rpc = Anvil(args.port)
        self.stopping = False
        self.identity: Identity | None = None
        self.last_head: tuple[int, str] | None = None
        self.next_due = 0.0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        cmd = [*self.anvil_cmd, "--no-mining"] if self.restored else self.anvil_cmd
        anvil = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        while not self.rpc.answers():
            if anvil.poll() is not None:
                return anvil.returncode or 1
            if self.stopping:
                anvil.terminate()
                return anvil.wait()
            time.sleep(0.01)
        if self.restored:
            self._time_forward()
        chain_id = int(self.rpc.call("eth_chainId"), 16)
        genesis = self.rpc.call("eth_getBlockByNumber", ["0x0", False])["hash"]
        self.identity = Identity(chain_id, genesis)
        while not self.stopping:
            if anvil.poll() is not None:
                log(f"anvil exited (code {anvil.returncode}): no more snapshots")
                return anvil.returncode or 1
            if time.monotonic() >= self.next_due:
                self._snapshot_if_moved()
            time.sleep(min(self.interval, 0.2))
        self._snapshot_if_moved(final=True)
        anvil.terminate()
        return anvil.wait()

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _time_forward(self) -> None:
        """Timestamps never go backwards: the next block is no earlier than the restored head."""
        head = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        last = int(head["timestamp"], 16)
        if last > time.time():
            self.rpc.call("evm_setNextBlockTimestamp", [last])
            log(f"the restored head's time {last} is ahead of this clock: blocks continue from it")
        self.rpc.call("evm_setAutomine", [True])
        if int(self.rpc.call("txpool_status")["pending"], 16):
            self.rpc.call("evm_mine")

    def _snapshot_if_moved(self, final: bool = False) -> None:
        assert self.identity is not None
        try:
            head = self.rpc.call("eth_getBlockByNumber", ["latest", False])
            current = (int(head["number"], 16), head["hash"])
            if current == self.last_head:
                self.next_due = time.monotonic() + self.interval
                return
            started = time.monotonic()
            payload = self._consistent_dump()
            header = write_snapshot(self.folder, payload, self.identity, self.chunk_pause)
        except (OSError, urllib.error.URLError, RuntimeError, ValueError, SnapshotError) as exc:
            log(f"snapshot failed, will retry: {exc}")
            self.next_due = time.monotonic() + self.interval
            return
        took = time.monotonic() - started
        self.last_head = current
        window = max(self.interval, PACE * took)
        self.next_due = started + window
        status = {
            "sequence": header.sequence,
            "block_number": header.block_number,
            "bytes": header.length,
            "seconds": round(took, 3),
            "loss_window_seconds": round(window, 3),
            "taken_at": header.taken_at_text,
        }
        _write_status(self.folder / STATUS, status)
        if final:
            log(f"last snapshot before stopping: {status}")

    def _head_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def _consistent_dump(self) -> bytes:
        """anvil's state with mining paused: its accounts hold exactly the blocks it lists."""
        self.rpc.call("evm_setAutomine", [False])
        try:
            for _ in range(DUMP_TRIES):
                before = self._settled_head()
                payload = bytes.fromhex(self.rpc.call("anvil_dumpState")[2:])
                if self._head_number() == before == best_block_number(payload):
                    return payload
            raise SnapshotError(f"the head moved during {DUMP_TRIES} dumps with mining paused")
        finally:
            self.rpc.call("evm_setAutomine", [True])
            if int(self.rpc.call("txpool_status")["pending"], 16):
                self.rpc.call("evm_mine")  # what arrived during the dump, at once

    def _settled_head(self) -> int:
        """The head once a block being mined when mining was paused is in (or none was)."""
        head = self._head_number()
        while True:
            time.sleep(SETTLE)
            again = self._head_number()
            if again == head:
                return head
            head = again


def _write_status(path: Path, status: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(status) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--restored", action="store_true", help="anvil loads a saved state")
    parser.add_argument("--chunk-pause", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("anvil", nargs=argparse.REMAINDER, help="-- then anvil's command")
    args = parser.parse_args(argv)
    if args.anvil[:1] == ["--"]:
        args.anvil = args.anvil[1:]
    os.umask(0o077)
    return Supervisor(args).run()


if __name__ == "__main__":
    sys.exit(main())
