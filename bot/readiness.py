"""What /readyz checks before a proxy or an orchestrator sends a worker traffic: the database
answers within two seconds, its schema is at the migrations' head, and every messenger with a
token has started. A worker whose database goes away answers 503 and recovers when it
returns; the schema is looked at again after each outage (a restore may have replaced it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from bot.db import Database
from bot.migrate import current_revision, head_revision

CHECK_TIMEOUT = 2.0


class Readiness:
    def __init__(
        self,
        database: Database,
        messengers: Mapping[str, Callable[[], bool]],
        *,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self._database = database
        self._messengers = dict(messengers)
        self._timeout = timeout
        self._head = head_revision(database.url)
        self._schema_ok = False  # checked once, then again after the database was away

    async def missing(self) -> list[str]:
        """What keeps this process from being ready; empty when it is."""
        missing = []
        try:
            await asyncio.wait_for(self._check_database(), self._timeout)
        except TimeoutError:
            self._schema_ok = False
            missing.append("database unreachable (timeout)")
        except Exception as error:  # any driver's error: the reason is its type, no secrets
            self._schema_ok = False
            missing.append(f"database unreachable ({type(error).__name__})")
        else:
            if not self._schema_ok:
                missing.append(self._schema_reason)
        missing += [f"{name} not started" for name, up in self._messengers.items() if not up()]
        return missing

    async def _check_database(self) -> None:
        async with self._database.session() as session:
            await session.execute(text("SELECT 1"))
        if not self._schema_ok:
            current = await current_revision(self._database.engine)
            self._schema_ok = current == self._head
            self._schema_reason = f"schema not at head ({current or 'none'}; head {self._head})"


def readyz_handler(readiness: Readiness) -> Handler:
    """GET /readyz: 200 when ready, else 503 with the short reasons."""

    async def handle(_request: web.Request) -> web.Response:
        missing = await readiness.missing()
        if missing:
            return web.json_response({"status": "not ready", "missing": missing}, status=503)
        return web.json_response({"status": "ready"})

    return handle
