"""waitress as ``skill.hosting.server`` sets it up: a connection whose worker thread holds its
output lock (writing) is not polled for writing (the main loop spun on it, holding the GIL the
worker needed), and every response still goes out, whole."""

from __future__ import annotations

import socket
import threading

import pytest

from skill.hosting.server import create_server, quiet_channel_class


@pytest.fixture
def slow_app_server():
    """A server whose app writes a short first chunk, then waits for ``release``."""
    release, writing = threading.Event(), threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body():
            yield b"first part, "
            writing.set()
            release.wait(30)
            yield b"second part"

        return body()

    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    yield server, release, writing
    release.set()
    server.close()
    server.task_dispatcher.shutdown(timeout=5)


def channels(server):
    return [c for c in list(server._map.values()) if isinstance(c, quiet_channel_class())]


def test_a_connection_its_worker_is_writing_is_not_polled_for_writing(slow_app_server):
    server, release, writing = slow_app_server
    with socket.create_connection((server.effective_host, server.effective_port), 10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert writing.wait(10), "the app started its response"
        (channel,) = channels(server)
        assert channel.requests
        holding, done = threading.Event(), threading.Event()

        def worker_sending() -> None:  # as the worker holds the lock while it sends
            with channel.outbuf_lock:
                channel.total_outbufs_len += 1  # as if part of the response were unsent
                holding.set()
                done.wait(10)
                channel.total_outbufs_len -= 1

        worker = threading.Thread(target=worker_sending)
        worker.start()
        try:
            assert holding.wait(10)
            assert not channel.writable()
        finally:
            done.set()
            worker.join(10)
        release.set()
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"C\r\nfirst part, \r\nB\r\nsecond part\r\n0\r\n\r\n"  # chunked, whole


def test_responses_go_out_whole_one_after_another(slow_app_server):
    server, release, _ = slow_app_server
    release.set()
    for _ in range(3):
        with socket.create_connection((server.effective_host, server.effective_port),
                                      10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200 OK")
        assert reply.endswith(b"C\r\nfirst part, \r\nB\r\nsecond part\r\n0\r\n\r\n")
