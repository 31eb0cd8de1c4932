"""Throughput of one worker, side by side with python-telegram-bot's echo bot (issue #16).

Both bots run as processes of their own, polling the fake Bot API server on 127.0.0.1 that
this process runs and drives as 300 members:

1. saturated: every member asks 10 handbook questions one after the other, each as soon as
   the previous one is answered (300 questions in flight, 3,000 in all); updates per second
   from the first question to the last answer, and the bot's CPU time per update;
2. paced: questions offered at 100 a second (each member in turn) for `--paced-seconds`,
   whatever the bot's progress; reply latency, from the question reaching the server to the
   answer reaching it (one long poll's hand-over included), p50 and p99.

The sotay bot is a real `sotay run` on a SQLite file in a temporary directory (or
`--database-url`, a throwaway database whose rows are deleted) with the demo data and 300
members linked on Telegram; its answers are the last message that carries buttons. The echo
bot (benchmarks/echo_bot.py) answers each text with one message. Before each measurement a
warm-up round is answered and not counted.

    .venv/bin/python benchmarks/throughput.py [--rounds 1] [--members 300] [--questions 3000]
                                              [--rate 100] [--paced-seconds 15]
                                              [--database-url URL] [--only sotay|echo]
                                              [--profile FILE]

Prints one `name: value` line per figure; with several rounds, medians, and each round's
figures in `*_rounds` lines. `ratio` is sotay's updates per second over the echo bot's;
`cpu_ratio` the same from CPU time per update (what `ratio` would be with a core each), less
skewed when other work shares the machine. Compare figures of one run."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.broadcast import FIRST_CHAT, populate  # noqa: E402
from benchmarks.harness import bot_process, cpu_seconds, empty_tables, percentile  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.demo import seed_demo  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.texts import text  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer, Params  # noqa: E402

QUESTION_FILES = sorted((ROOT / "benchmarks" / "data").glob("search_*.jsonl"))
WARMUP_MEMBERS = 50
APOLOGY = text("errors.internal")
START_TIMEOUT = 120.0  # seconds for a bot to start polling


class TimedServer(FakeTelegramServer):
    """The fake Bot API, timing each question from its arrival in the queue to the
    message that answers it; each chat's questions are answered in order."""

    def __init__(self, answer_has_buttons: bool) -> None:
        super().__init__()
        self._answer_has_buttons = answer_has_buttons
        self._asked: dict[int, deque[tuple[float, asyncio.Future[float]]]] = defaultdict(deque)
        self.error_replies = 0

    def ask(self, user: int, question: str) -> asyncio.Future[float]:
        """Queues the question; the future gets the seconds until it was answered."""
        answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._asked[user].append((time.monotonic(), answered))
        self.push_message(user, question)
        return answered

    async def _send_message(self, params: Params) -> dict[str, Any]:
        message = await super()._send_message(params)
        if params.get("text") == APOLOGY:
            self.error_replies += 1
        if self._answer_has_buttons and not params.get("reply_markup"):
            return message  # a long answer's first parts
        waiting = self._asked.get(message["chat"]["id"])
        if waiting:
            asked, answered = waiting.popleft()
            answered.set_result(time.monotonic() - asked)
        return message


@dataclass(frozen=True)
class Figures:
    updates_per_s: float
    cpu_ms_per_update: float
    saturated_p50_ms: float
    saturated_p99_ms: float
    paced_p50_ms: float
    paced_p99_ms: float
    paced_cpu_ms_per_update: float
    error_replies: int


def _questions() -> list[str]:
    questions = []
    for path in QUESTION_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["q"])
    return questions


async def _until_polling(server: TimedServer, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.calls_to("getUpdates"):
        if process.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError("the bot did not start polling")
        await asyncio.sleep(0.1)


async def _saturated(
    server: TimedServer, users: list[int], questions: list[str], per_member: int
) -> list[float]:
    """Each member asks `per_member` questions, the next as soon as one is answered."""
    source = itertools.cycle(questions)

    async def member(user: int, asked: list[str]) -> list[float]:
        return [await server.ask(user, question) for question in asked]

    batches = [[next(source) for _ in range(per_member)] for _ in users]
    results = await asyncio.gather(*(member(u, b) for u, b in zip(users, batches, strict=True)))
    return [seconds for result in results for seconds in result]


async def _paced(
    server: TimedServer, users: list[int], questions: list[str], rate: float, seconds: float
) -> list[float]:
    """Questions at `rate` a second, the members in turn, whatever the bot's progress."""
    source = itertools.cycle(questions)
    count = int(rate * seconds)
    start = time.monotonic()
    answers = []
    for index in range(count):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        answers.append(server.ask(users[index % len(users)], next(source)))
    return list(await asyncio.gather(*answers))


def _ms(values: list[float], share: float) -> float:
    return percentile(sorted(values), share) * 1000


async def measure(
    start_bot: Callable[[TimedServer, Path], Awaitable[asyncio.subprocess.Process]],
    *,
    answer_has_buttons: bool,
    members: int,
    questions_total: int,
    rate: float,
    paced_seconds: float,
    log: Path,
) -> Figures:
    questions = _questions()
    users = [FIRST_CHAT + index for index in range(members)]
    per_member = max(1, questions_total // members)
    async with TimedServer(answer_has_buttons) as server:
        process = await start_bot(server, log)
        try:
            await _until_polling(server, process)
            await asyncio.wait_for(
                _saturated(server, users[:WARMUP_MEMBERS], questions[::-1], 2), 300
            )
            cpu, started = cpu_seconds(process.pid), time.monotonic()
            saturated = await asyncio.wait_for(
                _saturated(server, users, questions, per_member), 1800
            )
            wall, cpu = time.monotonic() - started, cpu_seconds(process.pid) - cpu
            paced_cpu = cpu_seconds(process.pid)
            paced = await asyncio.wait_for(
                _paced(server, users, questions, rate, paced_seconds), 1800
            )
            paced_cpu = cpu_seconds(process.pid) - paced_cpu
        except (TimeoutError, RuntimeError) as error:
            said = await asyncio.to_thread(log.read_bytes)
            tail = said.decode(errors="replace").splitlines()[-20:]
            sys.exit(f"{error or 'timed out'}; the bot's log ends:\n" + "\n".join(tail))
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await process.wait()
    return Figures(
        updates_per_s=len(saturated) / wall,
        cpu_ms_per_update=cpu * 1000 / len(saturated),
        saturated_p50_ms=_ms(saturated, 0.5),
        saturated_p99_ms=_ms(saturated, 0.99),
        paced_p50_ms=_ms(paced, 0.5),
        paced_p99_ms=_ms(paced, 0.99),
        paced_cpu_ms_per_update=paced_cpu * 1000 / len(paced),
        error_replies=server.error_replies,
    )


async def _echo_bot(server: TimedServer, log: Path) -> asyncio.subprocess.Process:
    return await bot_process(
        "sqlite://", server.base_url, server.token, log, command=("benchmarks/echo_bot.py",)
    )


async def _prepare_sotay(url: str, members: int) -> None:
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    try:
        await empty_tables(database)
        async with database.session() as session, session.begin():
            await seed_demo(session)
        await populate(database, members)
    finally:
        await database.dispose()


def _sotay_bot(
    url: str, profile: Path | None = None
) -> Callable[[TimedServer, Path], Awaitable[asyncio.subprocess.Process]]:
    # Under cProfile (--profile) the figures are slower; the profile says where time goes.
    command = ("-m", "bot.cli", "run")
    if profile is not None:
        command = ("-m", "cProfile", "-o", str(profile), *command)

    async def start(server: TimedServer, log: Path) -> asyncio.subprocess.Process:
        return await bot_process(url, server.base_url, server.token, log, command=command)

    return start


def _report(name: str, rounds: list[Figures], field: str, digits: int = 1) -> None:
    values = [getattr(figures, field) for figures in rounds]
    print(f"{name}: {statistics.median(values):.{digits}f}")
    if len(values) > 1:
        print(f"{name}_rounds: {', '.join(f'{v:.{digits}f}' for v in values)}")


async def main(args: argparse.Namespace, directory: Path) -> None:
    url = args.database_url or f"sqlite+aiosqlite:///{directory}/throughput.db"
    common = {
        "members": args.members,
        "questions_total": args.questions,
        "rate": args.rate,
        "paced_seconds": args.paced_seconds,
    }
    load = os.getloadavg()[0]
    echo: list[Figures] = []
    sotay: list[Figures] = []
    for _ in range(args.rounds):
        if args.only != "sotay":
            echo.append(
                await measure(
                    _echo_bot, answer_has_buttons=False, log=directory / "echo.log", **common
                )
            )
        if args.only != "echo":
            await _prepare_sotay(url, args.members)
            sotay.append(
                await measure(
                    _sotay_bot(url, args.profile),
                    answer_has_buttons=True,
                    log=directory / "sotay.log",
                    **common,
                )
            )
    print(f"load_average_1m: {load:.2f}")  # other work on the machine skews every figure
    print(f"members: {args.members}")
    print(f"questions: {args.members * max(1, args.questions // args.members)}")
    print(f"rounds: {args.rounds}")
    paced = f"at_{args.rate:g}qps"
    for prefix, rounds in (("echo", echo), ("sotay", sotay)):
        if not rounds:
            continue
        _report(f"{prefix}_updates_per_s", rounds, "updates_per_s")
        _report(f"{prefix}_cpu_ms_per_update", rounds, "cpu_ms_per_update", 2)
        _report(f"{prefix}_saturated_p50_ms", rounds, "saturated_p50_ms")
        _report(f"{prefix}_saturated_p99_ms", rounds, "saturated_p99_ms")
        _report(f"{prefix}_p50_ms_{paced}", rounds, "paced_p50_ms")
        _report(f"{prefix}_p99_ms_{paced}", rounds, "paced_p99_ms")
        _report(f"{prefix}_cpu_ms_per_update_{paced}", rounds, "paced_cpu_ms_per_update", 2)
        print(f"{prefix}_error_replies: {sum(f.error_replies for f in rounds)}")
    if echo and sotay:
        ratios = [s.updates_per_s / e.updates_per_s for s, e in zip(sotay, echo, strict=True)]
        print(f"ratio: {statistics.median(ratios):.2f}")
        if len(ratios) > 1:
            print(f"ratio_rounds: {', '.join(f'{r:.2f}' for r in ratios)}")
        # What the ratio would be if both bots had a core to themselves: CPU-bound, each
        # answers 1 / (CPU per update). Less skewed by other work on the machine.
        cpu_ratios = [
            e.cpu_ms_per_update / s.cpu_ms_per_update for s, e in zip(sotay, echo, strict=True)
        ]
        print(f"cpu_ratio: {statistics.median(cpu_ratios):.2f}")
        # The figures issue #16 names, for one sotay worker.
        print(f"cpu_ms_per_update: {statistics.median(s.cpu_ms_per_update for s in sotay):.2f}")
        p99 = statistics.median(s.paced_p99_ms for s in sotay)
        print(f"p99_ms_{paced}: {p99:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--database-url")
    parser.add_argument("--only", choices=("sotay", "echo"))
    parser.add_argument("--profile", type=Path, help="write the sotay bot's cProfile stats here")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        asyncio.run(main(arguments, Path(temporary)))
