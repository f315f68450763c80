"""The requests the benchmark sends, taken from real conversations with the skill.

The skill is driven like an Echo through the Lambda handler; each kind of turn is then replayed
with the session attributes of that real turn, on a speaker and on an Echo Show (APL in
``supportedInterfaces``):

- ``launch new``: a LaunchRequest from a user the skill has never seen (a new user each call);
- ``launch returning``: a new session of a user who did a set before;
- ``intro``: "next" at the end of step 1: step 2's instructions (its card and screen);
- ``next (timed set)``: "next" after step 2's intro: a whole narrated set;
- ``repeat``, ``question`` (an FAQ topic), ``help``, ``pain``: said just after that set.

The hello-world gets the "next" envelope with its one intent's name.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import settings_api
from tests.support.envelopes import APP_ID, Session, custom_slot, intent, launch

LOCALE = "ja-JP"  # the primary locale
NEXTS_TO_INTRO = 3  # after launch: step 1 intro, its two sets; the next "next" is step 2's intro
REFERENCE_INTENT = "HelloWorldIntent"
FAQ_TOPIC = "how_long"
APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.2"}}}
DEVICES = ("speaker", "show")
KINDS = ("launch new", "launch returning", "intro", "next (timed set)", "repeat", "question",
         "help", "pain")
MEASURED = "next (timed set)"  # the turn of the HTTP runs and the verification figures

_NEW_USERS = itertools.count()  # one process-wide sequence: a "new" user is never seen twice
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Turn:
    kind: str
    device: str
    envelope: dict[str, Any]
    new_user_each_call: bool = False

    @property
    def name(self) -> str:
        return f"{self.kind} / {self.device}"

    def caller(self, handler: Handler) -> Callable[[], Any]:
        """A call of ``handler`` with this turn (for a new user each time, when it says so)."""
        event = copy.deepcopy(self.envelope)
        if not self.new_user_each_call:
            return lambda: handler(event, None)
        session_user = event["session"]["user"]
        system_user = event["context"]["System"]["user"]

        def call() -> Any:
            user_id = f"amzn1.ask.account.bench-new-{next(_NEW_USERS)}"
            session_user["userId"] = system_user["userId"] = user_id
            return handler(event, None)

        return call


@dataclass(frozen=True)
class Scenario:
    turns: tuple[Turn, ...]
    reference: dict[str, Any]  # the hello-world's intent, in the "next" envelope
    launch: dict[str, Any]  # a LaunchRequest of a new user (cold start)

    @property
    def ours(self) -> dict[str, Any]:
        """The "next" (timed set) turn on a speaker: the HTTP runs send it."""
        return self.turn(MEASURED, "speaker").envelope

    def turn(self, kind: str, device: str) -> Turn:
        return next(t for t in self.turns if t.kind == kind and t.device == device)


def on_show(envelope: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(envelope)
    out["context"]["System"]["device"]["supportedInterfaces"] = copy.deepcopy(APL)
    return out


def drive(handler: Handler, user: str = "bench-user") -> Scenario:
    """Drive ``handler`` (the Lambda handler) through real sessions; the envelopes to replay."""
    send = lambda event: handler(event, None)  # noqa: E731
    returning = Session(send, locale=LOCALE, user=f"{user}-returning")
    returning.launch()
    returning.say("AMAZON.NextIntent")
    returning.say("AMAZON.NextIntent")  # a set done
    returning.end()
    session = Session(send, locale=LOCALE, user=user)
    session.launch()
    for _ in range(NEXTS_TO_INTRO):
        session.say("AMAZON.NextIntent")
    if not session.open:
        raise RuntimeError("the skill closed the session before mid-routine")

    def said(name: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        return intent(name, slots, locale=LOCALE, user=user, session_id=session.session_id,
                      new=False, attributes=copy.deepcopy(session.attributes))

    speaker = {
        "launch new": launch(locale=LOCALE, user="bench-new"),
        "launch returning": launch(locale=LOCALE, user=f"{user}-returning"),
        "intro": said("AMAZON.NextIntent"),
    }
    session.say("AMAZON.NextIntent")  # step 2's intro
    speaker["next (timed set)"] = said("AMAZON.NextIntent")
    session.say("AMAZON.NextIntent")  # its first set
    speaker["repeat"] = said("AMAZON.RepeatIntent")
    speaker["question"] = said("FaqIntent", custom_slot("topic", FAQ_TOPIC, FAQ_TOPIC))
    speaker["help"] = said("AMAZON.HelpIntent")
    speaker["pain"] = said("PainIntent")
    turns = []
    for kind in KINDS:
        for device in DEVICES:
            envelope = speaker[kind] if device == "speaker" else on_show(speaker[kind])
            turns.append(Turn(kind, device, envelope, new_user_each_call=kind == "launch new"))
    api = settings_api.url()
    speaker = {kind: on_api(envelope, api) for kind, envelope in speaker.items()}
    reference = copy.deepcopy(speaker[MEASURED])
    reference["request"]["intent"] = {"name": REFERENCE_INTENT, "confirmationStatus": "NONE",
                                      "slots": {}}
    return Scenario(tuple(turns), reference,
                    on_api(launch(locale=LOCALE, user="bench-cold"), api))


def on_api(envelope: dict[str, Any], api: str) -> dict[str, Any]:
    """``envelope`` naming the loopback Settings API (``bench.settings_api``) as Alexa's."""
    out = copy.deepcopy(envelope)
    system = out.get("context", {}).get("System", {})
    if "apiEndpoint" in system:
        system["apiEndpoint"] = api
    return out


def check_turns(scenario: Scenario, handler: Handler) -> dict[str, dict[str, Any]]:
    """Each turn, once it has settled (its first replay may save what the drive left), answered
    twice alike (a new user's record incarnation aside), as its kind should be: the Echo Show
    hears what the speaker hears, and sees a screen for an intro and a set. Returns the answers.
    Raises ``RuntimeError`` when a turn does not measure what it claims to."""
    answers = {}
    for turn in scenario.turns:
        call = turn.caller(handler)
        call()
        first, second = call(), call()
        response = second.get("response", {})
        if _settled(first, turn) != _settled(second, turn):
            raise RuntimeError(f"{turn.name}: a replay answered differently")
        if "outputSpeech" not in response:
            raise RuntimeError(f"{turn.name}: no speech in {str(second)[:300]}")
        screens = [d for d in response.get("directives", []) if "APL" in d.get("type", "")]
        wants_screen = turn.device == "show" and turn.kind in ("intro", MEASURED, "repeat")
        if bool(screens) != wants_screen:
            raise RuntimeError(f"{turn.name}: screen {'missing' if wants_screen else 'sent'}")
        answers[turn.name] = second
    speeches = {turn.kind: answers[turn.name]["response"]["outputSpeech"]
                for turn in scenario.turns if turn.device == "speaker"}
    for turn in scenario.turns:
        if answers[turn.name]["response"]["outputSpeech"] != speeches[turn.kind]:
            raise RuntimeError(f"{turn.name}: the Echo Show heard something else")
    distinct = {kind: s for kind, s in speeches.items() if kind != "repeat"}  # says the set again
    if len({s["ssml"] for s in distinct.values()}) != len(distinct):
        raise RuntimeError("two kinds of turn answered alike (an apology?)")
    return answers


def _settled(answer: dict[str, Any], turn: Turn) -> dict[str, Any]:
    """What must be alike in two replies: all of it, save a new user's record incarnation
    (each new user's record gets its own)."""
    if not turn.new_user_each_call:
        return answer
    out = copy.deepcopy(answer)
    out.get("sessionAttributes", {}).pop("record", None)
    return out


def store_path(workdir: Path) -> Path:
    """The SQLite file the conversations were driven on, and the in-process runs replay on."""
    return workdir / "drive.sqlite3"


def build_scenario(workdir: Path) -> Scenario:
    """Drive the real Lambda handler on a scratch SQLite file (leaves the handler unbuilt)."""
    import skill.lambda_function as lambda_function

    with environment(KNEE_ROUTINE_DB=str(store_path(workdir)),
                     KNEE_ROUTINE_SKILL_ID=APP_ID, KNEE_ROUTINE_TABLE=None):
        lambda_function._runtime = None
        try:
            return drive(lambda_function.handler)
        finally:
            lambda_function._runtime = None


def for_user(envelope: dict[str, Any], user: str) -> dict[str, Any]:
    """``envelope`` as sent for another user (HTTP load spreads over many users). The session
    names no record incarnation (as one from before records had them): the turn reads and
    writes this user's own record, not the driven user's (which would be refused, unwritten)."""
    out = copy.deepcopy(envelope)
    (out.get("session") or {}).get("attributes", {}).pop("record", None)
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
