"""The conversation core every adapter calls: one transaction per incoming message, the
handler the router picks, and a short apology instead of a traceback when something fails."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.button_data import Seal
from bot.db import Database
from bot.messages import Button, ChannelTraits, Incoming, Reply
from bot.router import Context, Router
from bot.services import Services, Shared
from bot.services.conversations import FlowState
from bot.texts import text

log = logging.getLogger(__name__)

# Longer messages are answered with a request to shorten them; Zalo's own limit is 2,000.
MAX_INPUT_CHARS = 2000


# Separates a button's key from its data in the stored choices; button data never holds it.
KEY_SEPARATOR = "\x1f"


def stored_choice(button: Button) -> str:
    """How a button is kept among the choices shown last: its data, after its key if any."""
    return button.data if button.key is None else f"{button.key}{KEY_SEPARATOR}{button.data}"


def _select_choice(incoming: Incoming, state: FlowState | None) -> Incoming:
    """On a messenger without buttons, a bare number picks from the list shown last, and so
    does a button's key, in any case ("b" for «B»)."""
    if state is None or not state.choices or incoming.text is None:
        return incoming
    typed = incoming.text.strip()
    stored = [choice.partition(KEY_SEPARATOR) for choice in state.choices]
    by_key = {key.casefold(): data for key, separator, data in stored if separator}
    if typed.casefold() in by_key:
        return replace(incoming, text=None, button_data=by_key[typed.casefold()])
    if typed.isdigit() and 1 <= int(typed) <= len(stored):
        key, separator, data = stored[int(typed) - 1]
        return replace(incoming, text=None, button_data=data if separator else key)
    return incoming


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
                if not traits.has_buttons:
                    incoming = _select_choice(incoming, state)
                handler = self._router.resolve(incoming, state)
                seal = Seal(self._shared.seal_key, account.id)
                replies = await handler(
                    Context(incoming, account, state, services, traits, seal=seal)
                )
                if not traits.has_buttons:
                    choices = [stored_choice(b) for reply in replies for b in reply.flat_buttons]
                    await services.conversations.set_choices(account.id, choices)
            if services.outbox.enqueued:
                self._shared.notify_outbox()
            if services.quizzes.scheduled:
                self._shared.notify_schedule()
            return replies
        except Exception:
            # The message text may hold a phone or card number: log only where it came from.
            log.exception("handler failed for a %s message", incoming.channel)
            return [Reply(text("errors.internal"))]
