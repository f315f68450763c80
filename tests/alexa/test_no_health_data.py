"""Nothing about pain is kept: not in the stored record, not in the request log's lines."""

from __future__ import annotations

import json
import logging
import sqlite3

from skill.web import create_app
from tests.support.envelopes import Session


def test_a_pain_report_leaves_no_trace_in_the_store_or_the_log(tmp_path, caplog):
    db = tmp_path / "pain.sqlite3"
    app = create_app({"DEV": True, "DATABASE": str(db)})
    client = app.test_client()
    s = Session(lambda e: client.post("/alexa", json=e).get_json(), user="sore")
    with caplog.at_level(logging.INFO, logger="knee_routine.requests"):
        s.launch()
        s.say("AMAZON.YesIntent")
        s.say("AMAZON.NextIntent")
        s.say("PainIntent")
        s.say("AMAZON.NoIntent")  # not sharp
        s.say("AMAZON.NoIntent")  # no swelling
        s.say("AMAZON.NoIntent")  # mild: skip the step
    lines = [getattr(r, "fields", {}) for r in caplog.records if r.name == "knee_routine.requests"]
    assert len(lines) == 7 and all(line["status"] == 200 for line in lines)
    assert lines[2]["intent"] == "AMAZON.NextIntent" and "phase" not in lines[2]
    for line in lines[3:]:  # the report and its answers: no intent, no phase
        assert "intent" not in line and "phase" not in line, line
        assert line["user"] == lines[0]["user"]
    assert not any("pain" in json.dumps(line).lower() for line in lines)
    with sqlite3.connect(db) as conn:
        (doc,) = conn.execute("SELECT attributes FROM user_attributes").fetchone()
    assert "pain" not in doc
