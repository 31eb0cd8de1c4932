"""CPU cost per Bot API request of python-telegram-bot's HTTP backends: the default
HTTPXRequest and the bot's AiohttpRequest (bot/channels/telegram_http.py).

A PTB Bot sends N sendMessage calls (quiz-question-like: Vietnamese text, four inline
buttons), `--concurrency` at a time, to the fake Bot API server, first through HTTPXRequest and
then through AiohttpRequest, for `--rounds` rounds; the median per backend is printed. The CPU
time is this process's (time.process_time()); the fake server runs in a child process, so it
is not included. `raw_aiohttp_*` sends the same form with a bare aiohttp session and no PTB:
the floor for any backend. With --in-process the server shares this process (as in
benchmarks/quiz_load.py's bot); every figure then includes the same server cost.

    .venv/bin/python benchmarks/telegram_http.py [--requests 3000] [--concurrency 32]
                                                 [--rounds 3] [--in-process]

Prints one `name: value` line per figure."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.channels.telegram_http import AiohttpRequest  # noqa: E402
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramServer  # noqa: E402

WARMUP = 300
TEXT = "Câu 3/20: Nghị quyết 57-NQ/TW xác định đột phá chiến lược nào?"
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(letter, callback_data=f"quiz:42:3:{letter}")] for letter in "ABCD"]
)

Send = Callable[[int], Awaitable[object]]


def serve(base_url_out: Connection) -> None:
    """Child process: run the fake server until terminated."""

    async def run() -> None:
        async with FakeTelegramServer() as server:
            base_url_out.send(server.base_url)
            await asyncio.Event().wait()

    asyncio.run(run())


@asynccontextmanager
async def fake_server(in_process: bool) -> AsyncIterator[str]:
    if in_process:
        async with FakeTelegramServer() as server:
            yield server.base_url
        return
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=serve, args=(sender,), daemon=True)
    child.start()
    try:
        yield await asyncio.to_thread(receiver.recv)
    finally:
        child.terminate()
        child.join()


async def cpu_ms_per_request(send: Send, requests: int, concurrency: int) -> tuple[float, float]:
    """CPU milliseconds per request and requests per wall-clock second."""
    numbers = iter(range(requests))

    async def worker() -> None:
        for number in numbers:
            await send(number)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / requests, requests / wall


async def through_ptb(
    base_url: str, request: BaseRequest, requests: int, concurrency: int
) -> tuple[float, float]:
    async with Bot(DEFAULT_TOKEN, base_url=f"{base_url}/bot", request=request) as bot:

        async def send(number: int) -> object:
            return await bot.send_message(1000 + number % 500, TEXT, reply_markup=KEYBOARD)

        await cpu_ms_per_request(send, WARMUP, concurrency)
        return await cpu_ms_per_request(send, requests, concurrency)


async def raw_aiohttp(base_url: str, requests: int, concurrency: int) -> tuple[float, float]:
    url = f"{base_url}/bot{DEFAULT_TOKEN}/sendMessage"
    markup = json.dumps(KEYBOARD.to_dict())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(number: int) -> object:
            form = {"chat_id": str(1000 + number % 500), "text": TEXT, "reply_markup": markup}
            data = urlencode(form).encode()
            async with session.post(url, data=data, headers=headers) as response:
                return json.loads(await response.read())

        await cpu_ms_per_request(send, WARMUP, concurrency)
        return await cpu_ms_per_request(send, requests, concurrency)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    n, concurrency = args.requests, args.concurrency

    results: dict[str, list[tuple[float, float]]] = {"httpx": [], "aiohttp": [], "raw_aiohttp": []}
    async with fake_server(args.in_process) as base_url:
        for _ in range(args.rounds):
            pool = {"connection_pool_size": concurrency}
            results["httpx"].append(
                await through_ptb(base_url, HTTPXRequest(**pool), n, concurrency)
            )
            results["aiohttp"].append(
                await through_ptb(base_url, AiohttpRequest(**pool), n, concurrency)
            )
            results["raw_aiohttp"].append(await raw_aiohttp(base_url, n, concurrency))

    print(f"requests: {n}")
    print(f"concurrency: {concurrency}")
    print(f"rounds: {args.rounds}")
    print(f"server_in_this_process: {args.in_process}")
    cpu = {name: statistics.median(c for c, _ in runs) for name, runs in results.items()}
    for name, runs in results.items():
        print(f"{name}_cpu_ms_per_request: {cpu[name]:.3f}")
        print(f"{name}_requests_per_second: {statistics.median(r for _, r in runs):.0f}")
        print(f"{name}_cpu_ms_per_round: {', '.join(f'{c:.3f}' for c, _ in runs)}")
    print(f"ratio: {cpu['aiohttp'] / cpu['httpx']:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
