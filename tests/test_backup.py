"""`sotay db backup` and `sotay db restore`: a round trip gives back exactly what was backed up,
on SQLite and on PostgreSQL, and a restore that would lose data unasked is refused."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.backup import BackupError, backup, check_restore, pg_tool, restore
from bot.cli import main
from bot.db import Database
from bot.demo import seed_demo
from bot.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.models import Base, Member, Organisation


async def sotay(args: list[str]) -> int:
    return await asyncio.to_thread(main, args)


def _is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@pytest.fixture
def tools(database_url: str) -> None:
    if _is_postgresql(database_url):
        try:
            pg_tool("pg_dump")
            pg_tool("pg_restore")
        except BackupError as error:
            pytest.skip(str(error))


async def _roster(database: Database) -> list[tuple[str, str, str]]:
    # A fresh engine: a PostgreSQL restore recreates the tables under the old connections.
    await database.engine.dispose()
    async with database.session() as session:
        rows = await session.execute(
            select(Member.card_number, Member.full_name, Organisation.path)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .order_by(Member.card_number)
        )
        return [tuple(row) for row in rows]


async def _schema_differences(database: Database) -> list[object]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )


async def _seeded(database: Database) -> list[tuple[str, str, str]]:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    return await _roster(database)


async def _change_roster(database: Database) -> None:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == "90000001"))
        assert member is not None
        member.full_name = "Tên đã sửa"
        session.add(
            Member(card_number="99999999", full_name="Mới", organisation_id=member.organisation_id)
        )
    await database.engine.dispose()


async def test_a_backup_restored_gives_back_exactly_what_was_backed_up(
    database: Database, tools: None, tmp_path: Path
) -> None:
    before = await _seeded(database)
    assert len(before) == 12
    written = await backup(database.url, tmp_path / "sotay.backup")
    assert written.revision == head_revision(database.url)
    assert written.size > 0 and not written.behind_head
    assert os.listdir(tmp_path) == ["sotay.backup"]  # no temporary left

    await _change_roster(database)
    assert await _roster(database) != before
    with pytest.raises(BackupError, match=r"already holds data .*add --force"):
        await restore(database.url, tmp_path / "sotay.backup")
    assert len(await _roster(database)) == 13  # refused: nothing touched

    restored = await restore(database.url, tmp_path / "sotay.backup", force=True)
    assert restored.revision == written.revision
    assert await _roster(database) == before
    assert await current_revision(database.engine) == head_revision(database.url)
    assert await _schema_differences(database) == []


async def _migrate(url: str, revision: str) -> None:
    method = command.upgrade if revision == "head" else command.downgrade
    await asyncio.to_thread(method, alembic_config(url), revision)


async def test_an_older_backup_restored_over_a_newer_schema_needs_force(
    database: Database, tools: None, tmp_path: Path
) -> None:
    """Undoing an upgrade: a backup taken at 0006, restored over the database at head."""
    before = await _seeded(database)
    head = head_revision(database.url)
    await database.engine.dispose()
    try:
        await _migrate(database.url, "0006")
        written = await backup(database.url, tmp_path / "before-upgrade")
        assert written.revision == "0006" and written.behind_head
        await _migrate(database.url, "head")
        with pytest.raises(BackupError, match=rf"newer schema \({head}\) than the backup \(0006\)"):
            await restore(database.url, tmp_path / "before-upgrade")
        restored = await restore(database.url, tmp_path / "before-upgrade", force=True)
        assert restored.behind_head  # the command then says: run `sotay db upgrade`
        assert await current_revision(database.engine) == "0006"
        await database.engine.dispose()
        await _migrate(database.url, "head")  # the quiz tables of 0007 are made anew
        assert await _schema_differences(database) == []
        assert await _roster(database) == before
    finally:
        await database.engine.dispose()
        await _migrate(database.url, "head")


async def test_a_table_sotay_does_not_know_is_never_dropped_on_postgresql(
    database: Database, tools: None, tmp_path: Path
) -> None:
    """On PostgreSQL a table of someone else's that holds a key to a sotay table stops the
    restore, which then changes nothing; a SQLite restore replaces the whole file."""
    await _seeded(database)
    await backup(database.url, tmp_path / "b")
    await _change_roster(database)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE someone_elses"
                    " (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES members (id))"
                )
            )
        await database.engine.dispose()
        if _is_postgresql(database.url):
            with pytest.raises(BackupError, match="pg_restore failed: "):
                await restore(database.url, tmp_path / "b", force=True)
            assert len(await _roster(database)) == 13  # the changed roster, untouched
        else:
            await restore(database.url, tmp_path / "b", force=True)
            assert len(await _roster(database)) == 12
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS someone_elses"))
    assert await _schema_differences(database) == []


async def test_a_backup_from_a_newer_version_is_refused_even_with_force(
    database: Database, tools: None, tmp_path: Path
) -> None:
    await _seeded(database)
    head = head_revision(database.url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
        await database.engine.dispose()
        await backup(database.url, tmp_path / "newer")
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )
    with pytest.raises(BackupError, match="schema 0999, which this version of sotay does not"):
        await restore(database.url, tmp_path / "newer", force=True)
    assert len(await _roster(database)) == 12


def test_restore_rules(database_url: str) -> None:
    head = head_revision(database_url)
    assert head is not None
    check_restore(database_url, head, None, force=False)  # an empty database
    check_restore(database_url, "0001", None, force=False)  # old backup: upgrade after
    check_restore(database_url, head, head, force=True)
    check_restore(database_url, "0001", head, force=True)
    with pytest.raises(BackupError, match="already holds data"):
        check_restore(database_url, head, head, force=False)
    with pytest.raises(BackupError, match="already holds data"):
        check_restore(database_url, head, "0001", force=False)  # backup newer than the db
    with pytest.raises(BackupError, match=f"newer schema \\({head}\\) than the backup \\(0001\\)"):
        check_restore(database_url, "0001", head, force=False)
    with pytest.raises(BackupError, match="does not know"):
        check_restore(database_url, "zzzz", None, force=True)


async def test_an_older_backup_says_to_upgrade(tmp_path: Path) -> None:
    """A SQLite database at revision 0001 (an old version's), backed up and restored."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
    written = await backup(url, tmp_path / "old.backup")
    assert written.revision == "0001" and written.behind_head
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'fresh.db'}"
    restored = await restore(fresh, tmp_path / "old.backup")  # an empty database: no --force
    assert restored.behind_head


async def test_a_failed_backup_keeps_the_older_file_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()  # a SQLite file without sotay's tables
    old = tmp_path / "keep.backup"
    old.write_bytes(b"the good backup of yesterday")
    with pytest.raises(BackupError, match="nothing to back up"):
        await backup(f"sqlite+aiosqlite:///{empty}", old)
    assert old.read_bytes() == b"the good backup of yesterday"
    assert sorted(os.listdir(tmp_path)) == ["empty.db", "keep.backup"]


async def test_files_that_are_not_backups_are_refused(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    with pytest.raises(BackupError, match=r"notes\.txt is not a sotay backup"):
        await restore(database_url, junk)
    with pytest.raises(BackupError, match="no backup file"):
        await restore(database_url, tmp_path / "missing")
    other = tmp_path / "other"
    other.write_bytes(
        b"PGDMP\x01\x0e" if not _is_postgresql(database_url) else b"SQLite format 3\x00"
    )
    kind = "a PostgreSQL dump" if not _is_postgresql(database_url) else "a SQLite database"
    with pytest.raises(BackupError, match=f"is {kind}; SOTAY_DATABASE_URL is a"):
        await restore(database_url, other)


async def test_the_live_sqlite_file_is_not_a_backup_target(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    await asyncio.to_thread(upgrade, url)
    with pytest.raises(BackupError, match="must not be the database itself"):
        await backup(url, tmp_path / "live.db")


def test_missing_postgresql_programs_are_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError) as raised:
        pg_tool("pg_dump", bin_glob=str(tmp_path / "*" / "bin"))
    assert str(raised.value) == (
        "pg_dump is not installed: install the PostgreSQL client programs "
        "(Debian: apt-get install postgresql-client) of the server's version or newer"
    )


def test_the_newest_debian_postgresql_programs_are_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    for version in ("9.6", "15", "13"):
        program = tmp_path / version / "bin" / "pg_dump"
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    found = pg_tool("pg_dump", bin_glob=str(tmp_path / "*" / "bin"))
    assert found == str(tmp_path / "15" / "bin" / "pg_dump")


async def test_the_commands(
    database: Database,
    tools: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _seeded(database)
    await database.dispose()
    monkeypatch.setenv("SOTAY_DATABASE_URL", database.url)
    target = tmp_path / "nightly.backup"
    assert await sotay(["db", "backup", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backup written to {target} (schema {head_revision(database.url)}, ")
    assert await sotay(["db", "restore", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sotay: restore refused: the database already")
    assert await sotay(["db", "restore", "--force", str(target)]) == 0
    assert (
        capsys.readouterr().out
        == f"database restored from {target} (schema {head_revision(database.url)})\n"
    )
    assert await sotay(["db", "backup", str(tmp_path / "no" / "dir" / "x")]) == 1
    assert (
        capsys.readouterr().err
        == f"sotay: backup failed: no directory {tmp_path / 'no' / 'dir'} to write the backup in\n"
    )
