"""One turn of the conversation, top to bottom.

``Conversation.take_turn`` is the whole turn, as named stages with typed values between them:

    read the request  -> TurnRequest       (skill.alexa.turn)
    load the state    -> Loaded, State     (the user's record from the store, the conversation
                                            from the session attributes, each checked)
    map to an event   -> Event             (skill.alexa.intents)
    step the machine  -> Outcome           (skill.core.machine, pure)
    render            -> Speech            (skill.output.render: words, card, screen)
    save              -> session attributes (the turn's change applied to the stored record)
    write the response -> Response         (ASK objects; skill.alexa.wire writes the JSON)

The handlers (skill.alexa.handlers) call it for Launch, Intent and SessionEnded requests; a
request type with an event of its own adds a case to ``event_for``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import AskForPermissionsConsentCard, Reprompt, SsmlOutputSpeech, StandardCard

from skill.alexa import codec, reminders
from skill.alexa.intents import event_for as intent_event
from skill.alexa.intents import phrase_key
from skill.alexa.memo import Memo
from skill.alexa.record import Loaded, RecordKeeper, change_between, session_record
from skill.alexa.timezone import TimeZones
from skill.alexa.turn import RECORD_KEY, STATE_KEY, TurnReader, TurnRequest
from skill.alexa.wire import json_copy
from skill.alexa.wire_response import written_once
from skill.clock import Clock, utc_now
from skill.content.loader import Content, LocaleContent
from skill.core.machine import (
    Event,
    EventKind,
    Outcome,
    Profile,
    State,
    is_consistent,
    prompt,
    start_state,
)
from skill.core.machine import step as step_machine
from skill.core.model import replace
from skill.output import screen, ssml
from skill.output.render import Rendered, Renderer
from skill.storage.record import TURN_STORE_SECONDS, Deadline, Store

log = logging.getLogger(__name__)

STATES_KEPT = 1024  # session states kept per process (a few kilobytes each): sessions at once
ReminderClient = Callable[[str, str, dict[str, Any]], str]  # (endpoint, token, body) -> result
__all__ = ["Clock", "Conversation", "utc_now"]


class Conversation:
    """The turn, with what it needs: content, the store, the clock, the Alexa APIs."""

    def __init__(self, content: Content, store: Store, clock: Clock = utc_now,
                 reminder_client: ReminderClient = reminders.create,
                 time_zones: TimeZones | None = None) -> None:
        self.content = content
        self.records = RecordKeeper(store, content.routine)
        self.reader = TurnReader(content, time_zones or TimeZones(), clock)
        self.reminder_client = reminder_client
        self.renderers = {loc: Renderer(lc, content.routine) for loc, lc in content.locales.items()}
        self.faq_index = {loc: _faq_index(lc) for loc, lc in content.locales.items()}
        self.states = Memo(STATES_KEPT)  # (session, locale, turn) -> (state as JSON, State)

    def take_turn(self, handler_input: HandlerInput) -> Response:
        request = self.reader.read(handler_input)
        deadline = Deadline(TURN_STORE_SECONDS)
        loaded, session_gen, state = self.load_state(request, deadline)
        event = self.event_for(request)
        outcome = step_machine(state, event, self.content.routine)
        speech = self.render(request, outcome)
        session = self.save(request, loaded, session_gen, state, outcome, deadline)
        if outcome.ask_permission and request.consent is None:  # Alexa asks, by voice
            if session is not None:
                handler_input.attributes_manager.session_attributes = dict(session)
            return reminders.ask_by_voice(handler_input, event.time)
        return self.write_response(handler_input, outcome, speech, session)

    # -- load the state -------------------------------------------------------------------------

    def load_state(self, request: TurnRequest,
                   deadline: Deadline) -> tuple[Loaded, str | None, State]:
        """The user's record, the incarnation of it this session is on, and the state: the
        session's conversation on the stored profile, or a new one for a new session."""
        loaded = self.records.load(request.user_id, request.today, deadline)
        on_record, session_gen = session_record(request.attributes) if request.continues \
            else (False, None)
        if not on_record:  # a new session (or one from before records had incarnations)
            session_gen = loaded.stored.gen
        elif session_gen is not None and loaded.stored.gen != session_gen:
            log.info("the session's record was deleted or replaced elsewhere: not written back")
        if not request.continues:
            return loaded, session_gen, start_state(loaded.profile)
        saved = request.attributes.get(STATE_KEY)
        if saved is not None:
            state = self.session_state(saved, request, loaded.profile)
            if state is not None:
                return loaded, session_gen, state
            log.warning("session attributes rejected: starting from the stored profile")
        return loaded, session_gen, start_state(loaded.profile)

    def session_state(self, saved: Any, request: TurnRequest, profile: Profile) -> State | None:
        """The conversation the session carries, on ``profile``; None if it does not decode
        or make sense. One this process wrote (or decoded) for the session is not decoded
        again if the session sends it back as it was; what depends on the day and the profile
        is checked every turn."""
        key = _state_key(request, saved)
        kept = self.states.get(key) if key is not None else None
        if kept is not None and kept[0] == saved:
            known = kept[1]
        else:
            try:
                known = codec.state_from_dict(saved, profile=Profile())
            except ValueError:
                return None
            if not self.says_in_locale(known, request.locale):
                return None
            if key is not None:  # a copy: the request's JSON may be changed by its sender
                self.states.put(key, (json_copy(saved), known))
        state = replace(known, profile=profile)
        day_ok = state.today is None or state.today <= request.today
        return state if day_ok and is_consistent(state, self.content.routine) else None

    def says_in_locale(self, state: State, locale: str) -> bool:
        """Whether the words kept for "repeat" are ones this locale can say."""
        renderer = self.renderers[locale]
        return state.last is None or (renderer.can_render(state.last.speech)
                                      and renderer.can_render(state.last.reprompt))

    # -- map to an event ------------------------------------------------------------------------

    def event_for(self, request: TurnRequest) -> Event:
        """The machine event for the request (one case per request type)."""
        if request.kind == "LaunchRequest":
            return Event(EventKind.LAUNCH, today=request.today)
        if request.kind == "SessionEndedRequest":
            return Event(EventKind.SESSION_END, today=request.today)
        if request.consent is not None:  # Alexa's answer to the voice consent it asked
            answer, time_hhmm = request.consent
            event = Event(EventKind.REMINDER, today=request.today, time=time_hhmm,
                          reminder=reminders.CONSENT_RESULTS[answer])
            return self.create_reminder(request, event) if event.reminder is None else event
        event = intent_event(request.intent, request.today, self.faq_index[request.locale])
        if event.kind is EventKind.REMINDER and event.reminder is None:
            event = self.create_reminder(request, event)
        return event

    def create_reminder(self, request: TurnRequest, event: Event) -> Event:
        """Ask the Reminders API for a daily reminder; the event carries what it answered."""
        if event.time is None:
            return replace(event, reminder="no_time")
        if request.api_endpoint is None or not request.api_token:
            return replace(event, reminder="no_permission")
        now_local = request.local_time.replace(tzinfo=None)
        text = self.renderers[request.locale].line("reminder_text", {})
        body = reminders.daily_reminder_body(event.time, now_local, request.locale, text)
        return replace(event, reminder=self.reminder_client(request.api_endpoint,
                                                            request.api_token, body))

    # -- save -----------------------------------------------------------------------------------

    def save(self, request: TurnRequest, loaded: Loaded, session_gen: str | None, before: State,
             outcome: Outcome, deadline: Deadline) -> dict[str, Any] | None:
        """Apply the turn's change to the stored record; the session attributes to send back
        (None out of session). If the store fails, the exception leaves the session as it
        was, so the user's next try repeats this turn and nothing is lost."""
        if outcome.delete_data:
            self.records.delete(request.user_id, deadline)
            return {} if request.in_session else None
        gen = session_gen
        change = change_between(before.profile, outcome.state.profile, loaded.repairs)
        if change and request.user_id is not None:
            written = self.records.apply(request.user_id, change, loaded, session_gen,
                                         request.today, deadline)
            gen = written if written is not None else session_gen
        if not request.in_session:  # an out-of-session request has nowhere to keep it
            return None
        written = codec.state_to_dict(outcome.state, profile=False)
        key = _state_key(request, written)
        if key is not None:  # a copy: the response's JSON may be changed by its reader
            self.states.put(key, (json_copy(written), outcome.state))
        return {STATE_KEY: written, RECORD_KEY: gen}

    # -- render ---------------------------------------------------------------------------------

    def render(self, request: TurnRequest, outcome: Outcome) -> Speech:
        """The words, card and screen of the outcome, in the user's locale, pace and tool."""
        if not outcome.speech:  # session end: nothing may be said
            return Speech(None, None)
        renderer = self.renderers[request.locale]
        profile = outcome.state.profile
        screen_data = renderer.screen(outcome, profile.equipment, profile.pace) \
            if request.apl else None
        return Speech(renderer.render(outcome, profile.equipment, profile.pace), screen_data)

    # -- write the response ---------------------------------------------------------------------

    def write_response(self, handler_input: HandlerInput, outcome: Outcome, speech: Speech,
                       session: Mapping[str, Any] | None) -> Response:
        if session is not None:
            handler_input.attributes_manager.session_attributes = dict(session)
        rb = handler_input.response_builder
        rendered = speech.rendered
        if rendered is None:
            return rb.response
        said, reprompt, card = _ask_speech(rendered)
        rb.response.output_speech = said
        if outcome.ask_permission:  # where Alexa could not ask by voice
            rb.set_card(AskForPermissionsConsentCard(permissions=[reminders.PERMISSION]))
        elif card is not None:
            rb.set_card(card)
        if speech.screen is not None:
            rb.add_directive(_apl_directive(speech.screen))
        if outcome.end_session:
            rb.set_should_end_session(True)
        else:  # what ``rb.ask`` does, without unwrapping and wrapping <speak> again
            rb.response.reprompt = reprompt
            rb.response.should_end_session = False
        return rb.response

    def apology(self, handler_input: HandlerInput) -> Response:
        """What is said when something failed: sorry, and please say that again."""
        renderer = self.renderers[self.reader.locale_of(handler_input)]
        again = (prompt("ask_error"),)
        rb = handler_input.response_builder
        rb.speak(ssml.speak(renderer.fragments((prompt("error"), *again))))
        return rb.ask(ssml.speak(renderer.fragments(again))).response


class Speech(NamedTuple):
    """A rendered outcome: words, reprompt and card (None: say nothing), and the screen."""

    rendered: Rendered | None
    screen: dict[str, Any] | None


@functools.lru_cache(maxsize=512)
def _ask_speech(rendered: Rendered) -> tuple[SsmlOutputSpeech, Reprompt, StandardCard | None]:
    """The ASK objects that say ``rendered`` (its words, reprompt and card), made once and
    shared by every response that says it: never changed after (``wire_response.written_once``)."""
    said = SsmlOutputSpeech(ssml=rendered.ssml)  # <speak> once
    reprompt = Reprompt(output_speech=SsmlOutputSpeech(ssml=rendered.reprompt or ssml.speak("")))
    card = None if rendered.card is None else written_once(
        StandardCard(title=rendered.card.title, text=rendered.card.text))
    return written_once(said), written_once(reprompt), card


def _apl_directive(data: dict[str, Any]) -> Any:
    d = screen.render_directive(data)
    return _render_document()(token=d["token"], document=d["document"],
                              datasources=d["datasources"])


@functools.cache
def _render_document() -> type:
    """The APL directive's class, imported on the first screen (speakers never need it)."""
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    return RenderDocumentDirective


def _state_key(request: TurnRequest, saved: Any) -> tuple[str, str, int] | None:
    """Where a session's conversation at one turn is kept: session, locale and turn number."""
    turn = saved.get("turn") if type(saved) is dict else None
    if request.session_id is None or type(turn) is not int:
        return None
    return request.session_id, request.locale, turn


def _faq_index(lc: LocaleContent) -> dict[str, str]:
    index = {}
    for topic in lc.faq.values():
        index[topic.id] = topic.id
        for phrase in (topic.name, topic.question, *topic.phrasings):
            index.setdefault(phrase_key(phrase), topic.id)
    return index

