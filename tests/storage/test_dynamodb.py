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
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from skill.content.loader import LOCALES, load_content
from skill.hosting import settings
from skill.storage import dynamodb as dynamo
from tests.support.envelopes import Session
from tests.support.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
NEXT, PAUSE, RESUME = "AMAZON.NextIntent", "AMAZON.PauseIntent", "AMAZON.ResumeIntent"
TURNS_TO_STEP = {2: 4, 3: 7}  # NextIntents after launch that reach the step's instructions

# Answers envelopes with skill.lambda_function.handler: one JSON line in, one out.
WORKER = """
import json, sys
from skill.lambda_function import handler
for line in sys.stdin:
    print(json.dumps(handler(json.loads(line), None)), flush=True)
"""


@contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """moto's standalone server (DynamoDB and the rest of its AWS) on a loopback port."""
    port = free_port()
    log = (log_dir / "moto.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"moto server exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


def aws_env(endpoint: str) -> dict[str, str]:
    """What Lambda would set, pointed at a loopback endpoint; no real credentials anywhere."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _table_properties() -> dict:
    """The table's key schema and billing mode as template.yaml deploys them."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda *_: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=loader)
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    return table["Properties"]


class Dynamo:
    """Direct access to the server, as an operator with the AWS console would have."""

    def __init__(self, url: str) -> None:
        import boto3

        self.client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")

    def create_table(self, name: str) -> None:
        props = _table_properties()
        self.client.create_table(TableName=name, KeySchema=props["KeySchema"],
                                 AttributeDefinitions=props["AttributeDefinitions"],
                                 BillingMode=props["BillingMode"])
        self.client.update_time_to_live(TableName=name,
                                        TimeToLiveSpecification=props["TimeToLiveSpecification"])

    def item(self, table: str, user: str) -> dict | None:
        from boto3.dynamodb.types import TypeDeserializer

        raw = self.client.get_item(TableName=table, ConsistentRead=True,
                                   Key={"id": {"S": f"amzn1.ask.account.{user}"}}).get("Item")
        return None if raw is None else {k: TypeDeserializer().deserialize(v)
                                         for k, v in raw.items()}

    def user_ids(self, table: str) -> set[str]:
        return {i["id"]["S"] for i in self.client.scan(TableName=table)["Items"]}


@pytest.fixture
def dynamo_db(moto_url) -> Dynamo:
    return Dynamo(moto_url)


@pytest.fixture
def table(dynamo_db) -> str:
    name = f"knee-routine-{uuid.uuid4().hex[:12]}"
    dynamo_db.create_table(name)
    return name


@pytest.fixture
def skill_on(monkeypatch):
    """The Lambda configuration in this process: a runtime on ``table`` through ``endpoint``."""

    def build(table: str, endpoint: str):
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in aws_env(endpoint).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv(settings.TABLE_ENV, table)
        monkeypatch.delenv(settings.SKILL_ID_ENV, raising=False)
        return settings.runtime_from_env().handle

    return build


@contextmanager
def lambda_process(table: str, endpoint: str) -> Iterator:
    """A separate process answering like a Lambda container configured by template.yaml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KNEE_ROUTINE_", "AWS_"))}
    env.update(aws_env(endpoint), **{settings.TABLE_ENV: table})
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(envelope: dict) -> dict:
        proc.stdin.write(json.dumps(envelope) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, f"the Lambda process died (exit code {proc.poll()})"
        return json.loads(line)

    try:
        yield send
    finally:
        proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()


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


def test_stored_numbers_come_back_as_the_same_types(moto_url, table, skill_on):
    """DynamoDB turns numbers into Decimal and refuses floats: the store hides both."""
    from ask_sdk_model import RequestEnvelope, User
    from ask_sdk_model.context import Context
    from ask_sdk_model.interfaces.system import SystemState

    skill_on(table, moto_url)
    store = settings.store_from_env()
    envelope = RequestEnvelope(context=Context(system=SystemState(user=User(user_id="u-types"))))
    record = {"v": 1, "profile": {"equipment": "towel", "disclaimer_heard": True,
                                  "days_done": 12, "streak": 3, "last_day": "2026-11-24",
                                  "pain_last": False, "resume_at": [4, 0]},
              "ratio": 0.75}
    store.save_attributes(envelope, record)
    loaded = store.get_attributes(envelope)
    assert loaded == record
    assert type(loaded["profile"]["days_done"]) is int
    assert all(type(n) is int for n in loaded["profile"]["resume_at"])
    assert type(loaded["ratio"]) is float


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

    dynamo_db.create_table(table)  # the operator restores the table; the user says it again
    session.say(NEXT)
    assert session.text == expected
    assert dynamo_db.item(table, "mid")["attributes"]["profile"]["resume_at"] == [1, 0]


class ThrottlingProxy:
    """A loopback proxy in front of moto that answers PutItem like a throttled table."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.throttle_puts = 0  # how many of the next PutItem calls to refuse
        self.puts = 0  # PutItem calls seen
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("X-Amz-Target", "").endswith(".PutItem"):
                    proxy.puts += 1
                    if proxy.throttle_puts > 0:
                        proxy.throttle_puts -= 1
                        return self.reply(400, json.dumps({
                            "__type": "com.amazonaws.dynamodb.v20120810"
                                      "#ProvisionedThroughputExceededException",
                            "message": "The level of configured provisioned throughput for "
                                       "the table was exceeded."}).encode())
                conn = http.client.HTTPConnection(proxy.upstream, timeout=10)
                conn.request("POST", self.path, body, dict(self.headers))
                upstream = conn.getresponse()
                self.reply(upstream.status, upstream.read())
                conn.close()

            def reply(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ThrottlingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


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
