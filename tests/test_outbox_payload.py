"""The outbox keeps what the renderer made, whole, and a message it sends on a messenger
without buttons leaves its choices exactly as an answer in chat would."""

from __future__ import annotations

import json
import typing

from sqlalchemy import select

from bot.channels.choices import picked, stored
from bot.channels.delivery import RateLimits
from bot.db import Database
from bot.messages import (
    Attachment,
    Button,
    Channel,
    Document,
    Incoming,
    Media,
    Reply,
)
from bot.models import ChannelAccount, ConversationState
from bot.services.notices import Notice
from bot.services.outbox import from_payload, to_payload
from handlers import notices
from jobs.dispatcher import Dispatcher
from tests.harness import services

LETTERED = Reply(
    "Câu 1/3: ...",
    buttons=((Button("A", "quiz:a:1:0:0", key="A"), Button("B", "quiz:a:1:0:1", key="B")),),
)


def test_a_reply_survives_the_outbox_whole() -> None:
    reply = Reply(
        "Báo cáo",
        buttons=((Button("A", "x:1", key="A"), Button("Tải", "x:2")),),
        contact_request="Chia sẻ số điện thoại",
        clear_keyboard=True,
        document=Document("bao-cao.xlsx", b"\x00\x01binary"),
        media=Media(Attachment.PHOTO, "file-1", Channel.TELEGRAM),
    )
    stored_json = json.loads(json.dumps(to_payload(reply)))
    assert from_payload(stored_json) == reply


def test_rows_stored_before_keys_were_kept_still_read() -> None:
    payload = {"text": "Nhắc lịch", "buttons": [[["Tham dự", "rsvp:1:2:a"]]]}
    assert from_payload(payload) == Reply(
        "Nhắc lịch", buttons=((Button("Tham dự", "rsvp:1:2:a"),),)
    )


def test_every_notice_a_service_sends_has_its_wording() -> None:
    assert set(typing.get_args(Notice)) == set(notices._RENDERERS)


class NumberingSender:
    """A messenger that shows buttons as a numbered list, as Zalo does."""

    channel = Channel.ZALO
    limits = RateLimits(per_second=100, burst=10, per_chat_interval=0.0)
    numbered_choices = True

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        self.sent.append(reply)
        return str(len(self.sent))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        raise AssertionError("nothing to edit")


async def test_a_sent_question_is_answered_by_its_letter_as_in_chat(database: Database) -> None:
    async with database.session() as session, session.begin():
        account = ChannelAccount(channel=Channel.ZALO, external_id="z1", chat_id="z1")
        session.add(account)
        await session.flush()
        await services(session).outbox.enqueue_account(
            account.id, LETTERED, kind="test", now=services(session).clock()
        )
    sender = NumberingSender()
    assert await Dispatcher(database, {Channel.ZALO: sender}).drain_once() == 1
    assert sender.sent == [LETTERED]
    async with database.session() as session:
        kept = await session.scalar(select(ConversationState.choices))
    assert kept == stored([LETTERED])

    # The one rule ChatCore applies to what is typed next.
    typed = picked(Incoming(Channel.ZALO, "z1", "z1", text="b"), kept or [])
    assert typed.button_data == "quiz:a:1:0:1"
