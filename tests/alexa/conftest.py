"""Fixtures shared by the tests of the Alexa layer: the skill behind both entry points, and a
loopback stand-in for the Alexa Reminders API."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.helpers import serving_in_thread
from tests.support.settings_api import SettingsApi
from tests.support.skill_servers import http_skill, lambda_skill


@pytest.fixture(params=["lambda", "http"])
def send(request, tmp_path, monkeypatch):
    """The skill on a SQLite file, through the Lambda handler and over HTTP."""
    db = tmp_path / "store.sqlite3"
    if request.param == "lambda":
        with lambda_skill(db, monkeypatch) as send:
            yield send
    else:
        with http_skill(db) as (_, send):
            yield send


class AlexaApi(BaseHTTPRequestHandler):
    """Plays the Alexa Reminders API on loopback and records what it was sent."""

    status = 201
    calls: list[dict] = []

    def do_POST(self):  # noqa: N802 (the http.server API)
        length = int(self.headers["Content-Length"])
        type(self).calls.append({"path": self.path, "auth": self.headers["Authorization"],
                                 "type": self.headers["Content-Type"],
                                 "body": json.loads(self.rfile.read(length))})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"alertToken": "t-1", "status": "ON"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def alexa_api():
    AlexaApi.calls = []
    AlexaApi.status = 201
    with serving_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), AlexaApi)) as server:
        yield f"http://127.0.0.1:{server.server_port}", AlexaApi


@pytest.fixture
def api():
    """The Alexa Settings API on loopback (device id -> time zone)."""
    with SettingsApi() as fake:
        yield fake
