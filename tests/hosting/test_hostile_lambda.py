"""Hostile text through the Lambda entry point: dropped with one warning line, or refused;
never a traceback, never the apology."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings

from skill.errors import BadRequest
from tests.hosting.test_hostile import LONE, apologies, text_attacks
from tests.support.envelopes import custom_slot, intent, launch
from tests.support.skill_servers import lambda_skill

REFUSED = BadRequest
CHECKS_LOG = "skill.hosting.request_checks"


@pytest.fixture
def send(tmp_path, monkeypatch):
    with lambda_skill(tmp_path / "lambda.sqlite3", monkeypatch) as send:
        yield send


def warnings_from_checks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == CHECKS_LOG and r.levelno == logging.WARNING]


def test_a_hostile_slot_is_dropped_with_one_warning_line(send, caplog, content):
    caplog.set_level(logging.INFO)
    doc = intent("FaqIntent", {**custom_slot("topic", "towel" + LONE, "towel"),
                               "x\x00": {"name": "x", "value": "y"}},
                 attributes={"pad": "z" * 10_000})
    reply = send(doc)
    assert reply["response"]["outputSpeech"]
    assert not any(a in str(reply) for a in apologies(content))
    lines = warnings_from_checks(caplog)
    assert len(lines) == 1
    assert "slot 'topic'" in lines[0] and "session attribute 'pad'" in lines[0]
    assert LONE not in lines[0] and "\x00" not in lines[0]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_hostile_user_id_is_refused_before_the_skill(send, caplog):
    caplog.set_level(logging.INFO)
    doc = launch(user="a" + LONE)
    with pytest.raises(REFUSED, match="userId is not clean text"):
        send(doc)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_fuzz_of_hostile_text_on_lambda_gets_no_traceback_and_no_apology(send, caplog,
                                                                          content):
    said_sorry = apologies(content)
    caplog.set_level(logging.INFO)

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(doc=text_attacks())
    def attack(doc: dict) -> None:
        caplog.clear()
        try:
            reply = send(doc)
        except REFUSED:
            pass
        else:
            assert not any(a in str(reply) for a in said_sorry), str(reply)[:300]
        assert len(warnings_from_checks(caplog)) <= 1
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    attack()
