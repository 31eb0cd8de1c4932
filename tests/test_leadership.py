"""One process leads the schedulers: on SQLite the only one; on PostgreSQL the holder of an
advisory lock, taken over by another within seconds when the leader's connection goes."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.leadership import AdvisoryLockElection, SingleProcess, asyncpg_dsn, leadership_for

ROOT = Path(__file__).resolve().parent.parent


def _needs_postgresql(url: str) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        pytest.skip("leader election needs PostgreSQL (set SOTAY_TEST_DATABASE_URL)")


def _key() -> int:
    """A lock of this test's own, so parallel runs on one server never meet."""
    return random.randrange(1, 2**62)


class Candidate:
    """An election and what it reported."""

    def __init__(self, url: str, key: int, name: str, log: list[str], try_every: float) -> None:
        self.election = AdvisoryLockElection(url, key=key, try_every=try_every, check_every=0.2)
        self.name = name
        self.log = log
        self.elected = asyncio.Event()
        self.lost = asyncio.Event()
        self.stop = asyncio.Event()

    async def _on_elected(self) -> None:
        self.log.append(f"{self.name} elected")
        self.elected.set()

    async def _on_lost(self) -> None:
        self.log.append(f"{self.name} lost")
        self.lost.set()

    async def run(self) -> None:
        await self.election.run(self._on_elected, self._on_lost, self.stop)


@asynccontextmanager
async def candidates(url: str, key: int, names: str) -> AsyncIterator[list[Candidate]]:
    """Candidates trying every 0.2 s, started together."""
    log: list[str] = []
    running = [Candidate(url, key, name, log, 0.2) for name in names]
    tasks = [asyncio.create_task(c.run()) for c in running]
    try:
        yield running
    finally:
        for candidate in running:
            candidate.stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


@asynccontextmanager
async def leader_and_follower(url: str, key: int) -> AsyncIterator[tuple[Candidate, Candidate]]:
    """`leader` is elected before `follower` starts; after a loss the leader waits 2 s
    before standing again, the follower tries every 0.2 s, so the follower takes over."""
    log: list[str] = []
    leader = Candidate(url, key, "leader", log, 2.0)
    follower = Candidate(url, key, "follower", log, 0.2)
    tasks = [asyncio.create_task(leader.run())]
    try:
        await asyncio.wait_for(leader.elected.wait(), 10)
        tasks.append(asyncio.create_task(follower.run()))
        await asyncio.sleep(0.5)  # the follower tried and waits
        yield leader, follower
    finally:
        leader.stop.set()
        follower.stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def _holder(url: str, key: int) -> int | None:
    """The backend holding the lock, seen from a third connection."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        high, low = divmod(key, 2**32)
        return await connection.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1",
            high,
            low,
        )
    finally:
        await connection.close()


async def _terminate(url: str, pid: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def _first_elected(running: list[Candidate]) -> Candidate:
    waits = {asyncio.create_task(c.elected.wait()): c for c in running}
    done, pending = await asyncio.wait(waits, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "nobody was elected within 10 s"
    return waits[done.pop()]


async def test_sqlite_has_one_process_that_always_leads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leadership = leadership_for("sqlite+aiosqlite:///var/x.db")
    assert isinstance(leadership, SingleProcess)
    log: list[str] = []
    stop = asyncio.Event()

    async def elected() -> None:
        log.append(f"elected, held={leadership.held}")
        stop.set()

    async def lost() -> None:
        log.append("lost")

    with caplog.at_level(logging.INFO, logger="bot.leadership"):
        await asyncio.wait_for(leadership.run(elected, lost, stop), 5)
    assert log == ["elected, held=True", "lost"]
    assert not leadership.held
    said = [r.getMessage() for r in caplog.records if r.name == "bot.leadership"]
    assert said == ["leadership: SQLite has one process; it runs the schedulers (no election)"]


def test_postgresql_urls_get_an_election() -> None:
    url = "postgresql+asyncpg://u:p@db:5432/sotay"
    assert isinstance(leadership_for(url), AdvisoryLockElection)
    assert asyncpg_dsn(url) == "postgresql://u:p@db:5432/sotay"


async def test_an_unreachable_database_never_leads_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Port 1 on 127.0.0.1: nothing listens, the connection is refused at once.
    election = AdvisoryLockElection(
        "postgresql+asyncpg://sotay:sotay@127.0.0.1:1/none", try_every=0.05
    )
    stop = asyncio.Event()
    called: list[str] = []

    async def elected() -> None:
        called.append("elected")

    async def lost() -> None:
        called.append("lost")

    with caplog.at_level(logging.WARNING, logger="bot.leadership"):
        running = asyncio.create_task(election.run(elected, lost, stop))
        await asyncio.sleep(0.5)
        assert not election.held
        stop.set()
        await asyncio.wait_for(running, 5)
    assert called == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.leadership"]
    assert len(warnings) == 1
    assert warnings[0].startswith("leadership: cannot reach the database: ")


async def test_of_two_electors_exactly_one_leads(database_url: str) -> None:
    _needs_postgresql(database_url)
    key = _key()
    async with candidates(database_url, key, "ab") as (a, b):
        leader = await _first_elected([a, b])
        await asyncio.sleep(1.0)  # five more tries by the other
        assert [a.election.held, b.election.held].count(True) == 1
        assert leader.election.held
        assert leader.log == [f"{leader.name} elected"]
        assert await _holder(database_url, key) is not None
    # Stopping ends leadership the same way and frees the lock.
    assert leader.log == [f"{leader.name} elected", f"{leader.name} lost"]
    assert not a.election.held and not b.election.held
    assert await _holder(database_url, key) is None


async def test_a_leader_whose_connection_is_killed_stops_and_the_other_takes_over(
    database_url: str,
) -> None:
    _needs_postgresql(database_url)
    key = _key()
    async with leader_and_follower(database_url, key) as (leader, follower):
        assert leader.election.held and not follower.election.held
        pid = await _holder(database_url, key)
        assert pid is not None
        killed = time.monotonic()
        await _terminate(database_url, pid)
        await asyncio.wait_for(leader.lost.wait(), 2)
        assert time.monotonic() - killed < 1  # told at once, not at the next check
        assert not leader.election.held
        await asyncio.wait_for(follower.elected.wait(), 10)
        assert time.monotonic() - killed < 10
        assert follower.election.held and not leader.election.held
        # The old leader stopped before the new one started.
        assert leader.log == ["leader elected", "leader lost", "follower elected"]
        assert await _holder(database_url, key) not in (None, pid)
        await asyncio.sleep(2.5)  # the old leader stands again, and waits
        assert follower.election.held and not leader.election.held


async def test_a_leader_that_stops_hands_over(database_url: str) -> None:
    _needs_postgresql(database_url)
    key = _key()
    async with leader_and_follower(database_url, key) as (leader, follower):
        leader.stop.set()
        await asyncio.wait_for(leader.lost.wait(), 2)
        await asyncio.wait_for(follower.elected.wait(), 5)
        assert follower.election.held and not leader.election.held
        assert leader.log == ["leader elected", "leader lost", "follower elected"]


async def _line(process: asyncio.subprocess.Process, seconds: float) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), seconds)).decode().strip()


async def test_a_killed_leader_process_is_replaced_within_ten_seconds(database_url: str) -> None:
    """Two real processes with the default timings; the leader gets SIGKILL."""
    _needs_postgresql(database_url)
    key = str(_key())
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.leader_process",
            database_url,
            key,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert await _line(process, 30) == "standing"
        reads = {asyncio.create_task(_line(p, 30)): p for p in processes}
        done, pending = await asyncio.wait(reads, return_when=asyncio.FIRST_COMPLETED)
        first = done.pop()
        assert first.result() == "elected"
        leader = reads[first]
        # Killed at any moment of the other's 2-second tries; it has tried and waits.
        await asyncio.sleep(random.uniform(1.0, 3.0))
        assert not any(task.done() for task in pending)
        killed = time.monotonic()
        leader.send_signal(signal.SIGKILL)
        assert await pending.pop() == "elected"
        takeover = time.monotonic() - killed
        print(f"takeover_s: {takeover:.2f}")
        assert takeover < 10
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
            await process.wait()
