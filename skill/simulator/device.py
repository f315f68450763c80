"""An Echo in text: one session (id, new flag, attributes), the envelopes it sends, the replies.

``Device`` is shared by the terminal (``skill.simulator.chat``) and the browser simulator; how
an Echo listens in time (speaking, the 8-second windows, the reprompt) is
``skill.simulator.listening``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skill.simulator.nlu import LOCAL_SKILL_ID, Nlu, Understanding, for_locale
from skill.simulator.senders import Send
from skill.simulator.speech import Segment, output_ssml, readable, speech_segments

DEFAULT_USER = "chat-user"


@dataclass
class Reply:
    """One response, as the user would experience it."""

    speech: list[Segment]
    reprompt: list[Segment]
    card: dict[str, str] | None
    session_open: bool
    raw: dict[str, Any]
    ssml: str = ""  # as sent, for measuring how long it is said
    reprompt_ssml: str = ""

    @classmethod
    def of(cls, envelope: Mapping[str, Any]) -> Reply:
        response = envelope.get("response") if isinstance(envelope, Mapping) else None
        response = response if isinstance(response, Mapping) else {}
        reprompt = response.get("reprompt")
        reprompt_speech = reprompt.get("outputSpeech") if isinstance(reprompt, Mapping) else None
        card = response.get("card")
        ssml = output_ssml(response.get("outputSpeech"))
        reprompt_ssml = output_ssml(reprompt_speech)
        return cls(
            speech=speech_segments(ssml),
            reprompt=speech_segments(reprompt_ssml),
            card=_card(card) if isinstance(card, Mapping) else None,
            session_open=response.get("shouldEndSession") is False,
            raw=dict(envelope),
            ssml=ssml,
            reprompt_ssml=reprompt_ssml,
        )

    def to_json(self) -> dict[str, Any]:
        return {"speech": [s.to_json() for s in self.speech],
                "speechText": readable(self.speech),
                "reprompt": [s.to_json() for s in self.reprompt],
                "repromptText": readable(self.reprompt),
                "card": self.card, "sessionOpen": self.session_open, "envelope": self.raw}


def _card(card: Mapping[str, Any]) -> dict[str, str]:
    text = card.get("text") if card.get("text") is not None else card.get("content")
    return {"type": str(card.get("type", "")), "title": str(card.get("title") or ""),
            "text": str(text or "")}


@dataclass
class Exchange:
    """A turn: what was heard, what was sent, and the reply (None for a SessionEndedRequest)."""

    heard: Understanding | None
    request: dict[str, Any]
    reply: Reply | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"heard": heard_json(self.heard) if self.heard else None,
                "requestType": self.request["request"]["type"], "request": self.request,
                "reply": self.reply.to_json() if self.reply else None, "notes": self.notes}


def closest_samples(heard: Understanding) -> tuple[str, ...]:
    """On a miss, the listed samples nearest to what was said (what a content editor could add)."""
    return tuple(heard.closest)


def heard_json(heard: Understanding) -> dict[str, Any]:
    return {**heard.to_json(), "closest": list(closest_samples(heard))}


@dataclass
class Device:
    """An Echo in text: keeps the session (id, new flag, attributes) and builds envelopes."""

    send: Send
    locale: str
    user_id: str = f"amzn1.ask.account.{DEFAULT_USER}"
    skill_id: str = LOCAL_SKILL_ID
    device_id: str = "amzn1.ask.device.local-simulator"
    session_id: str | None = None  # None when no session is open
    attributes: dict[str, Any] = field(default_factory=dict)
    new: bool = True
    reprompted: bool = False  # the reprompt was spoken after a silence
    last_reprompt: list[Segment] = field(default_factory=list)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    @property
    def nlu(self) -> Nlu:
        return for_locale(self.locale)

    @property
    def session_open(self) -> bool:
        return self.session_id is not None

    def hear(self, text: str) -> list[Exchange]:
        """What happens when the user says ``text`` (two requests when it replaces a session)."""
        heard = self.nlu.understand(text, in_session=self.session_open)
        if heard is None:
            return []
        exchanges = []
        if heard.opens_session and self.session_open:
            ended = self.end("USER_INITIATED")
            ended.notes.append("a new session replaces the open one")
            exchanges.append(ended)
        notes = []
        if not self.session_open:
            self._open()
            if not heard.opens_session:
                notes.append("no session was open: sent as a one-shot, as in "
                             f'"{self.nlu.one_shot_phrase}"')
        self.reprompted = False
        exchange = self._exchange(heard, heard.request())
        exchange.notes[:0] = notes
        exchanges.append(exchange)
        return exchanges

    def silence(self) -> Exchange | None:
        """The user says nothing: Alexa speaks the reprompt once, then ends the session."""
        if not self.session_open:
            return None
        if not self.reprompted and self.last_reprompt:
            self.reprompted = True
            return None
        return self.end("EXCEEDED_MAX_REPROMPTS")

    def end(self, reason: str = "USER_INITIATED") -> Exchange:
        """Send a SessionEndedRequest and close the session."""
        if not self.session_open:
            self._open()
        try:
            return self._exchange(None, {"type": "SessionEndedRequest", "reason": reason})
        finally:
            self.close()

    # -- internals ------------------------------------------------------------------------------

    def _open(self) -> None:
        self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        self.attributes, self.new, self.reprompted, self.last_reprompt = {}, True, False, []

    def close(self) -> None:
        """Forget the session (Alexa closed it, or the skill could not be reached)."""
        self.session_id, self.attributes, self.last_reprompt = None, {}, []

    def _exchange(self, heard: Understanding | None, request: dict[str, Any]) -> Exchange:
        envelope = self.envelope(request)
        answer = self.send(envelope)
        self.new = False
        if request["type"] == "SessionEndedRequest":
            return Exchange(heard, envelope, None)
        reply = Reply.of(answer)
        if reply.session_open:
            attributes = answer.get("sessionAttributes")
            self.attributes = dict(attributes) if isinstance(attributes, Mapping) else {}
            self.last_reprompt = reply.reprompt
        else:
            self.close()
        return Exchange(heard, envelope, reply)

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """A request envelope in this session, as Alexa sends it."""
        app, user = {"applicationId": self.skill_id}, {"userId": self.user_id}
        return {
            "version": "1.0",
            "session": {"new": self.new, "sessionId": self.session_id, "application": app,
                        "user": user, "attributes": self.attributes},
            "context": {"System": {
                "application": app, "user": user,
                "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
            }},
            "request": {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                        "timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "locale": self.locale, **request},
        }

