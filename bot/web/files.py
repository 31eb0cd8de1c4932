"""Workbooks the pages hand out, written by the same exporters as the chat and commands."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path


def workbook_bytes(write: Callable[[Path], None]) -> bytes:
    """What an exporter writes to a file, as bytes (the file is gone afterwards)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        write(path)
        return path.read_bytes()
