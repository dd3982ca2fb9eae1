"""Fixtures of the query tests: a ledger on anvil with three days of activity, indexed by the
real indexer into the database under test (SQLite, and PostgreSQL with ``--postgres``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ledger.chain.localchain import LocalChain
from ledger.chain.manifest import Manifest
from ledger.chain.sender import connect
from ledger.types import RevocationReason, Verdict
from tests.conftest import advance_time
from tests.databases import Databases
from tests.index.conftest import RAW, World, anvil, make_world, world

__all__ = ["anvil", "world"]
DAY = 86400


@dataclass
class Scenario:
    """What was done on chain, by name, and the days it happened on (block times)."""

    world: World
    fps: dict[str, bytes] = field(default_factory=dict)
    atts: dict[str, bytes] = field(default_factory=dict)
    manifest: Manifest | None = None  # in the block store
    blind: Manifest | None = None  # not in the block store
    times: list[int] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.world.engine

    def fresh_index(self) -> Engine:
        """Another database indexed from the same chain (for tests that tamper with it)."""
        engine = self.world.fresh_engine()
        self.world.indexer(engine).sync()
        return engine


def build(world: World) -> Scenario:
    s = Scenario(world)
    r, w3 = world.registry, world.w3

    def reg(name: str, role: str, doc_type: int, ref: str, meta: bytes = b"") -> None:
        fp = os.urandom(32)
        r.register(world.sender(role), fp, doc_type, RAW + os.urandom(32), ref, meta)
        s.fps[name] = fp

    # day 1: registrations by two organisations
    s.times.append(int(w3.eth.get_block("latest")["timestamp"]))
    reg("a1", "exporter", 861, "SMGS-1")
    reg("a2", "exporter", 380, "SMGS-1")
    reg("a3", "exporter", 720, "SMGS-2")
    reg("b1", "issuer", 861, "SMGS-1", RAW + os.urandom(32))
    reg("b2", "issuer", 851, "SMGS-3")
    # day 2: a batch with its manifest in the store, a batch without, one member recorded
    s.times.append(advance_time(w3, DAY))
    manifest, cid = world.put_manifest(4, ref="SMGS-4")
    r.anchor_batch(world.sender("exporter"), manifest.tree().root, 4, cid)
    s.manifest = manifest
    blind, _ = world.put_manifest(3, ref="SMGS-5")  # anchored with a CID the store lacks
    tree = blind.tree()
    r.anchor_batch(world.sender("issuer"), tree.root, 3, RAW + os.urandom(32))
    r.record_batch_member(
        world.sender("customs"), tree.root, blind.entries[0].member(), tree.proof(0)
    )
    s.blind = blind
    s.fps["m0"] = bytes.fromhex(manifest.entries[0].fingerprint)
    s.fps["n0"] = bytes.fromhex(blind.entries[0].fingerprint)
    s.atts["cleared"], _ = r.attest(world.sender("customs"), s.fps["a1"], Verdict.CLEARED, "HRT-1")
    s.atts["held"], _ = r.attest(world.sender("customs"), s.fps["a2"], Verdict.HELD, "HRT-2")
    s.atts["member"], _ = r.attest(world.sender("customs"), s.fps["n0"], Verdict.VERIFIED, "HRT-3")
    # day 3: a revocation, a supersession, a rejection, a revoked attestation
    s.times.append(advance_time(w3, DAY))
    r.revoke(world.sender("exporter"), s.fps["a3"], RevocationReason.CANCELLED)
    new = os.urandom(32)
    r.supersede(world.sender("issuer"), s.fps["b2"], new, 851, RAW + os.urandom(32), "SMGS-3")
    s.fps["b2new"] = new
    s.atts["rejected"], _ = r.attest(world.sender("customs"), new, Verdict.REJECTED, "HRT-4")
    s.atts["revoked"], _ = r.attest(world.sender("customs"), s.fps["b1"], Verdict.HELD, "HRT-5")
    r.revoke_attestation(world.sender("customs"), s.atts["revoked"])
    world.indexer().sync()
    return s


@pytest.fixture(scope="module")
def scenario(
    anvil: LocalChain, module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Scenario:
    tmp: Path = tmp_path_factory.mktemp("scenario")
    return build(make_world(connect(anvil.url), tmp, new_engine=module_databases.new))
