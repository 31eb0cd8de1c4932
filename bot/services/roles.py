"""Granting and revoking roles: secretary, deputy secretary and trainer on a unit (a trainer
may hold several units), admin over everything. Each change is audited."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation, RoleGrant, utcnow
from bot.services.audit import AuditService
from bot.services.permissions import Role

# What a roster row can say about one member: a role on their unit, or admin (no unit).
GrantKey = tuple[Role, int | None]
UNIT_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.TRAINER)
_CHUNK = 1000


class RoleError(ValueError):
    """A grant or revocation that cannot be made; the message says why in one line."""


@dataclass(frozen=True)
class GrantView:
    member_id: int
    full_name: str
    role: Role
    unit_id: int | None  # None for admin


def _check_unit(role: Role, unit_id: int | None) -> None:
    if role is Role.ADMIN and unit_id is not None:
        raise RoleError("admin covers every unit: give no unit")
    if role is not Role.ADMIN and unit_id is None:
        raise RoleError(f"{role} needs a unit")


def _same_unit(unit_id: int | None) -> ColumnElement[bool]:
    return (
        RoleGrant.organisation_id.is_(None)
        if unit_id is None
        else RoleGrant.organisation_id == unit_id
    )


class RoleService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._audit = AuditService(session)

    async def grant(self, member_id: int, role: Role, unit_id: int | None, *, actor: str) -> bool:
        """Give the role; False if the member already had it there."""
        _check_unit(role, unit_id)
        member = await self._session.get(Member, member_id)
        if member is None or not member.active:
            raise RoleError("the member is not active on the roster")
        if unit_id is not None:
            unit = await self._session.get(Organisation, unit_id)
            if unit is None or not unit.active:
                raise RoleError("the unit is not active (merged or removed)")
        existing = await self._session.scalar(
            select(RoleGrant.id).where(
                RoleGrant.member_id == member_id, RoleGrant.role == role, _same_unit(unit_id)
            )
        )
        if existing is not None:
            return False
        self._session.add(
            RoleGrant(member_id=member_id, role=role, organisation_id=unit_id, granted_by=actor)
        )
        await self._audit.record(
            actor, "role.grant", f"member:{member_id}", role=str(role), unit_id=unit_id
        )
        return True

    async def revoke(self, member_id: int, role: Role, unit_id: int | None, *, actor: str) -> bool:
        """Take the role away; False if the member did not have it there."""
        _check_unit(role, unit_id)
        result = await self._session.execute(
            delete(RoleGrant)
            .where(RoleGrant.member_id == member_id, RoleGrant.role == role, _same_unit(unit_id))
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        await self._audit.record(
            actor, "role.revoke", f"member:{member_id}", role=str(role), unit_id=unit_id
        )
        return True

    async def list_grants(self, unit_path: str | None = None) -> list[GrantView]:
        """Every grant on the unit with this path and the units under it; with no path, every
        grant including admins'."""
        query = (
            select(RoleGrant.member_id, Member.full_name, RoleGrant.role, RoleGrant.organisation_id)
            .join(Member, Member.id == RoleGrant.member_id)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .order_by(Organisation.path.nulls_first(), RoleGrant.role, Member.full_name)
        )
        if unit_path is not None:
            query = query.where(Organisation.path.startswith(unit_path))
        rows = await self._session.execute(query)
        return [GrantView(m, name, Role(role), unit) for m, name, role, unit in rows]

    async def apply_roster(
        self,
        wanted: Mapping[int, Set[GrantKey]],
        own_units: Mapping[int, Set[int]],
        *,
        actor: str,
    ) -> tuple[int, int]:
        """Make each listed member's roster-managed grants what the roster says: grants of
        unit roles on the member's own units (`own_units`: before and after the import) and
        admin. Grants on other units (a trainer's extra units, a secretary of a committee)
        are left alone. Returns (granted, revoked); the roster import audits the totals."""
        member_ids = list(wanted)
        existing: dict[int, dict[GrantKey, int]] = {}
        for start in range(0, len(member_ids), _CHUNK):
            rows = await self._session.execute(
                select(
                    RoleGrant.id, RoleGrant.member_id, RoleGrant.role, RoleGrant.organisation_id
                ).where(RoleGrant.member_id.in_(member_ids[start : start + _CHUNK]))
            )
            for grant_id, member_id, role, unit_id in rows:
                existing.setdefault(member_id, {})[(Role(role), unit_id)] = grant_id
        now = utcnow()
        to_add: list[dict[str, object]] = []
        to_remove: list[int] = []
        for member_id, keys in wanted.items():
            held = existing.get(member_id, {})
            managed = {(role, unit) for role in UNIT_ROLES for unit in own_units[member_id]}
            managed.add((Role.ADMIN, None))
            to_remove.extend(gid for key, gid in held.items() if key in managed - keys)
            to_add.extend(
                {
                    "member_id": member_id,
                    "role": role,
                    "organisation_id": unit,
                    "granted_at": now,
                    "granted_by": actor,
                }
                for role, unit in keys - held.keys()
            )
        for start in range(0, len(to_remove), _CHUNK):
            await self._session.execute(
                delete(RoleGrant)
                .where(RoleGrant.id.in_(to_remove[start : start + _CHUNK]))
                .execution_options(synchronize_session=False)
            )
        for start in range(0, len(to_add), _CHUNK):
            await self._session.execute(insert(RoleGrant), to_add[start : start + _CHUNK])
        return len(to_add), len(to_remove)
