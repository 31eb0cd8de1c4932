"""The conversation on Telegram: the real python-telegram-bot Application, polling the fake
Bot API server on 127.0.0.1, and the webhook route of the web app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.channels.telegram import TelegramChannel
from bot.channels.webapp import TELEGRAM_SECRET_HEADER, TELEGRAM_WEBHOOK_PATH, build_web_app
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Button, Reply
from bot.models import ChannelAccount
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.telegram_harness import keyboard_labels, running_channel, telegram_settings

USER = 5001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def telegram(
    server: FakeTelegramServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[TelegramChannel]:
    settings = telegram_settings(server, database_url)
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    async with running_channel(settings, core) as channel:
        yield channel


async def test_start_gets_the_welcome_and_the_consent_question(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    server.push_message(USER, "/start")
    welcome, consent = await server.wait_for("sendMessage", 2, chat_id=USER)
    assert welcome.params["text"] == text("start.welcome")
    assert consent.params["text"] == text("link.consent")
    assert keyboard_labels(consent.params) == ["Đồng ý", "Không đồng ý"]


async def test_help_buttons_and_pressing_one(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    server.push_message(USER, "/help")
    (menu,) = await server.wait_for("sendMessage", chat_id=USER)
    assert menu.params["text"] == text("help.menu")
    assert keyboard_labels(menu.params) == [
        "Hỏi đáp Sổ tay",
        "Lịch họp",
        "Trắc nghiệm",
        "Liên kết tài khoản",
        "Quyền riêng tư",
        "Dành cho bí thư",
        "Giới thiệu bot",
    ]
    server.push_callback(USER, "help:privacy")
    await server.wait_for("answerCallbackQuery")
    await server.wait_for("sendMessage", 2, chat_id=USER)
    assert server.sent_messages(USER)[-1]["text"] == text("help.privacy")


async def test_stale_button_is_answered_and_explained(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    server.push_callback(USER, "old-feature:42")
    await server.wait_for("answerCallbackQuery")
    (reply,) = await server.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"] == text("fallback.stale_button")


async def test_sticker_photo_and_unknown_command_get_polite_replies(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    server.push_sticker(USER)
    server.push_photo(USER)
    server.push_message(USER, "/lenhla")
    await server.wait_for("sendMessage", 3, chat_id=USER)
    assert [m["text"] for m in server.sent_messages(USER)] == [
        text("fallback.attachment"),
        text("fallback.attachment"),
        text("fallback.unknown_command", command="lenhla"),
    ]


async def test_long_replies_are_split_on_paragraphs_with_buttons_on_the_last(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    paragraph = "Đoạn văn dài về sinh hoạt chi bộ. " * 60
    reply = Reply("\n\n".join([paragraph.strip()] * 4), buttons=((Button("Tiếp", "help:ask"),),))
    await telegram.send(str(USER), [reply])
    sent = server.sent_messages(USER)
    assert len(sent) == 2
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert "reply_markup" not in sent[0] or not sent[0]["reply_markup"]
    assert keyboard_labels(sent[1]) == ["Tiếp"]
    assert "\n\n".join(m["text"] for m in sent) == reply.text


async def test_group_chats_are_ignored(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    update = server.make_message_update(USER, "/help")
    update["message"]["chat"] = {"id": -100, "type": "group", "title": "Chi bộ"}
    server.push_update(update)
    server.push_message(USER, "/help")
    await server.wait_for("sendMessage", chat_id=USER)
    assert server.calls_to("sendMessage", chat_id=-100) == []


# Webhook mode: the web app checks the secret before anything is parsed.

SECRET = "s3cret-Token_1"


@pytest.fixture
async def webhook_client(
    server: FakeTelegramServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[TestClient]:
    settings = telegram_settings(
        server,
        database_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.vn/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    async with running_channel(settings, core) as channel:
        client = TestClient(TestServer(build_web_app(channel, SECRET), host="127.0.0.1"))
        await client.start_server()
        try:
            yield client
        finally:
            await client.close()


async def _accounts(database: Database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(ChannelAccount)) or 0


async def test_webhook_is_registered_with_the_secret(
    server: FakeTelegramServer, webhook_client: TestClient
) -> None:
    (call,) = server.calls_to("setWebhook")
    assert call.params["url"] == "https://bot.example.vn/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert server.calls_to("getUpdates") == []


async def test_webhook_with_the_right_secret_is_answered(
    server: FakeTelegramServer, webhook_client: TestClient
) -> None:
    update = server.make_message_update(USER, "/help")
    response = await webhook_client.post(
        TELEGRAM_WEBHOOK_PATH, json=update, headers={TELEGRAM_SECRET_HEADER: SECRET}
    )
    assert response.status == 200
    (reply,) = await server.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"] == text("help.menu")


@pytest.mark.parametrize(
    "headers", [{}, {TELEGRAM_SECRET_HEADER: "wrong"}, {TELEGRAM_SECRET_HEADER: ""}]
)
async def test_webhook_without_the_right_secret_is_refused_and_nothing_processed(
    server: FakeTelegramServer,
    webhook_client: TestClient,
    database: Database,
    headers: dict[str, str],
) -> None:
    update = server.make_message_update(USER, "/help")
    response = await webhook_client.post(TELEGRAM_WEBHOOK_PATH, json=update, headers=headers)
    assert response.status == 403
    # A correct call afterwards is processed, so nothing was queued before it.
    ok = await webhook_client.post(
        TELEGRAM_WEBHOOK_PATH,
        json=server.make_message_update(USER + 1, "/help"),
        headers={TELEGRAM_SECRET_HEADER: SECRET},
    )
    assert ok.status == 200
    await server.wait_for("sendMessage", chat_id=USER + 1)
    assert server.calls_to("sendMessage", chat_id=USER) == []
    assert await _accounts(database) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"update_id": "x"}', b'{"update_id": 1, "message": 5}']
)
async def test_webhook_with_a_malformed_body_is_a_400(
    server: FakeTelegramServer, webhook_client: TestClient, body: bytes
) -> None:
    response = await webhook_client.post(
        TELEGRAM_WEBHOOK_PATH,
        data=body,
        headers={TELEGRAM_SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400


async def test_healthz(webhook_client: TestClient) -> None:
    response = await webhook_client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


def test_settings_fixture_is_not_webhook(settings: Settings) -> None:
    assert not settings.telegram_webhook_mode
