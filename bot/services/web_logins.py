"""One-time sign-in links to the web console, and the sessions they open.

A link carries a random token; only its keyed hash is stored, so someone who reads the database
cannot sign in with it. A link works once, within LINK_VALID_FOR, for an active member who
holds a role. The row it marks then stands for the session: the cookie names it, and
signing out ends it here, so a copied cookie dies with it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keys import Keys, Purpose
from bot.models import Member, WebLogin
from bot.services.audit import AuditService
from bot.services.permissions import PermissionService
from bot.services.roster_file import canonical_card
from bot.web.paths import login_url

LINK_VALID_FOR = timedelta(minutes=5)
# A session that saw no request for this long is over.
IDLE_TIMEOUT = timedelta(minutes=15)


def hash_token(keys: Keys, token: str) -> str:
    return keys.digest(Purpose.WEB_LOGINS, token)


class NoConsoleAccess(LookupError):
    """No active member with that card, or one without a role the console serves."""


class WebLoginService:
    def __init__(
        self,
        session: AsyncSession,
        audit: AuditService,
        clock: Callable[[], datetime],
        keys: Keys,
    ) -> None:
        self._session = session
        self._audit = audit
        self._clock = clock
        self._keys = keys

    async def member_by_card(self, card_text: str) -> int:
        """The active member with this card who holds a role; NoConsoleAccess otherwise."""
        member_id = await self._session.scalar(
            select(Member.id).where(
                Member.card_number == canonical_card(card_text), Member.active.is_(True)
            )
        )
        if member_id is None or not await PermissionService(self._session).grants(member_id):
            raise NoConsoleAccess("no active member with a role has that card")
        return member_id

    async def issue(self, member_id: int, *, issued_by: str) -> str:
        """A new sign-in token for the member (NoConsoleAccess without a role)."""
        if not await PermissionService(self._session).grants(member_id):
            raise NoConsoleAccess(f"member {member_id} holds no role")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._session.add(
            WebLogin(
                member_id=member_id,
                token_hash=hash_token(self._keys, token),
                created_at=now,
                expires_at=now + LINK_VALID_FOR,
                issued_by=issued_by,
            )
        )
        await self._audit.record(issued_by, "web.link", f"member:{member_id}")
        return token

    async def link(self, member_id: int, *, issued_by: str, base_url: str) -> str:
        """A sign-in link for the member to the console at `base_url`."""
        return login_url(base_url, await self.issue(member_id, issued_by=issued_by))

    async def redeem(self, token: str) -> tuple[int, int] | None:
        """(session id, member id) for a valid token, marking it used; None for a token that
        is unknown, used, expired, or whose member left the roster. Atomic: of two
        concurrent redemptions only one signs in."""
        now = self._clock()
        found = (
            await self._session.execute(
                update(WebLogin)
                .where(
                    WebLogin.token_hash == hash_token(self._keys, token),
                    WebLogin.used_at.is_(None),
                    WebLogin.expires_at > now,
                    WebLogin.member_id.in_(select(Member.id).where(Member.active)),
                )
                .values(used_at=now)
                .returning(WebLogin.id, WebLogin.member_id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if found is None:
            return None
        login_id, member_id = found
        await self._audit.record(f"member:{member_id}", "web.login", f"web_session:{login_id}")
        return login_id, member_id

    async def session_member(self, login_id: int) -> int | None:
        """The member of an open session: signed in, not signed out, still on the roster."""
        return await self._session.scalar(
            select(WebLogin.member_id)
            .join(Member, Member.id == WebLogin.member_id)
            .where(
                WebLogin.id == login_id,
                WebLogin.used_at.isnot(None),
                WebLogin.ended_at.is_(None),
                Member.active.is_(True),
            )
        )

    async def end(self, login_id: int) -> None:
        member_id = await self.session_member(login_id)
        if member_id is None:
            return
        await self._session.execute(
            update(WebLogin).where(WebLogin.id == login_id).values(ended_at=self._clock())
        )
        await self._audit.record(f"member:{member_id}", "web.logout", f"web_session:{login_id}")
