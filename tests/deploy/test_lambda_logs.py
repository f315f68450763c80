"""On Lambda, each request is logged once with the web service's request-log fields.

The runtime's JSON log format (template.yaml: LoggingConfig LogFormat JSON) writes every
attribute a record carries beyond the standard ones; ``LambdaJson`` below does the same, so the
test reads the line CloudWatch would get.
"""

from __future__ import annotations

import json
import logging

from tests.support.envelopes import Session
from tests.support.skill_servers import http_skill, lambda_skill

STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
HTTP_ONLY = {"method", "path", "status"}


class LambdaJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"level": record.levelname, "message": record.getMessage(), "logger": record.name}
        doc.update((k, v) for k, v in vars(record).items() if k not in STANDARD)
        return json.dumps(doc)


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "knee_routine.requests"]


def test_a_lambda_turn_logs_the_web_services_fields(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    with lambda_skill(tmp_path / "lambda.sqlite3", monkeypatch) as send:
        s = Session(send, locale="ja-JP", user="logged")
        s.launch()
        s.say("AMAZON.HelpIntent")
    lambda_lines = [json.loads(LambdaJson().format(r)) for r in _request_lines(caplog)]
    caplog.clear()
    with http_skill(tmp_path / "web.sqlite3") as (_, send):
        s = Session(send, locale="ja-JP", user="logged")
        s.launch()
        s.say("AMAZON.HelpIntent")
    web_lines = [r.fields for r in _request_lines(caplog)]

    assert len(lambda_lines) == len(web_lines) == 2, "one line per request"
    for on_lambda, on_web in zip(lambda_lines, web_lines, strict=True):
        assert on_lambda["message"] == "request"
        assert set(on_lambda) - {"level", "message", "logger"} == set(on_web) - HTTP_ONLY
        for key in ("type", "locale", "user", "end_session"):
            assert on_lambda[key] == on_web[key], key
        assert isinstance(on_lambda["latency_ms"], float)
    assert lambda_lines[1]["intent"] == "AMAZON.HelpIntent"
    assert "logged" not in json.dumps(lambda_lines), "the user id is never logged in clear"
