"""Importing the roster the organisation committee keeps in a spreadsheet, read by
bot/services/roster_file.py. Applying writes in bulk (a province has 100,000 members), keyed
on the card number: a re-import updates, never duplicates. Units missing from the tree are
created."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from bot.models import Member, Organisation
from bot.services.audit import AuditService
from bot.services.organisations import PATH_SEPARATOR, Unit, UnitTree, load_tree, unit_key
from bot.services.permissions import Role, Scope
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
OUTSIDE_UNIT = "unit outside your scope"
OUTSIDE_MEMBER = "the member belongs to a unit outside your scope"


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
class MemberChange:
    """One member a file would add, update, move or retire: what a preview lists."""

    line: int  # 0 for a member retired (on no line)
    full_name: str
    unit: str  # names path after the import
    was_unit: str | None = None  # names path before, for a move


@dataclass
class RosterPreview:
    """What importing a file would do, computed without writing anything."""

    added: list[MemberChange] = field(default_factory=list)
    updated: list[MemberChange] = field(default_factory=list)
    moved: list[MemberChange] = field(default_factory=list)
    leaving: list[MemberChange] = field(default_factory=list)
    unchanged: int = 0
    units_created: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


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
    sponsor1_card: str | None
    sponsor2_card: str | None


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
        scope: Scope | None = None,
    ) -> ImportSummary:
        """Write the good rows. With problems (also units that were merged away, and rows
        outside `scope`) and not skip_invalid, raises RosterRejected before writing anything.
        With sync, active members (of `scope`, if given) whose card is on no line of the file
        become inactive."""
        if sync and not roster.cards_seen:
            raise RosterFileError("the file lists no members: --sync would empty the roster")
        tree = await load_tree(self._session)
        stored = await self._stored_members()
        rows, problems = _checked_rows(roster, tree, stored, scope)
        summary = ImportSummary(problems=problems)
        if summary.problems and not skip_invalid:
            raise RosterRejected(summary.problems)
        summary.rows = len(rows)

        units, summary.units_created = await self._ensure_units(tree, rows)
        new, changed = _changes(rows, stored, units, roster.columns, now)
        summary.created, summary.updated = len(new), len(changed)
        summary.unchanged = len(rows) - len(new) - len(changed)
        retired = [m.id for m in _leaving(roster, tree, stored, scope)] if sync else []
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

    async def preview(
        self, roster: ParsedRoster, *, sync: bool, scope: Scope | None = None
    ) -> RosterPreview:
        """What import_roster with these arguments would do, without writing anything."""
        tree = await load_tree(self._session)
        stored = await self._stored_members()
        rows, problems = _checked_rows(roster, tree, stored, scope)
        preview = RosterPreview(problems=problems)
        missing: set[str] = set()
        for row in rows:
            unit = tree.find(row.unit_path)
            names = PATH_SEPARATOR.join(row.unit_path)
            if unit is None:
                missing.add(names)
            before = stored.get(row.card_number)
            change = MemberChange(row.line, row.full_name, names)
            if before is None:
                preview.added.append(change)
            elif unit is None or unit.id != before.organisation_id:
                was = tree.names_path(before.organisation_id)
                preview.moved.append(replace(change, was_unit=was))
            elif _differs(row, before, roster.columns):
                preview.updated.append(change)
            else:
                preview.unchanged += 1
        if sync and roster.cards_seen:
            preview.leaving = [
                MemberChange(0, m.full_name, tree.names_path(m.organisation_id))
                for m in _leaving(roster, tree, stored, scope)
            ]
        preview.units_created = sorted(missing)
        return preview

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
                Member.sponsor1_card,
                Member.sponsor2_card,
            )
        )
        return {card: _Stored(*rest) for card, *rest in result}

    async def _insert(self, new: list[dict[str, Any]], bar: tqdm[Any]) -> dict[str, int]:
        """Insert members in chunks; their ids by card number."""
        ids: dict[str, int] = {}
        for start in range(0, len(new), _CHUNK):
            chunk = new[start : start + _CHUNK]
            result = await self._session.execute(
                insert(Member).returning(Member.id, Member.card_number), chunk
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
            **_probation(row, before, columns),
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


def _probation(
    row: RosterRow, before: _Stored | None, columns: frozenset[Column]
) -> dict[str, Any]:
    """The admission date and sponsors, each as the file says if it has the column."""
    given = {
        "admission_date": (Column.ADMISSION_DATE, row.admission_date),
        "sponsor1_card": (Column.SPONSOR_1, row.sponsor_cards[0]),
        "sponsor2_card": (Column.SPONSOR_2, row.sponsor_cards[1]),
    }
    return {
        key: value if column in columns or before is None else getattr(before, key)
        for key, (column, value) in given.items()
    }


def _by_line(problem: RowProblem) -> int:
    return problem.line


def _differs(row: RosterRow, before: _Stored, columns: frozenset[Column]) -> bool:
    """A listed member whose stored fields the file would change (their unit aside)."""
    return (
        row.full_name != before.full_name
        or not before.active
        or (Column.BIRTH_DATE in columns and row.birth_date != before.birth_date)
        or (Column.PHONE in columns and row.phone != before.phone)
        or (Column.TYPE in columns and row.probationary != before.probationary)
        or any(
            before_value != value for before_value, value in _probation_pairs(row, before, columns)
        )
    )


def _probation_pairs(
    row: RosterRow, before: _Stored, columns: frozenset[Column]
) -> list[tuple[object, object]]:
    after = _probation(row, before, columns)
    return [(getattr(before, key), value) for key, value in after.items()]


def _leaving(
    roster: ParsedRoster, tree: UnitTree, stored: dict[str, _Stored], scope: Scope | None
) -> list[_Stored]:
    """The active members (of the scope) on no line of the file: a sync retires them."""
    return [
        m
        for card, m in stored.items()
        if m.active
        and card not in roster.cards_seen
        and (scope is None or scope.contains(tree.path_of(m.organisation_id)))
    ]


def _checked_rows(
    roster: ParsedRoster, tree: UnitTree, stored: dict[str, _Stored], scope: Scope | None
) -> tuple[list[RosterRow], list[RowProblem]]:
    """The rows that may be written, and every problem by line: the file's own, units
    merged away, and rows outside the scope."""
    rows, problems = _rows_in_active_units(roster.rows, tree)
    problems = roster.problems + problems
    if scope is not None and not scope.everywhere:
        inside: list[RosterRow] = []
        for row in rows:
            reason = _outside(row, tree, stored, scope)
            if reason is None:
                inside.append(row)
            else:
                problems.append(RowProblem(row.line, reason))
        rows = inside
    return rows, sorted(problems, key=_by_line)


def _outside(
    row: RosterRow, tree: UnitTree, stored: dict[str, _Stored], scope: Scope
) -> str | None:
    """Why a row lies outside the scope, or None: its unit (or the nearest existing unit
    above a new one) and the member's current unit must both be in it."""
    unit = None
    for name in row.unit_path:
        below = tree.child(None if unit is None else unit.id, name)
        if below is None:
            break
        unit = below
    if unit is None or not scope.contains(unit.path):
        return OUTSIDE_UNIT
    before = stored.get(row.card_number)
    if before is not None and not scope.contains(tree.path_of(before.organisation_id)):
        return OUTSIDE_MEMBER
    return None


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
