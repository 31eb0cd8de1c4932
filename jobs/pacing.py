"""Spacing sends to stay inside a messenger's limits: an average rate with short bursts
(the generic cell rate algorithm), a minimum gap per chat, and a pause after a 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.channels.delivery import RateLimits


class Pacer:
    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / limits.per_second
        self._tolerance = (max(limits.burst, 1) - 1) * self._interval
        self._per_chat = limits.per_chat_interval
        self._clock = clock
        self._sleep = sleep
        self._arrival = 0.0  # theoretical arrival time of the next send
        self._paused_until = 0.0
        self._chat_next: dict[str, float] = {}

    def _reserve(self, chat_id: str) -> float:
        """The moment this send may start; reserving is synchronous, so no two sends take
        the same slot."""
        now = self._clock()
        start = max(
            now,
            self._arrival - self._tolerance,
            self._paused_until,
            self._chat_next.get(chat_id, 0.0),
        )
        self._arrival = max(self._arrival, start) + self._interval
        self._chat_next[chat_id] = start + self._per_chat
        if len(self._chat_next) > 10_000:  # forget chats whose gap has long passed
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return start

    async def wait_turn(self, chat_id: str) -> None:
        delay = self._reserve(chat_id) - self._clock()
        if delay > 0:
            await self._sleep(delay)
        # A pause that began while this send waited holds it back too.
        while (delay := self._paused_until - self._clock()) > 0:
            await self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """The messenger said 429: nothing goes out until `retry_after` has passed."""
        until = self._clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._arrival = max(self._arrival, until)
