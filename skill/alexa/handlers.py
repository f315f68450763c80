"""ASK request handlers: each hands its request to the one turn (``Conversation.take_turn``).

No conversation logic lives here. The handlers receive complete ASK request objects
(``skill.alexa.wire``), so the SDK's idioms (``is_request_type``, ``is_intent_name``,
``get_slot``) work in them as ASK developers expect. A new request type that is a turn gets a
case in ``Conversation.event_for``; one that is not gets a handler here and a place in
``skill.alexa.runtime.build_skill``.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_request_type, is_request_type
from ask_sdk_model import Response

from skill.alexa import reminders
from skill.alexa.conversation import Conversation

log = logging.getLogger(__name__)

TURN_REQUESTS = frozenset({"LaunchRequest", "IntentRequest", "SessionEndedRequest"})


def _is_consent_answer(handler_input: HandlerInput) -> bool:
    """Alexa's answer to the skill's voice-consent request for reminders."""
    return (is_request_type(reminders.CONSENT_REQUEST)(handler_input)
            and getattr(handler_input.request_envelope.request, "name", None)
            == reminders.CONSENT_TASK)


class TurnHandler(AbstractRequestHandler):
    """Launch, every intent (through the table in ``skill.alexa.intents``), session end, and the
    answer to voice consent for reminders."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (get_request_type(handler_input) in TURN_REQUESTS
                or _is_consent_answer(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        if get_request_type(handler_input) == "SessionEndedRequest":
            request = handler_input.request_envelope.request
            if getattr(request.reason, "value", None) == "ERROR":
                log.warning("session ended with an error: %s", str(request.error)[:200])
        return self.conversation.take_turn(handler_input)


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


def _request_type(handler_input: HandlerInput) -> str:
    try:
        return get_request_type(handler_input) or ""
    except AttributeError:
        return ""
