"""Quiz load benchmark, in the shape of issue #7: 1,473 members answer a 20-question quiz
within about 10 minutes (some 50 answers a second) through the fake Telegram Bot API.

The bot runs as a real `sotay run` process polling a fake Bot API server on 127.0.0.1; this
process plays the members. Each member waits for the invitation (sent by the bot's outbox
dispatcher), taps «Bắt đầu», then answers every question after a random think time; a fifth
of them tap each answer twice. The time from a tap to the bot's reply that lets the member
go on (the next question, or the score) is measured at the fake server.

    .venv/bin/python benchmarks/quiz_load.py [--members 1473] [--questions 20] [--minutes 10]
                                             [--database-url URL]

Without a URL it runs on a fresh SQLite file; a PostgreSQL database is migrated and must be
a throwaway one (its rows are deleted). Prints one `name: value` line per figure."""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.harness import bot_process, cpu_seconds, empty_tables, percentile  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import ChannelAccount, Member, QuizAnswer, QuizAttempt, utcnow  # noqa: E402
from bot.services import Services, Shared  # noqa: E402
from bot.services.organisations import OrganisationService  # noqa: E402
from bot.services.quizzes.lifecycle import Due, Event  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.texts import text  # noqa: E402
from handlers.notices import render_notice  # noqa: E402
from tests.fakes.telegram_api import ChatId, FakeTelegramServer, Params  # noqa: E402

UNITS = 20
FIRST_USER = 700_000
DOUBLE_TAPPERS = 0.2
FINISHED_MARK = "🏁"  # begins the score (content/texts.toml, quiz.finished)
APOLOGY = text("errors.internal")


class MembersServer(FakeTelegramServer):
    """The fake Bot API, handing every message the bot sends to the member it is for."""

    def __init__(self) -> None:
        super().__init__()
        self.inboxes: dict[ChatId, asyncio.Queue[tuple[float, Params]]] = {}

    async def _send_message(self, params: Params) -> dict[str, Any]:
        message = await super()._send_message(params)
        inbox = self.inboxes.get(message["chat"]["id"])
        if inbox is not None:
            inbox.put_nowait((time.monotonic(), params))
        return message


def _button_data(params: Params) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


@dataclass
class Figures:
    reply_seconds: list[float] = field(default_factory=list)
    answers: int = 0
    first_answer: float = 0.0
    last_reply: float = 0.0
    error_replies: int = 0
    finished: int = 0


async def _open_quiz(database: Database, settings: Settings, members: int, questions: int) -> None:
    """`members` members over UNITS chi bộ, each linked on Telegram, and a quiz for all of
    them, opened: the invitations wait in the outbox for the bot's dispatcher."""
    async with database.session() as session, session.begin():
        organisations = OrganisationService(session)
        units = [
            await organisations.ensure_path(["Tỉnh ủy", f"Chi bộ {i + 1}"]) for i in range(UNITS)
        ]
        for index in range(members):
            member = Member(
                card_number=f"8{index:07d}",
                full_name=f"Đảng viên {index}",
                organisation_id=units[index % UNITS].id,
            )
            session.add(member)
            await session.flush()
            chat = str(FIRST_USER + index)
            session.add(
                ChannelAccount(
                    channel="telegram",
                    external_id=chat,
                    chat_id=chat,
                    member_id=member.id,
                    linked_at=utcnow(),
                )
            )
        await session.flush()
        quizzes = Services.for_session(session, Shared(settings, render=render_notice)).quizzes
        now = utcnow()
        quiz = await quizzes.schedule(
            title="Kiểm tra tải",
            unit_ids=[unit.id for unit in units],
            question_count=questions,
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=1),
            actor="benchmark",
        )
        await quizzes.run_due(Due(quiz.id, Event.OPEN))


async def _member(
    server: MembersServer, user: int, think: float, rng: random.Random, figures: Figures
) -> None:
    """Waits for the invitation, then takes the quiz tap by tap."""
    inbox = server.inboxes[user]
    twice = rng.random() < DOUBLE_TAPPERS
    data: list[str] = []
    while not any(d.startswith("quiz:start:") for d in data):
        _, params = await inbox.get()
        data = _button_data(params)
    await asyncio.sleep(rng.uniform(0, think))
    position = -1  # of the question answered last; the start tap "answers" -1
    while True:
        tapped = time.monotonic()
        choice = rng.choice(data)
        server.push_callback(user, choice)
        if twice:
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            server.push_callback(user, choice)
        # The reply that lets the member go on: the next question, or the score. A second
        # tap shows the current question again; that is not the reply waited for.
        while True:
            arrived, params = await inbox.get()
            if params["text"] == APOLOGY:
                figures.error_replies += 1
            data = [d for d in _button_data(params) if d.startswith("quiz:a:")]
            if data and int(data[0].split(":")[3]) == position + 1:
                break
            if FINISHED_MARK in params["text"]:
                break
        figures.reply_seconds.append(arrived - tapped)
        figures.last_reply = max(figures.last_reply, arrived)
        if position >= 0:
            figures.answers += 1
            figures.first_answer = figures.first_answer or tapped
        if not data:
            figures.finished += 1
            return
        position += 1
        await asyncio.sleep(rng.uniform(0.3, 1.7) * think)


async def main(members: int, questions: int, minutes: float, url: str, log: Path) -> None:
    database = Database(url)
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
    await empty_tables(database)
    await _open_quiz(database, settings, members, questions)
    # The invitations take about members / 30 seconds to go out; the rest of the window is
    # spread over the questions.
    think = max(1.0, (minutes * 60 - members / 30) / (questions + 1))
    rng = random.Random(20261125)
    figures = Figures()
    async with MembersServer() as server:
        users = [FIRST_USER + index for index in range(members)]
        server.inboxes = {user: asyncio.Queue() for user in users}
        bot = await bot_process(url, server.base_url, server.token, log)
        started = time.monotonic()
        try:
            takers = [_member(server, user, think, rng, figures) for user in users]
            await asyncio.wait_for(asyncio.gather(*takers), timeout=minutes * 60 * 3)
        except TimeoutError:
            tail = (
                (await asyncio.to_thread(log.read_bytes))
                .decode(errors="replace")
                .splitlines()[-20:]
            )
            sys.exit("the members did not finish in time; the bot's log ends:\n" + "\n".join(tail))
        finally:
            bot_cpu = cpu_seconds(bot.pid)
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
        wall = time.monotonic() - started
    async with database.session() as session:
        recorded = await session.scalar(select(func.count()).select_from(QuizAnswer))
        finished = await session.scalar(
            select(func.count()).where(QuizAttempt.finished_at.is_not(None))
        )
    await empty_tables(database)
    await database.dispose()
    replies = sorted(figures.reply_seconds)
    answering = figures.last_reply - figures.first_answer
    print(f"members: {members}")
    print(f"questions: {questions}")
    print(f"wall_s: {wall:.1f}")
    print(f"answers: {figures.answers}")
    print(f"answers_per_s: {figures.answers / answering:.1f}")
    print(f"reply_p50_ms: {statistics.median(replies) * 1000:.1f}")
    print(f"reply_p95_ms: {percentile(replies, 0.95) * 1000:.1f}")
    print(f"reply_p99_ms: {percentile(replies, 0.99) * 1000:.1f}")
    print(f"reply_max_ms: {replies[-1] * 1000:.1f}")
    print(f"error_replies: {figures.error_replies}")
    print(f"bot_cpu_s: {bot_cpu:.1f}")
    print(f"bot_cpu_ms_per_tap: {bot_cpu * 1000 / len(replies):.2f}")
    print(f"answers_recorded: {recorded} (expected {members * questions})")
    print(f"attempts_finished: {finished} (expected {members})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1473)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{directory}/quiz.db"
        upgrade(url)
        asyncio.run(
            main(args.members, args.questions, args.minutes, url, Path(directory) / "bot.log")
        )
