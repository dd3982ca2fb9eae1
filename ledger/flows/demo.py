"""Demo organisations for a local ledger: an exporter, a chamber of commerce, a border
customs office and an auditor, each with a signing key on chain, an encryption key (its
X25519 keystore ``org-<id>``, public key admitted) and an API key.

``ensure_demo`` is idempotent: the first run admits the organisations and writes the
credentials to ``data_dir/demo-credentials.json`` (mode 600); later runs read them back.
All names say "Demo" so nobody mistakes them for real parties.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ledger.chain import fund_from_dev_account, load_or_create_key
from ledger.flows.confidential import Confidential
from ledger.flows.identity import Role
from ledger.flows.runtime import Runtime
from ledger.flows.uploads import Uploads
from ledger.types import OrgKind

DEMO_ORGS = [
    ("exporter", "Demo Kazakh Flour Exporter LLP", "KZ", OrgKind.EXPORTER, Role.EXPORTER),
    ("chamber", "Demo Chamber of Commerce of Kazakhstan", "KZ", OrgKind.ISSUING_BODY, Role.ISSUER),
    ("customs", "Demo Hairatan Border Customs", "AF", OrgKind.CUSTOMS, Role.CUSTOMS),
    ("auditor", "Demo Corridor Audit Office", "KZ", OrgKind.AUDITOR, Role.AUDITOR),
]
TEN_YEARS = 10 * 365 * 24 * 3600


def ensure_demo(rt: Runtime) -> dict[str, Any]:
    """Demo organisations, keys and API keys; returns the credentials."""
    path = rt.settings.data_dir / "demo-credentials.json"
    if path.exists():
        creds: dict[str, Any] = json.loads(path.read_text())
        if creds.get("contract") == rt.registry.address:
            return creds
    admin = rt.sender("deployer")
    head_time = int(rt.w3.eth.get_block("latest")["timestamp"])
    creds = {"contract": rt.registry.address, "api_keys": {}}
    _, token = rt.api_keys.create("Demo consortium admin", Role.ADMIN, None, "deployer")
    creds["api_keys"]["admin"] = token
    sealing = Confidential(rt, Uploads(rt.store, rt.settings.max_upload_bytes))
    for slug, name, country, kind, role in DEMO_ORGS:
        org_id, _ = rt.registry.admit_organisation(admin, name, country, kind)
        keystore = f"demo-{slug}"
        account = load_or_create_key(rt.settings, keystore)
        rt.keep(keystore, account)
        if rt.settings.chain != "rpc":
            fund_from_dev_account(rt.w3, account.address)
        rt.registry.add_key(admin, org_id, account.address, head_time - 60, head_time + TEN_YEARS)
        _, token = rt.api_keys.create(f"{name} (demo)", role, org_id, keystore)
        creds["api_keys"][slug] = token
        creds.setdefault("organisations", {})[slug] = {
            "org_id": org_id,
            "name": name,
            "key": account.address,
            "encryption_key": sealing.ensure_own_key(org_id).hex(),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)
    return creds
