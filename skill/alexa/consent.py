"""The answer to Alexa's voice consent for reminders (``Connections.Response``), as a turn.

Accepted: the reminder the user asked for is created (its time came back in the token).
Declined or not answered: a short line, and the routine goes on. Alexa could not ask by voice:
the consent card, as before voice consent existed. A consent answer never asks again.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa import reminders
from skill.alexa.conversation import Conversation, Turn
from skill.core.machine import Event, EventKind

# The machine's reminder result for each answer (None: call the API, which says "set" or why not).
_RESULTS = {"accepted": None, "declined": "declined", "unavailable": "no_permission"}


class ConsentResponseHandler(AbstractRequestHandler):
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def can_handle(self, handler_input: HandlerInput) -> bool:
        turn = handler_input.context
        return (isinstance(turn, Turn) and turn.request.get("type") == reminders.CONSENT_REQUEST
                and turn.request.get("name") == reminders.CONSENT_TASK)

    def handle(self, handler_input: HandlerInput) -> Response:
        answer, time_hhmm = reminders.consent_answer(handler_input.context.request)
        today, _ = self.conversation.event_context(handler_input)
        event = Event(EventKind.REMINDER, today=today, time=time_hhmm, reminder=_RESULTS[answer])
        return self.conversation.respond(handler_input, event)
