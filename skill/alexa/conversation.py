"""One turn of the conversation: load the state, step the machine, render, save.

This is the only place that joins the ASK request to the pure machine. The request interceptor
calls ``load_turn``, a handler calls ``respond`` with the machine event for its request, and the
response interceptor calls ``save_turn``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import (
    AskForPermissionsConsentCard,
    Reprompt,
    SsmlOutputSpeech,
    StandardCard,
)

from skill.alexa import codec, envelope, reminders
from skill.alexa.intents import phrase_key
from skill.content.loader import DEFAULT_LOCALE, Content, LocaleContent
from skill.core.machine import (
    Event,
    EventKind,
    Outcome,
    Profile,
    State,
    is_consistent,
    prompt,
    start_state,
    step,
)
from skill.output import screen, ssml
from skill.output.render import Renderer

log = logging.getLogger(__name__)

STATE_KEY = "state"  # session attribute holding the machine state
PROFILE_KEY = "profile"  # persisted attribute holding the profile
# Request attributes of one turn: its locale, the state it starts from, and its outcome.
LOCALE, BEFORE, AFTER = "locale", "state_before", "outcome"
RECORD_VERSION = 1

Clock = Callable[[], dt.datetime]
ReminderClient = Callable[[str, str, dict[str, Any]], str]  # (endpoint, token, body) -> result


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Turn:
    """What a handler needs about the request beyond the ASK objects: the raw JSON."""

    raw: Mapping[str, Any]
    lambda_context: Any = None

    @property
    def request(self) -> Mapping[str, Any]:
        return envelope.part(self.raw, "request")


class Conversation:
    def __init__(self, content: Content, clock: Clock = utc_now,
                 reminder_client: ReminderClient = reminders.create) -> None:
        self.content = content
        self.clock = clock
        self.reminder_client = reminder_client
        self.renderers = {loc: Renderer(lc, content.routine) for loc, lc in content.locales.items()}
        self.faq_index = {loc: _faq_index(lc) for loc, lc in content.locales.items()}

    # -- request facts --------------------------------------------------------------------------

    def locale_of(self, turn: Turn) -> str:
        asked = turn.request.get("locale")
        if isinstance(asked, str) and asked in self.content.locales:
            return asked
        for loc in self.content.locales:
            if isinstance(asked, str) and asked[:2].lower() == loc[:2].lower():
                return loc
        log.info("unsupported locale %r: answering in %s", str(asked)[:20], DEFAULT_LOCALE)
        return DEFAULT_LOCALE

    def today(self, locale: str) -> str:
        offset = dt.timedelta(hours=self.content.for_locale(locale).utc_offset_hours)
        return (self.clock() + offset).date().isoformat()

    # -- the turn -------------------------------------------------------------------------------

    def respond(self, handler_input: HandlerInput, event: Event) -> Response:
        turn_attributes = handler_input.attributes_manager.request_attributes
        locale, state = turn_attributes[LOCALE], turn_attributes[BEFORE]  # from load_turn
        if event.kind is EventKind.REMINDER and event.reminder is None:
            event = self.create_reminder(_turn(handler_input), event, locale)
        outcome = step(state, event, self.content.routine)
        turn_attributes[AFTER] = outcome
        if outcome.ask_permission and reminders.asks_by_voice(handler_input):
            return reminders.ask_by_voice(handler_input, event.time)  # else the card (build)
        return self.build(handler_input, outcome, self.renderers[locale])

    # -- the interceptors' work: state in before the handler, state out after it ----------------

    def load_turn(self, handler_input: HandlerInput) -> None:
        """Settle the turn's locale and load the state it starts from (a request interceptor)."""
        turn_attributes = handler_input.attributes_manager.request_attributes
        locale = self.locale_of(_turn(handler_input))
        turn_attributes[LOCALE] = locale
        turn_attributes[BEFORE] = self.load_state(handler_input, self.renderers[locale])

    def save_turn(self, handler_input: HandlerInput) -> None:
        """Save what the turn changed (a response interceptor); nothing if no turn was taken."""
        turn_attributes = handler_input.attributes_manager.request_attributes
        if AFTER in turn_attributes:
            self.save(handler_input, turn_attributes[BEFORE], turn_attributes[AFTER])

    def create_reminder(self, turn: Turn, event: Event, locale: str) -> Event:
        """Ask the Reminders API for a daily reminder; the event carries what it answered."""
        if event.time is None:
            return replace(event, reminder="no_time")
        system = envelope.part(turn.raw, "context", "System")
        endpoint, token = system.get("apiEndpoint"), system.get("apiAccessToken")
        if not isinstance(endpoint, str) or not isinstance(token, str) or not token:
            return replace(event, reminder="no_permission")
        offset = dt.timedelta(hours=self.content.for_locale(locale).utc_offset_hours)
        now_local = (self.clock() + offset).replace(tzinfo=None)
        text = self.renderers[locale].line("reminder_text", {})
        body = reminders.daily_reminder_body(event.time, now_local, locale, text)
        return replace(event, reminder=self.reminder_client(endpoint, token, body))

    def event_context(self, handler_input: HandlerInput) -> tuple[str, Mapping[str, str]]:
        """Today's date and the FAQ phrase index for this request's locale."""
        locale = handler_input.attributes_manager.request_attributes[LOCALE]
        return self.today(locale), self.faq_index[locale]

    def load_state(self, handler_input: HandlerInput, renderer: Renderer) -> State:
        """The session's state, or a fresh one from the stored profile for a new session."""
        am = handler_input.attributes_manager
        # A launch or a new session starts from the stored profile: attributes sent with one
        # are not ours (Alexa sends none), so they must not overwrite the user's record.
        launch = _turn(handler_input).request.get("type") == "LaunchRequest"
        carried = (_has_session(handler_input) and not launch
                   and not handler_input.request_envelope.session.new)
        saved = am.session_attributes.get(STATE_KEY) if carried and am.session_attributes else None
        if saved is not None:
            try:
                state = codec.state_from_dict(saved)
                last_ok = state.last is None or all(map(renderer.can_render, state.last[:2]))
                if is_consistent(state, self.content.routine) and last_ok:
                    return state
            except ValueError:
                pass
            log.warning("session attributes rejected: starting from the stored profile")
        return start_state(self.load_profile(handler_input))

    def load_profile(self, handler_input: HandlerInput) -> Profile:
        record = handler_input.attributes_manager.persistent_attributes
        data = record.get(PROFILE_KEY) if isinstance(record, Mapping) else None
        if data is None:
            return Profile()
        try:
            profile = codec.profile_from_dict(data)
            if is_consistent(start_state(profile), self.content.routine):
                return profile
        except ValueError:
            pass
        log.warning("stored profile unreadable: using a fresh one (the record is kept)")
        return Profile()

    def save(self, handler_input: HandlerInput, before: State, outcome: Outcome) -> None:
        """Store the profile when it changed, then keep the new state in the session.

        If the store fails, the exception leaves the session on the old state, so the user's
        next try repeats this turn and nothing is lost.
        """
        am = handler_input.attributes_manager
        if outcome.delete_data:
            am.delete_persistent_attributes()
            if _has_session(handler_input):
                am.session_attributes = {}
            return
        if outcome.state.profile != before.profile:
            am.persistent_attributes = {
                "v": RECORD_VERSION,
                PROFILE_KEY: codec.profile_to_dict(outcome.state.profile),
            }
            am.save_persistent_attributes()
        if _has_session(handler_input):  # an out-of-session request has nowhere to keep it
            am.session_attributes = {STATE_KEY: codec.state_to_dict(outcome.state)}

    def build(self, handler_input: HandlerInput, outcome: Outcome,
              renderer: Renderer) -> Response:
        rb = handler_input.response_builder
        if not outcome.speech:  # session end: nothing may be said
            return rb.response
        profile = outcome.state.profile
        rendered = renderer.render(outcome, profile.equipment, profile.pace)
        rb.response.output_speech = SsmlOutputSpeech(ssml=rendered.ssml)  # <speak> once
        if outcome.ask_permission:  # where Alexa could not ask by voice
            rb.set_card(AskForPermissionsConsentCard(permissions=[reminders.PERMISSION]))
        elif rendered.card is not None:
            rb.set_card(StandardCard(title=rendered.card.title, text=rendered.card.text))
        if screen.supports_apl(_turn(handler_input).raw):
            data = renderer.screen(outcome, profile.equipment, profile.pace)
            if data is not None:
                rb.add_directive(_apl_directive(data))
        if outcome.end_session:
            rb.set_should_end_session(True)
        else:  # what ``rb.ask`` does, without unwrapping and wrapping <speak> again
            rb.response.reprompt = Reprompt(output_speech=SsmlOutputSpeech(
                ssml=rendered.reprompt or ssml.speak("")))
            rb.response.should_end_session = False
        return rb.response

    def apology(self, handler_input: HandlerInput) -> Response:
        """What is said when something failed: sorry, and please say that again."""
        renderer = self.renderers[self.locale_of(_turn(handler_input))]
        again = (prompt("ask_error"),)
        rb = handler_input.response_builder
        rb.speak(ssml.speak(renderer.fragments((prompt("error"), *again))))
        return rb.ask(ssml.speak(renderer.fragments(again))).response


def _has_session(handler_input: HandlerInput) -> bool:
    return handler_input.request_envelope.session is not None


def _apl_directive(data: dict[str, Any]) -> Any:
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    d = screen.render_directive(data)
    return RenderDocumentDirective(token=d["token"], document=d["document"],
                                   datasources=d["datasources"])


def _turn(handler_input: HandlerInput) -> Turn:
    context = handler_input.context
    return context if isinstance(context, Turn) else Turn({})


def _faq_index(lc: LocaleContent) -> dict[str, str]:
    index = {}
    for topic in lc.faq.values():
        index[topic.id] = topic.id
        for phrase in (topic.name, topic.question, *topic.phrasings):
            index.setdefault(phrase_key(phrase), topic.id)
    return index

