"""Renaming, moving and merging units, as Vietnam's 2025 reorganisation did to whole
provinces and communes. A merged unit keeps its row, inactive and pointing at the unit it
went into, so that history which refers to it keeps its meaning. Each change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import CommitteeQuestion, Meeting, Member, Organisation, RoleGrant
from bot.services.audit import AuditService
from bot.services.organisations import PATH_SEPARATOR, Unit, unit_key

MAX_NAME_LENGTH = 200


class UnitChangeError(ValueError):
    """A change the tree cannot take; the message says why in one line."""


@dataclass(frozen=True)
class MergeResult:
    members: int
    units: int
    grants: int
    meetings: int = 0


class UnitChangeService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._audit = AuditService(session)

    async def _unit(self, unit_id: int) -> Unit:
        row = (
            await self._session.execute(
                select(
                    Organisation.id,
                    Organisation.parent_id,
                    Organisation.name,
                    Organisation.path,
                    Organisation.active,
                    Organisation.merged_into_id,
                ).where(Organisation.id == unit_id)
            )
        ).one_or_none()
        if row is None:
            raise UnitChangeError(f"no unit with id {unit_id}")
        unit = Unit(*row)
        if not unit.active:
            raise UnitChangeError(f"“{unit.name}” is no longer active (merged into another)")
        return unit

    async def _child_keys(self, parent_id: int | None, *, except_id: int | None = None) -> set[str]:
        """The compared names of the units directly under a parent (at the top for None)."""
        query = select(Organisation.name).where(
            Organisation.parent_id.is_(None)
            if parent_id is None
            else Organisation.parent_id == parent_id
        )
        if except_id is not None:
            query = query.where(Organisation.id != except_id)
        return {unit_key(name) for name in await self._session.scalars(query)}

    async def _repath(self, old_prefix: str, new_prefix: str) -> int:
        """Rewrite the path of a unit and every unit under it; returns how many."""
        result = await self._session.execute(
            update(Organisation)
            .where(Organisation.path.startswith(old_prefix))
            .values(
                path=literal(new_prefix, String)
                + func.substr(Organisation.path, len(old_prefix) + 1)
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def rename(self, unit_id: int, new_name: str, *, actor: str) -> None:
        unit = await self._unit(unit_id)
        name = " ".join(new_name.split())
        if not name or PATH_SEPARATOR in name:
            raise UnitChangeError(f"a unit name must not be empty or contain “{PATH_SEPARATOR}”")
        if len(name) > MAX_NAME_LENGTH:
            raise UnitChangeError(f"a unit name has at most {MAX_NAME_LENGTH} characters")
        if unit_key(name) in await self._child_keys(unit.parent_id, except_id=unit.id):
            raise UnitChangeError(f"a unit named “{name}” is already there")
        await self._session.execute(
            update(Organisation)
            .where(Organisation.id == unit.id)
            .values(name=name)
            .execution_options(synchronize_session=False)
        )
        await self._audit.record(
            actor, "org.rename", f"unit:{unit.id}", old_name=unit.name, new_name=name
        )

    async def move(self, unit_id: int, new_parent_id: int | None, *, actor: str) -> int:
        """Put the unit (with everything under it) under another parent, or at the top with
        None; returns how many units moved."""
        unit = await self._unit(unit_id)
        if new_parent_id == unit.parent_id:
            raise UnitChangeError(f"“{unit.name}” is already there")
        parent_path = PATH_SEPARATOR
        if new_parent_id is not None:
            parent = await self._unit(new_parent_id)
            if parent.path.startswith(unit.path):
                raise UnitChangeError("cannot move a unit into itself or a unit under it")
            parent_path = parent.path
        if unit_key(unit.name) in await self._child_keys(new_parent_id):
            raise UnitChangeError(f"a unit named “{unit.name}” is already there")
        await self._session.execute(
            update(Organisation)
            .where(Organisation.id == unit.id)
            .values(parent_id=new_parent_id)
            .execution_options(synchronize_session=False)
        )
        moved = await self._repath(unit.path, f"{parent_path}{unit.id}/")
        await self._audit.record(
            actor,
            "org.move",
            f"unit:{unit.id}",
            from_parent_id=unit.parent_id,
            to_parent_id=new_parent_id,
            units=moved,
        )
        return moved

    async def merge(self, source_id: int, target_id: int, *, actor: str) -> MergeResult:
        """Move the source's members, active child units and role grants to the target, and
        leave the source inactive with merged_into_id set."""
        if source_id == target_id:
            raise UnitChangeError("cannot merge a unit into itself")
        source = await self._unit(source_id)
        target = await self._unit(target_id)
        if target.path.startswith(source.path):
            raise UnitChangeError("cannot merge a unit into a unit under it")
        children = (
            await self._session.execute(
                select(Organisation.id, Organisation.name, Organisation.path).where(
                    Organisation.parent_id == source.id, Organisation.active
                )
            )
        ).all()
        target_keys = await self._child_keys(target.id)
        clashes = sorted(name for _, name, _ in children if unit_key(name) in target_keys)
        if clashes:
            raise UnitChangeError(
                "both units have a unit named "
                + ", ".join(f"“{name}”" for name in clashes)
                + ": rename one first (sotay org rename)"
            )

        members = await self._session.execute(
            update(Member)
            .where(Member.organisation_id == source.id)
            .values(organisation_id=target.id)
            .execution_options(synchronize_session=False)
        )
        units = 0
        for child_id, _, child_path in children:
            await self._session.execute(
                update(Organisation)
                .where(Organisation.id == child_id)
                .values(parent_id=target.id)
                .execution_options(synchronize_session=False)
            )
            units += await self._repath(child_path, f"{target.path}{child_id}/")
        grants = await self._move_grants(source.id, target.id)
        # The unit's calendar, its attendance history and its open questions go along with
        # its members.
        meetings = await self._session.execute(
            update(Meeting)
            .where(Meeting.organisation_id == source.id)
            .values(organisation_id=target.id)
            .execution_options(synchronize_session=False)
        )
        await self._session.execute(
            update(CommitteeQuestion)
            .where(CommitteeQuestion.organisation_id == source.id)
            .values(organisation_id=target.id)
            .execution_options(synchronize_session=False)
        )
        await self._session.execute(
            update(Organisation)
            .where(Organisation.id == source.id)
            .values(active=False, merged_into_id=target.id)
            .execution_options(synchronize_session=False)
        )
        result = MergeResult(
            members=int(members.rowcount),  # type: ignore[attr-defined]
            units=units,
            grants=grants,
            meetings=int(meetings.rowcount),  # type: ignore[attr-defined]
        )
        await self._audit.record(
            actor,
            "org.merge",
            f"unit:{source.id}",
            into_id=target.id,
            members=result.members,
            units=result.units,
            grants=result.grants,
            meetings=result.meetings,
        )
        return result

    async def _move_grants(self, source_id: int, target_id: int) -> int:
        """Grants on the source now hold on the target; one the member already has there is
        dropped instead (a grant is unique per member, role and unit)."""
        held = {
            (member_id, role)
            for member_id, role in await self._session.execute(
                select(RoleGrant.member_id, RoleGrant.role).where(
                    RoleGrant.organisation_id == target_id
                )
            )
        }
        duplicates = [
            grant_id
            for grant_id, member_id, role in await self._session.execute(
                select(RoleGrant.id, RoleGrant.member_id, RoleGrant.role).where(
                    RoleGrant.organisation_id == source_id
                )
            )
            if (member_id, role) in held
        ]
        if duplicates:
            await self._session.execute(
                delete(RoleGrant)
                .where(RoleGrant.id.in_(duplicates))
                .execution_options(synchronize_session=False)
            )
        moved = await self._session.execute(
            update(RoleGrant)
            .where(RoleGrant.organisation_id == source_id)
            .values(organisation_id=target_id)
            .execution_options(synchronize_session=False)
        )
        return int(moved.rowcount) + len(duplicates)  # type: ignore[attr-defined]
