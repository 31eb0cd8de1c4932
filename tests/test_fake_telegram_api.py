"""The fake Bot API server must look like Telegram to a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import FakeTelegramServer

USER_ID = 1001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(server.token, base_url=f"{server.base_url}/bot") as client:
        yield client


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me(server: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "test_bot"
    assert me.id == 123456
    assert server.calls_to("getMe")


async def test_send_message_echoes_inline_keyboard(server: FakeTelegramServer, bot: Bot) -> None:
    first = await bot.send_message(USER_ID, "Xin chào", reply_markup=_keyboard("a", "b"))
    second = await bot.send_message(USER_ID, "again")

    assert first.text == "Xin chào"
    assert first.chat.id == USER_ID
    assert first.chat.type == "private"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.reply_markup == _keyboard("a", "b")
    assert second.message_id == first.message_id + 1
    assert second.reply_markup is None

    sent = server.sent_messages(USER_ID)
    assert [p["text"] for p in sent] == ["Xin chào", "again"]
    assert sent[0]["chat_id"] == USER_ID
    assert sent[0]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "a", "callback_data": "a"}, {"text": "b", "callback_data": "b"}]
        ]
    }
    assert server.sent_messages(999) == []


async def test_message_ids_are_per_chat(bot: Bot) -> None:
    a = await bot.send_message(1, "x")
    b = await bot.send_message(2, "x")

    assert a.message_id == b.message_id == 1


async def test_edit_message_text_and_not_modified(server: FakeTelegramServer, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "one", reply_markup=_keyboard("a"))

    edited = await bot.edit_message_text(
        "two", chat_id=USER_ID, message_id=sent.message_id, reply_markup=_keyboard("a")
    )
    assert isinstance(edited, object) and edited.text == "two"  # type: ignore[union-attr]
    assert edited.edit_date is not None  # type: ignore[union-attr]

    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "two", chat_id=USER_ID, message_id=sent.message_id, reply_markup=_keyboard("a")
        )

    # Same text without the keyboard is a change: Telegram drops the keyboard.
    dropped = await bot.edit_message_text("two", chat_id=USER_ID, message_id=sent.message_id)
    assert dropped.reply_markup is None  # type: ignore[union-attr]
    assert server.get_message(USER_ID, sent.message_id)["text"] == "two"  # type: ignore[index]

    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)


async def test_callback_query_refers_to_last_bot_message(
    server: FakeTelegramServer, bot: Bot
) -> None:
    await bot.send_message(USER_ID, "first", reply_markup=_keyboard("a"))
    last = await bot.send_message(USER_ID, "menu", reply_markup=_keyboard("b"))
    server.push_message(USER_ID, "user text after the menu")

    raw = server.push_callback(USER_ID, "b")
    (update,) = await bot.get_updates(offset=raw["update_id"])
    query = update.callback_query

    assert query is not None
    assert query.data == "b"
    assert query.from_user.id == USER_ID
    assert query.message is not None and query.message.message_id == last.message_id
    assert query.message.text == "menu"  # type: ignore[union-attr]
    assert await bot.answer_callback_query(query.id, text="ok") is True
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("no-such-query")


async def test_callback_for_unknown_message_is_editable(
    server: FakeTelegramServer, bot: Bot
) -> None:
    raw = server.push_callback(USER_ID, "x", message_id=42)
    assert raw["callback_query"]["message"]["message_id"] == 42

    edited = await bot.edit_message_text("done", chat_id=USER_ID, message_id=42)
    assert edited.text == "done"  # type: ignore[union-attr]


async def test_retry_after(server: FakeTelegramServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, description="Too Many Requests", retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER_ID, "hi")
    assert _seconds(caught.value.retry_after) == 7

    await bot.send_message(USER_ID, "hi")  # only the next call failed
    assert [c.error_code for c in server.calls_to("sendMessage")] == [429, None]
    assert len(server.sent_messages()) == 1


async def test_fail_next_scoped_to_chat_and_count(server: FakeTelegramServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=500, description="Internal Server Error", count=2,
                     chat_id=7)  # fmt: skip

    await bot.send_message(8, "other chat is fine")
    for _ in range(2):
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.send_message(7, "x")
    await bot.send_message(7, "x")


async def test_blocked_and_missing_chats(server: FakeTelegramServer, bot: Bot) -> None:
    server.block_chat(5)
    server.missing_chat(6)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(5, "hi")
    with pytest.raises(Forbidden):
        await bot.send_photo(5, "https://example.org/a.jpg")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(6, "hi")
    assert server.sent_messages() == []


async def test_wrong_token(server: FakeTelegramServer) -> None:
    async with Bot(server.token, base_url=f"{server.base_url}/bot") as good:
        assert (await good.get_me()).username == "test_bot"
    wrong = Bot("654321:OTHER-token", base_url=f"{server.base_url}/bot")
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.shutdown()


async def test_raw_protocol(server: FakeTelegramServer) -> None:
    api = f"{server.base_url}/bot{server.token}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{api}/getme") as response:  # method names ignore case
            assert (await response.json())["result"]["username"] == "test_bot"
        # A JSON body, with reply_markup JSON-encoded as a string.
        body = {"chat_id": "12", "text": "123", "reply_markup": json.dumps(markup)}
        async with http.post(f"{api}/sendMessage", json=body) as response:
            result = (await response.json())["result"]
            assert result["reply_markup"] == markup
        # Form data: "123" stays text, chat_id becomes a number.
        form = {"chat_id": "12", "text": "123"}
        async with http.post(f"{api}/sendMessage", data=form) as response:
            assert response.status == 200
        async with http.get(f"{api}/sendMessage", params=form) as response:
            assert response.status == 200
        async with http.post(f"{api}/sendMessage", data={"chat_id": "12"}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: message text is empty"

    sent = server.sent_messages(12)
    assert [(p["chat_id"], p["text"]) for p in sent] == [(12, "123")] * 3
    assert sent[0]["reply_markup"] == markup


async def test_send_document_and_photo_multipart(server: FakeTelegramServer, bot: Bot) -> None:
    doc = await bot.send_document(
        USER_ID, b"%PDF-1.4 fake", filename="report.pdf", caption="Báo cáo"
    )
    photo = await bot.send_photo(USER_ID, b"\xff\xd8 fake jpeg", caption="Ảnh")

    assert doc.document is not None and doc.document.file_name == "report.pdf"
    assert doc.caption == "Báo cáo"
    assert photo.photo and photo.caption == "Ảnh"

    (doc_call,) = server.calls_to("sendDocument")
    assert doc_call.params["caption"] == "Báo cáo"
    assert doc_call.params["document"].file_name == "report.pdf"
    assert doc_call.params["document"].content == b"%PDF-1.4 fake"
    (photo_call,) = server.calls_to("sendPhoto")
    assert photo_call.params["photo"].size == len(b"\xff\xd8 fake jpeg")

    by_id = await bot.send_photo(USER_ID, photo.photo[-1].file_id)
    assert by_id.photo[-1].file_size == photo.photo[-1].file_size


async def test_get_updates_long_poll(server: FakeTelegramServer, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=0) == ()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    server.push_message(USER_ID, "hello")
    (update,) = await poll
    assert time.monotonic() - started < 0.5
    assert update.message is not None and update.message.text == "hello"

    # Unconfirmed updates come again; an offset confirms them.
    second = server.push_message(USER_ID, "second")
    assert len(await bot.get_updates()) == 2
    assert len(await bot.get_updates(limit=1)) == 1
    remaining = await bot.get_updates(offset=update.update_id + 1)
    assert [u.update_id for u in remaining] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    assert server.pending_updates == []


async def test_stop_releases_pending_long_poll() -> None:
    fake = FakeTelegramServer()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.base_url}/bot")
    await bot.initialize()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for("getUpdates")

    started = time.monotonic()
    await fake.stop()
    assert await poll == ()
    assert time.monotonic() - started < 1
    await bot.shutdown()


async def test_newer_get_updates_terminates_older(server: FakeTelegramServer, bot: Bot) -> None:
    # PTB's own get_updates pool has one connection, so the older poll comes from aiohttp.
    url = f"{server.base_url}/bot{server.token}/getUpdates"
    async with aiohttp.ClientSession() as http:
        older = asyncio.create_task(http.post(url, data={"timeout": "5"}))
        await server.wait_for("getUpdates")
        assert await bot.get_updates(timeout=0) == ()

        response = await older
        assert response.status == 409
        assert "terminated by other getUpdates" in (await response.json())["description"]
        response.release()


async def test_webhook_blocks_get_updates(server: FakeTelegramServer, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    assert server.webhook["secret_token"] == "s3cret"

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    server.push_message(USER_ID, "queued")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_make_update_does_not_queue(server: FakeTelegramServer, bot: Bot) -> None:
    raw = server.make_message_update(USER_ID, "/start@test_bot abc")
    callback = server.make_callback_update(USER_ID, "x")

    assert server.pending_updates == []
    update = Update.de_json(raw, bot)
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start@test_bot")
    assert callback["update_id"] == raw["update_id"] + 1
    assert Update.de_json(callback, bot).callback_query is not None


async def test_push_contact_sticker_photo(server: FakeTelegramServer, bot: Bot) -> None:
    server.push_contact(USER_ID, "+84901234567")
    server.push_contact(USER_ID, "+84900000000", contact_user_id=2002)
    server.push_sticker(USER_ID)
    server.push_photo(USER_ID, caption="nhìn này")

    own, other, sticker, photo = await bot.get_updates()
    assert own.message.contact.user_id == USER_ID  # type: ignore[union-attr]
    assert own.message.contact.phone_number == "+84901234567"  # type: ignore[union-attr]
    assert other.message.contact.user_id == 2002  # type: ignore[union-attr]
    assert sticker.message.sticker is not None  # type: ignore[union-attr]
    assert photo.message.photo and photo.message.caption == "nhìn này"  # type: ignore[union-attr]
    ids = [u.message.message_id for u in (own, other, sticker, photo)]  # type: ignore[union-attr]
    assert ids == [1, 2, 3, 4]

    file = await bot.get_file(photo.message.photo[-1].file_id)  # type: ignore[union-attr]
    assert file.file_path is not None


async def test_rate_limit_sliding_window(bot: Bot) -> None:
    async with FakeTelegramServer(rate_limit_per_second=3) as limited:
        async with Bot(limited.token, base_url=f"{limited.base_url}/bot") as client:
            for chat in (1, 2, 3):
                await client.send_message(chat, "x")
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(4, "x")
            assert _seconds(caught.value.retry_after) == 1
            await asyncio.sleep(1.05)
            await client.send_message(4, "x")


async def test_per_chat_rate_limit() -> None:
    async with FakeTelegramServer(per_chat_rate_limit=True) as limited:
        async with Bot(limited.token, base_url=f"{limited.base_url}/bot") as client:
            await client.send_message(1, "x")
            await client.send_message(2, "x")
            with pytest.raises(RetryAfter):
                await client.send_message(1, "y")
            assert [p["text"] for p in limited.sent_messages(1)] == ["x"]


async def test_send_delay(server: FakeTelegramServer, bot: Bot) -> None:
    server.set_delay(0.3)
    started = time.monotonic()
    await bot.send_message(USER_ID, "slow")
    assert time.monotonic() - started >= 0.3
    server.set_delay(0)


async def test_wait_for_timeout_lists_calls(server: FakeTelegramServer, bot: Bot) -> None:
    await bot.send_message(USER_ID, "only one")

    with pytest.raises(AssertionError, match=r"expected 2 call\(s\) to sendMessage") as caught:
        await server.wait_for("sendMessage", 2, timeout=0.2)
    assert "only one" in str(caught.value)

    server.clear()
    assert server.calls == []


async def test_application_polling_echo(server: FakeTelegramServer) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = Application.builder().token(server.token).base_url(f"{server.base_url}/bot").build()
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        server.push_message(USER_ID, "xin chào")
        (call,) = await server.wait_for("sendMessage", chat_id=USER_ID)
        assert call.params["text"] == "echo: xin chào"

        started = time.monotonic()
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
    assert time.monotonic() - started < 2

    # The final getUpdates confirmed the processed update.
    assert server.pending_updates == []
    assert [c.method for c in server.calls][:2] == ["getMe", "deleteWebhook"]
    assert all(c.ok for c in server.calls), server.calls
