"""/dangnhap: a one-time sign-in link to the web console, for a linked member with a
secretary, trainer or admin role (every role may view reports: the console's least)."""

from __future__ import annotations

from bot.messages import Reply
from bot.router import Context, Router
from bot.services.permissions import Action, Actor
from bot.services.web_logins import LINK_VALID_FOR
from bot.texts import text
from handlers.guards import requires


@requires(Action.VIEW_REPORTS, refusal="weblogin.not_allowed")
async def web_login(ctx: Context, actor: Actor) -> list[Reply]:
    services = ctx.services
    url = await services.web_logins.link(
        actor.member.id, issued_by=actor.ref, base_url=services.settings.web_base_url
    )
    minutes = int(LINK_VALID_FOR.total_seconds() // 60)
    return [Reply(text("weblogin.link", url=url, minutes=minutes))]


def register(router: Router) -> None:
    router.command("dangnhap")(web_login)
