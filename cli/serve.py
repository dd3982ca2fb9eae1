"""``tradeledger serve``: the API service on the configured host and port (demo data optional)."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console

console = Console(stderr=True)


def serve(
    demo: bool = typer.Option(
        False,
        help="A local demo: create demo organisations and API keys first, and print them; "
        "the keystore secret may live in the data folder (as TRADELEDGER_DEMO=1).",
    ),
) -> None:
    """Serve the API (OpenAPI docs at /docs) until interrupted."""
    import uvicorn

    from api.app import create_app
    from cli.client import errors_to_exit
    from ledger.config import get_settings
    from ledger.datadir import PRIVATE_UMASK
    from ledger.flows import Runtime, ensure_demo

    settings = get_settings()
    os.umask(PRIVATE_UMASK)  # whatever the service creates (SQLite's journals...) is private
    if demo:
        settings = settings.model_copy(update={"demo": True})
    with errors_to_exit():
        rt = Runtime.open(settings)  # refuses a missing keystore secret, saying how
        rt.check_chain()
        try:
            if rt.chain_ok():
                rt.check_gateway()  # one organisation's gateway with another's keys: refused
            creds = ensure_demo(rt) if settings.demo else None
        finally:
            rt.close()
    if creds is not None:
        console.print(
            "[bold]Demo credentials[/bold] (also in "
            f"{settings.data_dir / 'demo-credentials.json'}):"
        )
        console.print(json.dumps(creds["api_keys"], indent=2))
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]Trade Document Ledger[/bold] listening on {url} (API docs: {url}/docs)")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
