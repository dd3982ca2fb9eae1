"""Entry point of the ``tradeledger`` command: collects the sub-commands of each area."""

from __future__ import annotations

import typer

from cli import admin, chain, documents, keys, offline, serve
from cli.audit import register as register_audit
from cli.cid import register as register_cid
from cli.content import register as register_content
from cli.index import register as register_index

app = typer.Typer(
    name="tradeledger",
    help="Trade Document Ledger: notarise trade documents on an EVM chain, files on IPFS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_cid(app)
chain.register(app)
serve.register(app)
documents.register(app)
keys.register(app)
admin.register(app)
offline.register(app)
register_index(app)
register_audit(app)
register_content(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
