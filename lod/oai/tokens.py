"""Stateless, HMAC-signed OAI-PMH resumption tokens.

A token carries everything needed to continue a list, so any worker process (or a restarted
server) can continue any harvest and nothing is kept per harvest: the request (verb, prefix,
set, from, until), the keyset cursor (datestamp, key) of the last record sent, the number of
records sent so far, the complete list size, the build the list was read from and the expiry.
The signature (HMAC-SHA256, truncated to 128 bits) makes a forged or tampered token a
``badResumptionToken``, never a different query. Tokens use only ``[A-Za-z0-9_.-]`` so they are
safe in URLs and XML alike.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
from dataclasses import astuple, dataclass, replace
from pathlib import Path

VERSION = 1
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,4000}\.[A-Za-z0-9_-]{22}$")


class TokenError(ValueError):
    """The token is unusable: malformed, forged, tampered with, expired or for another verb."""


@dataclass(frozen=True)
class Token:
    verb: str                  # ListRecords | ListIdentifiers
    prefix: str
    set_spec: str | None
    start: str | None          # from, expanded to seconds
    until: str | None          # until, expanded to seconds
    after: tuple[str, str]     # keyset cursor: (datestamp, key) of the last record sent
    cursor: int                # records sent before the next page
    size: int                  # completeListSize
    build: str                 # build id the cursor refers to
    issued: int                # epoch seconds
    expires: int               # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:16])


def encode(token: Token, key: bytes) -> str:
    data = [VERSION, *astuple(token)]
    payload = _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode("ascii"))
    return f"{payload}.{_mac(key, payload)}"


def decode(text: str, key: bytes, now: float) -> Token:
    """Verify and unpack; every failure is a TokenError with a reason fit for the harvester."""
    if not TOKEN_RE.match(text):
        raise TokenError("not a resumption token issued by this repository")
    payload, mac = text.split(".")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise TokenError("the resumption token's signature does not match (forged, altered or from another server)")
    try:
        data = json.loads(_unb64(payload))
        if data[0] != VERSION:
            raise TokenError("resumption token of another version; restart the harvest")
        token = Token(*data[1:])
        token = replace(token, after=tuple(token.after))
        if not (isinstance(token.cursor, int) and isinstance(token.expires, int) and len(token.after) == 2
                and isinstance(token.size, int) and 0 <= token.cursor <= token.size):
            raise TypeError("bad field types or values")
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error) as exc:
        if isinstance(exc, TokenError):
            raise
        raise TokenError("the resumption token cannot be read") from exc
    if token.expires < now:
        raise TokenError("the resumption token has expired; restart the harvest")
    return token


# ----------------------------------------------------------------------------------- key
def signing_key(secret: str, store_root: str | os.PathLike[str] | None) -> bytes:
    """The HMAC key: ``settings.secret`` if set, else a random key kept beside the store.

    The key file ``<store>/oai-secret`` is created once (atomically, mode 0600) so every worker
    process and every restart signs alike and rebuilds do not invalidate running harvests. If the
    store directory is read-only and holds no key yet, a key is derived from facts about the store
    that are not published (its path, inode and the host's machine id) and a warning says to set
    LOD_SECRET.
    """
    if secret:
        return hashlib.sha256(b"lod-oai-token\0" + secret.encode()).digest()
    if store_root is None:
        return _derived("remote-store")
    root = Path(store_root)
    path = root / "oai-secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    tmp = root / f".oai-secret.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex() + "\n")
        try:
            os.link(tmp, path)       # first writer wins; concurrent workers read the winner's key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return bytes.fromhex(path.read_text().strip())
    except OSError:
        print(f"lod: warning: cannot write {path}; resumption tokens are signed with a key derived "
              "from the store; set LOD_SECRET", file=sys.stderr)
        st = root.stat()
        return _derived(f"{root.resolve()}|{st.st_dev}|{st.st_ino}")


def _derived(seed: str) -> bytes:
    try:
        machine = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine = ""
    return hashlib.sha256(f"lod-oai-token\0{seed}\0{machine}".encode()).digest()
