"""AiohttpRequest, the bot's aiohttp backend for python-telegram-bot, against the fake Bot API:
it must do what PTB's default HTTPXRequest does for the calls the bot makes."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.delivery import RateLimits
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.telegram_http import AiohttpRequest
from bot.chat import ChatCore
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegramServer, UploadedFile
from tests.secret import TEST_SECRET_KEY

USER_ID = 1001
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


def make_bot(server: FakeTelegramServer, request: BaseRequest | None = None) -> Bot:
    return Bot(
        server.token,
        base_url=server.bot_url,
        base_file_url=server.file_url,
        request=request or AiohttpRequest(),
    )


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with make_bot(server) as client:
        yield client


async def test_get_me(server: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.username == "test_bot"
    assert all(call.ok for call in server.calls_to("getMe"))


async def test_send_message_with_inline_keyboard(server: FakeTelegramServer, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Đúng", callback_data="q:1:a")],
            [InlineKeyboardButton("Sai & ?", callback_data="q:1:b")],
        ]
    )

    message = await bot.send_message(
        USER_ID, "Câu 1: Nghị quyết 57 + 100% = ?", reply_markup=keyboard
    )

    assert message.text == "Câu 1: Nghị quyết 57 + 100% = ?"
    assert message.reply_markup == keyboard
    [params] = server.sent_messages(USER_ID)
    assert params["chat_id"] == USER_ID
    assert params["text"] == "Câu 1: Nghị quyết 57 + 100% = ?"
    assert params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Đúng", "callback_data": "q:1:a"}],
            [{"text": "Sai & ?", "callback_data": "q:1:b"}],
        ]
    }


async def test_send_document_uploads_name_content_and_type(
    server: FakeTelegramServer, bot: Bot
) -> None:
    content = bytes(range(256)) * 40  # binary, with CR/LF and NUL bytes

    message = await bot.send_document(
        USER_ID,
        InputFile(content, filename="Báo cáo quiz.xlsx"),
        caption="Kết quả",
    )

    [call] = server.calls_to("sendDocument")
    assert call.ok
    assert call.params["chat_id"] == USER_ID
    assert call.params["caption"] == "Kết quả"
    assert call.params["document"] == UploadedFile("Báo cáo quiz.xlsx", XLSX, content)
    assert message.document is not None
    assert message.document.file_name == "Báo cáo quiz.xlsx"


@pytest.mark.parametrize("file_name", ["Báo cáo quý 3.csv", 'say "hi"\\now.txt', "tab\there.txt"])
async def test_file_names_arrive_as_httpx_sends_them(
    server: FakeTelegramServer, file_name: str
) -> None:
    for request in (HTTPXRequest(), AiohttpRequest()):
        async with make_bot(server, request) as client:
            await client.send_document(USER_ID, InputFile(b"x", filename=file_name))

    via_httpx, via_aiohttp = (call.params["document"] for call in server.calls_to("sendDocument"))
    assert via_aiohttp == via_httpx


async def test_get_file_and_download(server: FakeTelegramServer, bot: Bot) -> None:
    content = b"\x00\x01 sheet \r\n" * 1000
    update = server.push_document(USER_ID, content, file_name="cau_hoi.xlsx", mime_type=XLSX)

    file = await bot.get_file(update["message"]["document"]["file_id"])

    assert file.file_size == len(content)
    assert await file.download_as_bytearray() == bytearray(content)


async def test_429_raises_retry_after(server: FakeTelegramServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, retry_after=1)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(USER_ID, "x")

    assert raised.value.retry_after in (1, dtm.timedelta(seconds=1))


async def test_403_raises_forbidden(server: FakeTelegramServer, bot: Bot) -> None:
    server.block_chat(USER_ID)

    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER_ID, "x")


async def test_slow_answer_raises_timed_out(server: FakeTelegramServer) -> None:
    server.set_delay(0.5)
    async with make_bot(server, AiohttpRequest(read_timeout=0.1)) as client:
        with pytest.raises(TimedOut):
            await client.send_message(USER_ID, "x")


async def test_read_timeout_of_a_call_overrides_the_default(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.set_delay(0.5)

    with pytest.raises(TimedOut):
        await bot.send_message(USER_ID, "x", read_timeout=0.1)


async def test_full_pool_raises_timed_out(server: FakeTelegramServer) -> None:
    server.set_delay(0.5)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    async with make_bot(server, request) as client:
        results = await asyncio.gather(
            client.send_message(USER_ID, "a"),
            client.send_message(USER_ID, "b"),
            return_exceptions=True,
        )

    errors = [result for result in results if isinstance(result, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], TimedOut)
    assert "Pool timeout" in str(errors[0])


async def test_closed_port_raises_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")

    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in str(raised.value)


async def test_shut_down_request_refuses_until_initialized_again(
    server: FakeTelegramServer,
) -> None:
    request = AiohttpRequest()
    url = f"{server.bot_url}{server.token}/getMe"
    await request.initialize()
    await request.shutdown()

    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the RuntimeError
        await request.post(url)

    await request.initialize()
    assert (await request.post(url))["username"] == "test_bot"  # type: ignore[index]
    await request.shutdown()


async def test_bot_and_outbox_sender_use_it(core: ChatCore) -> None:
    settings = Settings.from_mapping(
        {
            "TELEGRAM_TOKEN": "123456:TEST-token",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:9",
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
        }
    )
    bot = TelegramChannel(settings, core).application.bot
    sender = TelegramSender(
        settings, limits=RateLimits(per_second=30, burst=30, per_chat_interval=1)
    )

    assert isinstance(bot.request, AiohttpRequest)
    assert isinstance(bot._request[0], AiohttpRequest)  # the long polls
    assert isinstance(sender.bot.request, AiohttpRequest)
