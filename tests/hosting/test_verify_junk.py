"""The verifier cannot be used to tie up the server: junk chain URLs beside genuine traffic.

Junk here is what anyone can send: a signed-looking request whose ``SignatureCertChainUrl`` is a
fresh, well-formed Amazon URL each time, so each one would need a certificate fetch. "Amazon"
is a fetch function that serves the genuine chain at once and makes every other fetch hang
until the test lets go, the worst case of a slow S3. The app is served over loopback HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from skill.errors import CertificateError
from skill.hosting.chains import BoundedLoader
from skill.hosting.verifier import AlexaVerifier, check_chain_url
from skill.web import create_app
from tests.support.alexa_ca import CHAIN_URL, NOW, default_ca, default_leaf, signed_headers
from tests.support.envelopes import APP_ID, launch, speech_text
from tests.support.helpers import Clock, serving_in_thread, stamp

GENUINE = check_chain_url(CHAIN_URL)
WAIT_S = 1.0  # how long a request may wait for a chain (3 s in production)


@dataclass
class SlowAmazon:
    """Serves the genuine chain at once; any other URL hangs until ``release``, then 404."""

    fetched: list[str] = field(default_factory=list)
    genuine_pem: bytes = field(default_factory=lambda: default_leaf().chain_pem)
    hanging: int = 0
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, url: str) -> bytes:
        with self.lock:
            self.fetched.append(url)
        if url == GENUINE:
            return self.genuine_pem
        with self.lock:
            self.hanging += 1
        self.released.wait(30)
        with self.lock:
            self.hanging -= 1
        raise CertificateError("certificate chain fetch got HTTP 404")


def junk_url() -> str:
    return f"https://s3.amazonaws.com/echo.api/junk-{uuid.uuid4().hex}.pem"


@dataclass
class Site:
    url: str
    amazon: SlowAmazon
    clock: Clock
    http: requests.Session

    def post(self, envelope: dict, chain_url: str = CHAIN_URL, **change: str) -> requests.Response:
        body = json.dumps(envelope).encode()
        headers = {**signed_headers(default_leaf(), body, chain_url), **change}
        with requests.Session() as http:  # one connection per request: requests in parallel
            return http.post(self.url, data=body, headers=headers, timeout=30)

    def launch(self, user: str, **kw) -> dict:
        return launch(user=user, timestamp=stamp(self.clock.now), **kw)


@contextmanager
def site(db: Path, **limits) -> Iterator[Site]:
    clock, amazon = Clock(NOW), SlowAmazon()
    verifier = AlexaVerifier(trusted_roots=[default_ca().root], fetch=amazon, clock=clock,
                             skill_id=APP_ID, **{"wait_s": WAIT_S, **limits})
    app = create_app({"DEV": False, "DATABASE": str(db), "SKILL_ID": APP_ID,
                      "VERIFIER": verifier, "CLOCK": clock})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with serving_in_thread(server), requests.Session() as http:
        try:
            yield Site(f"http://127.0.0.1:{server.server_port}/alexa", amazon, clock, http)
        finally:
            amazon.released.set()


@pytest.fixture
def alexa(tmp_path) -> Iterator[Site]:
    with site(tmp_path / "store.sqlite3") as s:
        yield s


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_genuine_requests_are_answered_while_junk_fetches_hang(alexa):
    assert alexa.post(alexa.launch("warm-up")).status_code == 200  # the genuine chain cached
    with ThreadPoolExecutor(16) as pool:
        junk = [pool.submit(alexa.post, alexa.launch(f"junk-{i}"), junk_url())
                for i in range(16)]
        wait_for(lambda: alexa.amazon.hanging == 2)
        genuine = [alexa.post(alexa.launch(f"genuine-{i}", locale="en-US")) for i in range(20)]
        still_hanging = alexa.amazon.hanging
        refused = [f.result() for f in junk]
    assert still_hanging == 2, "genuine requests were answered while junk fetches hung"
    assert all(r.status_code == 200 for r in genuine)
    assert all(speech_text(r.json()).startswith("Welcome to Knee Routine") for r in genuine)
    # 16 junk URLs made 2 fetches: the rest were turned away at once, not queued
    assert len(alexa.amazon.fetched) == 1 + 2
    reasons = sorted(r.json()["error"] for r in refused)
    assert all(r.status_code == 400 for r in refused)
    assert reasons == ["certificate chain fetch took too long"] * 2 \
        + ["certificate chain fetches are busy"] * 14


def test_a_request_waits_for_a_hanging_chain_only_a_few_seconds(alexa):
    started = time.monotonic()
    reply = alexa.post(alexa.launch("junk"), junk_url())
    assert reply.status_code == 400
    assert reply.json()["error"] == "certificate chain fetch took too long"
    assert time.monotonic() - started < 5 * WAIT_S  # generous: the point is that it ends


def test_a_failed_fetch_is_remembered_under_every_spelling_of_its_url(alexa):
    url = junk_url()
    alexa.amazon.released.set()  # fetches fail at once now
    first = alexa.post(alexa.launch("junk"), url)
    assert first.json()["error"] == "certificate chain fetch got HTTP 404"
    spellings = [url, url.replace("https://s3.amazonaws.com", "HTTPS://S3.AMAZONAWS.COM:443"),
                 url.replace("/echo.api/", "/echo.api/./"),
                 url.replace("/echo.api/", "/echo.api/../echo.api/")]
    for spelling in spellings * 5:
        reply = alexa.post(alexa.launch("junk"), spelling)
        assert reply.status_code == 400
        assert reply.json()["error"] == "certificate chain fetch got HTTP 404"
    assert alexa.amazon.fetched == [check_chain_url(url)]


def test_a_remembered_failure_expires_and_the_url_is_tried_again():
    now = [0.0]
    fetched = []

    def failing(url: str) -> str:
        fetched.append(url)
        raise CertificateError("certificate chain fetch got HTTP 503")

    loader = BoundedLoader(failing, failure_ttl_s=30, monotonic=lambda: now[0])
    for _ in range(3):
        with pytest.raises(CertificateError, match="HTTP 503"):
            loader("https://s3.amazonaws.com/echo.api/a.pem")
    assert len(fetched) == 1
    now[0] = 31.0
    with pytest.raises(CertificateError, match="HTTP 503"):
        loader("https://s3.amazonaws.com/echo.api/a.pem")
    assert len(fetched) == 2


def test_requests_for_one_hanging_url_share_its_fetch_and_their_number_is_bounded():
    release = threading.Event()
    fetched = []

    def hanging(url: str) -> str:
        fetched.append(url)
        release.wait(30)
        return "chain"

    loader = BoundedLoader(hanging, max_waiting=3, wait_s=10)
    url = "https://s3.amazonaws.com/echo.api/slow.pem"
    with ThreadPoolExecutor(3) as pool:
        waiting = [pool.submit(loader, url) for _ in range(3)]
        wait_for(lambda: loader._waiting == 3)
        with pytest.raises(CertificateError, match="busy"):
            loader(url)  # a fourth waiter would hold one more worker thread: refused
        release.set()
        assert [f.result() for f in waiting] == ["chain"] * 3
    assert fetched == [url]
    assert loader(url) == "chain" and fetched == [url, url]  # the loader keeps no result


def headers_without_signature(alexa: Site, user: str) -> requests.Response:
    return alexa.post(alexa.launch(user), junk_url(), **{"Signature-256": ""})


def signature_not_base64(alexa: Site, user: str) -> requests.Response:
    return alexa.post(alexa.launch(user), junk_url(), **{"Signature-256": "%%%"})


def stale(alexa: Site, user: str) -> requests.Response:
    envelope = alexa.launch(user)
    envelope["request"]["timestamp"] = "2001-01-01T00:00:00Z"
    return alexa.post(envelope, junk_url())


def another_skill(alexa: Site, user: str) -> requests.Response:
    return alexa.post(alexa.launch(user, app_id="amzn1.ask.skill.someone-else"), junk_url())


def not_amazons_url(alexa: Site, user: str) -> requests.Response:
    return alexa.post(alexa.launch(user), "https://s3.amazonaws.com/elsewhere/cert.pem")


def over_long_url(alexa: Site, user: str) -> requests.Response:
    return alexa.post(alexa.launch(user),
                      "https://s3.amazonaws.com/echo.api/" + "a" * 2000 + ".pem")


@pytest.mark.parametrize(("send", "reason"), [
    (headers_without_signature, "Signature-256 header is missing"),
    (signature_not_base64, "Signature-256 is not base64"),
    (stale, "request timestamp is more than 150 s from now"),
    (another_skill, "applicationId does not match this skill"),
    (not_amazons_url, "certificate URL path is not under /echo.api/"),
    (over_long_url, "certificate URL is too long"),
])
def test_what_needs_no_fetch_is_checked_before_any_fetch(alexa, send, reason):
    reply = send(alexa, "local")
    assert reply.status_code == 400 and reply.json()["error"] == reason
    assert alexa.amazon.fetched == []


def test_junk_cannot_keep_an_expired_genuine_chain_from_being_renewed(alexa):
    alexa.amazon.genuine_pem = default_ca().leaf(not_after=NOW + dt.timedelta(days=1)).chain_pem
    assert alexa.post(alexa.launch("warm-up")).status_code == 200
    alexa.amazon.genuine_pem = default_leaf().chain_pem  # Amazon's renewed chain, same key
    alexa.clock.now = NOW + dt.timedelta(days=2)  # the cached chain has expired
    with ThreadPoolExecutor(2) as pool:
        junk = [pool.submit(alexa.post, alexa.launch(f"junk-{i}"), junk_url()) for i in range(2)]
        wait_for(lambda: alexa.amazon.hanging == 2)  # every fetch slot is taken by junk
        renewed = alexa.post(alexa.launch("after-expiry"))
        assert alexa.post(alexa.launch("junk"), junk_url()).json()["error"] \
            == "certificate chain fetches are busy"
        [f.result() for f in junk]
    assert renewed.status_code == 200, renewed.text
    assert alexa.amazon.fetched.count(GENUINE) == 2
