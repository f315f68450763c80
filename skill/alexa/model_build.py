"""The interaction models, built from content alone.

``content/<locale>/intents.yaml`` holds the invocation name, shared fragments, every intent's
phrase patterns (and slots), and the patterns of each FAQ topic's own intent;
``content/<locale>/slot_types.yaml`` holds the custom slot types (values and synonyms, as
patterns too); ``content/<locale>/faq.yaml`` adds each topic's ``phrasings`` to its intent and
fills the ``FAQ_TOPIC`` slot type. ``build(locale)`` returns the model and a count per intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skill.alexa.intents import INTENT_SLOTS, faq_intent_name
from skill.alexa.model_patterns import PatternError, expand_all
from skill.content.loader import CONTENT_DIR, Content
from skill.simulator.nlu_words import key

FAQ_TYPE = "FAQ_TOPIC"
INTENTS_FILE = "intents.yaml"
SLOT_TYPES_FILE = "slot_types.yaml"


class ModelSourceError(ValueError):
    """The content cannot make a model: a bad pattern, or a sample two intents share."""


@dataclass(frozen=True)
class Built:
    model: dict[str, Any]
    counts: dict[str, int]  # intent -> number of samples


def sample_key(sample: str) -> str:
    """A sample as two intents could be confused on it: width, case, spaces, kana folded (the
    simulator's strictest folding, right for both locales)."""
    parts = _SLOT.split(sample)
    return "".join(f"{{{p}}}" if i % 2 else key(p, "ja-JP") for i, p in enumerate(parts))


_SLOT = re.compile(r"\{(\w+)\}")


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise ModelSourceError(f"{path}: {exc}") from exc


def build(content: Content, locale: str, directory: Path = CONTENT_DIR) -> Built:
    """The interaction model of ``locale`` from ``directory``/<locale> (raises ModelSourceError)."""
    where = directory / locale / INTENTS_FILE
    source = _read(where)
    spaced = not locale.startswith(("ja", "zh"))
    fragments = {str(k): str(v) for k, v in (source.get("fragments") or {}).items()}

    def samples_of(patterns: Any, what: str) -> list[str]:
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ModelSourceError(f"{where}: {what} needs a list of patterns")
        try:
            return expand_all(patterns, fragments, spaced)
        except PatternError as exc:
            raise ModelSourceError(f"{where}: {what}: {exc}") from exc

    intents: list[dict[str, Any]] = []
    for name, body in (source.get("intents") or {}).items():
        body = body if isinstance(body, dict) else {"samples": body or []}
        slots = dict(body.get("slots") or {})
        if name in INTENT_SLOTS:
            slot, slot_type = INTENT_SLOTS[name]
            slots.setdefault(slot, slot_type)
        intent: dict[str, Any] = {"name": name}
        if slots:
            intent["slots"] = [{"name": s, "type": t} for s, t in slots.items()]
        intent["samples"] = samples_of(body.get("samples") or [], name)
        intents.append(intent)

    lc = content.for_locale(locale)
    questions = source.get("questions") or {}
    unknown = sorted(set(questions) - set(lc.faq))
    if unknown:
        raise ModelSourceError(f"{where}: questions.{unknown[0]} is not a topic of faq.yaml")
    for topic in lc.faq.values():
        patterns = [*(questions.get(topic.id) or []), *topic.phrasings]
        name = faq_intent_name(topic.id)
        intents.append({"name": name, "samples": samples_of(patterns, name)})

    _refuse_shared(intents, where)
    types = [_faq_type(content, locale)]
    types += _slot_types(directory / locale / SLOT_TYPES_FILE, fragments, spaced)
    model = {"interactionModel": {"languageModel": {
        "invocationName": str(source["invocation"]),
        "intents": intents,
        "types": types,
    }}}
    return Built(model, {i["name"]: len(i["samples"]) for i in intents})


def _refuse_shared(intents: list[dict[str, Any]], where: Path) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for intent in intents:
        for sample in intent["samples"]:
            k = sample_key(sample)
            other = owner.setdefault(k, intent["name"])
            if other != intent["name"]:
                clashes.append(f"{sample!r} is in {other} and {intent['name']}")
    if clashes:
        raise ModelSourceError(f"{where}: samples shared by two intents: " + "; ".join(clashes))


def _faq_type(content: Content, locale: str) -> dict[str, Any]:
    """FAQ_TOPIC: one value per topic (its short name), for the "tell me about {topic}" samples."""
    values = []
    for topic in content.for_locale(locale).faq.values():
        synonyms = [p for p in dict.fromkeys(topic.phrasings) if p != topic.name]
        values.append({"id": topic.id, "name": {"value": topic.name, "synonyms": synonyms}})
    return {"name": FAQ_TYPE, "values": values}


_TYPE_NAME = re.compile(r"^[A-Z][A-Z_]*$")


def _slot_types(path: Path, fragments: dict[str, str], spaced: bool) -> list[dict[str, Any]]:
    """The custom slot types: type -> value id -> patterns (the first sample names the value)."""
    data = _read(path) or {}
    fragments = {**fragments, **{str(k): str(v) for k, v in (data.pop("fragments", None)
                                                               or {}).items()}}
    types = []
    for type_name, by_id in data.items():
        if not _TYPE_NAME.match(str(type_name)) or not isinstance(by_id, dict):
            raise ModelSourceError(f"{path}: {type_name}: expected TYPE_NAME: {{id: [patterns]}}")
        values = []
        for value_id, patterns in by_id.items():
            try:
                phrases = expand_all([str(p) for p in patterns], fragments, spaced)
            except (PatternError, TypeError) as exc:
                raise ModelSourceError(f"{path}: {type_name}.{value_id}: {exc}") from exc
            values.append({"id": str(value_id),
                           "name": {"value": phrases[0], "synonyms": phrases[1:]}})
        types.append({"name": str(type_name), "values": values})
    return types
