"""The process entry points: `sotay run` with a token against the fake Bot API server, and
without one the console chat, driven through stdin as a person would."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.runtime import run_messengers
from bot.settings import Settings
from bot.texts import text
from tests.fakes.telegram_api import FakeTelegramServer
from tests.secret import TEST_SECRET_KEY


async def test_run_answers_start_on_telegram(database_url: str, database: object) -> None:
    async with FakeTelegramServer() as server:
        settings = Settings.from_mapping(
            {
                "SOTAY_DATABASE_URL": database_url,
                "TELEGRAM_TOKEN": server.token,
                "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
                "TELEGRAM_BASE_URL": server.base_url,
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_messengers(settings, host="127.0.0.1", stop=stop))
        server.push_message(4242, "/start")
        welcome, _consent = await server.wait_for("sendMessage", 2, chat_id=4242, timeout=15)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert welcome.params["text"] == text("start.welcome")


def _sotay(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOTAY_", "ZALO_"))
    }
    env["SOTAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    return env


def test_run_without_a_token_opens_the_console_over_demo_data(cli_env: dict[str, str]) -> None:
    assert _sotay(["db", "upgrade"], cli_env).returncode == 0
    seeded = _sotay(["demo", "seed", "--if-empty"], cli_env)
    assert "12 members added" in seeded.stdout
    again = _sotay(["demo", "seed", "--if-empty"], cli_env)
    assert "not empty" in again.stdout
    chat = _sotay(["run"], cli_env, stdin="/help\n5\n/khongco\n")
    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert text("start.welcome_linked", name="Trần Thị Bình", unit="Chi bộ Văn phòng") in out
    assert "  5. Quyền riêng tư" in out
    assert text("help.privacy") in out
    assert text("fallback.unknown_command", command="khongco") in out


def test_make_runs_one_process_that_migrates_seeds_and_chats(cli_env: dict[str, str]) -> None:
    """`make run` is `sotay run --demo`: on a fresh machine it creates the tables, adds the
    demo data and opens the chat; a second time it adds nothing. No Alembic line, no log
    line reaches the terminal."""
    first = _sotay(["run", "--demo"], cli_env, stdin="/lichhop\n")
    assert first.returncode == 0 and first.stderr == ""
    out = first.stdout
    assert out.startswith("database upgraded from revision none to ")
    assert "demo data ready: 4 chi bộ, 12 members added" in out
    banner = out.index("với tư cách đảng viên Trần Thị Bình")
    assert out.index("--as secretary  Nguyễn Văn An") < banner
    assert "Sinh hoạt chi bộ thường kỳ" in out[banner:]
    second = _sotay(["console", "--demo", "--as", "trainer"], cli_env, stdin="")
    assert second.returncode == 0 and second.stderr == ""
    assert (
        second.stdout.startswith("database is up to date (revision ")
        and "the roster is not empty: demo data not added\n" in second.stdout
    )
    assert "tập huấn viên Hoàng Thị Hà" in second.stdout
    assert "INFO" not in out + second.stdout


def test_console_refuses_an_old_schema_with_one_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    sqlite3.connect(tmp_path / "console.db").close()  # a database without the tables
    result = _sotay(["console"], cli_env, stdin="")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "sotay: the database schema is not up to date: run `sotay db upgrade`"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SOTAY_HTTP_PORT", "abc"), ("SOTAY_TIMEZONE", "Nowhere/City"), ("TELEGRAM_TOKEN", "x")],
)
def test_a_bad_setting_stops_with_one_clear_line(
    cli_env: dict[str, str], variable: str, value: str
) -> None:
    result = _sotay(["run"], {**cli_env, variable: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sotay: bad setting: ") and variable in lines[0]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run"], ["console"], ["db", "upgrade"], ["demo", "seed"], ["ask"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: sotay" in capsys.readouterr().out
