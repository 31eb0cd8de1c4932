"""JSON log lines for log collectors (`SOTAY_LOG_FORMAT=json`): one object per line, with
phone and card numbers masked exactly as in the text format (bot/logmask.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.logmask import MaskingFormatter, mask_numbers

LOG_FORMAT_VARIABLE = "SOTAY_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message"[, "exception"]}`, every text masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_numbers(record.getMessage()),
        }
        if record.exc_info:
            line["exception"] = mask_numbers(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = mask_numbers(record.exc_text)
        if record.stack_info:
            line["stack"] = mask_numbers(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False)


def formatter_from(environ: Mapping[str, str]) -> tuple[logging.Formatter, str | None]:
    """The formatter SOTAY_LOG_FORMAT asks for (text unless "json"), and a warning to log
    when it names neither."""
    chosen = environ.get(LOG_FORMAT_VARIABLE, "").strip().lower()
    if chosen == "json":
        return JsonFormatter(), None
    warning = None
    if chosen not in ("", "text"):
        warning = f"{LOG_FORMAT_VARIABLE} is neither text nor json; logging as text"
    return MaskingFormatter(TEXT_FORMAT), warning
