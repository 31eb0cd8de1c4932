"""Parsing an uploaded spreadsheet off the event loop: in a fresh worker process with a CPU
time limit, so that a file built to unpack into millions of cells freezes no one's chat and
cannot run away with the CPU. The parsers also refuse oversized files before reading them
(bot/services/quizzes/bank.py: check_upload).

The worker is `python -m bot.services.uploads`, not multiprocessing: spawning that way
re-runs the parent's main module, which in `sotay run` is the bot itself."""

from __future__ import annotations

import asyncio
import importlib
import pickle
import resource
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
CPU_SECONDS = 20


class ParseTooCostly(Exception):
    """The worker used up its CPU time (or died) before the file was read."""


async def off_loop(parse: Callable[..., T], *args: Any) -> T:
    """`parse(*args)` in a worker process: a module-level function whose arguments and
    result pickle. An exception it raises is raised here as it was."""
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    request = pickle.dumps((CPU_SECONDS, parse.__module__, parse.__qualname__, args))
    try:
        output, _ = await worker.communicate(request)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    if worker.returncode != 0 or not output:
        raise ParseTooCostly
    # The worker is this program, started by it: its output is trusted like our own.
    failed, value = pickle.loads(output)
    if failed:
        raise value
    return value


def _serve() -> None:
    seconds, module, name, args = pickle.loads(sys.stdin.buffer.read())
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    parse = getattr(importlib.import_module(module), name)
    try:
        result: tuple[bool, object] = (False, parse(*args))
    except Exception as error:
        result = (True, error)
    sys.stdout.buffer.write(pickle.dumps(result))


if __name__ == "__main__":
    _serve()
