"""The fake Zalo Bot API server must answer as the documented API does, or the Zalo tests
prove nothing. Spoken to here with plain HTTP, as a client of the real API would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.fakes.zalo_api import FakeZaloServer

USER = "e4ea2cd5189df1c3a88c"


@pytest.fixture
async def server() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def api(
    http: aiohttp.ClientSession, server: FakeZaloServer, method: str, token: str | None = None
) -> Callable[..., Awaitable[tuple[int, dict[str, Any]]]]:
    """A function POSTing its keyword arguments as the JSON body; it returns the HTTP
    status and the answer."""

    async def post(**body: Any) -> tuple[int, dict[str, Any]]:
        url = f"{server.base_url}/bot{token or server.token}/{method}"
        async with http.post(url, json=body) as response:
            return response.status, await response.json()

    return post


async def test_get_updates_answers_one_update_per_call_then_408(
    server: FakeZaloServer, http: aiohttp.ClientSession
) -> None:
    first = server.push_text(USER, "Xin chào")
    server.push_sticker(USER)
    get_updates = api(http, server, "getUpdates")
    status, body = await get_updates(timeout="1")
    assert (status, body) == (200, {"ok": True, "result": first})
    assert body["result"]["message"]["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    status, body = await get_updates(timeout="1")
    assert body["result"]["event_name"] == "message.sticker.received"
    status, body = await get_updates(timeout="0.2")
    assert status == 408
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_a_long_poll_answers_as_soon_as_an_update_arrives(
    server: FakeZaloServer, http: aiohttp.ClientSession
) -> None:
    get_updates = api(http, server, "getUpdates")
    waiting = asyncio.create_task(get_updates(timeout="10"))
    await asyncio.sleep(0.1)
    server.push_text(USER, "/start")
    status, body = await asyncio.wait_for(waiting, 2)
    assert status == 200 and body["result"]["message"]["text"] == "/start"


async def test_an_abandoned_poll_leaves_the_update_queued(
    server: FakeZaloServer, http: aiohttp.ClientSession
) -> None:
    get_updates = api(http, server, "getUpdates")
    waiting = asyncio.create_task(get_updates(timeout="10"))
    await asyncio.sleep(0.1)
    waiting.cancel()
    await asyncio.sleep(0.1)
    server.push_text(USER, "/start")
    await asyncio.sleep(0.1)
    assert len(server.pending_updates) == 1


async def test_send_methods_check_their_parameters(
    server: FakeZaloServer, http: aiohttp.ClientSession
) -> None:
    send = api(http, server, "sendMessage")
    status, body = await send(chat_id=USER, text="x" * 2000)
    assert status == 200 and len(body["result"]["message_id"]) == 20
    assert (await send(chat_id=USER, text="x" * 2001))[0] == 400
    assert (await send(chat_id=USER, text=""))[0] == 400
    assert (await send(text="thiếu chat_id"))[0] == 400
    photo = api(http, server, "sendPhoto")
    sent, _ = await photo(chat_id=USER, photo="https://placehold.co/600x400", caption="Ảnh")
    assert sent == 200
    assert (await photo(chat_id=USER, photo="not a url"))[0] == 400
    action = api(http, server, "sendChatAction")
    assert await action(chat_id=USER, action="typing") == (200, {"ok": True})
    assert server.sent_texts(USER) == ["x" * 2000]


async def test_webhook_methods_and_the_getupdates_conflict(
    server: FakeZaloServer, http: aiohttp.ClientSession
) -> None:
    set_webhook = api(http, server, "setWebhook")
    assert (await set_webhook(url="https://bot.example.vn/zalo", secret_token="short"))[0] == 400
    plain_http, _ = await set_webhook(url="http://bot.example.vn/zalo", secret_token="8+chars!")
    assert plain_http == 400
    status, body = await set_webhook(url="https://bot.example.vn/zalo", secret_token="long-enough")
    assert status == 200 and body["result"]["url"] == "https://bot.example.vn/zalo"
    info = api(http, server, "getWebhookInfo")
    assert (await info())[1]["result"]["url"] == "https://bot.example.vn/zalo"
    get_updates = api(http, server, "getUpdates")
    assert (await get_updates(timeout="1"))[0] == 409
    delete = api(http, server, "deleteWebhook")
    assert (await delete())[1]["result"]["url"] == ""
    assert (await get_updates(timeout="0.1"))[0] == 408


async def test_faults(server: FakeZaloServer, http: aiohttp.ClientSession) -> None:
    wrong_token = api(http, server, "getMe", token="1:wrong")
    assert (await wrong_token())[0] == 401
    send = api(http, server, "sendMessage")
    server.fail_next("sendMessage", 429, retry_after=3)
    status, body = await send(chat_id=USER, text="a")
    assert status == 429 and body["parameters"] == {"retry_after": 3}
    server.rate_limit(2)
    assert [(await send(chat_id=USER, text="a"))[0] for _ in range(3)] == [429, 429, 200]
    server.block_chat("blocked")
    server.missing_chat("missing")
    assert (await send(chat_id="blocked", text="a"))[0] == 403
    assert (await send(chat_id="missing", text="a"))[0] == 400
    server.revoke_token()
    assert (await api(http, server, "getMe")())[0] == 401
    assert [call.error_code for call in server.calls_to("getMe")] == [401, 401]
