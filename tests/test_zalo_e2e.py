"""The conversation on Zalo: the real adapter polling the fake Zalo Bot API server on
127.0.0.1, the webhook route of the web app, and the outbox sender's error classification."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.channels.delivery import (
    ChatNotFound,
    PermanentError,
    RecipientBlocked,
    RetryLater,
    SenderUnauthorized,
    TransientError,
)
from bot.channels.webapp import ZALO_SECRET_HEADER, ZALO_WEBHOOK_PATH, build_web_app
from bot.channels.zalo import DEFAULT_RETRY_AFTER, ZaloApiError, ZaloChannel, ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.keys import Keys
from bot.messages import Button, Reply
from bot.models import ChannelAccount, ConversationState, Member
from bot.runtime import run_messengers
from bot.services import Shared
from bot.services.codes import CodeService
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.zalo_api import FakeZaloServer
from tests.harness import linked
from tests.secret import TEST_SECRET_KEY
from tests.zalo_harness import running_zalo, zalo_settings

USER = "a1b2c3d4e5f60718"
# Demo member 90000004 (Phạm Quốc Dũng, Chi bộ Sở Tư pháp).
CARD = "90000004"
NUMBERED = re.compile(r"^(\d+)\. (.+)$")


@pytest.fixture
async def server() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer() as fake:
        yield fake


def _core(settings: Settings, database: Database, handbook: HandbookIndex) -> ChatCore:
    return ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))


@pytest.fixture
async def zalo(
    server: FakeZaloServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[ZaloChannel]:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    settings = zalo_settings(server, database_url)
    async with running_zalo(settings, _core(settings, database, handbook)) as channel:
        yield channel


async def say(server: FakeZaloServer, message: str, *, replies: int = 1) -> list[str]:
    """Send a text and return the `replies` messages the bot sent back."""
    before = len(server.calls_to("sendMessage", chat_id=USER))
    server.push_text(USER, message)
    await server.wait_for("sendMessage", before + replies, chat_id=USER)
    return server.sent_texts(USER)[before:]


def choices(message: str) -> list[str]:
    """The labels of the numbered list that ends a message, checking the numbering."""
    *_, last = message.split("\n\n")
    found = [NUMBERED.match(line) for line in last.split("\n")]
    assert all(found), f"no numbered list at the end of {message!r}"
    assert [int(m[1]) for m in found if m] == list(range(1, len(found) + 1))
    return [m[2] for m in found if m]


async def _link_directly(database: Database) -> None:
    async with database.session() as session, session.begin():
        member_id = await session.scalar(select(Member.id).where(Member.card_number == CARD))
        session.add(linked(member_id, USER, "zalo"))


async def _account(database: Database) -> ChannelAccount | None:
    async with database.session() as session:
        return await session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == "zalo", ChannelAccount.external_id == USER
            )
        )


async def test_start_consent_by_digit_then_an_activation_code_links(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database
) -> None:
    welcome, consent = await say(server, "/start", replies=2)
    assert welcome == text("start.welcome")
    assert consent == f"{text('link.consent')}\n\n1. Đồng ý\n2. Không đồng ý"
    assert await say(server, "1") == [text("link.ask_code")]
    # Zalo cannot prove a phone number: a card number is not enough.
    assert await say(server, CARD) == [text("link.code_needed")]
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
        assert member is not None
        issued = await CodeService(session, Keys(TEST_SECRET_KEY.encode())).issue_for_unit(
            member.organisation_id, issued_by="test", now=datetime.now(UTC)
        )
    code = next(c.code for c in issued if c.member_id == member.id)
    welcome, tour = await say(server, code, replies=2)
    assert welcome == text("link.linked", name="Phạm Quốc Dũng", unit="Chi bộ Sở Tư pháp")
    # The first-run tour follows, its buttons numbered.
    assert tour.startswith(text("tour.step", number=1, total=5, title=text("tour.title_member")))
    assert tour.endswith(f"\n\n1. {text('tour.button_next')}\n2. {text('tour.button_skip')}")
    account = await _account(database)
    assert account is not None and account.member_id == member.id
    assert account.consent_at is not None and account.chat_id == USER


async def test_consent_refused_by_digit(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database
) -> None:
    await say(server, "/start", replies=2)
    assert await say(server, "2") == [text("link.declined")]
    account = await _account(database)
    assert account is not None and account.consent_at is None and account.member_id is None


async def test_question_without_diacritics_and_a_digit_for_a_related_topic(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database, handbook: HandbookIndex
) -> None:
    await _link_directly(database)
    expected = handbook.search("dang phi bao nhieu").entry
    assert expected is not None
    (answer,) = await say(server, "dang phi bao nhieu")
    assert answer.startswith(f"{expected.title}\n\n")
    assert f"Nguồn: {expected.source}" in answer
    labels = choices(answer)
    assert labels[:2] == ["👍 Hữu ích", "👎 Chưa đúng"]
    assert len(labels) > 2
    async with database.session() as session:
        stored = await session.scalar(select(ConversationState.choices))
    assert stored is not None and len(stored) == len(labels)
    assert stored[2].startswith("entry:")
    # "3" picks the first related topic: its own answer, with its source.
    topic = handbook.get(stored[2].removeprefix("entry:"))
    assert topic is not None and topic.title.startswith(labels[2].removesuffix("…"))
    (related,) = await say(server, "3")
    assert related.startswith(f"{topic.title}\n\n")
    assert f"Nguồn: {topic.source}" in related


async def test_thumbs_up_by_digit(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database
) -> None:
    await _link_directly(database)
    await say(server, "dang phi bao nhieu")
    assert await say(server, "1") == [text("handbook.thanks_up")]
    # The list shown last had no choices: a digit is now an ordinary question.
    assert await say(server, "1") != [text("handbook.thanks_up")]


async def test_a_long_reply_is_split_at_2000_on_paragraphs_with_choices_last(
    server: FakeZaloServer, zalo: ZaloChannel
) -> None:
    paragraphs = [f"Đoạn {n}: " + "sinh hoạt chi bộ thường kỳ " * 25 for n in range(8)]
    reply = Reply("\n\n".join(p.strip() for p in paragraphs), buttons=((Button("Tiếp", "x:1"),),))
    await zalo.send(USER, [reply])
    sent = server.sent_texts(USER)
    assert len(sent) >= 3
    assert all(len(message) <= 2000 for message in sent)
    assert "\n\n".join(sent) == f"{reply.text}\n\n1. Tiếp"
    whole = {p.strip() for p in paragraphs} | {"1. Tiếp"}
    assert all(set(message.split("\n\n")) <= whole for message in sent)
    assert sent[-1].endswith("\n\n1. Tiếp")


async def test_choices_are_numbered_on_across_the_replies_of_one_answer(
    server: FakeZaloServer, zalo: ZaloChannel
) -> None:
    first = Reply("Một", buttons=((Button("A", "a:1"), Button("B", "b:1")),))
    second = Reply("Hai", buttons=((Button("C", "c:1"),),))
    await zalo.send(USER, [first, second])
    assert server.sent_texts(USER) == ["Một\n\n1. A\n2. B", "Hai\n\n3. C"]


async def test_my_data_on_zalo_says_files_are_elsewhere(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database
) -> None:
    await _link_directly(database)
    (reply,) = await say(server, "/dulieu")
    note = text("zalo.no_files", filename="du-lieu-ca-nhan.json")
    assert reply == f"{text('privacy.data_summary')}\n\n{note}"
    assert CARD not in reply
    assert server.calls_to("sendPhoto") == []


async def test_image_sticker_and_unsupported_content_get_polite_replies(
    server: FakeZaloServer, zalo: ZaloChannel
) -> None:
    server.push_image(USER, caption="dang phi bao nhieu")
    server.push_sticker(USER)
    server.push_unsupported(USER)
    await server.wait_for("sendMessage", 3, chat_id=USER)
    assert server.sent_texts(USER) == [
        text("fallback.attachment"),
        text("fallback.attachment"),
        text("fallback.unsupported"),
    ]


async def test_updates_nobody_can_be_answered_are_skipped(
    server: FakeZaloServer, zalo: ZaloChannel, database: Database
) -> None:
    server.push_unsupported(USER, with_message=False)
    group = server.make_text_update("someone", "/help")
    group["message"]["chat"] = {"id": "group-1", "chat_type": "GROUP"}
    server.push_update(group)
    robot = server.make_text_update("robot", "/help")
    robot["message"]["from"]["is_bot"] = True
    server.push_update(robot)
    assert await say(server, "/help") == [
        text("help.menu") + "\n\n1. Hỏi đáp Sổ tay\n2. Lịch họp\n3. Trắc nghiệm\n"
        "4. Liên kết tài khoản\n5. Quyền riêng tư\n6. Dành cho bí thư\n7. Giới thiệu bot"
    ]
    assert [call.chat_id for call in server.calls_to("sendMessage")] == [USER]
    async with database.session() as session:
        zalo_accounts = select(ChannelAccount.external_id).where(ChannelAccount.channel == "zalo")
        externals = list(await session.scalars(zalo_accounts))
    assert externals == [USER]


# Polling: timeouts, errors and stopping.


@pytest.mark.parametrize("empty_poll", ["408", "empty"])
async def test_empty_polls_of_either_kind_are_polled_again(
    database: Database,
    database_url: str,
    handbook: HandbookIndex,
    empty_poll: Literal["408", "empty"],
) -> None:
    async with FakeZaloServer(empty_poll=empty_poll) as server:
        settings = zalo_settings(server, database_url)
        async with running_zalo(settings, _core(settings, database, handbook)):
            await server.wait_for("getUpdates", 2, timeout=5)
            assert await say(server, "/help")
    polls = server.calls_to("getUpdates")
    assert all(call.params["timeout"] == "1" for call in polls)
    assert (polls[0].error_code == 408) is (empty_poll == "408")


async def test_polling_backs_off_after_errors_and_recovers(
    server: FakeZaloServer, zalo: ZaloChannel
) -> None:
    polled = len(server.calls_to("getUpdates"))
    server.fail_next("getUpdates", 500, count=2)
    server.fail_next("getUpdates", 429, retry_after=0)
    # The poll already waiting ends empty (408), then come the three refusals.
    calls = await server.wait_for("getUpdates", polled + 4)
    failed = [call.error_code for call in calls if call.error_code not in (None, 408)]
    assert failed == [500, 500, 429]
    assert await say(server, "/help")


async def test_polling_deletes_a_webhook_left_from_before(
    server: FakeZaloServer, database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    server.webhook = {"url": "https://old.example.vn/zalo", "secret_token": "old-secret"}
    settings = zalo_settings(server, database_url)
    async with running_zalo(settings, _core(settings, database, handbook)):
        assert await say(server, "/help")
    assert server.webhook == {}


async def test_stop_ends_the_long_poll_at_once_and_leaves_later_updates(
    server: FakeZaloServer, database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    settings = zalo_settings(server, database_url)
    channel = ZaloChannel(settings, _core(settings, database, handbook), poll_timeout=30)
    await channel.start()
    await asyncio.sleep(0.2)  # the first long poll is waiting
    started = asyncio.get_running_loop().time()
    await channel.stop()
    assert asyncio.get_running_loop().time() - started < 2
    server.push_text(USER, "/help")
    await asyncio.sleep(0.2)
    # The abandoned poll did not take the update: it waits for the next process.
    assert len(server.pending_updates) == 1
    assert server.calls_to("sendMessage") == []


async def test_a_refused_token_stops_the_start(
    server: FakeZaloServer, database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    server.revoke_token()
    settings = zalo_settings(server, database_url)
    channel = ZaloChannel(settings, _core(settings, database, handbook))
    with pytest.raises(ZaloApiError) as refused:
        await channel.start()
    assert refused.value.code == 401
    assert server.token not in str(refused.value)


async def test_a_reply_refused_once_with_429_is_sent_again(
    server: FakeZaloServer, zalo: ZaloChannel
) -> None:
    server.rate_limit(1, retry_after=0)
    before = len(server.calls_to("sendMessage", chat_id=USER))
    server.push_text(USER, "/cancel")
    calls = await server.wait_for("sendMessage", before + 2, chat_id=USER)
    assert [call.error_code for call in calls[before:]] == [429, None]
    assert server.sent_texts(USER) == [text("cancel.nothing")]


async def test_run_starts_zalo_beside_telegram(database_url: str, database: Database) -> None:
    async with FakeZaloServer() as zalo_api, FakeTelegramServer() as telegram_api:
        settings = Settings.from_mapping(
            {
                "SOTAY_DATABASE_URL": database_url,
                "TELEGRAM_TOKEN": telegram_api.token,
                "TELEGRAM_BASE_URL": telegram_api.base_url,
                "ZALO_TOKEN": zalo_api.token,
                "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
                "ZALO_BASE_URL": zalo_api.base_url,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_messengers(settings, host="127.0.0.1", stop=stop))
        zalo_api.push_text(USER, "/help")
        telegram_api.push_message(4242, "/help")
        await zalo_api.wait_for("sendMessage", chat_id=USER, timeout=15)
        await telegram_api.wait_for("sendMessage", chat_id=4242, timeout=15)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert zalo_api.sent_texts(USER)[0].startswith(text("help.menu") + "\n\n1. ")


# Webhook mode: the web app checks the secret before anything is parsed.

SECRET = "zalo-Secret_42"


@pytest.fixture
async def webhook_client(
    server: FakeZaloServer, database: Database, database_url: str, handbook: HandbookIndex
) -> AsyncIterator[TestClient]:
    settings = zalo_settings(
        server,
        database_url,
        ZALO_WEBHOOK_URL="https://bot.example.vn/zalo/webhook",
        ZALO_WEBHOOK_SECRET=SECRET,
    )
    async with running_zalo(settings, _core(settings, database, handbook)) as channel:
        app = build_web_app(None, None, zalo=channel, zalo_secret=SECRET)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            yield client
        finally:
            await client.close()


async def _accounts(database: Database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(ChannelAccount)) or 0


async def test_webhook_is_registered_with_the_secret(
    server: FakeZaloServer, webhook_client: TestClient
) -> None:
    (call,) = server.calls_to("setWebhook")
    assert call.params == {"url": "https://bot.example.vn/zalo/webhook", "secret_token": SECRET}
    assert server.calls_to("getUpdates") == []


@pytest.mark.parametrize("wrapped", [False, True])
async def test_webhook_with_the_right_secret_is_answered(
    server: FakeZaloServer, webhook_client: TestClient, wrapped: bool
) -> None:
    update = server.make_text_update(USER, "/help")
    body = {"ok": True, "result": update} if wrapped else update
    response = await webhook_client.post(
        ZALO_WEBHOOK_PATH, json=body, headers={ZALO_SECRET_HEADER: SECRET}
    )
    assert response.status == 200
    (reply,) = await server.wait_for("sendMessage", chat_id=USER)
    assert reply.params["text"].startswith(text("help.menu") + "\n\n1. Hỏi đáp Sổ tay")


@pytest.mark.parametrize(
    "headers",
    [{}, {ZALO_SECRET_HEADER: "wrong-secret"}, {ZALO_SECRET_HEADER: ""}, {"X-Other": SECRET}],
)
async def test_a_forged_webhook_call_is_refused_and_nothing_stored(
    server: FakeZaloServer, webhook_client: TestClient, database: Database, headers: dict
) -> None:
    forged = server.make_text_update(USER, "/start")
    response = await webhook_client.post(ZALO_WEBHOOK_PATH, json=forged, headers=headers)
    assert response.status == 403
    # A correct call afterwards is processed, so nothing was queued before it.
    other = "f0e1d2c3b4a59687"
    ok = await webhook_client.post(
        ZALO_WEBHOOK_PATH,
        json=server.make_text_update(other, "/help"),
        headers={ZALO_SECRET_HEADER: SECRET},
    )
    assert ok.status == 200
    await server.wait_for("sendMessage", chat_id=other)
    assert server.calls_to("sendMessage", chat_id=USER) == []
    assert await _accounts(database) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"message": {}}', b'{"event_name": 5}', b"\xff\xfe"]
)
async def test_a_webhook_body_that_is_not_an_update_is_a_400(
    webhook_client: TestClient, database: Database, body: bytes
) -> None:
    response = await webhook_client.post(
        ZALO_WEBHOOK_PATH,
        data=body,
        headers={ZALO_SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert await _accounts(database) == 0


# The outbox sender: what the dispatcher sees.


@pytest.fixture
async def sender(server: FakeZaloServer, database_url: str) -> AsyncIterator[ZaloSender]:
    zalo_sender = ZaloSender(zalo_settings(server, database_url))
    await zalo_sender.start()
    yield zalo_sender
    await zalo_sender.stop()


async def test_sender_delivers_with_numbered_choices_and_limits(
    server: FakeZaloServer, sender: ZaloSender
) -> None:
    reply = Reply("Họp chi bộ tối nay.", buttons=((Button("Sẽ dự", "rsvp:1:yes"),),))
    message_id = await sender.deliver(USER, reply)
    assert server.sent_texts(USER) == ["Họp chi bộ tối nay.\n\n1. Sẽ dự"]
    assert message_id and len(message_id) == 20
    await sender.edit(USER, message_id, "Đã gửi 3/10")
    assert server.sent_texts(USER)[-1] == "Đã gửi 3/10"
    assert (sender.limits.per_second, sender.limits.burst, sender.limits.per_chat_interval) == (
        10.0,
        10,
        1.0,
    )


async def test_sender_classifies_errors(server: FakeZaloServer, sender: ZaloSender) -> None:
    reply = Reply("Thông báo")
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryLater) as limited:
        await sender.deliver(USER, reply)
    assert limited.value.retry_after == 7
    server.rate_limit(1)
    with pytest.raises(RetryLater) as quota:
        await sender.deliver(USER, reply)
    assert quota.value.retry_after == DEFAULT_RETRY_AFTER
    for status, expected in [
        (500, TransientError),
        (502, TransientError),
        (404, ChatNotFound),
        (400, PermanentError),
        (403, RecipientBlocked),
    ]:
        server.fail_next("sendMessage", status)
        with pytest.raises(expected):
            await sender.deliver(USER, reply)
    server.missing_chat("gone-chat")
    with pytest.raises(ChatNotFound):
        await sender.deliver("gone-chat", reply)
    server.block_chat("blocker")
    with pytest.raises(RecipientBlocked):
        await sender.deliver("blocker", reply)
    assert server.sent_texts() == []
    server.revoke_token()
    with pytest.raises(SenderUnauthorized) as refused:
        await sender.deliver(USER, reply)
    assert server.token not in refused.value.reason


async def test_sender_network_failure_is_transient(
    server: FakeZaloServer, sender: ZaloSender
) -> None:
    await server.stop()
    with pytest.raises(TransientError):
        await sender.deliver(USER, Reply("Thông báo"))
