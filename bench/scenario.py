"""The requests the benchmark sends, taken from a real conversation with the skill.

The skill is driven like an Echo (launch, then "next" until mid-routine); the request measured is
the next ``AMAZON.NextIntent`` with the session attributes of that real turn. The hello-world gets
the same envelope with its one intent's name.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.envelopes import APP_ID, Session, intent, launch

LOCALE = "ja-JP"  # the primary locale
TURNS_BEFORE = 4  # step 1 intro, its two sets, step 2 intro: the next turn is a timed set
REFERENCE_INTENT = "HelloWorldIntent"


@dataclass(frozen=True)
class Scenario:
    ours: dict[str, Any]  # mid-routine AMAZON.NextIntent, session attributes from a real turn
    ours_answer: dict[str, Any]  # what the skill answered to it while being driven
    reference: dict[str, Any]  # the same envelope, for the hello-world's intent
    launch: dict[str, Any]  # a LaunchRequest of a new user (cold start)


def drive(handler, user: str = "bench-user") -> Scenario:
    """Drive ``handler`` (the Lambda handler) to mid-routine; the envelopes to replay."""
    session = Session(lambda event: handler(event, None), locale=LOCALE, user=user)
    session.launch()
    for _ in range(TURNS_BEFORE):
        session.say("AMAZON.NextIntent")
    if not session.open:
        raise RuntimeError("the skill closed the session before mid-routine")
    ours = intent("AMAZON.NextIntent", locale=LOCALE, user=user, session_id=session.session_id,
                  new=False, attributes=copy.deepcopy(session.attributes))
    answer = handler(copy.deepcopy(ours), None)
    reference = copy.deepcopy(ours)
    reference["request"]["intent"]["name"] = REFERENCE_INTENT
    return Scenario(ours, answer, reference, launch(locale=LOCALE, user="bench-cold"))


def build_scenario(workdir: Path) -> Scenario:
    """Drive the real Lambda handler on a scratch SQLite file (leaves the handler unbuilt)."""
    import skill.lambda_function as lambda_function

    with environment(KNEE_ROUTINE_DB=str(workdir / "drive.sqlite3"),
                      KNEE_ROUTINE_SKILL_ID=APP_ID, KNEE_ROUTINE_TABLE=None):
        lambda_function._runtime = None
        try:
            return drive(lambda_function.handler)
        finally:
            lambda_function._runtime = None


def for_user(envelope: dict[str, Any], user: str) -> dict[str, Any]:
    """``envelope`` as sent for another user (HTTP load spreads over many users)."""
    out = copy.deepcopy(envelope)
    user_id = f"amzn1.ask.account.{user}"
    out["session"]["user"]["userId"] = user_id
    out["context"]["System"]["user"]["userId"] = user_id
    return out


def stamped_now(envelope: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` with a current timestamp (a verifying server refuses one 150 s off)."""
    out = copy.deepcopy(envelope)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out["request"]["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


class environment:
    """Set (or, with None, remove) environment variables for a block."""

    def __init__(self, **values: str | None) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            _set(key, value)

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            _set(key, value)


def _set(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="knee-bench-"))
