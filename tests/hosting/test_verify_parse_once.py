"""Verification reads the body through the app's one parse: every request gets the answer it got
when the verifier parsed the body itself (the same status and reason, refusals first).

Two apps on loopback, one store each: the AlexaVerifier as the app passes it its parse, and the
same verifier called the old way (headers and raw body only). Each body is signed as Alexa signs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from werkzeug.serving import make_server

from skill.hosting.verifier import AlexaVerifier, check_chain_url
from skill.web import create_app
from tests.support.alexa_ca import CHAIN_URL, NOW, default_ca, default_leaf, signed_headers
from tests.support.envelopes import APP_ID, intent, launch
from tests.support.helpers import Clock, serving_in_thread, stamp


@contextmanager
def app_on_loopback(db, verifier) -> Iterator[str]:
    app = create_app({"DATABASE": str(db), "SKILL_ID": APP_ID, "VERIFIER": verifier,
                      "CLOCK": Clock(NOW)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with serving_in_thread(server):
        yield f"http://127.0.0.1:{server.server_port}/alexa"


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> Iterator[tuple[str, str]]:
    leaf = default_leaf()
    chains = {check_chain_url(CHAIN_URL): leaf.chain_pem}
    verifier = AlexaVerifier(trusted_roots=[default_ca().root], fetch=chains.__getitem__,
                             clock=Clock(NOW))
    assert verifier.takes_parsed
    tmp = tmp_path_factory.mktemp("parse-once")
    with app_on_loopback(tmp / "one.sqlite3", verifier) as one_parse, \
            app_on_loopback(tmp / "two.sqlite3", lambda h, b: verifier(h, b)) as two_parses:
        yield one_parse, two_parses


def text(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def deep(levels: int) -> bytes:
    doc = launch(user="deep", timestamp=stamp(NOW))
    doc["session"]["attributes"] = {"x": "nested"}
    return text(doc).replace(b'"nested"', b"[" * levels + b"]" * levels)


NOW_LAUNCH = launch(user="same", locale="ja-JP", timestamp=stamp(NOW))
BODIES = {
    "a launch": text(NOW_LAUNCH),
    "an intent": text(intent("AMAZON.HelpIntent", new=False, user="same", timestamp=stamp(NOW))),
    "not JSON": b"{not json",
    "empty": b"",
    "a JSON list": b"[1, 2]",
    "a JSON string": b'"hello"',
    "UTF-8 with a BOM": b"\xef\xbb\xbf" + text(NOW_LAUNCH),
    "UTF-16": json.dumps(NOW_LAUNCH).encode("utf-16"),
    "not UTF-8": text(NOW_LAUNCH).replace(b'"same', b'"\xff\xfe'),
    "a lone surrogate in UTF-8": text(NOW_LAUNCH).replace(b'"ja-JP"', b'"\xed\xa0\x80"'),
    "nested 80 deep": deep(80),
    "nested 5000 deep": deep(5000),
    "a stale timestamp": text(launch(user="same", timestamp="2020-01-01T00:00:00Z")),
    "another skill": text(launch(user="same", timestamp=stamp(NOW), app_id="amzn1.ask.other")),
}


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("case", BODIES)
def test_the_answer_is_the_one_of_a_verifier_that_parses_for_itself(both, case, signed):
    body = BODIES[case]
    headers = signed_headers(default_leaf(), body) if signed else \
        {"Content-Type": "application/json"}
    one, two = (requests.post(url, data=body, headers=headers, timeout=10) for url in both)
    assert one.status_code == two.status_code, (one.text, two.text)
    if one.status_code == 200:
        assert one.json()["response"] == two.json()["response"]
    else:
        assert one.json() == two.json()
    if case == "a launch":
        assert (one.status_code == 200) is signed
