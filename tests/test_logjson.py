"""SOTAY_LOG_FORMAT=json: one JSON object a line, still without phone or card numbers."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.logjson import JsonFormatter
from bot.logmask import configure_logging


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_record_is_one_masked_json_object() -> None:
    record = logging.LogRecord(
        "bot.chat",
        logging.INFO,
        __file__,
        1,
        "thẻ %s, điện thoại %s",
        ("79012345", "0912345678"),
        None,
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "thẻ ***2345, điện thoại ***5678"
    assert "thẻ" in line  # Vietnamese stays readable, not \\u-escaped
    assert data["level"] == "INFO" and data["logger"] == "bot.chat"
    assert data["time"].endswith("+00:00")
    assert "exception" not in data


def test_a_traceback_goes_in_the_same_line_masked() -> None:
    try:
        raise ValueError("no member with card 12345678")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    data = json.loads(JsonFormatter().format(record))
    assert "12345678" not in json.dumps(data)
    assert "ValueError: no member with card ***5678" in data["exception"]


def test_sotay_log_format_json_switches_stderr_to_json(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO, {"SOTAY_LOG_FORMAT": "json"})
    logging.getLogger("bot.test").info("gọi 0987654321")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["gọi ***4321"]


def test_text_stays_the_default_and_an_unknown_format_is_said(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO, {})
    logging.getLogger("bot.test").info("gọi 0987654321")
    assert capsys.readouterr().err.rstrip().endswith("INFO bot.test: gọi ***4321")
    configure_logging(logging.INFO, {"SOTAY_LOG_FORMAT": "xml"})
    err = capsys.readouterr().err
    assert "SOTAY_LOG_FORMAT is neither text nor json; logging as text" in err
