"""Applying decoded events to the index tables, one block range per ``RangeWriter``.

Rows created in the range are staged in memory (later events of the same range change
them there) and inserted with one ``executemany`` per table; changes to rows of earlier
ranges become ``UPDATE`` statements, run in event order after the inserts. Every handler
is driven by the JSON-ready arguments of ``ledger.index.events``, so events stored in the
``events`` table can be applied again the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, select, update
from sqlalchemy.sql.dml import Update

from ledger.chain import Manifest
from ledger.cid import Cid
from ledger.content import ContentStore
from ledger.db import (
    attestations,
    batch_members,
    batches,
    documents,
    events,
    keys,
    organisations,
)
from ledger.errors import ContentNotFound, LedgerError
from ledger.index.events import Event, RecordedMember, cid_text, fp_key, parse_cid_or_none
from ledger.types import OrgKind, Verdict

log = logging.getLogger(__name__)


def _stmt(table: Table, key: str, *cols: str, extra: str | None = None) -> Update:
    where = table.c[key] == bindparam("k_" + key)
    if extra is not None:
        where = and_(where, table.c[extra] == bindparam("k_" + extra))
    return update(table).where(where).values({c: bindparam("v_" + c) for c in cols})


_UPDATES: dict[str, Update] = {
    "revoke": _stmt(
        documents, "fingerprint", "status", "revoked_by", "revoked_reason", "revoked_at"
    ),
    "superseded": _stmt(documents, "fingerprint", "status", "superseded_by"),
    "supersedes": _stmt(documents, "fingerprint", "supersedes"),
    "metadata": _stmt(documents, "fingerprint", "metadata_cid", extra="tx_hash"),
    # every still-registered member of a revoked batch
    "batch_revoke": _stmt(
        documents,
        "batch_root",
        "status",
        "revoked_by",
        "revoked_reason",
        "revoked_at",
        extra="status",
    ),
    "att_revoke": _stmt(attestations, "attestation_id", "revoked", "revoked_by"),
    "retire": _stmt(keys, "address", "retired_at", "valid_until"),
}


_KEYS = {
    "revoke": "fingerprint",
    "superseded": "fingerprint",
    "supersedes": "fingerprint",
    "att_revoke": "attestation_id",
    "retire": "address",
}


class RangeWriter:
    """Stages one range's rows and changes, then writes them in ``flush``."""

    def __init__(self, conn: Connection, store: ContentStore | None) -> None:
        self.conn = conn
        self.store = store
        self._orgs: list[dict[str, Any]] = []
        self._keys: dict[str, dict[str, Any]] = {}
        self._docs: dict[str, dict[str, Any]] = {}
        self._batches: list[dict[str, Any]] = []
        self._members: list[dict[str, Any]] = []
        self._atts: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._updates: list[tuple[str, dict[str, Any]]] = []
        self._key_org: dict[str, int] | None = None
        self._stored_docs: set[str] = set()  # fingerprints known to have a row already
        self._doc_times: dict[str, int] = {}  # registered_at of stored attested documents
        # (tx hash, fingerprint) -> member read from a recordBatchMember call's calldata
        self.recorded: dict[tuple[str, str], RecordedMember] = {}

    # ------------------------------------------------------------------ lookups

    def prepare(self, evs: Sequence[Event]) -> None:
        """Look up at once which registered fingerprints already have a row, and the
        registration times of the documents attested in the range."""
        names = ("DocumentRegistered", "BatchMemberRecorded")
        fps = [fp_key(e.args["fingerprint"]) for e in evs if e.name in names]
        self._load_stored(fps)
        attested = sorted(
            {fp_key(e.args["fingerprint"]) for e in evs if e.name == "AttestationRecorded"}
        )
        for i in range(0, len(attested), 500):
            rows = self.conn.execute(
                select(documents.c.fingerprint, documents.c.registered_at).where(
                    documents.c.fingerprint.in_(attested[i : i + 500])
                )
            ).all()
            self._doc_times.update({r.fingerprint: int(r.registered_at) for r in rows})

    def _load_stored(self, fps: list[str]) -> None:
        for i in range(0, len(fps), 500):
            chunk = fps[i : i + 500]
            found = self.conn.execute(
                select(documents.c.fingerprint).where(documents.c.fingerprint.in_(chunk))
            ).scalars()
            self._stored_docs.update(found)

    def _has_doc(self, fp: str) -> bool:
        return fp in self._docs or fp in self._stored_docs

    def org_of(self, key: str) -> int:
        if self._key_org is None:
            rows = self.conn.execute(select(keys.c.address, keys.c.org_id)).all()
            self._key_org = {r.address: int(r.org_id) for r in rows}
        return self._key_org.get(key, 0)

    # ------------------------------------------------------------------ events

    def apply(self, ev: Event, record: bool = True) -> None:
        if record:
            self._events.append(
                {
                    "block_number": ev.block_number,
                    "log_index": ev.log_index,
                    "block_hash": ev.block_hash,
                    "tx_hash": ev.tx_hash,
                    "name": ev.name,
                    "subject": ev.subject,
                    "args": json.dumps(ev.args, separators=(",", ":")),
                    "block_time": ev.block_time,
                }
            )
        handler = getattr(self, "_on_" + ev.name, None)
        if handler is None:
            return
        try:
            handler(ev, ev.args)
        except (LedgerError, ValueError, KeyError, TypeError, UnicodeError) as exc:
            # a malformed event must not stop the index: it stays in the events table
            log.error(
                "event %s at %d/%d not applied: %r", ev.name, ev.block_number, ev.log_index, exc
            )

    def _on_OrganisationAdmitted(self, ev: Event, a: dict[str, Any]) -> None:
        self._orgs.append(
            {
                "org_id": a["orgId"],
                "name": a["name"],
                "country": bytes.fromhex(a["country"][2:]).decode("ascii", "replace"),
                "kind": _name(OrgKind, a["kind"]),
                **ev.origin(),
            }
        )

    def _on_KeyAdded(self, ev: Event, a: dict[str, Any]) -> None:
        self.org_of(a["key"])  # load the cache before adding to it
        assert self._key_org is not None
        self._key_org[a["key"]] = a["orgId"]
        self._keys[a["key"]] = {
            "address": a["key"],
            "org_id": a["orgId"],
            "valid_from": a["validFrom"],
            "valid_until": a["validUntil"],
            "retired_at": None,
            **ev.origin(),
        }

    def _on_KeyRetired(self, ev: Event, a: dict[str, Any]) -> None:
        change = {"retired_at": a["retiredAt"], "valid_until": a["retiredAt"]}
        self._change("retire", self._keys, a["key"], change)

    def _on_DocumentRegistered(self, ev: Event, a: dict[str, Any]) -> None:
        fp = fp_key(a["fingerprint"])
        if self._has_doc(fp):
            return  # the first record of a fingerprint wins (see ledger.index.indexer)
        raw_cid = bytes.fromhex(a["cidPrefix"][2:] + a["cidDigest"][2:])
        self._docs[fp] = self._doc_row(
            ev, fp, cid_text(raw_cid), a["docType"], a["consignmentRef"], a["issuer"]
        )

    def _doc_row(
        self, ev: Event, fp: str, cid: str, doc_type: int, ref: str, issuer: str, **more: Any
    ) -> dict[str, Any]:
        row = {
            "fingerprint": fp,
            "cid": cid,
            "doc_type": doc_type,
            "consignment_ref": ref,
            "metadata_cid": None,
            "issuer": issuer,
            "org_id": self.org_of(issuer),
            "registered_at": ev.block_time,
            "status": "registered",
            "batch_root": None,
            "superseded_by": None,
            "supersedes": None,
            "revoked_by": None,
            "revoked_reason": None,
            "revoked_at": None,
            **ev.origin(),
        }
        row.update(more)
        return row

    def _on_DocumentMetadataAnchored(self, ev: Event, a: dict[str, Any]) -> None:
        fp = fp_key(a["fingerprint"])
        value = parse_cid_or_none(a["metadataCid"])
        row = self._docs.get(fp)
        if row is not None:
            if row["tx_hash"] == ev.tx_hash:
                row["metadata_cid"] = value
            return
        self._updates.append(
            ("metadata", {"k_fingerprint": fp, "k_tx_hash": ev.tx_hash, "v_metadata_cid": value})
        )

    def _on_BatchAnchored(self, ev: Event, a: dict[str, Any]) -> None:
        root, issuer = a["root"], a["issuer"]
        org_id = self.org_of(issuer)
        self._batches.append(
            {
                "root": root,
                "issuer": issuer,
                "org_id": org_id,
                "size": a["size"],
                "manifest_cid": parse_cid_or_none(a["manifestCid"]),
                "anchored_at": ev.block_time,
                **ev.origin(),
            }
        )
        manifest = self._manifest(a["manifestCid"], root)
        if manifest is None:
            return
        if len(manifest.entries) != a["size"]:
            log.warning(
                "batch %s: manifest has %d members, event says %d",
                root,
                len(manifest.entries),
                a["size"],
            )
        tree = manifest.tree()
        self._load_stored([e.fingerprint.lower() for e in manifest.entries])
        seen: set[str] = set()
        for i, entry in enumerate(manifest.entries):
            fp = entry.fingerprint.lower()
            if fp in seen:
                continue
            seen.add(fp)
            proof = json.dumps(["0x" + p.hex() for p in tree.proof(i)])
            self._members.append({"fingerprint": fp, "root": root, "proof": proof, **ev.origin()})
            if not self._has_doc(fp):
                meta = _cid_or_none(entry.metadata_cid)
                self._docs[fp] = self._doc_row(
                    ev,
                    fp,
                    str(Cid.parse(entry.cid)),
                    entry.doc_type,
                    entry.consignment_ref,
                    issuer,
                    batch_root=root,
                    metadata_cid=meta,
                )

    def _manifest(self, cid_hex: str, root: str) -> Manifest | None:
        if self.store is None or len(cid_hex) <= 2:
            return None
        try:
            cid = Cid.parse(bytes.fromhex(cid_hex[2:]))
            manifest = Manifest.from_json(b"".join(self.store.get(cid)))
        except ContentNotFound:
            log.info("batch %s: members not indexed, the store lacks its manifest", root)
            return None
        except LedgerError as exc:
            log.warning("batch %s: members not indexed, manifest unavailable: %s", root, exc)
            return None
        if "0x" + manifest.tree().root.hex() != root:
            log.warning("batch %s: the manifest %s is of another root; ignored", root, cid)
            return None
        return manifest

    def _on_BatchMemberRecorded(self, ev: Event, a: dict[str, Any]) -> None:
        """A member whose manifest the store lacked: its fields come from the call's calldata."""
        fp, root = fp_key(a["fingerprint"]), a["root"]
        member = self.recorded.get((ev.tx_hash, fp))
        if self._has_doc(fp) or member is None or member.root != root:
            return
        batch = self._batch(root)
        if batch is None:
            return
        issuer, anchored_at = batch
        self._docs[fp] = self._doc_row(
            ev,
            fp,
            member.cid,
            member.doc_type,
            member.consignment_ref,
            issuer,
            batch_root=root,
            registered_at=anchored_at,
        )
        proof = json.dumps(member.proof)
        self._members.append({"fingerprint": fp, "root": root, "proof": proof, **ev.origin()})

    def _batch(self, root: str) -> tuple[str, int] | None:
        for b in self._batches:
            if b["root"] == root:
                return b["issuer"], b["anchored_at"]
        row = self.conn.execute(
            select(batches.c.issuer, batches.c.anchored_at).where(batches.c.root == root)
        ).first()
        return None if row is None else (row.issuer, int(row.anchored_at))

    def _on_DocumentRevoked(self, ev: Event, a: dict[str, Any]) -> None:
        change = {
            "status": "revoked",
            "revoked_by": a["by"],
            "revoked_reason": a["reason"],
            "revoked_at": ev.block_time,
        }
        self._change("revoke", self._docs, fp_key(a["fingerprint"]), change)

    def _on_BatchRevoked(self, ev: Event, a: dict[str, Any]) -> None:
        """Every member of the batch still registered is revoked with it."""
        root = a["root"]
        change = {
            "status": "revoked",
            "revoked_by": a["by"],
            "revoked_reason": a["reason"],
            "revoked_at": ev.block_time,
        }
        for row in self._docs.values():
            if row.get("batch_root") == root and row["status"] == "registered":
                row.update(change)
        params = {"k_batch_root": root, "k_status": "registered"}
        self._updates.append(
            ("batch_revoke", {**params, **{"v_" + c: v for c, v in change.items()}})
        )

    def _on_DocumentSuperseded(self, ev: Event, a: dict[str, Any]) -> None:
        old, new = fp_key(a["oldFingerprint"]), fp_key(a["newFingerprint"])
        self._change("superseded", self._docs, old, {"status": "superseded", "superseded_by": new})
        self._change("supersedes", self._docs, new, {"supersedes": old})

    def _on_AttestationRecorded(self, ev: Event, a: dict[str, Any]) -> None:
        fp = fp_key(a["fingerprint"])
        staged = self._docs.get(fp)
        doc_time = staged["registered_at"] if staged is not None else self._doc_times.get(fp)
        self._atts[a["id"]] = {
            "attestation_id": a["id"],
            "fingerprint": fp,
            "attester": a["attester"],
            "org_id": self.org_of(a["attester"]),
            "verdict": _name(Verdict, a["verdict"]),
            "customs_ref": a["customsRef"],
            "attested_at": ev.block_time,
            "revoked": False,
            "revoked_by": None,
            "doc_registered_at": doc_time,
            **ev.origin(),
        }

    def _on_AttestationRevoked(self, ev: Event, a: dict[str, Any]) -> None:
        self._change("att_revoke", self._atts, a["id"], {"revoked": True, "revoked_by": a["by"]})

    def _change(
        self, kind: str, staged: dict[str, dict[str, Any]], key: str, values: dict[str, Any]
    ) -> None:
        """Change a row staged in this range in memory, or an older row by ``UPDATE``."""
        row = staged.get(key)
        if row is not None:
            row.update(values)
            return
        params = {"k_" + _KEYS[kind]: key, **{"v_" + c: v for c, v in values.items()}}
        self._updates.append((kind, params))

    # ------------------------------------------------------------------ writing

    def flush(self) -> None:
        inserts: list[tuple[Table, list[dict[str, Any]]]] = [
            (organisations, self._orgs),
            (keys, list(self._keys.values())),
            (documents, list(self._docs.values())),
            (batches, self._batches),
            (batch_members, self._members),
            (attestations, list(self._atts.values())),
            (events, self._events),
        ]
        for table, rows in inserts:
            if rows:
                self.conn.execute(table.insert(), rows)
        run: list[dict[str, Any]] = []
        kind = ""
        for k, params in [*self._updates, ("", {})]:
            if k != kind and run:
                self.conn.execute(_UPDATES[kind], run)
                run = []
            kind = k
            if k:
                run.append(params)


def _cid_or_none(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(Cid.parse(text))
    except LedgerError:
        return None


def _name(enum: type[OrgKind] | type[Verdict], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return str(value)
