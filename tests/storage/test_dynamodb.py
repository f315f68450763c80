"""The DynamoDB store, against moto's DynamoDB server on loopback (started here).

What a user would notice: progress that survives a new Lambda container, users kept apart, and a
spoken apology, with nothing lost, when the table is missing or throttles writes.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

import pytest

from skill.content.loader import LOCALES, load_content
from skill.hosting import settings
from skill.storage import dynamodb as dynamo
from tests.storage.moto import ROOT, Dynamo, aws_env, lambda_process, moto_server  # noqa: F401 (tests/deploy uses them)
from tests.support.envelopes import Session
from tests.support.helpers import LoopbackHttp

NEXT, PAUSE, RESUME = "AMAZON.NextIntent", "AMAZON.PauseIntent", "AMAZON.ResumeIntent"
TURNS_TO_STEP = {2: 4, 3: 7}  # NextIntents after launch that reach the step's instructions

def line(locale: str, key: str, **params) -> str:
    """A prompt as content/ words it (single-variant prompts only)."""
    return load_content().for_locale(locale).prompt(key).format(**params)


def title(locale: str, step: int) -> str:
    return load_content().for_locale(locale).steps[step - 1].title


def go_to_step(session: Session, step: int) -> None:
    session.launch()
    for _ in range(TURNS_TO_STEP[step]):
        session.say(NEXT)
    assert title(session.locale, step) in session.text


def assert_apology(session: Session) -> None:
    assert line(session.locale, "error") in session.text
    assert session.open, "the session stays open so the user can say it again"
    reprompt = session.last["response"]["reprompt"]["outputSpeech"]["ssml"]
    assert line(session.locale, "ask_error") in reprompt


# -- pause and resume across processes ---------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_pause_in_one_process_resume_in_another(locale, moto_url, table, dynamo_db):
    with lambda_process(table, moto_url) as first:
        session = Session(first, locale=locale, user="walker")
        go_to_step(session, 2)
        session.say(PAUSE)
        assert line(locale, "paused", number=2) in session.text
        session.say("AMAZON.StopIntent")
        assert not session.open

    item = dynamo_db.item(table, "walker")
    assert item["attributes"]["profile"]["resume_at"] == [1, -1]
    # The TTL attribute: epoch seconds about a year ahead, so stale records expire.
    ahead = item[dynamo.TTL_ATTRIBUTE] - Decimal(time.time())
    assert 360 * 86400 < ahead <= dynamo.KEEP_FOR_SECONDS

    with lambda_process(table, moto_url) as second:  # a new container, a new session
        session = Session(second, locale=locale, user="walker")
        session.launch()
        assert line(locale, "resume_offer", number=2, title=title(locale, 2)) in session.text
        session.say(RESUME)
        assert line(locale, "resuming", number=2) in session.text
        assert title(locale, 2) in session.text
        for _ in range(30):
            if not session.open:
                break
            session.say(NEXT)
        assert not session.open

    profile = dynamo_db.item(table, "walker")["attributes"]["profile"]
    assert profile["days_done"] == 1 and profile["resume_at"] is None


# -- users kept apart ----------------------------------------------------------------------------


def test_two_users_never_mix(moto_url, table, dynamo_db, skill_on):
    send = skill_on(table, moto_url)
    ann = Session(send, locale="en-US", user="ann")
    ken = Session(send, locale="ja-JP", user="ken")
    ann.launch()
    ken.launch()
    for turn in range(TURNS_TO_STEP[3]):  # interleaved: Ann goes to step 3, Ken to step 2
        ann.say(NEXT)
        if turn < TURNS_TO_STEP[2]:
            ken.say(NEXT)
    ann.say(PAUSE)
    ken.say(PAUSE)
    assert line("en-US", "paused", number=3) in ann.text
    assert line("ja-JP", "paused", number=2) in ken.text

    ann, ken = Session(send, locale="en-US", user="ann"), Session(send, locale="ja-JP", user="ken")
    ken.launch()
    ann.launch()
    assert line("en-US", "resume_offer", number=3, title=title("en-US", 3)) in ann.text
    assert line("ja-JP", "resume_offer", number=2, title=title("ja-JP", 2)) in ken.text
    assert dynamo_db.user_ids(table) == {"amzn1.ask.account.ann", "amzn1.ask.account.ken"}

    ken.say("DeleteDataIntent")  # Ken deletes his data; Ann's stays
    ken.say("AMAZON.YesIntent")
    assert line("ja-JP", "delete_done") in ken.text
    assert dynamo_db.item(table, "ken") is None
    assert dynamo_db.item(table, "ann")["attributes"]["profile"]["resume_at"] == [2, -1]


# -- failures: a spoken apology, nothing lost ----------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_missing_table_gets_an_apology(locale, moto_url, skill_on):
    send = skill_on("knee-routine-never-created", moto_url)
    session = Session(send, locale=locale, user="early")
    session.launch()
    assert_apology(session)


def answer_without_failures(send, locale: str, step: int) -> str:
    """What another user hears for NEXT at ``step``'s instructions when nothing fails."""
    control = Session(send, locale=locale, user=f"control-{uuid.uuid4().hex[:8]}")
    go_to_step(control, step)
    control.say(NEXT)
    return control.text


def test_table_gone_mid_session_keeps_the_users_place(moto_url, table, dynamo_db, skill_on):
    send = skill_on(table, moto_url)
    expected = answer_without_failures(send, "en-US", 2)
    session = Session(send, locale="en-US", user="mid")
    go_to_step(session, 2)
    place = session.attributes

    dynamo_db.client.delete_table(TableName=table)
    session.say(NEXT)  # each move saves the user's place: the write fails
    assert_apology(session)
    assert session.attributes == place, "the session still holds the user's place"

    dynamo_db.create_table(table)  # the operator makes the table again; the user says it again
    session.say(NEXT)
    assert session.text == expected
    # The new table is empty: like a delete, a session that began before it does not write
    # the old record back. A new launch starts a new record.
    assert dynamo_db.item(table, "mid") is None
    Session(send, locale="en-US", user="mid").launch()
    assert dynamo_db.item(table, "mid")["attributes"]["profile"]["disclaimer_heard"] is True


class ThrottlingProxy(LoopbackHttp):
    """A loopback proxy in front of moto that answers PutItem like a throttled table."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.throttle_puts = 0  # how many of the next PutItem calls to refuse
        self.delay = 0.0  # seconds before answering anything (a brownout)
        self.puts = 0  # PutItem calls seen
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(proxy.delay)
                if self.headers.get("X-Amz-Target", "").endswith(".PutItem"):
                    proxy.puts += 1
                    if proxy.throttle_puts > 0:
                        proxy.throttle_puts -= 1
                        return self.reply(400, json.dumps({
                            "__type": "com.amazonaws.dynamodb.v20120810"
                                      "#ProvisionedThroughputExceededException",
                            "message": "The level of configured provisioned throughput for "
                                       "the table was exceeded."}).encode())
                try:
                    conn = http.client.HTTPConnection(proxy.upstream, timeout=10)
                    conn.request("POST", self.path, body, dict(self.headers))
                    upstream = conn.getresponse()
                    self.reply(upstream.status, upstream.read())
                    conn.close()
                except OSError:  # moto has stopped (a late answer after the test)
                    pass

            def reply(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (the brownout case)
                    pass

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)


def test_a_brief_throttle_is_absorbed_by_one_retry(moto_url, table, dynamo_db, skill_on):
    with ThrottlingProxy(moto_url) as proxy:
        send = skill_on(table, proxy.url)
        expected = answer_without_failures(send, "ja-JP", 2)
        session = Session(send, locale="ja-JP", user="brief")
        go_to_step(session, 2)
        proxy.throttle_puts, proxy.puts = 1, 0
        session.say(NEXT)
        assert session.text == expected
        assert proxy.puts == 2
    assert dynamo_db.item(table, "brief")["attributes"]["profile"]["resume_at"] == [1, 0]


def test_a_throttled_write_gets_an_apology_and_loses_nothing(moto_url, table, dynamo_db,
                                                             skill_on):
    with ThrottlingProxy(moto_url) as proxy:
        send = skill_on(table, proxy.url)
        expected = answer_without_failures(send, "en-US", 2)
        session = Session(send, locale="en-US", user="busy")
        go_to_step(session, 2)
        place = session.attributes
        saved = dynamo_db.item(table, "busy")
        assert saved["attributes"]["profile"]["resume_at"] == [1, -1]

        proxy.throttle_puts, proxy.puts = 100, 0
        session.say(NEXT)
        assert_apology(session)
        attempts = dynamo.CLIENT_CONFIG["retries"]["total_max_attempts"]
        assert proxy.puts == attempts, "a bounded number of tries, then the apology"
        assert session.attributes == place
        assert dynamo_db.item(table, "busy") == saved, "the stored record is untouched"

        proxy.throttle_puts = 0  # the table has capacity again; the user says it again
        session.say(NEXT)
        assert session.text == expected
    assert dynamo_db.item(table, "busy")["attributes"]["profile"]["resume_at"] == [1, 0]


def test_a_brownout_gets_an_apology_within_alexas_eight_seconds(moto_url, table, skill_on):
    with ThrottlingProxy(moto_url) as proxy:
        send = skill_on(table, proxy.url)
        expected = answer_without_failures(send, "ja-JP", 2)
        session = Session(send, locale="ja-JP", user="brownout")
        go_to_step(session, 2)
        place = session.attributes
        proxy.delay = 6.0  # DynamoDB answers, but far too late
        started = time.monotonic()
        session.say(NEXT)
        took = time.monotonic() - started
        assert took < 8.0, took
        assert_apology(session)
        assert session.attributes == place
        proxy.delay = 0.0
        session.say(NEXT)  # DynamoDB is back: the user says it again, nothing was lost
        assert session.text == expected


# -- configuration -------------------------------------------------------------------------------


def test_without_a_region_the_store_says_what_to_set(monkeypatch):
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv(settings.TABLE_ENV, "any")
    with pytest.raises(dynamo.StoreConfigError, match="AWS_REGION"):
        settings.store_from_env()


def test_the_web_service_and_sqlite_lambda_never_import_boto3(tmp_path):
    code = (
        "import sys\n"
        "from skill.web import create_app\n"
        "from skill.lambda_function import handler\n"
        "from tests.support.envelopes import launch\n"
        "create_app({'DEV': True, 'DATABASE': sys.argv[1] + '/web.sqlite3'})\n"
        "assert handler(launch(), None)['response']['outputSpeech']\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNEE_ROUTINE_")}
    env["KNEE_ROUTINE_DB"] = str(tmp_path / "lambda.sqlite3")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_on_lambda_without_a_table_sqlite_lives_in_tmp(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.DATABASE_ENV, raising=False)
    monkeypatch.delenv(settings.TABLE_ENV, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "knee-routine")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() caches its answer
    assert settings.database_from_env() == tmp_path / settings.DEFAULT_DATABASE.name
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert settings.database_from_env() == settings.DEFAULT_DATABASE


def test_the_web_service_uses_the_table_too_and_its_health_says_so(moto_url, table, dynamo_db,
                                                                    aws, monkeypatch):
    """One place chooses the store: with a table configured, the web service keeps records in
    DynamoDB, and ``GET /health`` answers 503 once the table is gone."""
    from skill.web import create_app
    from tests.support.envelopes import launch

    aws(moto_url)
    monkeypatch.setenv(settings.TABLE_ENV, table)
    monkeypatch.delenv(settings.DATABASE_ENV, raising=False)
    client = create_app({"DEV": True}).test_client()
    assert client.post("/alexa", json=launch(user="webber")).status_code == 200
    assert dynamo_db.item(table, "webber")["attributes"]["profile"]["disclaimer_heard"] is True
    assert client.get("/health").status_code == 200
    dynamo_db.client.delete_table(TableName=table)
    started = time.monotonic()
    assert client.get("/health").status_code == 503
    assert time.monotonic() - started < 1.0
