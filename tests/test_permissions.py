"""Who may do what, where: the permission matrix, and the secretary commands in chat."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.messages import Reply
from bot.models import AuditEntry, ChannelAccount, Member, RoleGrant
from bot.services.permissions import Action, PermissionService, Role
from bot.texts import text
from tests.harness import button, grant, labels, linked, say, unit_named

OFFICE, JUSTICE, COMMITTEE = (
    "Chi bộ Văn phòng",
    "Chi bộ Sở Tư pháp",
    "Đảng bộ Khối các cơ quan và doanh nghiệp",
)
# card → (role, unit name or None); the target unit of the matrix is Chi bộ Văn phòng.
ACTORS = {
    "member": ("90000003", None),
    "sibling_secretary": ("90000004", (Role.SECRETARY, JUSTICE)),
    "right_secretary": ("90000001", (Role.SECRETARY, OFFICE)),
    "right_deputy": ("90000002", (Role.DEPUTY_SECRETARY, OFFICE)),
    "committee_secretary": ("90000007", (Role.SECRETARY, COMMITTEE)),
    "trainer": ("90000005", (Role.TRAINER, OFFICE)),
    "admin": ("90000010", (Role.ADMIN, None)),
}
SECRETARY_ACTIONS = {
    Action.BROADCAST,
    Action.ISSUE_CODES,
    Action.MANAGE_MEETINGS,
    Action.ANSWER_QUESTIONS,
}
ALLOWED = {
    "member": set(),
    "sibling_secretary": set(),
    "right_secretary": SECRETARY_ACTIONS | {Action.VIEW_REPORTS},
    "right_deputy": SECRETARY_ACTIONS | {Action.VIEW_REPORTS},
    "committee_secretary": SECRETARY_ACTIONS | {Action.VIEW_REPORTS},
    "trainer": {Action.SCHEDULE_QUIZ, Action.VIEW_REPORTS},
    "admin": set(Action),
}


@pytest.fixture
async def roles(database: Database) -> dict[str, int]:
    """Demo data with the ACTORS' grants; returns member ids by actor name."""
    ids: dict[str, int] = {}
    async with database.session() as session, session.begin():
        await seed_demo(session)
        for actor, (card, grant) in ACTORS.items():
            member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
            assert member_id is not None
            ids[actor] = member_id
            if grant is not None:
                role, unit = grant
                unit_id = None if unit is None else await unit_named(session, unit)
                session.add(
                    RoleGrant(
                        member_id=member_id, role=role, organisation_id=unit_id, granted_by="test"
                    )
                )
            session.add(linked(member_id, card))
    return ids


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("actor", list(ACTORS))
async def test_permission_matrix(
    database: Database, roles: dict[str, int], actor: str, action: Action
) -> None:
    async with database.session() as session:
        office = await unit_named(session, OFFICE)
        allowed = await PermissionService(session).can(roles[actor], action, office)
    assert allowed == (action in ALLOWED[actor])


def _names_in(reply: Reply) -> list[str]:
    assert reply.document is not None
    sheet = load_workbook(io.BytesIO(reply.document.content)).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


async def test_a_member_cannot_issue_codes_or_see_reports(
    core: ChatCore, roles: dict[str, int]
) -> None:
    for command in ("/macode", "/baocao"):
        assert [r.text for r in await say(core, "90000003", command)] == [
            text("secretary.not_allowed")
        ]


async def test_a_secretary_gets_codes_for_their_own_unit_only(
    core: ChatCore, roles: dict[str, int]
) -> None:
    # In Chi bộ Sở Tư pháp only Vũ Đức Khang has no linked account.
    (justice,) = await say(core, "90000004", "/macode")
    assert justice.text == text("secretary.codes_ready", count=1, unit=JUSTICE)
    assert _names_in(justice) == ["Vũ Đức Khang"]
    # Everyone in Chi bộ Văn phòng is linked.
    (office,) = await say(core, "90000001", "/macode")
    assert office.text == text("secretary.codes_none", unit=OFFICE)
    assert office.document is None


async def test_reports_cover_the_secretarys_subtree(core: ChatCore, roles: dict[str, int]) -> None:
    (office,) = await say(core, "90000001", "/baocao")
    assert office.text.splitlines()[0] == text("secretary.report_title")
    assert OFFICE in office.text and JUSTICE not in office.text
    (committee,) = await say(core, "90000007", "/baocao")
    assert (
        OFFICE in committee.text and JUSTICE in committee.text and "thôn Đông" not in committee.text
    )
    (everything,) = await say(core, "90000010", "/baocao")
    assert "thôn Đông" in everything.text


async def test_a_report_over_nested_grants_names_each_unit_once(
    core: ChatCore, database: Database, roles: dict[str, int]
) -> None:
    # The secretary of Chi bộ Văn phòng also trains the whole committee above it: the chi
    # bộ's line came twice, the second time at the end of the report.
    await grant(database, "90000001", Role.TRAINER, COMMITTEE)
    (report,) = await say(core, "90000001", "/baocao")
    # (Without a messenger token a note in brackets says console accounts are counted.)
    lines = [line for line in report.text.splitlines()[1:] if not line.startswith("(")]
    units = [line.split(":")[0].strip() for line in lines]
    assert units == [COMMITTEE, JUSTICE, OFFICE]


async def test_a_secretary_who_left_the_roster_loses_the_powers(
    database: Database, roles: dict[str, int]
) -> None:
    async with database.session() as session, session.begin():
        member = await session.get(Member, roles["right_secretary"])
        assert member is not None
        member.active = False
    async with database.session() as session:
        office = await unit_named(session, OFFICE)
        assert not await PermissionService(session).can(
            roles["right_secretary"], Action.ISSUE_CODES, office
        )


async def test_a_secretary_unlinks_a_member_of_their_unit_only(
    core: ChatCore, database: Database, roles: dict[str, int]
) -> None:
    # 90000003 (Chi bộ Văn phòng) is linked; its secretary may free the account, the
    # secretary of the sibling chi bộ and a plain member may not, and learn nothing.
    for outsider in ("90000004", "90000003"):
        (refused,) = await say(core, outsider, "/huylienket 90000003")
        assert refused.text == text("unlink.not_found")
    (asked,) = await say(core, "90000001", "/huylienket 9000 0003")
    assert asked.text == text("unlink.confirm", name="Lê Minh Châu")
    assert labels(asked) == [text("privacy.button_confirm"), text("privacy.button_keep")]
    (kept,) = await say(core, "90000001", button=button(asked, text("privacy.button_keep")))
    assert kept.text == text("unlink.kept")
    (done,) = await say(core, "90000001", button=button(asked, text("privacy.button_confirm")))
    assert done.text == text("unlink.done", count=1, name="Lê Minh Châu")
    async with database.session() as session:
        linked = await session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.external_id == "90000003")
        )
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert linked is None
    assert "account.unlink" in actions
    (asked,) = await say(core, "90000001", "/huylienket 90000003")
    (again,) = await say(core, "90000001", button=button(asked, text("privacy.button_confirm")))
    assert again.text == text("unlink.none", count=0, name="Lê Minh Châu")
