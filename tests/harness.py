"""Small helpers many tests share: services for a session, as every surface gets them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import utcnow
from bot.services import Services, Shared
from bot.settings import Settings
from handlers.notices import render_notice


def services(session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> Services:
    """The services of one transaction, with the conversations' renderer for notices."""
    return Services.for_session(session, Shared(Settings(), clock=clock, render=render_notice))
