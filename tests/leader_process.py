"""A process that stands for leadership with the default timings, for tests/test_leadership.py:
`python -m tests.leader_process URL KEY` prints `elected` when it leads and `lost` when that
ends, each on its own line, until it is terminated."""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.leadership import AdvisoryLockElection


async def main(url: str, key: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def say(word: str) -> None:
        print(word, flush=True)

    await AdvisoryLockElection(url, key=key).run(lambda: say("elected"), lambda: say("lost"), stop)


if __name__ == "__main__":
    print("standing", flush=True)
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
