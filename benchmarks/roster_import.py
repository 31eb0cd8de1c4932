"""Roster import at province scale: 100,000 members in a realistic tree (1 province, 20 Party
committees, 2,000 chi bộ), written as CSV and imported with `sotay roster import`: into a
fresh SQLite file, and into PostgreSQL when a URL is given. Each database also gets a
re-import of the same file (all unchanged) and one with 1% of the phones changed.

    .venv/bin/python benchmarks/roster_import.py [--postgres-url URL] [--rows N]

The PostgreSQL database must hold no roster yet (it is migrated first, and the benchmark's
rows are deleted afterwards). Prints one `name: value` line per figure."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, select

from bot.cli import main as sotay
from bot.db import Database
from bot.migrate import upgrade
from bot.models import AuditEntry, Member, Organisation, RoleGrant
from bot.settings import Settings

COMMITTEES = 20
CHI_BO_PER_COMMITTEE = 100
HEADER = [
    "Họ và tên",
    "Ngày sinh",
    "Số thẻ đảng viên",
    "Số điện thoại",
    "Đơn vị",
    "Vai trò",
    "Loại",
    "Ngày vào Đảng",
    "Người giới thiệu 1",
    "Người giới thiệu 2",
]
_FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
_MIDDLE = "Văn Thị Minh Thanh Quốc Đức Thu Ngọc Hữu Xuân Hoài Bảo".split()
_GIVEN = "An Bình Châu Dũng Hà Khang Lộc Mai Nam Oanh Phúc Quỳnh Sơn Tâm Uyên Vy Yến".split()


def generate(path: Path, rows: int, rng: random.Random) -> None:
    per_chi_bo = max(1, rows // (COMMITTEES * CHI_BO_PER_COMMITTEE))
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for n in range(rows):
            chi_bo = n // per_chi_bo
            committee = chi_bo // CHI_BO_PER_COMMITTEE % COMMITTEES
            seat = n % per_chi_bo
            probationary = rng.random() < 0.05
            # A probationary member's admission in 2025, sponsored by the chi bộ's first two
            # members (the optional probation columns); blank for the others.
            admitted = f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/2025"
            first = 30_000_000 + chi_bo * per_chi_bo
            writer.writerow(
                [
                    f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
                    f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(1945, 2004)}",
                    str(30_000_000 + n),
                    f"09{n:08d}",
                    f"Đảng bộ tỉnh Thử nghiệm/Đảng bộ khối {committee + 1}/Chi bộ số {chi_bo + 1}",
                    {0: "bí thư", 1: "phó bí thư"}.get(seat, ""),
                    "dự bị" if probationary else "chính thức",
                    admitted if probationary else "",
                    str(first) if probationary and seat > 1 else "",
                    str(first + 1) if probationary and seat > 1 else "",
                ]
            )


def change_phones(source: Path, target: Path, share: float, rng: random.Random) -> int:
    with source.open(encoding="utf-8-sig", newline="") as file:
        lines = list(csv.reader(file))
    changed = rng.sample(range(1, len(lines)), int((len(lines) - 1) * share))
    for index in changed:
        lines[index][3] = f"03{index:08d}"
    with target.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(lines)
    return len(changed)


def timed_import(url: str, path: Path, expect: str) -> float:
    """Seconds for `sotay roster import`, checked against a line of its summary."""
    os.environ["SOTAY_DATABASE_URL"] = url
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = sotay(["roster", "import", str(path)])
    seconds = time.perf_counter() - start
    if code != 0 or expect not in out.getvalue():
        sys.exit(
            f"import into {url.split('://')[0]} did not do what was expected:\n{out.getvalue()}"
        )
    return seconds


async def _roster_size(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        async with database.session() as session:
            members = await session.scalar(select(func.count()).select_from(Member))
            audit = await session.scalar(select(func.max(AuditEntry.id)))
            return members or 0, audit or 0
    finally:
        await database.dispose()


async def _remove_roster(url: str, audit_before: int) -> None:
    database = Database(url)
    try:
        async with database.session() as session, session.begin():
            for table in (RoleGrant, Member):
                await session.execute(delete(table))
            await session.execute(delete(Organisation).where(Organisation.parent_id.is_not(None)))
            await session.execute(delete(Organisation))
            await session.execute(delete(AuditEntry).where(AuditEntry.id > audit_before))
    finally:
        await database.dispose()


def run(name: str, url: str, files: dict[str, Path], rows: int, changed: int) -> None:
    upgrade(url)
    members, audit_before = asyncio.run(_roster_size(url))
    if members:
        sys.exit(f"{name}: the database already holds a roster; give an empty one")
    try:
        seconds = timed_import(url, files["first"], f"created: {rows}")
        print(f"{name}_import_seconds: {seconds:.1f}", flush=True)
        seconds = timed_import(url, files["first"], f"unchanged: {rows}")
        print(f"{name}_reimport_seconds: {seconds:.1f}", flush=True)
        seconds = timed_import(url, files["changed"], f"updated: {changed}")
        print(f"{name}_reimport_changed_phones_seconds: {seconds:.1f}", flush=True)
    finally:
        if name != "sqlite":
            asyncio.run(_remove_roster(url, audit_before))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOTAY_BENCH_POSTGRES_URL"),
        help="also benchmark this PostgreSQL database (default: $SOTAY_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="members (default 100000)")
    args = parser.parse_args()
    rng = random.Random(2025)
    with tempfile.TemporaryDirectory() as folder:
        files = {"first": Path(folder) / "roster.csv", "changed": Path(folder) / "changed.csv"}
        generate(files["first"], args.rows, rng)
        changed = change_phones(files["first"], files["changed"], 0.01, rng)
        print(f"rows: {args.rows}")
        print(f"chi_bo: {COMMITTEES * CHI_BO_PER_COMMITTEE}")
        print(f"changed_phones: {changed}", flush=True)
        run("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db", files, args.rows, changed)
        if args.postgres_url:
            url = Settings.from_mapping({"SOTAY_DATABASE_URL": args.postgres_url}).database_url
            run("postgres", url, files, args.rows, changed)


if __name__ == "__main__":
    main()
