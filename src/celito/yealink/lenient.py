"""A request line the way a Yealink phone writes it, made valid before the HTTP parser sees it.

Phones substitute action-URL variables without URL-encoding (yealink.md §2.4, §6.2): a display
name turns `GET /…?display=$display_remote HTTP/1.1` into `GET /…?display=John Doe HTTP/1.1`,
which every strict parser refuses with 400. For requests to the phone hook paths only, this
protocol percent-encodes what a request target may not hold raw (spaces, controls, non-ASCII,
`"`, `<`, `>`, `\\`, `^`, backtick, `{`, `|`, `}`, `#`, and `%` not followed by two hex digits)
in the first line of each request, then hands the bytes to uvicorn's parser unchanged
otherwise. What cannot be recovered: a `%XX` that was meant literally, and a value containing
`&<next parameter name>=` (yealink.receiver splits on the known parameter order).
"""

from __future__ import annotations

import re
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HOOK_PREFIX = b"/ns-api/hooks/"
MAX_LINE = 16 * 1024
# A byte a request target may not hold raw, or a `%` that does not start an escape.
_BAD = re.compile(rb"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]%]|%(?![0-9A-Fa-f]{2})")


def _escape(found: re.Match[bytes]) -> bytes:
    return b"%%%02X" % found.group()[0]


def repair_target(target: bytes) -> bytes:
    return _BAD.sub(_escape, target)


def repair_line(line: bytes) -> bytes:
    """`GET <target with spaces> HTTP/1.1` → a valid request line (others: unchanged)."""
    method, sep, rest = line.partition(b" ")
    target, space, version = rest.rpartition(b" ")
    if not sep or not space or not version.startswith(b"HTTP/"):
        return line
    if not target.startswith(HOOK_PREFIX):
        return line
    return method + b" " + repair_target(target) + b" " + version


class LenientHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, repairing the first line of phone hook requests."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._line = b""
        self._at_start = True

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._at_start = True

    def data_received(self, data: bytes) -> None:
        if not self._at_start:
            super().data_received(data)
            return
        self._line += data
        end = self._line.find(b"\r\n")
        if end < 0:
            if len(self._line) > MAX_LINE:
                data, self._line, self._at_start = self._line, b"", False
                super().data_received(data)  # the parser answers 400/414 as usual
            return
        data = repair_line(self._line[:end]) + self._line[end:]
        self._line, self._at_start = b"", False
        super().data_received(data)
