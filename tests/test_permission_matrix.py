"""Who may act where, as one matrix: actors (a plain member, a secretary, a trainer and an
admin, an account not linked) × actions × units (the actor's own, a child, a sibling, the
parent), and every command and every kind of button the router takes. The tables below
name each one; a command or button added without a row fails the first test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.messages import Reply
from bot.models import ChannelAccount, CommitteeQuestion, Member, RoleGrant, utcnow
from bot.services.permissions import ALLOWED, Action, PermissionService, Role
from bot.services.quizzes.lifecycle import Due, Event
from bot.texts import text
from handlers import build_router
from tests.harness import linked, say, services, unit_id, unit_named

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE = "Đảng bộ tỉnh Demo"
COMMITTEE = "Đảng bộ Khối các cơ quan và doanh nghiệp"  # the grants' unit: "own"
OFFICE = "Chi bộ Văn phòng"  # under it: "child"
OTHER_COMMITTEE = "Đảng bộ xã Hòa An"  # beside it: "sibling"
EAST = "Chi bộ thôn Đông"  # under the sibling
STRANGER = "stranger"  # an account linked to no member
# actor → (card, role granted on COMMITTEE, or everywhere for the admin)
ACTORS: dict[str, tuple[str, Role | None]] = {
    "member": ("90000003", None),
    "secretary": ("90000001", Role.SECRETARY),
    "deputy": ("90000002", Role.DEPUTY_SECRETARY),
    "trainer": ("90000005", Role.TRAINER),
    "admin": ("90000010", Role.ADMIN),
}
TARGETS = {"own": COMMITTEE, "child": OFFICE, "sibling": OTHER_COMMITTEE, "parent": PROVINCE}
MEETING_AT = datetime(2026, 12, 4, 19, 30, tzinfo=HCM)

# What the bot says when it refuses: no rights, not linked, or a press it does not take.
REFUSALS = {
    text(key)
    for key in (
        "link.required",
        "handbook.members_only",
        "secretary.not_allowed",
        "meeting_setup.trainers_only",
        "quiz_setup.trainers_only",
        "quiz_import.trainers_only",
        "fallback.stale_button",
        "meetings.not_your_meeting",
        "meetings.meeting_gone",
        "quiz.not_yours",
        "quiz.not_targeted",
        "quiz.practice_stale",
        "daily.not_yours",
        "unlink.not_found",
        "weblogin.not_allowed",
    )
}

ANYONE, MEMBER = "anyone", "member"
Needs = str | Action

# Every command, and who may use it at all: anyone, linked members, or members whose grants
# allow the action somewhere (their scope then decides which units and rows).
COMMANDS: dict[str, Needs] = {
    "dangnhap": Action.VIEW_REPORTS,  # any role: a sign-in link to the web console
    "start": ANYONE,
    "help": ANYONE,
    "trogiup": ANYONE,
    "cancel": ANYONE,
    "huy": ANYONE,
    "dulieu": ANYONE,
    "xoadulieu": ANYONE,
    "rutdongy": ANYONE,
    "huylienket": ANYONE,
    "chude": MEMBER,
    "kenh": MEMBER,
    "lichhop": MEMBER,
    "chuyencan": MEMBER,
    "tracnghiem": MEMBER,
    "luyentap": MEMBER,
    "ketqua": MEMBER,
    "hangngay": MEMBER,
    "huongdan": MEMBER,
    "dubi": MEMBER,
    "tenxephang": MEMBER,
    "baocaoquiz": MEMBER,
    "thongbao_chitiet": MEMBER,
    "thongbao_huy": MEMBER,
    "macode": Action.ISSUE_CODES,
    "baocao": Action.VIEW_REPORTS,
    "thongbao": Action.BROADCAST,
    "hopthu": Action.ANSWER_QUESTIONS,
    "diemdanh": Action.MANAGE_MEETINGS,
    "taohop": Action.MANAGE_MEETINGS,
    "huyhop": Action.MANAGE_MEETINGS,
    "suahop": Action.MANAGE_MEETINGS,
    "taphuan": Action.SCHEDULE_QUIZ,
    "taoquiz": Action.SCHEDULE_QUIZ,
    "nhapcauhoi": Action.SCHEDULE_QUIZ,
    "xephang": Action.SCHEDULE_QUIZ,
}


@dataclass(frozen=True)
class Rows:
    """Rows in the sibling subtree, outside the grants on COMMITTEE."""

    east: int  # Chi bộ thôn Đông
    question: int  # a committee question asked there
    meeting: int  # a meeting held there
    quiz: int  # a quiz for it
    member: int  # a member there


@dataclass(frozen=True)
class Press:
    """How a kind of button is taken: who may press it at all, and the data a forger would
    send, naming a row outside the secretary's and the trainer's scope where it names one.
    `in_flow`: the button is only taken inside its conversation, stale anywhere else."""

    needs: Needs
    data: Callable[[Rows], str]
    in_flow: bool = False
    names_row: bool = False


def _flow(data: str) -> Press:
    return Press(MEMBER, lambda rows: data, in_flow=True)


def _row(needs: Needs, data: Callable[[Rows], str]) -> Press:
    return Press(needs, data, names_row=True)


BUTTONS: dict[str, Press] = {
    "help": Press(ANYONE, lambda rows: "help:ask"),
    "erase": Press(ANYONE, lambda rows: "erase:no"),
    "withdraw": Press(ANYONE, lambda rows: "withdraw:no"),
    "unlink": Press(ANYONE, lambda rows: "unlink:no"),
    "unlinkm": _row(Action.ISSUE_CODES, lambda rows: f"unlinkm:{rows.member}"),
    "consent": Press(ANYONE, lambda rows: "consent:yes", in_flow=True),
    "kenh": Press(MEMBER, lambda rows: "kenh:telegram"),
    "entry": Press(MEMBER, lambda rows: "entry:bi-thu-chi-bo"),
    "cat": Press(MEMBER, lambda rows: "cat:0"),
    # Sealed to the account they were shown to: without its seal, stale for everyone.
    "fb": _flow("fb:down:1"),
    "ask": _flow("ask:1"),
    "rsvp": _row(MEMBER, lambda rows: f"rsvp:{rows.meeting}:{int(MEETING_AT.timestamp())}:a"),
    "quiz:start": _row(MEMBER, lambda rows: f"quiz:start:{rows.quiz}"),
    "quiz:a": _row(MEMBER, lambda rows: "quiz:a:999999:0:0"),  # nobody's attempt
    "quizp": _flow("quizp:1:0:0"),
    "daily:t": Press(MEMBER, lambda rows: "daily:t:420"),
    "daily:stop": Press(MEMBER, lambda rows: "daily:stop"),
    "daily:a": _row(MEMBER, lambda rows: "daily:a:999999:0"),  # nobody's question
    "tour": Press(MEMBER, lambda rows: "tour:member:1"),
    "tourend": Press(MEMBER, lambda rows: "tourend"),
    "qzr": _row(MEMBER, lambda rows: f"qzr:{rows.quiz}"),
    "inbox": _row(Action.ANSWER_QUESTIONS, lambda rows: f"inbox:{rows.question}"),
    "att": _row(
        Action.MANAGE_MEETINGS, lambda rows: f"att:{rows.meeting}:{int(MEETING_AT.timestamp())}"
    ),
    "attm": _flow("attm:1"),
    "atts": _flow("atts:save"),
    "bcu": _flow("bcu:1"),
    "bc": _flow("bc:send"),
    "qi": _flow("qi:0"),
    "mt:stop": _flow("mt:stop"),
    "mt:unit": _flow("mt:unit:1"),
    "mt:next": _flow("mt:next"),
    "mt:kind": _flow("mt:kind:regular"),
    "mt:repeat": _flow("mt:repeat:once"),
    "mt:remind": _flow("mt:remind:2h"),
    "mt:nodoc": _flow("mt:nodoc"),
    "mt:skip": _flow("mt:skip"),
    "mt:save": _flow("mt:save"),
    "mt:pick": _flow(f"mt:pick:1:{int(MEETING_AT.timestamp())}"),
    "mt:scope": _flow("mt:scope:all"),
    "mt:field": _flow("mt:field:place"),
    "qs:stop": _flow("qs:stop"),
    "qs:unit": _flow("qs:unit:1"),
    "qs:next": _flow("qs:next"),
    "qs:bank": _flow("qs:bank:0"),
    "qs:topic": _flow("qs:topic:0"),
    "qs:count": _flow("qs:count:5"),
    "qs:opt": _flow("qs:opt:order"),
    "qs:now": _flow("qs:now"),
    "qs:after": _flow("qs:after:3"),
    "qs:save": _flow("qs:save"),
}


@pytest.fixture
async def people(database: Database) -> dict[str, int]:
    """The demo data, the ACTORS' grants and accounts; member ids by actor."""
    ids: dict[str, int] = {}
    async with database.session() as session, session.begin():
        await seed_demo(session)
        committee = await unit_named(session, COMMITTEE)
        for actor, (card, role) in ACTORS.items():
            member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
            assert member_id is not None
            ids[actor] = member_id
            if role is not None:
                unit = None if role is Role.ADMIN else committee
                session.add(
                    RoleGrant(member_id=member_id, role=role, organisation_id=unit, granted_by="t")
                )
            session.add(linked(member_id, card))
    return ids


@pytest.fixture
async def rows(database: Database, people: dict[str, int]) -> Rows:
    async with database.session() as session, session.begin():
        east = await unit_named(session, EAST)
        asker = await session.scalar(select(Member.id).where(Member.organisation_id == east))
        account = ChannelAccount(channel="telegram", external_id="e", chat_id="e", member_id=asker)
        session.add(account)
        await session.flush()
        question = CommitteeQuestion(
            account_id=account.id, organisation_id=east, question="Hỏi", asked_at=utcnow()
        )
        session.add(question)
        found = services(session)
        meeting = await found.meetings.create(
            east, kind="regular", title="", place="Nhà văn hóa", actor="t", starts_at=MEETING_AT
        )
        quiz = await found.quizzes.schedule(
            title="Thôn Đông",
            unit_ids=[east],
            question_count=1,
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=1),
            actor="t",
        )
        await found.quizzes.run_due(Due(quiz.id, Event.OPEN))
        return Rows(east, question.id, meeting.id, quiz.id, asker)


def _card(actor: str) -> str:
    return STRANGER if actor == "stranger" else ACTORS[actor][0]


def _refused(replies: list[Reply], *also: str) -> bool:
    return any(reply.text in REFUSALS or reply.text in also for reply in replies)


def _meets(actor: str, needs: Needs) -> bool:
    if needs == ANYONE:
        return True
    if actor == "stranger":
        return False
    if needs == MEMBER:
        return True
    role = ACTORS[actor][1]
    return role is not None and (role is Role.ADMIN or role in ALLOWED[Action(needs)])


def test_every_command_and_button_the_router_takes_has_a_row() -> None:
    router = build_router()
    assert sorted(COMMANDS) == router.commands
    assert sorted(BUTTONS) == sorted(kind.prefix for kind in router.buttons)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("actor", list(ACTORS))
async def test_the_scope_covers_the_own_unit_and_below_only(
    database: Database, people: dict[str, int], actor: str, action: Action, target: str
) -> None:
    unit = await unit_id(database, TARGETS[target])
    async with database.session() as session:
        permissions = PermissionService(session)
        scope = await permissions.scope(people[actor], action)
        allowed = await permissions.within(scope, [unit])
    role = ACTORS[actor][1]
    granted = role is not None and (role is Role.ADMIN or role in ALLOWED[action])
    below = target in ("own", "child")
    assert allowed == (granted and (below or role is Role.ADMIN))


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_each_command_refuses_exactly_those_without_the_right(
    core: ChatCore, people: dict[str, int], command: str
) -> None:
    for actor in ["stranger", *ACTORS]:
        replies = await say(core, _card(actor), f"/{command}")
        assert _refused(replies) != _meets(actor, COMMANDS[command]), (actor, replies)
        await say(core, _card(actor), "/cancel")  # leave whatever flow it began


@pytest.mark.parametrize("prefix", list(BUTTONS))
async def test_each_button_refuses_a_forged_press(core: ChatCore, rows: Rows, prefix: str) -> None:
    press = BUTTONS[prefix]
    for actor in ["stranger", *ACTORS]:
        report_refused = text("quiz_report.not_allowed", id=rows.quiz)
        refused = _refused(await say(core, _card(actor), button=press.data(rows)), report_refused)
        if press.in_flow or not _meets(actor, press.needs):
            assert refused, actor
        elif press.names_row:
            # A row of the sibling subtree: in the admin's scope only (everywhere).
            assert refused or actor == "admin", actor
        else:
            assert not refused, actor


@dataclass(frozen=True)
class Menu:
    """A conversation that offers units, reached as `actor` by `steps` (typed text)."""

    actor: str
    steps: tuple[str, ...]
    kind: str


MENUS = {
    "/thongbao": Menu("secretary", ("/thongbao", "Họp chi bộ tối thứ Sáu."), "bcu"),
    "/taohop": Menu("secretary", ("/taohop",), "mt:unit"),
    "/huyhop": Menu("secretary", ("/huyhop",), "mt:unit"),
    "/taphuan": Menu("trainer", ("/taphuan",), "mt:unit"),
    "/taoquiz": Menu("trainer", ("/taoquiz", "Tìm hiểu Điều lệ"), "qs:unit"),
}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("menu", list(MENUS))
async def test_a_unit_outside_the_scope_cannot_be_chosen(
    database: Database, core: ChatCore, people: dict[str, int], menu: str, target: str
) -> None:
    conversation = MENUS[menu]
    for step in conversation.steps:
        await say(core, _card(conversation.actor), step)
    unit = await unit_id(database, TARGETS[target])
    replies = await say(core, _card(conversation.actor), button=f"{conversation.kind}:{unit}")
    assert _refused(replies) == (target not in ("own", "child")), replies
