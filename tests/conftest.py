"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when SOTAY_TEST_DATABASE_URL
is set), emptied before each test, and the chat core on top of it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.chat import ChatCore
from bot.db import Database
from bot.keys import Keys
from bot.migrate import upgrade
from bot.models import Base
from bot.services import Shared
from bot.services.handbook import HandbookIndex, load_index
from bot.settings import Settings
from handlers import build_router
from handlers.notices import render_notice
from tests.clock import Clock

# Fixtures shared by several test modules.
pytest_plugins = ["tests.secretaries_harness", "tests.web_harness"]

TEST_DATABASE_URL = os.environ.get("SOTAY_TEST_DATABASE_URL")


async def _drop_everything(url: str) -> None:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await database.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated once per run with Alembic, so the tests also prove the migrations."""
    if TEST_DATABASE_URL:
        url = Settings.from_mapping({"SOTAY_DATABASE_URL": TEST_DATABASE_URL}).database_url
        asyncio.run(_drop_everything(url))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    async with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    yield db
    await db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_mapping({"SOTAY_DATABASE_URL": database_url})


@pytest.fixture
def keys(settings: Settings) -> Keys:
    """The keys of a process started with the `settings` fixture (no messenger, so the key
    generated under var/)."""
    return Keys.for_settings(settings)


@pytest.fixture(scope="session")
def handbook() -> HandbookIndex:
    return load_index()


@pytest.fixture
def shared(settings: Settings, handbook: HandbookIndex) -> Shared:
    return Shared(settings, handbook, render=render_notice)


@pytest.fixture
def core(database: Database, shared: Shared) -> ChatCore:
    return ChatCore(database, build_router(), shared)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves; a module may start it elsewhere with its own fixture."""
    return Clock()


@pytest.fixture
def chat(database: Database, settings: Settings, handbook: HandbookIndex, clock: Clock) -> ChatCore:
    """The chat core on the test's clock."""
    return ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
