"""Messages from different chats are answered at the same time; messages from one chat one
after another, in the order they came (a double tap, or a contact after the card number,
must not overtake the message before it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# How many messages a process answers at once. Each holds a database connection while its
# transaction runs; the rest wait their turn in memory.
CONCURRENT_UPDATES = 64


class ChatTurns:
    """One FIFO lock per chat that has messages in hand, dropped when the last is done."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()

    @asynccontextmanager
    async def turn(self, chat: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._locks[chat]

    @property
    def chats(self) -> int:
        """How many chats have a message in hand."""
        return len(self._locks)
