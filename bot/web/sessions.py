"""The console's session cookie and CSRF tokens, both HMAC-signed with a key derived from
SOTAY_SECRET_KEY (bot/keys.py).

The cookie holds only the session's row id and when it was last used: "id.seen.mac". The
server checks the signature, the idle time and that the row is still open, so a cookie
cannot be forged, outlive 15 minutes of idleness, or survive signing out."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

COOKIE_NAME = "sotay_admin"


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SessionCookie:
    login_id: int
    seen: int  # Unix seconds of the last request

    def seal(self, key: bytes) -> str:
        body = f"{self.login_id}.{self.seen}"
        return f"{body}.{_mac(key, body)}"

    @classmethod
    def open(cls, key: bytes, value: str) -> SessionCookie | None:
        """The cookie, if it is well-formed and signed with this key."""
        parts = value.split(".")
        if len(parts) != 3 or not all(part.isdigit() for part in parts[:2]):
            return None
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2], _mac(key, body)):
            return None
        return cls(int(parts[0]), int(parts[1]))


def csrf_token(key: bytes, login_id: int) -> str:
    """The token every form of this session carries."""
    return _mac(key, f"csrf:{login_id}")


def csrf_matches(key: bytes, login_id: int, given: str) -> bool:
    return hmac.compare_digest(given.encode(), csrf_token(key, login_id).encode())


def file_seal(key: bytes, login_id: int, name: str, content: bytes) -> str:
    """Binds a file a preview showed to this session: the confirming form carries the file
    back, and only what was previewed, unchanged, is applied."""
    return _mac(key, f"file:{login_id}:{name}:{hashlib.sha256(content).hexdigest()}")
