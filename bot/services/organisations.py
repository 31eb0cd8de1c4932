"""The organisation tree: units found or created by their path of names."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member, Organisation

PATH_SEPARATOR = "/"


def split_unit_path(text: str) -> list[str]:
    """ "Đảng bộ tỉnh / Chi bộ A" → ["Đảng bộ tỉnh", "Chi bộ A"] (blank levels dropped)."""
    return [" ".join(part.split()) for part in text.split(PATH_SEPARATOR) if part.strip()]


class OrganisationService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure_path(self, names: Sequence[str]) -> Organisation:
        """The unit at this path of names from the root, creating missing levels."""
        if not names:
            raise ValueError("a unit path needs at least one name")
        parent: Organisation | None = None
        for name in names:
            parent_filter = (
                Organisation.parent_id.is_(None)
                if parent is None
                else Organisation.parent_id == parent.id
            )
            unit = await self._session.scalar(
                select(Organisation).where(parent_filter, Organisation.name == name)
            )
            if unit is None:
                unit = Organisation(name=name, parent_id=None if parent is None else parent.id)
                self._session.add(unit)
                await self._session.flush()
                unit.path = f"{'/' if parent is None else parent.path}{unit.id}/"
            parent = unit
        assert parent is not None
        return parent


def unit_key(name: str) -> str:
    """How unit names are compared: one spelling of each letter (NFC), any case, any spacing."""
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


@dataclass(frozen=True)
class Unit:
    id: int
    parent_id: int | None
    name: str
    path: str
    active: bool
    merged_into_id: int | None

    @property
    def depth(self) -> int:
        """0 for a root unit."""
        return self.path.strip("/").count("/")


class UnitTree:
    """The whole organisation tree in memory: a few thousand rows, read with one query, for
    commands that resolve many names paths or walk the tree."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self.by_id: dict[int, Unit] = {}
        self._children: dict[int | None, list[Unit]] = {}
        self._by_key: dict[tuple[int | None, str], Unit] = {}
        for unit in units:
            self.add(unit)

    def add(self, unit: Unit) -> None:
        self.by_id[unit.id] = unit
        self._children.setdefault(unit.parent_id, []).append(unit)
        self._by_key.setdefault((unit.parent_id, unit_key(unit.name)), unit)

    def child(self, parent_id: int | None, name: str) -> Unit | None:
        return self._by_key.get((parent_id, unit_key(name)))

    def children(self, parent_id: int | None) -> list[Unit]:
        return sorted(self._children.get(parent_id, []), key=lambda u: unit_key(u.name))

    def path_of(self, unit_id: int | None) -> str:
        """The id path of a unit, "/" for None (above the roots): a child's path extends it."""
        return PATH_SEPARATOR if unit_id is None else self.by_id[unit_id].path

    def find(self, names: Sequence[str]) -> Unit | None:
        """The unit at this names path from the root, merged or not."""
        unit: Unit | None = None
        for name in names:
            unit = self.child(None if unit is None else unit.id, name)
            if unit is None:
                return None
        return unit

    def names_path(self, unit_id: int) -> str:
        """ "Đảng bộ tỉnh/Đảng bộ xã A/Chi bộ thôn 1", as the roster and the commands write it."""
        unit = self.by_id[unit_id]
        return PATH_SEPARATOR.join(self.by_id[int(i)].name for i in unit.path.strip("/").split("/"))

    def subtree_totals(self, direct: Mapping[int, int]) -> dict[int, int]:
        """Per-unit counts summed over each unit and every unit under it."""
        totals: dict[int, int] = {}
        for unit_id, count in direct.items():
            for ancestor in self.by_id[unit_id].path.strip("/").split("/"):
                totals[int(ancestor)] = totals.get(int(ancestor), 0) + count
        return totals

    def subtree(self, unit_id: int | None) -> list[Unit]:
        """The unit and everything under it (the whole tree for None), in outline order:
        each unit followed by its children."""
        found: list[Unit] = []
        stack = [self.by_id[unit_id]] if unit_id is not None else self.children(None)[::-1]
        while stack:
            unit = stack.pop()
            found.append(unit)
            stack.extend(self.children(unit.id)[::-1])
        return found


async def load_tree(session: AsyncSession) -> UnitTree:
    rows = await session.execute(
        select(
            Organisation.id,
            Organisation.parent_id,
            Organisation.name,
            Organisation.path,
            Organisation.active,
            Organisation.merged_into_id,
        ).order_by(Organisation.id)
    )
    return UnitTree(Unit(*row) for row in rows)


async def member_counts(session: AsyncSession) -> dict[int, int]:
    """Active members directly in each unit that has any: one grouped query."""
    rows = await session.execute(
        select(Member.organisation_id, func.count())
        .where(Member.active)
        .group_by(Member.organisation_id)
    )
    return {unit_id: count for unit_id, count in rows}
