"""Where the simulators send requests: the skill in this process, or a served skill over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Send = Callable[[dict[str, Any]], dict[str, Any]]

HTTP_TIMEOUT = 10.0


class SkillError(Exception):
    """The skill refused the request, or answered with something that is not a response."""


class SkillUnreachable(SkillError):
    """Nothing answered at the skill's address."""


def in_process(db: Path | str) -> Send:
    """Answer with the skill built in this process, storing users in the SQLite file ``db``."""
    from skill.alexa.runtime import SkillConfig, SkillRuntime
    from skill.storage.sqlite import SQLiteAdapter

    return runtime_sender(SkillRuntime(SkillConfig(persistence=SQLiteAdapter(db))))


def runtime_sender(runtime: Any) -> Send:
    """Answer with ``runtime``; a refused request becomes a ``SkillError``."""
    from skill.errors import BadRequest

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        try:
            return runtime.handle(envelope)
        except BadRequest as e:
            raise SkillError(f"the skill refused the request: {e}") from None

    return send


def over_http(url: str, timeout: float = HTTP_TIMEOUT) -> Send:
    """Answer with the skill's web service at ``url`` (e.g. http://127.0.0.1:5000/alexa)."""
    import requests

    http = requests.Session()

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = http.post(url, json=envelope, timeout=timeout)
        except requests.RequestException as e:
            raise SkillUnreachable(f"could not reach {url}: {type(e).__name__}") from None
        if answer.status_code != 200:
            raise SkillError(f"{url} answered HTTP {answer.status_code}: {answer.text[:200]}")
        try:
            return answer.json()
        except ValueError:
            raise SkillError(f"{url} did not answer with JSON") from None

    return send

