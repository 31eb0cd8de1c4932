"""What the commands that work on the database share: who is acting, as the audit log names
them; the one transaction a command's work runs in, on a database known to be there and
migrated; and the services for that transaction, built the one way the chat builds them."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.settings import load_settings
from bot.migrate import open_database
from bot.services import Services, Shared
from handlers.notices import render_notice

T = TypeVar("T")


def operator() -> str:
    """The operating-system user running the command: the actor the audit log records."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def shared() -> Shared:
    """What the services of a command share: no handbook index (commands never search it;
    `sotay ask` builds its own), and the chat's words for the notices a command queues."""
    return Shared(load_settings(), render=render_notice)


def services_for(session: AsyncSession) -> Services:
    return Services.for_session(session, shared())


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """A session on SOTAY_DATABASE_URL in one transaction: committed when the block ends,
    rolled back (nothing written) if it raises."""
    async with open_database(load_settings()) as database:
        async with database.session() as session, session.begin():
            yield session


def run_in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with transaction() as session:
            return await work(session)

    return asyncio.run(main())
