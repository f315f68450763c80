"""Only Alexa gets an answer: request verification on POST /alexa, with a test CA made here.

Each case posts over HTTP to the Flask app on loopback, signed (or mis-signed) as Alexa signs.
A refused request gets HTTP 400 with a short JSON reason and never reaches the skill: the user
it names has no record in the store afterwards (a launch that ran would have saved one).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import http.server
import json
import logging
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from werkzeug.serving import make_server

import skill.lambda_function as lambda_function
from skill.alexa.runtime import BadRequest
from skill.hosting.verifier import (
    AlexaVerifier,
    CertificateError,
    CertificateUrlError,
    ChainDirectory,
    check_chain_url,
    fetch_chain,
)
from skill.web import create_app
from tests.support.alexa_ca import (
    CHAIN_URL,
    NOW,
    Leaf,
    TestCA,
    default_ca,
    default_leaf,
    rsa_key,
    signature,
    signed_headers,
)
from tests.support.envelopes import APP_ID, launch, speech_text
from tests.support.helpers import Clock, serving_in_thread, stamp
from tests.support.live_server import command, knee_routine_serve

CHAIN_FETCH_URL = check_chain_url(CHAIN_URL)


@dataclass
class Amazon:
    """What s3.amazonaws.com/echo.api/ serves, and what was fetched from it."""

    served: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.served:
            raise CertificateError("certificate chain fetch got HTTP 404")
        return self.served[url]


@dataclass
class Endpoint:
    url: str
    db: Path
    clock: Clock
    amazon: Amazon
    http: requests.Session

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return self.http.post(self.url, data=body, headers=headers, timeout=10)

    def launch(self, user: str, **kw) -> dict:
        return launch(user=user, timestamp=stamp(self.clock.now), **kw)

    def signed(self, envelope: dict, leaf: Leaf | None = None,
               url: str = CHAIN_URL) -> requests.Response:
        body = json.dumps(envelope).encode()
        return self.post(body, signed_headers(leaf or default_leaf(), body, url))

    def reached_skill(self, user: str) -> bool:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT 1 FROM user_attributes WHERE user_id = ?",
                               (f"amzn1.ask.account.{user}",)).fetchone()
        return row is not None


@contextmanager
def serving(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with serving_in_thread(server):
        yield f"http://127.0.0.1:{server.server_port}/alexa"


@pytest.fixture
def alexa(tmp_path) -> Iterator[Endpoint]:
    clock, amazon = Clock(NOW), Amazon({CHAIN_FETCH_URL: default_leaf().chain_pem})
    verifier = AlexaVerifier(trusted_roots=[default_ca().root], fetch=amazon, clock=clock)
    db = tmp_path / "store.sqlite3"
    app = create_app({"DATABASE": str(db), "SKILL_ID": APP_ID, "VERIFIER": verifier,
                      "CLOCK": clock})
    with serving(app) as url, requests.Session() as http:
        yield Endpoint(url, db, clock, amazon, http)


# -- accepted -------------------------------------------------------------------------------------


def test_a_signed_request_from_alexa_is_answered(alexa):
    reply = alexa.signed(alexa.launch("ok", locale="en-US"))
    assert reply.status_code == 200, reply.text
    assert speech_text(reply.json()).startswith("Welcome to Knee Routine")
    assert alexa.reached_skill("ok")


@pytest.mark.parametrize("seconds", [-150, 150])
def test_a_timestamp_150_s_off_either_way_is_still_accepted(alexa, seconds):
    envelope = alexa.launch("edge")
    envelope["request"]["timestamp"] = stamp(NOW + dt.timedelta(seconds=seconds))
    assert alexa.signed(envelope).status_code == 200


@pytest.mark.parametrize("url", [
    "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
    "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-test.pem",
    "https://s3.amazonaws.com:443/echo.api/echo-api-cert-test.pem",
    "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-test.pem",
])
def test_amazons_spellings_of_the_chain_url_are_accepted(alexa, url):
    assert alexa.signed(alexa.launch("spelling"), url=url).status_code == 200
    assert alexa.amazon.fetched == [CHAIN_FETCH_URL]  # normalised before fetching


def test_the_chain_is_fetched_once_then_cached_until_it_expires(alexa):
    for i in range(5):
        assert alexa.signed(alexa.launch(f"cached-{i}")).status_code == 200
    assert alexa.amazon.fetched == [CHAIN_FETCH_URL]
    alexa.clock.now = NOW + dt.timedelta(days=301)  # the test leaf expires after 300 days
    reply = alexa.signed(alexa.launch("later"))
    assert reply.status_code == 400 and reply.json() == {"error": "certificate has expired"}
    assert alexa.amazon.fetched == [CHAIN_FETCH_URL] * 2


# -- refused --------------------------------------------------------------------------------------


def body_of(alexa: Endpoint, user: str) -> bytes:
    return json.dumps(alexa.launch(user)).encode()


def forged_signature(alexa, user):
    body = body_of(alexa, user)
    headers = signed_headers(default_leaf(), body)
    headers["Signature-256"] = signature(rsa_key("forger"), body)
    return alexa.post(body, headers)


def signed_otherwise(how: str) -> Callable:
    """The right key, but not RSA PKCS#1 v1.5 over SHA-256 of the whole signature."""
    def send(alexa, user):
        body = body_of(alexa, user)
        headers = signed_headers(default_leaf(), body)
        key = default_leaf().key
        raw = {
            "SHA-1": lambda: key.sign(body, padding.PKCS1v15(), hashes.SHA1()),
            "PSS": lambda: key.sign(body, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                      padding.PSS.MAX_LENGTH), hashes.SHA256()),
            "truncated": lambda: base64.b64decode(headers["Signature-256"])[:-1],
            "the digest": lambda: hashlib.sha256(body).digest(),
        }[how]()
        headers["Signature-256"] = base64.b64encode(raw).decode()
        return alexa.post(body, headers)
    return send


def body_changed_after_signing(alexa, user):
    body = body_of(alexa, user)
    headers = signed_headers(default_leaf(), body)
    return alexa.post(body.replace(b'"en-US"', b'"ja-JP"'), headers)


def served_chain(leaf: Leaf) -> Callable:
    def send(alexa, user):
        alexa.amazon.served[CHAIN_FETCH_URL] = leaf.chain_pem
        return alexa.signed(alexa.launch(user), leaf)
    return send


def chain_url(url: str) -> Callable:
    def send(alexa, user):
        alexa.amazon.served[check_chain_url(CHAIN_URL)] = default_leaf().chain_pem
        return alexa.signed(alexa.launch(user), url=url)
    return send


def timestamp_off(seconds: int) -> Callable:
    def send(alexa, user):
        envelope = alexa.launch(user)
        envelope["request"]["timestamp"] = stamp(NOW + dt.timedelta(seconds=seconds))
        return alexa.signed(envelope)
    return send


def another_skill(alexa, user):
    return alexa.signed(alexa.launch(user, app_id="amzn1.ask.skill.someone-else"))


def sha1_signature_only(alexa, user):
    body = body_of(alexa, user)
    headers = signed_headers(default_leaf(), body)
    headers["Signature"] = headers.pop("Signature-256")
    return alexa.post(body, headers)


def no_headers(alexa, user):
    return alexa.post(body_of(alexa, user), {"Content-Type": "application/json"})


def signature_not_base64(alexa, user):
    body = body_of(alexa, user)
    headers = signed_headers(default_leaf(), body)
    headers["Signature-256"] = "not*base64"
    return alexa.post(body, headers)


def leaf_only(alexa, user):  # the intermediate left out of the chain
    leaf = default_leaf()
    alexa.amazon.served[CHAIN_FETCH_URL] = leaf.chain_pem.split(b"-----END CERTIFICATE-----")[0] \
        + b"-----END CERTIFICATE-----\n"
    return alexa.signed(alexa.launch(user), leaf)


def garbage_chain(alexa, user):
    alexa.amazon.served[CHAIN_FETCH_URL] = b"<html>Access Denied</html>"
    return alexa.signed(alexa.launch(user))


REFUSED = {
    "forged signature": (forged_signature, "signature does not match the body"),
    "body changed after signing": (body_changed_after_signing, "signature does not match"),
    "signed over SHA-1": (signed_otherwise("SHA-1"), "signature does not match the body"),
    "signed with PSS": (signed_otherwise("PSS"), "signature does not match the body"),
    "signature truncated": (signed_otherwise("truncated"), "signature does not match the body"),
    "the bare digest as signature": (signed_otherwise("the digest"),
                                     "signature does not match the body"),
    "expired leaf": (served_chain(default_ca().leaf(
        not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(seconds=1))),
        "certificate has expired"),
    "leaf not valid yet": (served_chain(default_ca().leaf(
        not_before=NOW + dt.timedelta(days=1))), "certificate is not valid yet"),
    "wrong SAN": (served_chain(default_ca().leaf(san=("echo-api.example.com",))),
                  "certificate is not for echo-api.amazon.com"),
    "self-signed leaf": (served_chain(default_ca().leaf(self_signed=True)),
                         "certificate does not chain to a trusted root"),
    "another CA": (served_chain(TestCA("rogue").leaf(key_name="rogue-leaf")),
                   "certificate does not chain to a trusted root"),
    "intermediate missing": (leaf_only, "certificate does not chain to a trusted root"),
    "not a certificate": (garbage_chain, "certificate chain is not PEM certificates"),
    "wrong host": (chain_url("https://s3.evil.example/echo.api/echo-api-cert-test.pem"),
                   "certificate URL host is not s3.amazonaws.com"),
    "http scheme": (chain_url("http://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"),
                    "certificate URL is not https"),
    "port 8443": (chain_url("https://s3.amazonaws.com:8443/echo.api/echo-api-cert-test.pem"),
                  "certificate URL port is not 443"),
    "path escapes /echo.api/": (chain_url("https://s3.amazonaws.com/echo.api/../evil/cert.pem"),
                                "certificate URL path is not under /echo.api/"),
    "chain not served": (chain_url("https://s3.amazonaws.com/echo.api/other.pem"),
                         "certificate chain fetch got HTTP 404"),
    "stale timestamp (151 s)": (timestamp_off(-151), "request timestamp is more than 150 s"),
    "future timestamp (151 s)": (timestamp_off(151), "request timestamp is more than 150 s"),
    "wrong applicationId": (another_skill, "applicationId does not match this skill"),
    "old SHA-1 Signature header alone": (sha1_signature_only,
                                         "Signature-256 header is missing"),
    "no signature headers": (no_headers, "SignatureCertChainUrl header is missing"),
    "signature not base64": (signature_not_base64, "Signature-256 is not base64"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_request_not_proven_to_be_alexas_is_refused_with_400(alexa, case):
    send, reason = REFUSED[case]
    reply = send(alexa, "refused")
    assert reply.status_code == 400, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"].startswith(reason)
    assert not alexa.reached_skill("refused")


@pytest.mark.parametrize("url", [
    "https://notamazon.com/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
    "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
    "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com/echo.api/%2e%2e/evil/cert.pem",
    "https://s3.amazonaws.com/evil/%2e%2e/echo.api/cert.pem",
    "https://s3.amazonaws.com@evil.example/echo.api/cert.pem",
    "https://user@s3.amazonaws.com/echo.api/cert.pem",
    "https://s3.amazonaws.com.evil.example/echo.api/cert.pem",
    "https://s3.amazonaws.com//echo.api/cert.pem",
    "https://s3.amazonaws.com/echo.api/",
    "https://s3.amazonaws.com:notaport/echo.api/cert.pem",
    "ftp://s3.amazonaws.com/echo.api/cert.pem",
    "s3.amazonaws.com/echo.api/cert.pem",
    "",
])
def test_chain_urls_outside_amazons_rules_are_refused_before_any_fetch(alexa, url):
    reply = alexa.signed(alexa.launch("url"), url=url)
    assert reply.status_code == 400
    assert alexa.amazon.fetched == []


def test_a_refusal_is_logged_with_its_reason_but_without_body_or_user(alexa, caplog):
    caplog.set_level(logging.INFO)
    forged_signature(alexa, "secret-user-42")
    lines = [r for r in caplog.records if r.name == "knee_routine.requests"]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["status"] == 400 and fields["reason"] == "signature does not match the body"
    text = caplog.text + json.dumps(fields)
    assert "secret-user-42" not in text and "LaunchRequest" not in text


# -- the pieces on their own ----------------------------------------------------------------------


def test_concurrent_first_requests_fetch_the_chain_once():
    clock, amazon = Clock(NOW), Amazon({CHAIN_FETCH_URL: default_leaf().chain_pem})

    def slow_amazon(url: str) -> bytes:
        time.sleep(0.2)
        return amazon(url)

    verifier = AlexaVerifier(trusted_roots=[default_ca().root], fetch=slow_amazon, clock=clock)
    body = json.dumps(launch(timestamp=stamp(NOW))).encode()
    headers = signed_headers(default_leaf(), body)
    errors = []

    def verify():
        try:
            verifier(headers, body)
        except Exception as e:  # collected, then asserted empty
            errors.append(e)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and amazon.fetched == [CHAIN_FETCH_URL]


def test_the_default_trusted_roots_are_certifis_and_exclude_a_private_ca():
    amazon = Amazon({CHAIN_FETCH_URL: default_leaf().chain_pem})
    verifier = AlexaVerifier(fetch=amazon, clock=Clock(NOW))
    body = json.dumps(launch(timestamp=stamp(NOW))).encode()
    with pytest.raises(CertificateError, match="trusted root"):
        verifier(signed_headers(default_leaf(), body), body)


class ChainHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        if self.path == "/echo.api/slow.pem":
            time.sleep(1.0)
        if self.path == "/echo.api/moved.pem":
            self.send_response(302)
            self.send_header("Location", "/echo.api/ok.pem")
            self.end_headers()
            return
        body = {"/echo.api/ok.pem": default_leaf().chain_pem, "/echo.api/slow.pem": b"late",
                "/echo.api/huge.pem": b"A" * (1024 * 1024)}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        # the client stops reading a huge chain and hangs up, as it should
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def chain_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ChainHandler)
    server.daemon_threads = True
    with serving_in_thread(server):
        yield f"http://127.0.0.1:{server.server_port}/echo.api"


def test_fetch_chain_gets_the_pem(chain_server):
    assert fetch_chain(f"{chain_server}/ok.pem") == default_leaf().chain_pem


@pytest.mark.parametrize(("name", "reason"), [
    ("huge.pem", "certificate chain is too large"),
    ("slow.pem", "certificate chain fetch failed (ReadTimeout)"),
    ("moved.pem", "certificate chain fetch got HTTP 302"),
    ("missing.pem", "certificate chain fetch got HTTP 404"),
])
def test_fetch_chain_is_bounded_in_size_and_time_and_follows_no_redirect(chain_server, name,
                                                                         reason):
    with pytest.raises(CertificateError) as refused:
        fetch_chain(f"{chain_server}/{name}", timeout=(1.0, 0.3))
    assert str(refused.value) == reason


def test_a_chain_directory_serves_prefetched_chains_by_file_name(tmp_path):
    (tmp_path / "echo-api-cert-test.pem").write_bytes(default_leaf().chain_pem)
    (tmp_path / "big.pem").write_bytes(b"A" * (100 * 1024))
    chains = ChainDirectory(tmp_path)
    assert chains(CHAIN_FETCH_URL) == default_leaf().chain_pem
    with pytest.raises(CertificateError, match="not available offline"):
        chains("https://s3.amazonaws.com/echo.api/echo-api-cert-99.pem")
    with pytest.raises(CertificateError, match="too large"):
        chains("https://s3.amazonaws.com/echo.api/big.pem")


def test_check_chain_url_returns_the_normalised_url_to_fetch():
    url = "HTTPS://S3.AmazonAWS.com:443/echo.api/../echo.api/./echo-api-cert-7.pem"
    assert check_chain_url(url) == "https://s3.amazonaws.com/echo.api/echo-api-cert-7.pem"
    with pytest.raises(CertificateUrlError):
        check_chain_url("https://s3.amazonaws.com/echo.api/../evil/cert.pem")


# -- configuration: production is the default -----------------------------------------------------


def test_the_app_configured_with_files_verifies_without_any_network(tmp_path):
    roots, chains = default_ca().write_files(tmp_path / "pki", default_leaf())
    app = create_app({"DATABASE": str(tmp_path / "s.sqlite3"), "SKILL_ID": APP_ID,
                      "TRUSTED_ROOTS": str(roots), "CHAIN_DIR": str(chains)})
    envelope = launch(timestamp=stamp(dt.datetime.now(dt.UTC)))
    body = json.dumps(envelope).encode()
    with serving(app) as url, requests.Session() as http:
        assert http.post(url, data=body, timeout=10).status_code == 400
        signed = http.post(url, data=body, headers=signed_headers(default_leaf(), body),
                           timeout=10)
    assert signed.status_code == 200 and speech_text(signed.json())


def test_the_app_will_not_start_outside_dev_mode_without_a_skill_id(tmp_path, monkeypatch):
    monkeypatch.delenv("KNEE_ROUTINE_SKILL_ID", raising=False)
    with pytest.raises(ValueError, match="skill id"):
        create_app({"DATABASE": str(tmp_path / "s.sqlite3")})


def test_serve_without_a_skill_id_stops_with_a_clear_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([*command(), "serve", "--db", str(tmp_path / "s.sqlite3")],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "--skill-id" in result.stderr and "KNEE_ROUTINE_SKILL_ID" in result.stderr


def test_serve_verifies_by_default_and_logs_one_json_line_per_request(tmp_path):
    roots, chains = default_ca().write_files(tmp_path / "pki", default_leaf())
    envelope = launch(user="log-me", timestamp=stamp(dt.datetime.now(dt.UTC)))
    body = json.dumps(envelope).encode()
    with knee_routine_serve(tmp_path, "--skill-id", APP_ID, "--trusted-roots", str(roots),
                            "--chain-dir", str(chains)) as server, requests.Session() as http:
        unsigned = http.post(server.alexa_url, data=body, timeout=10)
        signed = http.post(server.alexa_url, data=body,
                           headers=signed_headers(default_leaf(), body), timeout=10)
    assert unsigned.status_code == 400 and signed.status_code == 200
    assert "request verification OFF" not in server.output()
    requests_logged = [line for line in server.json_lines() if line.get("path") == "/alexa"]
    refused, answered = requests_logged
    assert refused["status"] == 400 and refused["reason"].startswith("SignatureCertChainUrl")
    assert "user" not in refused
    assert answered["status"] == 200 and answered["type"] == "LaunchRequest"
    assert answered["request_id"] == envelope["request"]["requestId"]
    assert answered["latency_ms"] >= 0 and "phase" not in answered  # no health answer to read
    user_id = envelope["session"]["user"]["userId"]
    assert answered["user"] == hashlib.sha256(user_id.encode()).hexdigest()[:16]
    assert user_id not in server.output() and base64.b64encode(body).decode() not in server.output()
    assert "Welcome" not in server.output()  # what was said is not logged either


def test_the_lambda_handler_checks_the_skill_id_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KNEE_ROUTINE_DB", str(tmp_path / "l.sqlite3"))
    monkeypatch.setenv("KNEE_ROUTINE_SKILL_ID", APP_ID)
    monkeypatch.setattr(lambda_function, "_runtime", None)
    assert lambda_function.handler(launch(), None)["response"]["outputSpeech"]
    with pytest.raises(BadRequest, match="applicationId"):
        lambda_function.handler(launch(app_id="amzn1.ask.skill.someone-else"), None)
    monkeypatch.setattr(lambda_function, "_runtime", None)
