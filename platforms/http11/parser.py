"""One HTTP/1.1 response from bytes, without I/O: status line, headers, then the body framed by
``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the connection."""

from __future__ import annotations

from dataclasses import dataclass

from platforms.http11.errors import RemoteProtocolError

MAX_HEAD = 64 * 1024  # a response head (or chunk line) larger than this is not a Bot API answer
MAX_BODY = 64 * 1024 * 1024  # Bot API file downloads are capped at 20 MB
_NO_BODY_STATUSES = frozenset({204, 304})
# States of chunked reading kept in ``_remaining`` (>0 means bytes of chunk data still to read).
_SIZE_LINE, _CHUNK_END, _TRAILERS = -1, -2, -3


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, headers (names lower case; repeats joined by ``, ``), body."""

    status: int
    headers: dict[str, str]
    body: bytes


class ResponseParser:
    """Feed it the bytes of one response; it returns the :class:`Response` once complete.

    ``keep_alive`` is false when the connection cannot carry another request afterwards (the
    server said ``Connection: close``, spoke HTTP/1.0, framed the body by closing, or sent bytes
    beyond the response). Malformed input raises :class:`RemoteProtocolError`.
    """

    __slots__ = (
        "_body",
        "_buffer",
        "_framing",
        "_head_request",
        "_headers",
        "_remaining",
        "_status",
        "keep_alive",
    )

    def __init__(self, *, head_request: bool = False) -> None:
        self._head_request = head_request  # a HEAD response has headers only
        self._buffer = bytearray()
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._framing = ""  # "length", "chunked" or "close"
        self._remaining = 0
        self._body = bytearray()
        self.keep_alive = True

    def feed(self, data: bytes) -> Response | None:
        """Take more bytes; the response once it is complete, else ``None``."""
        self._buffer += data
        buffer = self._buffer
        while self._headers is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise RemoteProtocolError("response head too large")
                return None
            head = bytes(buffer[:end])
            del buffer[: end + 4]
            self._parse_head(head)  # leaves _headers None for an interim 1xx response
        if self._framing == "length":
            take = min(self._remaining, len(buffer))
            if take:
                self._body += buffer[:take]
                del buffer[:take]
                self._remaining -= take
            return self._complete() if self._remaining == 0 else None
        if self._framing == "chunked":
            return self._complete() if self._read_chunks() else None
        # "close": the body is everything until the server closes the connection.
        self._body += buffer
        buffer.clear()
        if len(self._body) > MAX_BODY:
            raise RemoteProtocolError("response body too large")
        return None

    def eof(self) -> Response:
        """The server closed the connection: the response if that ends it, else an error."""
        if self._headers is not None and self._framing == "close":
            return self._complete()
        raise RemoteProtocolError("server disconnected without sending a complete response")

    def _complete(self) -> Response:
        assert self._headers is not None
        if self._buffer:
            self.keep_alive = False  # bytes beyond the response: we never pipeline
        return Response(self._status, self._headers, bytes(self._body))

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise RemoteProtocolError("malformed status line")
        status = int(code)
        if 100 <= status < 200:
            return  # 100 Continue and friends: never asked for, but legal; the answer follows
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise RemoteProtocolError("malformed header line")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self._status = status
        self._headers = headers
        connection = headers.get("connection", "").lower()
        if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
            self.keep_alive = False
        if self._head_request or status in _NO_BODY_STATUSES:
            self._framing, self._remaining = "length", 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._framing, self._remaining = "chunked", _SIZE_LINE
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"].split(",")[0])
            except ValueError:
                raise RemoteProtocolError("malformed Content-Length") from None
            if not 0 <= length <= MAX_BODY:
                raise RemoteProtocolError("unacceptable Content-Length")
            self._framing, self._remaining = "length", length
        else:
            self._framing = "close"
            self.keep_alive = False

    def _read_chunks(self) -> bool:
        """Consume chunked data; ``True`` once the last chunk and the trailers are in."""
        buffer = self._buffer
        while True:
            if self._remaining > 0:
                take = min(self._remaining, len(buffer))
                if not take:
                    return False
                self._body += buffer[:take]
                del buffer[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._remaining = _CHUNK_END
            elif self._remaining == _CHUNK_END:
                if len(buffer) < 2:
                    return False
                if buffer[:2] != b"\r\n":
                    raise RemoteProtocolError("chunk data not followed by CRLF")
                del buffer[:2]
                self._remaining = _SIZE_LINE
            else:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise RemoteProtocolError("chunk line too long")
                    return False
                line = bytes(buffer[:end])
                del buffer[: end + 2]
                if self._remaining == _TRAILERS:
                    if not line:
                        return True  # the empty line after the trailers
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise RemoteProtocolError("malformed chunk size") from None
                if size < 0 or len(self._body) + size > MAX_BODY:
                    raise RemoteProtocolError("unacceptable chunk size")
                self._remaining = size if size else _TRAILERS
