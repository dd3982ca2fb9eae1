"""Server-rendered pages of the service: verify (public), exporter, customs and auditor.

``router`` carries the pages, the printable slip and the static files; ``api.app`` mounts
it beside the API routes. Pages are Jinja2 templates in ``templates/``, translated from the
catalogues in ``i18n/`` (English, Russian, Kazakh, Dari, Pashto), each with at most one
small script from ``static/``. Nothing is loaded from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import slip, static, views

router = APIRouter()
for _module in (views, slip, static):
    router.include_router(_module.router)

__all__ = ["router"]
