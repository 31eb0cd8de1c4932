"""Every `sotay` subcommand, run as a process the way an operator runs it, with what goes
wrong in practice: a missing or malformed argument, a database that is not there or not
migrated (each command gets one of the two, in turn: they meet the same check), files that
cannot be read or written, Ctrl+C and a reader that stops early. Each ends with one line
`sotay: …` on stderr (none for a closed pipe), no traceback, the exit code of its kind,
and nothing written: no file, no temporary file, no database created.

The subcommands are read from the argparse parser, so a new one fails
`test_every_subcommand_has_a_case` until it is given its arguments here."""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.cli import build_parser

Leaf = tuple[str, ...]
# Arguments that take each subcommand past argparse to its work. {dir} is a folder of
# valid input files; {out} a folder to write to.
VALID: dict[Leaf, list[str]] = {
    ("run",): [],
    ("console",): ["--as", "member"],
    ("db", "upgrade"): [],
    ("db", "backup"): ["{out}/backup.db"],
    ("db", "restore"): ["{dir}/backup.db"],
    ("demo", "seed"): [],
    ("ask",): ["đảng phí"],
    ("content", "check"): [],
    ("content", "review-list"): ["--out", "{out}/review.xlsx"],
    ("questions", "unanswered"): ["--since", "2026-01-01", "--out", "{out}/q.xlsx"],
    ("broadcast", "send"): ["--unit", "Tỉnh", "--text-file", "{dir}/notice.txt"],
    ("dispatcher",): [],
    ("roster", "import"): ["{dir}/roster.csv"],
    ("org", "list"): [],
    ("org", "rename"): ["Tỉnh", "Tỉnh mới"],
    ("org", "move"): ["Tỉnh/Chi bộ A", "/"],
    ("org", "merge"): ["Tỉnh/Chi bộ A", "Tỉnh/Chi bộ B"],
    ("role", "grant"): ["90000001", "--role", "admin"],
    ("role", "revoke"): ["90000001", "--role", "admin"],
    ("role", "list"): [],
    ("codes", "issue"): ["--unit", "Tỉnh", "--out", "{out}/codes.xlsx"],
    ("report", "adoption"): ["--out", "{out}/a.xlsx", "--chart", "{out}/a.png"],
    ("report", "attendance"): ["--unit", "Tỉnh", "--year", "2026", "--out", "{out}/t.xlsx"],
    ("audit", "show"): [],
    ("meetings", "import"): ["{dir}/calendar.xlsx"],
    ("quiz", "import"): ["{dir}/questions.csv"],
    ("quiz", "schedule"): [
        *("--title", "Ôn tập", "--units", "Tỉnh", "--questions", "5"),
        *("--opens", "2026-12-01 08:00", "--closes", "2026-12-03 08:00"),
    ],
    ("quiz", "report"): ["--quiz", "1", "--out", "{out}/r.xlsx", "--chart", "{out}/r.png"],
    ("web", "login-link"): ["--card", "90000004"],
}
# Read no database.
NO_DATABASE = {("ask",), ("content", "check"), ("content", "review-list")}
# Values argparse refuses, for the options that have a type.
MALFORMED: dict[Leaf, list[str]] = {
    ("audit", "show"): ["--limit", "many"],
    ("questions", "unanswered"): ["--since", "2026-13-01", "--out", "{out}/q.xlsx"],
    ("report", "attendance"): ["--unit", "Tỉnh", "--year", "năm nay", "--out", "{out}/t.xlsx"],
    ("quiz", "report"): ["--quiz", "một", "--out", "{out}/r.xlsx"],
    ("quiz", "schedule"): [*VALID[("quiz", "schedule")][:-2], "--closes", "mai"],
    ("role", "grant"): ["90000001", "--role", "king"],
    ("console",): ["--as", "king"],
}


def _leaves(parser: argparse.ArgumentParser, path: Leaf = ()) -> Iterator[tuple[Leaf, object]]:
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield path, parser
        return
    for name, child in subcommands[0].choices.items():
        yield from _leaves(child, (*path, name))


LEAVES = dict(_leaves(build_parser()))


def _options(leaf: Leaf) -> set[str]:
    parser = LEAVES[leaf]
    assert isinstance(parser, argparse.ArgumentParser)
    return {option for action in parser._actions for option in action.option_strings}


def _requires_arguments(leaf: Leaf) -> bool:
    parser = LEAVES[leaf]
    assert isinstance(parser, argparse.ArgumentParser)
    # argparse marks a "*" positional required, but takes none given.
    return any(action.required and action.nargs != "*" for action in parser._actions)


def _input_files(leaf: Leaf) -> list[int]:
    """Where in VALID[leaf] the subcommand is given a file to read."""
    return [i for i, arg in enumerate(VALID[leaf]) if arg.startswith("{dir}/")]


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    code: int
    says: str | None  # in the one line on stderr; None: nothing on stderr
    database: str = "missing"  # missing, empty (not migrated) or demo (migrated, demo data)
    stdin: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)


# What each command using the database is run with, in turn: the database file is not
# there, or it is there without the tables (every command goes through the same check).
_BAD_DATABASES = (
    ("missing database", "missing", "no database at"),
    (
        "database not migrated",
        "empty",
        "the database schema is not up to date: run `sotay db upgrade`",
    ),
)
# And the ways an output path goes wrong, in turn.
_BAD_OUTPUTS = (
    ("in a missing folder", "{out}/none/x.xlsx", "no directory {out}/none"),
    ("a folder", "{out}/folder.xlsx", "it is a directory"),
    ("under a file", "{dir}/notice.txt/x.xlsx", "no directory"),
)


def _cases() -> Iterator[Case]:
    databases = outputs = 0
    for leaf, args in VALID.items():
        command = " ".join(leaf)
        if _requires_arguments(leaf):
            yield Case(f"{command}: no arguments", [*leaf], 2, "the following arguments are")
        else:
            yield Case(f"{command}: unknown option", [*leaf, *args, "--frobnicate"], 2, "unrecog")
        if leaf in MALFORMED:
            yield Case(f"{command}: malformed value", [*leaf, *MALFORMED[leaf]], 2, "argument")
        if leaf == ("db", "upgrade"):
            # A database file under a regular file can never be created.
            yield Case(
                "db upgrade: impossible path",
                [*leaf],
                1,
                "cannot upgrade the database",
                extra_env={"SOTAY_DATABASE_URL": "sqlite:///{dir}/notice.txt/x.db"},
            )
        elif leaf == ("db", "backup"):
            yield Case("db backup: missing database", [*leaf, *args], 1, "no database file")
        elif leaf not in NO_DATABASE | {("db", "restore")}:
            # (Restoring into a missing or empty database is what restore is for.)
            kind, database, says = _BAD_DATABASES[databases % len(_BAD_DATABASES)]
            databases += 1
            yield Case(f"{command}: {kind}", [*leaf, *args], 1, says, database=database)
        for index in _input_files(leaf):
            for kind, path, says in (
                ("missing", "{dir}/none.xlsx", "none.xlsx"),
                ("a directory", "{dir}", ""),
                ("not a spreadsheet", "{dir}/garbage.xlsx", "garbage.xlsx"),
            ):
                if leaf == ("broadcast", "send") and kind == "not a spreadsheet":
                    path, says = "{dir}/garbage.bin", "garbage.bin"
                argv = [*leaf, *args]
                argv[len(leaf) + index] = path
                yield Case(f"{command}: input file {kind}", argv, 1, says, database="demo")
        options = _options(leaf)
        if "--out" in options:
            kind, bad, says = _BAD_OUTPUTS[outputs % len(_BAD_OUTPUTS)]
            outputs += 1
            argv = [*leaf, *args]
            argv[argv.index(args[args.index("--out") + 1])] = bad
            yield Case(f"{command}: --out {kind}", argv, 1, says)
        if "--chart" in options:
            chart = args[args.index("--chart") + 1]
            argv = [*leaf, *args]
            argv[argv.index(chart)] = "{out}/none/chart.png"
            # The sheet is not written either.
            yield Case(
                f"{command}: --chart in a missing folder",
                argv,
                1,
                "cannot write {out}/none/chart.png: no directory",
                database="demo",
            )
    yield Case("run --web: nothing to answer", ["run", "--web"], 1, "run --web: nothing to answer")
    yield Case("ask: no question", ["ask"], 2, "ask: give a question")
    yield Case("ask: the reader is gone", ["ask", "đảng phí"], 0, None)
    yield Case("ask --jsonl: the reader is gone", ["ask", "--jsonl"], 0, None, stdin="a\nb\n")


CASES = list(_cases())


def test_every_subcommand_has_a_case() -> None:
    assert sorted(LEAVES) == sorted(VALID), "give each subcommand its arguments in VALID"


@pytest.mark.parametrize("leaf", sorted(LEAVES), ids=" ".join)
def test_every_subcommand_explains_itself_with_help(
    leaf: Leaf, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sotay … --help`: exit 0, the usage, and a description of what the command does."""
    with pytest.raises(SystemExit) as leaving:
        build_parser().parse_args([*leaf, "--help"])
    assert leaving.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: sotay {' '.join(leaf)} ")
    parser = LEAVES[leaf]
    assert isinstance(parser, argparse.ArgumentParser)
    assert parser.description, f"sotay {' '.join(leaf)} has no description"
    assert " ".join(parser.description.split()[:4]) in " ".join(shown.split())


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli")
    inputs = base / "inputs"
    inputs.mkdir()
    (inputs / "notice.txt").write_text("Chi bộ họp lúc 19h30.", encoding="utf-8")
    (inputs / "garbage.xlsx").write_bytes(b"\x00\x01 this is no spreadsheet \xff" * 10)
    (inputs / "garbage.bin").write_bytes(b"\xff\xfe\x00\x9f" * 10)
    (inputs / "roster.csv").write_text(
        "Họ và tên,Số thẻ đảng viên,Đơn vị\nNguyễn Văn A,91000001,Tỉnh/Chi bộ A\n",
        encoding="utf-8",
    )
    (inputs / "questions.csv").write_text(
        "Câu hỏi,A,B,C,D,Đáp án,Giải thích,Chủ đề\n"
        "Đảng viên dự bị mấy tháng?,6,12,18,24,B,Mười hai tháng.,Kết nạp\n",
        encoding="utf-8",
    )
    workbook = Workbook()
    workbook.active.append(["Đơn vị", "Loại", "Ngày", "Giờ", "Địa điểm"])
    workbook.active.append(["Tỉnh", "thường kỳ", "05/01/2027", "19:30", "Hội trường"])
    workbook.save(inputs / "calendar.xlsx")
    empty = base / "empty.db"
    sqlite3.connect(empty).close()
    return {"base": base, "dir": inputs, "empty": empty}


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.pop("SOTAY_HTTP_PORT", None)
    env["SOTAY_DATABASE_URL"] = url
    return env


@pytest.fixture(scope="module")
def demo_database(folders: dict[str, Path]) -> str:
    url = f"sqlite:///{folders['base'] / 'demo.db'}"
    for argv in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=_env(url), check=True)
    return url


def _fill(text: str, folders: dict[str, Path], out: Path) -> str:
    return text.replace("{dir}", str(folders["dir"])).replace("{out}", str(out))


def _run(case: Case, index: int, folders: dict[str, Path], demo: str) -> tuple[Path, object]:
    out = folders["base"] / f"out-{index}"
    out.mkdir()
    (out / "folder.xlsx").mkdir()
    urls = {
        "missing": f"sqlite:///{folders['base'] / f'absent-{index}' / 'sotay.db'}",
        "empty": f"sqlite:///{folders['empty']}",
        "demo": demo,
    }
    env = _env(urls[case.database])
    env.update({k: _fill(v, folders, out) for k, v in case.extra_env.items()})
    argv = [_fill(arg, folders, out) for arg in case.argv]
    if case.says is None:
        # The reader is gone before the first line is written.
        read, write = os.pipe()
        os.close(read)
        try:
            result = subprocess.run(
                [sys.executable, "-m", "bot.cli", *argv],
                input=case.stdin,
                stdout=write,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
        finally:
            os.close(write)
    else:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *argv],
            input=case.stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    return out, result


@pytest.fixture(scope="module")
def results(folders: dict[str, Path], demo_database: str) -> dict[str, tuple[Path, object]]:
    # The cases are independent processes: run a few at once.
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            case.name: pool.submit(_run, case, index, folders, demo_database)
            for index, case in enumerate(CASES)
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_one_line_and_an_exit_code(
    case: Case, results: dict[str, tuple[Path, object]], folders: dict[str, Path]
) -> None:
    out, result = results[case.name]
    assert isinstance(result, subprocess.CompletedProcess)
    stderr = result.stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert result.returncode == case.code, stderr
    if case.says is None:
        assert stderr == ""
    else:
        lines = stderr.splitlines()
        assert len(lines) == 1, stderr
        assert lines[0].startswith("sotay: ")
        assert _fill(case.says, folders, out) in lines[0]
    # Nothing written, and no temporary file left where the outputs go; a missing
    # database is not created either.
    assert [path.name for path in out.iterdir()] == ["folder.xlsx"]
    assert not (folders["base"] / f"absent-{CASES.index(case)}").exists()


def _wait_for(process: subprocess.Popen[str], text: str, stream: str) -> None:
    deadline = time.monotonic() + 60
    source = process.stdout if stream == "stdout" else process.stderr
    assert source is not None
    seen = ""
    while text not in seen:
        assert time.monotonic() < deadline, seen
        line = source.readline()
        assert line, seen
        seen += line


def _sigint_as_from_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("argv", "ready", "stream", "code", "says"),
    [
        (["console"], "Chào đồng chí", "stdout", 0, None),
        (["dispatcher"], "dispatcher: sending through", "stderr", 0, None),
        (["ask", "--jsonl"], '"question"', "stdout", 130, "sotay: interrupted"),
    ],
    ids=["console", "dispatcher", "ask --jsonl"],
)
def test_ctrl_c_leaves_at_once(
    demo_database: str, argv: list[str], ready: str, stream: str, code: int, says: str | None
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(demo_database),
        # As from a terminal: a job a script starts in the background inherits SIGINT
        # ignored, and Python then installs no Ctrl+C handler of its own.
        preexec_fn=_sigint_as_from_a_terminal,
    )
    assert process.stdin is not None
    if argv[0] == "ask":
        process.stdin.write("đảng phí\n")
        process.stdin.flush()
    _wait_for(process, ready, stream)
    # stdin stays open: the command is waiting for more when Ctrl+C comes.
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    # Not communicate(): it closes stdin, and a command that reads end-of-input before the
    # signal lands would leave on the end of its input, not on Ctrl+C.
    process.wait(timeout=15)
    assert time.monotonic() - started < 5
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.stdin.close()
    assert "Traceback" not in stderr, stderr
    assert process.returncode == code, stderr
    if says is not None:
        assert stderr.strip().splitlines()[-1] == says
