"""``tradeledger serve``: the API service on the configured host and port (demo data optional)."""

from __future__ import annotations

import json
import os

import typer
import uvicorn
from rich.console import Console

from ledger.config import get_settings
from ledger.datadir import PRIVATE_UMASK
from ledger.flows import Runtime, ensure_demo

console = Console(stderr=True)


def serve(
    demo: bool = typer.Option(
        False, help="Create demo organisations and API keys first, and print them."
    ),
) -> None:
    """Serve the API (OpenAPI docs at /docs) until interrupted."""
    settings = get_settings()
    os.umask(PRIVATE_UMASK)  # whatever the service creates (SQLite's journals...) is private
    if demo:
        rt = Runtime.open(settings)
        rt.check_chain()
        try:
            creds = ensure_demo(rt)
        finally:
            rt.close()
        console.print(
            "[bold]Demo credentials[/bold] (also in "
            f"{settings.data_dir / 'demo-credentials.json'}):"
        )
        console.print(json.dumps(creds["api_keys"], indent=2))
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]Trade Document Ledger[/bold] listening on {url} (API docs: {url}/docs)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
