"""The browser simulator at ``GET /simulator`` (dev mode only): talk to the skill without an Echo.

The page (``skill/simulator/static/simulator/``, plain HTML/CSS/JS) keeps the session on its side
and posts each utterance with it; the server runs the interaction-model NLU and the skill in-process
and answers with what was heard and what Alexa would say, split into speech and pauses.

- ``GET  /simulator``            the page
- ``GET  /simulator/api/model``  ``?locale=``: launch phrase, suggestions, speaking rate
- ``POST /simulator/api/say``    ``{locale, text, session, user, device, speaking}``: the turn(s)
  and the new session. With ``device`` (the page keeps time as an Echo, see
  ``skill.simulator.listening``), a line without the wake word said while Alexa is ``speaking``, or
  with no session open, or one that does not name the skill when none is open, is not heard:
  ``{notHeard: "speaking" | "idle" | "unnamed"}`` and nothing is sent.
  Each reply carries ``speechSeconds`` and ``repromptSeconds``, the project's estimate of how long
  Alexa says them, so the page knows when the microphone opens.
- ``POST /simulator/api/end``    ``{locale, session, user, reason}``: a SessionEndedRequest
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from skill.alexa.interaction_model import language_model, load_model
from skill.alexa.runtime import SkillRuntime
from skill.content.loader import LOCALES, load_content
from skill.simulator.device import Device, Exchange
from skill.simulator.listening import LISTEN_SECONDS, not_heard
from skill.simulator.nlu import FALLBACK, LOCAL_SKILL_ID, for_locale
from skill.simulator.nlu_words import MAX_TEXT_CHARS, wake_phrase
from skill.simulator.senders import SkillError, runtime_sender
from skill.simulator.speech import spoken_seconds

STATIC = Path(__file__).resolve().parent / "static" / "simulator"
END_REASONS = ("USER_INITIATED", "EXCEEDED_MAX_REPROMPTS", "ERROR")
# Intents whose first sample the page offers as a quick phrase, in this order.
SUGGESTED_INTENTS = ("StartRoutineIntent", "AMAZON.NextIntent", "AMAZON.RepeatIntent",
                     "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "PainIntent",
                     "AMAZON.HelpIntent", "AMAZON.StopIntent")
_USER = re.compile(r"[\w.-]{1,100}")
_SESSION_ID = re.compile(r"[\w.:-]{1,200}")

simulator = Blueprint("simulator", __name__, url_prefix="/simulator",
                      static_folder=str(STATIC), static_url_path="/static")


class Refused(ValueError):
    """The page sent something the simulator cannot use (answered with HTTP 400)."""


@simulator.get("")
@simulator.get("/")
def page() -> Response:
    response = send_from_directory(STATIC, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@simulator.get("/api/model")
def model() -> Any:
    locale = _locale(request.args.get("locale"))
    nlu = for_locale(locale)
    suggestions = [nlu.launch_phrase]
    for intent in SUGGESTED_INTENTS:
        plain = [s for s in nlu.sample_texts.get(intent, []) if "{" not in s]
        suggestions.extend(plain[:1])
    question = _faq_example(locale)
    if question:
        suggestions.insert(-2, question)
    rate = load_content().for_locale(locale).rate
    return jsonify(locale=locale, locales=list(LOCALES), invocationName=nlu.invocation_name,
                   launchPhrase=nlu.launch_phrase, suggestions=suggestions,
                   speechRate={"unit": rate.unit, "perSecond": rate.per_second},
                   wakePhrase=wake_phrase(locale), listenSeconds=LISTEN_SECONDS)


@simulator.post("/api/say")
def say() -> Any:
    body = _body()
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Refused("text is missing")
    if len(text) > MAX_TEXT_CHARS:
        raise Refused(f"text is longer than {MAX_TEXT_CHARS} characters")
    device = _device(body)
    if body.get("device") is True:
        reason = not_heard(device.nlu, text, speaking=body.get("speaking") is True,
                           session_open=device.session_open)
        if reason is not None:
            return jsonify(exchanges=[], notHeard=reason, fallback=False,
                           session=_session_of(device))
    exchanges = device.hear(text)
    if not exchanges and body.get("device") is True:  # the wake word alone: Alexa listens
        return jsonify(exchanges=[], wakeOnly=True, fallback=False, session=_session_of(device))
    if not exchanges:
        raise Refused("nothing to say: the text has no words")
    heard = exchanges[-1].heard
    return jsonify(exchanges=[_exchange_json(e, device.locale) for e in exchanges],
                   fallback=heard is not None and heard.intent == FALLBACK,
                   session=_session_of(device))


@simulator.post("/api/end")
def end() -> Any:
    body = _body()
    reason = body.get("reason", "USER_INITIATED")
    if reason not in END_REASONS:
        raise Refused(f"reason must be one of {', '.join(END_REASONS)}")
    device = _device(body)
    if not device.session_open:
        raise Refused("no session is open")
    return jsonify(exchanges=[device.end(reason).to_json()], session=None)


@simulator.errorhandler(Refused)
@simulator.errorhandler(SkillError)
def refused(e: Exception) -> Any:
    return jsonify(error=str(e)), 400


# -- helpers ------------------------------------------------------------------------------------


def _exchange_json(exchange: Exchange, locale: str) -> dict[str, Any]:
    """The exchange for the page, each reply with how long Alexa takes to say it."""
    data = exchange.to_json()
    if exchange.reply is not None:
        rate = load_content().for_locale(locale).rate
        data["reply"]["speechSeconds"] = round(spoken_seconds(exchange.reply.ssml, rate), 2)
        data["reply"]["repromptSeconds"] = round(
            spoken_seconds(exchange.reply.reprompt_ssml, rate), 2)
    return data


def _body() -> Mapping[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise Refused("the JSON is nested too deeply") from None
    if not isinstance(body, Mapping):
        raise Refused("send a JSON object (Content-Type: application/json)")
    return body


def _locale(value: Any) -> str:
    if value not in LOCALES:
        raise Refused(f"locale must be one of {', '.join(LOCALES)}")
    return value


def _device(body: Mapping[str, Any]) -> Device:
    """A device in the page's session (or with none open)."""
    locale = _locale(body.get("locale"))
    user = body.get("user", "simulator")
    if not isinstance(user, str) or not _USER.fullmatch(user):
        raise Refused("user must be 1 to 100 letters, digits, dots, dashes or underscores")
    runtime: SkillRuntime = current_app.extensions["knee_routine"]
    device = Device(runtime_sender(runtime), locale, user_id=f"amzn1.ask.account.{user}",
                    skill_id=runtime.config.skill_id or LOCAL_SKILL_ID)
    session = body.get("session")
    if session is None:
        return device
    if not isinstance(session, Mapping):
        raise Refused("session must be an object or null")
    session_id, attributes = session.get("id"), session.get("attributes", {})
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise Refused("session.id is missing or malformed")
    if not isinstance(attributes, Mapping):
        raise Refused("session.attributes must be an object")
    device.session_id, device.attributes = session_id, dict(attributes)
    device.new = session.get("new") is True
    return device


def _session_of(device: Device) -> dict[str, Any] | None:
    if not device.session_open:
        return None
    return {"id": device.session_id, "attributes": device.attributes, "new": device.new}


def _faq_example(locale: str) -> str | None:
    """A question people ask, from the FAQ_TOPIC slot type (its first synonym)."""
    for slot_type in language_model(load_model(locale)).get("types", []):
        if slot_type["name"] == "FAQ_TOPIC" and slot_type.get("values"):
            name = slot_type["values"][0]["name"]
            return (name.get("synonyms") or [name["value"]])[0]
    return None
