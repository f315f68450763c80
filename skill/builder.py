"""The composition root: builds the skill once per process for every entry point.

``build_skill(config)`` wires content, the persistence adapter, the handlers and the skill id
into an ASK ``CustomSkill``; ``SkillRuntime.handle`` takes a request envelope as JSON (a dict)
and returns the response envelope as JSON. The Lambda handler, the Flask app and the simulator
are each a few lines over it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import RequestEnvelope

from skill import handlers
from skill.content import Content, load_content
from skill.conversation import Clock, Conversation, Turn, utc_now

log = logging.getLogger(__name__)


class BadRequest(ValueError):
    """The request is not an Alexa request envelope this skill can answer."""


@dataclass
class SkillConfig:
    persistence: AbstractPersistenceAdapter | None = None
    skill_id: str | None = None
    content: Content | None = None
    clock: Clock = field(default=utc_now)


class SkillRuntime:
    """A built skill: request envelope JSON in, response envelope JSON out."""

    def __init__(self, config: SkillConfig) -> None:
        self.config = config
        self.content = config.content or load_content()
        self.conversation = Conversation(self.content, config.clock)
        self.skill = build_skill(self.conversation, config)

    def handle(self, event: Any, lambda_context: Any = None) -> dict[str, Any]:
        """Answer one request envelope. Raises ``BadRequest`` for what is not one."""
        check_envelope(event)
        try:
            envelope = self.skill.serializer.deserialize(
                payload=json.dumps(event), obj_type=RequestEnvelope)
        except Exception as e:  # the SDK raises several types for malformed envelopes
            raise BadRequest(f"malformed request envelope: {type(e).__name__}") from None
        if self.config.skill_id is not None and self.application_id(event) != self.config.skill_id:
            raise BadRequest("applicationId does not match this skill")
        response = self.skill.invoke(request_envelope=envelope, context=Turn(event, lambda_context))
        return self.skill.serializer.serialize(response)

    @staticmethod
    def application_id(event: Mapping[str, Any]) -> str | None:
        system = (event.get("context") or {}).get("System") or {}
        app = system.get("application") if isinstance(system, Mapping) else None
        app_id = app.get("applicationId") if isinstance(app, Mapping) else None
        return app_id if isinstance(app_id, str) else None


def check_envelope(event: Any) -> None:
    """The shape checks the SDK does not do: raise ``BadRequest`` early and clearly."""
    if not isinstance(event, Mapping):
        raise BadRequest("the request body is not a JSON object")
    request = event.get("request")
    if not isinstance(request, Mapping):
        raise BadRequest("request is missing")
    if not isinstance(request.get("type"), str):
        raise BadRequest("request.type is missing")
    for key in ("session", "context"):
        if key in event and event[key] is not None and not isinstance(event[key], Mapping):
            raise BadRequest(f"{key} is not an object")


def build_skill(conversation: Conversation, config: SkillConfig) -> CustomSkill:
    builder = CustomSkillBuilder(persistence_adapter=config.persistence)
    for handler in (
        handlers.LaunchHandler(conversation),
        handlers.IntentHandler(conversation),
        handlers.SessionEndedHandler(conversation),
        handlers.OtherRequestHandler(),
    ):
        builder.add_request_handler(handler)
    builder.add_exception_handler(handlers.ApologyHandler(conversation))
    return builder.create()
