"""Conversation state per account: the current flow and step, and the numbered choices
last shown on a messenger without buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChannelAccount, ConversationState, utcnow


def _insert(session: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class FlowState:
    flow: str | None
    step: str | None
    data: dict[str, Any] = field(default_factory=dict)
    choices: tuple[str, ...] = ()


class ConversationService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Each account's row as read once in this transaction to be changed, None when it
        # has none yet; and its state as the message's first statement read it
        # (AccountService.touch_with_state): a message reads its state, may change it and
        # stores choices, with no query of its own unless it changes the flow.
        self._rows: dict[int, ConversationState | None] = {}
        self._known: dict[int, FlowState | None] = {}

    def known(self, account_id: int, state: FlowState | None) -> None:
        """The account's state (or None: it has no row) as read by another query of this
        transaction, so it is not read again."""
        self._known[account_id] = state

    def forget_read(self, account_id: int) -> None:
        """The account's row was deleted by a statement (erasure): read it again if needed."""
        self._rows.pop(account_id, None)
        self._known.pop(account_id, None)

    async def _read(self, account_id: int) -> ConversationState | None:
        """The row, to change it."""
        if account_id not in self._rows:
            if account_id in self._known and self._known[account_id] is None:
                self._rows[account_id] = None
            else:
                self._rows[account_id] = await self._session.get(ConversationState, account_id)
        return self._rows[account_id]

    async def flow_of(self, channel: str, external_id: str) -> str | None:
        """The flow a messenger account is in, read without touching the account."""
        return await self._session.scalar(
            select(ConversationState.flow)
            .join(ChannelAccount, ChannelAccount.id == ConversationState.account_id)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
        )

    async def get(self, account_id: int) -> FlowState | None:
        if account_id not in self._rows and account_id in self._known:
            return self._known[account_id]
        row = await self._read(account_id)
        if row is None:
            return None
        return FlowState(row.flow, row.step, dict(row.data or {}), tuple(row.choices or ()))

    async def _row(self, account_id: int) -> ConversationState:
        row = await self._read(account_id)
        if row is None:
            # Inserted unless there: the dispatcher, storing the choices of a message it
            # just delivered to this account, may insert it in another transaction at once
            # (on PostgreSQL; SQLite runs one transaction at a time).
            await self._session.execute(
                _insert(self._session)(ConversationState)
                .values(account_id=account_id, data={}, choices=[], updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=[ConversationState.account_id])
            )
            row = await self._session.get(ConversationState, account_id, populate_existing=True)
            assert row is not None
            self._rows[account_id] = row
        return row

    async def start(
        self, account_id: int, flow: str, step: str, data: dict[str, Any] | None = None
    ) -> None:
        row = await self._row(account_id)
        row.flow, row.step, row.data = flow, step, dict(data or {})

    async def clear(self, account_id: int) -> bool:
        """Leave any flow; True if there was one."""
        current = await self.get(account_id)
        if current is None or current.flow is None:
            return False
        row = await self._read(account_id)
        if row is None or row.flow is None:
            return False
        row.flow, row.step, row.data = None, None, {}
        return True

    async def forget_choices(self, account_id: int) -> None:
        """No choices shown: only an account that has a row has any to forget."""
        await self._session.execute(
            update(ConversationState)
            .where(ConversationState.account_id == account_id)
            .values(choices=[])
        )

    async def set_choices(self, account_id: int, choices: list[str]) -> None:
        current = await self.get(account_id)
        if current is None and not choices:
            return  # no row holds no choices
        if current is not None and list(current.choices) == choices:
            return
        if current is not None and account_id not in self._rows:
            # Only the choices change (a messenger without buttons, after each answer):
            # written without reading the row.
            await self._session.execute(
                update(ConversationState)
                .where(ConversationState.account_id == account_id)
                .values(choices=choices, updated_at=utcnow())
            )
            self._known[account_id] = replace(current, choices=tuple(choices))
            return
        row = await self._row(account_id)
        if list(row.choices or []) != choices:
            row.choices = choices
