"""The fast wire path against the SDK's own serializer, both ways, on random conversations.

Requests in: ``wire.request_envelope`` builds the same ASK objects as ``DefaultSerializer``
(intent, slots and resolutions included), so the SDK's idioms work in handlers. Responses out:
``wire_response.response_json`` writes the same JSON as ``DefaultSerializer.serialize``.
"""

from __future__ import annotations

import json
import random

import pytest
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.utils import get_slot, get_supported_interfaces, is_intent_name
from ask_sdk_model import RequestEnvelope

from skill.alexa import wire, wire_response
from skill.alexa.intents import INTENT_EVENTS
from skill.alexa.runtime import SkillConfig, SkillRuntime
from skill.alexa.turn import Turn
from skill.content.loader import LOCALES
from tests.support.envelopes import custom_slot, intent, launch, number_slot, session_ended

APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.2"}}}
SERIALIZER = DefaultSerializer()


def random_slots(rng: random.Random, name: str) -> dict:
    choices = [
        {},
        custom_slot("equipment", rng.choice(["ball", "towel", "タオル", "pillow"]),
                    rng.choice(["ball", "towel", None])),
        custom_slot("topic", rng.choice(["no ball", "every day", "腫れ"]),
                    rng.choice(["no_ball", "daily", None])),
        number_slot("step", rng.randint(0, 9)),
        custom_slot("side", rng.choice(["left", "right", "both"]), rng.choice(["left", None])),
        {"time": {"name": "time", "value": rng.choice(["07:30", "21:00", "MO"]),
                  "confirmationStatus": "NONE"}},
        with_slot_value(custom_slot("equipment", "タオル", rng.choice(["towel", None]))),
        {"topic": {"name": "topic", "value": "腫れ", "resolutions": {"resolutionsPerAuthority": [
            {"authority": "amzn1.er-authority.x", "status": {"code": "ER_ERROR_TIMEOUT"}},
            {"authority": "amzn1.er-authority.y", "status": {}, "values": []}]}}},
        {"side": {"name": "side", "slotValue": {"type": "List", "values": [
            {"type": "Simple", "value": "left"}]}}},
    ]
    return rng.choice(choices)


def with_slot_value(slots: dict) -> dict:
    """Slots as Alexa now also sends them: the value again, as a simple ``slotValue``."""
    for slot in slots.values():
        slot["slotValue"] = {"type": "Simple", "value": slot["value"],
                             "resolutions": slot.get("resolutions")}
    return slots


def conversation(rng: random.Random, runtime: SkillRuntime, n: int) -> list[dict]:
    """``n`` turns of one session as Alexa would send them, attributes carried."""
    locale = rng.choice([*LOCALES, "en-GB"])
    user = f"wire-{rng.randrange(5)}"
    interfaces = APL if rng.random() < 0.5 else None
    session_id = f"amzn1.echo-api.session.{rng.randrange(10**9)}"
    kw = {"locale": locale, "user": user, "session_id": session_id, "interfaces": interfaces}
    attributes: dict = {}
    events = []
    for i in range(n):
        new = i == 0
        roll = rng.random()
        if new and roll < 0.7:
            event = launch(new=True, **kw)
        elif roll < 0.05:
            event = session_ended(rng.choice(["USER_INITIATED", "ERROR",
                                              "EXCEEDED_MAX_REPROMPTS"]),
                                  new=new, attributes=attributes, **kw)
        else:
            name = rng.choice([*INTENT_EVENTS, "UnknownIntent"])
            event = intent(name, random_slots(rng, name), new=new, attributes=attributes, **kw)
        events.append(event)
        reply = runtime.handle(event)
        attributes = reply.get("sessionAttributes") or {}
        if reply["response"].get("shouldEndSession", True):
            break
    return events


@pytest.fixture(scope="module")
def runtime():
    return SkillRuntime(SkillConfig())


@pytest.fixture(scope="module")
def requests_seen(runtime):
    rng = random.Random(20261130)
    seen = []
    while len(seen) < 300:
        seen += conversation(rng, runtime, rng.randint(1, 12))
    return seen


def test_requests_in_match_the_sdk(requests_seen):
    kinds = set()
    for event in requests_seen:
        fast = wire.request_envelope(event)
        sdk = SERIALIZER.deserialize(json.dumps(event), RequestEnvelope)
        assert fast == sdk, event["request"]
        kinds.add(event["request"].get("intent", {}).get("name", event["request"]["type"]))
    assert len(kinds) > 20, "the conversations reach most intents"


def test_responses_out_match_the_sdk(runtime, requests_seen):
    for event in requests_seen:
        envelope = wire.request_envelope(event)
        response = runtime.skill.invoke(request_envelope=envelope, context=Turn(event))
        assert wire_response.response_json(response) == SERIALIZER.serialize(response)


def test_the_sdk_idioms_work_on_the_fast_path():
    event = intent("FaqIntent", custom_slot("topic", "no ball", "no_ball"), interfaces=APL)
    handler_input = HandlerInput(request_envelope=wire.request_envelope(event))
    assert is_intent_name("FaqIntent")(handler_input)
    assert not is_intent_name("AMAZON.HelpIntent")(handler_input)
    slot = get_slot(handler_input, "topic")
    assert slot.value == "no ball"
    authority = slot.resolutions.resolutions_per_authority[0]
    assert authority.values[0].value.id == "no_ball"
    assert get_supported_interfaces(handler_input).alexa_presentation_apl is not None


def test_a_malformed_slot_is_a_bad_request():
    event = intent("FaqIntent", {"topic": {"name": "topic", "resolutions": "not an object"}})
    with pytest.raises(wire.BadRequest):
        wire.request_envelope(event)


def test_handlers_read_a_copy_of_the_session_attributes():
    from ask_sdk_core.exceptions import AttributesManagerException

    from skill.alexa.runtime import SessionAttributesOnRead

    sent = {"state": {"phase": "intro", "pos": [1, -1]}, "record": "abc"}
    envelope = wire.request_envelope(intent("AMAZON.NextIntent", new=False, attributes=sent))
    manager = SessionAttributesOnRead(envelope)
    read = manager.session_attributes
    assert read == sent
    read["state"]["pos"][0] = 4  # a handler changes what it read ...
    assert envelope.session.attributes["state"]["pos"] == [1, -1]  # ... not the request
    manager.session_attributes = {"record": "new"}
    assert manager.session_attributes == {"record": "new"}

    out_of_session = wire.request_envelope(intent("AMAZON.NextIntent"))
    out_of_session.session = None
    with pytest.raises(AttributesManagerException):
        _ = SessionAttributesOnRead(out_of_session).session_attributes


def test_parts_written_once_come_out_as_the_sdk_writes_them_and_as_copies():
    from ask_sdk_model.ui import Reprompt, SsmlOutputSpeech

    said = SsmlOutputSpeech(ssml="<speak>a</speak>")
    reprompt = wire_response.written_once(Reprompt(output_speech=said))
    first = wire_response.to_json(reprompt)
    assert first == SERIALIZER.serialize(reprompt)
    first["outputSpeech"]["ssml"] = "<speak>changed by a reader</speak>"
    assert wire_response.to_json(reprompt) == SERIALIZER.serialize(reprompt)  # the next: intact
