"""What a webhook checks before it trusts a request: the secret header as bytes, in
constant time; a JSON body of a bounded size, refused before it is read; and log lines kept
to one per source a minute, so that a flood of bad calls cannot flood the log."""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from aiohttp import web

# One warning per source in this many seconds; the sources remembered are bounded.
LOG_EVERY = 60.0
MAX_SOURCES = 10_000
CHUNK = 64 * 1024


class LogThrottle:
    """Logs a warning of one kind for one source at most once per LOG_EVERY seconds."""

    def __init__(self, every: float = LOG_EVERY) -> None:
        self._every = every
        self._last: dict[tuple[str, str], float] = {}

    def warning(
        self, logger: logging.Logger, source: str, kind: str, message: str, *args: object
    ) -> None:
        now = time.monotonic()
        last = self._last.get((source, kind))
        if last is not None and now - last < self._every:
            return
        if len(self._last) >= MAX_SOURCES:
            self._last = {key: t for key, t in self._last.items() if now - t < self._every}
        self._last[(source, kind)] = now
        logger.warning(message + " from %s", *args, source)


def secret_matches(request: web.Request, header: str, secret: bytes) -> bool:
    """Compares the raw header bytes: a value that is not UTF-8 is just a wrong secret."""
    name = header.lower().encode()
    given = next((value for key, value in request.raw_headers if key.lower() == name), b"")
    return hmac.compare_digest(given, secret)


async def read_json_body(request: web.Request, limit: int) -> tuple[Any, web.Response | None]:
    """The decoded JSON body, or the refusal to answer instead: 415 for another content
    type, 413 for a body over `limit` bytes (by its Content-Length, or while streaming it
    in), 400 for bytes that are not JSON."""
    if request.content_type != "application/json":
        return None, web.Response(status=415, reason="Unsupported Media Type", text="JSON only")
    too_large = web.Response(status=413, reason="Payload Too Large", text="too large")
    too_large.force_close()  # the rest of the body is not read: the connection is dropped
    if request.content_length is not None and request.content_length > limit:
        return None, too_large
    body = bytearray()
    while chunk := await request.content.read(CHUNK):
        body.extend(chunk)
        if len(body) > limit:
            return None, too_large
    try:
        return json.loads(body), None
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, web.Response(status=400, reason="Bad Request", text="malformed JSON")
