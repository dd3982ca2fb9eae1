"""One gateway per organisation (issue 17, item 2): a service configured for one organisation
(``TRADELEDGER_ORGANISATION``) holds only that organisation's keys and refuses, by
configuration, whatever would act for another; it still verifies the whole chain."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from eth_account import Account

from ledger.errors import Misconfigured
from ledger.flows import Role
from tests.api.conftest import (
    Service,
    Signer,
    admit_signer,
    doc_bytes,
    post_relay,
    signed_request,
)

pytestmark = pytest.mark.chain


def _rescope(service: Service, organisation: int | None) -> None:
    service.stop()
    service.settings = service.settings.model_copy(update={"organisation": organisation})
    service.start()


def test_a_gateway_of_one_organisation_refuses_to_act_for_another(
    fresh_svc: Callable[..., Service],
) -> None:
    svc = fresh_svc()
    orgs = svc.creds["organisations"]
    exporter, chamber = orgs["exporter"]["org_id"], orgs["chamber"]["org_id"]
    # made while the gateway serves everyone: a chamber key with no signing key of its own
    _, chamber_token = svc.rt.api_keys.create("chamber reader", Role.AUDITOR, chamber, None)
    _, before = svc.registered("exporter")

    # configured for the exporter while the chamber's, the customs' and the auditor's signing
    # keys are bound to API keys in this data folder: it does not start, and says which
    with pytest.raises(Misconfigured) as refused:
        _rescope(svc, exporter)
    message = str(refused.value)
    assert f"configured for organisation {exporter}" in message
    for slug in ("chamber", "customs", "auditor"):
        assert f"demo-{slug}" in message and f"organisation {orgs[slug]['org_id']}" in message
    assert "demo-exporter" not in message
    svc.client = None

    # the way out it names: revoke those API keys (as the gateway of every organisation) ...
    _rescope(svc, None)
    for actor in svc.rt.api_keys.list():
        if actor.signing_key in ("demo-chamber", "demo-customs", "demo-auditor"):
            svc.rt.api_keys.revoke(actor.key_id)
    # ... then it starts as the exporter's gateway
    _rescope(svc, exporter)

    # its own users work; the whole chain still verifies
    _, rec = svc.registered("exporter")
    assert rec["status"] == "registered"
    svc.indexed(before["sha256"])
    assert svc.verdict(before["sha256"])["verdict"] == "VALID"

    # another organisation's API key, issued before, is refused
    r = svc.http.get("/v1/audit/documents", headers=svc.auth(chamber_token))
    assert r.status_code == 403, r.text
    assert "TRADELEDGER_ORGANISATION" in r.json()["detail"]

    # the admin cannot issue API keys for another organisation here ...
    r = svc.http.post(
        "/v1/admin/api-keys",
        json={"label": "chamber clerk", "role": "issuer", "organisation_id": chamber},
        headers=svc.auth("admin"),
    )
    assert r.status_code == 403, r.text
    assert f"organisation {chamber}" in r.json()["detail"]
    # ... nor have this gateway generate and hold a key for it; admitting the address of a
    # key the chamber holds itself (non-custodial) is a consortium decision, and allowed
    r = svc.http.post(
        f"/v1/admin/organisations/{chamber}/keys", json={}, headers=svc.auth("admin")
    )
    assert r.status_code == 403, r.text
    own_key = Account.create()
    r = svc.http.post(
        f"/v1/admin/organisations/{chamber}/keys",
        json={"address": own_key.address},
        headers=svc.auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["signing_key"] is None

    # relaying: a request signed by another organisation's key is refused, nothing is sent
    other: Signer = admit_signer(svc, "Demo Other Exporter LLP")
    content = doc_bytes("other")
    nonce = svc.rt.registry.key_info(other.account.address).nonce
    r = post_relay(svc, content, signed_request(svc, other, content), "exporter")
    assert r.status_code == 403, r.text
    assert "relay" in r.json()["detail"]
    assert svc.rt.registry.key_info(other.account.address).nonce == nonce
    # one signed by the exporter's own (non-custodial) key is relayed
    mine = Account.create()
    now = int(time.time())
    svc.rt.registry.add_key(
        svc.rt.sender("deployer"), exporter, mine.address, now - 60, now + 3600
    )
    content = doc_bytes("mine")
    signed = signed_request(svc, Signer(mine, exporter), content, doc_type=380)
    r = post_relay(svc, content, signed, "exporter")
    assert r.status_code == 201, r.text
    assert r.json()["issuer"]["key"] == mine.address
