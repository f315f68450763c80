"""The small HTTP GET the Alexa API calls use: real servers on loopback (plain and TLS), each
answering as a server may (Content-Length, chunks, to the connection's end, errors, junk)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from skill.alexa import http_get
from skill.alexa.http_get import HttpError
from skill.alexa.timezone import fetch_time_zone
from tests.support.alexa_ca import TestCA

HEADERS = {"Authorization": "Bearer token-1", "Accept": "application/json"}


@contextmanager
def raw_server(answer: bytes | list[bytes], tls: ssl.SSLContext | None = None,
               hold: float = 0.0) -> Iterator[tuple[int, list[bytes]]]:
    """A server that, for each connection in turn, reads a request, writes ``answer`` (in pieces
    when a list) and closes (after ``hold`` seconds); yields its port and the requests read."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            answer_one(conn)

    def answer_one(conn: socket.socket) -> None:
        try:
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                more = conn.recv(4096)
                if not more:
                    break
                data += more
            requests.append(data)
            for piece in answer if isinstance(answer, list) else [answer]:
                conn.sendall(piece)
            done.wait(hold)
        except OSError:
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], requests
    finally:
        done.set()
        listener.close()
        thread.join(5)


def fetch(answer: bytes | list[bytes], path: str = "/v2/x", **kw) -> bytes:
    with raw_server(answer) as (port, _):
        return http_get.get(f"http://127.0.0.1:{port}{path}", HEADERS, 2.0, **kw)


def test_the_request_names_the_path_host_and_headers():
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") as (port, requests):
        url = f"http://127.0.0.1:{port}/v2/devices/d%2F1/settings?x=1"
        assert http_get.get(url, HEADERS, 2.0) == b"ok"
    head = requests[0].decode("ascii").split("\r\n")
    assert head[0] == "GET /v2/devices/d%2F1/settings?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}" in head
    assert "Authorization: Bearer token-1" in head and "Connection: close" in head


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"Asia/Tokyo\"",
    b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"Asia/Tokyo\"and more",
    b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n\"Asia/Tokyo\"",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\n\"Asia\r\n7;x=y\r\n/Tokyo\"\r\n0\r\n\r\n",
    [b"HTTP/1.1 200 OK\r\nTransfer-", b"Encoding: chunked\r\n\r\n5\r\n\"As",
     b"ia\r\n7\r\n/Tokyo\"\r\n", b"0\r\n\r\n"],
    [b"HTTP/1.1 200", b" OK\r\ncontent-length: 12\r\n", b"\r\n\"Asia/", b"Tokyo\""],
])
def test_the_body_whatever_its_framing(answer):
    assert fetch(answer) == b'"Asia/Tokyo"'


def test_a_content_length_body_does_not_wait_for_the_connection_to_close():
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", hold=5.0) as (port, _):
        assert http_get.get(f"http://127.0.0.1:{port}/", HEADERS, 2.0) == b"ok"


@pytest.mark.parametrize(("answer", "status"), [
    (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404),
    (b"HTTP/1.1 500 Internal Server Error\r\n\r\n", 500),
    (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n\r\n", 302),
])
def test_an_answer_other_than_2xx_is_an_error(answer, status):
    with pytest.raises(HttpError) as caught:
        fetch(answer)
    assert caught.value.status == status


@pytest.mark.parametrize("answer", [
    b"",
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"HTTP/1.1 2xx OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
])
def test_junk_or_a_cut_answer_is_an_error(answer):
    with pytest.raises(HttpError):
        fetch(answer)


def test_an_answer_over_the_limit_is_an_error():
    big = b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000
    with pytest.raises(HttpError):
        fetch(big, limit=1000)
    assert fetch(big, limit=10_000) == b"x" * 5000


def test_a_silent_server_is_a_timeout():
    with raw_server(b"", hold=5.0) as (port, _), pytest.raises(TimeoutError):
        http_get.get(f"http://127.0.0.1:{port}/", HEADERS, 0.3)


def test_a_refused_connection_is_an_oserror():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(OSError):
        http_get.get(f"http://127.0.0.1:{port}/", HEADERS, 1.0)


@pytest.mark.parametrize(("url", "headers"), [
    ("ftp://127.0.0.1/x", HEADERS),
    ("http:///x", HEADERS),
    ("http://127.0.0.1:99999/x", HEADERS),
    ("http://127.0.0.1:1/a b", HEADERS),
    ("http://b\u00fccher.invalid/x", HEADERS),
    ("http://127.0.0.1:1/x", {"Authorization": "Bearer a\r\nX-Injected: 1"}),
    ("http://127.0.0.1:1/x", {"Authorization": "Bearer caf\u00e9"}),
])
def test_what_cannot_be_sent_is_refused_before_connecting(url, headers):
    with pytest.raises(ValueError):
        http_get.get(url, headers, 1.0)


def test_a_token_that_would_inject_a_header_gives_no_zone():
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"Asia/Tokyo\"") as (port, seen):
        api = f"http://127.0.0.1:{port}"
        assert fetch_time_zone(api, "echo-1", "t\r\nX-Injected: 1") is None
        assert fetch_time_zone(api, "echo-1", "token") == "Asia/Tokyo"
    assert len(seen) == 1 and b"X-Injected" not in seen[0]


@pytest.fixture(scope="module")
def tls_server_context(tmp_path_factory) -> tuple[ssl.SSLContext, TestCA]:
    ca = TestCA("http-get")
    leaf = ca.leaf(san=("localhost",))
    directory: Path = tmp_path_factory.mktemp("tls")
    chain, key = directory / "chain.pem", directory / "key.pem"
    chain.write_bytes(leaf.chain_pem)
    key.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    return context, ca


def test_https_with_a_trusted_certificate(tls_server_context):
    server_tls, ca = tls_server_context
    client_tls = ssl.create_default_context(cadata=ca.root_pem.decode("ascii"))
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"Asia/Tokyo\""
    with raw_server(answer, tls=server_tls) as (port, _):
        body = http_get.get(f"https://localhost:{port}/v2/x", HEADERS, 2.0, tls=client_tls)
    assert body == b'"Asia/Tokyo"'


def test_https_refuses_a_certificate_the_system_does_not_trust(tls_server_context):
    server_tls, _ = tls_server_context
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"Asia/Tokyo\""
    with raw_server(answer, tls=server_tls) as (port, _):
        with pytest.raises(ssl.SSLCertVerificationError):
            http_get.get(f"https://localhost:{port}/v2/x", HEADERS, 2.0)
        assert fetch_time_zone(f"https://localhost:{port}", "echo-1", "token") is None
