"""The one table from Alexa intents to machine events, and slot reading."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from skill.core.machine import WEAKER_SIDE_ANSWERS, Event, EventKind
from skill.core.routine import EQUIPMENT
from skill.core.text import fold

INTENT_EVENTS: Mapping[str, EventKind] = {
    "StartRoutineIntent": EventKind.START,
    "PainIntent": EventKind.PAIN,
    "FaqIntent": EventKind.FAQ,
    "GoToStepIntent": EventKind.GO_TO_STEP,
    "EquipmentIntent": EventKind.EQUIPMENT,
    "DeleteDataIntent": EventKind.DELETE_DATA,
    "SkipStepIntent": EventKind.SKIP,
    "AMAZON.NextIntent": EventKind.NEXT,
    "AMAZON.PreviousIntent": EventKind.PREVIOUS,
    "AMAZON.RepeatIntent": EventKind.REPEAT,
    "AMAZON.PauseIntent": EventKind.PAUSE,
    "AMAZON.ResumeIntent": EventKind.RESUME,
    "AMAZON.StartOverIntent": EventKind.START_OVER,
    "AMAZON.HelpIntent": EventKind.HELP,
    "AMAZON.StopIntent": EventKind.STOP,
    "AMAZON.CancelIntent": EventKind.CANCEL,
    "AMAZON.NavigateHomeIntent": EventKind.STOP,
    "AMAZON.FallbackIntent": EventKind.FALLBACK,
    "AMAZON.YesIntent": EventKind.YES,
    "AMAZON.NoIntent": EventKind.NO,
    "SlowerIntent": EventKind.SLOWER,
    "FasterIntent": EventKind.FASTER,
    "ExplainIntent": EventKind.EXPLAIN,
    "WeakerSideIntent": EventKind.WEAKER_SIDE,
    "ProgressIntent": EventKind.PROGRESS,
    "ReminderIntent": EventKind.REMINDER,
}

# Slots each intent reads, by name (the interaction models declare the same).
INTENT_SLOTS: Mapping[str, tuple[str, str]] = {
    "FaqIntent": ("topic", "FAQ_TOPIC"),
    "GoToStepIntent": ("step", "AMAZON.NUMBER"),
    "EquipmentIntent": ("equipment", "EQUIPMENT"),
    "WeakerSideIntent": ("side", "SIDE"),
    "ReminderIntent": ("time", "AMAZON.TIME"),
}

# GoToStepIntent also reads ordinals ("the third one"): a custom slot whose value ids are numbers.
ORDINAL_SLOT = ("ordinal", "STEP_ORDINAL")

MAX_SLOT_CHARS = 200
_FAQ_INTENT = re.compile(r"^Faq((?:[A-Z][a-z0-9]*)+)Intent$")


def faq_intent_name(topic_id: str) -> str:
    """The intent of one FAQ topic: ``no_ball`` -> ``FaqNoBallIntent``."""
    return "Faq" + "".join(part.capitalize() for part in topic_id.split("_")) + "Intent"


def faq_topic_of(intent_name: str) -> str | None:
    """The topic id an FAQ topic's intent stands for (``FaqNoBallIntent`` -> ``no_ball``)."""
    m = _FAQ_INTENT.match(intent_name)
    if m is None:
        return None
    return re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(1)).lower()


def event_for(intent: Any, today: str | None, faq_index: Mapping[str, str]) -> Event:
    """The machine event for an Alexa ``request.intent`` object (a plain dict).

    ``faq_index`` maps FAQ topic ids, and the phrasings people use (``phrase_key``), to topic ids.
    Unknown intents become a fallback; unreadable slots are treated as absent.
    """
    name = intent.get("name") if isinstance(intent, Mapping) else None
    kind = INTENT_EVENTS.get(name) if isinstance(name, str) else None
    topic_id = faq_topic_of(name[:MAX_SLOT_CHARS]) if isinstance(name, str) else None
    if kind is None and topic_id is not None and topic_id in faq_index:
        return Event(EventKind.FAQ, topic=faq_index[topic_id], today=today)
    if kind is None:
        return Event(EventKind.FALLBACK, today=today)
    slots = intent.get("slots")
    slots = slots if isinstance(slots, Mapping) else {}
    if kind is EventKind.FAQ:
        slot = slots.get("topic")
        topic = resolved_id(slot) or faq_index.get(phrase_key(_value(slot)))
        return Event(kind, topic=faq_index.get(topic or ""), today=today)
    if kind is EventKind.EQUIPMENT:
        slot = slots.get("equipment")
        choice = resolved_id(slot) or phrase_key(_value(slot))
        return Event(kind, equipment=choice if choice in EQUIPMENT else None, today=today)
    if kind is EventKind.GO_TO_STEP:
        number = _number(slots.get("step"))
        if number is None:
            number = _number({"value": resolved_id(slots.get(ORDINAL_SLOT[0])) or ""})
        return Event(kind, number=number, today=today)
    if kind is EventKind.WEAKER_SIDE:
        slot = slots.get("side")
        side = resolved_id(slot) or phrase_key(_value(slot))
        return Event(kind, side=side if side in WEAKER_SIDE_ANSWERS else None, today=today)
    if kind is EventKind.REMINDER:
        return Event(kind, time=clock_time(_value(slots.get("time"))), today=today)
    return Event(kind, today=today)


def clock_time(value: str) -> str | None:
    """An AMAZON.TIME value as "HH:MM" (None for "MO", "EV" and other vague times)."""
    value = value.strip()
    if len(value) == 5 and value[2] == ":" and value.replace(":", "").isdigit():
        hour, minute = int(value[:2]), int(value[3:])
        if hour < 24 and minute < 60:
            return value
    return None


def resolved_id(slot: Any) -> str | None:
    """The id Alexa's entity resolution matched for a custom slot, if any."""
    if not isinstance(slot, Mapping):
        return None
    resolutions = slot.get("resolutions")
    if not isinstance(resolutions, Mapping):
        return None
    per_authority = resolutions.get("resolutionsPerAuthority")
    for authority in per_authority if isinstance(per_authority, list) else ():
        if not isinstance(authority, Mapping):
            continue
        status = authority.get("status")
        if not isinstance(status, Mapping) or status.get("code") != "ER_SUCCESS_MATCH":
            continue
        values = authority.get("values")
        for item in values if isinstance(values, list) else ():
            value = item.get("value") if isinstance(item, Mapping) else None
            if isinstance(value, Mapping) and isinstance(value.get("id"), str):
                return value["id"][:MAX_SLOT_CHARS]
    return None


def phrase_key(text: str) -> str:
    """A phrase normalised for matching: width, case, spaces and punctuation folded."""
    text = fold(text[:MAX_SLOT_CHARS])
    return "".join(ch for ch in text if ch.isalnum())


def _value(slot: Any) -> str:
    value = slot.get("value") if isinstance(slot, Mapping) else None
    return value if isinstance(value, str) else ""


def _number(slot: Any) -> int | None:
    value = _value(slot).strip()
    if value.isascii() and value.isdigit() and len(value) <= 3:
        return int(value)
    return None
