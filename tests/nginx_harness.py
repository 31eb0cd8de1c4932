"""nginx (the Debian package) in front of `sotay run` processes on 127.0.0.1, for
tests/test_nginx_failover.py: the site's own locations (deploy/nginx/sotay-locations.conf)
behind a plain-HTTP server on a free port (TLS is the operator's), an upstream of the
workers given, and the processes as a systemd unit would start them."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
LOCATIONS = ROOT / "deploy" / "nginx" / "sotay-locations.conf"


def find_nginx() -> str | None:
    """nginx from PATH or /usr/sbin (not on a plain user's PATH on Debian)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("nginx", path=path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_conf(prefix: Path, listen: int, workers: list[int]) -> Path:
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    (prefix / "temp").mkdir(exist_ok=True)
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in workers
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
worker_processes 1;
events {{}}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    upstream sotay_web {{
        least_conn;
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{listen};
        include {LOCATIONS};
    }}
}}
"""
    )
    return conf


async def start_nginx(nginx: str, prefix: Path, conf: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        nginx,
        "-p",
        f"{prefix}/",
        "-c",
        str(conf),
        "-g",
        "daemon off;",
        stdout=(prefix / "nginx.out").open("wb"),
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )


async def start_sotay(
    args: list[str], env: dict[str, str], log: Path
) -> asyncio.subprocess.Process:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOTAY_", "ZALO_"))
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--host",
        "127.0.0.1",
        *args,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


async def wait_ready(
    http: aiohttp.ClientSession, port: int, process: asyncio.subprocess.Process, seconds: float
) -> None:
    """Until GET /readyz on the port answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.returncode is None, "the process ended while starting"
        try:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"127.0.0.1:{port} not ready within {seconds} s")


async def stop(process: asyncio.subprocess.Process, *, group: bool = False) -> None:
    if process.returncode is None:
        if group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()
