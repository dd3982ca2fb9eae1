"""Confidential documents in the flows (issue 16): seal at registration, wrap the document's
key for its recipients, open it for them, add recipients later.

At registration the content and the metadata are sealed with a fresh document key
(``ledger.sealing``) while they are stored, so the store (embedded or an IPFS node) only
ever holds ciphertext: the fingerprint stays the SHA-256 of the plain file and the CID
names the sealed object. The key is wrapped for each recipient organisation's X25519
encryption key: the issuer's own organisation, the settings' ``corridor_recipients`` and
any the issuer names. The wraps (an ``Envelope``) rest in the ``envelopes`` table.

Organisations' encryption public keys are admitted by the consortium admin into the
``encryption_keys`` table (like signing keys, the newest unretired one is current); for an
organisation this gateway serves, the private key rests in the keystore ``org-<id>``
(``ledger.sealing.orgkeys``), created on first use. A caller reads a document when its
organisation is a recipient and this gateway holds that organisation's private key.
Removing a recipient means giving it no new wraps: what it already read stays read.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import delete, insert, select, update

from ledger.content import Fingerprint
from ledger.db import disclosures, encryption_keys, envelopes
from ledger.errors import Forbidden, InvalidInput, NotFound
from ledger.flows.identity import Actor
from ledger.flows.intake import disclosed_rows
from ledger.flows.runtime import Runtime
from ledger.flows.uploads import Source, Uploads
from ledger.sealing import (
    DocumentKey,
    Envelope,
    Kind,
    OrgKey,
    add_recipient,
    load_or_create_org_key,
    load_org_key,
    open_stream,
    seal_envelope,
)

PUBLIC_HEX = 64
PIECE = 1024 * 1024


def keystore_name(org_id: int) -> str:
    """The keystore of an organisation's X25519 private key on this gateway."""
    return f"org-{org_id}"


@dataclass(frozen=True)
class Sealed:
    """A document stored sealed: the plain file's SHA-256, the sealed object's CID."""

    fingerprint: Fingerprint
    metadata_cid: str | None
    envelope: Envelope
    recipients: list[int]
    disclosed: list[tuple[str, str]]  # (field, value) the auditors' index keeps


@dataclass(frozen=True)
class EncryptionKey:
    """An organisation's admitted encryption public key."""

    org_id: int
    public_key: str
    added_at: int
    retired_at: int | None


def check_public_key(text: str) -> bytes:
    """An X25519 public key from its 64 hexadecimal digits."""
    value = str(text).strip().lower().removeprefix("0x")
    if len(value) != PUBLIC_HEX or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput(
            "an encryption key is an X25519 public key: 32 bytes as 64 hexadecimal digits "
            "(what `tradeledger admin encryption-key create` prints), not a signing address"
        )
    return bytes.fromhex(value)


def check_recipients(text: str | None) -> list[int]:
    """Organisation ids from a comma-separated list ("" or None: none)."""
    out = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise InvalidInput(
                f"recipients: {part!r} is not an organisation id; give ids separated by "
                "commas, e.g. 3,4"
            )
        out.append(int(part))
    return out


class Confidential:
    """Sealing, wrapping and opening of documents over one ``Runtime``."""

    def __init__(self, rt: Runtime, uploads: Uploads) -> None:
        self.rt = rt
        self.uploads = uploads
        self._own: dict[int, OrgKey] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ encryption keys

    def current_key(self, org_id: int) -> bytes | None:
        """The organisation's current encryption public key, if one was admitted."""
        with self.rt.engine.connect() as conn:
            row = conn.execute(
                select(encryption_keys.c.public_key)
                .where(encryption_keys.c.org_id == org_id, encryption_keys.c.retired_at.is_(None))
                .order_by(encryption_keys.c.key_id.desc())
                .limit(1)
            ).first()
        return bytes.fromhex(row[0]) if row else None

    def keys_of(self, org_id: int) -> list[EncryptionKey]:
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(encryption_keys)
                .where(encryption_keys.c.org_id == org_id)
                .order_by(encryption_keys.c.key_id)
            ).all()
        return [EncryptionKey(r.org_id, r.public_key, r.added_at, r.retired_at) for r in rows]

    def admit_key(self, org_id: int, public_key: bytes) -> EncryptionKey:
        """Admit ``public_key`` as the organisation's current encryption key (the admin's
        act: the organisation is checked on chain); earlier keys are retired (documents
        get no new wraps for them)."""
        self._check_organisation(org_id)
        return self._admit(org_id, public_key)

    def _admit(self, org_id: int, public_key: bytes) -> EncryptionKey:
        now = int(time.time())
        with self.rt.engine.begin() as conn:
            taken = conn.execute(
                select(encryption_keys.c.org_id).where(
                    encryption_keys.c.public_key == public_key.hex()
                )
            ).first()
            if taken is not None:
                raise InvalidInput(
                    f"this encryption key is already admitted (organisation {taken[0]}): "
                    "generate a new key pair for each organisation and rotation"
                )
            conn.execute(
                update(encryption_keys)
                .where(encryption_keys.c.org_id == org_id, encryption_keys.c.retired_at.is_(None))
                .values(retired_at=now)
            )
            conn.execute(
                insert(encryption_keys).values(
                    org_id=org_id, public_key=public_key.hex(), added_at=now
                )
            )
        return EncryptionKey(org_id, public_key.hex(), now, None)

    def ensure_own_key(self, org_id: int, checked: bool = False) -> bytes:
        """The encryption key of an organisation this gateway serves: its keystore
        ``org-<id>`` is created on first use and its public key admitted. ``checked``: the
        organisation is known (a caller's own), so the chain is not asked."""
        if not checked:
            self._check_organisation(org_id)
        own = self.own_key(org_id, create=True)
        assert own is not None
        if self.current_key(org_id) != own.public:
            self._admit(org_id, own.public)
        return own.public

    def own_key(self, org_id: int, create: bool = False) -> OrgKey | None:
        """This gateway's private key of the organisation (cached: scrypt takes ~0.1 s)."""
        with self._lock:
            key = self._own.get(org_id)
            if key is None:
                name = keystore_name(org_id)
                key = (
                    load_or_create_org_key(self.rt.settings, name)
                    if create
                    else load_org_key(self.rt.settings, name)
                )
                if key is not None:
                    self._own[org_id] = key
            return key

    def _check_organisation(self, org_id: int) -> None:
        if org_id <= 0 or org_id > self.rt.registry.organisation_count():
            raise InvalidInput(
                f"no organisation has id {org_id}: give the id of an admitted organisation "
                "(GET /v1/organisations lists them)"
            )

    # ------------------------------------------------------------ sealing

    def recipients(self, actor: Actor, named: list[int]) -> list[tuple[int, bytes]]:
        """The issuer's organisation, the corridor's, then those named; each with its key."""
        if actor.org_id is None:
            raise Forbidden("only a key of an organisation registers documents")
        wanted = list(dict.fromkeys([actor.org_id, *self.rt.settings.corridor_recipients, *named]))
        # No chain call here: a registration is acknowledged (pending) while the chain is
        # away; an encryption key is admitted only for an organisation known on chain.
        out = []
        for org_id in wanted:
            if org_id == actor.org_id:
                key: bytes | None = self.ensure_own_key(org_id, checked=True)
            else:
                key = self.current_key(org_id)
            if key is None:
                raise _no_key(org_id)
            out.append((org_id, key))
        return out

    def seal(
        self,
        actor: Actor,
        source: Source,
        metadata: dict[str, Any] | None,
        named: list[int],
        disclose: Sequence[str] = (),
    ) -> Sealed:
        """Store the content and metadata sealed with a fresh key; nothing is recorded
        until ``record`` (after the duplicate check)."""
        recipients = self.recipients(actor, named)  # refused before anything is stored
        disclosed = disclosed_rows(metadata, disclose)
        key = DocumentKey.generate()
        fingerprint = self.uploads.put_sealed(source, key, sync=False)  # durable with the job
        metadata_cid = self.uploads.put_json(metadata, sync=False, key=key)
        envelope = seal_envelope(key, fingerprint.sha256, [k for _, k in recipients])
        return Sealed(fingerprint, metadata_cid, envelope, [o for o, _ in recipients], disclosed)

    def record(self, sealed: Sealed) -> None:
        """Keep the envelope (before the job is written: the flush makes both durable)."""
        row = {
            "envelope": json.dumps(sealed.envelope.to_json()),
            "recipients": json.dumps(sealed.recipients),
            "updated_at": int(time.time()),
        }
        sha = sealed.fingerprint.sha256
        with self.rt.engine.begin() as conn:
            if conn.execute(
                select(envelopes.c.fingerprint).where(envelopes.c.fingerprint == sha)
            ).first():
                conn.execute(update(envelopes).where(envelopes.c.fingerprint == sha).values(**row))
            else:
                conn.execute(insert(envelopes).values(fingerprint=sha, **row))
            conn.execute(delete(disclosures).where(disclosures.c.fingerprint == sha))
            if sealed.disclosed:
                conn.execute(
                    insert(disclosures),
                    [{"fingerprint": sha, "field": f, "value": v} for f, v in sealed.disclosed],
                )

    def disclosed(self, sha256: str) -> dict[str, Any]:
        """The metadata fields the issuer disclosed to auditors (HS codes without dots)."""
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(disclosures.c.field, disclosures.c.value)
                .where(disclosures.c.fingerprint == sha256)
                .order_by(disclosures.c.field, disclosures.c.value)
            ).all()
        out: dict[str, Any] = {}
        for field, value in rows:
            if field == "hs_code":
                out.setdefault("hs_codes", []).append(value)
            else:
                out[field] = value
        return out

    # ------------------------------------------------------------ reading

    def envelope(self, sha256: str) -> tuple[Envelope, list[int]] | None:
        """The document's envelope and recipients, or None when it was stored in the clear
        (a batch member or a relayed document)."""
        with self.rt.engine.connect() as conn:
            row = conn.execute(
                select(envelopes.c.envelope, envelopes.c.recipients).where(
                    envelopes.c.fingerprint == sha256
                )
            ).first()
        if row is None:
            return None
        return Envelope.from_json(json.loads(row[0])), [int(o) for o in json.loads(row[1])]

    def document_key(self, actor: Actor, sha256: str) -> DocumentKey:
        """The document key, for a caller whose organisation is a recipient; else 403."""
        found = self.envelope(sha256)
        if found is None:
            raise NotFound(f"document {sha256} was not stored sealed")
        envelope, recipients = found
        if actor.org_id is None or actor.org_id not in recipients:
            raise Forbidden(
                "the document is confidential and your organisation is not one of its "
                "recipients: ask the issuing organisation to add it as a recipient"
            )
        own = self.own_key(actor.org_id)
        if own is None or own.public not in envelope.recipients():
            raise Forbidden(
                "this gateway holds no encryption key of your organisation that the document "
                "was wrapped for: read it on your organisation's own gateway "
                "(`tradeledger content get ... --key`)"
            )
        return envelope.open(own.private, own.public)

    def open_content(self, actor: Actor, sha256: str, cid: str) -> Iterator[bytes]:
        """The plain content, decrypted whole and checked against the fingerprint before
        the first byte is returned (into an unnamed temporary file outside the data
        folder), so a damaged or replaced object never reaches the caller."""
        key = self.document_key(actor, sha256)
        out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _drain, or below)
        try:
            for plain in open_stream(
                self.rt.store.get(cid),  # type: ignore[attr-defined]
                key,
                Kind.CONTENT,
                expect_sha256=sha256,
            ):
                out.write(plain)
            out.seek(0)
        except BaseException:
            out.close()
            raise
        return _drain(out)

    def open_metadata(self, actor: Actor, sha256: str, cid: str) -> dict[str, Any]:
        key = self.document_key(actor, sha256)
        sealed = b"".join(self.rt.store.get(cid))  # type: ignore[attr-defined]
        plain = b"".join(open_stream([sealed], key, Kind.METADATA))
        value: dict[str, Any] = json.loads(plain)
        return value

    # ------------------------------------------------------------ recipients later

    def add_recipients(self, actor: Actor, sha256: str, named: list[int]) -> list[int]:
        """Wrap the document's key for more organisations (nothing is uploaded again)."""
        if not named:
            raise InvalidInput("name at least one organisation id to add as a recipient")
        self.document_key(actor, sha256)  # a recipient whose key this gateway holds
        found = self.envelope(sha256)
        assert found is not None and actor.org_id is not None
        envelope, recipients = found
        own = self.own_key(actor.org_id)
        assert own is not None
        for org_id in named:
            public = self.current_key(org_id)
            if public is None:
                raise _no_key(org_id)
            envelope = add_recipient(envelope, own.private, own.public, public)
            if org_id not in recipients:
                recipients.append(org_id)
        with self.rt.engine.begin() as conn:
            conn.execute(
                update(envelopes)
                .where(envelopes.c.fingerprint == sha256)
                .values(
                    envelope=json.dumps(envelope.to_json()),
                    recipients=json.dumps(recipients),
                    updated_at=int(time.time()),
                )
            )
        return recipients


def _no_key(org_id: int) -> InvalidInput:
    return InvalidInput(
        f"organisation {org_id} has no encryption key (or no organisation has id {org_id}), "
        "so the document cannot be sealed for it: ask the consortium admin to admit its key "
        "(`tradeledger admin enc-key add`), or leave it out of the recipients"
    )


def _drain(f: IO[bytes]) -> Iterator[bytes]:
    try:
        while piece := f.read(PIECE):
            yield piece
    finally:
        f.close()
