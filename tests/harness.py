"""Small helpers many tests share: talking to the chat core as a member, reading
its replies, finding units and granting roles, and services for a session, as every
surface gets them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.models import ChannelAccount, Member, Organisation, RoleGrant, utcnow
from bot.services import Services, Shared
from bot.services.codes import CodeService
from bot.settings import Settings
from handlers.notices import render_notice

# A messenger with buttons that proves shared contacts: Telegram.
TRAITS = ChannelTraits(has_buttons=True, text_limit=4096, can_share_contact=True)


def services(session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> Services:
    """The services of one transaction, with the conversations' renderer for notices."""
    return Services.for_session(session, Shared(Settings(), clock=clock, render=render_notice))


async def say(
    core: ChatCore, card: str, body: str | None = None, button: str | None = None
) -> list[Reply]:
    """A text or a button press from the Telegram account whose id is the card number."""
    return await core.handle(
        Incoming(Channel.TELEGRAM, card, card, text=body, button_data=button), TRAITS
    )


def code_service(session: AsyncSession, settings: Settings | None = None) -> CodeService:
    """Activation codes as every surface gets them: keyed by the settings' secret."""
    return Services.for_session(session, Shared(settings or Settings())).codes


def labels(reply: Reply) -> list[str]:
    return [button.label for button in reply.flat_buttons]


def button(reply: Reply, label: str) -> str:
    """The data of the reply's button with that label."""
    (found,) = [b.data for b in reply.flat_buttons if b.label == label]
    return found


async def unit_named(session: AsyncSession, name: str) -> int:
    found = await session.scalar(select(Organisation.id).where(Organisation.name == name))
    assert found is not None, name
    return found


async def unit_id(database: Database, name: str) -> int:
    async with database.session() as session:
        return await unit_named(session, name)


async def grant(database: Database, card: str, role: str, unit: str | None) -> None:
    """A role for the member with that card, on the named unit (None: everywhere)."""
    organisation = None if unit is None else await unit_id(database, unit)
    async with database.session() as session, session.begin():
        member_id = await session.scalar(select(Member.id).where(Member.card_number == card))
        session.add(
            RoleGrant(
                member_id=member_id, role=role, organisation_id=organisation, granted_by="test"
            )
        )


def linked(member_id: int | None, external_id: str, channel: str = "telegram") -> ChannelAccount:
    """An account on `channel` linked to the member, its chat id its external id."""
    return ChannelAccount(
        channel=channel,
        external_id=external_id,
        chat_id=external_id,
        member_id=member_id,
        linked_at=utcnow(),
    )
