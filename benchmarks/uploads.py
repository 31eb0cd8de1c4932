"""What reading an uploaded question sheet costs, and what it no longer costs everyone else
(issue #14 item 8): a 4,999-question .xlsx read in this process and in the limited child
process, the longest the event loop stalls meanwhile (a ticker every 10 ms measures it), and
how fast a zip bomb (a few KB unpacking past 20 MB) is refused.

    .venv/bin/python benchmarks/uploads.py

Prints one `name: value` line per figure."""

from __future__ import annotations

import asyncio
import io
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook

from bot.services.quizzes.bank import read_question_file
from bot.services.uploads import MAX_UNPACKED_BYTES, UploadRefused, parse_questions

HEADER = ["Câu hỏi", "A", "B", "C", "D", "Đáp án", "Giải thích", "Chủ đề", "Độ khó"]


def sheet(rows: int) -> bytes:
    book = Workbook()
    page = book.active
    assert page is not None
    page.append(HEADER)
    for n in range(rows):
        page.append(
            [f"Câu {n}?", f"A {n}", f"B {n}", f"C {n}", f"D {n}", "A", "Vì.", "Chủ đề", "dễ"]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def stall_while(work: asyncio.Future[object] | asyncio.Task[object]) -> float:
    """The longest gap between 10 ms ticks while `work` runs, in ms."""
    worst, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        worst, last = max(worst, now - last - 0.01), now
    await work
    return worst * 1000


async def main() -> None:
    content = sheet(4999)
    start = time.perf_counter()
    read_question_file(content, "kho.xlsx")  # as the chat handler did: the loop stalled
    print(f"in_loop_parse_stall_s: {time.perf_counter() - start:.2f}")

    await parse_questions(sheet(3), "nho.xlsx")  # the fork server starts once
    start = time.perf_counter()
    await parse_questions(sheet(3), "nho.xlsx")
    print(f"child_overhead_small_file_ms: {(time.perf_counter() - start) * 1000:.0f}")

    start = time.perf_counter()
    stall = await stall_while(asyncio.ensure_future(parse_questions(content, "kho.xlsx")))
    print(f"child_parse_s: {time.perf_counter() - start:.2f}")
    print(f"loop_stall_during_child_parse_ms: {stall:.0f}")

    packed = io.BytesIO(sheet(3))
    with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(2 * MAX_UNPACKED_BYTES))
    bomb = packed.getvalue()
    start = time.perf_counter()
    try:
        await parse_questions(bomb, "bom.xlsx")
    except UploadRefused:
        pass
    print(f"zip_bomb_bytes: {len(bomb)}")
    print(f"zip_bomb_refused_ms: {(time.perf_counter() - start) * 1000:.0f}")


if __name__ == "__main__":
    asyncio.run(main())
