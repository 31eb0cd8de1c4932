"""The server secret (SOTAY_SECRET_KEY) and the keys derived from it: activation codes are
stored as an HMAC under one, button data is sealed under another. A database that leaks
without the secret gives up no code. Without a messenger token (the console demo) the secret
is generated once into var/secret_key, readable by its owner only."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

EMBEDDED_PATH = Path("var/secret_key")
MIN_LENGTH = 32


def derive(secret: str, purpose: str) -> bytes:
    """A key for one purpose, so that no two uses share a key."""
    return hmac.new(secret.encode(), f"sotay {purpose}".encode(), hashlib.sha256).digest()


def embedded_secret_key(path: Path = EMBEDDED_PATH) -> str:
    """The secret in `path`, made on first use; two processes starting at once agree,
    because the file appears complete (a hard link of a written temporary file) or not."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
