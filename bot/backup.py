"""`sotay db backup FILE` and `sotay db restore FILE`: a copy of the whole database, taken while
the bot runs, and put back.

- SQLite: the online backup API (sqlite3.Connection.backup) copies a consistent snapshot
  while the bot keeps writing; a restore copies the file back the same way, into the live
  database under its lock, so a stale -wal file can never be paired with the new content.
- PostgreSQL: pg_dump's custom format, and pg_restore in one transaction (all or nothing).
  The password goes to the tools in PGPASSWORD, never on their command line.

A backup is written to a temporary file beside FILE, checked, then renamed over FILE, so a
failed or interrupted backup never leaves a truncated FILE (nor replaces a good older one).

What a restore refuses (each with one line saying why):
- a file that is not a backup of this kind of database (a SQLite file for PostgreSQL...);
- a backup whose schema this version of sotay does not know (made by a newer version: use
  that version, whose `sotay db upgrade` knows where it stands);
- without --force, a database that already holds a sotay schema, since a restore replaces
  all of it; the line says when the database's schema is newer than the backup's (with
  --force, the tables of this version that the backup lacks are dropped too). After
  restoring an older backup, `sotay db upgrade` brings it to this version.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database
from bot.migrate import alembic_config
from bot.models import Base

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Where Debian puts each installed PostgreSQL version's programs, newest wins.
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    revision: str  # the schema revision the backup holds
    size: int  # bytes of the backup file
    behind_head: bool  # the schema is older than this version's: `sotay db upgrade` next


def _head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _is_older(url: str, revision: str, than: str) -> bool:
    """True if `revision` comes before `than` in this version's migrations."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return revision != than and any(
        r.revision == revision for r in script.iterate_revisions(than, "base")
    )


def _known(url: str, revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config(url)).get_revision(revision) is not None
    except CommandError:
        return False


def check_restore(url: str, backup: str, target: str | None, *, force: bool) -> None:
    """Raises BackupError when restoring a backup at schema `backup` over a database at
    `target` (None: no sotay schema there) is refused (see the module docstring)."""
    if not _known(url, backup):
        raise BackupError(
            f"the backup holds schema {backup}, which this version of sotay does not know "
            "(it was made by a newer version): restore it with that version"
        )
    if target is None or force:
        return
    # A schema this version does not know is newer than any it does.
    newer = not _known(url, target) or _is_older(url, backup, target)
    if newer:
        raise BackupError(
            f"the database holds a newer schema ({target}) than the backup ({backup}): "
            "restoring replaces all of its data and drops its newer tables; add --force to do it"
        )
    raise BackupError(
        f"the database already holds data (schema {target}): restoring replaces all of it "
        "with the backup's; add --force to do it"
    )


@contextlib.contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """A temporary file in FILE's directory, renamed over FILE if the block succeeds and
    removed if it fails."""
    directory = target.parent
    if target.is_dir():
        raise BackupError(f"{target} is a directory, not a file to write the backup in")
    if not directory.is_dir():
        raise BackupError(f"no directory {directory} to write the backup in")
    handle, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(target)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # the rename itself survives a power cut
        finally:
            os.close(descriptor)
    finally:
        partial.unlink(missing_ok=True)


def _magic(path: Path) -> bytes:
    if not path.is_file():
        raise BackupError(f"no backup file {path}")
    with path.open("rb") as file:
        return file.read(len(SQLITE_MAGIC))


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def _sqlite_backup(url: URL, target: Path) -> str:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no database file {source_path}")
    if target.resolve() in {source_path.resolve(), Path(f"{source_path.resolve()}-wal")}:
        raise BackupError("the backup file must not be the database itself")
    with _temporary_beside(target) as partial:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one step: a consistent snapshot, writers wait briefly
            revision = _sqlite_revision(copy)
            if revision is None:
                raise BackupError("nothing to back up: the database has no sotay tables")
            if copy.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError("the copy failed its integrity check; nothing written")
            # The copy is one plain file: no -wal beside it to carry along.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
    return revision


def _sqlite_backup_revision(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"{path} is damaged (it fails SQLite's integrity check)")
        revision = _sqlite_revision(connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    finally:
        connection.close()
    if revision is None:
        raise BackupError(f"{path} is a SQLite file but not a sotay backup")
    return revision


def _sqlite_restore(url: URL, source_path: Path, *, force: bool) -> str:
    revision = _sqlite_backup_revision(source_path)
    target_path = _sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=5)
    try:
        check_restore(url.render_as_string(False), revision, _sqlite_revision(target), force=force)
        try:
            source.backup(target)  # replaces every page of the live database under its lock
        except sqlite3.OperationalError as error:
            raise BackupError(f"the database is busy ({error}): stop the bot first") from None
    finally:
        target.close()
        source.close()
    return revision


# --- PostgreSQL ------------------------------------------------------------------------------


def pg_tool(name: str, *, bin_glob: str = PG_BIN_GLOB) -> str:
    """The path of pg_dump or pg_restore: on PATH, else the newest Debian PostgreSQL's."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        glob.glob(bin_glob), key=lambda d: [int(p) for p in Path(d).parent.name.split(".")]
    )
    for directory in reversed(versions):
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"{name} is not installed: install the PostgreSQL client programs "
        "(Debian: apt-get install postgresql-client) of the server's version or newer"
    )


def _pg_environment(url: URL) -> dict[str, str]:
    """The connection for pg_dump and pg_restore, in libpq's variables."""
    values = {
        "PGHOST": url.host or str(url.query.get("host") or ""),
        "PGPORT": str(url.port or ""),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
        "PGSSLMODE": _ssl_mode(url),
    }
    # Like asyncpg, libpq also reads the PG* variables the URL leaves out.
    return {**os.environ, **{k: v for k, v in values.items() if v}}


def _ssl_mode(url: URL) -> str:
    """libpq's sslmode from the URL's `sslmode`, or asyncpg's `ssl` (require, true...)."""
    mode = str(url.query.get("sslmode") or url.query.get("ssl") or "")
    return "require" if mode.lower() in ("true", "1", "on") else mode


async def _run(program: str, *args: str, environment: dict[str, str]) -> bytes:
    process = await asyncio.create_subprocess_exec(
        program,
        *args,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        said = lines[0] if lines else f"exit status {process.returncode}"
        raise BackupError(f"{Path(program).name} failed: {said.strip()[:300]}")
    return out


async def _pg_revision(connection: AsyncConnection) -> str | None:
    if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
        return None
    return await connection.scalar(text("SELECT version_num FROM alembic_version"))


def _unreachable(error: Exception) -> BackupError:
    said = str(error).splitlines()[0] if str(error) else type(error).__name__
    # SQLAlchemy puts the driver's class in front: "(...asyncpg.Error) password ..."
    said = re.sub(r"^\([\w.]+\) ", "", said)
    return BackupError(f"cannot open the database: {said[:300]}")


async def _pg_dump_revision(path: Path, environment: dict[str, str]) -> str:
    """The schema revision inside a custom-format dump, from its alembic_version data."""
    script = await _run(
        pg_tool("pg_restore"),
        "--data-only",
        "--table=alembic_version",
        "--file=-",
        str(path),
        environment=environment,
    )
    lines = script.decode().splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            if lines[index + 1] != "\\.":
                return lines[index + 1].strip()
    raise BackupError(f"{path} is a PostgreSQL dump but not a sotay backup")


async def _pg_dump_tables(path: Path, environment: dict[str, str]) -> set[str]:
    listing = await _run(pg_tool("pg_restore"), "--list", str(path), environment=environment)
    tables = set()
    for line in listing.decode().splitlines():
        # "215; 1259 16390 TABLE public members sotay"
        parts = line.split()
        if not line.startswith(";") and len(parts) >= 6 and parts[3:5] != ["TABLE", "DATA"]:
            if parts[3] == "TABLE":
                tables.add(parts[5])
    return tables


async def _pg_backup(url: URL, target: Path) -> str:
    environment = _pg_environment(url)
    program = pg_tool("pg_dump")
    database = Database(url.render_as_string(False))
    try:
        async with database.engine.connect() as connection:
            revision = await _pg_revision(connection)
    except (OSError, SQLAlchemyError) as error:
        raise _unreachable(error) from None
    finally:
        await database.dispose()
    if revision is None:
        raise BackupError("nothing to back up: the database has no sotay tables")
    with _temporary_beside(target) as partial:
        await _run(program, "--format=custom", f"--file={partial}", environment=environment)
        if await _pg_dump_revision(partial, environment) != revision:
            raise BackupError("the schema changed while the backup ran; run it again")
    return revision


async def _pg_restore(url: URL, path: Path, *, force: bool) -> str:
    environment = _pg_environment(url)
    program = pg_tool("pg_restore")
    revision = await _pg_dump_revision(path, environment)
    in_backup = await _pg_dump_tables(path, environment)
    database = Database(url.render_as_string(False))
    try:
        async with database.engine.begin() as connection:
            target = await _pg_revision(connection)
            check_restore(url.render_as_string(False), revision, target, force=force)
            # Tables of this version's newer schema that the backup lacks would be left
            # behind, holding foreign keys to the restored ones: they go first (only ever
            # with --force). Tables sotay does not know are left alone: if they stand in
            # the way, pg_restore fails and its transaction changes nothing.
            present = await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            ours = set(Base.metadata.tables)
            for table in sorted((set(present) & ours) - in_backup):
                await connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    except (OSError, SQLAlchemyError) as error:
        raise _unreachable(error) from None
    finally:
        await database.dispose()
    await _run(
        program,
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={environment.get('PGDATABASE', '')}",
        str(path),
        environment=environment,
    )
    return revision


# --- The two commands ------------------------------------------------------------------------


async def backup(database_url: str, target: Path) -> BackupInfo:
    """Writes a backup of the database to `target` (replacing an older backup there)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        revision = await asyncio.to_thread(_sqlite_backup, url, target)
    elif url.get_backend_name() == "postgresql":
        revision = await _pg_backup(url, target)
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    return _outcome(database_url, target, revision)


async def restore(database_url: str, source: Path, *, force: bool = False) -> BackupInfo:
    """Puts the backup in `source` back into the database (see the module docstring)."""
    url = make_url(database_url)
    magic = _magic(source)
    backend = url.get_backend_name()
    runs: dict[str, tuple[bytes, Callable[[], Awaitable[str]]]] = {
        "sqlite": (
            SQLITE_MAGIC,
            lambda: asyncio.to_thread(_sqlite_restore, url, source, force=force),
        ),
        "postgresql": (PG_DUMP_MAGIC, lambda: _pg_restore(url, source, force=force)),
    }
    if backend not in runs:
        raise BackupError(f"cannot restore into a {backend} database")
    expected, run = runs[backend]
    if not magic.startswith(expected):
        kind = (
            "a SQLite database"
            if magic.startswith(SQLITE_MAGIC)
            else "a PostgreSQL dump"
            if magic.startswith(PG_DUMP_MAGIC)
            else "not a sotay backup"
        )
        raise BackupError(f"{source} is {kind}; SOTAY_DATABASE_URL is a {backend} database")
    return _outcome(database_url, source, await run())


def _outcome(database_url: str, path: Path, revision: str) -> BackupInfo:
    head = _head(database_url)
    behind = head is not None and _is_older(database_url, revision, head)
    return BackupInfo(path, revision, path.stat().st_size, behind)
