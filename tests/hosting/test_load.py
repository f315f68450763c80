"""A short, bounded load on a production ``knee-routine serve`` (verification on) on loopback.

32 users in 8 concurrent threads each run a session as an Echo would (launch, four "next",
help, pause, leave) with signed requests, plus one unsigned request each. Nothing is timed
(speed belongs to ``make bench``): every answer must be right, every progress saved, and the log
must hold one line per request and no errors.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.alexa_ca import default_ca, default_leaf, signed_headers
from tests.support.envelopes import APP_ID, Session, launch
from tests.support.helpers import now_stamp
from tests.support.live_server import knee_routine_serve

USERS = 32
CONCURRENCY = 8
SIGNED_TURNS = 8  # launch, next x4, help, pause, session end


def run_user(url: str, user: str) -> list[int]:
    """One user's session; returns the HTTP status of every request."""
    statuses = []
    with requests.Session() as http:
        def send(doc: dict) -> dict:
            doc = {**doc, "request": {**doc["request"], "timestamp": now_stamp()}}
            body = json.dumps(doc).encode()
            reply = http.post(url, data=body, headers=signed_headers(default_leaf(), body),
                              timeout=30)
            statuses.append(reply.status_code)
            assert reply.status_code == 200, reply.text
            return reply.json()

        s = Session(send, user=user, locale="ja-JP" if user.endswith(("0", "5")) else "en-US")
        s.launch()
        s.say("AMAZON.YesIntent")  # the equipment question: a ball
        for _ in range(3):
            s.say("AMAZON.NextIntent")
            assert s.open
        s.say("AMAZON.HelpIntent")
        s.say("AMAZON.PauseIntent")
        s.end("USER_INITIATED")
        assert s.last["response"] == {}
        unsigned = http.post(url, json=launch(user=user, timestamp=now_stamp()), timeout=30)
        statuses.append(unsigned.status_code)
    return statuses


def test_concurrent_sessions_are_all_answered_and_saved(tmp_path):
    roots, chains = default_ca().write_files(tmp_path / "pki", default_leaf())
    users = [f"load-{i}" for i in range(USERS)]
    with knee_routine_serve(tmp_path, "--skill-id", APP_ID, "--trusted-roots", str(roots),
                            "--chain-dir", str(chains), "--threads", "4") as server:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(lambda u: run_user(server.alexa_url, u), users))
        assert requests.get(f"{server.base_url}/health", timeout=10).status_code == 200
    assert all(statuses == [200] * SIGNED_TURNS + [400] for statuses in results)
    for user in users:
        record = server.record(f"amzn1.ask.account.{user}")
        assert record["profile"]["resume_at"] == [1, -1], user  # paused at step 2's intro
    lines = server.json_lines()
    logged = [line for line in lines if line.get("path") == "/alexa"]
    assert len(logged) == USERS * (SIGNED_TURNS + 1)
    assert sum(line["status"] == 400 for line in logged) == USERS
    assert [line for line in lines if line["level"] == "error"] == []
