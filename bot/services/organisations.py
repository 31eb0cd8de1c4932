"""The organisation tree: units found or created by their path of names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Organisation

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
