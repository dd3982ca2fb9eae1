"""Rendering a page: the Jinja2 environment, the request's language, headers, static URLs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.pages import formats
from api.pages.i18n import LANGUAGES, Translator, choose

HERE = Path(__file__).parent
STATIC = HERE / "static"
COOKIE = "lang"
YEAR = 365 * 24 * 3600
# Everything a page loads comes from this service; no inline script runs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@lru_cache
def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cacheable for a year, new URL on every change."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def translator(request: Request) -> Translator:
    lang = choose(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
    )
    return Translator(lang)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language, with the pages' headers."""
    t = translator(request)
    html = env.get_template(template).render(
        t=t,
        lang=t.lang,
        lang_tag=t.tag,
        dir=t.dir,
        formats=formats.client(t.lang),
        languages=LANGUAGES,
        path=request.url.path,
        static_url=static_url,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Content-Language"] = t.tag
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") == t.lang:
        response.set_cookie(COOKIE, t.lang, max_age=YEAR, samesite="lax")
    return response
