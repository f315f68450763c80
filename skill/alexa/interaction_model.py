"""The interaction models in ``interaction_models/``: loading, checking against the code, syncing.

``python -m skill.alexa.interaction_model check`` lists every problem (exit 1 if any);
``python -m skill.alexa.interaction_model sync`` rewrites the FAQ_TOPIC slot type from
``content/*/faq.yaml``.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from skill.alexa.intents import INTENT_EVENTS, INTENT_SLOTS
from skill.content.loader import LOCALES, Content, load_content

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "interaction_models"  # ASK CLI skill package
MODELS_DIR = PACKAGE_DIR / "interactionModels" / "custom"
FAQ_TYPE = "FAQ_TOPIC"
_SLOT_REF = re.compile(r"\{(\w+)\}")


def model_path(locale: str) -> Path:
    return MODELS_DIR / f"{locale}.json"


def load_model(locale: str) -> dict[str, Any]:
    with model_path(locale).open(encoding="utf-8") as f:
        return json.load(f)


def language_model(model: dict[str, Any]) -> dict[str, Any]:
    return model["interactionModel"]["languageModel"]


def sample_key(sample: str) -> str:
    """A sample as the NLU compares it: width, case and spaces folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", sample).casefold())


def faq_values(content: Content, locale: str) -> list[dict[str, Any]]:
    """The FAQ_TOPIC slot values for ``locale``: one per topic, its phrasings as synonyms."""
    values = []
    for topic in content.for_locale(locale).faq.values():
        synonyms = [p for p in dict.fromkeys(topic.phrasings) if p != topic.name]
        values.append({"id": topic.id, "name": {"value": topic.name, "synonyms": synonyms}})
    return values


def sync(content: Content) -> list[Path]:
    """Write the FAQ_TOPIC values of every model from the content; return the changed files."""
    changed = []
    for locale in LOCALES:
        model = load_model(locale)
        types = language_model(model).setdefault("types", [])
        faq_type = next((t for t in types if t["name"] == FAQ_TYPE), None)
        if faq_type is None:
            faq_type = {"name": FAQ_TYPE, "values": []}
            types.append(faq_type)
        values = faq_values(content, locale)
        if faq_type["values"] != values:
            faq_type["values"] = values
            text = json.dumps(model, ensure_ascii=False, indent=2) + "\n"
            model_path(locale).write_text(text, encoding="utf-8")
            changed.append(model_path(locale))
    return changed


def check(content: Content) -> list[str]:
    """Every way the models and the code disagree, as readable lines (empty when all is well)."""
    problems: list[str] = []
    handled = set(INTENT_EVENTS)
    declared_by_locale = {}
    for locale in LOCALES:
        lm = language_model(load_model(locale))
        where = f"interaction_models/interactionModels/custom/{locale}.json"
        intents = {i["name"]: i for i in lm["intents"]}
        declared_by_locale[locale] = set(intents)
        for name in sorted(set(intents) - handled):
            problems.append(f"{where}: intent {name} is not handled by the skill")
        for name in sorted(handled - set(intents)):
            problems.append(f"{where}: handled intent {name} is missing")
        types = {t["name"]: t for t in lm.get("types", [])}
        owner: dict[str, str] = {}
        for name, intent in intents.items():
            slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
            wanted = INTENT_SLOTS.get(name)
            if wanted and slots.get(wanted[0]) != wanted[1]:
                problems.append(f"{where}: {name} needs slot {wanted[0]} of type {wanted[1]}")
            for slot_type in slots.values():
                if not slot_type.startswith("AMAZON.") and slot_type not in types:
                    problems.append(f"{where}: {name} uses undefined slot type {slot_type}")
            for sample in intent.get("samples", []):
                for ref in _SLOT_REF.findall(sample):
                    if ref not in slots:
                        problems.append(f"{where}: {name} sample {sample!r} uses {{{ref}}}, "
                                        "which it does not declare")
                key = sample_key(sample)
                if key in owner and owner[key] != name:
                    problems.append(f"{where}: sample {sample!r} is in {owner[key]} and {name}")
                owner[key] = name
        faq_type = types.get(FAQ_TYPE)
        if faq_type is None or faq_type.get("values") != faq_values(content, locale):
            problems.append(f"{where}: {FAQ_TYPE} differs from content/{locale}/faq.yaml "
                            "(run `make sync-models`)")
        for topic in content.for_locale(locale).faq.values():
            for phrase in (topic.name, *topic.phrasings):
                other = owner.get(sample_key(phrase))
                if other is not None and other != "FaqIntent":
                    problems.append(f"{where}: FAQ phrasing {phrase!r} is also a {other} sample")
    if len(set(map(frozenset, declared_by_locale.values()))) > 1:
        problems.append("interaction_models: the locales declare different intents")
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    content = load_content()
    if command == "sync":
        for path in sync(content):
            print(f"updated {path}")
        return 0
    if command == "check":
        problems = check(content)
        print("\n".join(problems) or "interaction models match the code and the content")
        return 1 if problems else 0
    print("usage: python -m skill.alexa.interaction_model [check|sync]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
