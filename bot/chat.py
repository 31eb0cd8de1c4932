"""The chat core every adapter calls: one transaction per incoming message, the handler
the router picks (bot/router.py), and a short apology instead of a traceback when something
fails.

Words, one per idea: a *chat* is where a member writes to the bot on a messenger; a
*conversation* is what a handlers/ module holds, the exchange with members about one thing;
a *flow* is a conversation of several steps, its step and data kept in the account's
conversation state."""

from __future__ import annotations

import logging

from bot.button_data import Seal
from bot.channels.choices import picked, stored
from bot.db import Database
from bot.messages import ChannelTraits, Incoming, Reply
from bot.router import Context, Router
from bot.services import Services, Shared
from bot.texts import text

log = logging.getLogger(__name__)

# Longer messages are answered with a request to shorten them; Zalo's own limit is 2,000.
MAX_INPUT_CHARS = 2000


class ChatCore:
    def __init__(self, database: Database, router: Router, shared: Shared) -> None:
        self._database = database
        self._router = router
        self._shared = shared

    async def handle(self, incoming: Incoming, traits: ChannelTraits) -> list[Reply]:
        if incoming.text is not None and len(incoming.text) > MAX_INPUT_CHARS:
            return [Reply(text("errors.too_long", limit=MAX_INPUT_CHARS))]
        try:
            async with self._database.session() as session, session.begin():
                services = Services.for_session(session, self._shared)
                account = await services.accounts.touch(
                    incoming.channel, incoming.sender_id, incoming.chat_id
                )
                state = await services.conversations.get(account.id)
                if not traits.has_buttons and state is not None:
                    incoming = picked(incoming, state.choices)
                handler = self._router.resolve(incoming, state)
                seal = Seal(self._shared.seal_key, account.id)
                replies = await handler(
                    Context(incoming, account, state, services, traits, seal=seal)
                )
                if not traits.has_buttons:
                    await services.conversations.set_choices(account.id, stored(replies))
            if services.outbox.enqueued:
                self._shared.notify_outbox()
            if services.quizzes.scheduled or services.daily.scheduled:
                self._shared.notify_schedule()
            return replies
        except Exception:
            # The message text may hold a phone or card number: log only where it came from.
            log.exception("handler failed for a %s message", incoming.channel)
            return [Reply(text("errors.internal"))]
