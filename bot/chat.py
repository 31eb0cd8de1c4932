"""The chat core every adapter calls: one transaction per incoming message, the handler
the router picks (bot/router.py), and a short apology instead of a traceback when something
fails.

Words, one per idea: a *chat* is where a member writes to the bot on a messenger; a
*conversation* is what a handlers/ module holds, the exchange with members about one thing;
a *flow* is a conversation of several steps, its step and data kept in the account's
conversation state."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.button_data import Seal
from bot.channels.choices import picked, stored
from bot.db import Database
from bot.messages import ChannelTraits, Incoming, Reply
from bot.metrics import Metrics, Outcome
from bot.router import Context, Router
from bot.services import Services, Shared
from bot.services.accounts import AccountView
from bot.texts import text

log = logging.getLogger(__name__)

# Longer messages are answered with a request to shorten them; Zalo's own limit is 2,000.
MAX_INPUT_CHARS = 2000


class ChatCore:
    # Counted for /metrics when the process has them (class default: a core built without
    # its __init__, as tests' stand-ins are, counts nothing).
    _metrics: Metrics | None = None

    def __init__(self, database: Database, router: Router, shared: Shared) -> None:
        self._database = database
        self._router = router
        self._shared = shared
        self._metrics = shared.metrics

    async def answer(
        self,
        incoming: Incoming,
        traits: ChannelTraits,
        send: Callable[[str, list[Reply]], Awaitable[None]],
        *,
        arrived: float | None = None,
    ) -> None:
        """Handles an update and sends the replies with `send`, counted for /metrics from
        `arrived` (time.perf_counter(); by default, now). Raises what `send` raises."""
        start = time.perf_counter() if arrived is None else arrived
        replies = await self.handle(incoming, traits)
        # The apology alone is what a failed handler answers (handle() below).
        failed = len(replies) == 1 and replies[0].text == text("errors.internal")
        metrics = self._metrics
        try:
            await send(incoming.chat_id, replies)
        except BaseException:
            if metrics is not None:
                metrics.update_handled(
                    incoming.channel, Outcome.ERROR, seconds=time.perf_counter() - start
                )
            raise
        if metrics is not None:
            outcome = Outcome.ERROR if failed else Outcome.ANSWERED
            metrics.update_handled(incoming.channel, outcome, seconds=time.perf_counter() - start)

    def ignored(self, channel: str) -> None:
        """An update not for the bot (a group chat, an edit, an unknown kind)."""
        if self._metrics is not None:
            self._metrics.update_handled(channel, Outcome.IGNORED, seconds=0.0)

    async def handle(self, incoming: Incoming, traits: ChannelTraits) -> list[Reply]:
        account_id: int | None = None
        try:
            incoming = await self._prepared(incoming)
            async with self._database.session() as session, session.begin():
                services = Services.for_session(session, self._shared)
                account, state = await services.accounts.touch_with_state(
                    incoming.channel, incoming.sender_id, incoming.chat_id
                )
                services.conversations.known(account.id, state)
                account_id = account.id
                replies, keep_choices = await self._replies(incoming, traits, account, services)
                if not traits.has_buttons and not keep_choices:
                    await services.conversations.set_choices(account.id, stored(replies))
                # A stored update (bot/channels/intake.py) is done with what it changed.
                await services.intake.finish_in(services.clock())
            if services.outbox.enqueued:
                self._shared.notify_outbox()
            if services.quizzes.scheduled or services.daily.changed:
                self._shared.notify_schedule()
            return replies
        except Exception:
            # The message text may hold a phone or card number: log only where it came from.
            log.exception("handler failed for a %s message", incoming.channel)
            if account_id is not None and not traits.has_buttons:
                await self._forget_choices(account_id)
            if self._metrics is not None:
                self._metrics.handler_error(incoming.channel)
            return [Reply(text("errors.internal"))]

    async def _prepared(self, incoming: Incoming) -> Incoming:
        """The message as its flow's preparer makes it, before the handler's transaction:
        slow work (a sent file fetched and read) must not hold one, as on SQLite it holds
        the process's one connection and no other chat would be answered meanwhile."""
        if incoming.media is None:
            return incoming
        async with self._database.session() as session, session.begin():
            flow = await Services.for_session(session, self._shared).conversations.flow_of(
                incoming.channel, incoming.sender_id
            )
        prepare = self._router.preparer(flow)
        return incoming if prepare is None else await prepare(incoming, self._shared.files)

    async def _replies(
        self, incoming: Incoming, traits: ChannelTraits, account: AccountView, services: Services
    ) -> tuple[list[Reply], bool]:
        """The replies, and whether the choices shown before stay: after a question asked
        aside from a flow, the numbers the flow showed still answer it."""
        if incoming.text is not None and len(incoming.text) > MAX_INPUT_CHARS:
            return [Reply(text("errors.too_long", limit=MAX_INPUT_CHARS))], False
        state = await services.conversations.get(account.id)
        if not traits.has_buttons and state is not None:
            incoming = picked(incoming, state.choices)
        seal = Seal(self._shared.seal_key, account.id)
        ctx = Context(incoming, account, state, services, traits, seal=seal)
        aside = self._router.aside(ctx)
        if aside is None:
            return await self._router.resolve(incoming, state)(ctx), False
        replies = await self._router.answer_aside(ctx, aside)
        if traits.has_buttons:
            return replies, False
        # Numbered, the answer's buttons would replace the flow's numbers: shown without.
        return [replace(reply, buttons=()) for reply in replies], True

    async def _forget_choices(self, account_id: int) -> None:
        """After a failure, numbers typed next must not pick from the message before it."""
        try:
            async with self._database.session() as session, session.begin():
                await Services.for_session(session, self._shared).conversations.forget_choices(
                    account_id
                )
        except Exception:
            log.exception("could not forget the choices after a failure")
