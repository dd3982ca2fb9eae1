"""``/static/<name>``: the pages' CSS and scripts, cached for a year (URLs carry a content hash)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from api.pages.render import STATIC, YEAR

router = APIRouter(include_in_schema=False)

TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}")
def static(name: str) -> Response:
    """One file of the static folder (no subfolders, no dotfiles)."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in TYPES:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(
        path,
        media_type=TYPES[path.suffix],
        headers={
            "Cache-Control": f"public, max-age={YEAR}, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
