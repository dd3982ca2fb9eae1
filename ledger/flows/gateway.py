"""A gateway for one organisation: what it refuses to do for any other.

With ``Settings.organisation`` set (``TRADELEDGER_ORGANISATION``), the service is that
organisation's gateway, as each party of a consortium runs its own: it holds only its own
organisation's signing keys, and acting for another organisation is refused by this
configuration, not left to convention. ``refuse_other`` is the check of each action (issuing
an API key, generating a key, authenticating, relaying); ``check_held_keys`` runs before the
service starts and refuses a data folder whose API keys are bound to another organisation's
key. The consortium admin's role is not an organisation's: its keys and actions (admitting
organisations and keys) are left to the contract, which allows them to the admin key alone.
Reading, verifying and auditing the whole chain stay open to every gateway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ledger.chain import Registry
from ledger.config import Settings
from ledger.datadir import keystore_file
from ledger.errors import Forbidden, Misconfigured

SETTING = "TRADELEDGER_ORGANISATION"


class OtherOrganisation(Forbidden):
    """This gateway acts for one organisation, and the action is for another (HTTP 403)."""


def refuse_other(own: int | None, org_id: int | None, doing: str) -> None:
    """Raise ``OtherOrganisation`` if this gateway is organisation ``own``'s and ``org_id`` is
    another (``None``: no organisation at all, e.g. an unknown key). ``own`` is
    ``Settings.organisation``: ``None`` for a gateway of every organisation."""
    if own is None or org_id == own:
        return
    whose = f"organisation {org_id}" if org_id else "a key of no admitted organisation"
    raise OtherOrganisation(
        f"this gateway acts for organisation {own} only ({SETTING}={own}): it does not "
        f"{doing} for {whose}; that organisation's own gateway does"
    )


def keystore_address(settings: Settings, name: str) -> str | None:
    """The address a keystore holds, read from its file without unlocking it (``None`` if
    there is no such keystore)."""
    try:
        address = json.loads(keystore_file(settings, name).read_text()).get("address")
    except (OSError, ValueError):
        return None
    return "0x" + str(address).removeprefix("0x") if address else None


def check_held_keys(
    settings: Settings, registry: Registry, bindings: Iterable[tuple[str, str]]
) -> None:
    """Refuse (``Misconfigured``) to serve as one organisation's gateway while an API key is
    bound to a signing key of another organisation, or of none; nothing is signed first.
    ``bindings``: (the API key, said in words; its keystore name) of every API key that
    signs for an organisation (not the consortium admin's)."""
    own = settings.organisation
    if own is None:
        return
    if settings.demo:
        raise Misconfigured(
            f"demo mode runs one gateway for every demo organisation: unset {SETTING} for the "
            "demo, or run this organisation's gateway without --demo / TRADELEDGER_DEMO"
        )
    wrong = []
    for api_key, keystore in bindings:
        address = keystore_address(settings, keystore)
        org = registry.key_info(address).org_id if address else None
        if org != own:
            wrong.append(
                f"{api_key} signs with {keystore} ({address or 'no keystore'}), a key of "
                + (f"organisation {org}" if org else "no admitted organisation")
            )
    if wrong:
        raise Misconfigured(
            f"this gateway is configured for organisation {own} ({SETTING}) but holds other "
            f"organisations' keys: {'; '.join(wrong)}. Start it once without {SETTING} to "
            "revoke those API keys (tradeledger admin api-key revoke ID) and move their "
            "keystores to their own organisation's gateway, or give it a data folder of its own"
        )
