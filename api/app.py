"""The FastAPI application: builds the runtime once (lifespan), mounts the routes per resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import errors, pages
from api.routes import admin, audit, documents, health, verify
from ledger.config import Settings, get_settings
from ledger.flows import Documents, Runtime, Verifier

DESCRIPTION = """
Notarise cross-border trade documents on an EVM chain. Exporters and issuing bodies
register documents (their SHA-256 and IPFS CID go on chain, the bytes into the content
store); customs officers verify presented copies and record attestations; auditors read
the ledger; the consortium admin admits organisations and issues API keys.

Authenticate with `Authorization: Bearer <API key>`. Verification needs no key.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime.open(settings)
        docs = Documents(rt)
        app.state.runtime = rt
        app.state.documents = docs
        app.state.verifier = Verifier(rt)
        try:
            rt.start(outbox_worker=docs.resume_pending)  # may refuse: a gateway's wrong keys
            yield
        finally:
            rt.close()

    # /docs and /redoc load Swagger UI and ReDoc from this service (the fastapi-offline
    # package's copies), never from a CDN: they work offline, and no third-party script
    # runs on the origin where the pages keep API keys
    app = FastAPIOffline(
        title="Trade Document Ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    for module in (documents, verify, audit, admin, health, pages):
        app.include_router(module.router)
    return app
