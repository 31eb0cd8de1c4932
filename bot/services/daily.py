"""A question a day: members who opt in (/hangngay) get one question from the shipped banks
at a local time they choose, and the ones they miss come back sooner.

Spacing is Leitner's boxes rather than SM-2: SM-2 needs the learner to grade each recall
(0 to 5), which a multiple-choice tap does not give, while boxes need only right or wrong
and are easy to explain ("a wrong answer comes back tomorrow; each right one waits twice as
long"). A question answered right moves up a box and waits INTERVALS[box] days; a wrong one
goes back to box 1 and returns the next day; one sent and not answered returns the next day
too. Each day the member gets the question due the longest (lowest box first), else one
they have not seen, else the one due soonest.

The send is decided for a member's day once (a unique row per member and day) in the
transaction that queues it, so a restart or a second scheduler never sends two. A question
due while the process was down is still sent within the grace period, else that day is
skipped. Nothing is queued for a member who unlinked or left the roster; their subscription
waits for them. A question removed from a bank is no longer drawn; the send row keeps the
choices' order and the right one as shown, so an answer is judged as it was asked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DailyCard, DailySend, DailySubscription, Member, Organisation
from bot.services.notices import DailyQuestion
from bot.services.outbox import OutboxService, recipients
from bot.services.quizzes.bank import QuizQuestion
from bot.services.quizzes.catalogue import shipped_banks
from bot.services.quizzes.report import rate
from bot.services.rankings import Standing

# Days a question waits in each box (box 0: sent, not answered yet).
INTERVALS = (1, 1, 2, 4, 8, 16)
TOP_BOX = len(INTERVALS) - 1
# A question is "mastered" from this box on (answered right three times in a row).
MASTERED_BOX = 3
OUTBOX_KIND = "daily"
CHUNK = 500


@cache
def pool() -> dict[str, QuizQuestion]:
    """Every shipped question by "<bank id>/<question id>"."""
    return {f"{bank.id}/{q.id}": q for bank in shipped_banks() for q in bank.questions}


def _shuffle_key(member_id: int, key: str) -> bytes:
    """A stable order of unseen questions that differs between members."""
    return hashlib.blake2b(f"{member_id}|{key}".encode(), digest_size=8).digest()


def next_moment(minute: int, after: datetime, tz: ZoneInfo) -> datetime:
    """The first local time-of-day `minute` strictly after `after`."""
    local = after.astimezone(tz)
    at = time(minute // 60, minute % 60)
    candidate = datetime.combine(local.date(), at, tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tz)
    return candidate


class AnswerOutcome(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    NOT_FOUND = "not_found"
    ALREADY = "already"


@dataclass(frozen=True)
class DailyAnswer:
    outcome: AnswerOutcome
    right_shown: int = 0
    right_choice: str = ""
    explanation: str = ""
    box: int = 0
    next_on: date | None = None


@dataclass(frozen=True)
class Subscription:
    minute: int
    active: bool
    next_at: datetime


@dataclass(frozen=True)
class Mastery:
    topic: str
    mastered: int
    seen: int


@dataclass(frozen=True)
class Progress:
    """What /ketqua shows of the daily questions."""

    streak: int  # days in a row answered, up to today (or yesterday)
    answered: int
    correct: int
    topics: list[Mastery]


class DailyService:
    def __init__(
        self,
        session: AsyncSession,
        outbox: OutboxService,
        clock: Callable[[], datetime],
        timezone: ZoneInfo,
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._clock = clock
        self._tz = timezone
        # Set when a subscription's time changed: the scheduler looks again after commit.
        self.scheduled = False

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    # --- Opting in and out ---------------------------------------------------------------

    async def subscription(self, member_id: int) -> Subscription | None:
        row = await self._session.get(DailySubscription, member_id)
        return None if row is None else Subscription(row.minute, row.active, row.next_at)

    async def subscribe(self, member_id: int, minute: int) -> datetime:
        """Opts in (or changes the time); returns when the first question comes. A member
        who already had today's question gets the next one tomorrow."""
        if not 0 <= minute < 24 * 60:
            raise ValueError(f"minute of the day out of range: {minute}")
        now = self._clock()
        first = next_moment(minute, now, self._tz)
        if first.astimezone(self._tz).date() == self.today() and await self._sent_today(member_id):
            first = next_moment(minute, first, self._tz)
        row = await self._session.get(DailySubscription, member_id)
        if row is None:
            self._session.add(
                DailySubscription(member_id=member_id, minute=minute, next_at=first, created_at=now)
            )
        else:
            row.minute, row.active, row.next_at = minute, True, first
        self.scheduled = True
        return first

    async def unsubscribe(self, member_id: int) -> bool:
        result = await self._session.execute(
            update(DailySubscription)
            .where(DailySubscription.member_id == member_id, DailySubscription.active.is_(True))
            .values(active=False)
        )
        return bool(result.rowcount)

    async def _sent_today(self, member_id: int) -> bool:
        found = await self._session.scalar(
            select(DailySend.id).where(
                DailySend.member_id == member_id, DailySend.day == self.today()
            )
        )
        return found is not None

    # --- Sending -------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(DailySubscription.next_at)).where(DailySubscription.active.is_(True))
        )

    async def due_members(self, now: datetime, limit: int = CHUNK) -> list[int]:
        rows = await self._session.scalars(
            select(DailySubscription.member_id)
            .where(DailySubscription.active.is_(True), DailySubscription.next_at <= now)
            .order_by(DailySubscription.next_at, DailySubscription.member_id)
            .limit(limit)
        )
        return list(rows)

    async def send_due(self, member_ids: Sequence[int], grace: timedelta) -> int:
        """Decides and queues the question of the day for these due members and moves each
        subscription to its next day; returns how many were queued. Rows are read and
        written in bulk: at 19:00 a province's subscribers are due at once."""
        now = self._clock()
        subs = (
            await self._session.execute(
                select(
                    DailySubscription.member_id, DailySubscription.minute, DailySubscription.next_at
                ).where(
                    DailySubscription.member_id.in_(member_ids),
                    DailySubscription.active.is_(True),
                )
            )
        ).all()
        members = dict(
            (
                await self._session.execute(
                    select(Member.id, Member.organisation_id).where(
                        Member.id.in_(member_ids), Member.active.is_(True)
                    )
                )
            ).all()
        )
        reachable = {
            r.member_id for r in await recipients(self._session, sorted(members)) if r.account_id
        }
        cards = await self._cards(sorted(reachable))
        moved: list[dict[str, object]] = []
        sends: list[dict[str, object]] = []
        for member_id, minute, due_at in sorted(subs):
            moved.append(
                {"member_id": member_id, "next_at": next_moment(minute, max(now, due_at), self._tz)}
            )
            if member_id not in reachable or now - due_at > grace:
                continue
            day = due_at.astimezone(self._tz).date()
            picked = _pick(member_id, cards.get(member_id, {}), day)
            if picked is None:
                continue
            key, question = picked
            order = _order(member_id, key, day, len(question.choices))
            sends.append(
                {
                    "member_id": member_id,
                    "organisation_id": members[member_id],
                    "day": day,
                    "question_key": key,
                    "topic": question.topic,
                    "order": order,
                    "right_shown": order.index(question.answer),
                    "sent_at": now,
                }
            )
        if moved:
            await self._session.execute(update(DailySubscription), moved)
        if not sends:
            return 0
        table = DailySend.__table__
        inserted = await self._session.execute(
            _insert(self._session, DailySend).returning(table.c.id, table.c.member_id), sends
        )
        ids = {member_id: send_id for send_id, member_id in inserted}
        queued = [s for s in sends if s["member_id"] in ids]
        messages: list[tuple[int, DailyQuestion]] = []
        for send in queued:
            member_id, key = int(str(send["member_id"])), str(send["question_key"])
            question = pool()[key]
            order: list[int] = send["order"]  # type: ignore[assignment]
            choices = tuple(question.choices[i] for i in order)
            messages.append(
                (
                    member_id,
                    DailyQuestion(ids[member_id], question.topic, question.question, choices),
                )
            )
        await self._come_back_tomorrow(
            cards, [(int(str(s["member_id"])), str(s["question_key"])) for s in queued], now
        )
        await self._outbox.enqueue_each(messages, kind=OUTBOX_KIND, now=now)
        return len(queued)

    async def _cards(self, member_ids: Sequence[int]) -> dict[int, dict[str, Card]]:
        found: dict[int, dict[str, Card]] = {}
        for start in range(0, len(member_ids), CHUNK):
            rows = await self._session.execute(
                select(
                    DailyCard.id,
                    DailyCard.member_id,
                    DailyCard.question_key,
                    DailyCard.box,
                    DailyCard.due_on,
                ).where(DailyCard.member_id.in_(member_ids[start : start + CHUNK]))
            )
            for card in rows:
                found.setdefault(card.member_id, {})[card.question_key] = Card(*card)
        return found

    async def _come_back_tomorrow(
        self, cards: dict[int, dict[str, Card]], sent: list[tuple[int, str]], now: datetime
    ) -> None:
        """A question sent comes back tomorrow unless it is answered right: new cards in
        box 0, known ones due again tomorrow."""
        tomorrow = now.astimezone(self._tz).date() + timedelta(days=1)
        new, known = [], []
        for member_id, key in sent:
            card = cards.get(member_id, {}).get(key)
            if card is None:
                new.append(
                    {
                        "member_id": member_id,
                        "question_key": key,
                        "topic": pool()[key].topic,
                        "box": 0,
                        "due_on": tomorrow,
                    }
                )
            else:
                known.append({"id": card.id, "due_on": tomorrow})
        if new:
            await self._session.execute(insert(DailyCard), new)
        if known:
            await self._session.execute(update(DailyCard), known)

    # --- Answering -----------------------------------------------------------------------

    async def answer(self, send_id: int, member_id: int, shown: int) -> DailyAnswer:
        send = await self._session.get(DailySend, send_id)
        if send is None or send.member_id != member_id or not 0 <= shown < len(send.order):
            return DailyAnswer(AnswerOutcome.NOT_FOUND)
        question = pool().get(send.question_key)
        right_choice = "" if question is None else question.choices[send.order[send.right_shown]]
        explanation = "" if question is None else question.explanation
        if send.answered_at is not None:
            return DailyAnswer(AnswerOutcome.ALREADY, send.right_shown, right_choice, explanation)
        now = self._clock()
        send.answered_at, send.correct = now, shown == send.right_shown
        card = await self._session.scalar(
            select(DailyCard).where(
                DailyCard.member_id == member_id, DailyCard.question_key == send.question_key
            )
        )
        if card is None:  # sent before the card existed (an old bank's question)
            card = DailyCard(
                member_id=member_id, question_key=send.question_key, topic=send.topic, box=0
            )
            self._session.add(card)
        card.box = min(card.box + 1, TOP_BOX) if send.correct else 1
        card.due_on = now.astimezone(self._tz).date() + timedelta(days=INTERVALS[card.box])
        outcome = AnswerOutcome.RIGHT if send.correct else AnswerOutcome.WRONG
        return DailyAnswer(
            outcome, send.right_shown, right_choice, explanation, card.box, card.due_on
        )

    # --- Progress ------------------------------------------------------------------------

    async def progress(self, member_id: int) -> Progress | None:
        """None when the member never had a daily question."""
        rows = (
            await self._session.execute(
                select(DailySend.day, DailySend.correct)
                .where(DailySend.member_id == member_id)
                .order_by(DailySend.day.desc())
            )
        ).all()
        if not rows:
            return None
        answered_days = {day for day, correct in rows if correct is not None}
        day = self.today()
        if day not in answered_days:
            day -= timedelta(days=1)
        streak = 0
        while day in answered_days:
            streak += 1
            day -= timedelta(days=1)
        topics: dict[str, list[int]] = {}
        for topic, box in await self._session.execute(
            select(DailyCard.topic, DailyCard.box).where(DailyCard.member_id == member_id)
        ):
            counts = topics.setdefault(topic, [0, 0])
            counts[0] += box >= MASTERED_BOX
            counts[1] += 1
        return Progress(
            streak=streak,
            answered=len(answered_days),
            correct=sum(1 for _, correct in rows if correct),
            topics=[Mastery(t, m, s) for t, (m, s) in sorted(topics.items())],
        )

    # --- Rankings ------------------------------------------------------------------------

    async def unit_month(self, unit_ids: Sequence[int], year: int, month: int) -> list[Standing]:
        """Per unit of `unit_ids` (each with the units under it), over the month's daily
        questions: members who answered at least one, and the share answered right."""
        start = date(year, month, 1)
        end = date(year + month // 12, month % 12 + 1, 1)
        found: list[Standing] = []
        for unit_id in unit_ids:
            path = await self._session.scalar(
                select(Organisation.path).where(Organisation.id == unit_id)
            )
            if path is None:
                continue
            answered, correct, members = (
                await self._session.execute(
                    select(
                        func.count(DailySend.answered_at),
                        func.count(case((DailySend.correct.is_(True), 1))),
                        func.count(
                            case(
                                (DailySend.answered_at.isnot(None), DailySend.member_id)
                            ).distinct()
                        ),
                    )
                    .join(Organisation, Organisation.id == DailySend.organisation_id)
                    .where(
                        Organisation.path.startswith(path, autoescape=True),
                        DailySend.day >= start,
                        DailySend.day < end,
                    )
                )
            ).one()
            roster = await self._session.scalar(
                select(func.count(Member.id))
                .join(Organisation, Organisation.id == Member.organisation_id)
                .where(Organisation.path.startswith(path, autoescape=True), Member.active)
            )
            name = await self._session.scalar(
                select(Organisation.name).where(Organisation.id == unit_id)
            )
            found.append(
                Standing(unit_id, name or "", roster or 0, members, rate(correct, answered))
            )
        return found


@dataclass(frozen=True)
class Card:
    id: int
    member_id: int
    question_key: str
    box: int
    due_on: date


def _pick(member_id: int, cards: dict[str, Card], day: date) -> tuple[str, QuizQuestion] | None:
    questions = pool()
    known = [c for key, c in cards.items() if key in questions]
    due = sorted((c for c in known if c.due_on <= day), key=lambda c: (c.due_on, c.box, c.id))
    if due:
        return due[0].question_key, questions[due[0].question_key]
    unseen = sorted(
        (k for k in questions if k not in cards), key=lambda k: _shuffle_key(member_id, k)
    )
    if unseen:
        return unseen[0], questions[unseen[0]]
    if known:
        soonest = min(known, key=lambda c: (c.due_on, c.box))
        return soonest.question_key, questions[soonest.question_key]
    return None


def _order(member_id: int, key: str, day: date, count: int) -> list[int]:
    """The choices' order for this member's day: shuffled, and the same if decided again."""
    return sorted(range(count), key=lambda i: _shuffle_key(member_id, f"{key}|{day}|{i}"))


def _insert(session: AsyncSession, model: type[DailySend]) -> Insert:
    make = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    return make(model.__table__).on_conflict_do_nothing()
