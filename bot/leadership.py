"""Which process runs the schedulers and the outbox dispatcher: exactly one at a time.

On PostgreSQL the leader is the process holding a session advisory lock, on a connection of
its own (not from the session pool, where a connection is returned and reused). The others
try for the lock every couple of seconds. A leader that is killed loses its connection, and
with it the lock, at once (the kernel closes the socket; PostgreSQL frees the lock as the
backend exits), so another process takes over within one try. A leader checks its
connection and its lock every second and, the moment either is gone (the connection
dropped, the server restarted, the lock released by someone else), tells its owner to stop
scheduling and sending before anything else is done. (Behind a proxy that pools by
transaction, which a session lock cannot survive, that check finds another backend without
the lock and drops leadership at once, rather than leading without one.)

A leader cut off by the network cannot be told anything by PostgreSQL; its own check times
out first (after `check_every` + `check_timeout`, about 3 s), while the server only drops the
vanished backend, and the lock, after the keepalive time set on the connection (about 9 s).
So two leaders never act at the same time.

On SQLite there is one process by construction: it always leads, and says so once.

Use:

    leadership = leadership_for(settings.database_url)
    await leadership.run(on_elected=start_leader_work, on_lost=stop_leader_work, stop=stop)

Each `on_elected` is followed by exactly one `on_lost`: when leadership is lost, and also
when `stop` is set while leading (the lock is released only after `on_lost` returns, so the
next leader never overlaps this one). An exception from a callback ends `run` (the lock goes
with the connection). A process that lost leadership stands again after `try_every`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]

# The advisory lock key: any 64-bit number no other part of the bot uses. Locks are per
# database, so two deployments on one server do not contend.
LEADER_LOCK_KEY = int.from_bytes(b"sotay:ld", "big")
TRY_EVERY = 2.0  # seconds between two tries of a process that does not lead
CHECK_EVERY = 1.0  # seconds between two checks of the leader's connection and lock
CHECK_TIMEOUT = 2.0  # a check that takes longer counts as a lost connection
CONNECT_TIMEOUT = 5.0
# The server drops a backend whose client vanished without closing (a cut cable) after
# about idle + interval × count seconds: longer than the leader's own check takes to
# notice, so the lock is never free while the old leader still believes it leads.
KEEPALIVE = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "2",
}
STOPPING = "stopping"
# What a database that went away, or a connection that broke, raises.
_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Leadership(Protocol):
    @property
    def held(self) -> bool:
        """True while this process leads (for the `sotay_leader` metric)."""
        ...

    async def run(self, on_elected: Callback, on_lost: Callback, stop: asyncio.Event) -> None:
        """Stands for leadership until `stop` is set (see the module docstring)."""
        ...


class SingleProcess:
    """SQLite: the only process leads from the start."""

    def __init__(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def run(self, on_elected: Callback, on_lost: Callback, stop: asyncio.Event) -> None:
        log.info("leadership: SQLite has one process; it runs the schedulers (no election)")
        self._held = True
        try:
            await on_elected()
            await stop.wait()
        finally:
            self._held = False
            await on_lost()


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://...) as a DSN asyncpg connects to."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class AdvisoryLockElection:
    """PostgreSQL: the holder of a session advisory lock on its own connection leads."""

    def __init__(
        self,
        database_url: str,
        *,
        key: int = LEADER_LOCK_KEY,
        try_every: float = TRY_EVERY,
        check_every: float = CHECK_EVERY,
        check_timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._key = key
        self._try_every = try_every
        self._check_every = check_every
        self._check_timeout = check_timeout
        self._connection: asyncpg.Connection | None = None
        self._closed = asyncio.Event()  # set by asyncpg the moment the connection goes
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def run(self, on_elected: Callback, on_lost: Callback, stop: asyncio.Event) -> None:
        unreachable = False  # said once per outage, not at every try
        try:
            while not stop.is_set():
                try:
                    if await self._try_lock():
                        # Lost: stand again after one wait, so that a process whose
                        # connection is flaky does not win the lock straight back.
                        await self._lead(on_elected, on_lost, stop)
                    unreachable = False
                except _UNREACHABLE as error:
                    if not unreachable:
                        log.warning("leadership: cannot reach the database: %s", _brief(error))
                    unreachable = True
                    await self._drop_connection()
                await _wait(stop, self._try_every)
        finally:
            await self._drop_connection()

    async def _try_lock(self) -> bool:
        connection = await self._connect()
        return bool(
            await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self._key, timeout=self._check_timeout
            )
        )

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        self._closed.clear()
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT,
            # A plain connection: no statement cache to go stale, named in pg_stat_activity.
            statement_cache_size=0,
            server_settings={"application_name": "sotay leader election", **KEEPALIVE},
        )
        connection.add_termination_listener(lambda _connection: self._closed.set())
        self._connection = connection
        return connection

    async def _lead(self, on_elected: Callback, on_lost: Callback, stop: asyncio.Event) -> None:
        assert self._connection is not None
        pid = self._connection.get_server_pid()
        log.info("leadership: elected (lock held by backend %d); schedulers start", pid)
        self._held = True
        reason = "stopping on an error"
        try:
            await on_elected()
            reason = await self._watch(stop)
        finally:
            self._held = False
            if reason != STOPPING:
                log.warning("leadership: lost (%s); schedulers and dispatching stop", reason)
            await on_lost()
        if reason == STOPPING:
            await self._release()
            log.info("leadership: released")

    async def _watch(self, stop: asyncio.Event) -> str:
        """Returns why leadership ended: STOPPING, or what was lost."""
        while True:
            if await _first(stop, self._closed, seconds=self._check_every):
                return STOPPING if stop.is_set() else "connection closed"
            try:
                if not await self._still_held():
                    await self._drop_connection()
                    return "lock no longer held"
            except _UNREACHABLE as error:
                await self._drop_connection()
                return f"connection check failed: {_brief(error)}"

    async def _still_held(self) -> bool:
        assert self._connection is not None
        high, low = divmod(self._key % 2**64, 2**32)
        return bool(
            await self._connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted AND classid = $1::bigint::oid"
                " AND objid = $2::bigint::oid AND objsubid = 1)",
                high,
                low,
                timeout=self._check_timeout,
            )
        )

    async def _release(self) -> None:
        if self._connection is None or self._connection.is_closed():
            return
        with contextlib.suppress(*_UNREACHABLE):
            await self._connection.fetchval(
                "SELECT pg_advisory_unlock($1)", self._key, timeout=self._check_timeout
            )

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed():
            return
        try:
            await asyncio.wait_for(connection.close(), self._check_timeout)
        except _UNREACHABLE:
            connection.terminate()


def leadership_for(database_url: str) -> Leadership:
    """An election on PostgreSQL, the single process on SQLite."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return AdvisoryLockElection(database_url)
    return SingleProcess()


def _brief(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:200]


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def _first(*events: asyncio.Event, seconds: float) -> bool:
    """Waits until one of `events` is set or `seconds` pass; True if one was set."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)
