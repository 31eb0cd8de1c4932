"""Domain services. Handlers reach the database only through these, one set per message."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.accounts import AccountService
from bot.services.audit import AuditService
from bot.services.conversations import ConversationService
from bot.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: AccountService
    conversations: ConversationService
    audit: AuditService

    @classmethod
    def for_session(cls, session: AsyncSession, settings: Settings) -> Services:
        return cls(
            settings=settings,
            accounts=AccountService(session),
            conversations=ConversationService(session),
            audit=AuditService(session),
        )
