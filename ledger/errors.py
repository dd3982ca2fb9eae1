"""The one exception tree of the Trade Document Ledger.

Every error a caller can meet derives from ``LedgerError`` and carries a message that says
what to do next. The API maps the categories to HTTP statuses in one handler::

    LedgerError
    ├── InvalidInput           bad input from the caller (422 / 400)
    ├── NotFound               unknown document, organisation, CID... (404)
    ├── Conflict               already registered, already revoked... (409)
    │   └── DataFolderBusy     another process owns the data folder or the database
    ├── Forbidden              wrong role, key outside its validity window (403)
    ├── NotFinal               evidence asked for a block that is not final yet (425,
    │                          Retry-After)
    ├── Unavailable            a backend is down or too slow: retry later (503)
    │   ├── ChainUnavailable
    │   └── StoreUnavailable
    │       └── StoreTimeout
    ├── ContractError          a contract call reverted with a named custom error; it is
    │                          also an instance of one category above (see ``ledger.chain.sender``)
    ├── DeploymentError        no deployment, or one that the chain no longer holds
    ├── ChainStateError        a saved state of the local chain that cannot be used (unreadable,
    │                          or another chain's): nothing is deleted
    ├── Misconfigured          a setting is missing or unsafe (e.g. no keystore secret)
    ├── IntegrityError         bytes that do not match their hash or CID
    │   ├── CidMismatch
    │   └── SealBroken         sealed bytes that do not open: wrong key, or altered,
    │                          truncated or reordered ciphertext, or a key wrap for
    │                          another document or recipient
    └── ProofError             offline proof material (headers, receipt and storage proofs,
        │                      checkpoints) that cannot be relied on; ``part`` and ``problem``
        │                      name where and what (see ``ledger.proofs``)
        ├── ProofInvalid       it does not hold: altered, incomplete, or the proof of
        │                      something else (a verdict of INVALID)
        └── ProofStale         it holds, but its checkpoint is older than the trust file
                               allows or ahead of this clock (a verdict of UNVERIFIABLE)
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error raised by the ledger library."""


class InvalidInput(LedgerError):
    """The caller's input is malformed or out of range."""


class NotFound(LedgerError):
    """The thing asked for does not exist."""


class Conflict(LedgerError):
    """The action conflicts with the current state (e.g. registered twice)."""


class DataFolderBusy(Conflict):
    """Another process owns the data folder or the database; the message names it."""


class Forbidden(LedgerError):
    """The caller's key or role may not do this."""


class NotFinal(LedgerError):
    """What was asked for rests on a block that is not final yet; ``retry_after`` seconds
    is when to ask again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(LedgerError):
    """A backend (chain, IPFS) cannot be reached or did not answer in time."""


class ChainUnavailable(Unavailable):
    """The JSON-RPC endpoint of the chain cannot be reached."""


class StoreUnavailable(Unavailable):
    """The content store (IPFS node) cannot be reached."""


class StoreTimeout(StoreUnavailable):
    """The content store did not answer in time."""


class DeploymentError(LedgerError):
    """No usable deployment of the contracts on the configured chain."""


class ChainStateError(LedgerError):
    """The local chain's saved state cannot be used; the message names the file and why."""


class Misconfigured(LedgerError):
    """A setting is missing or unsafe; the message says which and how to set it."""


class IntegrityError(LedgerError):
    """Bytes do not match the hash or CID they are stored under."""


class CidMismatch(IntegrityError):
    """An IPFS node computed a different CID than ours for the same bytes."""


class SealBroken(IntegrityError):
    """Sealed bytes do not open with the key given; nothing of them may be used."""


class ContentNotFound(NotFound):
    """The content store does not hold the CID asked for."""


class ContractError(LedgerError):
    """A contract call reverted with one of the contracts' custom errors.

    ``name`` is the Solidity error name and ``params`` its decoded arguments. Instances are
    created by ``ledger.chain.sender`` as a subclass that also derives from the right category
    (``Conflict``, ``Forbidden``...), so callers may catch either.
    """

    def __init__(self, name: str, params: dict[str, object], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.params = params


class ProofError(LedgerError):
    """Offline proof material that cannot be relied on.

    ``part`` names the piece (``header``, ``header chain``, ``receipt``, ``event``,
    ``account``, ``storage``, ``checkpoint``) and ``problem`` is a short code of what is
    wrong (``node_mismatch``, ``unknown_signer``...), the same codes the browser verifier gives.
    """

    def __init__(self, part: str, problem: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.problem = problem


class ProofInvalid(ProofError):
    """The proof does not hold: something was altered, left out, or proves something else."""


class ProofStale(ProofError):
    """The proof holds, but its checkpoint is too old for the trust file (or from the future)."""
