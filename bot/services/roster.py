"""Importing the roster the organisation committee keeps in a spreadsheet, read by
bot/services/roster_file.py. Applying writes in bulk (a province has 100,000 members), keyed
on the card number: a re-import updates, never duplicates. Units missing from the tree are
created."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from bot.models import Member, Organisation
from bot.services.audit import AuditService
from bot.services.organisations import Unit, UnitTree, load_tree, unit_key
from bot.services.permissions import Role
from bot.services.roles import GrantKey, RoleService
from bot.services.roster_file import (
    Column,
    ParsedRoster,
    RosterFileError,
    RosterRow,
    RowProblem,
    progress,
)

_CHUNK = 2000


# --- Applying --------------------------------------------------------------------------


class RosterRejected(Exception):
    """Some rows are bad and the import was asked to write all or nothing: nothing written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} rows have problems")
        self.problems = problems


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    units_created: int = 0
    roles_granted: int = 0
    roles_revoked: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """What the audit log keeps: counts only."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "units_created": self.units_created,
            "roles_granted": self.roles_granted,
            "roles_revoked": self.roles_revoked,
            "skipped": len(self.problems),
        }


@dataclass(frozen=True)
class _Stored:
    id: int
    full_name: str
    birth_date: date | None
    phone: str | None
    organisation_id: int
    probationary: bool
    active: bool
    admission_date: date | None
    sponsor_card_1: str | None
    sponsor_card_2: str | None


class RosterService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def import_roster(
        self,
        roster: ParsedRoster,
        *,
        sync: bool,
        skip_invalid: bool,
        actor: str,
        now: datetime,
    ) -> ImportSummary:
        """Write the good rows. With problems (also units that were merged away) and not
        skip_invalid, raises RosterRejected before writing anything. With sync, active
        members whose card is on no line of the file become inactive."""
        if sync and not roster.cards_seen:
            raise RosterFileError("the file lists no members: --sync would empty the roster")
        tree = await load_tree(self._session)
        rows, unit_problems = _rows_in_active_units(roster.rows, tree)
        summary = ImportSummary(problems=sorted(roster.problems + unit_problems, key=_by_line))
        if summary.problems and not skip_invalid:
            raise RosterRejected(summary.problems)
        summary.rows = len(rows)

        units, summary.units_created = await self._ensure_units(tree, rows)
        stored = await self._stored_members()
        new, changed = _changes(rows, stored, units, roster.columns, now)
        summary.created, summary.updated = len(new), len(changed)
        summary.unchanged = len(rows) - len(new) - len(changed)
        retired = (
            [m.id for card, m in stored.items() if m.active and card not in roster.cards_seen]
            if sync
            else []
        )
        summary.deactivated = len(retired)

        with progress(len(new) + len(changed) + len(retired), "writing") as bar:
            created_ids = await self._insert(new, bar)
            for start in range(0, len(changed), _CHUNK):
                chunk = changed[start : start + _CHUNK]
                await self._session.execute(
                    update(Member).execution_options(synchronize_session=False), chunk
                )
                bar.update(len(chunk))
            for start in range(0, len(retired), _CHUNK):
                chunk_ids = retired[start : start + _CHUNK]
                await self._session.execute(
                    update(Member)
                    .where(Member.id.in_(chunk_ids))
                    .values(active=False, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                bar.update(len(chunk_ids))

        if Column.ROLE in roster.columns:
            member_ids = {card: m.id for card, m in stored.items()} | created_ids
            summary.roles_granted, summary.roles_revoked = await _apply_roles(
                self._session, rows, member_ids, stored, units, actor
            )

        await AuditService(self._session).record(
            actor, "roster.import", None, sync=sync, **summary.counts()
        )
        return summary

    async def _stored_members(self) -> dict[str, _Stored]:
        result = await self._session.execute(
            select(
                Member.card_number,
                Member.id,
                Member.full_name,
                Member.birth_date,
                Member.phone,
                Member.organisation_id,
                Member.probationary,
                Member.active,
                Member.admission_date,
                Member.sponsor_card_1,
                Member.sponsor_card_2,
            )
        )
        return {card: _Stored(*rest) for card, *rest in result}

    async def _insert(self, new: list[dict[str, Any]], bar: tqdm[Any]) -> dict[str, int]:
        """Insert members in chunks; their ids by card number."""
        ids: dict[str, int] = {}
        for start in range(0, len(new), _CHUNK):
            chunk = new[start : start + _CHUNK]
            # NULLs rendered, not left out: rows whose blank cells differ (a sponsor here, none
            # there) would otherwise split the chunk into many small statements.
            result = await self._session.execute(
                insert(Member)
                .returning(Member.id, Member.card_number)
                .execution_options(render_nulls=True),
                chunk,
            )
            ids.update((card, member_id) for member_id, card in result)
            bar.update(len(chunk))
        return ids

    async def _ensure_units(
        self, tree: UnitTree, rows: Iterable[RosterRow]
    ) -> tuple[dict[tuple[str, ...], int], int]:
        """The unit id of every names path in `rows`, creating missing units level by level
        (one insert per level); also how many were created."""
        paths = {row.unit_path for row in rows}
        resolved: dict[tuple[str, ...], int] = {}
        created = 0
        for level in range(max((len(p) for p in paths), default=0)):
            prefixes = {p[: level + 1] for p in paths if len(p) > level}
            missing: dict[tuple[int | None, str], str] = {}
            for prefix in prefixes:
                parent_id = resolved[prefix[:-1]] if level else None
                if tree.child(parent_id, prefix[-1]) is None:
                    missing.setdefault((parent_id, unit_key(prefix[-1])), prefix[-1])
            if missing:
                created += len(missing)
                await self._create_units(tree, [(p, name) for (p, _), name in missing.items()])
            for prefix in prefixes:
                parent_id = resolved[prefix[:-1]] if level else None
                unit = tree.child(parent_id, prefix[-1])
                assert unit is not None
                resolved[prefix] = unit.id
        return resolved, created

    async def _create_units(self, tree: UnitTree, units: list[tuple[int | None, str]]) -> None:
        result = await self._session.execute(
            insert(Organisation).returning(
                Organisation.id, Organisation.parent_id, Organisation.name
            ),
            [{"parent_id": parent_id, "name": name, "path": ""} for parent_id, name in units],
        )
        created = [
            Unit(unit_id, parent_id, name, f"{tree.path_of(parent_id)}{unit_id}/", True, None)
            for unit_id, parent_id, name in result
        ]
        # The path holds the unit's own id, known only now.
        await self._session.execute(
            update(Organisation).execution_options(synchronize_session=False),
            [{"id": unit.id, "path": unit.path} for unit in created],
        )
        for unit in created:
            tree.add(unit)


def _changes(
    rows: Iterable[RosterRow],
    stored: dict[str, _Stored],
    units: dict[tuple[str, ...], int],
    columns: frozenset[Column],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The members to insert and the (full) updates of those that differ. A column the file
    does not have leaves that field as it was."""
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        before = stored.get(row.card_number)
        after = {
            "full_name": row.full_name,
            "birth_date": row.birth_date
            if Column.BIRTH_DATE in columns or before is None
            else before.birth_date,
            "phone": row.phone if Column.PHONE in columns or before is None else before.phone,
            "organisation_id": units[row.unit_path],
            "probationary": row.probationary
            if Column.TYPE in columns or before is None
            else before.probationary,
            "active": True,
            "admission_date": row.admission_date
            if Column.ADMISSION_DATE in columns or before is None
            else before.admission_date,
            "sponsor_card_1": row.sponsors[0]
            if Column.SPONSOR_1 in columns or before is None
            else before.sponsor_card_1,
            "sponsor_card_2": row.sponsors[1]
            if Column.SPONSOR_2 in columns or before is None
            else before.sponsor_card_2,
        }
        if before is None:
            new.append({"card_number": row.card_number, "created_at": now, **after})
        elif any(getattr(before, key) != value for key, value in after.items()):
            changed.append({"id": before.id, "updated_at": now, **after})
    return new, changed


async def _apply_roles(
    session: AsyncSession,
    rows: Iterable[RosterRow],
    member_ids: dict[str, int],
    stored: dict[str, _Stored],
    units: dict[tuple[str, ...], int],
    actor: str,
) -> tuple[int, int]:
    """The "Vai trò" column decides each listed member's roles on their own unit (before
    and after a move) and admin; (granted, revoked)."""
    wanted: dict[int, set[GrantKey]] = {}
    own_units: dict[int, set[int]] = {}
    for row in rows:
        member_id, unit_id = member_ids[row.card_number], units[row.unit_path]
        wanted[member_id] = {(role, None if role is Role.ADMIN else unit_id) for role in row.roles}
        before = stored.get(row.card_number)
        own_units[member_id] = {unit_id} | ({before.organisation_id} if before else set())
    return await RoleService(session).apply_roster(wanted, own_units, actor=actor)


def _by_line(problem: RowProblem) -> int:
    return problem.line


def _rows_in_active_units(
    rows: list[RosterRow], tree: UnitTree
) -> tuple[list[RosterRow], list[RowProblem]]:
    """Rows whose unit path runs through a merged (inactive) unit are problems: the roster
    must name the unit it went into."""
    blocked: dict[tuple[str, ...], str] = {}
    for path in {row.unit_path for row in rows}:
        unit = None
        for depth, name in enumerate(path, start=1):
            unit = tree.child(None if unit is None else unit.id, name)
            if unit is None:
                break
            if not unit.active:
                here = "/".join(path[:depth])
                if unit.merged_into_id is not None:
                    into = tree.names_path(unit.merged_into_id)
                    blocked[path] = f"unit “{here}” was merged into “{into}”"
                else:
                    blocked[path] = f"unit “{here}” is no longer active"
                break
    good = [row for row in rows if row.unit_path not in blocked]
    problems = [RowProblem(r.line, blocked[r.unit_path]) for r in rows if r.unit_path in blocked]
    return good, problems
