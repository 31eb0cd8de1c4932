"""The webhook routes as an attacker and a sloppy sender try them (issue #14.1 and #14.9): a
redelivered update stored and answered once; secrets compared as bytes; only JSON, of a
bounded size and depth; updates of impossible shapes refused or answered, never a 500; NUL
bytes stripped; strangers leaving no accounts behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

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
from bot.models import ChannelAccount, HandbookQuery, IntakeUpdate, Member, utcnow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from jobs.housekeeping import Housekeeping
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked
from tests.secretaries_harness import MEMBER
from tests.telegram_harness import running_channel, telegram_settings
from tests.zalo_harness import running_zalo, zalo_settings

SECRET = "intake-Secret_14"
USER = 7001
ZALO_USER = "a1b2c3d4e5f60718"
AUTH = {TELEGRAM_SECRET_HEADER: SECRET}
ZALO_AUTH = {ZALO_SECRET_HEADER: SECRET}


def _core(settings: Settings, database: Database, handbook: HandbookIndex) -> ChatCore:
    return ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as fake:
        yield fake


@pytest.fixture
async def client(
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZaloServer,
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
) -> AsyncIterator[TestClient]:
    """Both webhooks on one web app, as `sotay run` serves them."""
    telegram_env = telegram_settings(
        telegram_api,
        database_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.vn/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    zalo_env = zalo_settings(
        zalo_api,
        database_url,
        ZALO_WEBHOOK_URL="https://bot.example.vn/zalo/webhook",
        ZALO_WEBHOOK_SECRET=SECRET,
    )
    async with (
        running_channel(telegram_env, _core(telegram_env, database, handbook)) as telegram,
        running_zalo(zalo_env, _core(zalo_env, database, handbook)) as zalo,
    ):
        app = build_web_app(telegram, SECRET, zalo=zalo, zalo_secret=SECRET)
        test_client = TestClient(TestServer(app, host="127.0.0.1"))
        await test_client.start_server()
        try:
            yield test_client
        finally:
            await test_client.close()


async def _count(database: Database, model: Any) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _undone(database: Database) -> int:
    async with database.session() as session:
        query = select(func.count()).where(IntakeUpdate.done_at.is_(None))
        return await session.scalar(query) or 0


async def _settled(database: Database) -> None:
    for _ in range(200):
        if not await _undone(database):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("stored updates were not handled")


async def test_a_redelivered_update_is_answered_once(
    client: TestClient, telegram_api: FakeTelegramServer, database: Database
) -> None:
    update = telegram_api.make_message_update(USER, "/help")
    for _ in range(3):  # Telegram sends again what it thinks was not received
        response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=AUTH)
        assert response.status == 200
    await telegram_api.wait_for("sendMessage", chat_id=USER)
    await _settled(database)
    await asyncio.sleep(0.3)
    assert [m["text"] for m in telegram_api.sent_messages(USER)] == [text("help.menu")]
    assert await _count(database, IntakeUpdate) == 1


async def test_a_zalo_update_redelivered_is_answered_once(
    client: TestClient, zalo_api: FakeZaloServer, database: Database
) -> None:
    update = zalo_api.make_text_update(ZALO_USER, "/help")
    for _ in range(2):
        response = await client.post(ZALO_WEBHOOK_PATH, json=update, headers=ZALO_AUTH)
        assert response.status == 200
    await zalo_api.wait_for("sendMessage", chat_id=ZALO_USER)
    await _settled(database)
    await asyncio.sleep(0.3)
    assert len(zalo_api.sent_texts(ZALO_USER)) == 1
    assert await _count(database, IntakeUpdate) == 1


async def _raw_post(port: int, path: str, secret: bytes) -> bytes:
    """A request with a header value that is not UTF-8, which aiohttp's client refuses."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = TELEGRAM_SECRET_HEADER.encode()
    writer.write(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"
        + header
        + b": "
        + secret
        + b"\r\n\r\n{}"
    )
    await writer.drain()
    status = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return status


async def test_a_secret_that_is_not_utf8_is_a_403_logged_once_a_minute(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert client.port is not None
    statuses = [
        await _raw_post(client.port, TELEGRAM_WEBHOOK_PATH, b"\xff\xfe" + bytes([n]) * 8)
        for n in range(0x80, 0x80 + 30)
    ]
    assert {status.split()[1] for status in statuses} == {b"403"}
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1  # one source, one minute
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b'{"update_id": 1}'), ("application/xml", b"<update_id>1</update_id>")],
)
async def test_only_json_bodies_are_taken(
    client: TestClient, database: Database, content_type: str, body: bytes
) -> None:
    for path, auth in ((TELEGRAM_WEBHOOK_PATH, AUTH), (ZALO_WEBHOOK_PATH, ZALO_AUTH)):
        response = await client.post(
            path, data=body, headers={**auth, "Content-Type": content_type}
        )
        assert response.status == 415
    assert await _count(database, IntakeUpdate) == 0


@pytest.mark.parametrize("path", [TELEGRAM_WEBHOOK_PATH, ZALO_WEBHOOK_PATH])
async def test_json_nested_a_thousand_deep_is_a_400(client: TestClient, path: str) -> None:
    auth = AUTH if path == TELEGRAM_WEBHOOK_PATH else ZALO_AUTH
    for body in (b'{"a":' * 1000 + b"1" + b"}" * 1000, b"[" * 100_000 + b"]" * 100_000):
        response = await client.post(
            path, data=body, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status in (400, 413)
    deep = b'{"update_id": 5, "x": ' + b"[" * 900 + b"]" * 900 + b"}"
    response = await client.post(
        path, data=deep, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status in (200, 400)


async def test_bodies_past_the_limit_are_refused_before_they_are_read(
    client: TestClient, telegram_api: FakeTelegramServer, database: Database
) -> None:
    update = telegram_api.make_message_update(USER, "/help")
    padded = update | {"padding": "x" * MAX_WEBHOOK_BYTES}
    response = await client.post(TELEGRAM_WEBHOOK_PATH, json=padded, headers=AUTH)
    assert response.status == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
        yield b'{"update_id": 9, "padding": "'
        for _ in range(MAX_WEBHOOK_BYTES // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        TELEGRAM_WEBHOOK_PATH,
        data=chunks(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status == 413
    assert await _count(database, IntakeUpdate) == 0


async def test_the_web_console_still_takes_uploads_past_the_webhook_limit(
    client: TestClient,
) -> None:
    """The app's own limit stays the console's (roster and question-bank files)."""
    app = client.server.app
    assert app is not None
    assert app._client_max_size >= 1024 * 1024 > MAX_WEBHOOK_BYTES


async def test_a_date_past_any_calendar_is_a_400_not_a_500(
    client: TestClient, telegram_api: FakeTelegramServer, database: Database
) -> None:
    update = telegram_api.make_message_update(USER, "/help")
    update["message"]["date"] = 10**20
    response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=AUTH)
    assert response.status == 400
    assert await _count(database, IntakeUpdate) == 0


@pytest.mark.parametrize("value", [12345, True, 1.5])
async def test_text_that_is_not_text_gets_a_reply_on_both_messengers(
    client: TestClient,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZaloServer,
    database: Database,
    value: object,
) -> None:
    update = telegram_api.make_message_update(USER, "x")
    update["message"]["text"] = value
    response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=AUTH)
    assert response.status == 200
    (reply,) = await telegram_api.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"] == text("fallback.attachment")
    zalo_update = zalo_api.make_text_update(ZALO_USER, "x")
    zalo_update["message"]["text"] = value
    response = await client.post(ZALO_WEBHOOK_PATH, json=zalo_update, headers=ZALO_AUTH)
    assert response.status == 200
    (zalo_reply,) = await zalo_api.wait_for("sendMessage", chat_id=ZALO_USER)
    assert zalo_reply.params["text"] != text("errors.internal")
    assert text("errors.internal") not in [m["text"] for m in telegram_api.sent_messages()]


async def test_a_nul_byte_in_text_is_stripped_and_the_question_answered(
    client: TestClient,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZaloServer,
    database: Database,
    units: dict[str, int],
) -> None:
    """PostgreSQL refuses NUL in text: the handler crashed there (the question is logged
    for the editors), and the error line quoted the member's text."""
    async with database.session() as session, session.begin():
        member_id = await session.scalar(select(Member.id).where(Member.card_number == MEMBER))
        session.add(linked(member_id, ZALO_USER, channel="zalo"))
    update = telegram_api.make_message_update(int(MEMBER), "thủ tục\x00 chuyển sinh hoạt đảng")
    response = await client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=AUTH)
    assert response.status == 200
    zalo_update = zalo_api.make_text_update(ZALO_USER, "\x00thu tuc chuyen sinh hoat dang")
    response = await client.post(ZALO_WEBHOOK_PATH, json=zalo_update, headers=ZALO_AUTH)
    assert response.status == 200
    (reply,) = await telegram_api.wait_for("sendMessage", chat_id=int(MEMBER))
    (zalo_reply,) = await zalo_api.wait_for("sendMessage", chat_id=ZALO_USER)
    assert reply.params["text"] != text("errors.internal")
    assert zalo_reply.params["text"] != text("errors.internal")
    async with database.session() as session:
        questions = list(await session.scalars(select(HandbookQuery.question)))
    assert sorted(questions) == ["thu tuc chuyen sinh hoat dang", "thủ tục chuyển sinh hoạt đảng"]


def test_the_database_never_quotes_parameters_in_its_errors(database: Database) -> None:
    assert database.engine.sync_engine.hide_parameters


async def test_strangers_sending_garbage_leave_no_accounts_behind(
    client: TestClient,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZaloServer,
    database: Database,
) -> None:
    garbage = ["\x00", "🙂" * 3, "asdfgh", "/xyz", "12"]
    for n in range(50):
        if n % 2:
            body = telegram_api.make_message_update(9000 + n, garbage[n % len(garbage)])
            response = await client.post(TELEGRAM_WEBHOOK_PATH, json=body, headers=AUTH)
        else:
            body = zalo_api.make_text_update(f"f{n:015x}", garbage[n % len(garbage)])
            response = await client.post(ZALO_WEBHOOK_PATH, json=body, headers=ZALO_AUTH)
        assert response.status == 200
    await _settled(database)
    assert await _count(database, ChannelAccount) == 50
    # A stranger halfway through /start is kept.
    await client.post(
        TELEGRAM_WEBHOOK_PATH, json=telegram_api.make_message_update(USER, "/start"), headers=AUTH
    )
    await _settled(database)
    await Housekeeping(database).run(utcnow() + timedelta(days=2))
    async with database.session() as session:
        kept = list(await session.scalars(select(ChannelAccount.external_id)))
    assert kept == [str(USER)]
    await Housekeeping(database).run(utcnow() + timedelta(days=31))  # abandoned
    assert await _count(database, ChannelAccount) == 0
