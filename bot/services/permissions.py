"""Who may do what, where: the one answer every administrative action uses.

A grant covers its unit and everything under it (a prefix match on the unit's path); an
admin's grant covers everything. A message resolves its actor's grants once (one query, kept
for the transaction); for each action they give a `Scope`, the value handlers and services
check units and rows against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, RoleGrant
from bot.services.accounts import MemberView

# Menus of units offer at most this many.
MAX_UNIT_CHOICES = 12


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


@dataclass(frozen=True)
class Scope:
    """Where one action may be done: everywhere, or the subtrees under the granted units."""

    everywhere: bool = False
    # Each granted unit's (id, path), by id.
    units: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, grants: Iterable[Grant], action: Action) -> Scope:
        allowed = [g for g in grants if g.role is Role.ADMIN or g.role in ALLOWED[action]]
        if any(g.role is Role.ADMIN for g in allowed):
            return cls(everywhere=True)
        units = {g.organisation_id: g.path for g in allowed if g.organisation_id and g.path}
        return cls(units=tuple(sorted(units.items())))

    @property
    def empty(self) -> bool:
        return not self.everywhere and not self.units

    def contains(self, path: str) -> bool:
        """The unit with this path is in the scope."""
        return self.everywhere or any(path.startswith(prefix) for _, prefix in self.units)

    def where(self, path: ColumnElement[str]) -> ColumnElement[bool]:
        """A filter on a unit path column: the rows within the scope."""
        if self.everywhere:
            return true()
        if not self.units:
            return false()
        return or_(*(path.startswith(prefix, autoescape=True) for _, prefix in self.units))

    def roots(self, home: int) -> list[int]:
        """The units a command acts on, each with what lies under it: the granted ones, or
        for an admin (everywhere, too much for a chat) the unit they belong to. A granted
        unit under another granted one is already covered by it: listing it too repeated
        its rows (the chi bộ of a secretary who also trains the committee above)."""
        if self.everywhere:
            return [home]
        return [
            unit
            for unit, path in self.units
            if not any(path != other and path.startswith(other) for _, other in self.units)
        ]


@dataclass(frozen=True)
class Actor:
    """A linked member about to do an action, and where they may."""

    member: MemberView
    scope: Scope

    @property
    def ref(self) -> str:
        """The actor as the audit log names them."""
        return f"member:{self.member.id}"


class PermissionService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # One grants query per member and transaction, however many checks a message makes.
        self._grants: dict[int, list[Grant]] = {}

    async def grants(self, member_id: int) -> list[Grant]:
        if member_id in self._grants:
            return self._grants[member_id]
        # A member who left the roster (inactive) keeps grants on record but no powers.
        rows = await self._session.execute(
            select(RoleGrant.role, RoleGrant.organisation_id, Organisation.path)
            .join(Member, Member.id == RoleGrant.member_id)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .where(RoleGrant.member_id == member_id, Member.active.is_(True))
        )
        found = [Grant(Role(role), org_id, path) for role, org_id, path in rows]
        self._grants[member_id] = found
        return found

    async def scope(self, member_id: int, action: Action) -> Scope:
        return Scope.of(await self.grants(member_id), action)

    async def actor(self, member: MemberView, action: Action) -> Actor:
        return Actor(member, await self.scope(member.id, action))

    async def within(self, scope: Scope, unit_ids: Iterable[int]) -> bool:
        """Every unit exists and is in the scope (one query for them all)."""
        wanted = set(unit_ids)
        if not wanted or scope.empty:
            return False
        paths = dict(
            (
                await self._session.execute(
                    select(Organisation.id, Organisation.path).where(Organisation.id.in_(wanted))
                )
            ).all()
        )
        return paths.keys() == wanted and all(scope.contains(path) for path in paths.values())

    async def require(self, scope: Scope, unit_ids: Iterable[int]) -> None:
        units = list(unit_ids)
        if not await self.within(scope, units):
            raise PermissionDenied(f"units {units} are outside the scope")

    async def can(self, member_id: int, action: Action, organisation_id: int) -> bool:
        return await self.within(await self.scope(member_id, action), [organisation_id])

    async def units_to_offer(self, scope: Scope, home: int) -> list[int]:
        """The units a menu offers: each of the scope's roots followed by the active units
        right under it, in name order, at most MAX_UNIT_CHOICES."""
        offered: list[int] = []
        for root in scope.roots(home):
            children = await self._session.scalars(
                select(Organisation.id)
                .where(Organisation.parent_id == root, Organisation.active.is_(True))
                .order_by(Organisation.name)
            )
            for unit in (root, *children):
                if unit not in offered:
                    offered.append(unit)
        return offered[:MAX_UNIT_CHOICES]
