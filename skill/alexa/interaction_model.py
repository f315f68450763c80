"""The interaction models in ``interaction_models/``: loading, checking against the code, syncing.

``python -m skill.alexa.interaction_model check`` lists every problem (exit 1 if any);
``python -m skill.alexa.interaction_model sync`` writes them from ``content/<locale>/``
(``skill.alexa.model_build``), printing a count per intent.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skill.alexa.intents import INTENT_EVENTS, INTENT_SLOTS, faq_intent_name
from skill.alexa.model_build import FAQ_TYPE, ModelSourceError, build
from skill.alexa.model_limits import problems as limit_problems
from skill.content.loader import LOCALES, Content, load_content
from skill.core.text import fold

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "interaction_models"  # ASK CLI skill package
MODELS_DIR = PACKAGE_DIR / "interactionModels" / "custom"
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
    return re.sub(r"\s+", "", fold(sample))


def render(model: dict[str, Any]) -> str:
    """A model as it is committed: UTF-8 JSON, two-space indent, a final newline."""
    return json.dumps(model, ensure_ascii=False, indent=2) + "\n"


def sync(content: Content, report: Callable[[str], None] = print) -> list[Path]:
    """Write every model from the content (a count per intent to ``report``); return the
    changed files. Raises ModelSourceError for a bad pattern or a sample two intents share."""
    changed = []
    for locale in LOCALES:
        built = build(content, locale)
        for name, count in built.counts.items():
            report(f"{locale} {name}: {count}")
        report(f"{locale} total: {sum(built.counts.values())} samples")
        for problem in limit_problems(built.model, locale):
            raise ModelSourceError(f"{locale}: {problem}")
        text = render(built.model)
        path = model_path(locale)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def check(content: Content) -> list[str]:
    """Every way the models and the code disagree, as readable lines (empty when all is well)."""
    problems: list[str] = []
    declared_by_locale = {}
    for locale in LOCALES:
        handled = set(INTENT_EVENTS) | {faq_intent_name(t) for t in content.for_locale(locale).faq}
        model = load_model(locale)
        lm = language_model(model)
        where = f"interaction_models/interactionModels/custom/{locale}.json"
        try:
            if render(build(content, locale).model) != render(model):
                problems.append(f"{where}: differs from content/{locale}/ (run `make sync-models`)")
        except ModelSourceError as exc:
            problems.append(str(exc))
        problems += [f"{where}: {p}" for p in limit_problems(model, locale)]
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
        if FAQ_TYPE not in types:
            problems.append(f"{where}: no {FAQ_TYPE} slot type")
        for topic in content.for_locale(locale).faq.values():
            for phrase in topic.phrasings:
                other = owner.get(sample_key(phrase))
                if other is not None and other != faq_intent_name(topic.id):
                    problems.append(f"{where}: FAQ phrasing {phrase!r} is a {other} sample")
    if len(set(map(frozenset, declared_by_locale.values()))) > 1:
        problems.append("interaction_models: the locales declare different intents")
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    content = load_content()
    if command == "sync":
        try:
            changed = sync(content)
        except ModelSourceError as exc:
            print(exc, file=sys.stderr)
            return 1
        for path in changed:
            print(f"updated {path}")
        print("models are up to date" if not changed else f"{len(changed)} model(s) written")
        return 0
    if command == "check":
        problems = check(content)
        print("\n".join(problems) or "interaction models match the code and the content")
        return 1 if problems else 0
    print("usage: python -m skill.alexa.interaction_model [check|sync]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
