"""Hostile input on POST /alexa of a real ``knee-routine serve``, verification off and on.

Whatever arrives (invalid JSON, wrong types anywhere, unknown intents, slots and locales,
tampered or oversized session attributes, deep nesting, invalid UTF-8, huge bodies) the answer is
a 4xx with a JSON reason or a well-formed Alexa response: never a 5xx, never a crash, and the
record of a user who saved progress first is still there, unchanged, afterwards.

With verification on, every hostile body is signed as Alexa signs, so it gets past the verifier
and reaches the parser and the skill (a verified request is not a well-formed one).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.alexa import codec
from skill.core.machine import State
from skill.hosting.server import WAITRESS_SETTINGS
from tests.support.alexa_ca import default_ca, default_leaf, signed_headers
from tests.support.envelopes import (
    APP_ID,
    Session,
    custom_slot,
    envelope,
    intent,
    launch,
    session_ended,
)
from tests.support.helpers import now_stamp
from tests.support.live_server import LiveServer, knee_routine_serve

SAVER = "saver"
SAVER_ID = f"amzn1.ask.account.{SAVER}"
EDGE_SCRIPT = Path(__file__).resolve().parents[3] / "shared" / "voice-harness" / "edge_requests.py"


@dataclass
class Target:
    """One running server; ``post`` signs the body when the server verifies."""

    mode: str
    server: LiveServer
    http: requests.Session

    def post(self, body: bytes | None, headers: dict[str, str] | None = None) -> requests.Response:
        sent = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        if self.mode == "verified" and body is not None:
            sent.update(signed_headers(default_leaf(), body))
        return self.http.post(self.server.alexa_url, data=body, headers=sent, timeout=30)

    def send(self, doc: dict) -> dict:
        reply = self.post(json.dumps(doc).encode())
        assert reply.status_code == 200, reply.text
        return reply.json()

    def errors(self) -> list[str]:
        """Error lines in the server's log: a failure inside the skill, even if answered."""
        return [line["message"] for line in self.server.json_lines() if line["level"] == "error"]

    def alive(self) -> bool:
        return (self.server.process.poll() is None
                and self.send(launch(user="control", timestamp=now_stamp()))["response"] != {})


@pytest.fixture(scope="module", params=["dev", "verified"])
def target(request, tmp_path_factory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "dev":
        args = ["--dev"]
    else:
        roots, chains = default_ca().write_files(tmp / "pki", default_leaf())
        args = ["--skill-id", APP_ID, "--trusted-roots", str(roots), "--chain-dir", str(chains)]
    with knee_routine_serve(tmp, *args) as server, requests.Session() as http:
        target = Target(request.param, server, http)
        save_progress(target)
        yield target


def fresh(target: Target):
    """``target.send`` with the timestamp of now, for the ``Session`` driver."""
    return lambda doc: target.send({**doc, "request": {**doc["request"], "timestamp": now_stamp()}})


def save_progress(target: Target) -> None:
    """The saver gets to step 2, pauses and leaves: a record to keep through everything."""
    s = Session(fresh(target), user=SAVER)
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: a ball
    for _ in range(3):
        s.say("AMAZON.NextIntent")
    s.say("AMAZON.PauseIntent")
    s.end("USER_INITIATED")
    assert target.server.record(SAVER_ID), "the saver's progress is stored"


def assert_rejected_or_answered(reply: requests.Response) -> None:
    """A 4xx with a JSON reason, or 200 with a well-formed Alexa response."""
    assert reply.status_code < 500, reply.text[:300]
    if reply.status_code != 200:
        assert reply.status_code in (400, 405, 413), reply.status_code
        if len(reply.request.body or b"") <= WAITRESS_SETTINGS["max_request_body_size"]:
            assert isinstance(reply.json()["error"], str)  # (waitress's own 413 is text)
        return
    doc = reply.json()
    assert doc["version"] == "1.0" and isinstance(doc["response"], dict)
    speech = doc["response"].get("outputSpeech")
    if speech is not None:
        assert ET.fromstring(speech["ssml"]).tag == "speak"
    if doc["response"].get("shouldEndSession") is False:
        assert ET.fromstring(doc["response"]["reprompt"]["outputSpeech"]["ssml"]).tag == "speak"


# -- generated hostile bodies ---------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=12,
)
USERS = st.sampled_from([SAVER, "hostile-1", "hostile-2"]) | st.text(max_size=20)
LOCALES = st.sampled_from(["en-US", "ja-JP", "en-GB", "fr-FR", "xx-XX", "ja", ""]) \
    | st.text(max_size=12)
# Intents that never write a user's record: a well-formed pause or stop is a legitimate write,
# not hostile input. Unknown names (drawn text) become fallbacks.
READ_ONLY_INTENTS = st.sampled_from(["AMAZON.HelpIntent", "AMAZON.FallbackIntent",
                                     "AMAZON.RepeatIntent", "FaqIntent"]) \
    | st.text(max_size=40)
SLOTS = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=3) | st.builds(
    custom_slot, st.sampled_from(["topic", "equipment", "step"]), st.text(max_size=60),
    st.none() | st.sampled_from(["ball", "towel", "no_ball", "swelling"]) | st.text(max_size=10))


def state_attributes() -> st.SearchStrategy[dict]:
    """Session attributes as the skill writes them (a saved state), as a base to tamper with."""
    return st.just({"state": codec.state_to_dict(State())})


@st.composite
def base_envelopes(draw) -> dict:
    common = {"user": draw(USERS), "locale": draw(LOCALES), "timestamp": now_stamp()}
    kind = draw(st.sampled_from(["launch", "intent", "ended", "other"]))
    attributes = draw(st.none() | state_attributes()
                      | st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3))
    session = {"new": draw(st.booleans()), "attributes": attributes}
    if kind == "launch":
        return launch(**common, **session)
    if kind == "intent":
        return intent(draw(READ_ONLY_INTENTS), draw(SLOTS), **common, **session)
    if kind == "ended":
        return session_ended(draw(st.sampled_from(["USER_INITIATED", "ERROR",
                                                   "EXCEEDED_MAX_REPROMPTS"])), **common,
                             **session)
    return envelope({"type": draw(st.text(max_size=40))}, **common, **session)


def _spots(doc: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a JSON document, for mutating it anywhere."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) \
        else ()
    for key, value in items:
        yield doc, key
        yield from _spots(value)


@st.composite
def mutated_envelopes(draw) -> dict:
    """An envelope with one to three values replaced by anything, or removed."""
    doc = draw(base_envelopes())
    for _ in range(draw(st.integers(0, 3))):
        spots = list(_spots(doc))
        if not spots:
            break
        parent, key = draw(st.sampled_from(spots))
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(JSON_VALUES)
    return doc


@st.composite
def encoded(draw, docs: st.SearchStrategy) -> bytes:
    text = json.dumps(draw(docs), ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate makes invalid UTF-8


@st.composite
def corrupted(draw) -> bytes:
    """Valid envelope bytes, truncated or with bytes that are not UTF-8 spliced in."""
    body = json.dumps(launch(timestamp=now_stamp()), ensure_ascii=False).encode()
    cut = draw(st.integers(0, len(body)))
    if draw(st.booleans()):
        return body[:cut]
    return body[:cut] + draw(st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00"])) \
        + body[cut:]


@st.composite
def deeply_nested(draw) -> bytes:
    depth = draw(st.integers(50, 40_000))
    bracket = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    doc = json.dumps(launch(timestamp=now_stamp())).replace(
        '"attributes": {}', '"attributes": ' + bracket[0] * depth + "{}" + bracket[1] * depth)
    return doc.encode()


HOSTILE_BODIES = st.one_of(
    encoded(mutated_envelopes()),
    encoded(JSON_VALUES),
    corrupted(),
    st.binary(max_size=300),
    deeply_nested(),
)


def test_a_hostile_barrage_gets_no_5xx_and_loses_no_saved_record(target):
    saved = target.server.record(SAVER_ID)

    @settings(max_examples=1500, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(body=HOSTILE_BODIES)
    def barrage(body: bytes) -> None:
        assert_rejected_or_answered(target.post(body))

    barrage()
    assert target.alive()
    assert target.errors() == []
    assert target.server.record(SAVER_ID) == saved
    back = Session(fresh(target), user=SAVER)
    back.launch()
    assert back.last["sessionAttributes"]["state"]["phase"] == "resume_offer"
    assert "Shall we go on from step 2?" in back.text


@pytest.mark.parametrize("new", [True, False])
def test_a_launch_carrying_a_forged_state_cannot_overwrite_a_saved_record(target, new):
    saved = target.server.record(SAVER_ID)
    forged = {"state": codec.state_to_dict(State())}  # a user with no progress at all
    reply = target.send(launch(user=SAVER, new=new, attributes=forged, timestamp=now_stamp()))
    assert reply["sessionAttributes"]["state"]["phase"] == "resume_offer"
    assert target.server.record(SAVER_ID) == saved


def test_forged_or_garbage_signature_headers_are_always_refused(target):
    if target.mode != "verified":
        pytest.skip("only a verifying server checks signatures")
    body = json.dumps(launch(timestamp=now_stamp())).encode()
    header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126),
                          max_size=200).map(str.strip)

    @settings(max_examples=300, deadline=None, database=None)
    @given(url=header_text | st.just("https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"),
           sig=header_text | st.binary(min_size=256, max_size=256).map(
               lambda b: base64.b64encode(b).decode()))
    def forged(url: str, sig: str) -> None:
        headers = {"Content-Type": "application/json", "SignatureCertChainUrl": url,
                   "Signature-256": sig}
        reply = target.http.post(target.server.alexa_url, data=body, headers=headers,
                                 timeout=30)
        assert reply.status_code == 400 and reply.json()["error"]

    forged()
    assert target.alive()


# -- the explicit cases: the list and the voice harness's edge_requests.py ----------------


def help_intent(**kw) -> dict:
    return intent("AMAZON.HelpIntent", new=False, user="edge", timestamp=now_stamp(), **kw)


def drop(doc: dict, *path: str) -> dict:
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    holder.pop(path[-1], None)
    return doc


def put(doc: dict, path: tuple[str, ...], value: Any) -> dict:
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return doc


def j(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def nested(depth: int) -> bytes:
    return j(help_intent()).replace(b'"attributes": {}', b'"attributes": ' + b'{"a":' * depth
                                    + b"{}" + b"}" * depth)


# name: (body, expected status or None for "4xx or a valid answer")
CASES: dict[str, tuple[Any, int | None]] = {
    "invalid JSON": (lambda: b'{"version": "1.0", "request": {', 400),
    "empty body": (lambda: b"", 400),
    "JSON array": (lambda: b"[]", 400),
    "JSON string": (lambda: b'"hello"', 400),
    "JSON null": (lambda: b"null", 400),
    "empty object": (lambda: b"{}", 400),
    "missing request": (lambda: j(drop(help_intent(), "request")), 400),
    "missing request.type": (lambda: j(drop(help_intent(), "request", "type")), 400),
    "request.type a number": (lambda: j(put(help_intent(), ("request", "type"), 7)), 400),
    "unknown request.type": (lambda: j(put(help_intent(), ("request", "type"), "Foo.Bar")),
                             None),
    "CanFulfillIntentRequest": (
        lambda: j(put(help_intent(), ("request", "type"), "CanFulfillIntentRequest")), 200),
    "missing session": (lambda: j(drop(help_intent(), "session")), 200),
    "missing context": (lambda: j(drop(help_intent(), "context")), None),
    "missing version": (lambda: j(drop(help_intent(), "version")), None),
    "session not an object": (lambda: j(put(help_intent(), ("session",), "oops")), 400),
    "intent missing": (lambda: j(drop(help_intent(), "request", "intent")), 200),
    "unknown intent": (lambda: j(put(help_intent(), ("request", "intent", "name"), "NoSuch")),
                       200),
    "intent name null": (lambda: j(put(help_intent(), ("request", "intent", "name"), None)),
                         200),
    "intent a list": (lambda: j(put(help_intent(), ("request", "intent"), [1, 2])), None),
    "slots null": (lambda: j(put(help_intent(), ("request", "intent", "slots"), None)), 200),
    "unknown slot": (lambda: j(put(help_intent(), ("request", "intent", "slots"),
                                   {"bogus": {"name": "bogus", "value": "x"}})), 200),
    "slot without value": (lambda: j(intent("FaqIntent", {"topic": {"name": "topic"}},
                                            timestamp=now_stamp())), 200),
    "slot value a number": (lambda: j(intent("FaqIntent", {"topic": {"name": "topic",
                                                                     "value": 42}},
                                             timestamp=now_stamp())), 200),
    "huge slot value": (lambda: j(intent("FaqIntent", {"topic": {"name": "topic",
                                                                 "value": "タオル" * 20000}},
                                         timestamp=now_stamp())), 200),
    "weird unicode slot": (lambda: j(intent("FaqIntent", {"topic": {
        "name": "topic", "value": "\u0000\u202e🦵ﾀｵﾙ\ud7ff<speak>&"}}, timestamp=now_stamp())),
        200),
    "locale fr-FR": (lambda: j(help_intent(locale="fr-FR")), 200),
    "locale invalid": (lambda: j(help_intent(locale="xx-XX")), 200),
    "locale missing": (lambda: j(drop(help_intent(), "request", "locale")), 200),
    "locale a number": (lambda: j(put(help_intent(), ("request", "locale"), 123)), None),
    "launch in en-GB": (lambda: j(launch(locale="en-GB", timestamp=now_stamp())), 200),
    "attributes tampered": (lambda: j(help_intent(attributes={
        "step_index": "abc", "state": 42, "last_speech": None})), 200),
    "state tampered": (lambda: j(help_intent(attributes={"state": {
        **codec.state_to_dict(State()), "pos": [99, 5], "phase": "after_set"}})), 200),
    "state prompts tampered": (lambda: j(help_intent(attributes={"state": {
        **codec.state_to_dict(State()), "last": {"speech": [["<speak>", {"x": "&"}]],
                                                 "reprompt": [], "seed": 1}}})), 200),
    "attributes not an object": (lambda: j(help_intent(attributes="oops")), None),
    "attributes of 200 KB": (lambda: j(help_intent(attributes={"pad": "x" * 200_000})), 200),
    "user missing": (lambda: j(drop(drop(help_intent(), "session", "user"),
                                    "context", "System", "user")), 200),
    "extra unknown fields": (lambda: j(put(put(help_intent(), ("futureField",), {"x": 1}),
                                           ("request", "newThing"), [1, 2])), 200),
    "session ended with an error": (lambda: j(session_ended(
        "ERROR", new=False, timestamp=now_stamp())), 200),
    "deep nesting (100)": (lambda: nested(100), 400),
    "deep nesting (900)": (lambda: nested(900), 400),
    "deep nesting (5000)": (lambda: nested(5000), 400),
    "invalid UTF-8": (lambda: b'{"version":"1.0","request":{"type":"LaunchRequest",'
                              b'"locale":"\xff\xfe"}}', 400),
    "body over the limit (300 KB)": (lambda: j(help_intent(attributes={"pad": "x" * 300_000})),
                                     413),
    "body of 1 MB": (lambda: j(help_intent(attributes={"pad": "x" * 1024 * 1024})), 413),
    "body of 10 MB": (lambda: j(help_intent(attributes={"pad": "x" * 10 * 1024 * 1024})), 413),
}


@pytest.mark.parametrize("case", CASES)
def test_each_known_hostile_request_is_refused_or_answered(target, case, content):
    make_body, expected = CASES[case]
    reply = target.post(make_body())
    assert_rejected_or_answered(reply)
    if expected is not None:
        assert reply.status_code == expected, reply.text[:300]
    if reply.status_code == 200 and reply.json()["response"].get("outputSpeech"):
        apology = content.for_locale("en-US").prompt("error")
        assert apology not in reply.text, "a turn failed inside the skill"
    assert target.alive()
    assert target.errors() == []


def test_an_unknown_locale_is_answered_in_english_and_logged(target):
    reply = target.send(help_intent(locale="fr-FR"))
    english = target.send(help_intent(locale="en-US"))
    assert reply["response"]["outputSpeech"] == english["response"]["outputSpeech"]
    assert any("unsupported locale 'fr-FR'" in line.get("message", "")
               for line in target.server.json_lines())


def test_text_plain_content_type_and_get_are_handled(target):
    body = j(launch(timestamp=now_stamp()))
    assert target.post(body, {"Content-Type": "text/plain"}).status_code == 200
    got = target.http.get(target.server.alexa_url, timeout=10)
    assert got.status_code == 405 and got.json()["error"]


@pytest.mark.skipif(not EDGE_SCRIPT.exists(), reason="the voice harness is not checked out")
def test_the_voice_harness_edge_requests_pass_against_the_dev_server(target):
    if target.mode != "dev":
        pytest.skip("edge_requests.py sends unsigned requests for another skill id")
    result = subprocess.run([sys.executable, str(EDGE_SCRIPT), target.server.alexa_url],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed")


# -- hostile text: lone surrogates, NUL, over-long strings ----------------------------------------

LONE = "\ud800"


def ascii_json(doc: Any) -> bytes:
    """JSON as Alexa's own serializers write it, with escapes: a lone surrogate survives."""
    return json.dumps(doc, ensure_ascii=True).encode()


def with_state_param(value: Any) -> dict:
    state = codec.state_to_dict(State())
    state["last"] = {"speech": [["progress", {"days": value, "streak": 0}]], "reprompt": [],
                     "seed": 1}
    return help_intent(attributes={"state": state})


# name: (envelope, expected status): 400 where the text names the request, 200 (the part
# dropped, the turn answered) where it is a slot or a session attribute
TEXT_CASES: dict[str, tuple[Any, int]] = {
    "lone surrogate in the user id": (
        lambda: put(help_intent(), ("session", "user", "userId"), "amzn1.ask.account." + LONE),
        400),
    "lone surrogate in the context user id": (
        lambda: put(help_intent(), ("context", "System", "user", "userId"), LONE), 400),
    "lone surrogate in the session id": (
        lambda: put(help_intent(), ("session", "sessionId"), "s" + LONE), 400),
    "NUL in the request id": (lambda: put(help_intent(), ("request", "requestId"), "r\x00"), 400),
    "lone surrogate in the locale": (lambda: put(help_intent(), ("request", "locale"),
                                                 "en-US" + LONE), 400),
    "lone surrogate in the intent name": (
        lambda: put(help_intent(), ("request", "intent", "name"), "Faq" + LONE), 400),
    "user id of 100,000 characters": (
        lambda: put(help_intent(), ("session", "user", "userId"), "u" * 100_000), 400),
    "lone surrogate in a device field": (
        lambda: put(help_intent(), ("context", "System", "device", "supportedInterfaces"),
                    {LONE: {}}), 400),
    "lone surrogate in a slot value": (
        lambda: intent("FaqIntent", custom_slot("topic", "towel" + LONE, "towel"), new=False,
                       user="edge", timestamp=now_stamp()), 200),
    "NUL in a slot name": (
        lambda: intent("FaqIntent", {"to\x00pic": {"name": "topic", "value": "towel"}},
                       new=False, user="edge", timestamp=now_stamp()), 200),
    "lone surrogate in a session attribute": (lambda: help_intent(attributes={"x": LONE}), 200),
    "lone surrogate in a session attribute key": (
        lambda: help_intent(attributes={LONE: 1}), 200),
    "NUL in the saved state's phase": (lambda: help_intent(attributes={"state": {
        **codec.state_to_dict(State()), "phase": "intro\x00"}}), 200),
    "prompt parameter of 100,000 characters": (lambda: with_state_param("9" * 100_000), 200),
    "prompt parameter of 10^30": (lambda: with_state_param(10**30), 200),
    "prompt parameter a lone surrogate": (lambda: with_state_param(LONE), 200),
}


def apologies(content) -> list[str]:
    return [content.for_locale(locale).prompt("error") for locale in ("en-US", "ja-JP")]


@pytest.mark.parametrize("case", TEXT_CASES)
def test_hostile_text_gets_a_clean_400_or_is_dropped(target, case, content):
    make, expected = TEXT_CASES[case]
    reply = target.post(ascii_json(make()))
    assert reply.status_code == expected, reply.text[:300]
    if expected == 400:
        assert isinstance(reply.json()["error"], str)
    else:
        assert_rejected_or_answered(reply)
        assert not any(a in reply.text for a in apologies(content)), "the turn failed"
    assert target.errors() == [] and "Traceback" not in target.server.output()


HOSTILE_TEXT = st.sampled_from([LONE, "\udfff", "\x00", "a\ud83e", "x" * 5000, "\ufffe",
                                "\x1b[31m", "ﾀｵﾙ\u0000"]) \
    | st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=5)


@st.composite
def text_attacks(draw) -> dict:
    """A sensible envelope with hostile text put in one to three places (a value or a key)."""
    doc = draw(base_envelopes())
    for _ in range(draw(st.integers(1, 3))):
        parent, key = draw(st.sampled_from(list(_spots(doc))))
        bad = draw(HOSTILE_TEXT)
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[bad] = parent.pop(key)
        else:
            parent[key] = bad
    return doc


def test_a_fuzz_of_hostile_text_gets_no_traceback_and_no_apology(target, content):
    said_sorry = apologies(content)

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(doc=text_attacks())
    def attack(doc: dict) -> None:
        reply = target.post(ascii_json(doc))
        assert_rejected_or_answered(reply)
        assert not any(a in reply.text for a in said_sorry), reply.text[:300]

    attack()
    assert target.alive()
    assert target.errors() == [] and "Traceback" not in target.server.output()
