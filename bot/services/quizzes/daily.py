"""A question a day: members who opted in (/hangngay) get one question from the banks at the
local time they chose, picked by the Leitner boxes (bot/services/quizzes/leitner.py): a
question due again first, else one never asked, else the one due soonest.

The scheduler (jobs/daily.py) plans every slot that has come in a transaction: one
daily_questions row per member and local day (unique), and its outbox row keyed
`daily:<day>/m<member>`, so a restart, a catch-up or two overlapping leaders never send a day
twice. Only active members with a linked account are planned: one who unlinks gets nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    ChannelAccount,
    DailyCard,
    DailyQuestion,
    DailySubscription,
    Member,
    QuizQuestionRow,
)
from bot.services.notices import DailyQuestionPrompt
from bot.services.outbox import CHUNK, OutboxService
from bot.services.outbox_once import enqueue_each_once
from bot.services.quizzes.catalogue import QuizCatalogue
from bot.services.quizzes.leitner import MASTERED_BOX, after_answer

KIND = "daily_question"
MINUTES_A_DAY = 24 * 60


class DailyOutcome(StrEnum):
    ANSWERED = "answered"
    ALREADY_ANSWERED = "already_answered"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class DailyAnswered:
    outcome: DailyOutcome
    correct: bool = False
    right: int = 0  # the right choice's place as shown
    right_choice: str = ""
    explanation: str = ""
    due_on: date | None = None


@dataclass(frozen=True)
class TopicMastery:
    topic: str
    mastered: int
    seen: int
    total: int


@dataclass(frozen=True)
class DailyProgress:
    subscribed_minute: int | None
    streak: int
    answered: int
    correct: int
    topics: tuple[TopicMastery, ...]


@dataclass(frozen=True)
class _Pooled:
    id: int
    text: str
    choices: tuple[str, ...]
    answer: int
    topic: str


def slot(day: date, minute: int, timezone: ZoneInfo) -> datetime:
    """The moment of a local day's slot."""
    return datetime.combine(day, time(minute // 60, minute % 60), timezone)


def _insert(session: AsyncSession) -> Insert:
    make = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    table = DailyQuestion.__table__
    return (
        make(table)
        .on_conflict_do_nothing(index_elements=["member_id", "day"])
        .returning(table.c.id, table.c.member_id)
    )


def _pick(
    member_id: int,
    day: date,
    cards: dict[int, tuple[int, date]],
    pool: Sequence[_Pooled],
    rng: random.Random,
) -> _Pooled | None:
    """A due card first (the longest overdue, the lowest box), else a question never asked,
    else the card due soonest. Questions that left the banks are not asked."""
    by_id = {q.id: q for q in pool}
    known = [(due, box, qid) for qid, (box, due) in cards.items() if qid in by_id]
    due_now = sorted(k for k in known if k[0] <= day)
    if due_now:
        return by_id[due_now[0][2]]
    unseen = [q for q in pool if q.id not in cards]
    if unseen:
        return rng.choice(unseen)
    return by_id[min(known)[2]] if known else None


class DailyQuestions:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        catalogue: QuizCatalogue,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._catalogue = catalogue
        self._clock = clock
        self._tz = timezone
        # Set once this session changed a subscription: the scheduler looks again.
        self.changed = False

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def subscription(self, member_id: int) -> DailySubscription | None:
        """The member's subscription, if active."""
        return await self._session.scalar(
            select(DailySubscription).where(
                DailySubscription.member_id == member_id, DailySubscription.active.is_(True)
            )
        )

    async def subscribe(self, member_id: int, minute: int) -> DailySubscription:
        """Opts in (or changes the time). A slot earlier today than now is not owed: the
        first question comes at the next slot."""
        if not 0 <= minute < MINUTES_A_DAY:
            raise ValueError(f"minute of the day out of range: {minute}")
        row = await self._session.scalar(
            select(DailySubscription).where(DailySubscription.member_id == member_id)
        )
        if row is None:
            row = DailySubscription(member_id=member_id)
            self._session.add(row)
        row.send_minute, row.active, row.since, row.stopped_at = minute, True, self._clock(), None
        await self._session.flush()
        self.changed = True
        return row

    async def first_day(self, member_id: int, minute: int) -> date:
        """The day the next question comes at this time: today if its slot is still ahead
        and none came today, else tomorrow."""
        today = self.today()
        had = await self._session.scalar(
            select(DailyQuestion.id).where(
                DailyQuestion.member_id == member_id, DailyQuestion.day == today
            )
        )
        if had is None and slot(today, minute, self._tz) > self._clock():
            return today
        return today + timedelta(days=1)

    async def stop(self, member_id: int) -> bool:
        row = await self.subscription(member_id)
        if row is None:
            return False
        row.active, row.stopped_at = False, self._clock()
        self.changed = True
        return True

    async def _minutes(self) -> list[int]:
        rows = await self._session.scalars(
            select(DailySubscription.send_minute)
            .where(DailySubscription.active.is_(True))
            .distinct()
        )
        return sorted(rows)

    async def next_due(self) -> datetime | None:
        """The next slot after now, today or tomorrow (local time)."""
        now = self._clock()
        today = now.astimezone(self._tz).date()
        moments = [
            at
            for minute in await self._minutes()
            for at in (slot(today, minute, self._tz), slot(today + timedelta(1), minute, self._tz))
            if at > now
        ]
        return min(moments, default=None)

    async def _pool(self) -> list[_Pooled]:
        await self._catalogue.sync_shipped()
        rows = await self._session.execute(
            select(
                QuizQuestionRow.id,
                QuizQuestionRow.text,
                QuizQuestionRow.choices,
                QuizQuestionRow.answer,
                QuizQuestionRow.topic,
            ).order_by(QuizQuestionRow.id)
        )
        return [_Pooled(i, t, tuple(c), a, topic) for i, t, c, a, topic in rows]

    async def pool_ids(self) -> list[int]:
        """The questions a day's question is drawn from: every bank's, as they are now."""
        return [q.id for q in await self._pool()]

    async def _owed(self, now: datetime) -> list[tuple[int, int]]:
        """(member, unit) of every subscriber whose slot today has come and who has no
        question today: active, linked, subscribed before the slot."""
        local = now.astimezone(self._tz)
        today, minute = local.date(), local.hour * 60 + local.minute
        linked = select(ChannelAccount.id).where(ChannelAccount.member_id == Member.id).exists()
        planned = (
            select(DailyQuestion.id)
            .where(DailyQuestion.member_id == Member.id, DailyQuestion.day == today)
            .exists()
        )
        rows = await self._session.execute(
            select(
                Member.id,
                Member.organisation_id,
                DailySubscription.send_minute,
                DailySubscription.since,
            )
            .join(Member, Member.id == DailySubscription.member_id)
            .where(
                DailySubscription.active.is_(True),
                DailySubscription.send_minute <= minute,
                Member.active.is_(True),
                linked,
                ~planned,
            )
            .order_by(Member.id)
        )
        return [
            (member, unit)
            for member, unit, send_minute, since in rows
            if slot(today, send_minute, self._tz) >= since
        ]

    async def plan_due(self) -> int:
        """Plans and queues every question owed by now; returns how many were queued."""
        now = self._clock()
        owed = await self._owed(now)
        if not owed:
            return 0
        pool = await self._pool()
        if not pool:
            return 0
        today = now.astimezone(self._tz).date()
        queued = 0
        for start in range(0, len(owed), CHUNK):
            queued += await self._plan_chunk(owed[start : start + CHUNK], pool, today, now)
        return queued

    async def _plan_chunk(
        self, owed: list[tuple[int, int]], pool: list[_Pooled], today: date, now: datetime
    ) -> int:
        members = [member for member, _ in owed]
        cards: dict[int, dict[int, tuple[int, date]]] = {m: {} for m in members}
        for member, question, box, due in await self._session.execute(
            select(
                DailyCard.member_id, DailyCard.question_id, DailyCard.box, DailyCard.due_on
            ).where(DailyCard.member_id.in_(members))
        ):
            cards[member][question] = (box, due)
        rows = []
        for member, unit in owed:
            rng = random.Random(f"{member}:{today.isoformat()}")
            picked = _pick(member, today, cards[member], pool, rng)
            if picked is None:
                continue
            order = rng.sample(range(len(picked.choices)), len(picked.choices))
            rows.append(
                {
                    "member_id": member,
                    "organisation_id": unit,
                    "day": today,
                    "question_id": picked.id,
                    "choices": [picked.choices[i] for i in order],
                    "right": order.index(picked.answer),
                    "sent_at": now,
                    "chosen": None,
                    "correct": None,
                    "answered_at": None,
                    "_text": picked.text,
                    "_topic": picked.topic,
                }
            )
        if not rows:
            return 0
        inserted = dict(
            (member, row_id)
            for row_id, member in await self._session.execute(
                _insert(self._session),
                [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows],
            )
        )
        replies = {
            row["member_id"]: self._outbox.render(
                DailyQuestionPrompt(
                    inserted[row["member_id"]], row["_text"], tuple(row["choices"]), row["_topic"]
                )
            )
            for row in rows
            if row["member_id"] in inserted
        }
        queued = await enqueue_each_once(
            self._session, f"daily:{today.isoformat()}", replies, kind=KIND, now=now
        )
        self._outbox.enqueued = self._outbox.enqueued or queued.pending > 0
        return queued.pending

    async def answer(self, delivery_id: int, member_id: int, shown: int) -> DailyAnswered:
        """The member's first answer to a day's question counts, and moves its card."""
        row = await self._session.get(DailyQuestion, delivery_id, with_for_update=True)
        if row is None or row.member_id != member_id or not 0 <= shown < len(row.choices):
            return DailyAnswered(DailyOutcome.NOT_FOUND)
        question = await self._session.get(QuizQuestionRow, row.question_id)
        assert question is not None
        said = {
            "right": row.right,
            "right_choice": row.choices[row.right],
            "explanation": question.explanation,
        }
        if row.answered_at is not None:
            return DailyAnswered(DailyOutcome.ALREADY_ANSWERED, bool(row.correct), **said)
        now = self._clock()
        row.chosen, row.correct, row.answered_at = shown, shown == row.right, now
        card = await self._session.scalar(
            select(DailyCard).where(
                DailyCard.member_id == member_id, DailyCard.question_id == row.question_id
            )
        )
        if card is None:
            card = DailyCard(member_id=member_id, question_id=row.question_id)
            self._session.add(card)
        card.box, card.due_on = after_answer(card.box, row.correct, self.today())
        card.answered_at = now
        return DailyAnswered(DailyOutcome.ANSWERED, row.correct, due_on=card.due_on, **said)

    async def progress(self, member_id: int) -> DailyProgress:
        subscription = await self.subscription(member_id)
        days = list(
            await self._session.scalars(
                select(DailyQuestion.day)
                .where(DailyQuestion.member_id == member_id, DailyQuestion.answered_at.is_not(None))
                .order_by(DailyQuestion.day.desc())
            )
        )
        correct = (
            await self._session.scalar(
                select(func.count()).where(
                    DailyQuestion.member_id == member_id, DailyQuestion.correct.is_(True)
                )
            )
            or 0
        )
        return DailyProgress(
            subscription.send_minute if subscription else None,
            _streak(days, self.today()),
            len(days),
            correct,
            await self._mastery(member_id),
        )

    async def _mastery(self, member_id: int) -> tuple[TopicMastery, ...]:
        totals = dict(
            (
                await self._session.execute(
                    select(QuizQuestionRow.topic, func.count()).group_by(QuizQuestionRow.topic)
                )
            ).all()
        )
        rows = await self._session.execute(
            select(QuizQuestionRow.topic, DailyCard.box)
            .join(QuizQuestionRow, QuizQuestionRow.id == DailyCard.question_id)
            .where(DailyCard.member_id == member_id)
        )
        seen: dict[str, list[int]] = {}
        for topic, box in rows:
            seen.setdefault(topic, []).append(box)
        return tuple(
            TopicMastery(topic, sum(b >= MASTERED_BOX for b in boxes), len(boxes), totals[topic])
            for topic, boxes in sorted(seen.items())
        )


def _streak(days: Sequence[date], today: date) -> int:
    """Days in a row with an answer, up to today (or yesterday: today's may still come)."""
    answered = set(days)
    day = today if today in answered else today - timedelta(days=1)
    streak = 0
    while day in answered:
        streak += 1
        day -= timedelta(days=1)
    return streak
