"""ASK request handlers: each turns a request into a machine event and hands it on.

No conversation logic lives here: ``skill.alexa.intents`` maps intents to events and
``skill.alexa.conversation`` runs the turn.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import (
    AbstractExceptionHandler,
    AbstractRequestHandler,
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa.conversation import Conversation, Turn
from skill.alexa.intents import event_for
from skill.core.machine import Event, EventKind

log = logging.getLogger(__name__)


def _request_type(handler_input: HandlerInput) -> str:
    context = handler_input.context
    if isinstance(context, Turn):
        kind = context.request.get("type")
        return kind if isinstance(kind, str) else ""
    return getattr(handler_input.request_envelope.request, "object_type", "") or ""


TURN_REQUESTS = frozenset({"LaunchRequest", "IntentRequest", "SessionEndedRequest",
                           "Connections.Response"})  # the answer to voice consent


class LoadState(AbstractRequestInterceptor):
    """Before a turn: the session's state, or a new one from the user's stored profile."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def process(self, handler_input: HandlerInput) -> None:
        if _request_type(handler_input) in TURN_REQUESTS:
            self.conversation.load_turn(handler_input)


class SaveState(AbstractResponseInterceptor):
    """After a turn: the profile stored when it changed, the state kept in the session.
    A failure here becomes the spoken apology, and the session keeps the turn's old state."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        self.conversation.save_turn(handler_input)


class LaunchHandler(AbstractRequestHandler):
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input) == "LaunchRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        today, _ = self.conversation.event_context(handler_input)
        return self.conversation.respond(handler_input, Event(EventKind.LAUNCH, today=today))


class IntentHandler(AbstractRequestHandler):
    """Every intent, through the one table in ``skill.alexa.intents``."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input) == "IntentRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        today, faq_index = self.conversation.event_context(handler_input)
        turn = handler_input.context
        intent = turn.request.get("intent") if isinstance(turn, Turn) else None
        return self.conversation.respond(handler_input, event_for(intent, today, faq_index))


class SessionEndedHandler(AbstractRequestHandler):
    """Save where the user was; the answer is empty (nothing may be said)."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input) == "SessionEndedRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = handler_input.context
        if isinstance(turn, Turn) and turn.request.get("reason") == "ERROR":
            log.warning("session ended with an error: %s", str(turn.request.get("error"))[:200])
        today, _ = self.conversation.event_context(handler_input)
        return self.conversation.respond(handler_input, Event(EventKind.SESSION_END, today=today))


class OtherRequestHandler(AbstractRequestHandler):
    """Request types this skill does not use (e.g. CanFulfillIntentRequest): an empty answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        log.info("unhandled request type %r", _request_type(handler_input)[:60])
        return handler_input.response_builder.response


class ApologyHandler(AbstractExceptionHandler):
    """Anything that fails mid-turn: a spoken apology and a reprompt, never an error."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("turn failed: %s: %s", type(exception).__name__, str(exception)[:200],
                  exc_info=exception)
        if _request_type(handler_input) == "SessionEndedRequest":
            return handler_input.response_builder.response
        return self.conversation.apology(handler_input)
