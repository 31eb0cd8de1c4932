"""The console adapter: chat with the bot in a terminal, as a demo member. Buttons are shown
as a numbered list and a digit selects one, the same way Zalo works."""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.channels.choices import numbered
from bot.chat import ChatCore
from bot.messages import Channel, ChannelTraits, Incoming, Reply
from bot.texts import text

CONSOLE_TRAITS = ChannelTraits(has_buttons=False, text_limit=4096)
CONSOLE_USER = "demo"


def render(reply: Reply, choices: list[str]) -> str:
    lines = [text("console.media")] if reply.media is not None else []
    lines.append(reply.text)
    if choices:
        lines.append("")
        lines.extend(f"  {choice}" for choice in choices)
    if reply.document is not None:
        lines += [
            "",
            f"[{reply.document.filename}]",
            reply.document.content.decode(errors="replace"),
        ]
    return "\n".join(lines)


class ConsoleChat:
    def __init__(self, core: ChatCore, stdin: TextIO, stdout: TextIO) -> None:
        self._core = core
        self._stdin = stdin
        self._stdout = stdout

    async def _send(self, message: str) -> None:
        incoming = Incoming(Channel.CONSOLE, CONSOLE_USER, CONSOLE_USER, text=message)
        for reply, choices in numbered(await self._core.handle(incoming, CONSOLE_TRAITS)):
            self._stdout.write(f"\n{render(reply, choices)}\n")
        self._stdout.flush()

    async def run(self) -> None:
        """Greets with /start, then answers each line until end of input."""
        self._stdout.write(text("console.intro") + "\n")
        await self._send("/start")
        while True:
            self._stdout.write("\n> ")
            self._stdout.flush()
            line = await asyncio.to_thread(self._stdin.readline)
            if not line:
                self._stdout.write("\n")
                return
            await self._send(line.rstrip("\n"))
