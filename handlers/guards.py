"""Checks shared by several conversations."""

from __future__ import annotations

import functools

from bot.messages import Reply
from bot.router import Context, Handler
from bot.texts import text


def members_only(handler: Handler) -> Handler:
    """Only an account linked to a roster member may use this."""

    @functools.wraps(handler)
    async def guarded(ctx: Context) -> list[Reply]:
        if not ctx.account.linked:
            return [Reply(text("link.required"))]
        return await handler(ctx)

    return guarded
