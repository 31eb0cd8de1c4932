"""The console as a messenger for the outbox. A message for the demo member at the keyboard
shows in the chat as it arrives; messages for the other demo members are counted, and each
burst is summarised in one line per message ("→ 11 đảng viên demo đã nhận: …")."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from bot.channels.choices import numbered
from bot.channels.console import render
from bot.channels.delivery import RateLimits
from bot.messages import Channel, Reply
from bot.texts import text

PREVIEW_CHARS = 60
# A first line shorter than this ("📢 THÔNG BÁO") is a heading: the next line says more.
HEADING_CHARS = 20


def preview(body: str) -> str:
    """The start of a message, on one line."""
    lines = [" ".join(line.split()) for line in body.splitlines() if line.strip()] or [""]
    shown = lines[0] if len(lines[0]) >= HEADING_CHARS else ": ".join(lines[:2])
    return shown if len(shown) <= PREVIEW_CHARS else shown[: PREVIEW_CHARS - 1] + "…"


class ConsoleSender:
    channel = Channel.CONSOLE
    # Like Zalo: the dispatcher stores the numbered choices, so a digit answers them.
    numbered_choices = True
    # Nothing leaves the machine: no messenger's limit to keep.
    limits = RateLimits(per_second=200.0, burst=50, per_chat_interval=0.0)

    def __init__(self, show: Callable[[str], None], *, quiet_after: float = 0.3) -> None:
        self.chat_id: str | None = None  # the console account at the keyboard
        self._show = show
        self._quiet_after = quiet_after
        self._others: dict[str, int] = {}  # message preview → demo members who got it
        self._summary: asyncio.TimerHandle | None = None
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        self.flush()

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        if chat_id == self.chat_id:
            ((_, choices),) = numbered([reply])
            self._show(f"{text('console.arrived')}\n{render(reply, choices)}")
        else:
            key = preview(reply.text)
            self._others[key] = self._others.get(key, 0) + 1
            # Summarised once the burst is over: a notice to a unit goes out in one batch.
            if self._summary is not None:
                self._summary.cancel()
            self._summary = asyncio.get_running_loop().call_later(self._quiet_after, self.flush)
        return str(next(self._ids))

    async def edit(self, chat_id: str, message_id: str, new_text: str) -> None:
        """The console cannot change what it printed: a progress update is a new line."""
        if chat_id == self.chat_id:
            self._show(f"{text('console.arrived')}\n{new_text}")

    def flush(self) -> None:
        """Prints the summary of what the other demo members received so far."""
        if self._summary is not None:
            self._summary.cancel()
            self._summary = None
        for key, count in self._others.items():
            self._show(text("console.delivered", count=count, preview=key))
        self._others.clear()
