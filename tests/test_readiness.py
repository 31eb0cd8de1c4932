"""/readyz: 200 when the database answers, its schema is at head and every messenger has
started; 503 with what is missing otherwise, and 200 again once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.webapp import build_web_app
from bot.db import Database
from bot.metrics import Metrics
from bot.migrate import head_revision
from bot.readiness import Readiness


async def _client(readiness: Readiness) -> TestClient:
    app = build_web_app(None, None, readiness=readiness, metrics=Metrics())
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[Readiness], object]]:
    made: list[TestClient] = []

    async def make(readiness: Readiness) -> TestClient:
        client = await _client(readiness)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def test_ready_when_database_schema_and_messengers_are(
    database: Database, clients: Callable[[Readiness], TestClient]
) -> None:
    started = {"telegram": True}
    client = await clients(Readiness(database, {"telegram": lambda: started["telegram"]}))
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}
    started["telegram"] = False
    response = await client.get("/readyz")
    assert response.status == 503
    assert await response.json() == {"status": "not ready", "missing": ["telegram not started"]}


async def test_a_database_behind_head_is_not_ready(
    tmp_path: Path, clients: Callable[[Readiness], TestClient]
) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        client = await clients(Readiness(empty, {}))
        response = await client.get("/readyz")
        assert response.status == 503
        body = await response.json()
        head = head_revision(empty.url)
        assert body["missing"] == [f"schema not at head (none; head {head})"]
    finally:
        await empty.dispose()


class Flaky(Database):
    """A database that can be taken away and given back."""

    away = False

    def session(self):  # type: ignore[no-untyped-def]
        if self.away:
            raise OSError("connection refused")
        return super().session()


async def test_a_database_that_goes_away_is_503_and_recovers(
    database_url: str, database: Database, clients: Callable[[Readiness], TestClient]
) -> None:
    flaky = Flaky(database_url)
    try:
        client = await clients(Readiness(flaky, {}))
        assert (await client.get("/readyz")).status == 200
        flaky.away = True
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["missing"] == ["database unreachable (OSError)"]
        flaky.away = False
        assert (await client.get("/readyz")).status == 200
    finally:
        await flaky.dispose()
