"""Wiring for a running process: the database, the conversation core and the work the bot
does on its own (the outbox dispatcher, the reminder and quiz schedulers, the secretaries'
nudges), then the messengers that have tokens and the web app, until a stop signal. The
console chat runs the same core and background work, with console accounts as one more
messenger."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from typing import TextIO

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.console import ConsoleChat, Seat, banner, open_terminal
from bot.channels.console_delivery import ConsoleSender
from bot.channels.delivery import RateLimits, Sender
from bot.channels.telegram import TelegramChannel, TelegramFiles, TelegramSender
from bot.channels.webapp import build_web_app
from bot.channels.zalo import ZaloChannel, ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import find_seat
from bot.messages import Channel
from bot.migrate import open_database
from bot.models import utcnow
from bot.services import Services, Shared
from bot.services.handbook import load_index
from bot.settings import Settings
from handlers import build_router
from handlers.notices import render_notice
from jobs.daily import DailyScheduler
from jobs.dispatcher import Dispatcher, DispatchSettings
from jobs.nudges import SecretaryNudges, schedule_nudges
from jobs.probation import ProbationReminders, schedule_probation
from jobs.quizzes import QuizScheduler
from jobs.reminders import ReminderScheduler
from jobs.wakeups import DueWork

log = logging.getLogger(__name__)

# At the end of piped console input, how long to wait for what the last lines set off.
SETTLE_TIMEOUT = 20.0
SETTLE_POLL = 0.4


@asynccontextmanager
async def open_senders(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """A sender per messenger that has a token, for the outbox dispatcher."""
    senders: dict[str, TelegramSender | ZaloSender] = {}
    if settings.telegram_token:
        limits = RateLimits(settings.telegram_rate_per_second, settings.telegram_burst, 1.0)
        senders[Channel.TELEGRAM] = TelegramSender(settings, limits=limits)
    if settings.zalo_token:
        senders[Channel.ZALO] = ZaloSender(settings)
    started = []
    try:
        for sender in senders.values():
            await sender.start()
            started.append(sender)
        yield dict(senders)
    finally:
        for sender in started:
            await sender.stop()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(claim_timeout=timedelta(seconds=settings.outbox_claim_timeout))


class Bot:
    """The conversation core of a running process, and its work in the background."""

    def __init__(
        self,
        core: ChatCore,
        shared: Shared,
        database: Database,
        channels: list[str],
        due_work: list[DueWork],
    ) -> None:
        self.core = core
        self.shared = shared
        self._database = database
        self._channels = channels
        self._due_work = due_work

    async def settled(self) -> bool:
        """Nothing is due now: no scheduled work, and no message waiting to be sent on
        this process's messengers."""
        now = self.shared.clock()
        for work in self._due_work:
            upcoming = await work.next_due()
            if upcoming is not None and upcoming <= now:
                return False
        async with self._database.session() as session:
            outbox = Services.for_session(session, self.shared).outbox
            return not await outbox.waiting(self._channels, now)


@asynccontextmanager
async def running_bot(
    settings: Settings,
    database: Database,
    senders: Mapping[str, Sender],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> AsyncIterator[Bot]:
    """The conversation core with the bot's background work running: the outbox
    dispatcher over `senders`, the meeting-reminder and quiz schedulers and the
    secretaries' nudges and the probationary-year reminders, on one APScheduler."""
    stop = asyncio.Event()
    dispatcher = Dispatcher(database, senders, settings=dispatch_settings(settings), clock=clock)
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    reminders = ReminderScheduler(
        database, settings, clock=clock, notify_outbox=dispatcher.wake, scheduler=scheduler
    )
    quizzes = QuizScheduler(
        database, settings, clock=clock, notify_outbox=dispatcher.wake, scheduler=scheduler
    )
    daily = DailyScheduler(
        database, settings, clock=clock, notify_outbox=dispatcher.wake, scheduler=scheduler
    )
    nudges = SecretaryNudges(database, settings, clock=clock, notify_outbox=dispatcher.wake)

    def poke_schedules() -> None:
        """A quiz or a daily question's time changed in chat: look again now."""
        quizzes.poke()
        daily.poke()

    probation = ProbationReminders(database, settings, clock=clock, notify_outbox=dispatcher.wake)
    shared = Shared(
        settings,
        load_index(),
        clock=clock,
        notify_outbox=dispatcher.wake,
        notify_schedule=poke_schedules,
        render=render_notice,
    )
    async with AsyncExitStack() as background:
        # Background work: each item is started here and stopped, in reverse order, when
        # the process stops (or when an item after it fails to start).
        dispatching = asyncio.create_task(dispatcher.run(stop))

        async def stop_dispatching() -> None:
            stop.set()
            await dispatching

        background.push_async_callback(stop_dispatching)
        background.callback(lambda: scheduler.shutdown(wait=False) if scheduler.running else None)
        await reminders.start()
        await quizzes.start()
        await daily.start()
        schedule_nudges(scheduler, nudges)
        await nudges.run()  # catches up a day the process was down
        schedule_probation(scheduler, probation)
        await probation.run()
        yield Bot(
            ChatCore(database, build_router(), shared),
            shared,
            database,
            list(senders),
            [reminders, quizzes, daily],
        )


async def run_messengers(settings: Settings, *, host: str, stop: asyncio.Event) -> None:
    """Runs Telegram and Zalo (polling or webhook), the background work and the web app
    until `stop`."""
    async with (
        open_database(settings) as database,
        open_senders(settings) as senders,
        running_bot(settings, database, senders) as bot,
    ):
        telegram = TelegramChannel(settings, bot.core) if settings.telegram_token else None
        if telegram is not None:
            # Handlers fetch files members send (question sheets) through the shared services.
            bot.shared.files.register(Channel.TELEGRAM, TelegramFiles(telegram.application.bot))
        zalo = ZaloChannel(settings, bot.core) if settings.zalo_token else None
        runner: web.AppRunner | None = None
        if settings.serves_http:
            app = build_web_app(
                telegram,
                settings.telegram_webhook_secret,
                zalo=zalo,
                zalo_secret=settings.zalo_webhook_secret,
            )
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, host, settings.http_port).start()
            log.info("web app listening on %s:%s", host, settings.http_port)
        try:
            if telegram is not None:
                await telegram.start()
            if zalo is not None:
                await zalo.start()
            await stop.wait()
        finally:
            if telegram is not None:
                await telegram.stop()
            if zalo is not None:
                await zalo.stop()
            if runner is not None:
                await runner.cleanup()


async def run(settings: Settings, *, host: str) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_messengers(settings, host=host, stop=stop)


async def run_dispatcher(settings: Settings) -> None:
    """The dispatcher alone, for a deployment that runs it in its own process."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with open_database(settings) as database, open_senders(settings) as senders:
        await Dispatcher(database, senders, settings=dispatch_settings(settings)).run(stop)


class NoSeat(LookupError):
    """The demo data has no member holding the role asked for."""


async def _settle(bot: Bot, stop: asyncio.Event) -> None:
    """Waits until nothing is due or on its way (twice in a row: a notice's final report
    is queued just after its last delivery), at most SETTLE_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    quiet = 0
    while quiet < 2 and loop.time() < deadline and not stop.is_set():
        await asyncio.sleep(SETTLE_POLL)
        quiet = quiet + 1 if await bot.settled() else 0


async def run_console(
    settings: Settings,
    role: str | None,
    stdin: TextIO,
    stdout: TextIO,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """The console chat as the demo member holding `role` (by default the plain member),
    over the same core and background work as `sotay run`; the outbox delivers to console
    accounts. Messages for Telegram and Zalo stay in the outbox for `sotay run`. Ends at
    the end of input, or when `stop` is set (by default, by Ctrl+C or a stop signal)."""
    if stop is None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
    async with open_database(settings) as database:

        async def seats(wanted: str | None) -> Seat | None:
            async with database.session() as session, session.begin():
                return await find_seat(session, wanted)

        seat = await seats(role)
        if seat is None:
            assert role is not None  # without a role, an unlinked console account will do
            raise NoSeat(role)
        with open_terminal(stdin, stdout) as terminal:
            sender = ConsoleSender(terminal.show)
            # Seated before the dispatcher starts: what waited for this member shows first.
            sender.chat_id = seat.account
            terminal.show(banner(seat))
            async with running_bot(settings, database, {Channel.CONSOLE: sender}) as bot:
                chat = ConsoleChat(bot.core, terminal, sender, seats)
                ended = await chat.run(seat, stop)
                if ended and not terminal.interactive:
                    await _settle(bot, stop)
            chat.close()
