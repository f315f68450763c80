"""What the server writes: a JSON line per request with no health answer in it, a traceback when
a fatal signal kills it, and waitress's queue warnings at a bearable rate."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time

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


def sender(server, http: requests.Session):
    """``send(envelope)``: the server's answer, stamped now; it must be HTTP 200."""
    def send(doc: dict) -> dict:
        reply = http.post(server.alexa_url, json=with_timestamp_now(doc), timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    return send


def request_lines(server) -> list[dict]:
    return [line for line in server.json_lines() if line.get("path") == "/alexa"]


def test_a_pain_conversation_leaves_no_health_answer_in_the_log(tmp_path):
    with knee_routine_serve(tmp_path, "--dev") as server, requests.Session() as http:
        send = sender(server, http)
        s = Session(send, user="sore-knee")
        s.launch()
        s.say("StartRoutineIntent")
        s.say("PainIntent")
        s.say("AMAZON.NoIntent")
        s.say("AMAZON.YesIntent")
        s.end()
        turns = 6
    lines = request_lines(server)
    assert len(lines) == turns
    for line in lines:
        assert line["status"] == 200 and line["latency_ms"] >= 0
        assert line["type"] and line["locale"] == "en-US" and len(line["user"]) == 16
        assert "phase" not in line and line.get("intent") not in PRIVATE_INTENTS
    assert {line.get("intent") for line in lines} == {None, "StartRoutineIntent"}
    assert "pain" not in json.dumps(lines).lower()


def test_request_lines_are_written_while_the_server_runs_and_none_is_lost_when_it_stops(tmp_path):
    with knee_routine_serve(tmp_path, "--dev") as server, requests.Session() as http:
        send = sender(server, http)
        Session(send, user="first").launch()
        deadline = time.monotonic() + 2
        while not request_lines(server):
            assert time.monotonic() < deadline, "no request line within 2 s of the request"
            time.sleep(0.02)
        users = 40
        for n in range(users):
            Session(send, user=f"user-{n}").launch()
        # stopped at once (SIGTERM) when the block ends: the lines still queued are written
    lines = request_lines(server)
    assert len(lines) == 1 + users
    assert len({line["user"] for line in lines}) == 1 + users
    assert server.process.returncode == 0, "SIGTERM stops the server as Ctrl-C does"


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


def test_batched_request_lines_reach_a_pipe_whole_among_other_writers():
    from skill.hosting.request_log import LineBatches

    read_end, write_end = os.pipe()
    received = bytearray()
    reader = threading.Thread(target=lambda: _read_all(read_end, received))
    reader.start()
    batches = LineBatches(write_end)
    sent = {f'{{"n": "{n}", "pad": "{"x" * (n * 37 % 3000)}"}}\n'.encode() for n in range(2000)}
    others = {f'{{"other": {n}}}\n'.encode() for n in range(300)}

    def add(lines) -> None:
        for line in lines:
            batches.add(line)

    def write_others() -> None:
        for line in others:
            os.write(write_end, line)

    ordered = sorted(sent)
    workers = [threading.Thread(target=add, args=(ordered[k::8],)) for k in range(8)]
    workers.append(threading.Thread(target=write_others))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    batches.flush()
    os.close(write_end)
    reader.join(timeout=10)
    os.close(read_end)
    lines = [line + b"\n" for line in bytes(received).split(b"\n")[:-1]]
    assert sorted(lines) == sorted(sent | others), "every line once, none split or merged"


def _read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        into.extend(chunk)


def test_a_flush_waits_for_the_batch_the_writer_thread_is_writing():
    """What the server does as it stops: every line queued is written, also those the writer
    thread took and is still writing to an output that takes them slowly."""
    from skill.hosting.request_log import LineBatches

    read_end, write_end = os.pipe()
    received = bytearray()

    def read_slowly() -> None:
        time.sleep(0.3)  # the pipe fills meanwhile: the writer thread blocks mid-batch
        _read_all(read_end, received)

    reader = threading.Thread(target=read_slowly)
    reader.start()
    batches = LineBatches(write_end)
    lines = [b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * 200) for n in range(3000)]
    for line in lines:
        batches.add(line)
    time.sleep(0.1)  # the writer thread has taken its batch
    assert batches.flush()
    os.close(write_end)
    reader.join(timeout=10)
    os.close(read_end)
    assert bytes(received) == b"".join(lines), "every line, once, in order"
