"""Reading an uploaded spreadsheet (a question bank sent in chat or on the web console, a
roster on the web console) without stopping the bot.

A small .xlsx can unpack to tens of megabytes, and parsing runs in pure Python: in the event
loop, one 137 KB file froze every chat for half a minute. So each file is parsed in a child
process of its own (multiprocessing, forked from a fork server), limited to CPU_SECONDS of
CPU and MEMORY_BYTES of memory, while the loop waits in a thread; and before any parsing
a file is refused when its members unpack to more than MAX_UNPACKED_BYTES or it holds more
rows than its kind allows. zipfile never inflates a member past the size the archive
declares (it stops and fails the CRC), so checking the declared sizes is enough."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import resource
import tempfile
import zipfile
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path

from bot.services.quizzes.bank import ImportResult, QuizFileError, read_question_file
from bot.services.roster_file import ParsedRoster, RosterFileError, read_roster

MAX_UNPACKED_BYTES = 20 * 1024 * 1024
# Lines of a file, its header among them.
MAX_ROWS = {"questions": 5_000, "roster": 20_000}
CPU_SECONDS = 20
MEMORY_BYTES = 2 * 1024 * 1024 * 1024
# The child's CPU limit stops a busy parse; this stops one that waits on nothing.
WALL_SECONDS = 60
_CHUNK = 1024 * 1024
# Children fork from a server process that imported the parsers once; forking the bot
# itself (its threads, its event loop) would not be safe.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])
_ROW_TAGS = (b"<row ", b"<row>")


class Kind(StrEnum):
    QUESTIONS = "questions"
    ROSTER = "roster"


class UploadRefused(QuizFileError, RosterFileError):
    """The file was not parsed: too big unpacked, too many rows, or too slow. The message is
    for the person who sent it, in Vietnamese."""


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


def _rows_in(stream: io.BufferedIOBase) -> int:
    """Rows of a worksheet's XML, counted without parsing it."""
    count, tail = 0, b""
    while chunk := stream.read(_CHUNK):
        data = tail + chunk
        count += sum(data.count(tag) for tag in _ROW_TAGS)
        tail = data[-4:]  # shorter than a tag: nothing counted twice
    return count


def check_limits(content: bytes, name: str, kind: Kind) -> None:
    """UploadRefused when the file is too big to parse; other files pass, and a broken one is
    left for the parser to explain."""
    max_rows = MAX_ROWS[kind]
    refuse_rows = UploadRefused(
        f"Tệp {name} có hơn {max_rows} dòng, quá nhiều để bot đọc. Đồng chí chia thành "
        "nhiều tệp nhỏ hơn rồi gửi lại. Không có gì được ghi."
    )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
        if lines > max_rows:
            raise refuse_rows
        return
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_UNPACKED_BYTES:
            raise UploadRefused(
                f"Tệp {name} giải nén ra {_mb(unpacked)} MB (tối đa {_mb(MAX_UNPACKED_BYTES)} "
                "MB), quá lớn để bot đọc. Đồng chí bỏ bớt dữ liệu thừa hoặc chia nhỏ tệp rồi "
                "gửi lại. Không có gì được ghi."
            )
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                with archive.open(member) as sheet:
                    if _rows_in(sheet) > max_rows:
                        raise refuse_rows


def _roster(content: bytes, name: str) -> ParsedRoster:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return read_roster(path)


def parse_here(kind: Kind, content: bytes, name: str) -> ImportResult | ParsedRoster:
    """In this process: the limits, then the parser of `kind`."""
    check_limits(content, name, kind)
    if kind is Kind.QUESTIONS:
        return read_question_file(content, name)
    return _roster(content, name)


def _limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard == resource.RLIM_INFINITY or value < hard:
        resource.setrlimit(which, (value, hard))


def _child(answer_to: Connection, kind: Kind, content: bytes, name: str, cpu_seconds: int) -> None:
    _limit(resource.RLIMIT_CPU, cpu_seconds)
    _limit(resource.RLIMIT_AS, MEMORY_BYTES)
    try:
        answer: tuple[str, object] = ("ok", parse_here(kind, content, name))
    except UploadRefused as refused:
        answer = ("refused", str(refused))
    except (QuizFileError, RosterFileError) as error:
        answer = ("error", str(error))
    answer_to.send(answer)
    answer_to.close()


def _in_child(kind: Kind, content: bytes, name: str, cpu_seconds: int) -> tuple[str, object]:
    """Runs in a thread: a child forked from the fork server (modules already imported, so
    a child starts in milliseconds), its answer, or ("died", None) when the limits or the
    clock stopped it."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child, args=(sender, kind, content, name, cpu_seconds), daemon=True
    )
    process.start()
    sender.close()
    try:
        if receiver.poll(WALL_SECONDS):
            try:
                return receiver.recv()  # type: ignore[no-any-return]
            except EOFError:
                pass  # killed: SIGXCPU at the CPU limit, or out of memory
        return ("died", None)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()


async def _parse(
    kind: Kind, content: bytes, name: str, *, cpu_seconds: int = CPU_SECONDS
) -> ImportResult | ParsedRoster:
    outcome, value = await asyncio.to_thread(_in_child, kind, content, name, cpu_seconds)
    if outcome == "ok":
        return value  # type: ignore[return-value]
    if outcome == "refused":
        raise UploadRefused(str(value))
    if outcome == "error":
        raise (QuizFileError if kind is Kind.QUESTIONS else RosterFileError)(str(value))
    raise UploadRefused(
        f"Tệp {name} cần quá nhiều thời gian hoặc bộ nhớ để đọc nên bot đã dừng. Đồng chí "
        "kiểm tra lại tệp (có thể chứa nhiều dữ liệu thừa) hoặc chia nhỏ rồi gửi lại. "
        "Không có gì được ghi."
    )


async def parse_questions(content: bytes, name: str) -> ImportResult:
    """A question sheet checked row by row, off the event loop; QuizFileError (UploadRefused
    among them) for a file that is not one or is too big. `name` picks the reader by its
    suffix and is quoted in messages."""
    result = await _parse(Kind.QUESTIONS, content, name)
    assert isinstance(result, ImportResult)
    return result


async def parse_roster(content: bytes, name: str) -> ParsedRoster:
    """A roster file checked row by row, off the event loop; RosterFileError (UploadRefused
    among them) for a file that is not one or is too big. `name` is a bare file name."""
    result = await _parse(Kind.ROSTER, content, name)
    assert isinstance(result, ParsedRoster)
    return result
