"""What the server writes: a JSON line per request with no health answer in it, a traceback when
a fatal signal kills it, and waitress's queue warnings at a bearable rate."""

from __future__ import annotations

import json
import logging
import os
import signal

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from waitress.task import ThreadedTaskDispatcher

from skill.hosting.request_log import (
    JsonFormatter,
    request_fields,
    request_line,
)
from skill.hosting.server import EveryInterval, limit_queue_warnings
from skill.hosting.turn_log import PRIVATE_INTENTS
from tests.support.envelopes import Session, intent, launch
from tests.support.helpers import with_timestamp_now
from tests.support.live_server import knee_routine_serve


def test_a_pain_conversation_leaves_no_health_answer_in_the_log(tmp_path):
    with knee_routine_serve(tmp_path, "--dev") as server, requests.Session() as http:
        def send(doc: dict) -> dict:
            reply = http.post(server.alexa_url, json=with_timestamp_now(doc), timeout=10)
            assert reply.status_code == 200, reply.text
            return reply.json()

        s = Session(send, user="sore-knee")
        s.launch()
        s.say("StartRoutineIntent")
        s.say("PainIntent")
        s.say("AMAZON.NoIntent")
        s.say("AMAZON.YesIntent")
        s.end()
        turns = 6
    lines = [line for line in server.json_lines() if line.get("path") == "/alexa"]
    assert len(lines) == turns
    for line in lines:
        assert line["status"] == 200 and line["latency_ms"] >= 0
        assert line["type"] and line["locale"] == "en-US" and len(line["user"]) == 16
        assert "phase" not in line and line.get("intent") not in PRIVATE_INTENTS
    assert {line.get("intent") for line in lines} == {None, "StartRoutineIntent"}
    assert "pain" not in json.dumps(lines).lower()


FIELD_VALUES = st.text(max_size=40) | st.integers(-10**6, 10**6) | st.booleans() \
    | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, database=None)
@given(fields=st.dictionaries(st.sampled_from(["method", "path", "status", "latency_ms",
                                               "request_id", "type", "locale", "reason"]),
                              FIELD_VALUES),
       created=st.floats(0, 4e9))
def test_the_prebuilt_request_line_is_what_the_json_formatter_writes(fields, created):
    record = logging.LogRecord("knee_routine.requests", logging.INFO, __file__, 1, "request",
                               None, None)
    record.created = created
    record.fields = fields
    assert request_line(created, fields) == JsonFormatter().format(record)
    assert json.loads(request_line(created, fields)).items() >= fields.items()


# Envelopes as they come, well formed or not: each field the line reads may be missing, of
# another type, long, or hostile text.
ANY_VALUE = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=120) \
    | st.lists(st.integers(-3, 3), max_size=2) | st.just({})
TEXT_OR_ANY = st.text(max_size=150) | ANY_VALUE
ENVELOPES = st.one_of(
    st.sampled_from([launch(user="log-a"), intent("AMAZON.NextIntent", new=False),
                     intent("PainIntent", new=False), intent("AMAZON.YesIntent")]),
    st.fixed_dictionaries({}, optional={
        "request": st.fixed_dictionaries({}, optional={
            "requestId": TEXT_OR_ANY, "type": TEXT_OR_ANY, "locale": TEXT_OR_ANY,
            "intent": st.fixed_dictionaries({}, optional={"name": TEXT_OR_ANY}) | ANY_VALUE,
        }) | ANY_VALUE,
        "context": st.fixed_dictionaries({}, optional={"System": st.fixed_dictionaries(
            {}, optional={"user": st.fixed_dictionaries(
                {}, optional={"userId": TEXT_OR_ANY})})}) | ANY_VALUE,
        "session": st.fixed_dictionaries({}, optional={"user": st.fixed_dictionaries(
            {}, optional={"userId": TEXT_OR_ANY})}) | ANY_VALUE,
    }),
    ANY_VALUE,
)
REPLIES = st.none() | st.fixed_dictionaries({}, optional={
    "sessionAttributes": st.fixed_dictionaries({}, optional={"state": st.fixed_dictionaries(
        {}, optional={"pos": st.lists(st.integers(-2, 30) | ANY_VALUE, max_size=3)
                      | ANY_VALUE})}) | ANY_VALUE,
    "response": st.fixed_dictionaries({}, optional={"shouldEndSession": ANY_VALUE})
    | ANY_VALUE,
})


@settings(max_examples=400, database=None)
@given(event=ENVELOPES, reply=REPLIES, rejected=st.none() | st.text(max_size=60),
       status=st.sampled_from([200, 400, 413, 503]),
       latency=st.none() | st.floats(0, 1e5, allow_nan=False),
       method=st.sampled_from(["POST", "GET"]), path=st.text(max_size=40),
       created=st.floats(0, 4e9))
def test_the_request_line_is_json_holding_the_request_fields(
        event, reply, rejected, status, latency, method, path, created):
    fields = request_fields(method, path, status, latency, event, reply, rejected)
    line = json.loads(request_line(created, fields))
    assert {k: v for k, v in line.items() if k not in ("time", "level", "logger", "message")} \
        == fields


@pytest.fixture
def queue_log():
    logger = logging.getLogger("waitress.queue")
    kept = list(logger.filters)
    yield logger
    logger.filters[:] = kept


def test_waitress_queue_warnings_are_rate_limited(queue_log, caplog):
    caplog.set_level(logging.WARNING, logger="waitress.queue")
    queue_log.filters[:] = [f for f in queue_log.filters if not isinstance(f, EveryInterval)]
    limit_queue_warnings()
    dispatcher = ThreadedTaskDispatcher()  # no threads: every task queued warns
    for _ in range(500):
        dispatcher.add_task(object())
    warned = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
    assert warned == ["Task queue depth is 1"]


def test_a_held_back_warning_is_counted_in_the_next_one(queue_log, caplog):
    caplog.set_level(logging.WARNING, logger="waitress.queue")
    now = [0.0]
    queue_log.filters[:] = [EveryInterval(60, clock=lambda: now[0])]
    for depth in range(1, 101):
        queue_log.warning("Task queue depth is %d", depth)
    now[0] = 61.0
    queue_log.warning("Task queue depth is %d", 7)
    assert [r.getMessage() for r in caplog.records] == [
        "Task queue depth is 1",
        "Task queue depth is 7 (99 more like this in the last 60 s not logged)"]


@pytest.mark.parametrize("fault", [signal.SIGSEGV, signal.SIGBUS])
def test_a_fatal_signal_leaves_a_traceback_in_the_log(tmp_path, fault):
    with knee_routine_serve(tmp_path, "--dev") as server:
        assert "faulthandler on" in server.output()
        os.kill(server.process.pid, fault)
        assert server.process.wait(timeout=10) != 0
    output = server.output()
    assert "Fatal Python error" in output and "Thread" in output, output[-2000:]
