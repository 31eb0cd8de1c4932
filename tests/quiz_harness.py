"""A controllable clock, quizzes scheduled for the demo units, ways to read the right
answer of a question shown in chat, roles for trainers, and a member talking to the real
Telegram adapter through the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.telegram import TelegramChannel, TelegramFiles
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, Reply
from bot.models import Member, QuizAttempt, QuizQuestionRow
from bot.services import Services, Shared
from bot.services.permissions import Action, Actor
from bot.services.quizzes.lifecycle import QuizSchedule
from bot.settings import Settings
from handlers.notices import render_notice
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer, Params
from tests.harness import services
from tests.telegram_harness import running_channel

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OPENS = datetime(2026, 12, 1, 8, 0, tzinfo=HCM)
CLOSES = OPENS + timedelta(days=3)
# Quiz tests start the day before it opens.
BEFORE_OPENING = datetime(2026, 11, 30, 10, 0, tzinfo=HCM)
COMMITTEE = "Đảng bộ Khối các cơ quan và doanh nghiệp"
OFFICE, JUSTICE, EAST = "Chi bộ Văn phòng", "Chi bộ Sở Tư pháp", "Chi bộ thôn Đông"


def service(session: AsyncSession, clock: Clock) -> QuizSchedule:
    return Services.for_session(
        session, Shared(Settings(), clock=clock, render=render_notice)
    ).quizzes


async def schedule(database: Database, clock: Clock, unit_ids: list[int], **fields: object) -> int:
    values: dict[str, object] = {
        "title": "Tìm hiểu Điều lệ Đảng",
        "question_count": 3,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "pass_mark": 60,
        **fields,
    }
    async with database.session() as session, session.begin():
        quiz = await service(session, clock).schedule(
            unit_ids=unit_ids,
            actor="test",
            **values,  # type: ignore[arg-type]
        )
        return quiz.id


async def trainer(database: Database, card: str) -> Actor:
    """The member with that card, as the actor scheduling a quiz."""
    async with database.session() as session:
        found = services(session)
        member = await found.accounts.member(await member_id(database, card))
        return await found.permissions.actor(member, Action.SCHEDULE_QUIZ)


async def member_id(database: Database, card: str) -> int:
    async with database.session() as session:
        found = await session.scalar(select(Member.id).where(Member.card_number == card))
    assert found is not None
    return found


def answer_buttons(reply: Reply) -> list[str]:
    return [button.data for button in reply.flat_buttons]


async def right_shown(database: Database, data: str) -> int:
    """For the button data "quiz:a:<attempt>:<position>:<shown>", the index of the right
    choice as shown."""
    _, _, attempt_id, position, _ = data.split(":")
    async with database.session() as session:
        attempt = await session.get(QuizAttempt, int(attempt_id))
        assert attempt is not None
        row = await session.get(QuizQuestionRow, attempt.question_order[int(position)])
        assert row is not None
        return attempt.choice_orders[int(position)].index(row.answer)


async def pick(database: Database, reply: Reply, right: bool) -> str:
    """The button data of a right (or a wrong) answer to the question in `reply`."""
    buttons = answer_buttons(reply)
    correct = await right_shown(database, buttons[0])
    index = correct if right else (correct + 1) % len(buttons)
    return buttons[index]


@asynccontextmanager
async def telegram_with_files(
    settings: Settings, core: ChatCore, shared: Shared
) -> AsyncIterator[TelegramChannel]:
    """The Telegram adapter, with its file fetcher registered as `sotay run` does."""
    async with running_channel(settings, core) as channel:
        shared.files.register(Channel.TELEGRAM, TelegramFiles(channel.application.bot))
        yield channel


def buttons_of(params: Params) -> dict[str, str]:
    """A sent message's inline buttons: label → callback data."""
    rows = (params.get("reply_markup") or {}).get("inline_keyboard") or []
    return {button["text"]: button["callback_data"] for row in rows for button in row}


class TelegramMember:
    """A member chatting with the bot on Telegram; each turn waits for the replies it
    expects and returns their texts' params."""

    def __init__(self, server: FakeTelegramServer, card: str) -> None:
        self.server = server
        self.chat = int(card)

    async def turn(
        self, push: Callable[[], object], expect: int = 1, method: str = "sendMessage"
    ) -> list[Params]:
        """Does `push` (an update to the bot) and waits for `expect` more calls of `method`
        to this chat; returns their params."""
        before = len(self.server.calls_to(method, chat_id=self.chat))
        push()
        calls = await self.server.wait_for(method, before + expect, chat_id=self.chat)
        return [call.params for call in calls[before:]]

    async def say(self, body: str, expect: int = 1) -> list[Params]:
        return await self.turn(lambda: self.server.push_message(self.chat, body), expect)

    async def press(self, data: str, expect: int = 1) -> list[Params]:
        return await self.turn(lambda: self.server.push_callback(self.chat, data), expect)

    async def tap(self, label: str, expect: int = 1) -> list[Params]:
        """Taps the button with that label on the last message that has buttons."""
        for params in reversed(self.server.sent_messages(self.chat)):
            found = buttons_of(params)
            if found:
                return await self.press(found[label], expect)
        raise AssertionError(f"no buttons to tap {label!r} on")

    async def send_file(
        self, content: bytes, name: str, expect: int = 1, **extra: Any
    ) -> list[Params]:
        return await self.turn(
            lambda: self.server.push_document(self.chat, content, file_name=name, **extra), expect
        )


def spin() -> None:
    """A parse that never ends, for the worker's CPU limit (importable by the worker)."""
    while True:
        pass
