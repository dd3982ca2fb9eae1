"""Typed dependencies of the routes: the runtime's parts, the calling actor and the language
of the names in the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.flows import Actor, Documents, Runtime, Verifier

bearer = HTTPBearer(auto_error=False, description="API key issued by the consortium admin")


def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def get_documents(request: Request) -> Documents:
    docs: Documents = request.app.state.documents
    return docs


def get_verifier(request: Request) -> Verifier:
    verifier: Verifier = request.app.state.verifier
    return verifier


def get_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor | None:
    """The caller behind the bearer API key, or None when there is none (checked per action)."""
    if credentials is None:
        return None
    return get_runtime(request).api_keys.authenticate(credentials.credentials)


def answer_language(
    request: Request,
    lang: Annotated[
        str | None,
        Query(
            description="Language of the names in the answer (document types): en, ru, kk, "
            "fa (Dari) or ps (Pashto); default Accept-Language, else English. Codes never change."
        ),
    ] = None,
) -> str:
    """``?lang=``, else the best ``Accept-Language`` match, else English."""
    # imported here: the pages package imports this module for its own routes
    from api.pages.i18n import DEFAULT, from_accept_language, known

    if lang and known(lang):
        return known(lang) or DEFAULT
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
LangDep = Annotated[str, Depends(answer_language)]
DocumentsDep = Annotated[Documents, Depends(get_documents)]
VerifierDep = Annotated[Verifier, Depends(get_verifier)]
ActorDep = Annotated[Actor | None, Depends(get_actor)]
