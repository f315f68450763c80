"""Alexa-shaped request envelopes for the tests, and a driver that keeps a session like Alexa."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

APP_ID = "amzn1.ask.skill.00000000-test-knee-routine"
TIMESTAMP = "2026-11-25T09:00:00Z"


def envelope(request: dict[str, Any], *, locale: str = "en-US", user: str = "user-1",
             session_id: str | None = None, new: bool = True,
             attributes: dict[str, Any] | None = None, app_id: str = APP_ID,
             timestamp: str = TIMESTAMP, interfaces: dict[str, Any] | None = None) -> dict:
    """A full request envelope around ``request`` (type, and intent for IntentRequest)."""
    user_obj = {"userId": f"amzn1.ask.account.{user}"}
    app = {"applicationId": app_id}
    return {
        "version": "1.0",
        "session": {
            "new": new,
            "sessionId": session_id or f"amzn1.echo-api.session.{uuid.uuid4().hex}",
            "application": app,
            "user": user_obj,
            "attributes": attributes or {},
        },
        "context": {
            "System": {
                "application": app,
                "user": user_obj,
                "device": {"deviceId": "amzn1.ask.device.test",
                           "supportedInterfaces": interfaces or {}},
                "apiEndpoint": "https://api.fe.amazonalexa.com",
                "apiAccessToken": "test-token",
            }
        },
        "request": {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4().hex}",
            "timestamp": timestamp,
            "locale": locale,
            **request,
        },
    }


def launch(**kw: Any) -> dict:
    return envelope({"type": "LaunchRequest"}, **kw)


def intent(name: str, slots: dict[str, Any] | None = None, **kw: Any) -> dict:
    return envelope({"type": "IntentRequest", "dialogState": "COMPLETED",
                     "intent": {"name": name, "confirmationStatus": "NONE",
                                "slots": slots or {}}}, **kw)


def session_ended(reason: str = "USER_INITIATED", **kw: Any) -> dict:
    return envelope({"type": "SessionEndedRequest", "reason": reason}, **kw)


def custom_slot(name: str, value: str, slot_id: str | None) -> dict[str, Any]:
    """A custom slot as Alexa sends it, with entity resolution (a match when ``slot_id``)."""
    status = "ER_SUCCESS_MATCH" if slot_id else "ER_SUCCESS_NO_MATCH"
    authority = {"authority": f"amzn1.er-authority.echo-sdk.{APP_ID}.{name.upper()}",
                 "status": {"code": status}}
    if slot_id:
        authority["values"] = [{"value": {"name": value, "id": slot_id}}]
    return {name: {"name": name, "value": value, "confirmationStatus": "NONE",
                   "resolutions": {"resolutionsPerAuthority": [authority]}}}


def number_slot(name: str, value: int) -> dict[str, Any]:
    return {name: {"name": name, "value": str(value), "confirmationStatus": "NONE"}}


def speech_text(response: dict) -> str:
    """The outputSpeech with SSML tags removed."""
    ssml = response["response"].get("outputSpeech", {}).get("ssml", "")
    ssml = re.sub(r"</?sub[^>]*>", "", ssml)  # a lexicon word reads as part of its sentence
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ssml)).strip()


@dataclass
class Session:
    """Talks to the skill like an Echo: one session id, attributes carried between turns."""

    send: Callable[[dict], dict]
    locale: str = "en-US"
    user: str = "user-1"
    session_id: str = field(default_factory=lambda: f"amzn1.echo-api.session.{uuid.uuid4().hex}")
    attributes: dict[str, Any] = field(default_factory=dict)
    new: bool = True
    last: dict | None = None

    def _go(self, env: dict) -> dict:
        self.last = self.send(env)
        self.new = False
        self.attributes = self.last.get("sessionAttributes") or {}
        return self.last

    def _kw(self) -> dict[str, Any]:
        return {"locale": self.locale, "user": self.user, "session_id": self.session_id,
                "new": self.new, "attributes": self.attributes}

    def launch(self) -> dict:
        return self._go(launch(**self._kw()))

    def say(self, name: str, slots: dict[str, Any] | None = None) -> dict:
        return self._go(intent(name, slots, **self._kw()))

    def end(self, reason: str = "USER_INITIATED") -> dict:
        return self._go(session_ended(reason, **self._kw()))

    def finish_routine(self) -> Session:
        """Launch, go to the last step and say "next" until the routine ends (a finished day)."""
        self.launch()
        self.say("GoToStepIntent", {"step": {"name": "step", "value": "5"}})
        while self.open:
            self.say("AMAZON.NextIntent")
        return self

    @property
    def text(self) -> str:
        return speech_text(self.last) if self.last else ""

    @property
    def open(self) -> bool:
        return self.last is not None and self.last["response"].get("shouldEndSession") is False
