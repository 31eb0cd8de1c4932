"""Files members send in chat (a trainer's question sheet), fetched from the messenger they
came by. An adapter that can download files registers a fetcher when the process starts;
handlers fetch through here and never import a messenger's library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.messages import Channel, Media


class FileTooLarge(Exception):
    """The file is larger than the caller accepts; nothing more was downloaded."""


class FileUnavailable(Exception):
    """The messenger cannot hand the file over (no fetcher for it, or it refused)."""


@dataclass(frozen=True)
class FetchedFile:
    # The name the messenger stores the file under: its suffix tells the kind of file.
    name: str
    content: bytes


class FileFetcher(Protocol):
    async def fetch(self, file_id: str, max_bytes: int) -> FetchedFile:
        """The file's bytes; raises FileTooLarge above `max_bytes`, FileUnavailable when
        the messenger refuses."""
        ...


class IncomingFiles:
    """The fetchers of the messengers running in this process, by channel."""

    def __init__(self) -> None:
        self._fetchers: dict[Channel, FileFetcher] = {}

    def register(self, channel: Channel, fetcher: FileFetcher) -> None:
        self._fetchers[channel] = fetcher

    def can_fetch(self, channel: Channel) -> bool:
        return channel in self._fetchers

    async def fetch(self, media: Media, *, max_bytes: int) -> FetchedFile:
        fetcher = self._fetchers.get(media.channel)
        if fetcher is None:
            raise FileUnavailable(f"no file fetcher for {media.channel}")
        return await fetcher.fetch(media.file_id, max_bytes)
