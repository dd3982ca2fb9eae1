"""The data folder on disk: private to the service's user; the keystore secret (outside it,
but for a demo).

Everything under ``settings.data_dir`` (content blocks, the database, keystores, the chain
state, the generated secret) is readable by its owner only: folders 700, files 600 (content
blocks 400: written once, never changed). The modules that create files there ask for those
modes themselves (``private_dir``, ``PRIVATE_FILE``); ``secure``, at every start, tightens an
existing folder that an older version (or a loose umask) left readable by others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from ledger.config import Settings
from ledger.errors import InvalidInput, Misconfigured

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077  # for processes the ledger starts (anvil, js-ipfs) and for `serve`
_OTHERS = 0o077  # group and other bits
STAMP = ".private"  # in a data folder: its whole tree was tightened once


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as folders only the owner may enter."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            d.mkdir(mode=PRIVATE_DIR)
        os.chmod(d, PRIVATE_DIR)  # mkdir's mode passes through the umask
    return path


def secure(folder: Path) -> int:
    """Make ``folder`` 700 and drop every group/other permission below it (files keep their
    owner bits, so read-only blocks stay read-only). Symbolic links are left alone and never
    followed. Returns how many entries were changed.

    The walk over the whole tree (about 1.2 s per 100,000 files here) runs once: it leaves
    the stamp ``.private`` behind, and later calls only check the folder itself, walking
    again if they find it open to others. (Inside a 700 folder, nothing is reachable by
    other users whatever its own mode.)"""
    private_dir(folder)
    changed = _tighten(folder)
    stamp = folder / STAMP
    if not changed and stamp.exists():
        return 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            changed += _tighten(Path(root, name))
    os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    return changed


def _tighten(path: Path) -> int:
    try:
        st = os.lstat(path)
    except FileNotFoundError:  # removed meanwhile (a temporary block renamed, say)
        return 0
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & _OTHERS:
        return 0
    wanted = stat.S_IMODE(st.st_mode) & ~_OTHERS
    if stat.S_ISDIR(st.st_mode):
        wanted |= PRIVATE_DIR
    try:
        os.chmod(path, wanted)
    except FileNotFoundError:
        return 0
    return 1


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 600) atomically: a temporary file, flushed, renamed."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def keystore_file(settings: Settings, name: str, suffix: str = ".json") -> Path:
    """Where keystore ``name`` lives: ``data_dir/keys/<name><suffix>``."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput(f"key name {name!r} may hold only letters, digits, - and _")
    return settings.data_dir / "keys" / f"{name}{suffix}"


NO_SECRET = (
    "no keystore secret: set TRADELEDGER_KEYSTORE_SECRET, or TRADELEDGER_KEYSTORE_SECRET_FILE "
    "to a file outside the data folder {data_dir} holding it (e.g. `head -c 32 /dev/urandom "
    "| base64 > /etc/tradeledger/secret; chmod 600 /etc/tradeledger/secret`); for a local demo "
    "only, TRADELEDGER_DEMO=1 (or `tradeledger serve --demo`) keeps a generated one in the "
    "data folder"
)


def keystore_secret(settings: Settings) -> str:
    """The secret that encrypts keystores: ``TRADELEDGER_KEYSTORE_SECRET``, or the file
    ``TRADELEDGER_KEYSTORE_SECRET_FILE`` outside the data folder (so that a copy of the
    folder is not a copy of the keys). Only in demo mode is one generated once into
    ``data_dir/secret`` (mode 600). ``Misconfigured``, saying how to give one, otherwise."""
    if settings.keystore_secret is not None:
        return settings.keystore_secret.get_secret_value()
    data_dir = settings.data_dir.resolve()
    if settings.keystore_secret_file is not None:
        return _secret_file(settings.keystore_secret_file.expanduser().resolve(), data_dir)
    if not settings.demo:
        raise Misconfigured(NO_SECRET.format(data_dir=data_dir))
    path = settings.data_dir / "secret"
    if not path.exists():
        private_dir(settings.data_dir)
        tmp = path.with_name(f".secret.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # whole or absent: never a half-written secret
        except FileExistsError:  # another process made it meanwhile: use theirs
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _secret_file(path: Path, data_dir: Path) -> str:
    if path.is_relative_to(data_dir):
        raise Misconfigured(
            f"TRADELEDGER_KEYSTORE_SECRET_FILE {path} lies inside the data folder {data_dir}: "
            "a copy of that folder would then hold the keys and their secret; move it out"
        )
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise Misconfigured(
            f"cannot read TRADELEDGER_KEYSTORE_SECRET_FILE {path}: {exc.strerror}"
        ) from exc
    if not secret:
        raise Misconfigured(
            f"TRADELEDGER_KEYSTORE_SECRET_FILE {path} is empty: put the secret in it"
        )
    return secret
