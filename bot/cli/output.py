"""Files a command writes. Each is written to a temporary file beside its target and moved
over the target only once complete, so a command that fails (a full disk, Ctrl+C, a second
file it cannot write) leaves no half-written file behind, and an older file stays whole."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.cli.errors import CliError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def output_file(path: Path) -> Iterator[Path]:
    """A temporary path (same directory, same suffix: writers go by it) to write `path`
    to; renamed to `path` when the block ends, removed if it raises or wrote nothing.
    Entered before the work that fills it, so a path that cannot be written is told before
    anything is done. CliError, naming the file, when it cannot be written."""
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a directory; nothing written")
    directory = path.parent
    if not directory.is_dir():
        raise CliError(f"cannot write {path}: no directory {directory}; nothing written")
    try:
        handle, name = tempfile.mkstemp(dir=directory, prefix=f".{path.stem}.", suffix=path.suffix)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}; nothing written") from None
    os.close(handle)
    temporary = Path(name)
    try:
        try:
            yield temporary
        except OSError as exc:
            if exc.filename not in (name, temporary):
                raise  # about another file
            raise CliError(f"cannot write {path}: {exc.strerror or exc}; nothing written") from None
        if not temporary.stat().st_size:
            return  # nothing to write after all
        try:
            # mkstemp makes the file private; the finished one gets the usual permissions.
            temporary.chmod(0o666 & ~_umask())
            temporary.replace(path)
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}; nothing written") from None
    finally:
        temporary.unlink(missing_ok=True)
