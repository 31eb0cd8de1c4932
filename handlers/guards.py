"""Guards the conversations share: each hands the handler what it checked, non-optional.
`members_only` gives the linked member; `requires(action)` gives the actor, the member with
the scope the action may be done in (one grants query per message), refusing members whose
grants allow it nowhere."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from bot.messages import Reply
from bot.router import Context, Handler
from bot.services.accounts import MemberView
from bot.services.permissions import Action, Actor
from bot.texts import text

MemberHandler = Callable[[Context, MemberView], Awaitable[list[Reply]]]
ActorHandler = Callable[[Context, Actor], Awaitable[list[Reply]]]


def members_only(handler: MemberHandler) -> Handler:
    """Only an account linked to a roster member may use this."""

    @functools.wraps(handler)
    async def guarded(ctx: Context) -> list[Reply]:
        if ctx.account.member is None:
            return [Reply(text("link.required"))]
        return await handler(ctx, ctx.account.member)

    return guarded


def requires(
    action: Action, refusal: str = "secretary.not_allowed"
) -> Callable[[ActorHandler], Handler]:
    """Only a linked member whose grants allow `action` somewhere; others are told
    `refusal` (a text key)."""

    def decorate(handler: ActorHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(ctx: Context) -> list[Reply]:
            member = ctx.account.member
            if member is None:
                return [Reply(text("link.required"))]
            actor = await ctx.services.permissions.actor(member, action)
            if actor.scope.empty:
                return [Reply(text(refusal))]
            return await handler(ctx, actor)

        return guarded

    return decorate
