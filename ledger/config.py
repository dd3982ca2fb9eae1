"""Settings: the one place the Trade Document Ledger reads its configuration.

Every value comes from an environment variable prefixed ``TRADELEDGER_`` (or a ``.env``
file in the working directory) and has a default that runs everything locally. Nothing
else in the code reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All configuration of the library, the service, the CLI and the scripts."""

    model_config = SettingsConfigDict(env_prefix="TRADELEDGER_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / ".data",
        description="Folder for the chain state, deployment record, keystores and IPFS blocks.",
    )

    # --- chain -------------------------------------------------------------------------
    chain: Literal["anvil", "hardhat", "rpc"] = Field(
        default="anvil",
        description="Which chain the scripts start (anvil, hardhat) or 'rpc' for an existing node.",
    )
    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC endpoint.")
    organisation: int | None = Field(
        default=None,
        ge=1,
        description="The organisation this gateway acts for (its on-chain id). Set, the gateway "
        "holds only that organisation's signing keys and serves only its users: it refuses to "
        "start with another organisation's key bound to an API key, to issue API keys or "
        "generate keys for another organisation, and to relay another organisation's signed "
        "requests. It still indexes and verifies the whole chain. Unset: one gateway acts for "
        "every organisation (the demo).",
    )
    anvil_state_interval: int = Field(
        default=1,
        ge=1,
        description="Seconds between anvil state dumps: the most a SIGKILL of the chain can lose.",
    )
    receipt_poll_interval: float = Field(
        default=0.002,
        gt=0,
        description="Seconds between receipt polls (local chains mine at once).",
    )
    receipt_timeout: float = Field(
        default=120.0, gt=0, description="Seconds to wait for a receipt."
    )
    final_after: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a mined write must stay in the canonical chain (and be buried "
        "under index_confirmations blocks) before it counts as final. Until then the service "
        "re-checks it and sends it again if the chain lost it; keep it above a few "
        "anvil_state_interval on the local chain.",
    )
    deployer_key: SecretStr | None = Field(
        default=None,
        description="Private key that deploys and administers the contracts. Unset on a local "
        "chain: a key is generated, funded from the node's dev account and kept in an "
        "encrypted keystore under data_dir.",
    )
    keystore_secret: SecretStr | None = Field(
        default=None,
        description="Secret that encrypts keystores at rest. Unset: read from "
        "keystore_secret_file; in demo mode only, generated once into data_dir/secret.",
    )
    keystore_secret_file: Path | None = Field(
        default=None,
        description="File holding the keystore secret; must lie outside data_dir.",
    )
    demo: bool = Field(
        default=False,
        description="A local demo: the keystore secret may be generated into data_dir "
        "(`tradeledger serve --demo` and scripts/run turn it on).",
    )
    rpc_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds per JSON-RPC call that sends transactions or catches the index up "
        "in the background.",
    )
    lookup_timeout: float = Field(
        default=1.5,
        gt=0,
        description="Seconds per chain call or IPFS lookup made to answer a request (health "
        "checks, reads, the index catching up for a verification): a frozen chain or an "
        "absent CID is answered 503/UNVERIFIABLE within about this time.",
    )

    # --- IPFS --------------------------------------------------------------------------
    ipfs_rpc_url: str | None = Field(
        default=None,
        description="Kubo RPC API of an IPFS node (e.g. http://127.0.0.1:5001). Unset: the "
        "embedded block store under data_dir/blocks.",
    )
    ipfs_timeout: float = Field(default=30.0, gt=0, description="Seconds per IPFS RPC call.")

    # --- index and service database ----------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the index/service database (e.g. "
        "postgresql+psycopg://user@127.0.0.1/ledger). Unset: SQLite at data_dir/ledger.db.",
    )
    index_confirmations: int = Field(
        default=0, ge=0, description="Blocks an event must be buried under before it is indexed."
    )
    index_poll_interval: float = Field(
        default=0.5, gt=0, description="Seconds between index syncs with the chain head."
    )
    index_max_lag: int = Field(
        default=5,
        ge=0,
        description="Blocks the index may trail the chain head before verification says "
        "UNVERIFIABLE.",
    )

    # --- service -----------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the service listens on.")
    public_url: str | None = Field(
        default=None,
        description="Base URL the public sees the service at, printed on verification slips "
        "and in QR codes (e.g. https://ledger.example.org). Unset: http://host:port.",
    )
    corridor_recipients: list[int] = Field(
        default_factory=list,
        description="Organisation ids every registration is also sealed for besides the "
        "issuer, e.g. the destination customs of this gateway's corridor (JSON list: [3]). "
        "Each needs an admitted encryption key.",
    )
    port: int = Field(default=8000, description="Port the service listens on.")
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest accepted document (413 above)."
    )
    chain_stale_after: float = Field(
        default=5.0,
        gt=0,
        description="Seconds without an answer from the chain after which verification says "
        "UNVERIFIABLE and writes answer 503.",
    )

    @property
    def base_url(self) -> str:
        """Where the public reaches the service: ``public_url``, else http://host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ledger.db'}"

    @property
    def chain_dir(self) -> Path:
        return self.data_dir / "chain"

    @property
    def deployment_file(self) -> Path:
        return self.data_dir / "deployment.json"

    @property
    def blocks_dir(self) -> Path:
        return self.data_dir / "blocks"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
