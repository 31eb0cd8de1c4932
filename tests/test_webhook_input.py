"""What the webhook routes take and refuse (issue #14, items 1, 2 and 9): a redelivered
update answered once, a button press that Telegram refuses to acknowledge still handled,
secrets compared as bytes, only bounded JSON bodies, forged shapes refused or answered."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.channels.webapp import (
    MAX_WEBHOOK_BYTES,
    TELEGRAM_SECRET_HEADER,
    TELEGRAM_WEBHOOK_PATH,
    ZALO_SECRET_HEADER,
    ZALO_WEBHOOK_PATH,
    build_web_app,
)
from bot.chat import ChatCore
from bot.db import Database
from bot.models import ChannelAccount, HandbookQuery, IntakeUpdate, utcnow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

USER = 6001
SECRET = "input-Secret_77"
HEADERS = {TELEGRAM_SECRET_HEADER: SECRET}


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def client(
    server: FakeTelegramServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[TestClient]:
    settings = telegram_settings(
        server,
        database_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.vn/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        SOTAY_PUBLIC_HANDBOOK="1",  # an unlinked account's question is logged
    )
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    async with running_channel(settings, core) as channel:
        test_client = TestClient(TestServer(build_web_app(channel, SECRET), host="127.0.0.1"))
        await test_client.start_server()
        try:
            yield test_client
        finally:
            await test_client.close()


async def _count(database: Database, model: type) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _post(client: TestClient, body: bytes, **headers: str) -> int:
    response = await client.post(
        TELEGRAM_WEBHOOK_PATH,
        data=body,
        headers={**HEADERS, "Content-Type": "application/json", **headers},
    )
    return response.status


# Item 1: a redelivery is answered once.


async def test_a_redelivered_update_is_answered_once(
    server: FakeTelegramServer, client: TestClient, database: Database
) -> None:
    update = server.make_message_update(USER, "/help")
    for _ in range(3):
        response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=HEADERS)
        assert response.status == 200
    await server.wait_for("sendMessage", chat_id=USER)
    await asyncio.sleep(0.5)
    assert [m["text"] for m in server.sent_messages(USER)] == [text("help.menu")]
    assert await _count(database, IntakeUpdate) == 1


# Item 2: the press counts even when Telegram will not acknowledge it.


async def test_a_button_press_is_handled_when_answering_the_callback_fails(
    server: FakeTelegramServer, client: TestClient
) -> None:
    server.fail_next(
        "answerCallbackQuery",
        status=400,
        description="Bad Request: query is too old and response timeout expired or query ID "
        "is invalid",
    )
    update = server.make_callback_update(USER, "help:privacy")
    response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=HEADERS)
    assert response.status == 200
    (reply,) = await server.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"] == text("help.privacy")
    (refused,) = await server.wait_for("answerCallbackQuery")
    assert refused.error_code == 400


# Item 9: secrets as bytes, one log line per source a minute.


async def _raw_post(client: TestClient, secret: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    body = b'{"update_id": 1}'
    writer.write(
        b"POST "
        + TELEGRAM_WEBHOOK_PATH.encode()
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + TELEGRAM_SECRET_HEADER.encode()
        + b": "
        + secret
        + b"\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return status_line


async def test_a_secret_that_is_not_utf8_is_a_403_logged_once_a_minute(
    client: TestClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            status = await _raw_post(client, b"\xff\xfe\x80" + SECRET.encode())
            assert status.startswith(b"HTTP/1.1 403")
    refusals = [r for r in caplog.records if "wrong secret" in r.getMessage()]
    assert len(refusals) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await _count(database, IntakeUpdate) == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"]
)
async def test_only_json_bodies_are_taken(
    server: FakeTelegramServer, client: TestClient, database: Database, content_type: str
) -> None:
    body = json.dumps(server.make_message_update(USER, "/help")).encode()
    assert await _post(client, body, **{"Content-Type": content_type}) == 415
    assert await _count(database, IntakeUpdate) == 0


async def test_a_body_over_the_limit_is_a_413_before_it_is_read(
    client: TestClient, database: Database
) -> None:
    huge = b'{"update_id": 1, "pad": "' + b"x" * (MAX_WEBHOOK_BYTES + 10) + b'"}'
    assert await _post(client, huge) == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b" " * 65536

    response = await client.post(
        TELEGRAM_WEBHOOK_PATH,
        data=chunks(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    assert response.status == 413
    assert await _count(database, IntakeUpdate) == 0


def _nested(depth: int) -> bytes:
    return b'{"update_id": 5, "message": ' + b"[" * depth + b"]" * depth + b"}"


async def test_deep_nesting_and_impossible_dates_are_a_400_and_logged(
    server: FakeTelegramServer,
    client: TestClient,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    future = server.make_message_update(USER, "/help")
    future["message"]["date"] = 10**20
    with caplog.at_level(logging.WARNING):
        assert await _post(client, _nested(1000)) == 400
        assert await _post(client, _nested(100_000)) == 400
        assert await _post(client, json.dumps(future).encode()) == 400
    assert any("refused a body" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await _count(database, IntakeUpdate) == 0


@pytest.mark.parametrize("value", [12345, True, 1.5, None, ["a"]])
async def test_text_that_is_not_a_string_gets_a_polite_reply(
    server: FakeTelegramServer, client: TestClient, value: Any
) -> None:
    update = server.make_message_update(USER, "x")
    update["message"]["text"] = value
    assert await _post(client, json.dumps(update).encode()) == 200
    (reply,) = await server.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"] == text("fallback.attachment")


async def test_nul_bytes_are_dropped_from_the_text(
    server: FakeTelegramServer, client: TestClient, database: Database
) -> None:
    update = server.make_message_update(USER, "đảng\x00 phí\x00 bao nhiêu")
    assert await _post(client, json.dumps(update).encode()) == 200
    await server.wait_for("sendMessage", chat_id=USER)
    async with database.session() as session:
        questions = list(await session.scalars(select(HandbookQuery.question)))
    assert questions == ["đảng phí bao nhiêu"]


# Zalo: the same checks, and its message id as the intake key.

ZALO_SECRET = "zalo-input-Secret"
ZALO_USER = "a1b2c3d4e5f60718"


@pytest.fixture
async def zalo_client(
    database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[tuple[FakeZaloServer, TestClient]]:
    async with FakeZaloServer() as fake:
        settings = zalo_settings(
            fake,
            database_url,
            ZALO_WEBHOOK_URL="https://bot.example.vn/zalo/webhook",
            ZALO_WEBHOOK_SECRET=ZALO_SECRET,
        )
        shared = Shared(settings, handbook, render=render_notice)
        async with running_zalo(settings, ChatCore(database, build_router(), shared)) as zalo:
            app = build_web_app(None, None, zalo=zalo, zalo_secret=ZALO_SECRET)
            test_client = TestClient(TestServer(app, host="127.0.0.1"))
            await test_client.start_server()
            try:
                yield fake, test_client
            finally:
                await test_client.close()


async def test_zalo_redelivery_is_answered_once_and_odd_text_politely(
    zalo_client: tuple[FakeZaloServer, TestClient], database: Database
) -> None:
    fake, zalo = zalo_client
    update = fake.make_text_update(ZALO_USER, "/help")
    headers = {ZALO_SECRET_HEADER: ZALO_SECRET}
    for _ in range(2):
        assert (await zalo.post(ZALO_WEBHOOK_PATH, json=update, headers=headers)).status == 200
    await fake.wait_for("sendMessage", chat_id=ZALO_USER)
    odd = fake.make_text_update(ZALO_USER, "x")
    odd["message"]["text"] = 42
    assert (await zalo.post(ZALO_WEBHOOK_PATH, json=odd, headers=headers)).status == 200
    await fake.wait_for("sendMessage", 2, chat_id=ZALO_USER)
    await asyncio.sleep(0.3)
    texts = fake.sent_texts(ZALO_USER)
    assert len(texts) == 2
    assert texts[0].startswith(text("help.menu"))
    assert texts[1] == text("fallback.unsupported")
    plain = await zalo.post(
        ZALO_WEBHOOK_PATH, data=b"<xml/>", headers={**headers, "Content-Type": "text/xml"}
    )
    assert plain.status == 415
    assert await _count(database, IntakeUpdate) == 2
    assert await _count(database, ChannelAccount) == 1


async def test_a_failing_statement_does_not_carry_what_the_member_wrote(
    database: Database,
) -> None:
    secret = "gọi 0912345678 nhé"
    with pytest.raises(IntegrityError) as failure:  # answered may not be NULL
        async with database.session() as session, session.begin():
            await session.execute(
                insert(HandbookQuery).values(
                    question=secret, answered=None, score=0.0, asked_at=utcnow()
                )
            )
    assert "0912345678" not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)
