"""The console adapter: chat with the bot in a terminal, as one of the demo members. Buttons
are shown as a numbered list and a digit selects one, the same way Zalo works.

In a real terminal the line is edited with prompt_toolkit, so a message that arrives while
the member types (a reminder, a notice's report) is printed above the prompt without
breaking the line being typed. When stdin or stdout is not a terminal (a pipe, a file, a
test), lines are read plainly, each echoed after its prompt so the transcript reads like
the chat."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from bot.channels.choices import numbered
from bot.chat import ChatCore
from bot.messages import Channel, ChannelTraits, Document, Incoming, Reply
from bot.texts import text

if TYPE_CHECKING:
    from bot.channels.console_delivery import ConsoleSender

CONSOLE_TRAITS = ChannelTraits(has_buttons=False, text_limit=4096)
# The console account of someone who is not a demo member (a database without demo data).
CONSOLE_USER = "demo"
ROLES = ("member", "secretary", "trainer", "admin")
PROMPT = "> "
# Typed in the console, not sent to the bot: sits at the keyboard as another demo member.
SWITCH_COMMAND = "/demo"
# Where files the bot sends in the console chat are saved.
ATTACHMENTS = Path(tempfile.gettempdir()) / "sotay-console"


def render(reply: Reply, choices: list[str]) -> str:
    lines = [text("console.media")] if reply.media is not None else []
    lines.append(reply.text)
    if choices:
        lines.append("")
        lines.extend(f"  {choice}" for choice in choices)
    return "\n".join(lines)


def save_attachment(document: Document, folder: Path = ATTACHMENTS) -> Path:
    """A file the bot sends (a spreadsheet, a chart) is saved, as a messenger would let
    the member download it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(document.filename).name
    path.write_bytes(document.content)
    return path


@dataclass(frozen=True)
class Seat:
    """Who is at the keyboard: a console account and the demo member linked to it (none
    when the database holds no demo data)."""

    account: str  # the console account's id, as sender and as chat
    role: str | None = None  # one of ROLES
    name: str | None = None
    unit: str | None = None


# The seat for a role (None: the plain member); None when no demo member holds it.
SeatFinder = Callable[[str | None], Awaitable[Seat | None]]


def banner(seat: Seat) -> str:
    """Who the person at the keyboard is, and the commands of their role."""
    if seat.role is None:
        return text("console.banner_unlinked")
    commands = [text("console.commands_member")]
    if seat.role in ("secretary", "admin"):
        commands.append(text("console.commands_secretary"))
    if seat.role in ("trainer", "admin"):
        commands.append(text("console.commands_trainer"))
    if seat.role == "admin":
        commands.append(text("console.commands_admin"))
    return text(
        "console.banner",
        role=text(f"console.role_{seat.role}"),
        name=seat.name,
        unit=seat.unit,
        commands="\n".join(commands),
    )


class Terminal(Protocol):
    # True where a person types (Ctrl+D leaves at once); False for piped input.
    interactive: bool

    async def read_line(self) -> str | None:
        """The next line typed, without its newline; None at the end of input, Ctrl+D or
        Ctrl+C."""
        ...

    def show(self, message: str) -> None:
        """Prints a message (a reply, or one that arrived on its own) above the prompt."""
        ...


class PromptTerminal:
    """A real terminal: prompt_toolkit edits the line; printing while it does (inside
    `patch_stdout`) redraws the prompt and what was typed below the message."""

    interactive = True

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession

        self._session: PromptSession[str] = PromptSession()

    async def read_line(self) -> str | None:
        try:
            return await self._session.prompt_async(PROMPT)
        except (EOFError, KeyboardInterrupt):
            return None

    def show(self, message: str) -> None:
        print(f"\n{message}", flush=True)


class PipeTerminal:
    """Input that is not a terminal. A daemon thread reads the lines, so that leaving
    (Ctrl+C, a stop signal) never waits for one more line."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self._stdin = stdin
        self._stdout = stdout
        # A person may still type into a terminal whose output goes to a pipe.
        self.interactive = stdin.isatty()
        self._lines: asyncio.Queue[str | None] | None = None
        self._prompting = False  # the prompt is shown, waiting for a line

    def _start_reading(self) -> asyncio.Queue[str | None]:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def read() -> None:
            for line in iter(self._stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\r\n"))
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=read, name="console-input", daemon=True).start()
        return lines

    async def read_line(self) -> str | None:
        if self._lines is None:
            self._lines = self._start_reading()
        self._stdout.write(f"\n{PROMPT}")
        self._stdout.flush()
        self._prompting = True
        try:
            line = await self._lines.get()
        finally:
            self._prompting = False
        # The typed line shows in a terminal by itself; from a pipe, echo it.
        self._stdout.write("\n" if line is None else "" if self.interactive else f"{line}\n")
        self._stdout.flush()
        return line

    def show(self, message: str) -> None:
        # A message arriving at the prompt goes below it, and the prompt comes again.
        again = f"\n{PROMPT}" if self._prompting else ""
        self._stdout.write(f"\n{message}\n{again}")
        self._stdout.flush()


@contextlib.contextmanager
def open_terminal(stdin: TextIO, stdout: TextIO) -> Iterator[Terminal]:
    """prompt_toolkit where both ends are a terminal, plain lines otherwise."""
    if stdin is sys.stdin and stdout is sys.stdout and stdin.isatty() and stdout.isatty():
        from prompt_toolkit.patch_stdout import patch_stdout

        with patch_stdout(raw=True):
            yield PromptTerminal()
    else:
        yield PipeTerminal(stdin, stdout)


class ConsoleChat:
    """The person at the keyboard chatting as a seat; `/demo ROLE` changes seat."""

    def __init__(
        self, core: ChatCore, terminal: Terminal, sender: ConsoleSender, seats: SeatFinder
    ) -> None:
        self._core = core
        self._terminal = terminal
        self._sender = sender
        self._seats = seats
        self._seat = Seat(CONSOLE_USER)

    def _sit(self, seat: Seat) -> None:
        self._seat = seat
        self._sender.chat_id = seat.account  # its messages now show in the chat
        self._terminal.show(banner(seat))

    async def _send(self, message: str) -> None:
        account = self._seat.account
        incoming = Incoming(Channel.CONSOLE, account, account, text=message)
        for reply, choices in numbered(await self._core.handle(incoming, CONSOLE_TRAITS)):
            shown = render(reply, choices)
            if reply.document is not None:
                path = save_attachment(reply.document)
                shown += "\n\n" + text(
                    "console.attachment", name=reply.document.filename, path=path
                )
            self._terminal.show(shown)

    async def _switch(self, role: str) -> None:
        seat = await self._seats(role) if role in ROLES else None
        if seat is None:
            self._terminal.show(text("console.switch_usage"))
            return
        self._sit(seat)
        await self._send("/start")

    async def _next_line(self, stop: asyncio.Event) -> str | None:
        reading = asyncio.ensure_future(self._terminal.read_line())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            return None
        return reading.result()

    async def run(self, seat: Seat, stop: asyncio.Event) -> bool:
        """Greets with /start as `seat` (whose banner is shown already), then answers each
        line. True at the end of input (or Ctrl+D, Ctrl+C at the prompt); False when `stop`
        was set (a signal)."""
        self._seat = seat
        await self._send("/start")
        while True:
            line = await self._next_line(stop)
            if line is None:
                return not stop.is_set()
            command, _, argument = line.strip().partition(" ")
            if command.lower() == SWITCH_COMMAND:
                await self._switch(argument.strip().lower())
            else:
                await self._send(line)

    def close(self) -> None:
        """What is still to be summarised, then goodbye."""
        self._sender.flush()
        self._terminal.show(text("console.goodbye"))
