"""The HTTP side of the user commands: where the service is, the API key, readable errors.

The global options ``--api`` and ``--key`` (or ``TRADELEDGER_API_URL`` and
``TRADELEDGER_API_KEY``) are read once by the root callback into an ``ApiConfig`` on the
click context. Every failure a user can meet (the API's ``detail`` message, a refused
connection, a timeout, a ledger error raised locally) is printed as one readable line and
becomes an exit code, never a traceback: see ``errors_to_exit``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from ledger.errors import LedgerError

if TYPE_CHECKING:  # loaded on first use: `tradeledger --help` needs neither
    import httpx

    from ledger.config import Settings

TIMEOUT = (300.0, 5.0)  # seconds: a registration waits for its receipt; connecting
START_HINT = "start it with `scripts/run` (or `tradeledger serve --demo`)"

err = Console(stderr=True, highlight=False)


def get_settings() -> Settings:
    """The process's settings (``ledger.config``), loaded when a command first needs them."""
    from ledger.config import get_settings as settings

    return settings()


def default_api_url() -> str:
    """``http://{host}:{port}`` of the configured service (a wildcard host means this machine)."""
    settings = get_settings()
    host = settings.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


@dataclass(frozen=True)
class ApiConfig:
    url: str
    key: str | None


def global_options(
    ctx: typer.Context,
    api: str | None = typer.Option(
        None,
        "--api",
        envvar="TRADELEDGER_API_URL",
        metavar="URL",
        help="Base URL of the ledger service (default: http://TRADELEDGER_HOST:TRADELEDGER_PORT, "
        "i.e. http://127.0.0.1:8000).",
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        envvar="TRADELEDGER_API_KEY",
        metavar="API_KEY",
        help="Your API key (tdl_…), issued by the consortium admin. Verification needs none.",
    ),
) -> None:
    """Trade Document Ledger: notarise trade documents on an EVM chain, files on IPFS."""
    ctx.obj = ApiConfig((api or default_api_url()).rstrip("/"), key or None)


def config_of(ctx: typer.Context) -> ApiConfig:
    """The ``ApiConfig`` the root callback left (defaults when run outside the root app)."""
    found = ctx.find_object(ApiConfig)
    if found is not None:
        return found
    return ApiConfig(
        (os.environ.get("TRADELEDGER_API_URL") or default_api_url()).rstrip("/"),
        os.environ.get("TRADELEDGER_API_KEY") or None,
    )


class ApiError(Exception):
    """The service refused a request (``status``) or could not be reached (``status`` None)."""

    def __init__(
        self, status: int | None, detail: str, body: Any = None, hint: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body
        self.hint = hint


def _detail(response: httpx.Response) -> tuple[str, Any]:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:300] or response.reason_phrase
        return f"the service answered HTTP {response.status_code}: {text}", None
    detail = body.get("detail") if isinstance(body, dict) else None
    if detail is None:
        detail = f"the service answered HTTP {response.status_code}"
    elif not isinstance(detail, str):
        detail = json.dumps(detail)
    return detail, body


class Client:
    """An httpx client on the configured service, raising ``ApiError`` for every failure."""

    def __init__(self, ctx: typer.Context) -> None:
        self.config = config_of(ctx)
        import httpx

        headers = {"Authorization": f"Bearer {self.config.key}"} if self.config.key else {}
        self.http = httpx.Client(
            base_url=self.config.url,
            headers=headers,
            timeout=httpx.Timeout(TIMEOUT[0], connect=TIMEOUT[1]),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        url = self.config.url
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise ApiError(
                None,
                f"cannot reach the ledger service at {url} ({exc}): {START_HINT}, or point "
                "--api / TRADELEDGER_API_URL at it",
            ) from exc
        except httpx.TimeoutException as exc:
            raise ApiError(
                None, f"the ledger service at {url} did not answer in time: retry later"
            ) from exc
        except httpx.HTTPError as exc:
            raise ApiError(None, f"talking to the ledger service at {url} failed: {exc}") from exc
        if response.status_code >= 400:
            detail, body = _detail(response)
            raise ApiError(
                response.status_code, detail, body, self._hint(response.status_code, detail)
            )
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(
                response.status_code,
                f"the service at {self.config.url} answered something that is not JSON: is "
                "--api the Trade Document Ledger?",
            ) from exc

    def _hint(self, status: int, detail: str) -> str | None:
        """What to do next, when the API's message alone does not say it."""
        if status in (401, 403) and not self.config.key:
            return "pass your API key with --key or set TRADELEDGER_API_KEY"
        if status == 404 and detail == "Not Found":
            return f"is {self.config.url} (--api) the Trade Document Ledger service?"
        return None

    def health(self) -> dict[str, Any]:
        """GET /health; its body even when the service says it is degraded (503)."""
        try:
            body: dict[str, Any] = self.json("GET", "/health")
        except ApiError as exc:
            if exc.status == 503 and isinstance(exc.body, dict) and "chain" in exc.body:
                return exc.body
            raise
        if not isinstance(body, dict) or not isinstance(body.get("chain"), dict):
            raise ApiError(200, f"{self.config.url}/health does not describe a ledger chain")
        return body


def fail(message: str, code: int = 1, tip: str | None = None) -> NoReturn:
    err.print(f"[bold red]error[/bold red]: {message}", soft_wrap=True)
    if tip:
        err.print(f"[dim]hint: {tip}[/dim]", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit(code: int = 1) -> Iterator[None]:
    """Print any API, ledger or file error as one line and exit with ``code``."""
    try:
        yield
    except ApiError as exc:
        prefix = f"HTTP {exc.status}: " if exc.status else ""
        fail(prefix + exc.detail, code, exc.hint)
    except LedgerError as exc:
        fail(str(exc), code)
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), code)


class ProgressFile:
    """A binary file that reports the bytes read from it (once each, even if re-read)."""

    def __init__(self, f: IO[bytes], advance: Callable[[int], object]) -> None:
        self._f = f
        self._advance = advance
        self._reported = 0
        self.name = f.name

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        position = self._f.tell()
        if position > self._reported:
            self._advance(position - self._reported)
            self._reported = position
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def fileno(self) -> int:
        return self._f.fileno()
