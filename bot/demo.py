"""Invented demo data, for trying every seat of the bot in the console. `seed_demo` adds the
roster: a provincial committee, two Party committees, four chi bộ and their twelve members,
one of them linked to the plain console account. `seed_activity` brings it to life: console
accounts for the demo members, their roles (a secretary per chi bộ, a trainer, an admin), a
monthly meeting and a training session in the coming days, a meeting to mark attendance
for, one quiz open and one closed with answers, a question waiting in the inbox. Both are
safe to run again: nothing is added twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.console import CONSOLE_USER, Seat
from bot.messages import Channel
from bot.models import (
    ChannelAccount,
    CommitteeQuestion,
    ConversationState,
    HandbookQuery,
    Meeting,
    Member,
    Organisation,
    Quiz,
    QuizTarget,
    RoleGrant,
    utcnow,
)
from bot.services import Services, Shared
from bot.services.accounts import MemberView
from bot.services.audit import AuditService
from bot.services.linking import CONSENT_VERSION
from bot.services.meetings import LAST_WEEK, Recurrence
from bot.services.organisations import OrganisationService
from bot.services.permissions import Action, Role
from bot.services.probation import add_months
from bot.services.quizzes.attempts import StartRefused
from bot.services.quizzes.lifecycle import State
from bot.services.roles import RoleService

PROVINCE = "Đảng bộ tỉnh Demo"
OFFICE = "Chi bộ Văn phòng"
# (Party committee, chi bộ, [(card number, name, birth date, probationary)])
_UNITS: list[tuple[str, str, list[tuple[str, str, date, bool]]]] = [
    (
        "Đảng bộ Khối các cơ quan và doanh nghiệp",
        OFFICE,
        [
            ("90000001", "Nguyễn Văn An", date(1980, 3, 12), False),
            ("90000002", "Trần Thị Bình", date(1986, 7, 2), False),
            ("90000003", "Lê Minh Châu", date(1998, 11, 20), True),
        ],
    ),
    (
        "Đảng bộ Khối các cơ quan và doanh nghiệp",
        "Chi bộ Sở Tư pháp",
        [
            ("90000004", "Phạm Quốc Dũng", date(1975, 1, 30), False),
            ("90000005", "Hoàng Thị Hà", date(1990, 5, 9), False),
            ("90000006", "Vũ Đức Khang", date(1983, 9, 17), False),
        ],
    ),
    (
        "Đảng bộ xã Hòa An",
        "Chi bộ thôn Đông",
        [
            ("90000007", "Đặng Văn Lộc", date(1962, 4, 4), False),
            ("90000008", "Bùi Thị Mai", date(1979, 12, 25), False),
            ("90000009", "Đỗ Thanh Nam", date(2001, 6, 14), True),
        ],
    ),
    (
        "Đảng bộ xã Hòa An",
        "Chi bộ thôn Tây",
        [
            ("90000010", "Ngô Thị Oanh", date(1970, 8, 8), False),
            ("90000011", "Dương Văn Phúc", date(1988, 2, 19), False),
            ("90000012", "Lý Thị Quỳnh", date(1995, 10, 1), False),
        ],
    ),
]
CONSOLE_MEMBER_CARD = "90000002"
# Who sits at the keyboard for `sotay console --as ROLE`.
SEATS = {
    "member": CONSOLE_MEMBER_CARD,
    "secretary": "90000001",
    "trainer": "90000005",
    "admin": "90000004",
}
# card → (role, the unit's name; None: everywhere)
_GRANTS: dict[str, tuple[Role, str | None]] = {
    "90000001": (Role.SECRETARY, OFFICE),
    "90000006": (Role.SECRETARY, "Chi bộ Sở Tư pháp"),
    "90000007": (Role.SECRETARY, "Chi bộ thôn Đông"),
    "90000010": (Role.SECRETARY, "Chi bộ thôn Tây"),
    "90000005": (Role.TRAINER, PROVINCE),
    "90000004": (Role.ADMIN, None),
}
# Left without an account, so notices list someone not reached and /macode has work.
NOT_LINKED = frozenset({"90000003"})
ACTOR = "demo"
INBOX_QUESTION = "Chi bộ có được họp trực tuyến qua Zalo khi đảng viên ở xa không?"
_ROLE_NAMES = {
    Role.SECRETARY: "secretary",
    Role.TRAINER: "trainer",
    Role.ADMIN: "admin",
}


@dataclass(frozen=True)
class SeedResult:
    members_created: int
    units: int


@dataclass(frozen=True)
class Person:
    """A demo member as `sotay demo seed` lists them."""

    name: str
    card: str
    unit: str
    role: str  # member, secretary, trainer or admin
    seat: str | None  # the --as value that chats as them
    linked: bool


async def roster_is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Member))


# Lê Minh Châu's probationary year, sponsored by the secretary and the console's member:
# admitted eleven months and three days before seeding, so the reminders are due at once
# and /dubi (with `sotay console --as member`, Bình sees a sponsor's reminder) has a story.
PROBATIONARY_CARD = "90000003"
SPONSOR_CARDS = ("90000001", CONSOLE_MEMBER_CARD)


def _admission(today: date) -> date:
    return add_months(today, -11) - timedelta(days=3)


async def seed_demo(session: AsyncSession) -> SeedResult:
    """The invented roster, and the plain console account linked to the member seat."""
    organisations = OrganisationService(session)
    created = 0
    for committee, chi_bo, people in _UNITS:
        unit = await organisations.ensure_path([PROVINCE, committee, chi_bo])
        for card, name, born, probationary in people:
            exists = await session.scalar(select(Member.id).where(Member.card_number == card))
            if exists is None:
                session.add(
                    Member(
                        card_number=card,
                        full_name=name,
                        birth_date=born,
                        # Invented numbers from a range no operator assigns.
                        phone=f"0900000{card[-3:]}",
                        organisation_id=unit.id,
                        probationary=probationary,
                        **(_probation() if card == PROBATIONARY_CARD else {}),
                    )
                )
                created += 1
    await session.flush()
    await _link_console(session)
    if created:
        await AuditService(session).record("cli", "demo.seed", members=created)
    return SeedResult(members_created=created, units=len(_UNITS))


def _probation() -> dict[str, object]:
    return {
        "admission_date": _admission(utcnow().date()),
        "sponsor1_card": SPONSOR_CARDS[0],
        "sponsor2_card": SPONSOR_CARDS[1],
    }


async def _link_console(session: AsyncSession) -> None:
    member_id = await session.scalar(
        select(Member.id).where(Member.card_number == CONSOLE_MEMBER_CARD)
    )
    account = await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.channel == Channel.CONSOLE, ChannelAccount.external_id == CONSOLE_USER
        )
    )
    if account is None:
        account = ChannelAccount(
            channel=Channel.CONSOLE, external_id=CONSOLE_USER, chat_id=CONSOLE_USER
        )
        session.add(account)
    if account.member_id is None:
        account.member_id = member_id
        account.linked_at = utcnow()


async def _members(session: AsyncSession) -> dict[str, Member]:
    cards = [card for _, _, people in _UNITS for card, *_ in people]
    found = await session.scalars(select(Member).where(Member.card_number.in_(cards)))
    return {member.card_number: member for member in found}


async def _unit(session: AsyncSession, name: str) -> int:
    found = await session.scalar(
        select(Organisation.id).where(Organisation.name == name, Organisation.active.is_(True))
    )
    assert found is not None, name
    return found


async def _console_account(session: AsyncSession, member_id: int) -> ChannelAccount | None:
    return await session.scalar(
        select(ChannelAccount)
        .where(ChannelAccount.channel == Channel.CONSOLE, ChannelAccount.member_id == member_id)
        .order_by(ChannelAccount.linked_at, ChannelAccount.id)
        .limit(1)
    )


async def seed_activity(session: AsyncSession, shared: Shared) -> None:
    """Accounts, roles, meetings, quizzes and an inbox question for the demo roster (which
    `seed_demo` adds first), relative to the shared clock's now."""
    members = await _members(session)
    now = shared.clock()
    for card, member in members.items():
        if card not in NOT_LINKED and await _console_account(session, member.id) is None:
            session.add(
                ChannelAccount(
                    channel=Channel.CONSOLE,
                    external_id=f"demo-{card}",
                    chat_id=f"demo-{card}",
                    member_id=member.id,
                    linked_at=now,
                    consent_version=CONSENT_VERSION,
                    consent_at=now,
                )
            )
    await session.flush()
    # Accounts linked in chat have their conversation row from the linking steps. Made
    # here, the dispatcher storing the numbered choices of a first delivery and the first
    # message typed do not both create it.
    accounts = await session.scalars(
        select(ChannelAccount.id).where(
            ChannelAccount.channel == Channel.CONSOLE,
            ChannelAccount.member_id.in_([member.id for member in members.values()]),
            ~exists().where(ConversationState.account_id == ChannelAccount.id),
        )
    )
    session.add_all(
        ConversationState(account_id=account, data={}, choices=[]) for account in accounts
    )
    roles = RoleService(session)
    for card, (role, unit) in _GRANTS.items():
        unit_id = None if unit is None else await _unit(session, unit)
        await roles.grant(members[card].id, role, unit_id, actor=ACTOR)
    if not await session.scalar(select(Meeting.id).where(Meeting.created_by == ACTOR).limit(1)):
        await _meetings(session, shared, members)
    if not await session.scalar(select(Quiz.id).where(Quiz.created_by == ACTOR).limit(1)):
        await _quizzes(session, shared, members)
    if not await session.scalar(
        select(CommitteeQuestion.id).where(CommitteeQuestion.question == INBOX_QUESTION)
    ):
        await _inbox(session, now, members)


def _at(shared: Shared, moment: datetime) -> Shared:
    """The shared services with their clock stopped at `moment`: what happened in the
    demo's past is done through the services as it would have been then."""
    return replace(shared, clock=lambda: moment)


async def _meetings(session: AsyncSession, shared: Shared, members: dict[str, Member]) -> None:
    tz = shared.settings.timezone
    today = shared.clock().astimezone(tz).date()
    services = Services.for_session(session, shared)
    office = await _unit(session, OFFICE)
    # A monthly meeting that falls three days from now, held since four months ago.
    day = today + timedelta(days=3)
    week = (day.day - 1) // 7 + 1
    rule = Recurrence.monthly_weekday(
        day.weekday(),
        LAST_WEEK if week == 5 else week,
        time(14, 0),
        starts=today - timedelta(days=120),
    )
    monthly = await services.meetings.create(
        office,
        kind="regular",
        title="",
        place="Phòng họp tầng 2, trụ sở cơ quan",
        agenda="Kiểm điểm công tác tháng; triển khai nhiệm vụ tháng tới",
        recurrence=rule,
        actor=ACTOR,
    )
    # Attendance marked at the monthly meetings of this year already held; the probationary
    # member missed every other one.
    people = [m for m in members.values() if m.organisation_id == office]
    year_start = datetime.combine(date(today.year, 1, 1), time.min, tz)
    held = await services.attendance.held(office, year_start, shared.clock())
    # Marked by the chi bộ's secretary, within their scope, as /diemdanh would.
    secretary = members[SEATS["secretary"]]
    marker = await services.permissions.actor(
        MemberView(secretary.id, secretary.full_name, office, OFFICE), Action.MANAGE_MEETINGS
    )
    for index, occurrence in enumerate(o for o in held if o.meeting.id == monthly.id):
        present = [m.id for m in people if m.card_number not in NOT_LINKED or index % 2]
        await services.attendance.save(monthly, occurrence.at, present, by=marker)
    # A themed meeting five days ago, answered but not marked yet: /diemdanh has work.
    themed_at = datetime.combine(today - timedelta(days=5), time(8, 0), tz)
    themed = await services.meetings.create(
        office,
        kind="themed",
        title="",
        place="Hội trường cơ quan",
        agenda="Học tập chuyên đề về phong cách làm việc",
        starts_at=themed_at,
        actor=ACTOR,
    )
    past = Services.for_session(session, _at(shared, themed_at - timedelta(days=1)))
    for card, answer, reason in (
        ("90000001", "attend", None),
        (CONSOLE_MEMBER_CARD, "attend", None),
        ("90000003", "absent", "Đi công tác tại huyện"),
    ):
        await past.meetings.respond(themed.id, themed_at, members[card].id, answer, reason)
    # A training session for every chi bộ, five days from now.
    training_at = datetime.combine(today + timedelta(days=5), time(8, 0), tz)
    for _, chi_bo, _ in _UNITS:
        await services.meetings.create(
            await _unit(session, chi_bo),
            kind="training",
            title="",
            place="Hội trường Tỉnh ủy",
            agenda="Tập huấn nghiệp vụ công tác đảng viên",
            starts_at=training_at,
            actor=ACTOR,
        )


async def _quizzes(session: AsyncSession, shared: Shared, members: dict[str, Member]) -> None:
    now = shared.clock()
    trainer = members[SEATS["trainer"]].id
    province = await _unit(session, PROVINCE)
    # Closed three days ago, taken by most members of two chi bộ.
    opens, closes = now - timedelta(days=10), now - timedelta(days=3)
    closed = await Services.for_session(session, _at(shared, opens)).quizzes.schedule(
        title="Ôn tập về đảng phí",
        unit_ids=[await _unit(session, OFFICE), await _unit(session, "Chi bộ Sở Tư pháp")],
        question_count=5,
        opens_at=opens,
        closes_at=closes,
        actor=ACTOR,
        report_to=trainer,
    )
    # Opened without its invitations: sent now, they would be news about a closed quiz.
    closed.state = State.OPEN
    closed.reminded_at = opens
    targets = await _targets(session, closed)
    takers = [
        m
        for m in members.values()
        if m.organisation_id in targets and m.card_number not in NOT_LINKED
    ]
    for index, member in enumerate(takers[:5]):
        taking = Services.for_session(session, _at(shared, opens + timedelta(days=1, hours=index)))
        attempt = await taking.quiz_attempts.start(closed.id, member.id, member.organisation_id)
        assert not isinstance(attempt, StartRefused)
        while (shown := await taking.quiz_attempts.current(attempt)) is not None:
            right = (index + shown.position) % 4 != 0  # most answers right, some wrong
            choice = (
                shown.correct_shown if right else (shown.correct_shown + 1) % len(shown.choices)
            )
            await taking.quiz_attempts.answer(attempt.id, member.id, shown.position, choice)
    closing = Services.for_session(session, _at(shared, closes)).quizzes
    for due in await closing.due_events(closes):
        await closing.run_due(due)
    # Open for a week, for the whole province: invitations go out at the bot's next start.
    services = Services.for_session(session, shared)
    await services.quizzes.schedule(
        title="Tìm hiểu Điều lệ Đảng",
        unit_ids=[province],
        question_count=5,
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=7),
        actor=ACTOR,
        report_to=trainer,
    )
    for due in await services.quizzes.due_events(now):
        await services.quizzes.run_due(due)


async def _targets(session: AsyncSession, quiz: Quiz) -> set[int]:
    rows = await session.scalars(
        select(QuizTarget.organisation_id).where(QuizTarget.quiz_id == quiz.id)
    )
    return set(rows)


async def _inbox(session: AsyncSession, now: datetime, members: dict[str, Member]) -> None:
    """A member's question the handbook did not answer, sent on to the committee."""
    member = members[CONSOLE_MEMBER_CARD]
    account = await _console_account(session, member.id)
    assert account is not None
    asked = now - timedelta(days=1)
    session.add(HandbookQuery(asked_at=asked, question=INBOX_QUESTION, answered=False, score=0.1))
    session.add(
        CommitteeQuestion(
            account_id=account.id,
            organisation_id=member.organisation_id,
            question=INBOX_QUESTION,
            asked_at=asked,
        )
    )


async def people(session: AsyncSession) -> list[Person]:
    """The demo members: the seats first, then by unit and name."""
    members = await _members(session)
    units = dict((await session.execute(select(Organisation.id, Organisation.name))).all())
    grants = dict((await session.execute(select(RoleGrant.member_id, RoleGrant.role))).all())
    seats = {card: seat for seat, card in SEATS.items()}
    found = []
    for card, member in members.items():
        role = grants.get(member.id)
        found.append(
            Person(
                name=member.full_name,
                card=card,
                unit=units[member.organisation_id],
                role=_ROLE_NAMES.get(Role(role), "member") if role else "member",
                seat=seats.get(card),
                linked=await _console_account(session, member.id) is not None,
            )
        )
    seat_order = list(SEATS)
    unit_order = [chi_bo for _, chi_bo, _ in _UNITS]
    return sorted(
        found,
        key=lambda p: (
            seat_order.index(p.seat) if p.seat else len(seat_order),
            unit_order.index(p.unit) if p.unit in unit_order else len(unit_order),
            p.card,
        ),
    )


async def find_seat(session: AsyncSession, role: str | None) -> Seat | None:
    """The console account of the demo member holding `role` (None: the plain member).
    Without demo data, None for a role, and the unlinked console account otherwise."""
    card = SEATS["member" if role is None else role]
    member = await session.scalar(select(Member).where(Member.card_number == card))
    account = None if member is None else await _console_account(session, member.id)
    if member is None or account is None:
        return None if role is not None else Seat(CONSOLE_USER)
    unit = await session.get(Organisation, member.organisation_id)
    assert unit is not None
    return Seat(account.external_id, role or "member", member.full_name, unit.name)
