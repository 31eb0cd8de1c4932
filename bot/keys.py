"""The deployment's one secret (SOTAY_SECRET_KEY) and the keys derived from it, one per use,
so that a key leaked or misused in one place (a cookie) says nothing about another (the
stored activation codes).

Production sets SOTAY_SECRET_KEY (bot/settings.py refuses to start a messenger without it).
The embedded default — no messenger, a console on this machine — gets a random key written
once to var/secret_key (readable by the owner only) and read back on every start, so codes
and sessions outlive a restart."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings


class Purpose:
    CODES = b"activation codes"
    LINK_CARDS = b"linking card numbers"
    WEB_SESSIONS = b"web console sessions"
    WEB_LOGINS = b"web console sign-in links"
    BUTTONS = b"button seals"
    ASKERS = b"handbook askers"


@dataclass(frozen=True)
class Keys:
    root: bytes

    def derive(self, purpose: bytes) -> bytes:
        return hmac.new(self.root, b"sotay:" + purpose, hashlib.sha256).digest()

    def digest(self, purpose: bytes, value: str) -> str:
        """A keyed hash of `value` for storage: without the secret, a copy of the database
        cannot be searched offline for the values behind it."""
        return hmac.new(self.derive(purpose), value.encode(), hashlib.sha256).hexdigest()

    @classmethod
    def for_settings(cls, settings: Settings) -> Keys:
        if settings.secret_key is not None:
            return cls(settings.secret_key.encode())
        return cls(_local_key(settings.secret_key_file))


def _local_key(path: Path) -> bytes:
    """The key in `path`, made on first use: written aside, then linked into place, so two
    processes starting together agree on one and neither reads a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f"{path.name}.{os.getpid()}.new")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise OSError(f"{path} holds no usable key (fewer than 32 characters)")
    return key.encode()
