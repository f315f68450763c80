"""Amazon's limits for a custom interaction model, and a check of a model against them.

From the Alexa Skills Kit documentation ("Create the interaction model for your skill",
interaction model limits, and the sample utterance rules). Where the documentation gives a range
over time, the smaller figure is used, so a model within these limits builds on a device.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_INTENTS = 250  # custom and built-in intents in one model
MAX_SAMPLES_PER_INTENT = 2_000
MAX_SAMPLE_CHARS = 200
MAX_SLOT_VALUES_PER_MODEL = 50_000  # values and synonyms of every custom slot type together
MAX_SLOT_VALUE_CHARS = 140
MAX_MODEL_BYTES = 1_500_000  # the JSON of one locale's model

# What a sample may contain: letters of any script (kana, kanji, the long vowel mark and the
# iteration mark included), spaces, apostrophes and periods (English only, "let's", "a.m."),
# and {slot} references. No digits (numbers are spelled out, or come from a slot), no other
# punctuation (。、？！「」 are not allowed in ja-JP samples).
_SLOT = re.compile(r"\{[A-Za-z_]\w*\}")
_JA_ALLOWED = re.compile(r"^[^\W\d_]+$")
_EN_ALLOWED = re.compile(r"^[A-Za-z' .]+$")


def sample_problem(sample: str, locale: str) -> str | None:
    """Why ``sample`` is not a valid sample for ``locale`` (None when it is)."""
    if not sample.strip():
        return "empty sample"
    if len(sample) > MAX_SAMPLE_CHARS:
        return f"longer than {MAX_SAMPLE_CHARS} characters"
    words = _SLOT.sub(" ", sample)
    if "{" in words or "}" in words:
        return "a malformed slot reference"
    if locale.startswith("ja"):
        if words.strip() and not _JA_ALLOWED.match(words.replace(" ", "")):
            return "characters other than kana, kanji and Latin letters"
    elif words.strip() and not _EN_ALLOWED.match(words):
        return "characters other than letters, spaces, apostrophes and periods"
    return None


def problems(model: dict[str, Any], locale: str) -> list[str]:
    """Every way ``model`` is outside Amazon's limits, as readable lines."""
    lm = model["interactionModel"]["languageModel"]
    found = []
    intents = lm.get("intents", [])
    if len(intents) > MAX_INTENTS:
        found.append(f"{len(intents)} intents (at most {MAX_INTENTS})")
    for intent in intents:
        samples = intent.get("samples", [])
        if len(samples) > MAX_SAMPLES_PER_INTENT:
            found.append(f"{intent['name']}: {len(samples)} samples "
                         f"(at most {MAX_SAMPLES_PER_INTENT})")
        for sample in samples:
            problem = sample_problem(sample, locale)
            if problem:
                found.append(f"{intent['name']}: sample {sample!r}: {problem}")
    values = 0
    for slot_type in lm.get("types", []):
        for item in slot_type.get("values", []):
            names = [item["name"]["value"], *item["name"].get("synonyms", [])]
            values += len(names)
            for name in names:
                if not name.strip() or len(name) > MAX_SLOT_VALUE_CHARS:
                    found.append(f"{slot_type['name']}: value {name!r} is empty or too long")
    if values > MAX_SLOT_VALUES_PER_MODEL:
        found.append(f"{values} slot values and synonyms (at most {MAX_SLOT_VALUES_PER_MODEL})")
    size = len(json.dumps(model, ensure_ascii=False).encode("utf-8"))
    if size > MAX_MODEL_BYTES:
        found.append(f"model is {size} bytes (at most {MAX_MODEL_BYTES})")
    return found
