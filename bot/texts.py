"""Message texts users read, kept in `content/texts.toml` so editors can change the wording."""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from content import CONTENT_DIR

TEXTS_FILE = CONTENT_DIR / "texts.toml"


@cache
def _texts() -> dict[str, Any]:
    with TEXTS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def text(key: str, **values: object) -> str:
    """The text at a dotted key ("start.welcome"), formatted with `values`."""
    node: Any = _texts()
    for part in key.split("."):
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(key)
    return node.format(**values) if values else node
