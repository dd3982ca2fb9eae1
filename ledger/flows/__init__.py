"""The flows: what users do, read top to bottom, over every part built once.

``runtime`` builds the long-lived parts from the settings and runs the background threads;
``identity`` says who calls and what each role may do, ``gateway`` what a gateway of one
organisation refuses to do for another; ``documents`` holds the document
flows (``intake`` checks what callers send, ``uploads`` stores it, ``jobs`` submits it
through the durable ``outbox``, ``reconcile`` keeps what was acknowledged on the canonical
chain until it is final, ``views`` shows acknowledged work); ``confidential`` seals
documents for their recipient organisations and opens them for those; ``verify`` answers
verdicts and evidence bundles, ``bundleproofs`` adds a v2 bundle's offline proofs and
``offline`` checks them with no network; ``did`` gives each organisation a did:web
document, ``credentials`` each registration a Verifiable Credential and each organisation
a revocation status list; ``demo`` sets up demo organisations.

Imports everything below it (chain, content, index, shared modules); knows nothing of HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.surface import lazy, names

SURFACE = {
    "bundleproofs": ["prove_bundle"],
    "confidential": ["Confidential", "check_public_key", "check_recipients", "keystore_name"],
    "credentials": ["decode_bits", "issue", "status_list"],
    "demo": ["ensure_demo"],
    "did": ["did_document", "did_of", "did_url"],
    "documents": [
        "BatchRegistration",
        "DocumentDetails",
        "DocumentExists",
        "Documents",
        "Registration",
    ],
    "gateway": ["OtherOrganisation", "refuse_other"],
    "identity": ["Action", "Actor", "ApiKeys", "Role", "Unauthenticated", "authorise"],
    "intake": ["Upload", "check_consignment_ref", "check_disclose", "check_fingerprint"],
    "offline": ["check_bundle_offline"],
    "outbox": ["Outbox"],
    "runtime": ["Runtime"],
    "uploads": ["TooLarge"],
    "verify": ["Verdict", "Verification", "Verifier", "check_bundle_on_chain"],
}
__all__ = names(SURFACE)
__getattr__ = lazy(__name__, SURFACE, globals())

if TYPE_CHECKING:
    from ledger.flows.bundleproofs import prove_bundle
    from ledger.flows.confidential import (
        Confidential,
        check_public_key,
        check_recipients,
        keystore_name,
    )
    from ledger.flows.credentials import decode_bits, issue, status_list
    from ledger.flows.demo import ensure_demo
    from ledger.flows.did import did_document, did_of, did_url
    from ledger.flows.documents import (
        BatchRegistration,
        DocumentDetails,
        DocumentExists,
        Documents,
        Registration,
    )
    from ledger.flows.gateway import OtherOrganisation, refuse_other
    from ledger.flows.identity import Action, Actor, ApiKeys, Role, Unauthenticated, authorise
    from ledger.flows.intake import (
        Upload,
        check_consignment_ref,
        check_disclose,
        check_fingerprint,
    )
    from ledger.flows.offline import check_bundle_offline
    from ledger.flows.outbox import Outbox
    from ledger.flows.runtime import Runtime
    from ledger.flows.uploads import TooLarge
    from ledger.flows.verify import Verdict, Verification, Verifier, check_bundle_on_chain
