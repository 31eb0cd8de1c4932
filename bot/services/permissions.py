"""Who may do what, where: the one permission check every administrative action uses.

A grant covers its unit and everything under it (a prefix match on the unit's path); an
admin's grant covers everything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, RoleGrant


class Role(StrEnum):
    SECRETARY = "secretary"
    DEPUTY_SECRETARY = "deputy_secretary"
    TRAINER = "trainer"
    ADMIN = "admin"


class Action(StrEnum):
    BROADCAST = "broadcast"
    ISSUE_CODES = "issue_codes"
    VIEW_REPORTS = "view_reports"
    MANAGE_MEETINGS = "manage_meetings"
    SCHEDULE_QUIZ = "schedule_quiz"
    ANSWER_QUESTIONS = "answer_questions"


_SECRETARIES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
# Admins may do everything and are not listed.
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.BROADCAST: _SECRETARIES,
    Action.ISSUE_CODES: _SECRETARIES,
    Action.VIEW_REPORTS: _SECRETARIES | {Role.TRAINER},
    Action.MANAGE_MEETINGS: _SECRETARIES,
    Action.SCHEDULE_QUIZ: frozenset({Role.TRAINER}),
    Action.ANSWER_QUESTIONS: _SECRETARIES,
}


class PermissionDenied(Exception):
    """The member may not do this action on this unit."""


@dataclass(frozen=True)
class Grant:
    role: Role
    organisation_id: int | None
    path: str | None  # None for an admin: everywhere


class PermissionService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def grants(self, member_id: int) -> list[Grant]:
        # A member who left the roster (inactive) keeps grants on record but no powers.
        rows = await self._session.execute(
            select(RoleGrant.role, RoleGrant.organisation_id, Organisation.path)
            .join(Member, Member.id == RoleGrant.member_id)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .where(RoleGrant.member_id == member_id, Member.active.is_(True))
        )
        return [Grant(Role(role), org_id, path) for role, org_id, path in rows]

    async def scope(self, member_id: int, action: Action) -> list[Grant]:
        """The grants that allow `action`; an admin grant means everywhere."""
        allowed = ALLOWED[action]
        return [
            g for g in await self.grants(member_id) if g.role is Role.ADMIN or g.role in allowed
        ]

    async def can(self, member_id: int, action: Action, organisation_id: int) -> bool:
        grants = await self.scope(member_id, action)
        if any(g.role is Role.ADMIN for g in grants):
            return True
        if not grants:
            return False
        target = await self._session.get(Organisation, organisation_id)
        if target is None:
            return False
        return any(g.path is not None and target.path.startswith(g.path) for g in grants)

    async def require(self, member_id: int, action: Action, organisation_id: int) -> None:
        if not await self.can(member_id, action, organisation_id):
            raise PermissionDenied(f"{action} on unit {organisation_id}")
