"""python-telegram-bot's networking backend on aiohttp instead of httpx.

Why: under quiz load (py-spy on `sotay run` answering ~50 callback taps a second from the fake
Bot API server) the main thread spent about 31% of its busy time in PTB's default HTTP stack
(HTTPXRequest → httpx → httpcore → h11 → anyio). aiohttp is already a dependency and parses
HTTP in C, so each Bot API request costs much less CPU (benchmarks/telegram_http.py).

`AiohttpRequest` is a `telegram.request.BaseRequest` (PTB's documented extension point) that
behaves like `HTTPXRequest` for what the bot uses: POSTs of parameters, multipart uploads, GET
for file downloads, the same default timeouts, `TimedOut` for timeouts and `NetworkError` for
connection failures. Not supported: proxies (httpx would read HTTPS_PROXY), HTTP/2, socket
options. Parameters go as a JSON body (`RequestData.json_payload`, which PTB offers for this),
not form-encoded as httpx sends them: the Bot API reads both alike, and percent-encoding a
Vietnamese reply byte by byte in Python cost about 3% of the CPU of a handbook question
(issue #16, throughput).

Timeouts map as follows. pool: waiting for one of `connection_pool_size` slots; connect:
aiohttp's `connect`; read: aiohttp's `sock_read` (the longest gap between bytes, like httpx).
aiohttp has no per-write timeout, so a request with a body is instead bounded as a whole by
connect + write + read.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON_HEADERS = {"Content-Type": "application/json"}

# httpx writes multipart file names the HTML5 way (raw UTF-8, '"' and control characters as
# %XX); aiohttp then only has to escape backslashes (quote_fields=False), as httpx does too.
# aiohttp's default would percent-encode every non-ASCII letter of a Vietnamese file name.
_FILENAME_ESCAPES = {'"': "%22"} | {chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B}
_FILENAME_SPECIALS = re.compile("|".join(map(re.escape, _FILENAME_ESCAPES)))


def _sum_or_none(*timeouts: float | None) -> float | None:
    """The sum of the timeouts; None (no limit) if any of them is None."""
    total = 0.0
    for timeout in timeouts:
        if timeout is None:
            return None
        total += timeout
    return total


def _html5_filename(name: str) -> str:
    return _FILENAME_SPECIALS.sub(lambda match: _FILENAME_ESCAPES[match.group(0)], name)


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession`; arguments as for `HTTPXRequest`."""

    __slots__ = (
        "_connect_timeout",
        "_free_connections",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        # One slot per connection: a request waits at most pool_timeout for a free one.
        self._free_connections = asyncio.Semaphore(connection_pool_size)
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """See `BaseRequest.read_timeout`."""
        return self._read_timeout

    def _new_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            headers={"User-Agent": self.USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def initialize(self) -> None:
        """See `BaseRequest.initialize`."""
        if self._session is None or self._session.closed:
            self._session = self._new_session()

    async def shutdown(self) -> None:
        """See `BaseRequest.shutdown`."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:  # used without initialize(), as HTTPXRequest allows
            self._session = self._new_session()
        elif self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        return self._session

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        session = self._open_session()
        has_files = request_data is not None and request_data.contains_files

        # Timeouts not given for this call (DEFAULT_NONE) are this instance's defaults.
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if has_files else self._write_timeout

        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and has_files:
            data = self._multipart(request_data)
        elif request_data is not None and request_data.json_parameters:
            data = request_data.json_payload
            headers = _JSON_HEADERS
        total = None
        if data is not None:  # no write timeout in aiohttp: bound the whole request instead
            total = _sum_or_none(connect_timeout, write_timeout, read_timeout)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect_timeout, sock_read=read_timeout
        )

        try:
            async with asyncio.timeout(pool_timeout):
                await self._free_connections.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: All connections in the connection pool are occupied. Request "
                "was *not* sent to Telegram. Consider adjusting the connection pool size or "
                "the pool timeout."
            ) from None
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeout errors are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            self._free_connections.release()

    @staticmethod
    def _multipart(request_data: RequestData) -> aiohttp.FormData:
        """The parameters, then the files (name, content, MIME type), like httpx sends them."""
        form = aiohttp.FormData(quote_fields=False)
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mime_type) in request_data.multipart_data.items():
            form.add_field(
                name, content, filename=_html5_filename(filename), content_type=mime_type
            )
        return form
