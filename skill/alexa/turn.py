"""Reading the request: what one turn needs to know about it, as one typed value.

``TurnReader.read`` settles, once per turn, the request type, the locale, the user, the session
(new, carried on, or none), the request's time and the user's day in the device's time zone,
the intent, the device's screen and the Alexa API access.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from ask_sdk_core.handler_input import HandlerInput

from skill.alexa import envelope, reminders
from skill.alexa.timezone import TimeZones
from skill.clock import Clock
from skill.content.loader import DEFAULT_LOCALE, Content
from skill.output import screen

log = logging.getLogger(__name__)

STATE_KEY = "state"  # session attribute: the conversation (the machine state, no profile)
RECORD_KEY = "record"  # session attribute: the incarnation of the stored record it is on




class Turn(NamedTuple):
    """The context the runtime hands the SDK: the request as JSON, and Lambda's context."""

    raw: Mapping[str, Any]
    lambda_context: Any = None


class TurnRequest(NamedTuple):
    """What the turn needs to know about the request (a tuple: made on every turn, cheaply)."""

    kind: str  # "LaunchRequest", "IntentRequest", "SessionEndedRequest", ...
    locale: str  # one this skill speaks
    user_id: str | None
    session_id: str | None
    in_session: bool  # a session exists, so attributes can be kept
    continues: bool  # an open session carried on (not new, not a launch)
    attributes: Mapping[str, Any]  # the session attributes sent (only if ``continues``)
    intent: Mapping[str, Any] | None  # the intent as JSON (name, slots)
    local_time: dt.datetime  # the request's time in the device's time zone
    today: str  # the user's day: the request's date in the device's time zone (ISO)
    apl: bool  # the device shows APL screens
    api_endpoint: str | None
    api_token: str | None
    consent: tuple[str, str | None] | None = None  # a voice-consent answer and the time asked


class TurnReader:
    def __init__(self, content: Content, time_zones: TimeZones, clock: Clock) -> None:
        self.content = content
        self.time_zones = time_zones
        self.clock = clock
        self.offsets = {loc: dt.timezone(dt.timedelta(hours=lc.utc_offset_hours))
                        for loc, lc in content.locales.items()}

    def read(self, handler_input: HandlerInput) -> TurnRequest:
        env = handler_input.request_envelope
        request, session = env.request, env.session
        kind = getattr(request, "object_type", None) or ""
        system = env.context.system if env.context is not None else None
        device = system.device if system is not None else None
        locale = self.locale_of(handler_input)
        continues = (session is not None and not session.new and kind != "LaunchRequest")
        attributes = session.attributes if continues and session.attributes else {}
        endpoint = system.api_endpoint if system is not None else None
        token = system.api_access_token if system is not None else None
        zone = self.time_zones.zone(device.device_id if device else None, endpoint, token,
                                    self.offsets[locale])
        raw = _raw(handler_input)
        intent = envelope.part(raw, "request", "intent") if kind == "IntentRequest" else None
        consent = (reminders.consent_answer(envelope.part(raw, "request"))
                   if kind == reminders.CONSENT_REQUEST else None)
        local_time = self.time_of(request).astimezone(zone)
        return TurnRequest(
            kind=kind, locale=locale, user_id=_user_id(env),
            session_id=session.session_id if session is not None else None,
            in_session=session is not None,
            continues=continues, attributes=attributes, intent=intent,
            local_time=local_time, today=local_time.date().isoformat(),
            apl=screen.supports_apl(raw),
            api_endpoint=endpoint, api_token=token, consent=consent)

    def time_of(self, request: Any) -> dt.datetime:
        """The request's timestamp; the clock where there is none (or it has no zone)."""
        stamp = getattr(request, "timestamp", None)
        if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None:
            return stamp
        return self.clock()

    def locale_of(self, handler_input: HandlerInput) -> str:
        asked = getattr(handler_input.request_envelope.request, "locale", None)
        if isinstance(asked, str) and asked in self.content.locales:
            return asked
        for loc in self.content.locales:
            if isinstance(asked, str) and asked[:2].lower() == loc[:2].lower():
                return loc
        log.info("unsupported locale %r: answering in %s", str(asked)[:20], DEFAULT_LOCALE)
        return DEFAULT_LOCALE


def _user_id(env: Any) -> str | None:
    """The Alexa user id (context first, then session), or None."""
    for holder in (env.context.system if env.context else None, env.session):
        user = getattr(holder, "user", None)
        user_id = getattr(user, "user_id", None)
        if isinstance(user_id, str) and 0 < len(user_id) <= 512 and user_id.isprintable():
            try:
                user_id.encode("utf-8")  # a lone surrogate cannot be a key
            except UnicodeEncodeError:
                return None
            return user_id
    return None


def _raw(handler_input: HandlerInput) -> Mapping[str, Any]:
    context = handler_input.context
    return context.raw if isinstance(context, Turn) else {}
