"""Reading an uploaded spreadsheet with the same parsers as `sotay roster import` and
`sotay quiz import`, in a child process with limits (bot/services/uploads.py). Every page
calls these two functions only."""

from __future__ import annotations

from bot.services.uploads import parse_questions, parse_roster

# The confirming form carries the file back base64-encoded (4/3 larger) under the web
# app's 1 MiB request limit.
MAX_UPLOAD_BYTES = 700 * 1024
MAX_UPLOAD_KB = MAX_UPLOAD_BYTES // 1024

__all__ = ["MAX_UPLOAD_BYTES", "MAX_UPLOAD_KB", "parse_questions", "parse_roster"]
