"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import Database
from bot.migrate import current_revision, head_revision
from bot.models import Base


async def test_database_is_at_the_newest_revision(database: Database) -> None:
    assert await current_revision(database.engine) == head_revision(database.url)


async def test_migrations_match_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []
