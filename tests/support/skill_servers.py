"""The skill's two entry points as test fixtures: the Lambda handler and Flask over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from werkzeug.serving import make_server

import skill.lambda_function as lambda_function
from skill.web import create_app
from tests.support.helpers import serving_in_thread

Send = Callable[[dict], dict]


@contextmanager
def http_skill(db: Path, **config) -> Iterator[tuple[str, Send]]:
    """The Flask app served on a free loopback port; yields (url, send)."""
    app = create_app({"DEV": True, "DATABASE": str(db), **config})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}/alexa"

    with serving_in_thread(server), requests.Session() as http:
        def send(envelope: dict) -> dict:
            response = http.post(url, json=envelope, timeout=10)
            assert response.status_code == 200, response.text
            return response.json()

        yield url, send


@contextmanager
def lambda_skill(db: Path, monkeypatch) -> Iterator[Send]:
    """``skill.lambda_function.handler`` with a fresh runtime on the SQLite file ``db``."""
    monkeypatch.setenv("KNEE_ROUTINE_DB", str(db))
    monkeypatch.delenv("KNEE_ROUTINE_SKILL_ID", raising=False)
    monkeypatch.setattr(lambda_function, "_runtime", None)
    yield lambda envelope: lambda_function.handler(envelope, None)
    monkeypatch.setattr(lambda_function, "_runtime", None)
