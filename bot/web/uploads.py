"""Reading an uploaded spreadsheet with the same parsers as `sotay roster import` and
`sotay quiz import`. Every page calls these two functions only, so where the parsing runs
(here in a thread; later perhaps a subprocess) is decided in one place."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.services.quizzes.bank import ImportResult, read_question_file
from bot.services.roster_file import ParsedRoster, read_roster

# The confirming form carries the file back base64-encoded (4/3 larger) under the web
# app's 1 MiB request limit.
MAX_UPLOAD_BYTES = 700 * 1024
MAX_UPLOAD_KB = MAX_UPLOAD_BYTES // 1024


def _roster(content: bytes, name: str) -> ParsedRoster:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return read_roster(path)


async def parse_roster(content: bytes, name: str) -> ParsedRoster:
    """The roster file checked row by row; raises RosterFileError for a file that is not
    one. `name` is a bare file name (its suffix picks the reader)."""
    return await asyncio.to_thread(_roster, content, name)


async def parse_questions(content: bytes, name: str) -> ImportResult:
    """A question sheet checked row by row; raises QuizFileError for a file that is not
    one."""
    return await asyncio.to_thread(read_question_file, content, name)
