"""Small helpers every test folder shares: ports, clocks, timestamps and in-thread servers."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

POLL_S = 0.02  # how often an in-thread server looks for shutdown (the stdlib's 0.5 s is slow)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clock:
    """A clock the test moves: the skill's (or the verifier's) idea of now."""

    def __init__(self, start: str | dt.datetime = "2026-11-20T09:00:00+00:00") -> None:
        self.now = dt.datetime.fromisoformat(start) if isinstance(start, str) else start

    def __call__(self) -> dt.datetime:
        return self.now

    def next_day(self) -> None:
        self.now += dt.timedelta(days=1)


def stamp(when: dt.datetime) -> str:
    """A request timestamp as Alexa writes it."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_stamp() -> str:
    return stamp(dt.datetime.now(dt.UTC))


def with_timestamp_now(doc: dict) -> dict:
    """The envelope ``doc`` stamped now (for a server that checks timestamps)."""
    return {**doc, "request": {**doc["request"], "timestamp": now_stamp()}}


@contextmanager
def serving_in_thread(server: Any) -> Iterator[Any]:
    """Run a ``socketserver``-style server (werkzeug's, ``http.server``'s) in a thread and stop
    it at once at the end of the block."""
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class LoopbackHttp:
    """An ``http.server`` handler class served in a thread on a free loopback port, for the
    length of a ``with`` block; ``url`` is its address."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._serving = serving_in_thread(self.server)

    def __enter__(self) -> Self:
        self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)


def delete_database(db: Path) -> None:
    """Delete a SQLite database file with its WAL and shared-memory files, as an operator might."""
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def prompt_text(content: Any, locale: str, key: str, **params: Any) -> str:
    """What a prompt says, as plain text (for comparing with the speech heard)."""
    return content.for_locale(locale).prompt(key).format(**params)
