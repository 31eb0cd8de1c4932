"""By-hand smoke test of the nginx site: nginx (deploy/nginx/check.sh --serve, on 127.0.0.1)
in front of three `sotay run` workers in webhook mode on 127.0.0.1:8081-8083, all talking to
the fake Bot API server (tests/fakes) that this script runs. Everything stays on 127.0.0.1.

    .venv/bin/python deploy/nginx/smoke.py --database-url URL [--members 300]

URL is a throwaway database (PostgreSQL, as in production): it is migrated and emptied.

It checks what the site promises: webhook updates from every member answered once across the
workers, over TLS; the worker's 403 for a wrong secret; nginx's own 403 for a GET on a webhook
and for /metrics from another address than 127.0.0.1 (it uses 127.0.0.2), 404 for any other
path, 413 for a body over 1 MB; and that updates are still answered with one worker killed.
Prints `name: value` lines. Needs nginx and openssl.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import ssl
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.broadcast import FIRST_CHAT, populate  # noqa: E402
from benchmarks.harness import empty_tables  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

WORKER_PORTS = (8081, 8082, 8083)
HTTPS_PORT = 18443
HTTP_PORT = 18080
SECRET = "smoke-test-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUESTION = "đảng phí bao nhiêu"


def _wait_port(port: int, host: str = "127.0.0.1", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port}")


async def _workers(
    url: str, server: FakeTelegramServer, logs: Path
) -> list[asyncio.subprocess.Process]:
    workers = []
    for port in WORKER_PORTS:
        env = {
            **os.environ,
            "SOTAY_DATABASE_URL": url,
            "TELEGRAM_TOKEN": server.token,
            # Required with a messenger token; any 32 characters will do here.
            "SOTAY_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
            "TELEGRAM_BASE_URL": server.base_url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SOTAY_HTTP_PORT": str(port),
        }
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--host",
                "127.0.0.1",
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=(logs / f"worker-{port}.log").open("wb"),
            )
        )
    for port in WORKER_PORTS:
        await asyncio.to_thread(_wait_port, port)
    return workers


async def _post(session: aiohttp.ClientSession, body: bytes | dict, **headers: str) -> int:
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    async with session.post(
        f"https://127.0.0.1:{HTTPS_PORT}/telegram/webhook", headers=headers, **kwargs
    ) as response:
        return response.status


async def _ask_all(
    session: aiohttp.ClientSession, server: FakeTelegramServer, users: list[int]
) -> list[int]:
    """Every member asks one question by webhook, through nginx; the HTTP statuses."""
    updates = [server.make_message_update(user, QUESTION) for user in users]
    return await asyncio.gather(
        *(_post(session, update, **{SECRET_HEADER: SECRET}) for update in updates)
    )


async def _status(session: aiohttp.ClientSession, path: str, **kwargs: object) -> int:
    async with session.get(f"https://127.0.0.1:{HTTPS_PORT}{path}", **kwargs) as response:
        return response.status


async def _answered(server: FakeTelegramServer, users: list[int], seconds: float) -> Counter[int]:
    wanted = set(users)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = Counter(int(m["chat_id"]) for m in server.sent_messages() if m.get("reply_markup"))
        if wanted <= set(counts):
            return counts
        await asyncio.sleep(0.2)
    return Counter(int(m["chat_id"]) for m in server.sent_messages() if m.get("reply_markup"))


async def main(url: str, members: int, directory: Path) -> None:
    url = Settings.from_mapping({"SOTAY_DATABASE_URL": url}).database_url
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    await empty_tables(database)
    await populate(database, members)
    await database.dispose()
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # the self-signed stand-in
    async with FakeTelegramServer() as server:
        workers = await _workers(url, server, directory)
        nginx = await asyncio.create_subprocess_exec(
            str(ROOT / "deploy" / "nginx" / "check.sh"),
            "--serve",
            env={**os.environ, "HTTPS_PORT": str(HTTPS_PORT), "HTTP_PORT": str(HTTP_PORT)},
            stdout=(directory / "nginx.out").open("wb"),
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await asyncio.to_thread(_wait_port, HTTPS_PORT)
            connector = aiohttp.TCPConnector(ssl=tls, limit=50)
            async with aiohttp.ClientSession(connector=connector) as session:
                users = [FIRST_CHAT + i for i in range(members)]
                started = time.monotonic()
                statuses = await _ask_all(session, server, users)
                counts = await _answered(server, users, 120)
                print(f"webhook_posts_ok: {statuses.count(200)} of {members}")
                print(f"members_answered: {len(set(counts) & set(users))} of {members}")
                print(f"answered_twice: {sum(1 for u in users if counts[u] > 1)}")
                print(f"seconds_to_answer_all: {time.monotonic() - started:.1f}")
                update = server.make_message_update(users[0], QUESTION)
                wrong = await _post(session, update, **{SECRET_HEADER: "x"})
                print(f"wrong_secret_status: {wrong}")
                print(f"webhook_get_status: {await _status(session, '/telegram/webhook')}")
                print(f"other_path_status: {await _status(session, '/admin/')}")
                print(f"healthz_status: {await _status(session, '/healthz')}")
                print(f"body_over_1mb_status: {await _post(session, b'x' * (1024 * 1024 + 1))}")
            # /metrics from 127.0.0.2: another address of this machine, refused by nginx.
            local = aiohttp.TCPConnector(ssl=tls, local_addr=("127.0.0.2", 0))
            async with aiohttp.ClientSession(connector=local) as outsider:
                print(f"metrics_from_127.0.0.2_status: {await _status(outsider, '/metrics')}")
            workers[0].send_signal(signal.SIGKILL)
            await workers[0].wait()
            server.clear()
            connector = aiohttp.TCPConnector(ssl=tls, limit=50)
            async with aiohttp.ClientSession(connector=connector) as session:
                statuses = await _ask_all(session, server, users)
            counts = await _answered(server, users, 120)
            print(f"one_worker_killed_posts_ok: {statuses.count(200)} of {members}")
            print(f"one_worker_killed_answered: {len(set(counts) & set(users))} of {members}")
        finally:
            os.killpg(nginx.pid, signal.SIGTERM)
            await nginx.wait()
            for worker in workers:
                if worker.returncode is None:
                    worker.send_signal(signal.SIGTERM)
                await worker.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--members", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        asyncio.run(main(args.database_url, args.members, Path(temporary)))
