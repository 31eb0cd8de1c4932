"""/dangnhap: a one-time sign-in link to the web console, for a linked member with a
secretary, trainer or admin role."""

from __future__ import annotations

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.web_logins import LINK_VALID_FOR, NoConsoleAccess
from bot.texts import text
from handlers.guards import members_only


@members_only
async def web_login(ctx: Context, member: MemberView) -> list[Reply]:
    services = ctx.services
    try:
        url = await services.web_logins.link(
            member.id, issued_by=f"member:{member.id}", base_url=services.settings.web_base_url
        )
    except NoConsoleAccess:
        return [Reply(text("weblogin.not_allowed"))]
    minutes = int(LINK_VALID_FOR.total_seconds() // 60)
    return [Reply(text("weblogin.link", url=url, minutes=minutes))]


def register(router: Router) -> None:
    router.command("dangnhap")(web_login)
