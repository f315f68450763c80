"""One small HTTP GET for the Alexa APIs, without urllib.

Importing ``urllib.request`` (with ``http.client`` and ``email``) costs a cold start about 25 ms,
more than the call itself. This speaks just enough HTTP/1.1 for one GET: a request line and
headers out; a status line, headers and a body framed by Content-Length, by chunks, or by the
connection's end back. ``ssl`` is imported only for https, whose certificate is verified.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

MAX_RESPONSE = 64 * 1024  # bytes of status line, headers and body together
_READ = 16 * 1024


class HttpError(OSError):
    """No usable answer: a status other than 2xx, or not HTTP, or too large."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def get(url: str, headers: Mapping[str, str], timeout: float, *, limit: int = MAX_RESPONSE,
        tls: ssl.SSLContext | None = None) -> bytes:
    """The body of a 2xx answer to ``GET url``, within ``timeout`` seconds in all.

    Raises ValueError for a URL or header that cannot be sent, TimeoutError when the time runs
    out, HttpError for any other answer, and OSError when the connection fails.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)  # a bad port: ValueError
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Connection: close", "", ""]
    if " " in target or not all(line.isascii() and line.isprintable() for line in lines):
        raise ValueError("a character that cannot go in a request line or header")
    deadline = time.monotonic() + timeout
    host = parts.hostname  # ASCII (the Host line is): given as bytes, it needs no IDNA codec,
    conn = socket.create_connection((host.encode("ascii"), port), timeout=timeout)  # ~1.5 ms
    try:
        if parts.scheme == "https":
            conn = (tls or _default_tls()).wrap_socket(conn, server_hostname=host)
        conn.sendall("\r\n".join(lines).encode("ascii"))
        return _response(conn, deadline, limit)
    finally:
        conn.close()


_tls: ssl.SSLContext | None = None


def _default_tls() -> ssl.SSLContext:
    """The system's trusted roots, hostnames checked (as urllib's); built once per process."""
    global _tls
    if _tls is None:
        import ssl

        _tls = ssl.create_default_context()
        _tls.set_alpn_protocols(["http/1.1"])  # as http.client offers
    return _tls


def _response(conn: socket.socket, deadline: float, limit: int) -> bytes:
    buffer = bytearray()
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if not _receive(conn, buffer, deadline, limit):
            raise HttpError("the connection closed before the headers ended")
    status, fields = _head(bytes(buffer[:end]).decode("latin-1"))
    if not 200 <= status < 300:
        raise HttpError(f"HTTP {status}", status)
    body = buffer[end + 4:]
    if status in (204, 205):
        return b""
    if "chunked" in fields.get("transfer-encoding", "").lower():
        while (whole := _dechunk(body)) is None:
            if not _receive(conn, body, deadline, limit):
                raise HttpError("the connection closed inside a chunked body")
        return whole
    if "content-length" in fields:
        try:
            length = int(fields["content-length"])
        except ValueError:
            raise HttpError("a Content-Length that is not a number") from None
        if length < 0 or length > limit:
            raise HttpError("a Content-Length out of bounds")
        while len(body) < length:
            if not _receive(conn, body, deadline, limit):
                raise HttpError("the connection closed inside the body")
        return bytes(body[:length])
    while _receive(conn, body, deadline, limit):  # the body ends with the connection
        pass
    return bytes(body)


def _receive(conn: socket.socket, buffer: bytearray, deadline: float, limit: int) -> bool:
    """Read more into ``buffer``; False when the peer has closed the connection."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the answer took too long")
    conn.settimeout(remaining)
    data = conn.recv(_READ)
    if len(buffer) + len(data) > limit:
        raise HttpError("the answer is too large")
    buffer += data
    return bool(data)


def _head(text: str) -> tuple[int, dict[str, str]]:
    """The status and the (lower-cased) header fields of a response head."""
    status_line, *field_lines = text.split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise HttpError("not an HTTP/1 answer")
    fields: dict[str, str] = {}
    for line in field_lines:
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    return int(code), fields


def _dechunk(data: bytearray) -> bytes | None:
    """The body of a chunked transfer once its last chunk is in ``data``, else None."""
    out = bytearray()
    position = 0
    while (line_end := data.find(b"\r\n", position)) >= 0:
        size_text = bytes(data[position:line_end]).split(b";", 1)[0].strip()
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise HttpError("a chunk size that is not a hexadecimal number")
        size = int(size_text, 16)
        if size == 0:
            return bytes(out)  # trailer fields, if any, are not needed
        start = line_end + 2
        if len(data) < start + size + 2:
            return None
        out += data[start:start + size]
        position = start + size + 2
    return None
