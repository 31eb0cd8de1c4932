"""Nothing acknowledged is lost: a real `sotay run` in webhook mode is sent 300 updates,
killed with SIGKILL right after the last is acknowledged, and started again; every chat is
answered exactly once (issue #14, item 1)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.webapp import TELEGRAM_SECRET_HEADER, TELEGRAM_WEBHOOK_PATH
from bot.db import Database
from bot.texts import text
from tests.fakes.telegram_api import FakeTelegramServer

SECRET = "crash-test-Secret_1"
CHATS = 300
ANSWERED_BEFORE = 50  # answered and finished before the crash: must not be answered again
REDELIVERED = 30  # posted twice, as Telegram does when it missed our 200
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


async def _start(server: FakeTelegramServer, url: str, port: int, log: Path) -> Any:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOTAY_"))},
        "SOTAY_DATABASE_URL": url,
        "TELEGRAM_TOKEN": server.token,
        "TELEGRAM_BASE_URL": server.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SOTAY_HTTP_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--host",
        "127.0.0.1",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.1)
    raise AssertionError("sotay run did not start; see " + str(log))


async def _post_all(port: int, updates: list[dict[str, Any]]) -> None:
    """Posts concurrently (as Telegram does with several connections); each must get 200."""
    url = f"http://127.0.0.1:{port}{TELEGRAM_WEBHOOK_PATH}"
    slots = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:

        async def post(update: dict[str, Any]) -> None:
            async with (
                slots,
                session.post(url, json=update, headers={TELEGRAM_SECRET_HEADER: SECRET}) as r,
            ):
                assert r.status == 200, await r.text()

        await asyncio.gather(*(post(update) for update in updates))


async def _wait_answered(server: FakeTelegramServer, chats: range, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        answered = {m["chat_id"] for m in server.sent_messages()}
        if answered.issuperset(chats):
            return
        await asyncio.sleep(0.1)
    missing = set(chats) - {m["chat_id"] for m in server.sent_messages()}
    raise AssertionError(f"{len(missing)} chats not answered")


async def test_updates_acknowledged_before_a_sigkill_are_answered_once_after_restart(
    server: FakeTelegramServer, database: Database, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "sotay.log"
    updates = [server.make_message_update(chat, "/help") for chat in range(1, CHATS + 1)]
    process = await _start(server, database_url, port, log)
    try:
        await _post_all(port, updates[:ANSWERED_BEFORE])
        await _wait_answered(server, range(1, ANSWERED_BEFORE + 1), 30)
        # From here the Bot API takes no reply until the crash: whatever the process
        # handled, it could not deliver.
        server.hold_sends()
        await _post_all(port, updates[ANSWERED_BEFORE:] + updates[-REDELIVERED:])
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    server.release_sends()
    assert {m["chat_id"] for m in server.sent_messages()} == set(range(1, ANSWERED_BEFORE + 1))

    process = await _start(server, database_url, port, log)
    try:
        await _post_all(port, updates[:5] + updates[-5:])  # redelivered after the restart
        await _wait_answered(server, range(1, CHATS + 1), 60)
        await asyncio.sleep(1.0)  # time for a second answer, were one coming
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    answers = Counter(m["chat_id"] for m in server.sent_messages())
    assert answers == Counter(range(1, CHATS + 1))
    assert {m["text"] for m in server.sent_messages()} == {text("help.menu")}
