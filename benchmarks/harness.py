"""What the end-to-end benchmarks share: a bot process of their own polling the fake Bot API
server on 127.0.0.1, its CPU time, a throwaway database emptied, and percentiles. The
scripts put the repository root on sys.path before importing this."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.db import Database
from bot.models import Base

ROOT = Path(__file__).resolve().parent.parent


async def bot_process(
    url: str,
    base_url: str,
    token: str,
    log: Path,
    *,
    command: Sequence[str] = ("-m", "bot.cli", "run"),
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """`sotay run` (or `command`, run by this Python) on the database at `url`, polling the
    Bot API at `base_url`; its stderr goes to `log`."""
    environment = {
        **os.environ,
        "SOTAY_DATABASE_URL": url,
        "TELEGRAM_TOKEN": token,
        # Required with a messenger token; any 32 characters will do here.
        "SOTAY_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
        "TELEGRAM_BASE_URL": base_url,
        **(env or {}),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


async def empty_tables(database: Database) -> None:
    """Deletes every row (a benchmark's throwaway database)."""
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted `values`."""
    return values[min(len(values) - 1, int(len(values) * share))]
